"""`make bench`: the timings the cookbook promises, measured on this machine (not asserted in tests).

- `make compare RECIPE=xcom`, warm venvs, no server running: median of 5 runs (target: 12 s or less).
- the whole test suite, once (target: 4 minutes or less as recipes grow to 35+).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cookbook.recipe import PROJECT_ROOT

TARGETS = {"compare_xcom": 12.0, "test_suite": 240.0}


def timed(argv: list[str]) -> tuple[float, int]:
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-tests", action="store_true", help="only time the compare")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "runs" / "bench.json")
    args = parser.parse_args()
    console = Console()
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


def _met(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


if __name__ == "__main__":
    sys.exit(main())
