"""Every case of every recipe, run on both real engines: the Prefect flow must do what the DAG did."""

from __future__ import annotations

import pytest
from conftest import Runs, all_cases

pytestmark = pytest.mark.parity


@pytest.mark.parametrize(("recipe", "case"), all_cases(), ids=[f"{r}/{c}" for r, c in all_cases()])
def test_recipe_case_has_parity(runs: Runs, recipe: str, case: str) -> None:
    run, _ = runs.get(recipe, case)
    # Never a skip: a case that could not run (PostgreSQL missing for the scheduler mode, say) is not proven, and red.
    problems = [f"{d.aspect} {d.where}: {d.note or (d.airflow, d.prefect)}" for d in run.verdict.differences]
    assert run.verdict.parity, f"{run.verdict.status}:\n" + "\n".join(problems)
    # A case with parity really ran on both engines, each to an end state.
    assert run.airflow.executed and run.prefect.executed
    assert run.airflow.engine_version.startswith("3.") and run.prefect.engine_version.startswith("3.")
