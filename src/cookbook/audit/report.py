"""The audit as a whole: scan every file, match every finding, and total them into a migration inventory.

Coverage is counted twice, as a plan needs both: over uses (every place a construct appears: how much of the code
has an answer) and over distinct constructs (how many kinds of thing still lack one). A construct is covered when a
recipe shows it, when the audit's vocabulary gives it a generic pointer, or when Prefect needs nothing for it; the
grades say which (`by_effort`), and `recipe_uses` counts the first kind alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from pydantic import ConfigDict, Field, computed_field

from cookbook.audit.catalog import Catalog
from cookbook.audit.findings import EFFORT_ORDER, Dag, Effort, FileScan, Finding, Kind, Model, Note
from cookbook.audit.walk import DEFAULT_MAX_BYTES, FolderModules, scan_file, walk

TASK_KINDS = frozenset({"operator", "sensor"})


def _is_task(finding: Finding) -> bool:
    """A task definition: an operator, or a function under @task / @task.x / @setup / @teardown."""
    if finding.kind in TASK_KINDS:
        return True
    return finding.label.startswith(("@task", "@setup", "@teardown")) and not finding.label.startswith("@task_group")


class Coverage(Model):
    # The JSON report carries the percentages too; reading it back recomputes them instead of refusing them.
    model_config = ConfigDict(extra="ignore")

    uses: int = 0
    mapped_uses: int = Field(0, description="Uses with an answer: a recipe, a generic pointer or nothing to do.")
    recipe_uses: int = Field(0, description="Uses a recipe shows.")
    constructs: int = 0
    mapped_constructs: int = 0
    by_effort: dict[Effort, int] = Field(default_factory=dict, description="Uses per effort class.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def uses_percent(self) -> float:
        return round(100.0 * self.mapped_uses / self.uses, 1) if self.uses else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recipe_percent(self) -> float:
        return round(100.0 * self.recipe_uses / self.uses, 1) if self.uses else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def constructs_percent(self) -> float:
        return round(100.0 * self.mapped_constructs / self.constructs, 1) if self.constructs else 0.0


class ConstructRow(Model):
    """One construct (by label) over the whole folder."""

    label: str
    kind: Kind
    name: str
    uses: int
    files: int
    dags: int
    recipes: list[str]
    effort: Effort = Field(description="The most demanding effort among its uses.")
    concepts: list[str]
    pointer: str | None = Field(None, description="The vocabulary's pointer, for `nothing` and `generic`.")
    airflow3: str | None = Field(None, description="For an Airflow 2 idiom: what Airflow 3 has instead.")


class DagRow(Model):
    file: str
    dag: Dag
    tasks: int
    coverage: Coverage
    constructs: list[str] = Field(description="Labels of the constructs it uses, most used first.")


class AuditReport(Model):
    path: str
    cookbook: str
    recipes: dict[str, str] = Field(description="Recipe name -> title, for every recipe the catalog read.")
    recipe_problems: list[str] = Field(default_factory=list, description="Recipe pages that could not be read.")
    files: list[FileScan]
    ignored: dict[str, int] = Field(default_factory=dict, description="Files that are not Python, by suffix.")
    notes: list[Note] = Field(default_factory=list, description="Notes about folders and links, not files.")
    coverage: Coverage
    constructs: list[ConstructRow]
    dags: list[DagRow]

    @property
    def all_notes(self) -> list[Note]:
        return [*self.notes, *(note for scan in self.files for note in scan.notes)]

    @property
    def dag_files(self) -> int:
        return sum(1 for scan in self.files if scan.dags)

    def unmapped(self) -> list[ConstructRow]:
        return [row for row in self.constructs if row.effort == "none"]


def coverage_of(findings: list[Finding]) -> Coverage:
    labels: dict[str, bool] = {}
    by_effort: Counter[Effort] = Counter()
    for finding in findings:
        mapped = finding.match.covered
        labels[finding.label] = labels.get(finding.label, False) or mapped
        by_effort[finding.match.effort] += 1
    return Coverage(
        uses=len(findings),
        mapped_uses=sum(1 for f in findings if f.match.covered),
        recipe_uses=sum(1 for f in findings if f.match.recipes),
        constructs=len(labels),
        mapped_constructs=sum(labels.values()),
        by_effort={effort: by_effort[effort] for effort in EFFORT_ORDER if by_effort[effort]},
    )


def construct_rows(scans: list[FileScan]) -> list[ConstructRow]:
    groups: dict[str, list[tuple[FileScan, Finding]]] = defaultdict(list)
    for scan in scans:
        for finding in scan.findings:
            groups[finding.label].append((scan, finding))
    rows = []
    for label, uses in groups.items():
        findings = [f for _, f in uses]
        first = findings[0]
        rows.append(
            ConstructRow(
                label=label,
                kind=first.kind,
                name=first.name,
                uses=len(uses),
                files=len({scan.path for scan, _ in uses}),
                dags=len({(scan.path, key) for scan, f in uses for key in f.dags}),
                recipes=list(dict.fromkeys(r for f in findings for r in f.match.recipes)),
                effort=max((f.match.effort for f in findings), key=EFFORT_ORDER.__getitem__),
                concepts=list(dict.fromkeys(c for f in findings for c in f.match.concepts)),
                pointer=next((f.match.pointer for f in findings if f.match.pointer), None),
                airflow3=next((f.airflow3 for f in findings if f.airflow3), None),
            )
        )
    rows.sort(key=lambda r: (-r.uses, r.label))
    return rows


def dag_rows(scans: list[FileScan]) -> list[DagRow]:
    rows = []
    for scan in scans:
        for dag in scan.dags:
            findings = [f for f in scan.findings if dag.key in f.dags]
            counts = Counter(f.label for f in findings)
            rows.append(
                DagRow(
                    file=scan.path,
                    dag=dag,
                    tasks=sum(1 for f in findings if _is_task(f)),
                    coverage=coverage_of(findings),
                    constructs=[label for label, _ in counts.most_common()],
                )
            )
    return rows


def audit(
    path: Path, cookbook: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, catalog: Catalog | None = None
) -> AuditReport:
    """Scan `path` (a folder or one file) and match what it uses against the recipes of `cookbook`."""
    catalog = catalog or Catalog.from_recipes(cookbook)
    found = walk(path)
    modules = FolderModules(path, max_bytes)
    scans = [scan_file(file, shown, max_bytes, modules) for file, shown in found.files]
    notes = list(found.notes)
    if not found.files:
        notes.append(Note(path=".", severity="info", message="no Python file found"))
    findings = [f for scan in scans for f in scan.findings]
    catalog.annotate(findings)
    return AuditReport(
        path=str(path),
        cookbook=str(cookbook),
        recipes=catalog.titles,
        recipe_problems=catalog.problems,
        files=scans,
        ignored=dict(sorted(found.ignored.items())),
        notes=notes,
        coverage=coverage_of(findings),
        constructs=construct_rows(scans),
        dags=dag_rows(scans),
    )
