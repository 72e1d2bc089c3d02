"""Compare what the two sides produced for one case, after the recipe's normalisation."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from cookbook.outcomes import error_type, never_called
from cookbook.recipe import Expectation, Parity, RetryWait
from cookbook.report import ENGINES, Outcome, RunState, SideReport

Where = Literal["execution", "expectation", "run_state", "error", "tasks", "attempts", "result", "files", "messages"]
# What a case declares for a failure whose engine records no exception class (Airflow's TriggerDagRunOperator under
# the scheduler fails its task with an AirflowException it never logs): the failure is there, its class is not.
UNRECORDED = "unrecorded"
# The verdict's four outcomes, from best to worst: a harness break outranks everything, since nothing it says holds.
Status = Literal["parity", "mismatch", "not_proven", "harness_error"]
_RANK: dict[Status, int] = {"parity": 0, "mismatch": 1, "not_proven": 2, "harness_error": 3}
STATUS_WORDS: dict[Status, str] = {
    "parity": "parity",
    "mismatch": "mismatch",
    "not_proven": "not proven",
    "harness_error": "harness broke",
}


class Difference(BaseModel):
    aspect: Where
    where: str
    airflow: Any = None
    prefect: Any = None
    note: str = ""


class Verdict(BaseModel):
    status: Status = "parity"
    differences: list[Difference]
    # What was measured on each side for an expectation that bounds a measure (e.g. the maximum overlap).
    measures: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parity(self) -> bool:
        return self.status == "parity"

    def with_differences(self, more: list[Difference]) -> Verdict:
        """This verdict plus differences found outside the reports (a leaked secret, say): at best a mismatch."""
        if not more:
            return self
        status = self.status if _RANK[self.status] > _RANK["mismatch"] else "mismatch"
        return Verdict(status=status, differences=[*self.differences, *more], measures=self.measures)


def status_of_side(report: SideReport) -> Status:
    """What a side that did not run to an end means for the verdict."""
    kind = report.error.kind if report.error else None
    if kind == "harness_error":
        return "harness_error"
    if kind == "unavailable":
        return "not_proven"
    return "mismatch"


def in_airflow_names(report: SideReport, task_names: dict[str, str]) -> SideReport:
    """A Prefect report with its tasks renamed after the Airflow task_ids they stand for (`parity.task_names`);
    a mapped task's index is kept (`rank_top[2]` -> `rank[2]`)."""
    if not task_names:
        return report

    def renamed(name: str) -> str:
        base, bracket, index = name.partition("[")
        return task_names.get(base, base) + bracket + index

    tasks = {renamed(name): outcome for name, outcome in report.tasks.items()}
    if len(tasks) != len(report.tasks):
        raise ValueError(f"parity.task_names renames a Prefect task onto another one: {sorted(report.tasks)}")
    return report.model_copy(update={"tasks": tasks})


def compare(parity: Parity, expect: Expectation, airflow: SideReport, prefect: SideReport) -> Verdict:
    prefect = in_airflow_names(prefect, parity.task_names)
    sides = {"airflow": airflow, "prefect": prefect}
    diffs: list[Difference] = []
    status: Status = "parity"
    for engine, report in sides.items():
        if not report.executed:
            error = report.error
            note = f"{error.kind}: {error.message}" if error else "did not run"
            diffs.append(Difference(aspect="execution", where=engine, note=note, **{engine: note}))
            side_status = status_of_side(report)
            status = side_status if _RANK[side_status] > _RANK[status] else status
    if diffs:
        return Verdict(status=status, differences=diffs)

    diffs += _compare_error_kinds(airflow, prefect)
    diffs += _check_expectation(expect, parity, sides)
    measures: dict[str, dict[str, Any]] = {}
    if expect.max_overlap is not None:
        bound = expect.max_overlap
        label = f"max overlap of {bound.tasks}"
        measures[label] = {engine: max_overlap(report, bound.tasks) for engine, report in sides.items()}
        for engine, measured in measures[label].items():
            if not bound.at_least <= measured <= bound.at_most:
                note = f"{measured} of {bound.tasks} ran at once, expected {bound.at_least}..{bound.at_most}"
                diffs.append(_unmet(engine, label, measured, note))
    for task, bounds in expect.retry_waits.items():
        label = f"retry wait of {task} (s)"
        measures[label] = {engine: _retry_wait(report, task) for engine, report in sides.items()}
        unrecorded = "no wait between tries was recorded"
        diffs += _outside(label, measures[label], bounds, f"{task} waited", unrecorded, what=" between its tries")
    for task, bounds in expect.task_seconds.items():
        label = f"run time of {task} (s)"
        measures[label] = {engine: _task_seconds(report, task) for engine, report in sides.items()}
        diffs += _outside(label, measures[label], bounds, f"{task} ran", "no start and end were recorded")
    aspects = set(parity.compare)
    if "run_state" in aspects and airflow.run_state != prefect.run_state:
        diffs.append(Difference(aspect="run_state", where="run", airflow=airflow.run_state, prefect=prefect.run_state))
    if "tasks" in aspects or "attempts" in aspects:
        diffs += _compare_tasks(parity, expect, airflow, prefect, check_attempts="attempts" in aspects)
    if "result" in aspects:
        left, right = normalise(airflow.result, parity), normalise(prefect.result, parity)
        diffs += [
            Difference(aspect="result", where=path, airflow=a, prefect=b)
            for path, a, b in deep_diff(left, right, "result", parity.float_tolerance)
        ]
    if "files" in aspects:
        diffs += _compare_files(parity, airflow, prefect)
    if "messages" in aspects:
        left, right = normalise(airflow.messages, parity), normalise(prefect.messages, parity)
        diffs += [
            Difference(aspect="messages", where=path, airflow=a, prefect=b)
            for path, a, b in deep_diff(left, right, "messages", parity.float_tolerance)
        ]
    return Verdict(status="mismatch" if diffs else "parity", differences=diffs, measures=measures)


def _compare_error_kinds(airflow: SideReport, prefect: SideReport) -> list[Difference]:
    """Refused on purpose, failed while running and succeeded are three different answers to the same input."""
    kinds = {e: (r.error.kind if r.error else "none") for e, r in (("airflow", airflow), ("prefect", prefect))}
    if kinds["airflow"] == kinds["prefect"]:
        return []
    words = {"none": "no error", "refused": "refused the input", "run_error": "failed while running"}
    said = {engine: words.get(kind, kind) for engine, kind in kinds.items()}
    note = f"airflow {said['airflow']}, prefect {said['prefect']}"
    return [Difference(aspect="error", where="run", airflow=kinds["airflow"], prefect=kinds["prefect"], note=note)]


def _is_instance_of(name: str, pattern: str) -> bool:
    """`query` matches the task and its mapped instances `query[0]`, `query[1]`...; other patterns are globs."""
    return (
        name == pattern or (name.startswith(f"{pattern}[") and name.endswith("]")) or fnmatch.fnmatchcase(name, pattern)
    )


def _one_engine_only(expect: Expectation, name: str) -> bool:
    """The case declares the task failing on one engine only (an errors entry with null for the other)."""
    return any(
        isinstance(w, dict) and None in w.values() and _is_instance_of(name, p) for p, w in expect.errors.items()
    )


def _task_seconds(report: SideReport, task: str) -> float | None:
    found = report.tasks.get(task)
    if found is None or found.started_at is None or found.ended_at is None:
        return None
    return round((found.ended_at - found.started_at).total_seconds(), 3)


def _retry_wait(report: SideReport, task: str) -> float | None:
    found = report.tasks.get(task)
    return found.retry_wait_seconds if found else None


def max_overlap(report: SideReport, pattern: str) -> int:
    """The most tasks matching `pattern` that were running at the same instant (from start and end times)."""
    events: list[tuple[Any, int]] = []
    for name, task in report.tasks.items():
        if _is_instance_of(name, pattern) and task.started_at and task.ended_at:
            events += [(task.started_at, 1), (task.ended_at, -1)]
    running = peak = 0
    for _, change in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
        running += change
        peak = max(peak, running)
    return peak


def outcome_of(report: SideReport, task: str, declared: Outcome | None = None) -> Outcome:
    """A task absent from a report never ran: Prefect only knows about tasks the flow called. Absent from a run that
    succeeded, the flow chose not to call it (skipped_by_rule). Absent from a run that failed, the failure stopped it
    (upstream_failed), unless the case declares it skipped_by_rule: a branch decided against it before the failure,
    which a Prefect run records nowhere (Airflow's state says it, and is checked against the same declaration)."""
    found = report.tasks.get(task)
    if found is not None:
        return found.outcome
    failed = report.run_state is RunState.FAILED
    if failed and declared is Outcome.SKIPPED_BY_RULE:
        return Outcome.SKIPPED_BY_RULE
    return never_called(run_failed=failed)


def _check_expectation(expect: Expectation, parity: Parity, sides: dict[str, SideReport]) -> list[Difference]:
    """The recipe's declared outcome, checked on each side: two sides wrong the same way is no parity."""
    diffs = []
    for engine, report in sides.items():
        if expect.run_state is not None and report.run_state != expect.run_state:
            note = f"expected the run to end {expect.run_state}, it ended {report.run_state}"
            diffs.append(_unmet(engine, "run", report.run_state, note))
        diffs += _check_refusal(expect, engine, report)
        diffs += _check_errors(expect, parity, engine, report)
        for task in expect.tasks:
            wanted = expect.outcome_for(task, engine)  # type: ignore[arg-type]
            if (got := outcome_of(report, task, wanted)) != wanted:
                diffs.append(_unmet(engine, f"tasks.{task}", got, f"expected {task} {wanted}, it was {got}"))
        for task, attempts in expect.attempts.items():
            found = report.tasks.get(task)
            if (took := found.attempts if found else 0) != attempts:
                note = f"expected {task} to take {attempts} attempt(s), it took {took}"
                diffs.append(_unmet(engine, f"attempts.{task}", took, note))
        diffs += _check_messages(expect, parity, engine, report)
        diffs += _check_result(expect, parity, engine, report)
        diffs += _check_files(expect, engine, report)
        wanted_states = expect.passed_through.get(engine)  # type: ignore[call-overload]
        if wanted_states and not _is_subsequence(wanted_states, report.states):
            went = " -> ".join(report.states) or "no recorded states"
            note = f"expected the run to pass through {' -> '.join(wanted_states)}; it went {went}"
            diffs.append(_unmet(engine, "states", report.states, note))
    return diffs


def _check_refusal(expect: Expectation, engine: str, report: SideReport) -> list[Difference]:
    refused = report.error is not None and report.error.kind == "refused"
    if expect.refused is None:
        if refused:
            assert report.error is not None
            return [_unmet(engine, "refused", report.error.message, f"refused the input: {report.error.message}")]
        return []
    text = expect.refused if isinstance(expect.refused, str) else expect.refused.get(engine)  # type: ignore[call-overload]
    if not refused:
        return [_unmet(engine, "refused", None, "expected the input to be refused before any task ran; it was not")]
    assert report.error is not None
    if text and text.lower() not in report.error.message.lower():
        return [
            _unmet(engine, "refused", report.error.message, f"refused, but not for {text!r}: {report.error.message}")
        ]
    ran = [name for name, task in report.tasks.items() if not task.outcome.never_ran]
    if ran:
        return [_unmet(engine, "refused", ran, f"refused, yet tasks ran: {', '.join(ran)}")]
    return []


def _check_errors(expect: Expectation, parity: Parity, engine: str, report: SideReport) -> list[Difference]:
    """Each declared failure happened with its class, and no task failed that the case does not declare."""
    diffs = []
    failed = {
        name: task
        for name, task in report.tasks.items()
        if task.outcome is Outcome.FAILED and name not in parity.ignore_tasks
    }
    for pattern in expect.errors:
        wanted = expect.error_for(pattern, engine)  # type: ignore[arg-type]
        if wanted is None:
            for name in (n for n in failed if _is_instance_of(n, pattern)):
                note = f"{name} failed ({failed[name].error_type}), which the case says it does not on this engine"
                diffs.append(_unmet(engine, f"errors.{name}", failed[name].error_type, note))
            continue
        matching = {name: task for name, task in failed.items() if _is_instance_of(name, pattern)}
        if not matching:
            diffs.append(
                _unmet(engine, f"errors.{pattern}", None, f"expected {pattern} to fail with {wanted}; it did not fail")
            )
        for name, task in matching.items():
            expected_type = None if wanted == UNRECORDED else error_type(wanted)
            if task.error_type != expected_type:
                note = f"expected {name} to fail with {wanted}, it failed with {task.error_type or 'an unknown error'}"
                diffs.append(_unmet(engine, f"errors.{name}", task.error_type, note))
    for name, task in failed.items():
        if not any(_is_instance_of(name, pattern) for pattern in expect.errors):  # a null one is reported above
            note = (
                f"{name} failed ({task.error or task.error_type or task.engine_state}), which the case does not expect"
            )
            diffs.append(_unmet(engine, f"errors.{name}", task.error_type, note))
    return diffs


def _check_messages(expect: Expectation, parity: Parity, engine: str, report: SideReport) -> list[Difference]:
    diffs = []
    for hook, wanted in expect.messages.items():
        sent = report.messages.get(hook, [])
        if isinstance(wanted, int):
            if len(sent) != wanted:
                diffs.append(
                    _unmet(
                        engine,
                        f"messages.{hook}",
                        len(sent),
                        f"expected {wanted} message(s) on {hook}, it sent {len(sent)}",
                    )
                )
            continue
        if len(sent) != len(wanted):
            diffs.append(
                _unmet(
                    engine,
                    f"messages.{hook}",
                    len(sent),
                    f"expected {len(wanted)} message(s) on {hook}, it sent {len(sent)}",
                )
            )
            continue
        for index, (want, got) in enumerate(zip(wanted, sent, strict=True)):
            for path, missing in _not_contained(want, normalise(got, parity), f"messages.{hook}[{index}]"):
                diffs.append(_unmet(engine, path, missing, f"{path}: expected {_brief(want)}, got {_brief(missing)}"))
    return diffs


def _check_result(expect: Expectation, parity: Parity, engine: str, report: SideReport) -> list[Difference]:
    got = normalise(report.result, parity)
    diffs = []
    if expect.expects_result:
        for path, found, wanted in deep_diff(got, normalise(expect.result, parity), "result", parity.float_tolerance):
            diffs.append(_unmet(engine, path, found, f"{path}: expected {_brief(wanted)}, got {_brief(found)}"))
    if expect.result_subset is not None:
        for path, found in _not_contained(
            normalise(expect.result_subset, parity), got, "result", parity.float_tolerance
        ):
            diffs.append(_unmet(engine, path, found, f"{path}: not the expected value, got {_brief(found)}"))
    return diffs


def _check_files(expect: Expectation, engine: str, report: SideReport) -> list[Difference]:
    diffs = []
    for path, wanted in expect.files.items():
        record = report.files.get(path)
        if wanted is None:
            if record is not None:
                diffs.append(_unmet(engine, f"files.{path}", "written", f"{path} must not be written; it was"))
            continue
        if record is None:
            diffs.append(_unmet(engine, f"files.{path}", "missing", f"expected {path} to be written; it was not"))
            continue
        digest = wanted.sha256 or (
            hashlib.sha256(wanted.text.encode()).hexdigest() if wanted.text is not None else None
        )
        if digest is not None and record.sha256 != digest:
            diffs.append(
                _unmet(
                    engine,
                    f"files.{path}",
                    record.preview or record.sha256[:12],
                    f"{path}: content differs from the expected",
                )
            )
        for fragment in wanted.contains:
            if record.preview is None:
                diffs.append(
                    _unmet(
                        engine,
                        f"files.{path}",
                        record.size,
                        f"{path}: too large or binary to check for {fragment!r}; use sha256",
                    )
                )
            elif fragment not in record.preview:
                diffs.append(_unmet(engine, f"files.{path}", record.preview, f"{path} does not contain {fragment!r}"))
    return diffs


def _not_contained(want: Any, got: Any, path: str, tolerance: float = 0.0) -> list[tuple[str, Any]]:
    """Where `want` is not a JSON subset of `got`: dict keys it names, list items position by position."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [(path, got)]
        found = []
        for key, value in want.items():
            if key not in got:
                found.append((f"{path}.{key}", "<absent>"))
            else:
                found += _not_contained(value, got[key], f"{path}.{key}", tolerance)
        return found
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [(path, got)]
        return [
            item
            for i, (w, g) in enumerate(zip(want, got, strict=True))
            for item in _not_contained(w, g, f"{path}[{i}]", tolerance)
        ]
    return [(path, got)] if deep_diff(want, got, path, tolerance) else []


def _is_subsequence(wanted: list[str], states: list[str]) -> bool:
    remaining = iter(states)
    return all(any(state == want for state in remaining) for want in wanted)


def _brief(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _outside(
    label: str, measured: dict[str, float | None], bounds: RetryWait, did: str, unrecorded: str, what: str = ""
) -> list[Difference]:
    """A measure in seconds, per engine, against its bounds: one difference per engine outside them or unmeasured."""
    diffs = []
    for engine, seconds in measured.items():
        if seconds is None or not bounds.at_least <= seconds <= bounds.at_most:
            said = unrecorded if seconds is None else f"{did} {seconds:g} s"
            note = f"{said}, expected {bounds.at_least:g}..{bounds.at_most:g} s{what}"
            diffs.append(_unmet(engine, label, seconds, note))
    return diffs


def _unmet(engine: str, where: str, got: Any, note: str) -> Difference:
    return Difference(aspect="expectation", where=where, note=f"{engine}: {note}", **{engine: got})


def _compare_tasks(
    parity: Parity, expect: Expectation, airflow: SideReport, prefect: SideReport, *, check_attempts: bool
) -> list[Difference]:
    diffs = []
    names = sorted((set(airflow.tasks) | set(prefect.tasks)) - set(parity.ignore_tasks))
    for name in names:
        if _one_engine_only(expect, name):
            continue  # each side was checked against its own declaration
        if isinstance(expect.tasks.get(name), dict):
            continue  # an outcome per engine: each side was held to its own
        declared = expect.outcome_for(name, "airflow")
        a, b = outcome_of(airflow, name, declared), outcome_of(prefect, name, declared)
        if a != b:
            diffs.append(Difference(aspect="tasks", where=name, airflow=a, prefect=b))
            continue
        # Where the case names a class per engine, each side was checked against its own; otherwise they must agree.
        per_engine = any(not isinstance(w, str) and _is_instance_of(name, p) for p, w in expect.errors.items())
        if a is Outcome.FAILED and not per_engine:
            kinds = airflow.tasks[name].error_type, prefect.tasks[name].error_type
            if kinds[0] != kinds[1]:
                said = [kind or "an unknown error" for kind in kinds]
                note = f"failed with {said[0]} on Airflow, {said[1]} on Prefect"
                diffs.append(Difference(aspect="error", where=name, airflow=kinds[0], prefect=kinds[1], note=note))
        if check_attempts and not a.never_ran:
            tries_a, tries_b = airflow.tasks[name].attempts, prefect.tasks[name].attempts
            if tries_a != tries_b:
                diffs.append(Difference(aspect="attempts", where=name, airflow=tries_a, prefect=tries_b))
    return diffs


def _compare_files(parity: Parity, airflow: SideReport, prefect: SideReport) -> list[Difference]:
    def kept(report: SideReport) -> dict[str, str]:
        return {
            path: record.sha256
            for path, record in report.files.items()
            if not any(fnmatch.fnmatch(path, pattern) for pattern in parity.ignore_files)
        }

    left, right = kept(airflow), kept(prefect)
    diffs = []
    for path in sorted(set(left) | set(right)):
        if path not in left or path not in right:
            diffs.append(
                Difference(
                    aspect="files",
                    where=path,
                    airflow="written" if path in left else "missing",
                    prefect="written" if path in right else "missing",
                )
            )
        elif left[path] != right[path]:
            diffs.append(
                Difference(
                    aspect="files",
                    where=path,
                    airflow=airflow.files[path].preview or left[path][:12],
                    prefect=prefect.files[path].preview or right[path][:12],
                    note="contents differ",
                )
            )
    return diffs


def normalise(value: Any, parity: Parity) -> Any:
    """Drop ignored keys at any depth; with `unordered_lists`, sort every list into a canonical order."""
    if isinstance(value, dict):
        return {k: normalise(v, parity) for k, v in value.items() if k not in parity.ignore_keys}
    if isinstance(value, list):
        items = [normalise(v, parity) for v in value]
        if parity.unordered_lists:
            items.sort(key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return items
    return value


def deep_diff(left: Any, right: Any, path: str, tolerance: float = 0.0) -> list[tuple[str, Any, Any]]:
    """Paths at which two JSON values differ; numbers within `tolerance` of each other are equal."""
    if _is_number(left) and _is_number(right):
        close = math.isclose(left, right, rel_tol=0.0, abs_tol=tolerance) if tolerance else left == right
        return [] if close else [(path, left, right)]
    if type(left) is not type(right):
        return [(path, left, right)]
    if isinstance(left, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            sub = f"{path}.{key}"
            if key not in left or key not in right:
                found.append((sub, left.get(key, "<absent>"), right.get(key, "<absent>")))
            else:
                found += deep_diff(left[key], right[key], sub, tolerance)
        return found
    if isinstance(left, list):
        if len(left) != len(right):
            return [(f"{path}[len]", len(left), len(right))]
        found = []
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found += deep_diff(a, b, f"{path}[{index}]", tolerance)
        return found
    return [] if left == right else [(path, left, right)]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


__all__ = [
    "ENGINES",
    "STATUS_WORDS",
    "Difference",
    "Status",
    "Verdict",
    "compare",
    "deep_diff",
    "normalise",
    "outcome_of",
]
