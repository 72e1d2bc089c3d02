"""Run a recipe's parity cases on each mutant of its Prefect flow, in a scratch copy of the cookbook.

A mutant some case notices (that case is no longer at parity) is killed; one every case still passes survived, and
unless the recipe lists it under `harmless_mutations`, its change is something no case checks. The DAG is never
mutated, so Airflow runs each case once, for the baseline, and every mutant is judged against that report.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, computed_field

from cookbook.compare import Status
from cookbook.harness import CaseRun, Harness
from cookbook.mutation.mutants import DEFAULT_MAX_PER_OPERATOR, Mutant, Mutants, Operator, cap, mutants_of
from cookbook.recipe import Case, Recipe, load_recipe

MutantStatus = Literal["killed", "survived", "harness_broke"]
ProgressFn = Callable[[str], None]
COOKBOOK_FOLDERS = ("recipes", "airflow_dags", "prefect_flows")
# A mutant that hangs is stopped long before the recipe's own timeout: a few times what the unmutated flow took,
# plus room for a slow start (a served deployment's runner, a worker restarted after an earlier kill).
SLOWDOWN = 3.0
SLACK_SECONDS = 20.0
DEFAULT_TARGET_PERCENT = 90.0


class MutantResult(BaseModel):
    id: str
    operator: Operator
    scope: str
    line: int
    description: str
    status: MutantStatus
    killed_by: str | None = None
    timed_out: bool = False
    detail: str = ""
    explanation: str | None = None  # the recipe's `harmless_mutations` entry for it, if any
    seconds: float = 0.0


class Baseline(BaseModel):
    """A case's run on the unmutated flow: what each mutant is judged against, and how long a mutant may take."""

    case: str
    status: Status
    prefect_seconds: float
    mutant_timeout: float
    detail: str = ""
    run: CaseRun = Field(exclude=True)  # its Airflow report is reused for every mutant


class RecipeResult(BaseModel):
    recipe: str
    candidates: int  # mutants of the flow before the per-operator cap and any filter
    baseline: list[Baseline]
    mutants: list[MutantResult]
    stale_harmless: list[str]  # `harmless_mutations` ids that are no mutant of the flow any more
    seconds: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def proven(self) -> bool:
        return all(b.status == "parity" for b in self.baseline)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def killed(self) -> int:
        return self._count("killed")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def explained(self) -> int:
        return sum(1 for m in self.mutants if m.status == "survived" and m.explanation is not None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unexplained(self) -> int:
        return self._count("survived") - self.explained

    @computed_field  # type: ignore[prop-decorator]
    @property
    def harness_broke(self) -> int:
        return self._count("harness_broke")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score_percent(self) -> float | None:
        return 100.0 * self.killed / len(self.mutants) if self.mutants else None

    @property
    def killed_but_listed(self) -> list[MutantResult]:
        """Mutants the recipe calls harmless that a case kills: the entry is wrong, or outdated."""
        return [m for m in self.mutants if m.status == "killed" and m.explanation is not None]

    def _count(self, status: MutantStatus) -> int:
        return sum(1 for m in self.mutants if m.status == status)


class MutationReport(BaseModel):
    target_percent: float
    max_per_operator: int
    wall_seconds: float
    recipes: list[RecipeResult]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return sum(len(r.mutants) for r in self.recipes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def killed(self) -> int:
        return sum(r.killed for r in self.recipes)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score_percent(self) -> float | None:
        return 100.0 * self.killed / self.total if self.total else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        """Every recipe proven, its mutants judged, none an unexplained survivor, and enough of them killed."""
        score = self.score_percent
        return all(r.proven and r.unexplained == 0 and r.harness_broke == 0 for r in self.recipes) and (
            score is None or score >= self.target_percent
        )


@dataclass(frozen=True)
class Options:
    max_per_operator: int = DEFAULT_MAX_PER_OPERATOR
    operators: frozenset[Operator] = frozenset()  # empty: every operator
    only: frozenset[str] = frozenset()  # mutant ids; empty: every mutant the cap keeps
    target_percent: float = DEFAULT_TARGET_PERCENT


@dataclass(frozen=True)
class Plan:
    """One recipe's mutants, chosen before any engine starts (so `--list` shows exactly what a run runs)."""

    recipe: Recipe
    found: Mutants
    chosen: list[Mutant]


def plan(recipe: Recipe, options: Options) -> Plan:
    found = mutants_of(recipe.flow_file.read_text(encoding="utf-8"), str(recipe.flow_file))
    pool = [m for m in found.all if not options.operators or m.operator in options.operators]
    if options.only:
        # Asked for by id: run each one, whatever the cap would have kept.
        return Plan(recipe, found, [m for m in pool if m.id in options.only])
    return Plan(recipe, found, cap(pool, options.max_per_operator))


def run_plans(root: Path, plans: Sequence[Plan], options: Options, progress: ProgressFn) -> MutationReport:
    began = time.perf_counter()
    results: list[RecipeResult] = []
    with (
        scratch_cookbook(root) as scratch,
        Harness(root=scratch, on_progress=lambda engine, message: progress(message)) as harness,
    ):
        for item in plans:
            scratch_recipe = load_recipe(scratch / "recipes" / f"{item.recipe.name}.md")
            results.append(run_recipe(harness, scratch_recipe, item, progress))
    return MutationReport(
        target_percent=options.target_percent,
        max_per_operator=options.max_per_operator,
        wall_seconds=time.perf_counter() - began,
        recipes=results,
    )


@contextlib.contextmanager
def scratch_cookbook(root: Path) -> Iterator[Path]:
    """A copy of the cookbook's three folders, whose flow files the mutants may overwrite."""
    with tempfile.TemporaryDirectory(prefix="cookbook-mutate-") as tmp:
        for folder in COOKBOOK_FOLDERS:
            shutil.copytree(root / folder, Path(tmp) / folder, ignore=shutil.ignore_patterns("__pycache__"))
        yield Path(tmp)


def run_recipe(harness: Harness, recipe: Recipe, item: Plan, progress: ProgressFn) -> RecipeResult:
    """`recipe` is read from the scratch copy `harness` runs, so writing its flow file mutates what runs."""
    began = time.perf_counter()
    baselines: list[Baseline] = []
    for case in recipe.meta.cases:
        progress(f"{recipe.name} · baseline · {case.name} on both engines…")
        case_began = time.perf_counter()
        run = harness.run_case(recipe, case)
        baselines.append(baseline_of(recipe, case, run, time.perf_counter() - case_began))
    known = {m.id for m in item.found.all} | set(item.found.dropped)
    result = RecipeResult(
        recipe=recipe.name,
        candidates=len(item.found.all),
        baseline=baselines,
        mutants=[],
        stale_harmless=sorted(set(recipe.meta.harmless_mutations) - known),
        seconds=0.0,
    )
    if result.proven:
        original = recipe.flow_file.read_text(encoding="utf-8")
        try:
            for n, mutant in enumerate(item.chosen, start=1):
                label = f"{recipe.name} · mutant {n}/{len(item.chosen)} {mutant.id}"
                result.mutants.append(judge(harness, recipe, mutant, baselines, progress, label))
        finally:
            _write_flow(recipe.flow_file, original)
    result.seconds = time.perf_counter() - began
    return result


def judge(
    harness: Harness,
    recipe: Recipe,
    mutant: Mutant,
    baselines: Sequence[Baseline],
    progress: ProgressFn,
    label: str = "",
) -> MutantResult:
    """Run the baselines' cases on one mutant, Prefect side only, until one is no longer at parity.

    Writes the mutant over `recipe.flow_file` (the caller restores it): `recipe` must come from a scratch copy.
    """
    began = time.perf_counter()
    _write_flow(recipe.flow_file, mutant.source)
    mutated = load_recipe(recipe.page)
    verdict = _Verdict("survived")
    for base in baselines:
        case = mutated.cases_by_name[base.case]
        progress(f"{label or mutant.id} · {case.name}")
        _fresh_prefect_side(harness, mutated, case)
        timed = _with_timeout(mutated, base.mutant_timeout)
        verdict = _verdict_of(harness.run_case(timed, case, reuse={"airflow": base.run.airflow}))
        if verdict.status != "survived":
            break
    return MutantResult(
        id=mutant.id,
        operator=mutant.operator,
        scope=mutant.scope,
        line=mutant.line,
        description=mutant.description,
        status=verdict.status,
        killed_by=verdict.case,
        timed_out=verdict.timed_out,
        detail=verdict.detail,
        explanation=mutated.meta.harmless_mutations.get(mutant.id),
        seconds=time.perf_counter() - began,
    )


@dataclass(frozen=True)
class _Verdict:
    status: MutantStatus
    case: str | None = None
    timed_out: bool = False
    detail: str = ""


def _verdict_of(run: CaseRun) -> _Verdict:
    if run.verdict.parity:
        return _Verdict("survived")
    error = run.prefect.error
    # The harness could not judge (its own bug, a service gone): no evidence either way, so never a kill.
    if run.verdict.status in ("harness_error", "not_proven"):
        return _Verdict("harness_broke", run.case, detail=error.message if error else _differences(run))
    timed_out = error is not None and error.kind == "timeout"
    return _Verdict("killed", run.case, timed_out, _differences(run))


def _differences(run: CaseRun, shown: int = 3) -> str:
    """The verdict's first few differences on one line: what the case noticed."""
    if not run.verdict.differences:
        return run.verdict.status
    parts = []
    for d in run.verdict.differences[:shown]:
        note = d.note or f"airflow={d.airflow!r} prefect={d.prefect!r}"
        parts.append(" ".join(f"{d.aspect} {d.where}: {note}".split()))
    more = len(run.verdict.differences) - shown
    text = "; ".join(parts) + (f"; {more} more" if more > 0 else "")
    return text if len(text) <= 400 else text[:399] + "…"


def baseline_of(recipe: Recipe, case: Case, run: CaseRun, wall_seconds: float) -> Baseline:
    """`run`: the case on the unmutated flow; `wall_seconds`: how long `run_case` took for it."""
    # The flow's own duration leaves out what the side does after it: waiting for the files of runs it caused,
    # settling, and (served deployments) starting the runner. Then both sides' wall time is the bound to use.
    waits = bool(case.await_files or case.settle_seconds) or recipe.meta.prefect_mode == "deployment"
    basis = wall_seconds if waits else run.prefect.duration_seconds
    timeout = min(recipe.meta.timeout_seconds, SLOWDOWN * basis + SLACK_SECONDS)
    return Baseline(
        case=case.name,
        status=run.verdict.status,
        prefect_seconds=run.prefect.duration_seconds,
        mutant_timeout=round(timeout, 1),
        detail="" if run.verdict.parity else _differences(run),
        run=run,
    )


def _with_timeout(recipe: Recipe, seconds: float) -> Recipe:
    return recipe.model_copy(update={"meta": recipe.meta.model_copy(update={"timeout_seconds": seconds})})


def _write_flow(path: Path, source: str) -> None:
    path.write_text(source, encoding="utf-8")
    # A bytecode cache keyed by mtime in seconds and size could serve the previous mutant (`0` -> `1` keeps the
    # size); without the cache the flow is compiled from the text just written.
    shutil.rmtree(path.parent / "__pycache__", ignore_errors=True)


def _fresh_prefect_side(harness: Harness, recipe: Recipe, case: Case) -> None:
    """What the Prefect side of this case starts from in the baseline: no files, no stored results.

    The harness reuses a case's working directory within a batch, so a mutant would otherwise find the files the
    baseline wrote (an append-only log grows, a file the mutant no longer writes is still there), and a task with a
    cache policy would return the baseline's stored result without running.
    """
    shutil.rmtree(harness.workdir(recipe, case, "prefect"), ignore_errors=True)
    shutil.rmtree(harness.scratch / "prefect-home" / "storage", ignore_errors=True)
