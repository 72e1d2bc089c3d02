"""Each engine's task states in the report's shared vocabulary.

No engine is imported here: the in-process workers and the stack compare (which reads both engines over HTTP) map
states the same way, with the same words.
"""

from __future__ import annotations

import re

from cookbook.report import Outcome

# Prefect 3.8 names a task run `<task name>-<3 characters of a random key>`.
_RUN_NAME_SUFFIX = re.compile(r"^(?P<name>.+)-[0-9a-f]{3}$")


def airflow_outcome(state: str, *, ran: bool) -> Outcome:
    """`ran`: whether the task instance executed; Airflow's `skipped` alone does not say (a soft fail vs a rule)."""
    if state == "success":
        return Outcome.SUCCESS
    if state == "failed":
        return Outcome.FAILED
    if state == "skipped":
        return Outcome.SKIPPED if ran else Outcome.SKIPPED_BY_RULE
    if state == "upstream_failed":
        return Outcome.UPSTREAM_FAILED
    if state == "removed":
        return Outcome.SKIPPED_BY_RULE
    return Outcome.UNFINISHED


def prefect_outcome(state_type: str, state_name: str) -> Outcome:
    """Prefect has no skipped state type: a Completed state *named* "Skipped" is the cookbook's convention."""
    if state_type == "COMPLETED":
        return Outcome.SKIPPED if state_name == "Skipped" else Outcome.SUCCESS
    if state_type in ("FAILED", "CRASHED"):
        return Outcome.FAILED
    if state_name == "NotReady":  # an upstream future it waits for failed
        return Outcome.UPSTREAM_FAILED
    if state_type == "CANCELLED":
        return Outcome.SKIPPED_BY_RULE
    return Outcome.UNFINISHED


def never_called(run_failed: bool) -> Outcome:
    """A task a Prefect flow run never called: the run's failure stopped it, or the flow chose not to call it."""
    return Outcome.UPSTREAM_FAILED if run_failed else Outcome.SKIPPED_BY_RULE


# How a Prefect flow run that the engine refused to start begins its message: its parameters failed validation.
PARAMETERS_REFUSED = "Validation of flow parameters failed"

# The engines' own ways of saying "it took too long", which a translation maps onto each other.
TIMEOUT = "timeout"
_TIMEOUT_CLASSES = {"AirflowTaskTimeout", "AirflowSensorTimeout", "TimeoutError", "TaskRunTimeoutError"}
_PREFECT_EXCEPTION = re.compile(r"encountered an exception:? (?P<cls>[A-Za-z_][\w.]*)(?::|$)")


def error_type(class_name: str) -> str:
    """A failure's class as the report compares it: the exception's class name, or `timeout` for any timeout."""
    name = class_name.rsplit(".", 1)[-1]
    return TIMEOUT if name in _TIMEOUT_CLASSES else name


def prefect_error_type(state_name: str, message: str | None) -> str | None:
    """The class of a failed Prefect task run's exception, from its state (the API keeps the message, not the
    exception): "Task run encountered an exception ValueError: ..." -> ValueError; a TimedOut state -> timeout."""
    if state_name == "TimedOut":
        return TIMEOUT
    if state_name == "Crashed":
        return "crash"
    match = _PREFECT_EXCEPTION.search(message or "")
    return error_type(match["cls"]) if match else None


def prefect_task_name(run_name: str) -> str:
    """The task's name, from a task run's default name."""
    match = _RUN_NAME_SUFFIX.match(run_name)
    return match["name"] if match else run_name
