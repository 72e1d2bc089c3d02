"""Timeouts in Airflow 3: execution_timeout on a task, retried like any other failure, and dagrun_timeout on the
DAG, which only the scheduler enforces.

`export` writes `batches` lines to `out/export.csv`, one every `seconds_per_batch` on its first `slow_tries` tries
and quickly after that; past its execution_timeout it is interrupted and removes its partial file. `publish` turns
the export's summary into the run's result. Every try is written to `out/attempts.log`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

FAST_BATCH_SECONDS = 0.05
EXPORT = Path("out/export.csv")
JOURNAL = Path("out/attempts.log")


def journal(line: str) -> None:
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


# [START timeouts_dag]
with DAG(
    dag_id="timeouts",
    schedule=None,
    # The whole run may take 10 minutes. Only the scheduler checks this (and marks the tasks still unfinished as
    # skipped): dag.test() never does, so no case here can show it.
    dagrun_timeout=timedelta(minutes=10),
    params={
        "batches": Param(8, type="integer", minimum=1),
        "seconds_per_batch": Param(0.5, type="number", minimum=0),
        "slow_tries": Param(0, type="integer", minimum=0, description="Tries that run at seconds_per_batch."),
    },
    tags=["cookbook"],
) as dag:

    @task(
        # Raised as AirflowTaskTimeout inside the task (a SIGALRM in the task's main thread), then retried.
        execution_timeout=timedelta(seconds=2),
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    def export(**context: Any) -> dict[str, Any]:
        attempt, params = context["ti"].try_number, context["params"]
        pause = params["seconds_per_batch"] if attempt <= params["slow_tries"] else FAST_BATCH_SECONDS
        journal(f"export try {attempt}: started")
        partial = EXPORT.with_suffix(".tmp")
        try:
            with partial.open("w", encoding="utf-8") as f:
                for batch in range(params["batches"]):
                    time.sleep(pause)  # a query, an upload: something that may take too long
                    f.write(f"batch-{batch}\n")
            partial.replace(EXPORT)
        except BaseException:
            # The timeout is an exception raised wherever the task happens to be: clean up, then let it through.
            partial.unlink(missing_ok=True)
            journal(f"export try {attempt}: interrupted, partial file removed")
            raise
        journal(f"export try {attempt}: done")
        return {"file": str(EXPORT), "batches": params["batches"]}

    @task
    def publish(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "published": True}

    publish(export())
# [END timeouts_dag]
