"""Deferrable waits in Prefect: async tasks for short waits, suspend_flow_run to give the process back.

An awaiting async task still lives in the flow run's process; only a suspended flow run ends its process, and it
runs again (from the top, in a new process) when something resumes it. Suspending needs a deployment, so this
module serves one.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, serve, task
from prefect.deployments.runner import RunnerDeployment
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run

WINDOW = timedelta(seconds=2)
POKE_INTERVAL = 1.0
EXPORT_TIMEOUT = 20.0
# How long a suspended run may wait for its resume; after that the server fails it.
SUSPEND_TIMEOUT = 3600


# [START deferrable_tasks]
@task
async def wait_for_window() -> None:
    # TimeDeltaSensor waits until run_after + delta; the flow run's scheduled start is Prefect's run_after,
    # so a run resumed later than that does not wait again.
    target = flow_run.scheduled_start_time + WINDOW
    await asyncio.sleep(max(0.0, (target - datetime.now(UTC)).total_seconds()))


@task
async def wait_for_export(export: Path) -> int:
    # Polling with asyncio.sleep frees the event loop between checks, not the process: the flow run's
    # process (and whatever infrastructure runs it) stays busy for the whole wait.
    deadline = time.monotonic() + EXPORT_TIMEOUT
    while not export.exists():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{export} did not appear within {EXPORT_TIMEOUT} s")
        await asyncio.sleep(POKE_INTERVAL)
    return len([line for line in export.read_text().splitlines()[1:] if line.strip()])


@task
def load(rows: int) -> dict[str, int]:
    return {"rows": rows}


# [END deferrable_tasks]


# [START deferrable_flow]
@flow(name="deferrable", persist_result=True)
async def deferrable(inbox: str = ".", long_wait: bool = False) -> dict[str, int]:
    export = Path(inbox) / "export.csv"
    if long_wait:
        # The process exits here and the run waits as Suspended, holding nothing. Whoever produces the
        # export resumes it (resume_flow_run, the UI's Resume button, an automation on the producer's
        # event); the runner then starts the flow again from the top, in a new process, and this call
        # returns at once, since the run already went through this suspension.
        await suspend_flow_run(timeout=SUSPEND_TIMEOUT)
    # Both waits at once, as two sensors without dependencies between them.
    _, rows = await asyncio.gather(wait_for_window(), wait_for_export(export))
    return load(rows)


def deployments() -> list[RunnerDeployment]:
    return [deferrable.to_deployment(name="main")]


# [END deferrable_flow]


if __name__ == "__main__":
    serve(*deployments())
