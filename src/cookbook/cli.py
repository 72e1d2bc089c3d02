"""`cookbook`: list the recipes, prove each one by running both engines, audit a folder of DAGs against them.

Exit codes: 0 every compared case has parity (and any list or audit), 1 a case differs (or a side failed to run),
2 bad usage (an audit of a path that does not exist included; for verify, files that cannot be loaded).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cookbook.harness import CaseRun, Harness, HarnessError
from cookbook.recipe import PROJECT_ROOT, Recipe, RecipeError, discover
from cookbook.selection import UsageError, select

EXIT_PARITY, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    try:
        return args.func(args, console)
    except (UsageError, RecipeError, HarnessError) as exc:
        errors.print(f"cookbook: {exc}", markup=False, soft_wrap=True)  # one line, however long
        return EXIT_USAGE
    except KeyboardInterrupt:
        errors.print("cookbook: interrupted; engines stopped")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cookbook", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root", type=_cookbook_root, default=PROJECT_ROOT, help="the cookbook to use (default: this one)"
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    listing = sub.add_parser("list", help="list the recipes and their cases")
    listing.set_defaults(func=_list)

    comp = sub.add_parser("compare", help="run recipes on both engines and compare what they produced")
    comp.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe names (default: all)")
    comp.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    comp.add_argument("--show-code", action="store_true", help="print the DAG and the flow side by side")
    comp.add_argument("--json", type=Path, help="also write every case's reports and verdict to this file")
    comp.add_argument("--prefect-api-url", help="run the Prefect side against this server instead of starting one")
    comp.add_argument("--keep", action="store_true", help="keep the engines' homes and working directories")
    comp.set_defaults(func=_compare)

    verify = sub.add_parser(
        "verify", help="run your own DAG and its Prefect translation through the harness, on your cases"
    )
    verify.add_argument("dag", type=Path, metavar="DAG.py", help="the Airflow DAG file")
    verify.add_argument("flow", type=Path, metavar="FLOW.py", help="the Prefect flow file that translates it")
    verify.add_argument(
        "--case",
        "--cases",
        dest="cases",
        type=Path,
        required=True,
        metavar="CASES.yaml",
        help="the cases, in the schema of recipes/<recipe>.cases.yaml (dag_id, flow_name: found in the files)",
    )
    verify.add_argument("--only", action="append", default=[], metavar="CASE", help="only this case (repeatable)")
    verify.add_argument("--show-code", action="store_true", help="print the DAG and the flow side by side")
    verify.add_argument("--json", type=Path, help="also write every case's reports and verdict to this file")
    verify.add_argument("--prefect-api-url", help="run the Prefect side against this server instead of starting one")
    verify.add_argument("--keep", action="store_true", help="keep the engines' homes and working directories")
    verify.set_defaults(func=_verify)

    audit = sub.add_parser("audit", help="inventory a folder of Airflow DAGs: what each uses, which recipe shows it")
    audit.add_argument("path", type=Path, help="a dags/ folder (or one DAG file); read, never imported")
    audit.add_argument(
        "--format", choices=["rich", "markdown", "json"], help="default: rich, or from --output's suffix"
    )
    audit.add_argument("--output", type=Path, help="write the markdown or JSON report to this file")
    audit.add_argument("--max-file-size", type=float, default=2.0, metavar="MB", help="skip larger files (default: 2)")
    audit.add_argument("--detail", action="store_true", help="on screen: the per-construct and per-DAG tables too")
    audit.add_argument("--dags", type=int, default=50, metavar="N", help="DAG rows with --detail (50; 0: all)")
    audit.set_defaults(func=_audit)

    mutate = sub.add_parser("mutate", help="mutation testing: does some parity case notice a fault put in a flow?")
    mutate.add_argument("recipes", nargs="*", metavar="RECIPE", help="recipe names (default: all)")
    mutate.add_argument("--list", action="store_true", help="only print each recipe's mutants; no engine runs")
    mutate.add_argument(
        "--max-per-operator", type=int, metavar="N", help="mutants per operator and recipe (default: 8; 0: all)"
    )
    mutate.add_argument("--operator", action="append", default=[], help="only this operator (repeatable)")
    mutate.add_argument("--mutant", action="append", default=[], metavar="ID", help="only this mutant (repeatable)")
    mutate.add_argument("--target", type=float, metavar="PCT", help="the killed share that passes (default: 90)")
    mutate.add_argument("--json", type=Path, help="also write the report here (it always goes to runs/mutate.json)")
    mutate.set_defaults(func=_mutate)
    from cookbook.stack.cli import add_stack_parser

    add_stack_parser(sub)
    return parser


def _cookbook_root(value: str) -> Path:
    root = Path(value).resolve()
    if not (root / "recipes").is_dir():
        raise argparse.ArgumentTypeError(f"{value} has no recipes/ folder")
    return root


def _list(args: argparse.Namespace, console: Console) -> int:
    table = Table(title="Recipes", title_justify="left")
    table.add_column("recipe", style="bold")
    table.add_column("what it shows")
    table.add_column("cases")
    for recipe in discover(args.root).values():
        table.add_row(recipe.name, recipe.meta.summary, ", ".join(c.name for c in recipe.meta.cases))
    console.print(table)
    return EXIT_PARITY


def _compare(args: argparse.Namespace, console: Console) -> int:
    return _run(args, console, select(args.root, args.recipes, args.case), args.root)


def _verify(args: argparse.Namespace, console: Console) -> int:
    from cookbook.verify import load_failure, load_pair, select_cases, staged

    pair = load_pair(args.dag, args.flow, args.cases)
    cases = select_cases(pair, args.only)
    with staged([pair]) as (root, (copy,)):
        return _run(args, console, [(copy, cases)], root, load_failure)


def _run(
    args: argparse.Namespace,
    console: Console,
    selection: list[tuple[Recipe, list[str]]],
    root: Path,
    stop_if: Callable[[CaseRun], str | None] | None = None,
) -> int:
    """Run the selected cases in one batch and show them; `stop_if`: a run that makes going on pointless (its
    one-line reason is a usage error)."""
    if args.show_code:
        from cookbook.render import code_columns

        for recipe, _ in selection:
            console.print(code_columns(recipe))

    from cookbook.render import case_panel, matrix, print_summary

    began = time.perf_counter()
    runs: list[CaseRun] = []
    single = len(selection) == 1
    with console.status("starting Airflow and Prefect…") as status:
        progress: dict[str, str] = {}

        def on_progress(engine: str, message: str) -> None:
            progress[engine] = message
            status.update(" · ".join(progress[e] for e in sorted(progress)))

        with Harness(
            root=root,
            prefect_api_url=args.prefect_api_url,
            on_progress=on_progress,
            keep=args.keep,
            # With dag.test() recipes to run first, the scheduler stack can start while they run.
            prestart_scheduler=len(selection) > 1 and any(r.meta.airflow_mode == "scheduler" for r, _ in selection),
        ) as harness:
            versions = harness.engine_versions()
            console.print(
                f"[dim]engines up in {time.perf_counter() - began:.1f} s: "
                f"Airflow {versions['airflow']}, Prefect {versions['prefect']} · logs in {harness.run_dir}[/dim]"
            )
            for recipe, cases in selection:
                for case_name in cases:
                    status.update(f"running {recipe.name} · {case_name} on both engines…")
                    run = harness.run_case(recipe, recipe.cases_by_name[case_name])
                    if stop_if is not None and (reason := stop_if(run)):
                        raise UsageError(reason)
                    runs.append(run)
                    if single or not run.verdict.parity:
                        console.print(case_panel(run))
    if not single:
        console.print(matrix(runs))
    if args.json:
        args.json.write_text("[\n" + ",\n".join(r.model_dump_json(indent=1) for r in runs) + "\n]\n", encoding="utf-8")
    print_summary(console, runs, time.perf_counter() - began)
    return EXIT_PARITY if all(r.verdict.parity for r in runs) else EXIT_MISMATCH


def _audit(args: argparse.Namespace, console: Console) -> int:
    if not args.path.exists():
        raise UsageError(f"no such file or folder: {args.path}")
    from cookbook.audit.render import coverage_lines, headline, json_report, markdown, print_rich
    from cookbook.audit.report import audit

    chosen = args.format or ("rich" if not args.output else "json" if args.output.suffix == ".json" else "markdown")
    report = audit(args.path, args.root, max_bytes=int(args.max_file_size * 1_000_000))
    if chosen == "rich":
        print_rich(report, console, args.dags, args.detail)
        return EXIT_PARITY
    text = json_report(report) if chosen == "json" else markdown(report)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_PARITY
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    console.print(f"{headline(report)}\n" + "\n".join(coverage_lines(report.coverage)), markup=False)
    console.print(f"{chosen} report written to {args.output}", markup=False)
    return EXIT_PARITY


def _mutate(args: argparse.Namespace, console: Console) -> int:
    from cookbook.mutation.command import run

    return run(args, console)


if __name__ == "__main__":
    # No other module imports this one (UsageError lives in cookbook.selection), so `python -m cookbook.cli` needs
    # no second copy of it to catch the errors they raise.
    sys.exit(main())
