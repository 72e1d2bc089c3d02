"""How a comparison looks in the terminal: both sides next to each other, then a verdict."""

from __future__ import annotations

import json
from typing import Any

from rich.columns import Columns
from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from cookbook.compare import STATUS_WORDS, Status, outcome_of
from cookbook.harness import CaseRun
from cookbook.recipe import Recipe
from cookbook.report import Outcome, SideReport

OUTCOME_STYLE = {
    Outcome.SUCCESS: "green",
    Outcome.FAILED: "red",
    Outcome.SKIPPED: "magenta",
    Outcome.UPSTREAM_FAILED: "dim red",
    Outcome.SKIPPED_BY_RULE: "dim",
    Outcome.UNFINISHED: "yellow",
}
MATCH, MISMATCH = Text("✓", style="bold green"), Text("✗", style="bold red")
STATUS_STYLE: dict[Status, str] = {
    "parity": "bold white on green",
    "mismatch": "bold white on red",
    "not_proven": "bold black on yellow",
    "harness_error": "bold white on magenta",
}


def case_panel(run: CaseRun) -> Panel:
    a, p = run.airflow, run.prefect
    diff_where = {(d.aspect, d.where) for d in run.verdict.differences}
    table = Table(expand=True, show_edge=False, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column(f"Airflow {a.engine_version}", ratio=1)
    table.add_column(f"Prefect {p.engine_version}", ratio=1)
    table.add_column("", width=1, no_wrap=True)

    def mark(*keys: tuple[str, str]) -> Text:
        return MISMATCH if any(k in diff_where for k in keys) else MATCH

    table.add_row(
        "run",
        _run_cell(a),
        _run_cell(p),
        mark(("run_state", "run"), ("execution", "airflow"), ("execution", "prefect")),
    )
    for name in sorted(set(a.tasks) | set(p.tasks)):
        table.add_row(name, _task_cell(a, name), _task_cell(p, name), mark(("tasks", name), ("attempts", name)))
    result_mismatch = any(d.aspect == "result" for d in run.verdict.differences)
    table.add_row("result", _json(a.result), _json(p.result), MISMATCH if result_mismatch else MATCH)
    if a.messages or p.messages:
        mismatch = any(d.aspect == "messages" for d in run.verdict.differences)
        table.add_row("messages", _json(a.messages), _json(p.messages), MISMATCH if mismatch else MATCH)
    for label, measured in run.verdict.measures.items():
        table.add_row(
            label,
            Text(str(measured.get("airflow"))),
            Text(str(measured.get("prefect"))),
            MISMATCH if any(d.where == label for d in run.verdict.differences) else MATCH,
        )
    files_mismatch = any(d.aspect == "files" for d in run.verdict.differences)
    table.add_row("files", _files(a), _files(p), MISMATCH if files_mismatch else MATCH)

    parts: list[Any] = [table]
    if run.verdict.differences:
        diffs = Table.grid(padding=(0, 1))
        for d in run.verdict.differences:
            detail = d.note or f"airflow={_short(d.airflow)}  prefect={_short(d.prefect)}"
            diffs.add_row(Text("✗", style="red"), Text(f"{d.aspect}", style="bold"), Text(d.where), Text(detail))
        parts.append(Text())
        parts.append(diffs)
    verdict = Text(f" {STATUS_WORDS[run.verdict.status].upper()} ", style=STATUS_STYLE[run.verdict.status])
    title = Text.assemble((f"{run.recipe} · {run.case} ", "bold"), verdict)
    subtitle = run.description or None
    return Panel(Group(*parts), title=title, title_align="left", subtitle=subtitle, subtitle_align="left")


def _run_cell(report: SideReport) -> Text:
    if report.run_state is None:
        error = report.error
        return Text(f"{error.kind}: {error.message}" if error else "no result", style="bold red")
    style = "green" if report.run_state == "success" else "red"
    text = Text.assemble((str(report.run_state), f"bold {style}"), (f"  {report.duration_seconds:.2f} s", "dim"))
    if report.error and report.error.kind == "run_error":
        text.append(f"\n{report.error.message}", style="dim red")
    return text


def _task_cell(report: SideReport, name: str) -> Text:
    outcome = outcome_of(report, name)
    task = report.tasks.get(name)
    if task is None:
        return Text(f"{outcome.value}  (never called)", style=OUTCOME_STYLE[outcome])
    text = Text.assemble(
        (outcome.value, OUTCOME_STYLE[outcome]),
        (f"  ×{task.attempts}" if task.attempts else "", ""),
        (f"  {task.engine_state}", "dim"),
    )
    if task.error or task.error_type:
        text.append(f"\n{task.error or task.error_type}", style="dim red")
    return text


def _json(value: Any) -> Text:
    if value is None:
        return Text("—", style="dim")
    rendered = json.dumps(value, indent=1, sort_keys=True)
    if len(rendered) > 600:
        rendered = rendered[:600] + " …"
    return Text(rendered)


def _files(report: SideReport) -> Text:
    if not report.files:
        return Text("none", style="dim")
    return Text("\n".join(f"{path}  ({rec.size} B)" for path, rec in report.files.items()))


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def code_columns(recipe: Recipe) -> Columns:
    def panel(path: Any, title: str) -> Panel:
        syntax = Syntax.from_path(str(path), line_numbers=True, word_wrap=True, theme="ansi_dark")
        return Panel(syntax, title=title, title_align="left")

    return Columns(
        [
            panel(recipe.dag_file, f"Airflow · {recipe.dag_file.name}"),
            panel(recipe.flow_file, f"Prefect · {recipe.flow_file.name}"),
        ],
        equal=True,
        expand=True,
    )


def matrix(runs: list[CaseRun]) -> Table:
    table = Table(title="Parity matrix", title_justify="left")
    table.add_column("recipe", style="bold")
    table.add_column("case")
    table.add_column("Airflow")
    table.add_column("Prefect")
    table.add_column("time A / P", justify="right")
    table.add_column("verdict")
    for run in runs:
        status = run.verdict.status
        verdict = (
            Text("parity", style="green")
            if status == "parity"
            else Text(f"{STATUS_WORDS[status]} ({len(run.verdict.differences)})", style=STATUS_STYLE[status])
        )
        table.add_row(
            run.recipe,
            run.case,
            _state_word(run.airflow),
            _state_word(run.prefect),
            f"{run.airflow.duration_seconds:.1f} / {run.prefect.duration_seconds:.1f} s",
            verdict,
        )
    return table


def _state_word(report: SideReport) -> Text:
    if report.run_state is None:
        return Text(report.error.kind if report.error else "?", style="bold red")
    return Text(str(report.run_state), style="green" if report.run_state == "success" else "red")


def print_summary(console: Console, runs: list[CaseRun], seconds: float | None = None) -> None:
    """One line: PARITY only when every case is at parity; otherwise each kind of failure counted and named."""
    took = f" ({seconds:.1f} s)" if seconds is not None else ""
    matched = sum(r.verdict.parity for r in runs)
    if matched == len(runs):
        console.print(Text(f"PARITY: {matched}/{len(runs)} cases match{took}", style="bold green"))
        return
    parts = []
    for status in ("mismatch", "not_proven", "harness_error"):
        names = [f"{r.recipe}/{r.case}" for r in runs if r.verdict.status == status]
        if names:
            parts.append(f"{len(names)} {STATUS_WORDS[status]}: {', '.join(names)}")
    headline = "HARNESS BROKE" if any(r.verdict.status == "harness_error" for r in runs) else "NO PARITY"
    console.print(Text(f"{headline}: {matched}/{len(runs)} cases match{took}; " + "; ".join(parts), style="bold red"))
