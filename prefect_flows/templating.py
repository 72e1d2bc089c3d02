"""Templating in Prefect: an explicit logical date parameter, `prefect.runtime`, and f-strings.

`count_orders` gets its window as arguments; `write_report` gets typed values and formats them itself, the path
of the file it writes included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run
from prefect.variables import Variable
from pydantic import AwareDatetime

ORDERS = [
    ("2024-01-14T08:15:00+00:00", "eu", 120.0),
    ("2024-01-14T17:40:00+00:00", "eu", 35.5),
    ("2024-01-14T21:05:00+00:00", "us", 80.0),
    ("2024-01-15T06:00:00+00:00", "eu", 12.0),
    ("2024-02-28T23:45:00+00:00", "us", 64.0),
    ("2024-02-29T10:30:00+00:00", "us", 18.25),
    ("2024-02-29T23:50:00+00:00", "us", 7.0),
]

# The DAG's CronTriggerTimetable(interval=timedelta(days=1)): each run covers the day ending at its logical date.
INTERVAL = timedelta(days=1)


# [START templating_tasks]
@task
def count_orders(region: str, start: datetime, end: datetime) -> int:
    count = sum(1 for created, where, _ in ORDERS if where == region and start <= datetime.fromisoformat(created) < end)
    get_run_logger().info("%d %s orders from %s to %s", count, region, start, end)
    return count


@task
def write_report(path: Path, logical_date: datetime, start: datetime, end: datetime, orders: int) -> dict[str, Any]:
    # {{ var.value.report_owner }}: read when the task runs. Variable.get returns None for a missing variable
    # where Airflow fails the task, so the failure is spelled out.
    owner = Variable.get("report_owner")
    if owner is None:
        raise KeyError("Variable report_owner does not exist")
    day = logical_date.date()
    # Jinja renders a datetime with str(), which puts a space between date and time; ts is isoformat().
    values = {
        "day": day.isoformat(),  # {{ ds }}
        "previous_day": (day - timedelta(days=1)).isoformat(),  # {{ macros.ds_add(ds, -1) }}
        "logical_date": logical_date.isoformat(sep=" "),  # {{ logical_date }}
        "ts": logical_date.isoformat(),  # {{ ts }}
        "window": f"{start.isoformat(sep=' ')} -> {end.isoformat(sep=' ')}",
        "owner": owner,
        "orders": orders,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    get_run_logger().info("wrote the report for %s to %s", values["day"], path)
    return {"path": str(path), **values}


@flow(name="templating")
def templating(
    output_dir: Path = Path("/tmp"),
    region: Literal["eu", "us"] = "eu",
    # Airflow's logical date, as a parameter: a backfill or a rerun passes the date it is about. The default
    # is None, never datetime.now(): a default is evaluated once, when the module is imported or deployed.
    logical_date: AwareDatetime | None = None,
) -> dict[str, Any]:
    """Write the daily orders report of one region for the day that ends at `logical_date`.

    Counts the region's orders created in that day (UTC) and writes `reports/<region>/<YYYYMMDD>.txt` under
    `output_dir`, with the dates, the window and the owner named by the `report_owner` Variable; it returns the same
    values. Without `logical_date`, the run's scheduled start time stands in (for a run started by hand, the moment it
    was created). Fails, writing nothing, when the `report_owner` Variable does not exist.
    """
    if logical_date is None:
        # A scheduled deployment run: its schedule slot, however late it starts. A direct call, or a deployment
        # run started by hand: the moment the run was created.
        logical_date = flow_run.scheduled_start_time
    # ds and friends are UTC dates in Airflow, whatever the DAG's timezone.
    logical_date = logical_date.astimezone(UTC)
    start, end = logical_date - INTERVAL, logical_date  # {{ data_interval_start }}, {{ data_interval_end }}
    orders = count_orders(region, start, end)
    path = output_dir / "reports" / region / f"{logical_date:%Y%m%d}.txt"  # {{ ds_nodash }}
    return write_report(path, logical_date, start, end, orders)


# [END templating_tasks]


if __name__ == "__main__":
    # Daily at midnight UTC, as the DAG's CronTriggerTimetable("0 0 * * *", timezone="UTC").
    templating.serve(name="templating", cron="0 0 * * *")
