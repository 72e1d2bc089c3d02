"""Runs through deployments, the way production runs them: what `prefect.serve(*deployments)` does.

A Runner registers the flow module's `deployments()` on the server and polls for their runs; each run executes in
its own process (`python -m prefect.engine`), so parameters cross a process boundary as JSON and results come back
only if persisted. The runner lives in a background thread of the worker for one job.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from cookbook.protocol import Job
from cookbook.workers.common import environment
from cookbook.workers.submissions import JOURNAL_ENV

POLL_SECONDS = 0.5


class ServedDeployments:
    def __init__(self, deployments: list[Any], name: str) -> None:
        self.deployments = deployments
        self.name = name
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._runner: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The runner's thread sees this thread's Prefect settings (the API URL among them).
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=lambda: context.run(asyncio.run, self._serve()), name="served", daemon=True
        )

    async def _serve(self) -> None:
        from prefect.runner import Runner

        self._loop = asyncio.get_running_loop()
        runner = Runner(name=self.name, query_seconds=POLL_SECONDS, pause_on_shutdown=False)
        try:
            for deployment in self.deployments:
                await runner.aadd_deployment(deployment)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._runner = runner
        self._ready.set()
        await runner.start()

    def __enter__(self) -> ServedDeployments:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("the runner did not register the deployments within 60 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._runner.astop(), self._loop).result(timeout=30)
        self._thread.join(timeout=30)


def persisted_results(home: Path) -> contextlib.AbstractContextManager[None]:
    """A run in another process hands its result back only through result storage."""
    storage = str(home / "storage")
    return environment({"PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true", "PREFECT_LOCAL_STORAGE_PATH": storage})


def declared_deployments(module: ModuleType) -> list[Any]:
    """What the flow module's `deployments()` returns (what its `serve(*deployments())` serves)."""
    factory = getattr(module, "deployments", None)
    if factory is None:
        raise LookupError("the flow module has no deployments() function")
    return list(factory())


@contextlib.contextmanager
def serving(module: ModuleType, home: Path, name: str) -> Iterator[ServedDeployments]:
    """The module's deployments served for as long as the block lasts (runs a case causes included)."""
    deployments = declared_deployments(module)
    for deployment in deployments:
        # `to_deployment()` records the entrypoint relative to the cwd; runs start in the job's working directory.
        file, _, function = (deployment.entrypoint or "").rpartition(":")
        if file and not Path(file).is_absolute():
            deployment.entrypoint = f"{Path(file).resolve()}:{function}"
    with persisted_results(home), recorded_submissions(home), ServedDeployments(deployments, name) as served:
        yield served


def recorded_submissions(home: Path) -> contextlib.AbstractContextManager[None]:
    """The served runs' processes record the order their flows submit tasks in, as the worker does in-process."""
    hook = Path(__file__).with_name("served_hook")
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    return environment({"PYTHONPATH": path, JOURNAL_ENV: str(home / "submissions")})


def run_through_deployment(served: ServedDeployments, job: Job, scheduled_time: datetime | None = None) -> Any:
    """Start the job's flow through its deployment, wait for the run to end, and return its final state.

    `scheduled_time`: the run's, else the job's logical date (none: now)."""
    from prefect.deployments import run_deployment

    mine = [d for d in served.deployments if d.flow_name == job.flow_name]
    if not mine:
        raise LookupError(f"deployments() has none for the flow {job.flow_name!r}")
    flow_run = run_deployment(
        f"{mine[0].flow_name}/{mine[0].name}",
        parameters=job.params,
        scheduled_time=scheduled_time or job.logical_date,
        timeout=job.timeout_seconds * 0.8 / max(1, len(job.scheduled_runs)),
        poll_interval=0.5,
    )
    return flow_run.state


def forget_earlier_runs(served: ServedDeployments) -> int:
    """Delete the served deployments' runs left by earlier cases (and earlier mutants), so that no case depends on
    which ran before it: a flow that reads its deployment's history (depends_on_past) sees only its own case's.
    Only ever called on the worker's own throwaway server, never on one the user pointed the harness at."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        ids = [client.read_deployment_by_name(f"{d.flow_name}/{d.name}").id for d in served.deployments]
        deleted = 0
        while runs := client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=ids)), sort=FlowRunSort.ID_DESC, limit=200
        ):
            for run in runs:
                client.delete_flow_run(run.id)
            deleted += len(runs)
    return deleted
