"""Every case of every recipe, run on both real engines: the Prefect flow must do what the DAG did."""

from __future__ import annotations

import pytest
from conftest import Runs, all_cases

pytestmark = pytest.mark.parity


@pytest.mark.parametrize(("recipe", "case"), all_cases(), ids=[f"{r}/{c}" for r, c in all_cases()])
def test_recipe_case_has_parity(runs: Runs, recipe: str, case: str) -> None:
    run, _ = runs.get(recipe, case)
    for report in (run.airflow, run.prefect):
        if report.error and report.error.kind == "unavailable":  # e.g. the scheduler mode without PostgreSQL
            pytest.skip(f"{report.engine}: {report.error.message}")
    problems = [f"{d.aspect} {d.where}: {d.note or (d.airflow, d.prefect)}" for d in run.verdict.differences]
    assert run.verdict.parity, "\n".join(problems)
    # A case with parity really ran on both engines, each to an end state.
    assert run.airflow.executed and run.prefect.executed
    assert run.airflow.engine_version.startswith("3.") and run.prefect.engine_version.startswith("3.")
