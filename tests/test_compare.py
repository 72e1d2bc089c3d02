"""The comparison itself: it must catch every kind of mismatch, and normalise only what the recipe allows."""

from __future__ import annotations

from typing import Any

import pytest

from cookbook.compare import compare, deep_diff, normalise
from cookbook.recipe import Expectation, Parity
from cookbook.report import ENGINES, FileRecord, Outcome, RunState, SideError, SideReport, TaskOutcome


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


def test_a_task_missing_on_one_side_was_skipped_by_the_flow_when_its_run_succeeded() -> None:
    tasks = {"extract": side("prefect").tasks["extract"]}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=tasks))
    [difference] = verdict.differences
    assert (difference.where, difference.airflow, difference.prefect) == (
        "load",
        Outcome.SUCCESS,
        Outcome.SKIPPED_BY_RULE,
    )


def test_a_renamed_task_is_two_differences() -> None:
    tasks = {"extract": side("prefect").tasks["extract"], "load_data": side("prefect").tasks["load"]}
    verdict = compare(Parity(), Expectation(), side("airflow"), side("prefect", tasks=tasks))
    assert sorted(aspects(verdict)) == [("tasks", "load"), ("tasks", "load_data")]


def test_a_task_name_mapping_compares_the_prefect_task_under_its_airflow_id() -> None:
    tasks = {"extract": side("prefect").tasks["extract"], "load_data[0]": side("prefect").tasks["load"]}
    airflow = side("airflow", tasks={"extract": tasks["extract"], "load[0]": tasks["load_data[0]"]})
    mapped = Parity(task_names={"load_data": "load"})
    assert compare(
        mapped, Expectation(tasks={"load[0]": Outcome.SUCCESS}), airflow, side("prefect", tasks=tasks)
    ).parity
    failed = {**tasks, "load_data[0]": TaskOutcome(outcome=Outcome.FAILED, engine_state="Failed", attempts=1)}
    verdict = compare(mapped, Expectation(), airflow, side("prefect", tasks=failed))
    assert ("tasks", "load[0]") in aspects(verdict)


def test_a_mapping_onto_a_task_the_flow_also_has_is_refused() -> None:
    with pytest.raises(ValueError, match="renames a Prefect task onto another one"):
        compare(Parity(task_names={"extract": "load"}), Expectation(), side("airflow"), side("prefect"))
    with pytest.raises(ValueError, match="two Prefect tasks map to one Airflow task"):
        Parity(task_names={"a": "load", "b": "load"})


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


def test_retry_waits_sum_the_gaps_between_tries_and_are_bounded_on_each_side() -> None:
    from datetime import UTC, datetime, timedelta

    from cookbook.recipe import RetryWait
    from cookbook.report import wait_between_tries

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    at = lambda s: t0 + timedelta(seconds=s)  # noqa: E731
    # Tries at 0-1 s, 2-2.5 s and 4.5-5 s: waits of 1 s and 2 s; the tries' own durations do not count.
    assert wait_between_tries([(at(0), at(1)), (at(2), at(2.5)), (at(4.5), at(5))]) == 3.0
    assert wait_between_tries([(at(0), at(1))]) is None  # tried once: nothing waited
    assert wait_between_tries([(at(0), None), (at(2), at(3))]) is None  # a try the engine did not close

    def retried(wait: float | None) -> dict[str, TaskOutcome]:
        return {"load": TaskOutcome(outcome=Outcome.SUCCESS, engine_state="x", attempts=3, retry_wait_seconds=wait)}

    bounds = Expectation(retry_waits={"load": RetryWait(at_least=1.8, at_most=3.5)})
    parity = Parity(compare=["run_state"])
    assert compare(parity, bounds, side("airflow", tasks=retried(2.1)), side("prefect", tasks=retried(2.0))).parity
    # Prefect without retry_delay_seconds retries at once: a wait near 0 s is a mismatch, as is no record at all.
    verdict = compare(parity, bounds, side("airflow", tasks=retried(2.1)), side("prefect", tasks=retried(0.04)))
    assert [d.note for d in verdict.differences] == [
        "prefect: load waited 0.04 s, expected 1.8..3.5 s between its tries"
    ]
    verdict = compare(parity, bounds, side("airflow", tasks=retried(None)), side("prefect", tasks=retried(2.0)))
    assert [d.note for d in verdict.differences] == [
        "airflow: no wait between tries was recorded, expected 1.8..3.5 s between its tries"
    ]
    with pytest.raises(ValueError, match="at_least"):
        RetryWait(at_least=3, at_most=2)


def test_task_seconds_bound_a_tasks_run_time_on_each_side() -> None:
    """A wait inside the task (a Retry-After slept through in place) that is too long fails the case, not only one
    too short: the API's own refusal of an early request bounds it from below only."""
    from datetime import UTC, datetime, timedelta

    from cookbook.recipe import TaskSeconds

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def ran(seconds: float | None) -> dict[str, TaskOutcome]:
        end = None if seconds is None else t0 + timedelta(seconds=seconds)
        return {
            "fetch": TaskOutcome(outcome=Outcome.SUCCESS, engine_state="x", attempts=1, started_at=t0, ended_at=end)
        }

    bounds = Expectation(task_seconds={"fetch": TaskSeconds(at_least=2, at_most=3.5)})
    parity = Parity(compare=["run_state"])
    verdict = compare(parity, bounds, side("airflow", tasks=ran(2.2)), side("prefect", tasks=ran(2.1)))
    assert verdict.parity and verdict.measures == {"run time of fetch (s)": {"airflow": 2.2, "prefect": 2.1}}
    # A walk that sleeps twice what Retry-After asked.
    verdict = compare(parity, bounds, side("airflow", tasks=ran(2.2)), side("prefect", tasks=ran(4.1)))
    assert [d.note for d in verdict.differences] == ["prefect: fetch ran 4.1 s, expected 2..3.5 s"]
    verdict = compare(parity, bounds, side("airflow", tasks=ran(None)), side("prefect", tasks=ran(2.1)))
    assert [d.note for d in verdict.differences] == ["airflow: no start and end were recorded, expected 2..3.5 s"]


def test_the_stack_matches_a_mapped_tasks_runs_as_a_multiset_and_no_more() -> None:
    from cookbook.stack.compare import align_mapped

    def mapped(*outcomes: Outcome) -> dict[str, TaskOutcome]:
        kind = lambda o: "ValueError" if o is Outcome.FAILED else None  # noqa: E731
        return {
            f"validate[{i}]": TaskOutcome(outcome=o, engine_state="x", attempts=1, error_type=kind(o))
            for i, o in enumerate(outcomes)
        }

    ok, bad = Outcome.SUCCESS, Outcome.FAILED
    declared = Expectation(errors={"validate": "ValueError"})
    airflow, prefect = side("airflow", tasks=mapped(ok, bad, ok)), side("prefect", tasks=mapped(bad, ok, ok))
    aligned = align_mapped(airflow, prefect)
    assert [t.outcome for t in aligned.tasks.values()] == [ok, bad, ok]
    assert [t.outcome for t in prefect.tasks.values()] == [bad, ok, ok]  # the report as recorded is kept
    assert compare(Parity(), declared, airflow, aligned).parity

    # One failure against two: not the same multiset, so nothing moves and the difference shows.
    airflow, prefect = side("airflow", tasks=mapped(ok, bad, ok)), side("prefect", tasks=mapped(bad, bad, ok))
    aligned = align_mapped(airflow, prefect)
    assert [aligned.tasks[f"validate[{i}]"].outcome for i in range(3)] == [bad, bad, ok]
    assert not compare(Parity(), declared, airflow, aligned).parity


def failed(error_type: str | None, outcome: Outcome = Outcome.FAILED) -> TaskOutcome:
    return TaskOutcome(outcome=outcome, engine_state="failed", attempts=1, error_type=error_type, error="boom")


def failing(engine: str, load: TaskOutcome, **overrides: Any) -> SideReport:
    tasks = {"extract": side(engine).tasks["extract"], "load": load}
    error = SideError(kind="run_error", message="load failed")
    return side(engine, run_state=RunState.FAILED, result=None, tasks=tasks, error=error, **overrides)


def test_a_side_that_fails_where_the_case_expects_success_is_a_mismatch() -> None:
    expected = Expectation(run_state=RunState.SUCCESS)
    verdict = compare(Parity(), expected, side("airflow"), failing("prefect", failed("ValueError")))
    assert verdict.status == "mismatch"
    assert ("error", "run") in aspects(verdict)  # one side raised, the other did not
    assert ("expectation", "run") in aspects(verdict)


def test_the_same_task_failing_with_a_different_error_class_is_a_mismatch() -> None:
    expected = Expectation(run_state=RunState.FAILED, errors={"load": "timeout"})
    airflow = failing("airflow", failed("timeout"))
    assert compare(Parity(), expected, airflow, failing("prefect", failed("timeout"))).parity
    verdict = compare(Parity(), expected, airflow, failing("prefect", failed("ValueError")))
    assert ("error", "load") in aspects(verdict)
    assert ("expectation", "errors.load") in aspects(verdict)  # and the case said timeout


def test_a_failure_the_case_does_not_declare_is_a_mismatch_even_on_both_sides() -> None:
    expected = Expectation(run_state=RunState.FAILED, errors={"load": "ValueError"})
    extract_fails = {"extract": failed("KeyError"), "load": failed("ValueError")}
    both = [failing(e, failed("ValueError")).model_copy(update={"tasks": extract_fails}) for e in ENGINES]
    verdict = compare(Parity(), expected, *both)
    assert [d.where for d in verdict.differences] == ["errors.extract", "errors.extract"]


def test_a_declared_failure_that_does_not_happen_is_a_mismatch() -> None:
    expected = Expectation(run_state=RunState.FAILED, errors={"load": "ValueError"})
    swallowed = failing("prefect", side("prefect").tasks["load"])
    verdict = compare(Parity(), expected, failing("airflow", failed("ValueError")), swallowed)
    assert any(d.note == "prefect: expected load to fail with ValueError; it did not fail" for d in verdict.differences)


def refused(engine: str, message: str) -> SideReport:
    error = SideError(kind="refused", message=f"rejected before any task ran: {message}")
    return side(engine, run_state=RunState.FAILED, result=None, tasks={}, files={}, error=error)


def test_a_refusal_is_its_own_outcome_with_the_reason_the_case_expects() -> None:
    expected = Expectation(run_state=RunState.FAILED, refused="less than or equal to 1000")
    airflow = refused("airflow", "5000 is greater than the maximum of 1000")
    prefect = refused("prefect", "Input should be less than or equal to 1000")
    verdict = compare(Parity(), expected, airflow, prefect)
    assert [d.note for d in verdict.differences] == [
        "airflow: refused, but not for 'less than or equal to 1000': rejected before any task ran: "
        "5000 is greater than the maximum of 1000"
    ]
    per_engine = Expectation(
        run_state=RunState.FAILED, refused={"airflow": "maximum of 1000", "prefect": "less than or equal to 1000"}
    )
    assert compare(Parity(), per_engine, airflow, prefect).parity


def test_refusing_where_the_other_side_failed_while_running_is_a_mismatch() -> None:
    expected = Expectation(run_state=RunState.FAILED, errors={"load": "ValueError"})
    verdict = compare(Parity(), expected, failing("airflow", failed("ValueError")), refused("prefect", "bad input"))
    assert ("error", "run") in aspects(verdict)
    assert ("expectation", "refused") in aspects(verdict)  # a refusal the case did not declare


def test_a_refusal_expected_but_a_run_that_went_ahead_is_a_mismatch() -> None:
    expected = Expectation(run_state=RunState.FAILED, refused="maximum")
    went_ahead = failing("prefect", failed("ValueError"))
    verdict = compare(Parity(), expected, refused("airflow", "above the maximum"), went_ahead)
    assert any("expected the input to be refused" in d.note for d in verdict.differences)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("harness_error", "harness_error"), ("unavailable", "not_proven"), ("timeout", "mismatch"), ("crash", "mismatch")],
)
def test_a_side_that_did_not_run_is_named_for_why(kind: str, status: str) -> None:
    broken = side("prefect", run_state=None, error=SideError(kind=kind, message="x"))  # type: ignore[arg-type]
    verdict = compare(Parity(), Expectation(), side("airflow"), broken)
    assert verdict.status == status and not verdict.parity


def test_a_harness_break_stays_a_harness_break_when_more_differences_are_added() -> None:
    from cookbook.compare import Difference

    broken = side("prefect", run_state=None, error=SideError(kind="harness_error", message="KeyError: x"))
    verdict = compare(Parity(), Expectation(), side("airflow"), broken)
    leak = Difference(aspect="execution", where="prefect.log", note="a secret leaked")
    assert verdict.with_differences([leak]).status == "harness_error"
    fine = compare(Parity(), Expectation(), side("airflow"), side("prefect"))
    assert fine.with_differences([leak]).status == "mismatch"


def test_skipping_where_airflow_failed_upstream_is_a_mismatch() -> None:
    never = TaskOutcome(outcome=Outcome.UPSTREAM_FAILED, engine_state="upstream_failed", attempts=0)
    airflow = failing("airflow", failed("ValueError")).model_copy(
        update={"tasks": {"extract": failed("ValueError"), "load": never}}
    )
    # The translation swallowed extract's error and chose not to call load: its run succeeded, load was skipped.
    prefect = side("prefect", tasks={"extract": failed("ValueError")})
    declared = Expectation(errors={"extract": "ValueError"})
    verdict = compare(Parity(), declared, airflow, prefect)
    assert ("tasks", "load") in aspects(verdict)
    load = next(d for d in verdict.differences if d.where == "load")
    assert (load.airflow, load.prefect) == (Outcome.UPSTREAM_FAILED, Outcome.SKIPPED_BY_RULE)
    # Never called by a run that failed: the failure stopped it, as Airflow's upstream_failed says.
    stopped = failing("prefect", failed("ValueError")).model_copy(update={"tasks": {"extract": failed("ValueError")}})
    assert compare(Parity(), declared, airflow, stopped).parity


def test_an_expected_result_exact_or_subset_is_checked_on_each_side() -> None:
    exact = Expectation(result={"total": 155.5, "rows": [1, 2, 3]})
    assert compare(Parity(), exact, side("airflow"), side("prefect")).parity
    wrong = {"total": 1.0, "rows": [1, 2, 3]}
    verdict = compare(Parity(), exact, side("airflow", result=wrong), side("prefect", result=wrong))
    assert [d.where for d in verdict.differences] == ["result.total", "result.total"]
    assert not compare(Parity(), Expectation(result=None), side("airflow"), side("prefect")).parity
    subset = Expectation(result_subset={"total": 155.5})
    assert compare(Parity(), subset, side("airflow"), side("prefect")).parity
    verdict = compare(Parity(), Expectation(result_subset={"count": 3}), side("airflow"), side("prefect"))
    assert [d.where for d in verdict.differences] == ["result.count", "result.count"]


def test_expected_files_by_text_hash_fragment_or_absence() -> None:
    import hashlib

    from cookbook.recipe import FileExpectation

    record = FileRecord(sha256=hashlib.sha256(b"1,2").hexdigest(), size=3, preview="1,2")
    both = [side(e, files={"out.csv": record}) for e in ENGINES]
    good = Expectation(files={"out.csv": FileExpectation(text="1,2"), "gone.txt": None})
    assert compare(Parity(), good, *both).parity
    for bad in (
        FileExpectation(text="1,3"),
        FileExpectation(sha256="0" * 64),
        FileExpectation(contains=["9"]),
    ):
        assert len(compare(Parity(), Expectation(files={"out.csv": bad}), *both).differences) == 2
    assert not compare(Parity(), Expectation(files={"out.csv": None}), *both).parity
    assert not compare(Parity(), Expectation(files={"other.csv": FileExpectation(contains=["1"])}), *both).parity


def test_expected_message_contents_are_matched_as_subsets_in_order() -> None:
    sent = {"alerts": [{"text": "load failed", "level": "error"}]}
    both = [side(e, messages=sent) for e in ENGINES]
    assert compare(Parity(), Expectation(messages={"alerts": [{"text": "load failed"}]}), *both).parity
    verdict = compare(Parity(), Expectation(messages={"alerts": [{"text": "extract failed"}]}), *both)
    assert [d.where for d in verdict.differences] == ["messages.alerts[0].text"] * 2


def test_a_run_that_must_pass_through_a_state_on_one_engine() -> None:
    suspended = Expectation(passed_through={"prefect": ["Suspended", "Completed"]})
    went = ["Scheduled", "Running", "Suspended", "Scheduled", "Running", "Completed"]
    assert compare(Parity(), suspended, side("airflow"), side("prefect", states=went)).parity
    verdict = compare(Parity(), suspended, side("airflow"), side("prefect", states=["Running", "Completed"]))
    assert [d.where for d in verdict.differences] == ["states"]


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({}, "expect.run_state is required"),
        ({"run_state": "success"}, "expect.tasks is required"),
        ({"run_state": "failed", "tasks": {"load": "failed"}}, "declares expect.errors"),
        ({"run_state": "success", "refused": "x"}, "a refused run ends failed"),
    ],
)
def test_a_case_must_say_how_it_ends(expect: dict[str, Any], message: str) -> None:
    from pydantic import ValidationError

    from cookbook.recipe import Case

    with pytest.raises(ValidationError, match=message):
        Case(name="c", expect=expect)
    Case(name="c", expect={"run_state": "failed", "tasks": {"load": "failed"}, "errors": {"load": "ValueError"}})
    Case(name="c", expect={"run_state": "failed", "refused": "above the maximum"})


def test_an_expected_log_line_is_checked_on_each_side_that_ran() -> None:
    from cookbook.harness import _unlogged
    from cookbook.recipe import Case

    case = Case(
        name="lost_alert",
        expect=Expectation(
            run_state=RunState.FAILED,
            errors={"load": "ValueError"},
            tasks={"load": Outcome.FAILED},
            logs={"airflow": ["alert (404)"], "prefect": ["alert (404)"]},
        ),
    )
    logs = {"airflow": "RuntimeError: the webhook did not take the alert (404)\n", "prefect": "alert sent\n"}
    missing = _unlogged(case, logs)
    assert [(d.where, d.prefect) for d in missing] == [("logs.prefect", "absent")]
    assert "its log does not show 'alert (404)'" in (missing[0].note or "")
    # A side reused from an earlier run (mutation testing) logged nothing now, and is not judged on it again.
    assert _unlogged(case, {"airflow": logs["airflow"]}) == []


def test_a_failure_declared_for_one_engine_only_holds_each_side_to_its_own() -> None:
    """`null` for an engine: the task does not fail there (a backfill flow's own task, a check only Prefect makes)."""
    expected = Expectation(
        run_state=RunState.FAILED,
        errors={"load": "ValueError", "run_day": {"airflow": None, "prefect": "RuntimeError"}},
    )
    airflow = failing("airflow", failed("ValueError"))
    prefect = failing("prefect", failed("ValueError"))
    prefect.tasks["run_day"] = failed("RuntimeError")
    assert compare(Parity(), expected, airflow, prefect).parity
    # The Prefect side swallowing the error, or Airflow failing the task too, is no longer the declared shape.
    del prefect.tasks["run_day"]
    assert "errors.run_day" in [d.where for d in compare(Parity(), expected, airflow, prefect).differences]
    airflow.tasks["run_day"] = failed("RuntimeError")
    prefect.tasks["run_day"] = failed("RuntimeError")
    verdict = compare(Parity(), expected, airflow, prefect)
    assert [d.where for d in verdict.differences] == ["errors.run_day"]
    assert "airflow" in verdict.differences[0].note


def test_an_outcome_declared_per_engine_is_checked_on_each_side_and_not_compared() -> None:
    """depends_on_past: Airflow holds the task (unfinished), the flow refuses it (failed); either other is wrong."""
    expected = Expectation(
        run_state=RunState.FAILED,
        tasks={"load": {"airflow": Outcome.UNFINISHED, "prefect": Outcome.FAILED}},
        errors={"load": {"airflow": None, "prefect": "RuntimeError"}},
    )
    held = failing("airflow", failed(None, Outcome.UNFINISHED))
    refused_now = failing("prefect", failed("RuntimeError"))
    assert compare(Parity(), expected, held, refused_now).parity
    ran_anyway = failing("prefect", side("prefect").tasks["load"])
    verdict = compare(Parity(), expected, held, ran_anyway)
    assert ("expectation", "tasks.load") in aspects(verdict)
    assert ("tasks", "load") not in aspects(verdict)
    with pytest.raises(ValueError, match="names both airflow and prefect"):
        Expectation(tasks={"load": {"prefect": Outcome.FAILED}})
