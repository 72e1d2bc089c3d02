"""ExternalTaskSensor in Prefect: wait, through the API, for another deployment's flow run of the same scheduled time.

The upstream flow extracts the day's orders into a file; the downstream flow (this recipe's) waits until the
upstream deployment's run scheduled for the same moment has Completed, then loads the file. In production both
deployments run on the same schedule; here the downstream's first task starts the upstream run for that moment,
standing in for its schedule. A deployment trigger is the other way to express the dependency (see the page).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, serve, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.runtime import flow_run

UPSTREAM_DEPLOYMENT = "external-task-sensor-upstream/daily"
EXTRACT_SECONDS = 2.0
POKE_INTERVAL = 0.5
SENSOR_TIMEOUT = 30.0
ORDERS = {"orders": [{"id": "A-1", "amount": 120.0}, {"id": "A-2", "amount": 35.5}]}


# [START external_task_sensor_upstream]
@task
def extract(data_dir: Path, source: str, day: str) -> int:
    time.sleep(EXTRACT_SECONDS)
    if source not in ORDERS:
        raise ConnectionError(f"source {source!r} is unreachable")
    out = data_dir / "extract" / f"{day}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(ORDERS[source]))
    return len(ORDERS[source])


@flow(name="external-task-sensor-upstream")
def external_task_sensor_upstream(data_dir: Path, source: str = "orders") -> int:
    """Extract the day of this run's scheduled time from `source` into `data_dir`/extract/<day>.json."""
    # The scheduled start time plays the logical date: a cron schedule gives each run its slot's time.
    day = flow_run.scheduled_start_time.date().isoformat()
    return extract(data_dir, source, day)


# [END external_task_sensor_upstream]


# [START external_task_sensor_wait]
FAILED = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@task
def wait_for_extract(deployment: str, logical_date: datetime) -> str:
    """ExternalTaskSensor with failed_states: the deployment's run scheduled at `logical_date` must Complete."""
    deadline = time.monotonic() + SENSOR_TIMEOUT
    with get_client(sync_client=True) as client:
        upstream = client.read_deployment_by_name(deployment)
        same_date = FlowRunFilter(
            expected_start_time=FlowRunFilterExpectedStartTime(after_=logical_date, before_=logical_date)
        )
        while True:
            # Prefect allows several runs for one moment (a re-run, say); the newest one is the answer. "Newest"
            # by creation time: a run's id is random (ID_DESC would pick any of them) and no sort is by `created`.
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[upstream.id])),
                flow_run_filter=same_date,
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,  # all equal here; a sort must be given
                limit=200,
            )
            newest = max(runs, key=lambda run: run.created.timestamp() if run.created else 0.0, default=None)
            state = newest.state if newest else None
            if newest and state and state.is_completed():
                return str(newest.id)
            if newest and state and state.type in FAILED:
                raise RuntimeError(f"{deployment} run {newest.name} for {logical_date} ended {state.name}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no completed {deployment} run for {logical_date} within {SENSOR_TIMEOUT} s")
            time.sleep(POKE_INTERVAL)


@task
def load(data_dir: Path, day: str) -> dict[str, Any]:
    orders = json.loads((data_dir / "extract" / f"{day}.json").read_text())
    return {"day": day, "orders": len(orders), "amount": sum(o["amount"] for o in orders)}


# [END external_task_sensor_wait]


@task
def start_upstream(data_dir: Path, source: str, scheduled_time: datetime) -> None:
    # Stands in for the upstream's schedule: a run of its deployment for this moment, not waited for
    # (timeout=0), and not linked to this run (as_subflow=False), like a run of another DAG.
    run = run_deployment(
        UPSTREAM_DEPLOYMENT,
        parameters={"data_dir": str(data_dir), "source": source},
        scheduled_time=scheduled_time,
        timeout=0,
        as_subflow=False,
    )
    get_run_logger().info("started %s for %s", run.name, scheduled_time)


# [START external_task_sensor_flow]
@flow(name="external-task-sensor")
def external_task_sensor(data_dir: Path, source: str = "orders", upstream_days_back: int = 0) -> dict[str, Any]:
    """Wait for the upstream deployment's run of this run's scheduled time to Complete, then load its extract."""
    logical_date = flow_run.scheduled_start_time
    start_upstream(data_dir, source, logical_date - timedelta(days=upstream_days_back))
    wait_for_extract(UPSTREAM_DEPLOYMENT, logical_date)
    return load(data_dir, logical_date.date().isoformat())


# [END external_task_sensor_flow]


# [START external_task_sensor_trigger]
# The event-driven alternative (not run by the harness): no waiting task at all. The server starts the load when
# the upstream deployment reports a Completed flow run, with the upstream run's date as a parameter.
@flow(name="load-after-extract")
def load_after_extract(data_dir: Path, day: str) -> dict[str, Any]:
    """Load the extract of `day`, started by the trigger below once the upstream's run for that day Completed."""
    return load(data_dir, day)


def triggered_deployment() -> RunnerDeployment:
    return load_after_extract.to_deployment(
        name="on-extract",
        triggers=[
            DeploymentEventTrigger(
                expect={"prefect.flow-run.Completed"},
                match_related={
                    "prefect.resource.role": "flow",
                    "prefect.resource.name": "external-task-sensor-upstream",
                },
                parameters={
                    "data_dir": "{{ flow_run.parameters.data_dir }}",
                    "day": "{{ flow_run.expected_start_time.strftime('%Y-%m-%d') }}",
                },
            )
        ],
    )


# [END external_task_sensor_trigger]


def deployments() -> list[RunnerDeployment]:
    return [
        external_task_sensor_upstream.to_deployment(name="daily"),  # in production: cron="0 2 * * *"
        external_task_sensor.to_deployment(name="daily"),  # the same cron
    ]


if __name__ == "__main__":
    serve(*deployments())
