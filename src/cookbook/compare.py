"""Compare what the two sides produced for one case, after the recipe's normalisation."""

from __future__ import annotations

import fnmatch
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, Field

from cookbook.recipe import Expectation, Parity
from cookbook.report import ENGINES, Outcome, SideReport

Where = Literal["execution", "expectation", "run_state", "tasks", "attempts", "result", "files", "messages"]


class Difference(BaseModel):
    aspect: Where
    where: str
    airflow: Any = None
    prefect: Any = None
    note: str = ""


class Verdict(BaseModel):
    parity: bool
    differences: list[Difference]
    # What was measured on each side for an expectation that bounds a measure (e.g. the maximum overlap).
    measures: dict[str, dict[str, Any]] = Field(default_factory=dict)


def compare(parity: Parity, expect: Expectation, airflow: SideReport, prefect: SideReport) -> Verdict:
    sides = {"airflow": airflow, "prefect": prefect}
    diffs: list[Difference] = []
    for engine, report in sides.items():
        if not report.executed:
            error = report.error
            note = f"{error.kind}: {error.message}" if error else "did not run"
            diffs.append(Difference(aspect="execution", where=engine, note=note, **{engine: note}))
    if diffs:
        return Verdict(parity=False, differences=diffs)

    diffs += _check_expectation(expect, sides)
    measures: dict[str, dict[str, Any]] = {}
    if expect.max_overlap is not None:
        bound = expect.max_overlap
        label = f"max overlap of {bound.tasks}"
        measures[label] = {engine: max_overlap(report, bound.tasks) for engine, report in sides.items()}
        for engine, measured in measures[label].items():
            if not bound.at_least <= measured <= bound.at_most:
                note = f"{measured} of {bound.tasks} ran at once, expected {bound.at_least}..{bound.at_most}"
                diffs.append(_unmet(engine, label, measured, note))
    aspects = set(parity.compare)
    if "run_state" in aspects and airflow.run_state != prefect.run_state:
        diffs.append(Difference(aspect="run_state", where="run", airflow=airflow.run_state, prefect=prefect.run_state))
    if "tasks" in aspects or "attempts" in aspects:
        diffs += _compare_tasks(parity, airflow, prefect, check_attempts="attempts" in aspects)
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
    return Verdict(parity=not diffs, differences=diffs, measures=measures)


def _is_instance_of(name: str, pattern: str) -> bool:
    """`query` matches the task and its mapped instances `query[0]`, `query[1]`...; other patterns are globs."""
    return (
        name == pattern or (name.startswith(f"{pattern}[") and name.endswith("]")) or fnmatch.fnmatchcase(name, pattern)
    )


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


def outcome_of(report: SideReport, task: str) -> Outcome:
    """A task absent from a report never ran: Prefect only knows about tasks the flow called."""
    found = report.tasks.get(task)
    return found.outcome if found else Outcome.NOT_RUN


def _check_expectation(expect: Expectation, sides: dict[str, SideReport]) -> list[Difference]:
    """The recipe's declared outcome, checked on each side: two sides wrong the same way is no parity."""
    diffs = []
    for engine, report in sides.items():
        if expect.run_state is not None and report.run_state != expect.run_state:
            note = f"expected the run to end {expect.run_state}, it ended {report.run_state}"
            diffs.append(_unmet(engine, "run", report.run_state, note))
        for task, wanted in expect.tasks.items():
            if (got := outcome_of(report, task)) != wanted:
                diffs.append(_unmet(engine, f"tasks.{task}", got, f"expected {task} {wanted}, it was {got}"))
        for hook, count in expect.messages.items():
            if (sent := len(report.messages.get(hook, []))) != count:
                note = f"expected {count} message(s) on {hook}, it sent {sent}"
                diffs.append(_unmet(engine, f"messages.{hook}", sent, note))
        for task, attempts in expect.attempts.items():
            found = report.tasks.get(task)
            if (took := found.attempts if found else 0) != attempts:
                note = f"expected {task} to take {attempts} attempt(s), it took {took}"
                diffs.append(_unmet(engine, f"attempts.{task}", took, note))
    return diffs


def _unmet(engine: str, where: str, got: Any, note: str) -> Difference:
    return Difference(aspect="expectation", where=where, note=f"{engine}: {note}", **{engine: got})


def _compare_tasks(
    parity: Parity, airflow: SideReport, prefect: SideReport, *, check_attempts: bool
) -> list[Difference]:
    diffs = []
    names = sorted((set(airflow.tasks) | set(prefect.tasks)) - set(parity.ignore_tasks))
    for name in names:
        a, b = outcome_of(airflow, name), outcome_of(prefect, name)
        if a != b:
            diffs.append(Difference(aspect="tasks", where=name, airflow=a, prefect=b))
        elif check_attempts and a is not Outcome.NOT_RUN:
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


__all__ = ["ENGINES", "Difference", "Verdict", "compare", "deep_diff", "normalise", "outcome_of"]
