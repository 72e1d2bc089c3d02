"""`cookbook verify`: a user's own DAG and flow through the recipes' harness; the workshop exercises, graded by it.

The engine runs are few: the CLI is run on one good pair, one skeleton and one DAG that does not import, and every
exercise's solution and skeleton run in one batch of their own (as `make exercise` would, one by one).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cookbook.checklist import check
from cookbook.harness import CaseRun, Harness
from cookbook.recipe import PROJECT_ROOT
from cookbook.verify import Pair, load_pair, staged

EXERCISES = sorted(p for p in (PROJECT_ROOT / "exercises").iterdir() if (p / "dag.py").is_file())
IDS = [p.name for p in EXERCISES]
COOKBOOK = [sys.executable, "-m", "cookbook.cli"]
FIRST = EXERCISES[0]


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COOKBOOK, "verify", *map(str, args)], capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---- the exercises' files, read without engines ----------------------------------------------------------------


def test_there_are_at_least_six_exercises() -> None:
    assert len(EXERCISES) >= 6, IDS


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_an_exercise_has_its_files_and_loads(exercise: Path) -> None:
    for name in ("dag.py", "flow.py", "cases.yaml", "README.md", "solution/flow.py"):
        assert (exercise / name).is_file(), f"{exercise.name}: {name} is missing"
    assert "TODO" in (exercise / "flow.py").read_text(encoding="utf-8")
    assert "TODO" not in (exercise / "solution" / "flow.py").read_text(encoding="utf-8")
    skeleton = load_pair(exercise / "dag.py", exercise / "flow.py", exercise / "cases.yaml")
    solution = load_pair(exercise / "dag.py", exercise / "solution" / "flow.py", exercise / "cases.yaml")
    # Found in the files, not given by the cases file; the skeleton is the same flow as the solution, unfinished.
    assert skeleton.dag_id == solution.dag_id and skeleton.flow_name == solution.flow_name
    # Each exercise has its own DAG, not a recipe's.
    assert not (PROJECT_ROOT / "airflow_dags" / f"{solution.dag_id}.py").exists()


def test_the_exercises_dags_are_distinct() -> None:
    ids = [load_pair(e / "dag.py", e / "solution" / "flow.py", e / "cases.yaml").dag_id for e in EXERCISES]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_a_solution_passes_the_production_checklist(exercise: Path) -> None:
    misses = check(exercise / "solution" / "flow.py", exercise / "dag.py")
    assert not misses, "\n".join(map(str, misses))


def test_make_exercise_grades_the_learners_flow_or_the_solution() -> None:
    def planned(*args: str) -> str:
        result = subprocess.run(["make", "-n", "exercise", *args], capture_output=True, text=True, cwd=PROJECT_ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout

    e = f"exercises/{FIRST.name}/"
    assert f"verify {e}dag.py {e}flow.py --case {e}cases.yaml" in planned("N=1")
    assert f"verify {e}dag.py {e}solution/flow.py --case {e}cases.yaml" in planned("N=1", "SOLUTION=1")
    missing = subprocess.run(["make", "exercise", "N=99"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert missing.returncode != 0 and "no exercise N=99" in missing.stderr


# ---- bad input: one line, exit 2, before any engine starts ----------------------------------------------------


def test_a_missing_file_is_one_line() -> None:
    line = one_line_error(verify(FIRST / "nope.py", FIRST / "flow.py", "--case", FIRST / "cases.yaml"))
    assert line == f"cookbook: no such file: {FIRST / 'nope.py'} (the DAG)"


def test_a_cases_file_that_is_not_yaml_names_its_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("result_task: load\ncases:\n  - name: [unclosed\n", encoding="utf-8")
    line = one_line_error(verify(FIRST / "dag.py", FIRST / "flow.py", "--case", cases))
    assert line.startswith(f"cookbook: {cases}:") and "not YAML" in line


def test_a_cases_file_that_breaks_the_schema_names_its_line_and_field(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases:\n  - name: a\n    expect: {run_state: succeeded, tasks: {x: success}}\n")
    line = one_line_error(verify(FIRST / "dag.py", FIRST / "flow.py", "--case", cases))
    assert line.startswith(f"cookbook: {cases}:3: cases.0.expect.run_state:")


def test_a_file_with_no_dag_or_no_flow_is_one_line() -> None:
    cases = FIRST / "cases.yaml"
    no_flow = one_line_error(verify(FIRST / "dag.py", FIRST / "dag.py", "--case", cases))
    assert no_flow == f"cookbook: {FIRST / 'dag.py'}: no flow found (a function decorated with @flow)"
    no_dag = one_line_error(verify(FIRST / "flow.py", FIRST / "flow.py", "--case", cases))
    assert no_dag == f"cookbook: {FIRST / 'flow.py'}: no DAG found (with DAG(...), DAG(...) or @dag)"


def test_a_dag_that_is_not_python_names_its_line(tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    dag.write_text("from airflow.sdk import DAG\n\nwith DAG(dag_id='x':\n    pass\n", encoding="utf-8")
    line = one_line_error(verify(dag, FIRST / "flow.py", "--case", FIRST / "cases.yaml"))
    assert line.startswith(f"cookbook: {dag}:3: not Python:")


def test_several_flows_need_the_cases_file_to_say_which(tmp_path: Path) -> None:
    flow = tmp_path / "flows.py"
    flow.write_text(
        "from prefect import flow\n\n@flow\ndef one_flow() -> None: ...\n\n@flow(name='two')\ndef b() -> None: ...\n"
    )
    line = one_line_error(verify(FIRST / "dag.py", flow, "--case", FIRST / "cases.yaml"))
    assert "flows one-flow, two: say which one in" in line and "with `flow_name:`" in line
    cases = tmp_path / "cases.yaml"
    cases.write_text("flow_name: three\n" + (FIRST / "cases.yaml").read_text(encoding="utf-8"))
    line = one_line_error(verify(FIRST / "dag.py", flow, "--case", cases))
    assert "no flow 'three'" in line and "found: one-flow, two" in line


def test_an_unknown_case_lists_the_cases() -> None:
    line = one_line_error(verify(FIRST / "dag.py", FIRST / "flow.py", "--case", FIRST / "cases.yaml", "--only", "x"))
    assert "has no case x; its cases: " in line


# ---- real engines ------------------------------------------------------------------------------------------------


@pytest.mark.parity
def test_verify_a_good_pair_has_parity_and_a_skeleton_does_not() -> None:
    good = verify(FIRST / "dag.py", FIRST / "solution" / "flow.py", "--case", FIRST / "cases.yaml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "PARITY: " in good.stdout and "cases match" in good.stdout
    skeleton = verify(FIRST / "dag.py", FIRST / "flow.py", "--case", FIRST / "cases.yaml")
    assert skeleton.returncode == 1, skeleton.stdout + skeleton.stderr
    out = " ".join(skeleton.stdout.split())
    assert "NO PARITY: 0/" in out and "MISMATCH" in out
    # What differs, named: the tasks the skeleton does not have yet, and the result it does not return.
    assert "tasks transform" in out and "tasks load" in out
    assert "Traceback" not in skeleton.stdout + skeleton.stderr


@pytest.mark.parity
def test_a_dag_that_does_not_import_is_one_line(tmp_path: Path) -> None:
    dag = tmp_path / "dag.py"
    source = (FIRST / "dag.py").read_text(encoding="utf-8")
    dag.write_text(source.replace("import json\n", "import json\nimport not_installed_anywhere\n", 1))
    line = one_line_error(verify(dag, FIRST / "solution" / "flow.py", "--case", FIRST / "cases.yaml"))
    assert line.startswith("cookbook: the DAG does not load on Airflow: dag.py: ")
    assert "ModuleNotFoundError" in line and "not_installed_anywhere" in line


class Graded:
    """Every case of every exercise, solution and skeleton, in one engine batch, run when first asked for."""

    def __init__(self, harness: Harness, pairs: dict[tuple[str, str], Pair]) -> None:
        self.harness = harness
        self.pairs = pairs
        self._done: dict[tuple[str, str], list[CaseRun]] = {}

    def runs(self, exercise: str, which: str) -> list[CaseRun]:
        key = (exercise, which)
        if key not in self._done:
            pair = self.pairs[key]
            self._done[key] = [self.harness.run_case(pair, case) for case in pair.meta.cases]
        return self._done[key]


@pytest.fixture(scope="module")
def graded() -> Iterator[Graded]:
    solutions = [load_pair(e / "dag.py", e / "solution" / "flow.py", e / "cases.yaml") for e in EXERCISES]
    with staged(solutions) as (root, copies):
        pairs: dict[tuple[str, str], Pair] = {}
        for exercise, copy in zip(EXERCISES, copies, strict=True):
            pairs[(exercise.name, "solution")] = copy
            # The learner's flow against the same staged DAG, under a name of its own (its working directories).
            skeleton = {"name": f"{copy.name}_todo", "flow_path": (exercise / "flow.py").resolve()}
            pairs[(exercise.name, "skeleton")] = copy.model_copy(update=skeleton)
        with Harness(root=root) as harness:
            yield Graded(harness, pairs)


def _problems(run: CaseRun) -> str:
    diffs = run.verdict.differences
    return "\n".join(f"{run.case}: {d.aspect} {d.where}: {d.note or (d.airflow, d.prefect)}" for d in diffs)


@pytest.mark.parity
@pytest.mark.parametrize("exercise", IDS)
def test_an_exercise_solution_has_parity(graded: Graded, exercise: str) -> None:
    runs = graded.runs(exercise, "solution")
    failing = [r for r in runs if not r.verdict.parity]
    assert not failing, "\n".join(f"{r.verdict.status}: " + _problems(r) for r in failing)
    assert all(r.airflow.executed and r.prefect.executed for r in runs)


@pytest.mark.parity
@pytest.mark.parametrize("exercise", IDS)
def test_an_exercise_skeleton_fails_parity_as_given(graded: Graded, exercise: str) -> None:
    runs = graded.runs(exercise, "skeleton")
    # A mismatch the learner can fix, never a skeleton that does not even load or a harness break.
    assert any(r.verdict.status == "mismatch" for r in runs), [r.verdict.status for r in runs]
    assert all(r.verdict.status in ("parity", "mismatch") for r in runs), [r.verdict.status for r in runs]
    for run in runs:
        for engine in ("airflow", "prefect"):
            error = getattr(run, engine).error
            assert error is None or error.kind in ("run_error", "refused"), f"{run.case} {engine}: {error}"
