"""Jinja templating in Airflow 3: ds, ds_nodash, ts, logical_date, data_interval_*, params, var, xcom_pull, macros.

`count_orders` reads its data interval from the task context; `write_report` receives every other value as a
rendered template string, the path of the file it writes included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable, Param, task

# A stand-in for the orders table: (created_at, region, amount).
ORDERS = [
    ("2024-01-14T08:15:00+00:00", "eu", 120.0),
    ("2024-01-14T17:40:00+00:00", "eu", 35.5),
    ("2024-01-14T21:05:00+00:00", "us", 80.0),
    ("2024-01-15T06:00:00+00:00", "eu", 12.0),
    ("2024-02-28T23:45:00+00:00", "us", 64.0),
    ("2024-02-29T10:30:00+00:00", "us", 18.25),
    ("2024-02-29T23:50:00+00:00", "us", 7.0),
]

# [START templating_dag]
with DAG(
    dag_id="templating",
    # A plain "@daily" is a CronTriggerTimetable in Airflow 3 with no interval: data_interval_start ==
    # data_interval_end == logical_date. interval= gives each run the day that ends at its logical date.
    schedule=CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "output_dir": Param("/tmp", type="string", description="An existing directory for the reports."),
        "region": Param("eu", type="string", enum=["eu", "us"]),
    },
    tags=["cookbook"],
) as dag:

    @task
    def count_orders(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        # Context values injected by keyword name are objects (pendulum DateTimes), not rendered strings.
        assert data_interval_start is not None and data_interval_end is not None and params is not None
        return sum(
            1
            for created, region, _ in ORDERS
            if region == params["region"] and data_interval_start <= datetime.fromisoformat(created) < data_interval_end
        )

    @task
    def write_report(
        path: str, day: str, previous_day: str, stamp: str, ts: str, window: str, owner: str, orders: str
    ) -> dict[str, Any]:
        # Every argument arrives rendered: a string, even the XCom pulled by the template.
        report = Path(path)
        report.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"day={day}", f"previous_day={previous_day}", f"logical_date={stamp}", f"ts={ts}"]
        lines += [f"window={window}", f"owner={owner}", f"orders={orders}"]
        report.write_text("\n".join(lines) + "\n")
        return {
            "path": path,
            "day": day,
            "previous_day": previous_day,
            "logical_date": stamp,
            "ts": ts,
            "window": window,
            "owner": owner,
            "orders": int(orders),
        }

    counted = count_orders()
    report = write_report(
        path="{{ params.output_dir }}/reports/{{ params.region }}/{{ ds_nodash }}.txt",
        day="{{ ds }}",
        previous_day="{{ macros.ds_add(ds, -1) }}",
        stamp="{{ logical_date }}",
        ts="{{ ts }}",
        window="{{ data_interval_start }} -> {{ data_interval_end }}",
        # Rendered when write_report starts, not when the file is parsed; a missing Variable fails the task.
        owner="{{ var.value.report_owner }}",
        orders="{{ ti.xcom_pull(task_ids='count_orders') }}",
    )
    # A template's xcom_pull creates no dependency: without this edge both tasks could run at once.
    counted >> report
# [END templating_dag]
