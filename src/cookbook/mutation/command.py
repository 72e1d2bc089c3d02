"""`cookbook mutate`: put small faults into the Prefect flows one at a time and check that a parity case notices.

Exit codes: 0 when every recipe is proven, the share of killed mutants reaches the target and every survivor is
explained in its recipe's `harmless_mutations`; 1 otherwise; 2 bad usage.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cookbook.harness import RUNS_DIR
from cookbook.mutation.mutants import DEFAULT_MAX_PER_OPERATOR, OPERATORS
from cookbook.mutation.runner import (
    DEFAULT_TARGET_PERCENT,
    MutationReport,
    Options,
    Plan,
    RecipeResult,
    plan,
    run_plans,
)
from cookbook.selection import UsageError, select

EXIT_PASSED, EXIT_FAILED = 0, 1
REPORT_FILE = RUNS_DIR / "mutate.json"


def run(args: argparse.Namespace, console: Console) -> int:
    bad = sorted(set(args.operator) - set(OPERATORS))
    if bad:
        raise UsageError(f"unknown operator {', '.join(map(repr, bad))}; operators: {', '.join(OPERATORS)}")
    if args.max_per_operator is not None and args.max_per_operator < 0:
        raise UsageError("--max-per-operator is a count of mutants (0: no cap)")
    options = Options(
        max_per_operator=DEFAULT_MAX_PER_OPERATOR if args.max_per_operator is None else args.max_per_operator,
        operators=frozenset(args.operator),
        only=frozenset(args.mutant),
        target_percent=DEFAULT_TARGET_PERCENT if args.target is None else args.target,
    )
    plans = [plan(recipe, options) for recipe, _ in select(args.root, args.recipes, [])]
    if options.only:
        found = {m.id for p in plans for m in p.chosen}
        unknown = sorted(options.only - found)
        if unknown:
            raise UsageError(f"no mutant {', '.join(unknown)} in the recipes chosen; `--list` shows their ids")
    if args.list:
        print_plans(console, plans, options)
        return EXIT_PASSED
    with console.status("starting Airflow and Prefect…") as status:
        report = run_plans(args.root, plans, options, lambda message: status.update(message))
    print_report(console, report)
    for path in {REPORT_FILE, *([args.json] if args.json else [])}:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.model_dump_json(indent=1) + "\n", encoding="utf-8")
    console.print(f"[dim]report written to {', '.join(sorted(str(p) for p in {REPORT_FILE, args.json} if p))}[/dim]")
    return EXIT_PASSED if report.passed else EXIT_FAILED


def print_plans(console: Console, plans: list[Plan], options: Options) -> None:
    for item in plans:
        harmless = item.recipe.meta.harmless_mutations
        limit = f"at most {options.max_per_operator} per operator" if options.max_per_operator > 0 else "no cap"
        title = f"{item.recipe.name}: {len(item.chosen)} mutants of {len(item.found.all)} ({limit})"
        table = Table(title=title, title_justify="left")
        table.add_column("mutant", style="bold", no_wrap=True)
        table.add_column("change")
        if harmless:
            table.add_column("harmless because")
        for mutant in item.chosen:
            why = [Text(harmless.get(mutant.id, ""), style="dim")] if harmless else []
            table.add_row(mutant.id, Text(mutant.description), *why)
        console.print(table)
    total = sum(len(p.chosen) for p in plans)
    console.print(f"{total} mutants in {len(plans)} recipe(s)")


def print_report(console: Console, report: MutationReport) -> None:
    console.print(_recipe_table(report))
    for result in report.recipes:
        if not result.proven:
            for base in result.baseline:
                if base.status != "parity":
                    console.print(Text(f"{result.recipe} · {base.case}: {base.detail}", style="red"))
        if result.stale_harmless:
            names = ", ".join(result.stale_harmless)
            console.print(Text(f"{result.recipe}: harmless_mutations lists no mutant of the flow: {names}", "yellow"))
        for mutant in result.killed_but_listed:
            note = f"{result.recipe}: {mutant.id} is listed as harmless but {mutant.killed_by} kills it"
            console.print(Text(note, style="yellow"))
    survivors = _survivor_table(report)
    if survivors.row_count:
        console.print(survivors)
    if any(r.unexplained for r in report.recipes):
        hint = "an unexplained survivor is a change no case notices: add a case that kills it, or say why it is "
        console.print(
            Text(hint + "harmless in recipes/<name>.cases.yaml's harmless_mutations (mutant id: reason)", style="dim")
        )
    broke = _broke_table(report)
    if broke.row_count:
        console.print(broke)
    console.print(_headline(report))


def _recipe_table(report: MutationReport) -> Table:
    table = Table(title="Mutation testing", title_justify="left")
    table.add_column("recipe", style="bold")
    table.add_column("mutants", justify="right")
    table.add_column("killed", justify="right")
    table.add_column("survived: explained", justify="right")
    table.add_column("unexplained", justify="right")
    table.add_column("harness broke", justify="right")
    table.add_column("score", justify="right")
    table.add_column("time", justify="right")
    for result in report.recipes:
        if not result.proven:
            table.add_row(result.recipe, "—", "—", "—", "—", "—", Text("not proven", "bold red"), _secs(result))
            continue
        timeouts = sum(1 for m in result.mutants if m.timed_out)
        killed = f"{result.killed}" + (f" ({timeouts} by timeout)" if timeouts else "")
        table.add_row(
            result.recipe,
            str(len(result.mutants)),
            killed,
            str(result.explained),
            Text(str(result.unexplained), style="bold red" if result.unexplained else ""),
            Text(str(result.harness_broke), style="bold red" if result.harness_broke else ""),
            _score(result, report.target_percent),
            _secs(result),
        )
    return table


def _survivor_table(report: MutationReport) -> Table:
    table = Table(title="Survivors", title_justify="left")
    table.add_column("recipe", style="bold")
    table.add_column("mutant", no_wrap=True)
    table.add_column("change")
    table.add_column("explained")
    for result in report.recipes:
        for m in result.mutants:
            if m.status != "survived":
                continue
            why = Text(f"yes: {m.explanation}", "green") if m.explanation is not None else Text("no", "bold red")
            table.add_row(result.recipe, m.id, Text(m.description), why)
    return table


def _broke_table(report: MutationReport) -> Table:
    table = Table(title="Harness broke (not counted as killed)", title_justify="left")
    table.add_column("recipe", style="bold")
    table.add_column("mutant", no_wrap=True)
    table.add_column("case")
    table.add_column("what happened")
    for result in report.recipes:
        for m in result.mutants:
            if m.status == "harness_broke":
                table.add_row(result.recipe, m.id, m.killed_by or "", Text(m.detail, style="red"))
    return table


def _headline(report: MutationReport) -> Text:
    score = report.score_percent
    scored = f"{report.killed}/{report.total} killed ({score:.1f} %)" if score is not None else "no mutant ran"
    unexplained = sum(r.unexplained for r in report.recipes)
    explained = sum(r.explained for r in report.recipes)
    broke = sum(r.harness_broke for r in report.recipes)
    unproven = [r.recipe for r in report.recipes if not r.proven]
    parts = [
        f"mutation score {scored}, target {report.target_percent:g} %",
        f"survivors: {explained} explained, {unexplained} unexplained",
    ]
    if broke:
        parts.append(f"{broke} harness broke")
    if unproven:
        parts.append(f"not proven: {', '.join(unproven)}")
    parts.append(f"{report.wall_seconds:.1f} s")
    verdict = Text(" PASS ", "bold white on green") if report.passed else Text(" FAIL ", "bold white on red")
    return Text.assemble(verdict, " ", " · ".join(parts))


def _score(result: RecipeResult, target: float) -> Text:
    score = result.score_percent
    if score is None:
        return Text("—", style="dim")
    return Text(f"{score:.0f} %", style="green" if score >= target else "red")


def _secs(result: RecipeResult) -> str:
    return f"{result.seconds:.0f} s"
