"""Timeouts in Airflow 3: execution_timeout on a task, retried like any other failure, and dagrun_timeout on the
DAG, which only the scheduler enforces.

`export` asks the reports API for the day's report (the connection `reports_api`: its host is the API's base URL,
its password the bearer token) and writes its rows to `out/export.csv`. The API may be slow to answer; past its
execution_timeout the task is interrupted and removes its partial file. `publish` turns the export's summary into
the run's result. Every try is written to `out/attempts.log`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from airflow.sdk import DAG, BaseHook, task

REPORTS_CONN_ID = "reports_api"
# The client's own limit, a backstop: the task's execution_timeout (2 s) is the one that stops a slow answer.
HTTP_TIMEOUT = 10.0
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
    tags=["cookbook"],
) as dag:

    @task(
        # Raised as AirflowTaskTimeout inside the task (a SIGALRM in the task's main thread), then retried.
        execution_timeout=timedelta(seconds=2),
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    def export(**context: Any) -> dict[str, Any]:
        attempt = context["ti"].try_number
        conn = BaseHook.get_connection(REPORTS_CONN_ID)
        journal(f"export try {attempt}: started")
        partial = EXPORT.with_suffix(".tmp")
        try:
            with (
                partial.open("w", encoding="utf-8") as out,
                httpx.Client(
                    base_url=conn.host, headers={"Authorization": f"Bearer {conn.password}"}, timeout=HTTP_TIMEOUT
                ) as client,
            ):
                # The report query: the call that may take too long. The alarm interrupts it mid-read.
                response = client.get("/data")
                response.raise_for_status()
                rows = response.json()["rows"]
                for row in rows:
                    out.write(f"{row['id']},{row['amount']:.2f}\n")
            partial.replace(EXPORT)
        except BaseException:
            # The timeout is an exception raised wherever the task happens to be: clean up, then let it through.
            partial.unlink(missing_ok=True)
            journal(f"export try {attempt}: interrupted, partial file removed")
            raise
        journal(f"export try {attempt}: done")
        return {"file": str(EXPORT), "rows": len(rows)}

    @task
    def publish(summary: dict[str, Any]) -> dict[str, Any]:
        return {**summary, "published": True}

    publish(export())
# [END timeouts_dag]
