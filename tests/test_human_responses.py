"""The `respond:` case field on both real engines: an answer the run never asks for is an error of that side."""

from __future__ import annotations

import pytest
from conftest import Runs

from cookbook.report import Outcome

pytestmark = pytest.mark.parity


def test_an_answer_the_run_never_asks_for_is_an_error_on_both_engines(runs: Runs) -> None:
    # Under dag.test(), not the recipe's scheduler: its Airflow answers then go through the metadata DB, the path the
    # recipe's own cases (answered through the REST API) do not take.
    scheduled = runs.recipes["human_in_the_loop"]
    recipe = scheduled.model_copy(update={"meta": scheduled.meta.model_copy(update={"airflow_mode": "dag_test"})})
    rejected = recipe.cases_by_name["rejected"]
    channel_answer = recipe.cases_by_name["approved_blog"].respond[1]
    # A rejection ends the questions: the channel answer that follows is never asked for.
    case = rejected.model_copy(
        update={"name": "rejected_then_a_choice", "respond": [*rejected.respond, channel_answer]}
    )
    run = runs.harness.run_case(recipe, case)
    for report in (run.airflow, run.prefect):
        assert report.error is not None and "1 of 2 answers were never asked for" in report.error.message
        assert report.tasks["approve_publish"].outcome is Outcome.SUCCESS
        channel = report.tasks.get("choose_channel")
        assert channel is None or channel.outcome is Outcome.SKIPPED_BY_RULE
