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
        return Outcome.SKIPPED if ran else Outcome.NOT_RUN
    if state in ("upstream_failed", "removed", "None"):
        return Outcome.NOT_RUN
    return Outcome.UNFINISHED


def prefect_outcome(state_type: str, state_name: str) -> Outcome:
    """Prefect has no skipped state type: a Completed state *named* "Skipped" is the cookbook's convention."""
    if state_type == "COMPLETED":
        return Outcome.SKIPPED if state_name == "Skipped" else Outcome.SUCCESS
    if state_type in ("FAILED", "CRASHED"):
        return Outcome.FAILED
    if state_name == "NotReady" or state_type == "CANCELLED":
        return Outcome.NOT_RUN
    return Outcome.UNFINISHED


def prefect_task_name(run_name: str) -> str:
    """The task's name, from a task run's default name."""
    match = _RUN_NAME_SUFFIX.match(run_name)
    return match["name"] if match else run_name
