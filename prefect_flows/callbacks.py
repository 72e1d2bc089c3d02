"""Callbacks in Prefect: task and flow state change hooks (on_running, on_completion, on_failure), and a retry
hook built on retry_condition_fn, since Prefect has no on_retry hook.

`load` fails on its first `fail_times` runs and has one retry. Every hook appends one line to `hooks.log` in the
working directory, so a run leaves a record of which hooks fired, in what order, for which run of the task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from prefect import Flow, Task, flow, task
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.runtime import task_run as current_task_run
from prefect.states import State
from pydantic import Field

# Hooks run client-side, in the process that runs the flow, in its working directory.
HOOK_LOG = Path("hooks.log")


# [START callbacks_functions]
def record(line: str) -> None:
    with HOOK_LOG.open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def describe(state: State) -> str:
    # A failed state holds the exception; result() hands it back instead of raising it.
    error = state.result(raise_on_failure=False)
    return f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(state.message)


# Task hooks get (task, task_run, state); run_count is the attempt, as Airflow's try_number.
def on_running(task: Task, task_run: TaskRun, state: State) -> None:
    # Fires before the body of every attempt: state Running first, then Retrying.
    record(f"{task.name}: execute (try {task_run.run_count})")


def on_retry(task: Task, task_run: TaskRun, state: State) -> bool:
    # Not a hook: retry_condition_fn, which the engine calls when an attempt fails and retries are left, the
    # moment Airflow calls on_retry_callback. It must say whether to retry: always, as in the DAG.
    record(f"{task.name}: retry (try {task_run.run_count}) {describe(state)}")
    return True


def on_completion(task: Task, task_run: TaskRun, state: State) -> None:
    record(f"{task.name}: success (try {task_run.run_count})")


def on_failure(task: Task, task_run: TaskRun, state: State) -> None:
    # Only the final failure: a failed attempt that will be retried never enters a Failed state.
    record(f"{task.name}: failure (try {task_run.run_count}) {describe(state)}")


# Flow hooks get (flow, flow_run, state) and run once the flow run's state is final.
def on_flow_completion(flow: Flow, flow_run: FlowRun, state: State) -> None:
    record(f"{flow.name}: run success")


def on_flow_failure(flow: Flow, flow_run: FlowRun, state: State) -> None:
    record(f"{flow.name}: run failure")


# [END callbacks_functions]


# [START callbacks_flow]
# Airflow's default_args, spelled out once and given to every task.
TASK_DEFAULTS: dict[str, Any] = {
    "retries": 1,
    "retry_delay_seconds": 1,
    "on_running": [on_running],
    "retry_condition_fn": on_retry,
    "on_completion": [on_completion],
    "on_failure": [on_failure],
}


@task(**TASK_DEFAULTS)
def extract() -> list[int]:
    return [3, 1, 2]


@task(**TASK_DEFAULTS)
def load(rows: list[int], fail_times: int) -> int:
    attempt = current_task_run.run_count
    if attempt <= fail_times:
        raise ConnectionError(f"warehouse connection reset on try {attempt}")
    return len(rows)


@task(**TASK_DEFAULTS)
def report(loaded: int) -> dict[str, int]:
    return {"loaded": loaded}


@flow(name="callbacks", on_completion=[on_flow_completion], on_failure=[on_flow_failure])
def callbacks(fail_times: Annotated[int, Field(ge=0)] = 0) -> dict[str, int]:
    return report(load(extract(), fail_times))


# [END callbacks_flow]


if __name__ == "__main__":
    print(callbacks())
