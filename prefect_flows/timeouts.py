"""Timeouts in Prefect: `timeout_seconds` on a task, retried like any other failure, and on the flow.

`export` writes `batches` lines to `out/export.csv`, one every `seconds_per_batch` on its first `slow_tries` runs
and quickly after that; past its timeout it is interrupted and removes its partial file. `publish` turns the
export's summary into the flow's result. Every run is written to `out/attempts.log`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, runtime, task

FAST_BATCH_SECONDS = 0.05
EXPORT = Path("out/export.csv")
JOURNAL = Path("out/attempts.log")


def journal(line: str) -> None:
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


# [START timeouts_flow]
# A timeout ends the task run in a Failed state named TimedOut, and the retry policy applies to it.
@task(timeout_seconds=2, retries=1, retry_delay_seconds=1)
def export(batches: int, seconds_per_batch: float, slow_tries: int) -> dict[str, Any]:
    attempt = runtime.task_run.run_count
    pause = seconds_per_batch if attempt <= slow_tries else FAST_BATCH_SECONDS
    journal(f"export try {attempt}: started")
    partial = EXPORT.with_suffix(".tmp")
    try:
        with partial.open("w", encoding="utf-8") as f:
            for batch in range(batches):
                # Short blocking calls: depending on the thread, Prefect may only be able to stop the task
                # between two of them (see the gotchas), so no single call should outlast the timeout.
                time.sleep(pause)
                f.write(f"batch-{batch}\n")
        partial.replace(EXPORT)
    except BaseException:
        # The timeout is an exception raised wherever the task happens to be: clean up, then let it through.
        partial.unlink(missing_ok=True)
        journal(f"export try {attempt}: interrupted, partial file removed")
        raise
    journal(f"export try {attempt}: done")
    return {"file": str(EXPORT), "batches": batches}


@task
def publish(summary: dict[str, Any]) -> dict[str, Any]:
    return {**summary, "published": True}


# Airflow's dagrun_timeout. Unlike it, this one is enforced wherever the flow runs, in the flow's own process.
@flow(name="timeouts", timeout_seconds=600)
def timeouts(batches: int = 8, seconds_per_batch: float = 0.5, slow_tries: int = 0) -> dict[str, Any]:
    return publish(export(batches, seconds_per_batch, slow_tries))


# [END timeouts_flow]


if __name__ == "__main__":
    print(timeouts(slow_tries=1))
