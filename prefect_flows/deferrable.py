"""Deferrable waits in Prefect: async tasks for short waits, suspend_flow_run to give the process back.

Two flows, one per kind of wait. `deferrable` awaits both waits in async tasks: the flow run's process stays up
for the whole wait. `deferrable-until-resumed` suspends first: its process ends, and the run starts again (from
the top, in a new process) when the export's producer resumes it, then runs the same waits. Suspending needs a
deployment, so this module serves one per flow.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, serve, task
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
    get_run_logger().info("the window opens at %s", target.isoformat())
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
    rows = len([line for line in export.read_text().splitlines()[1:] if line.strip()])
    get_run_logger().info("%s arrived with %d rows", export, rows)
    return rows


@task
def load(rows: int) -> dict[str, int]:
    return {"rows": rows}


# [END deferrable_tasks]


# [START deferrable_flow]
async def wait_then_load(inbox: str) -> dict[str, int]:
    # Both waits at once, as two sensors without dependencies between them.
    _, rows = await asyncio.gather(wait_for_window(), wait_for_export(Path(inbox) / "export.csv"))
    return load(rows)


@flow(name="deferrable", persist_result=True)
async def deferrable(inbox: str = ".") -> dict[str, int]:
    """Wait for the window and the export in this process, then load the export: for waits of minutes."""
    return await wait_then_load(inbox)


@flow(name="deferrable-until-resumed", persist_result=True)
async def deferrable_until_resumed(inbox: str = ".") -> dict[str, int]:
    """The same waits after a suspension the export's producer ends: for waits of hours, holding nothing."""
    # The process exits here and the run waits as Suspended, holding nothing. Whoever produces the export
    # resumes it (resume_flow_run, the UI's Resume button, an automation on the producer's event); the runner
    # then starts the flow again from the top, in a new process, and this call returns at once, since the run
    # already went through this suspension.
    await suspend_flow_run(timeout=SUSPEND_TIMEOUT)
    return await wait_then_load(inbox)


def deployments() -> list[RunnerDeployment]:
    return [deferrable.to_deployment(name="main"), deferrable_until_resumed.to_deployment(name="until-resumed")]


# [END deferrable_flow]


if __name__ == "__main__":
    serve(*deployments())
