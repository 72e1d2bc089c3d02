"""Callbacks in Prefect: task and flow state change hooks (on_running, on_completion, on_failure), and a retry
hook built on retry_condition_fn, since Prefect has no on_retry hook.

`extract` GETs the day's rows from the source API (`source_api_url`, with the token kept in the Secret block
`source-api-token`), `load` writes them to `<warehouse_dir>/rows.json` and `report` sums up. Every task has one
retry. Every hook appends one line to `hooks.log` in the working directory, so a run leaves a record of which hooks
fired, in what order, for which run of the task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from prefect import Flow, Task, flow, get_run_logger, task
from prefect.blocks.system import Secret
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.states import State

# Hooks run client-side, in the process that runs the flow, in its working directory.
HOOK_LOG = Path("hooks.log")
SOURCE_TOKEN_BLOCK = "source-api-token"
SOURCE_API_URL = "https://source.example.com"
WAREHOUSE_DIR = "/srv/warehouse/rows"


# [START callbacks_functions]
def record(line: str) -> None:
    with HOOK_LOG.open("a", encoding="utf-8") as hook_log:
        hook_log.write(line + "\n")


def describe(state: State) -> str:
    # A failed state holds the exception; result() hands it back instead of raising it. The class only: an HTTP
    # error's message names the API's host and port, which differ between environments.
    error = state.result(raise_on_failure=False)
    return type(error).__name__ if isinstance(error, BaseException) else str(state.message)


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
def extract(source_api_url: str) -> list[int]:
    token = Secret.load(SOURCE_TOKEN_BLOCK).get()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=source_api_url, headers=headers, timeout=10) as client:
        response = client.get("/data")
    response.raise_for_status()  # a 503 fails this attempt: retry_condition_fn, then the retry
    return response.json()["rows"]


@task(**TASK_DEFAULTS)
def load(rows: list[int], warehouse_dir: str) -> int:
    target = Path(warehouse_dir) / "rows.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(rows) + "\n", encoding="utf-8")
    get_run_logger().info("loaded %d rows into %s", len(rows), target)
    return len(rows)


@task(**TASK_DEFAULTS)
def report(loaded: int) -> dict[str, int]:
    return {"loaded": loaded}


@flow(name="callbacks", on_completion=[on_flow_completion], on_failure=[on_flow_failure])
def callbacks(source_api_url: str = SOURCE_API_URL, warehouse_dir: str = WAREHOUSE_DIR) -> dict[str, int]:
    """Extract the day's rows from the source API, load them into `warehouse_dir` and report how many.

    Each task is retried once, 1 s later; its hooks record every start, retry, success and final failure in
    `hooks.log`, and the flow's hooks the run's outcome.
    """
    return report(load(extract(source_api_url), warehouse_dir))


# [END callbacks_flow]


if __name__ == "__main__":
    callbacks.serve(name="callbacks")
