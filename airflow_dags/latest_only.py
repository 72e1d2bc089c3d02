"""LatestOnlyOperator and depends_on_past in Airflow 3: every interval is loaded, only the latest is published.

A backfill (or a late catch-up run) loads its own day, but must not overwrite the dashboard with old data: the
LatestOnlyOperator skips what follows it unless the run's interval is the current one. Loads run in order:
`depends_on_past` holds a day's load until the previous day's load has succeeded.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.standard.operators.latest_only import LatestOnlyOperator
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

# [START latest_only_dag]
with DAG(
    dag_id="latest_only",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    # The cookbook's test scheduler parses every DAG: an end_date in the past keeps it from scheduling runs of its
    # own. Backfills ignore it, and LatestOnlyOperator asks only the timetable which interval is the latest.
    end_date=pendulum.datetime(2026, 11, 28, tz="UTC"),
    params={"sales_dir": Param("/var/lib/sales", type="string", description="Where loads and the dashboard land.")},
    tags=["cookbook"],
) as dag:
    # Skips its direct downstream unless now falls in the run's schedule window (manual runs always pass).
    latest_only = LatestOnlyOperator(task_id="latest_only")

    # depends_on_past: this task of a run starts only once the same task of the previous run has succeeded
    # (or was skipped); a backfill of such a DAG must run forwards and say how to reprocess what already ran.
    @task(depends_on_past=True)
    def load_day(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict[str, Any] | None = None,
    ) -> str:
        assert data_interval_start is not None and data_interval_end is not None and params is not None
        day = data_interval_start.strftime("%Y-%m-%d")
        out = Path(params["sales_dir"]) / "loads" / f"{day}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"day": day, "until": data_interval_end.isoformat()}) + "\n")
        return day

    @task
    def publish_dashboard(day: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        (Path(params["sales_dir"]) / "dashboard.json").write_text(json.dumps({"latest_day": day}) + "\n")
        return day

    day = load_day()
    latest_only >> publish_dashboard(day)
# [END latest_only_dag]
