"""The audit on screen (rich tables) and as files for a migration plan (Markdown, JSON)."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from cookbook.audit.findings import EFFORT_LABEL, EFFORT_ORDER, Effort, Finding
from cookbook.audit.report import AuditReport, ConstructRow, Coverage

EFFORT_STYLE: dict[Effort, str] = {
    "nothing": "dim",
    "mechanical": "green",
    "judgment": "yellow",
    "redesign": "red",
    "generic": "cyan",
    "none": "magenta",
}
EFFORT_SHORT: dict[Effort, str] = {
    "nothing": "noth.",
    "mechanical": "mech.",
    "judgment": "judg.",
    "redesign": "redes.",
    "generic": "gen.",
    "none": "none",
}
TOP_UNMAPPED = 10
TOP_WORK = 10  # constructs in the summary's "most work" table
TOP_SKIPPED = 5  # files not read, named in the summary
LABEL_WIDTH, ANSWER_WIDTH = 36, 48  # the summary's table fits 110 columns


def _effort(effort: Effort) -> Text:
    return Text(EFFORT_LABEL[effort], style=EFFORT_STYLE[effort])


def headline(report: AuditReport) -> str:
    files = len(report.files)
    return (
        f"{files} Python file{'s' * (files != 1)} ({report.dag_files} with DAGs), {len(report.dags)} DAGs, "
        f"{report.coverage.uses} construct uses of {report.coverage.constructs} kinds; "
        f"recipes: {len(report.recipes)}"
    )


def coverage_lines(coverage: Coverage) -> list[str]:
    efforts = " · ".join(f"{EFFORT_LABEL[e]} {coverage.by_effort.get(e, 0)}" for e in EFFORT_ORDER)
    by = coverage.by_effort
    return [
        f"{coverage.uses_percent:.0f}% of construct uses are covered ({coverage.mapped_uses} of {coverage.uses}): "
        f"{coverage.recipe_percent:.0f}% by a recipe ({coverage.recipe_uses}), {by.get('generic', 0)} by a generic "
        f"pointer, {by.get('nothing', 0)} need nothing",
        f"{coverage.constructs_percent:.0f}% of distinct constructs are covered "
        f"({coverage.mapped_constructs} of {coverage.constructs})",
        f"effort by use: {efforts}",
    ]


def _answer(row: ConstructRow) -> str:
    """Where the Prefect side is shown: the recipes, or the vocabulary's pointer."""
    return ", ".join(row.recipes) or row.pointer or "-"


def unmapped_line(report: AuditReport) -> str:
    rows = report.unmapped()[:TOP_UNMAPPED]
    return ", ".join(f"{row.label} ({row.uses})" for row in rows) if rows else "none"


# ---- rich ----------------------------------------------------------------------------------------------------------


def _work(coverage: Coverage) -> int:
    """Uses that are not a mechanical change, the ones without a recipe counting double."""
    by = coverage.by_effort
    return by.get("judgment", 0) + by.get("generic", 0) + by.get("redesign", 0) * 2 + by.get("none", 0) * 2


def summary_report(report: AuditReport) -> Group:
    """What fits a screen: coverage and effort first, the constructs needing most work, the files not read."""
    parts: list[Table | Text] = [Text(f"Audit of {report.path}: {headline(report)}", style="bold")]
    summary = Text()
    summary.append("Coverage: ", style="bold")
    summary.append("\n  ".join(coverage_lines(report.coverage)))
    parts.append(summary)
    weight = {"judgment": 1, "generic": 1, "redesign": 2, "none": 2}
    work = sorted(
        (row for row in report.constructs if row.effort in weight),
        key=lambda r: (-weight[r.effort] * r.uses, r.label),
    )[:TOP_WORK]
    if work:
        table = Table(title="Most work, by uses × effort", title_justify="left")
        table.add_column("construct", no_wrap=True)
        table.add_column("uses", justify="right", no_wrap=True)
        table.add_column("effort", no_wrap=True)
        table.add_column("recipe / Prefect", no_wrap=True)
        for row in work:
            answer = _answer(row)
            answer = answer if len(answer) <= ANSWER_WIDTH else answer[: ANSWER_WIDTH - 1] + "…"
            label = row.label if len(row.label) <= LABEL_WIDTH else row.label[: LABEL_WIDTH - 1] + "…"
            table.add_row(Text(label), str(row.uses), _effort(row.effort), Text(answer))
        parts.append(table)
    tail = Text()
    tail.append("Not mapped, most used: ", style="bold")
    tail.append(unmapped_line(report))
    skipped = [note for note in report.all_notes if note.severity == "skipped"]
    if skipped:
        tail.append(f"\nNot read ({len(skipped)}): ", style="bold")
        tail.append("; ".join(f"{note.path}: {note.message}" for note in skipped[:TOP_SKIPPED]))
        if len(skipped) > TOP_SKIPPED:
            tail.append(f"; and {len(skipped) - TOP_SKIPPED} more")
    airflow2 = sum(row.uses for row in report.constructs if row.airflow3)
    if airflow2:
        tail.append("\nAirflow 2 idioms: ", style="bold")
        tail.append(f"{airflow2} uses (their Airflow 3 equivalent is in --detail and the written reports)")
    tail.append("\nPer construct and per DAG: --detail (or --format markdown / json)", style="dim")
    parts.append(tail)
    return Group(*parts)


def rich_report(report: AuditReport, max_dags: int = 0) -> Group:
    parts: list[Table | Text] = [Text(f"Audit of {report.path}: {headline(report)}", style="bold")]
    constructs = Table(title="Constructs, most used first", title_justify="left")
    for column, justify in [
        ("construct", "left"),
        ("kind", "left"),
        ("uses", "right"),
        ("files", "right"),
        ("DAGs", "right"),
        ("recipe / Prefect", "left"),
        ("effort", "left"),
        ("Airflow 3", "left"),
    ]:
        constructs.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in report.constructs:
        constructs.add_row(
            Text(row.label),
            row.kind,
            str(row.uses),
            str(row.files),
            str(row.dags),
            Text(_answer(row)),
            _effort(row.effort),
            Text(row.airflow3 or ""),
        )
    parts.append(constructs)

    shown = report.dags
    if max_dags and len(shown) > max_dags:
        # A screen is for the DAGs that need the most work; the reports written to files list every one.
        shown = sorted(shown, key=lambda r: -_work(r.coverage))[:max_dags]
        title = f"DAGs: the {max_dags} of {len(report.dags)} needing most work (all: --dags 0, or --format markdown)"
    else:
        title = "DAGs"
    dags = Table(title=title, title_justify="left")
    counts = ("tasks", "uses", *EFFORT_SHORT.values())
    for column in ("DAG", "file", "tasks", "schedule", "uses", *EFFORT_SHORT.values(), "coverage", "flags"):
        dags.add_column(column, justify="right" if column in counts else "left")
    for row in shown:
        by = row.coverage.by_effort
        dags.add_row(
            Text(row.dag.dag_id),
            Text(f"{row.file}:{row.dag.line}"),
            str(row.tasks),
            Text(row.dag.schedule or "-"),
            str(row.coverage.uses),
            *(str(by.get(e, 0)) for e in EFFORT_ORDER),
            f"{row.coverage.uses_percent:.0f}%",
            ", ".join(row.dag.flags),
        )
    parts.append(dags)

    notes = report.all_notes
    if notes or report.recipe_problems or report.ignored:
        table = Table(title="Notes", title_justify="left")
        table.add_column("path")
        table.add_column("")
        table.add_column("note")
        for note in notes:
            style = "yellow" if note.severity == "skipped" else "dim"
            table.add_row(Text(note.path), Text(note.severity, style=style), Text(note.message))
        if report.ignored:
            others = ", ".join(f"{suffix} {count}" for suffix, count in report.ignored.items())
            table.add_row(".", Text("info", style="dim"), Text(f"not Python, not scanned: {others}"))
        for problem in report.recipe_problems:
            table.add_row("recipes", Text("skipped", style="yellow"), Text(f"recipe not read: {problem}"))
        parts.append(table)

    summary = Text()
    summary.append("Coverage: ", style="bold")
    summary.append("\n  ".join(coverage_lines(report.coverage)))
    summary.append("\nNo recipe yet, most used: ", style="bold")
    summary.append(unmapped_line(report))
    parts.append(summary)
    return Group(*parts)


def print_rich(report: AuditReport, console: Console, max_dags: int = 0, detail: bool = False) -> None:
    """The summary; with `detail`, the per-construct and per-DAG tables before it."""
    console.print(rich_report(report, max_dags) if detail else summary_report(report))


# ---- markdown ------------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if "`" not in text else _cell(text)


def markdown(report: AuditReport) -> str:
    lines = [
        "# Airflow migration inventory",
        "",
        f"Audited `{report.path}`: {headline(report)} (from `{report.cookbook}`).",
        "",
        "## Coverage",
        "",
        *(f"- {line}" for line in coverage_lines(report.coverage)),
        f"- no recipe yet, most used: {unmapped_line(report)}",
        "",
        "## Constructs",
        "",
        "| Construct | Kind | Uses | Files | DAGs | Recipe | Effort | Concepts |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for row in report.constructs:
        explained = "; ".join(_code(c) for c in row.concepts) or (
            _cell(f"Prefect: {row.pointer}") if row.pointer else "-"
        )
        if row.airflow3:
            explained += _cell(f" (Airflow 3: {row.airflow3})")
        lines.append(
            f"| {_code(row.label)} | {row.kind} | {row.uses} | {row.files} | {row.dags} | "
            f"{', '.join(row.recipes) or '-'} | {EFFORT_LABEL[row.effort]} | {explained} |"
        )
    lines += [
        "",
        "## DAGs",
        "",
        "| DAG | File | Tasks | Schedule | Uses | "
        + " | ".join(EFFORT_LABEL[e].capitalize() for e in EFFORT_ORDER)
        + " | Coverage | Flags |",
        "|---|---|---:|---|---:|" + "---:|" * len(EFFORT_ORDER) + "---:|---|",
    ]
    for row in report.dags:
        by = row.coverage.by_effort
        lines.append(
            f"| {_code(row.dag.dag_id)} | {_code(f'{row.file}:{row.dag.line}')} | {row.tasks} | "
            f"{_code(row.dag.schedule or '-')} | {row.coverage.uses} | "
            + " | ".join(str(by.get(e, 0)) for e in EFFORT_ORDER)
            + f" | {row.coverage.uses_percent:.0f}% | {_cell(', '.join(row.dag.flags))} |"
        )
    lines += ["", "## Per DAG", ""]
    for scan in report.files:
        module_level = [f for f in scan.findings if not f.dags]
        sections = [(f"{dag.dag_id}", dag.line, [f for f in scan.findings if dag.key in f.dags]) for dag in scan.dags]
        if module_level:
            sections.append(("module level", 0, module_level))
        for title, line, findings in sections:
            where = f"{scan.path}:{line}" if line else scan.path
            lines += [f"### {_cell(title)} (`{where}`)", "", *_finding_table(findings), ""]
    notes = report.all_notes
    if notes or report.ignored or report.recipe_problems:
        lines += ["## Notes", "", "| Path | | Note |", "|---|---|---|"]
        lines += [f"| {_code(n.path)} | {n.severity} | {_cell(n.message)} |" for n in notes]
        if report.ignored:
            others = ", ".join(f"{suffix} {count}" for suffix, count in report.ignored.items())
            lines.append(f"| `.` | info | not Python, not scanned: {_cell(others)} |")
        lines += [f"| recipes | skipped | recipe not read: {_cell(p)} |" for p in report.recipe_problems]
        lines.append("")
    lines += ["## Recipes", "", "| Recipe | Title |", "|---|---|"]
    lines += [f"| {_code(name)} | {_cell(title)} |" for name, title in report.recipes.items()]
    return "\n".join(lines) + "\n"


def _finding_table(findings: list[Finding]) -> list[str]:
    """One row per construct of a DAG, with the lines it is used on."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[finding.label].append(finding)
    rows = ["| Construct | Lines | Recipe | Effort |", "|---|---|---|---|"]
    for label, uses in sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0])):
        effort = max((f.match.effort for f in uses), key=EFFORT_ORDER.__getitem__)
        pointer = next((f.match.pointer for f in uses if f.match.pointer), None)
        recipes = ", ".join(dict.fromkeys(r for f in uses for r in f.match.recipes)) or _cell(pointer or "-")
        lines = ", ".join(str(n) for n in sorted({f.line for f in uses}))
        rows.append(f"| {_code(label)} | {lines} | {recipes} | {EFFORT_LABEL[effort]} |")
    return rows


def json_report(report: AuditReport) -> str:
    return report.model_dump_json(indent=1) + "\n"
