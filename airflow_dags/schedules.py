"""Schedules in Airflow 3: cron strings, presets, timedeltas, the two cron timetables, timezones, start and end dates.

One DAG per schedule style, all running the same one-task report, so that only the timetable differs. The report
reads its data interval from the task context: the window of data a run is responsible for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, task

AMSTERDAM = "Europe/Amsterdam"
NEW_YORK = "America/New_York"


# [START schedules_report]
@task
def report_window(
    data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
) -> dict[str, str | float]:
    assert data_interval_start is not None and data_interval_end is not None
    start = pendulum.instance(data_interval_start).in_timezone(AMSTERDAM)
    end = pendulum.instance(data_interval_end).in_timezone(AMSTERDAM)
    # A "day" is 23 or 25 hours long on the days the clocks change, so count hours, not days.
    return {"window_start": start.isoformat(), "window_end": end.isoformat(), "hours": (end - start).total_hours()}


# [END schedules_report]


# [START schedules_data_interval]
with DAG(
    dag_id="schedules",
    # The data-interval timetable: the run for Tuesday's data starts at 06:00 on Wednesday, at the END of its
    # interval, and its logical_date is the interval's START (Tuesday 06:00).
    schedule=CronDataIntervalTimetable("0 6 * * *", timezone="Europe/Amsterdam"),
    start_date=pendulum.datetime(2026, 1, 1, tz=AMSTERDAM),
    # Airflow 3's default: on first deploy (or after a pause), only the latest interval runs, not every one since
    # start_date. catchup=True would create a run for each missed interval.
    catchup=False,
    tags=["cookbook"],
):
    report_window()
# [END schedules_data_interval]

# [START schedules_cron]
# A plain cron string. The installed Airflow's [scheduler] create_cron_data_intervals defaults to False, so this is
# CronTriggerTimetable("0 9 * * 1-5", timezone=NEW_YORK): a run AT 09:00, whose logical_date is 09:00 and whose data
# interval is empty. The timezone is start_date's; a naive start_date would mean UTC (core.default_timezone).
with DAG(
    dag_id="schedules_cron",
    schedule="0 9 * * 1-5",
    start_date=pendulum.datetime(2026, 1, 1, tz=NEW_YORK),
    tags=["cookbook"],
):
    report_window()

# A preset is a cron string too: "@daily" is "0 0 * * *", "@hourly" "0 * * * *", "@weekly" "0 0 * * 0".
with DAG(
    dag_id="schedules_preset",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz=NEW_YORK),
    tags=["cookbook"],
):
    report_window()
# [END schedules_cron]

# [START schedules_delta]
# A timedelta is DeltaTriggerTimetable (also ruled by create_cron_data_intervals in this Airflow version): each run
# comes `delta` after the previous one, counted in absolute time, so 6 hours stay 6 hours across a clock change.
with DAG(
    dag_id="schedules_every_6h",
    schedule=timedelta(hours=6),
    start_date=pendulum.datetime(2026, 3, 28, 9, tz=AMSTERDAM),
    tags=["cookbook"],
):
    report_window()
# [END schedules_delta]

# [START schedules_end_date]
# Mondays, Wednesdays and Fridays at 07:00 during a campaign: end_date stops the schedule (a run due AT end_date
# still happens; none after it).
with DAG(
    dag_id="schedules_until",
    schedule="0 7 * * 1,3,5",
    start_date=pendulum.datetime(2026, 3, 2, tz=AMSTERDAM),
    end_date=pendulum.datetime(2026, 4, 10, tz=AMSTERDAM),
    tags=["cookbook"],
):
    report_window()
# [END schedules_end_date]

# [START schedules_nightly]
# 02:30 local: a time that does not exist on the spring-forward day and happens twice on the fall-back day.
with DAG(
    dag_id="schedules_nightly",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=AMSTERDAM),
    tags=["cookbook"],
):
    report_window()
# [END schedules_nightly]
