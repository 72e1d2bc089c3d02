"""Schedules in Prefect: one flow, several deployments, each with its own schedules (Cron, Interval, RRule).

A flow has no schedule; a deployment does. So the six DAGs of the Airflow side become one flow and six
deployments. `python prefect_flows/schedules.py` serves them all; `prefect deploy` with a prefect.yaml does the same
for a work pool.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, serve, task
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run
from prefect.schedules import Cron, Interval, RRule

AMSTERDAM = "Europe/Amsterdam"
NEW_YORK = "America/New_York"


# [START schedules_report]
@task
def report_window(start: datetime, end: datetime) -> dict[str, str | float]:
    local = ZoneInfo(AMSTERDAM)
    return {
        "window_start": start.astimezone(local).isoformat(),
        "window_end": end.astimezone(local).isoformat(),
        # Subtract instants, not wall clocks: the day the clocks change is 23 or 25 hours long.
        "hours": (end.astimezone(ZoneInfo("UTC")) - start.astimezone(ZoneInfo("UTC"))).total_seconds() / 3600,
    }


@flow(name="schedules")
def schedules() -> dict[str, str | float]:
    """Report on the day before the run's scheduled time, in Amsterdam time: the window's start, end and hours.

    The window ends at the moment the run was scheduled for (for a run started by hand: when it was created) and
    starts at the same wall-clock time the day before, so it is 23 or 25 hours long on the days the clocks change.
    """
    # A Prefect run has no data interval, only the moment it was scheduled for (for a run started by hand: the
    # moment it was created). The flow decides which window that moment stands for: here, the day before it.
    end = flow_run.scheduled_start_time.astimezone(ZoneInfo(AMSTERDAM))
    # Wall-clock arithmetic on the local time: "yesterday at the same hour", which is 23 hours back on the day
    # the clocks spring forward, as in Airflow's cron data interval.
    start = (end.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=ZoneInfo(AMSTERDAM))
    get_run_logger().info("reporting on %s to %s", start.isoformat(), end.isoformat())
    return report_window(start, end)


# [END schedules_report]


# [START schedules_deployments]
def deployments() -> list[RunnerDeployment]:
    return [
        # CronDataIntervalTimetable("0 6 * * *"): the same run times; the window is the flow's business.
        schedules.to_deployment(name="daily-report", schedules=[Cron("0 6 * * *", timezone=AMSTERDAM)]),
        # A plain cron string, and a preset: croniter reads "@daily" as "0 0 * * *".
        schedules.to_deployment(name="weekdays-new-york", schedules=[Cron("0 9 * * 1-5", timezone=NEW_YORK)]),
        schedules.to_deployment(name="daily-new-york", schedules=[Cron("@daily", timezone=NEW_YORK)]),
        # timedelta(hours=6) from start_date: an Interval on a grid anchored at that date. Intervals under 24 h
        # are counted in absolute time, like Airflow's; see the page for a day or more.
        schedules.to_deployment(
            name="every-6h",
            schedules=[
                Interval(
                    timedelta(hours=6),
                    anchor_date=datetime(2026, 3, 28, 9, tzinfo=ZoneInfo(AMSTERDAM)),
                    timezone=AMSTERDAM,
                )
            ],
        ),
        # start_date and end_date: Cron has neither, an RRule has both (DTSTART and UNTIL, in the local time of
        # `timezone`; UNTIL is inclusive, like end_date).
        schedules.to_deployment(
            name="campaign",
            schedules=[
                RRule(
                    "DTSTART:20260302T070000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260410T000000",
                    timezone=AMSTERDAM,
                )
            ],
        ),
        schedules.to_deployment(name="nightly", schedules=[Cron("30 2 * * *", timezone=AMSTERDAM)]),
    ]


# [END schedules_deployments]


if __name__ == "__main__":
    serve(*deployments())
