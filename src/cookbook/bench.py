"""`make bench`: the timings the cookbook promises, measured on this machine (not asserted in tests).

- `make compare RECIPE=xcom`, warm venvs, no server running: median of 5 runs (target: 12 s or less).
- the whole test suite, once (target: 4 minutes or less as recipes grow to 35+).
- with `--stack` instead: `make compare RECIPE=xcom MODE=stack` on one case, timed from the shell, with the stack
  already up (a stack of its own, on free ports, brought up and deployed first, not timed), median of `--runs`
  (target: 3 s or less). Written to runs/bench-stack.json.
- with `--audit` instead: `cookbook audit` of 1,000 DAG files made from the example DAGs shipped with Airflow, median
  of `--runs` runs (target: 10 s or less). Written to runs/bench-audit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cookbook.recipe import PROJECT_ROOT

TARGETS = {"compare_xcom": 12.0, "test_suite": 240.0, "audit_1000": 10.0, "stack_compare": 3.0}
AUDIT_FILES = 1000


def timed(argv: list[str]) -> tuple[float, int]:
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-tests", action="store_true", help="only time the compare")
    parser.add_argument("--audit", action="store_true", help="time `cookbook audit` on 1,000 DAG files instead")
    parser.add_argument("--stack", action="store_true", help="time a compare through the real stack instead")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    console = Console()
    if args.stack:
        return stack_benchmark(args.runs, args.output or PROJECT_ROOT / "runs" / "bench-stack.json", console)
    if args.audit:
        return audit_benchmark(args.runs, args.output or PROJECT_ROOT / "runs" / "bench-audit.json", console)
    args.output = args.output or PROJECT_ROOT / "runs" / "bench.json"
    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}

    compare = [sys.executable, "-m", "cookbook.cli", "compare", "xcom"]
    samples = []
    for index in range(args.runs):
        seconds, code = timed(compare)
        if code != 0:
            console.print(f"[red]compare xcom exited {code}[/red]")
            return 1
        samples.append(seconds)
        console.print(f"compare xcom run {index + 1}/{args.runs}: {seconds:.2f} s")
    results["compare_xcom"] = {"median": statistics.median(samples), "samples": samples}

    if not args.skip_tests:
        seconds, code = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
        results["test_suite"] = {"seconds": seconds, "exit_code": code}
        console.print(f"test suite: {seconds:.1f} s (exit {code})")

    table = Table(title="Benchmarks", title_justify="left")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column)
    median = statistics.median(samples)
    table.add_row(
        f"compare xcom, median of {args.runs}", f"{median:.2f} s", "≤ 12 s", _met(median <= TARGETS["compare_xcom"])
    )
    if "test_suite" in results:
        suite = results["test_suite"]["seconds"]  # type: ignore[index]
        table.add_row("whole test suite", f"{suite:.1f} s", "≤ 240 s", _met(suite <= TARGETS["test_suite"]))
    console.print(table)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    console.print(f"[dim]written to {args.output}[/dim]")
    return 0


def example_dag_files() -> list[Path]:
    """The DAG files shipped inside the Airflow venv (core and providers' example_dags)."""
    package = next(iter(sorted(PROJECT_ROOT.glob(".venvs/airflow/lib/python3.*/site-packages/airflow"))), None)
    if package is None:
        raise SystemExit("no Airflow venv at .venvs/airflow: run `make setup` first")
    files = sorted(package.glob("example_dags/**/*.py")) + sorted(package.glob("providers/**/example_dags/**/*.py"))
    return [f for f in files if re.search(r"\bDAG\(|@dag\b", f.read_text(encoding="utf-8"))]


def make_dag_folder(folder: Path, count: int) -> None:
    """`count` DAG files: the examples copied round after round, each round's dag ids made its own."""
    sources = example_dag_files()
    for index in range(count):
        round_, source = divmod(index, len(sources))
        text = re.sub(r'(?<!\w)dag_id="', f'dag_id="r{round_}_', sources[source].read_text(encoding="utf-8"))
        target = folder / f"round_{round_}" / sources[source].name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def audit_benchmark(runs: int, output: Path, console: Console) -> int:
    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="cookbook-audit-bench-") as tmp:
        folder = Path(tmp)
        make_dag_folder(folder, AUDIT_FILES)
        samples = []
        for index in range(runs):
            # The default output (the rich summary), as a user runs it; stdout is not a terminal here.
            seconds, code = timed([sys.executable, "-m", "cookbook.cli", "audit", str(folder)])
            if code != 0:
                console.print(f"[red]cookbook audit exited {code}[/red]")
                return 1
            samples.append(seconds)
            console.print(f"audit of {AUDIT_FILES} DAG files, run {index + 1}/{runs}: {seconds:.2f} s")
    median = statistics.median(samples)
    results["audit_1000"] = {"files": AUDIT_FILES, "median": median, "samples": samples}
    _one_median(console, output, results, f"audit of {AUDIT_FILES} DAG files, median of {runs}", "audit_1000")
    return 0


def stack_benchmark(runs: int, output: Path, console: Console) -> int:
    import socket

    from cookbook.recipe import load_recipe
    from cookbook.stack.compare import compare_case
    from cookbook.stack.config import HOST, StackConfig
    from cookbook.stack.deploy import deploy
    from cookbook.stack.stack import down, up

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            return int(sock.getsockname()[1])

    recipe = load_recipe(PROJECT_ROOT / "recipes" / "xcom.md")
    case = recipe.meta.cases[0]
    results: dict[str, object] = {"machine": platform.platform(), "python": platform.python_version()}
    with tempfile.TemporaryDirectory(prefix="cookbook-stack-bench-") as tmp:
        cfg = StackConfig(Path(tmp), free_port(), free_port())
        try:
            console.print("bringing a stack of its own up and deploying (not timed)")
            up(cfg)
            deploy(cfg)
            compare_case(cfg, recipe, case)  # warm-up: the first run also waits for the DAG to be parsed
            # What a user types, timed from the shell: make's own check, the CLI's start-up, the compare, the verdict.
            command = [
                "make",
                "--no-print-directory",
                "compare",
                "RECIPE=xcom",
                "MODE=stack",
                f"ARGS=--case {case.name}",
            ]
            env = {
                **os.environ,
                "COOKBOOK_STACK_DIR": str(cfg.run_dir),
                "COOKBOOK_STACK_PREFECT_PORT": str(cfg.prefect_port),
                "COOKBOOK_STACK_AIRFLOW_PORT": str(cfg.airflow_port),
            }
            samples = []
            for index in range(runs):
                began = time.perf_counter()
                answer = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
                seconds = time.perf_counter() - began
                if answer.returncode != 0:
                    console.print(f"[red]{' '.join(command)} exited {answer.returncode}[/red]")
                    console.print(answer.stdout[-2000:] + answer.stderr[-2000:], markup=False)
                    return 1
                samples.append(seconds)
                console.print(f"{' '.join(command)} run {index + 1}/{runs}: {seconds:.2f} s")
        finally:
            down(cfg)
    median = statistics.median(samples)
    results["stack_compare"] = {"recipe": "xcom", "case": case.name, "median": median, "samples": samples}
    label = f"make compare RECIPE=xcom MODE=stack ({case.name}), median of {runs}"
    _one_median(console, output, results, label, "stack_compare")
    return 0


def _one_median(console: Console, output: Path, results: dict[str, object], label: str, key: str) -> None:
    """Print one benchmark's median against its target, and write every result to `output`."""
    median = results[key]["median"]  # type: ignore[index]
    table = Table(title="Benchmarks", title_justify="left")
    for column in ("measure", "value", "target", "met"):
        table.add_column(column)
    table.add_row(label, f"{median:.2f} s", f"≤ {TARGETS[key]:g} s", _met(median <= TARGETS[key]))
    console.print(table)
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    console.print(f"[dim]written to {output}[/dim]")


def _met(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


if __name__ == "__main__":
    sys.exit(main())
