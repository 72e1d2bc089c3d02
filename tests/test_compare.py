"""The comparison itself: it must catch every kind of mismatch, and normalise only what the recipe allows."""

from __future__ import annotations

from typing import Any

import pytest

from cookbook.compare import compare, deep_diff, normalise
from cookbook.recipe import Expectation, Parity
from cookbook.report import FileRecord, Outcome, RunState, SideError, SideReport, TaskOutcome


def side(engine: str, **overrides: Any) -> SideReport:
    base: dict[str, Any] = {
        "engine": engine,
        "engine_version": "3.0",
        "recipe": "r",
        "case": "c",
        "run_state": RunState.SUCCESS,
        "result": {"total": 155.5, "rows": [1, 2, 3]},
        "tasks": {
            "extract": TaskOutcome(outcome=Outcome.SUCCESS, engine_state="x", attempts=1),
            "load": TaskOutcome(outcome=Outcome.SUCCESS, engine_state="x", attempts=1),
        },
        "files": {"out.csv": FileRecord(sha256="a" * 64, size=3, preview="1,2")},
    }
    base.update(overrides)
    return SideReport(**base)


def aspects(verdict: Any) -> list[tuple[str, str]]:
    return [(d.aspect, d.where) for d in verdict.differences]


def test_identical_sides_have_parity() -> None:
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect"))
    assert verdict.parity and verdict.differences == []


def test_a_different_result_is_caught_at_its_path() -> None:
    verdict = compare(
        Parity(), Expectation(), side("airflow"), side("prefect", result={"total": 155.6, "rows": [1, 2, 3]})
    )
    assert not verdict.parity
    assert aspects(verdict) == [("result", "result.total")]
    assert (verdict.differences[0].airflow, verdict.differences[0].prefect) == (155.5, 155.6)


def test_a_different_task_outcome_is_caught() -> None:
    tasks = side("prefect").tasks | {"load": TaskOutcome(outcome=Outcome.FAILED, engine_state="Failed", attempts=1)}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=tasks))
    assert ("tasks", "load") in aspects(verdict)


def test_a_task_missing_on_one_side_counts_as_not_run() -> None:
    tasks = {"extract": side("prefect").tasks["extract"]}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=tasks))
    [difference] = verdict.differences
    assert (difference.where, difference.airflow, difference.prefect) == ("load", Outcome.SUCCESS, Outcome.NOT_RUN)


def test_a_renamed_task_is_two_differences() -> None:
    tasks = {"extract": side("prefect").tasks["extract"], "load_data": side("prefect").tasks["load"]}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=tasks))
    assert sorted(aspects(verdict)) == [("tasks", "load"), ("tasks", "load_data")]


def test_attempts_are_compared_unless_the_recipe_says_not_to() -> None:
    retried = side("prefect").tasks | {"load": TaskOutcome(outcome=Outcome.SUCCESS, engine_state="x", attempts=3)}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=retried))
    assert aspects(verdict) == [("attempts", "load")]
    lenient = Parity(compare=["run_state", "tasks", "result", "files"])
    assert compare(lenient, Expectation(), side("airflow"), side("prefect", tasks=retried)).parity


def test_files_missing_or_different_are_caught() -> None:
    other = {
        "out.csv": FileRecord(sha256="b" * 64, size=3, preview="1,3"),
        "extra.txt": FileRecord(sha256="c" * 64, size=1),
    }
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", files=other))
    assert sorted(aspects(verdict)) == [("files", "extra.txt"), ("files", "out.csv")]
    ignoring = Parity(ignore_files=["extra.*"])
    assert aspects(compare(ignoring, Expectation(), side("airflow"), side("prefect", files=other))) == [
        ("files", "out.csv")
    ]


def test_run_state_mismatch_is_caught() -> None:
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", run_state=RunState.FAILED))
    assert ("run_state", "run") in aspects(verdict)


def test_a_side_that_did_not_run_is_never_parity() -> None:
    broken = side("airflow", run_state=None, error=SideError(kind="import_error", message="ModuleNotFoundError: x"))
    verdict = compare(Parity(), Expectation(), broken, side("prefect"))
    assert aspects(verdict) == [("execution", "airflow")]
    assert "import_error: ModuleNotFoundError: x" in verdict.differences[0].note


def test_two_sides_wrong_in_the_same_way_fail_the_expectation() -> None:
    expected = Expectation(run_state=RunState.FAILED, tasks={"load": Outcome.FAILED}, attempts={"load": 2})
    verdict = compare(Parity(), expected, side("airflow"), side("prefect"))
    # Each side is checked on its own: run state, the task's outcome, its attempts.
    assert len(verdict.differences) == 6
    assert {d.aspect for d in verdict.differences} == {"expectation"}


@pytest.mark.parametrize(
    ("parity", "left", "right", "same"),
    [
        (Parity(), [1, 2], [2, 1], False),
        (Parity(unordered_lists=True), [1, 2], [2, 1], True),
        (Parity(unordered_lists=True), [{"a": 1}, {"a": 2}], [{"a": 2}, {"a": 1}], True),
        (Parity(unordered_lists=True), [1, 2, 2], [1, 1, 2], False),
        (Parity(float_tolerance=1e-6), {"x": 0.1 + 0.2}, {"x": 0.3}, True),
        (Parity(), {"x": 0.1 + 0.2}, {"x": 0.3}, False),
        (Parity(float_tolerance=1e-6), {"x": 0.31}, {"x": 0.3}, False),
        (Parity(ignore_keys=["at"]), {"n": 1, "at": "10:00"}, {"n": 1, "at": "10:01"}, True),
        (Parity(ignore_keys=["at"]), {"n": 1, "at": "10:00"}, {"n": 2, "at": "10:01"}, False),
        (Parity(), {"flag": True}, {"flag": 1}, False),
        (Parity(), None, {"n": 1}, False),
    ],
)
def test_normalisation_allows_only_what_the_recipe_declares(parity: Parity, left: Any, right: Any, same: bool) -> None:
    found = deep_diff(normalise(left, parity), normalise(right, parity), "result", parity.float_tolerance)
    assert (found == []) is same


def test_deep_diff_names_each_differing_path() -> None:
    left = {"a": {"b": [1, 2, {"c": "x"}]}, "only_left": 1}
    right = {"a": {"b": [1, 3, {"c": "y"}]}}
    assert deep_diff(left, right, "result") == [
        ("result.a.b[1]", 2, 3),
        ("result.a.b[2].c", "x", "y"),
        ("result.only_left", 1, "<absent>"),
    ]


def test_an_expected_message_count_is_checked_on_each_side() -> None:
    expected = Expectation(messages={"alerts": 1})
    silent = compare(Parity(), expected, side("airflow"), side("prefect"))
    assert sorted(d.where for d in silent.differences) == ["messages.alerts", "messages.alerts"]
    sent = {"alerts": [{"text": "failed"}]}
    assert compare(Parity(), expected, side("airflow", messages=sent), side("prefect", messages=sent)).parity


def test_overlap_is_measured_from_start_and_end_times_and_bounded() -> None:
    from datetime import UTC, datetime, timedelta

    from cookbook.compare import max_overlap
    from cookbook.recipe import Overlap

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def ran(start: float, end: float) -> TaskOutcome:
        at = lambda s: t0 + timedelta(seconds=s)  # noqa: E731
        return TaskOutcome(
            outcome=Outcome.SUCCESS, engine_state="x", attempts=1, started_at=at(start), ended_at=at(end)
        )

    # q[0..2] overlap around t=1.5; q[3] starts exactly when q[0] ends (an end counts before a start); other ignored.
    tasks = {"q[0]": ran(0, 2), "q[1]": ran(1, 3), "q[2]": ran(1.5, 2.5), "q[3]": ran(2, 4), "other": ran(0, 4)}
    busy = side("airflow", tasks=tasks)
    assert max_overlap(busy, "q") == 3
    assert max_overlap(busy, "other") == 1
    strict = Expectation(max_overlap=Overlap(tasks="q", at_most=2))
    verdict = compare(Parity(compare=["run_state"]), strict, busy, side("prefect", tasks=tasks))
    assert [d.note for d in verdict.differences] == [
        "airflow: 3 of q ran at once, expected 1..2",
        "prefect: 3 of q ran at once, expected 1..2",
    ]
    assert verdict.measures == {"max overlap of q": {"airflow": 3, "prefect": 3}}


def test_the_stack_matches_a_mapped_tasks_runs_as_a_multiset_and_no_more() -> None:
    from cookbook.stack.compare import align_mapped

    def mapped(*outcomes: Outcome) -> dict[str, TaskOutcome]:
        return {f"validate[{i}]": TaskOutcome(outcome=o, engine_state="x", attempts=1) for i, o in enumerate(outcomes)}

    ok, bad = Outcome.SUCCESS, Outcome.FAILED
    airflow, prefect = side("airflow", tasks=mapped(ok, bad, ok)), side("prefect", tasks=mapped(bad, ok, ok))
    align_mapped(airflow, prefect)
    assert [t.outcome for t in prefect.tasks.values()] == [ok, bad, ok]
    assert compare(Parity(), Expectation(), airflow, prefect).parity

    # One failure against two: not the same multiset, so nothing moves and the difference shows.
    airflow, prefect = side("airflow", tasks=mapped(ok, bad, ok)), side("prefect", tasks=mapped(bad, bad, ok))
    align_mapped(airflow, prefect)
    assert [prefect.tasks[f"validate[{i}]"].outcome for i in range(3)] == [bad, bad, ok]
    assert not compare(Parity(), Expectation(), airflow, prefect).parity
