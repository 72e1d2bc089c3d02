"""LatestOnlyOperator and depends_on_past in Prefect: checks on the run's scheduled time and on the previous run.

Every run loads the day its scheduled time closes; only a run whose next scheduled time has not come yet (the
latest) publishes the dashboard. Serve it (`python prefect_flows/latest_only.py`); a late or backfilled run is a
run of the deployment with a scheduled time in the past:
    prefect deployment run latest-only/daily --start-at "2026-11-03 00:00" -p sales_dir=/var/lib/sales
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, serve, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import deployment, flow_run

INTERVAL = timedelta(days=1)  # the deployment's schedule: every day at 00:00 UTC
RUNS_PER_INTERVAL = 200  # how many runs of one day (re-runs included) the depends_on_past check reads


# [START latest_only_check]
def interval_of_this_run() -> tuple[datetime, datetime]:
    """The day that ended at the run's scheduled time (a daily run at 00:00 loads the day before)."""
    scheduled = flow_run.scheduled_start_time.astimezone(UTC)
    end = scheduled.replace(hour=0, minute=0, second=0, microsecond=0)
    return end - INTERVAL, end


@task
def latest_only(interval_end: datetime) -> bool:
    # LatestOnlyOperator's test: the next scheduled run (due at interval_end + INTERVAL) has not come yet.
    # A run scheduled now passes; a late run, or one started with a past scheduled_time, does not.
    return datetime.now(UTC) <= interval_end + INTERVAL


# [END latest_only_check]


# [START latest_only_previous]
def previous_run_state() -> str | None:
    """depends_on_past, asked of the API: the state of this deployment's run for the interval before this one.

    Only a strictly earlier scheduled time counts (another run for the same day is a re-run of it, not its past),
    and of a day run several times, the last run started stands for it, as Airflow keeps one run per interval.
    """
    with get_client(sync_client=True) as client:

        def runs_scheduled(**window: datetime) -> list[FlowRun]:
            return client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(not_any_=[flow_run.id]),
                    expected_start_time=FlowRunFilterExpectedStartTime(**window),
                ),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
                limit=RUNS_PER_INTERVAL,
            )

        latest_before = runs_scheduled(before_=flow_run.scheduled_start_time - timedelta(microseconds=1))
        if not latest_before or latest_before[0].expected_start_time is None:
            return None  # the first run: nothing to depend on
        previous_day = latest_before[0].expected_start_time
        attempts = runs_scheduled(after_=previous_day, before_=previous_day)
    last = max(attempts, key=lambda run: run.created or previous_day)
    return last.state.type.value if last.state else None


@task
def load_day(interval_start: datetime, interval_end: datetime, sales_dir: Path) -> str:
    previous = previous_run_state()
    # Airflow would hold the task until the previous one succeeds; a flow run cannot wait for that, so it fails
    # now and says why. No previous run (the first one) is fine, as in Airflow.
    if previous not in (None, "COMPLETED"):
        raise RuntimeError(f"the previous run of this deployment is {previous}, not COMPLETED")
    day = interval_start.strftime("%Y-%m-%d")
    out = sales_dir / "loads" / f"{day}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"day": day, "until": interval_end.isoformat()}) + "\n")
    get_run_logger().info("loaded %s into %s", day, out)
    return day


# [END latest_only_previous]


# [START latest_only_flow]
@task
def publish_dashboard(day: str, sales_dir: Path) -> str:
    (sales_dir / "dashboard.json").write_text(json.dumps({"latest_day": day}) + "\n")
    return day


@flow(name="latest-only")
def latest_only_flow(sales_dir: Path) -> str | None:
    """Load the day this run's scheduled time closes; publish the dashboard only if it is the latest day."""
    interval_start, interval_end = interval_of_this_run()
    # Decided first, as the DAG's LatestOnlyOperator does without waiting for the load: an old day's dashboard is
    # skipped by the rule, whether or not its load then succeeds.
    is_latest = latest_only(interval_end)
    day = load_day(interval_start, interval_end, sales_dir)
    if not is_latest:
        return None  # Airflow: publish_dashboard skipped
    return publish_dashboard(day, sales_dir)


def deployments() -> list[RunnerDeployment]:
    # In production: to_deployment(name="daily", cron="0 0 * * *"); no schedule here, so serving the cookbook
    # never starts runs of its own.
    return [latest_only_flow.to_deployment(name="daily")]


if __name__ == "__main__":
    serve(*deployments())
# [END latest_only_flow]
