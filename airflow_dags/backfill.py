"""Backfill in Airflow 3: a daily export re-run over past intervals, at most two runs at once.

Each run exports one day, named by its data interval, and overwrites the file of that day: re-running an interval
replaces its output instead of adding to it, which is what makes a backfill safe to repeat.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

EXPORT_SECONDS = 4.0  # long enough that two runs of a backfill visibly overlap

# [START backfill_dag]
with DAG(
    dag_id="backfill",
    # One run per day, for the day that ends when it runs: logical_date == data_interval_start.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    # catchup=True would make the scheduler create a run for every day since start_date as soon as the DAG is
    # unpaused. The explicit backfill (below) runs exactly the range you ask for, when you ask.
    catchup=False,
    # The cookbook's test scheduler parses every DAG; an end_date in the past keeps it from scheduling runs
    # of its own. A backfill is not bound by start_date or end_date: it runs the range it is given.
    end_date=pendulum.datetime(2026, 11, 28, tz="UTC"),
    params={"export_dir": Param("/var/lib/exports", type="string", description="Where each day's export lands.")},
    tags=["cookbook"],
) as dag:

    @task
    def write_interval(
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        params: dict[str, Any] | None = None,
    ) -> str:
        assert data_interval_start is not None and data_interval_end is not None and params is not None
        time.sleep(EXPORT_SECONDS)
        day = data_interval_start.strftime("%Y-%m-%d")
        export = {
            "interval_start": data_interval_start.isoformat(),
            "interval_end": data_interval_end.isoformat(),
            "orders": data_interval_start.day * 7,  # a stand-in for the day's row count, the same on every run
        }
        out = Path(params["export_dir"]) / "out" / f"{day}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        # Overwrite, never append: the file of a day is a function of the day alone.
        out.write_text(json.dumps(export, indent=2, sort_keys=True) + "\n")
        return day

    write_interval()
# [END backfill_dag]

# [START backfill_cli]
# The backfill itself is not in the DAG file; an operator starts it (Airflow 3):
#   airflow backfill create --dag-id backfill --from-date 2026-11-01 --to-date 2026-11-04 \
#       --max-active-runs 2 --reprocess-behavior none --dag-run-conf '{"export_dir": "/data/exports"}'
# or POST /api/v2/backfills with the same fields (what the cookbook's harness does).
# [END backfill_cli]
