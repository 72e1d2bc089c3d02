"""`cookbook`: list the recipes and prove each one by running both engines.

Exit codes: 0 every compared case has parity, 1 a case differs (or a side failed to run), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cookbook.harness import CaseRun, Harness, HarnessError
from cookbook.recipe import PROJECT_ROOT, Recipe, RecipeError, discover

EXIT_PARITY, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False)
    try:
        return args.func(args, console)
    except (UsageError, RecipeError, HarnessError) as exc:
        errors.print(f"cookbook: {exc}", markup=False)
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


def select(root: Path, names: Sequence[str], case_names: Sequence[str]) -> list[tuple[Recipe, list[str]]]:
    """The recipes and cases a compare runs; unknown names are a usage error listing the valid ones."""
    recipes = discover(root)
    unknown = [n for n in names if n not in recipes]
    if unknown:
        raise UsageError(f"unknown recipe {', '.join(map(repr, unknown))}; valid recipes: {', '.join(recipes)}")
    chosen = [recipes[n] for n in names] if names else list(recipes.values())
    selection = []
    for recipe in chosen:
        cases = [c.name for c in recipe.meta.cases if not case_names or c.name in case_names]
        if case_names and not cases:
            valid = ", ".join(c.name for c in recipe.meta.cases)
            raise UsageError(f"recipe {recipe.name!r} has no case {', '.join(case_names)}; its cases: {valid}")
        selection.append((recipe, cases))
    return selection


def _compare(args: argparse.Namespace, console: Console) -> int:
    selection = select(args.root, args.recipes, args.case)
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
            root=args.root, prefect_api_url=args.prefect_api_url, on_progress=on_progress, keep=args.keep
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
                    runs.append(run)
                    if single or not run.verdict.parity:
                        console.print(case_panel(run))
    if not single:
        console.print(matrix(runs))
    if args.json:
        args.json.write_text("[\n" + ",\n".join(r.model_dump_json(indent=1) for r in runs) + "\n]\n", encoding="utf-8")
    print_summary(console, runs, time.perf_counter() - began)
    return EXIT_PARITY if all(r.verdict.parity for r in runs) else EXIT_MISMATCH


if __name__ == "__main__":
    sys.exit(main())
