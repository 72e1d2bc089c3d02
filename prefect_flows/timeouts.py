"""Timeouts in Prefect: `timeout_seconds` on a task, retried like any other failure, and on the flow.

`export` asks the reports API for the day's report (the block `reports-api`: base URL and bearer token, saved once
with `ReportsApi(base_url=..., token=...).save("reports-api")`) and writes its rows to `out/export.csv`. The API
may be slow to answer; past its timeout the task is interrupted and removes its partial file. `publish` turns the
export's summary into the flow's result. Every run is written to `out/attempts.log`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from prefect import flow, get_run_logger, runtime, task
from prefect.blocks.core import Block
from pydantic import SecretStr

REPORTS_API_BLOCK = "reports-api"
# The client's own limit, a backstop: the task's timeout_seconds (2 s) is the one meant to stop a slow answer, but
# it can only raise once the blocking read returns (see the gotchas), and this bounds how long that takes.
HTTP_TIMEOUT = 10.0
EXPORT = Path("out/export.csv")
JOURNAL = Path("out/attempts.log")


class ReportsApi(Block):
    """Base URL and bearer token of the reports API: Airflow's `reports_api` connection."""

    _block_type_name = "Reports API"

    base_url: str
    token: SecretStr

    def get_client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=HTTP_TIMEOUT)


def journal(line: str) -> None:
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


# [START timeouts_flow]
# A timeout ends the task run in a Failed state named TimedOut, and the retry policy applies to it.
@task(timeout_seconds=2, retries=1, retry_delay_seconds=1)
def export() -> dict[str, Any]:
    attempt = runtime.task_run.run_count
    api = ReportsApi.load(REPORTS_API_BLOCK)
    journal(f"export try {attempt}: started")
    partial = EXPORT.with_suffix(".tmp")
    try:
        with partial.open("w", encoding="utf-8") as out, api.get_client() as client:
            # The report query: the call that may take too long. A sync task in a flow with a timeout of its own
            # is stopped only when this blocking read returns (see the gotchas), hence the client's HTTP_TIMEOUT.
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
    get_run_logger().info("exported %d rows to %s", len(rows), EXPORT)
    return {"file": str(EXPORT), "rows": len(rows)}


@task
def publish(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "published": True}


# Airflow's dagrun_timeout. Unlike it, this one is enforced wherever the flow runs, in the flow's own process.
@flow(name="timeouts", timeout_seconds=600)
def timeouts() -> dict[str, Any]:
    """Export the day's report from the reports API, then publish its summary."""
    return publish(export())


# [END timeouts_flow]


if __name__ == "__main__":
    timeouts.serve(name="timeouts")
