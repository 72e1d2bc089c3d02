"""Callbacks in Airflow 3: task-level on_execute / on_retry / on_success / on_failure callbacks, and DAG-level
on_success / on_failure callbacks.

`extract` GETs the day's rows from the source API (`source_api_url`, with the token that is the password of the
connection `source_api`), `load` writes them to `<warehouse_dir>/rows.json` and `report` sums up. Every task has
one retry. Every callback appends one line to `hooks.log` in the working directory, so a run leaves a record of
which callbacks fired, in what order, for which try.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from airflow.sdk import DAG, BaseHook, Context, Param, task

# Relative on purpose: under dag.test() every callback runs in the process that runs the DAG, in its working
# directory. In a deployment the task callbacks run on the worker and the DAG callbacks in the DAG processor.
HOOK_LOG = Path("hooks.log")
SOURCE_CONN_ID = "source_api"
SOURCE_API_URL = "https://source.example.com"
WAREHOUSE_DIR = "/srv/warehouse/rows"
log = logging.getLogger(__name__)


# [START callbacks_functions]
def record(line: str) -> None:
    with HOOK_LOG.open("a", encoding="utf-8") as hook_log:
        hook_log.write(line + "\n")


def describe(error: BaseException | str | None) -> str:
    # The class only: an HTTP error's message names the API's host and port, which differ between environments.
    return type(error).__name__ if isinstance(error, BaseException) else str(error)


# Task callbacks get the task's context: ti (with try_number), and `exception` on retry and failure.
def on_execute(context: Context) -> None:
    ti = context["ti"]
    record(f"{ti.task_id}: execute (try {ti.try_number})")


def on_retry(context: Context) -> None:
    ti = context["ti"]
    record(f"{ti.task_id}: retry (try {ti.try_number}) {describe(context['exception'])}")


def on_success(context: Context) -> None:
    ti = context["ti"]
    record(f"{ti.task_id}: success (try {ti.try_number})")


def on_failure(context: Context) -> None:
    ti = context["ti"]
    record(f"{ti.task_id}: failure (try {ti.try_number}) {describe(context['exception'])}")


# DAG callbacks run once per run, after its state is final; the context is that of the last task to finish
# (or to fail), plus a `reason`.
def on_dag_success(context: Context) -> None:
    record(f"{context['dag'].dag_id}: run success")


def on_dag_failure(context: Context) -> None:
    record(f"{context['dag'].dag_id}: run failure")


# [END callbacks_functions]


# [START callbacks_dag]
with DAG(
    dag_id="callbacks",
    schedule=None,
    # Defaults, even for inputs every run passes: dag.test() builds the DAG callbacks' context from the Params
    # without the run's conf, and a Param with no default fails that with ParamValidationError (Airflow 3.3.2).
    params={
        "source_api_url": Param(SOURCE_API_URL, type="string", description="Base URL of the rows' API."),
        "warehouse_dir": Param(WAREHOUSE_DIR, type="string", description="Directory the rows are loaded into."),
    },
    # Task callbacks, for every task of the DAG. Each accepts one callable or a list.
    default_args={
        "retries": 1,
        "retry_delay": timedelta(seconds=1),
        "on_execute_callback": on_execute,
        "on_retry_callback": on_retry,
        "on_success_callback": on_success,
        "on_failure_callback": on_failure,
    },
    # DAG callbacks: not in default_args (there they would become task callbacks), on the DAG itself.
    on_success_callback=on_dag_success,
    on_failure_callback=on_dag_failure,
    tags=["cookbook"],
) as dag:

    @task
    def extract(**context: Any) -> list[int]:
        token = BaseHook.get_connection(SOURCE_CONN_ID).password
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=context["params"]["source_api_url"], headers=headers, timeout=10) as client:
            response = client.get("/data")
        response.raise_for_status()  # a 503 fails this try: on_retry_callback, then the retry
        return response.json()["rows"]

    @task
    def load(rows: list[int], **context: Any) -> int:
        target = Path(context["params"]["warehouse_dir"]) / "rows.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rows) + "\n", encoding="utf-8")
        log.info("loaded %d rows into %s", len(rows), target)
        return len(rows)

    @task
    def report(loaded: int) -> dict[str, int]:
        return {"loaded": loaded}

    report(load(extract()))
# [END callbacks_dag]
