"""Backfill in Prefect: a flow that starts one deployment run per past interval, at most two at once.

Prefect schedules never create runs in the past, so there is no catchup: a backfill is a flow you run on purpose.
Serve both deployments (`python prefect_flows/backfill.py`), then start the backfill:
    prefect deployment run backfill/backfill -p start=2026-11-01 -p end=2026-11-04 -p export_dir=/data/exports
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, serve, task, unmapped
from prefect.deployments import run_deployment
from prefect.deployments.runner import RunnerDeployment
from prefect.task_runners import ThreadPoolTaskRunner

EXPORT_SECONDS = 4.0  # long enough that two runs overlap even when one process starts seconds later
MAX_ACTIVE_RUNS = 2  # Airflow's backfill max_active_runs


# [START backfill_interval]
@task
def write_interval(interval_start: datetime, interval_end: datetime, export_dir: Path) -> str:
    time.sleep(EXPORT_SECONDS)
    day = interval_start.strftime("%Y-%m-%d")
    export = {
        "interval_start": interval_start.isoformat(),
        "interval_end": interval_end.isoformat(),
        "orders": interval_start.day * 7,
    }
    out = export_dir / "out" / f"{day}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    # Overwrite, never append: re-running a day replaces its file.
    out.write_text(json.dumps(export, indent=2, sort_keys=True) + "\n")
    get_run_logger().info("exported %s to %s", day, out)
    return day


# The scheduled flow: the interval is a parameter, never "now", so any past day can be run again.
@flow(name="export-interval")
def export_interval(interval_start: datetime, interval_end: datetime, export_dir: Path) -> str:
    """Export the interval from `interval_start` to `interval_end` to `export_dir`/out/<day>.json."""
    return write_interval(interval_start, interval_end, export_dir)


# [END backfill_interval]


# [START backfill_flow]
@task
def run_interval(day: date, export_dir: Path) -> str:
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    # A real run of the served deployment (its own process), linked to this task as a subflow; this task
    # waits for it to end, so the task runner's two workers are the two active runs.
    child = run_deployment(
        "export-interval/daily",
        parameters={"interval_start": start, "interval_end": start + timedelta(days=1), "export_dir": export_dir},
    )
    if child.state is None or not child.state.is_completed():
        raise RuntimeError(f"{day}: the export run ended {child.state.name if child.state else 'without a state'}")
    return day.isoformat()


@flow(name="backfill", task_runner=ThreadPoolTaskRunner(max_workers=MAX_ACTIVE_RUNS))
def backfill(start: date, end: date, export_dir: Path) -> list[str]:
    """Every day from `start` to `end`, both included, like `airflow backfill create --from-date --to-date`."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    runs = run_interval.map(days, unmapped(export_dir))
    return runs.result()  # raises the first failed day's error, so the backfill fails as Airflow's would


# [END backfill_flow]


# [START backfill_deployments]
def deployments() -> list[RunnerDeployment]:
    # In production the daily deployment also carries the schedule: cron="0 0 * * *". It is left out here so
    # that serving the cookbook never starts runs of its own.
    return [
        export_interval.to_deployment(name="daily"),
        backfill.to_deployment(name="backfill"),
    ]


if __name__ == "__main__":
    serve(*deployments())
# [END backfill_deployments]
