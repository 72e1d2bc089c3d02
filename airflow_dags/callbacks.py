"""Callbacks in Airflow 3: task-level on_execute / on_retry / on_success / on_failure callbacks, and DAG-level
on_success / on_failure callbacks.

`load` fails on its first `fail_times` tries and has one retry. Every callback appends one line to `hooks.log`
in the working directory, so a run leaves a record of which callbacks fired, in what order, for which try.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from airflow.sdk import DAG, Context, Param, task

# Relative on purpose: under dag.test() every callback runs in the process that runs the DAG, in its working
# directory. In a deployment the task callbacks run on the worker and the DAG callbacks in the DAG processor.
HOOK_LOG = Path("hooks.log")


# [START callbacks_functions]
def record(line: str) -> None:
    with HOOK_LOG.open("a", encoding="utf-8") as log:
        log.write(line + "\n")


def describe(error: BaseException | str | None) -> str:
    return f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)


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
    params={"fail_times": Param(0, type="integer", minimum=0, description="How many tries of `load` fail.")},
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
    def extract() -> list[int]:
        return [3, 1, 2]

    @task
    def load(rows: list[int], params: dict | None = None, ti=None) -> int:
        assert params is not None and ti is not None
        if ti.try_number <= params["fail_times"]:
            raise ConnectionError(f"warehouse connection reset on try {ti.try_number}")
        return len(rows)

    @task
    def report(loaded: int) -> dict[str, int]:
        return {"loaded": loaded}

    report(load(extract()))
# [END callbacks_dag]
