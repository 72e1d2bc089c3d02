"""ExternalTaskSensor in Airflow 3: a DAG waits for a task of another DAG at the same logical date.

The upstream DAG extracts the day's orders into a file; the downstream DAG (this recipe's) waits for that extract
to succeed for *its* logical date, then loads the file. In production both DAGs run on the same schedule; here the
downstream's first task starts the upstream run for the same logical date, standing in for that schedule, so
each case is self-contained. Sensing another DAG needs the scheduler (`airflow_mode: scheduler` in the page).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.standard.sensors.external_task import ExternalTaskMarker, ExternalTaskSensor
from airflow.sdk import DAG, Param, task

UPSTREAM_DAG_ID = "external_task_sensor_upstream"
EXTRACT_SECONDS = 2.0  # long enough for the sensor to find the upstream still running
POKE_INTERVAL = 0.5
SENSOR_TIMEOUT = 30.0
ORDERS = {"orders": [{"id": "A-1", "amount": 120.0}, {"id": "A-2", "amount": 35.5}]}

# [START external_task_sensor_upstream]
with DAG(
    dag_id=UPSTREAM_DAG_ID,
    schedule=None,  # in production: the downstream's schedule ("@daily"), so logical dates line up
    params={
        "data_dir": Param(type="string", description="Where each day's extract lands, as extract/<day>.json."),
        "source": Param("orders", type="string"),
    },
    tags=["cookbook"],
) as upstream:

    @task
    def extract(params: dict[str, Any] | None = None, ds: str | None = None) -> int:
        assert params is not None
        time.sleep(EXTRACT_SECONDS)
        if params["source"] not in ORDERS:
            raise ConnectionError(f"source {params['source']!r} is unreachable")
        out = Path(params["data_dir"]) / "extract" / f"{ds}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(ORDERS[params["source"]]))
        return len(ORDERS[params["source"]])

    # Clearing `extract` with "Recursive" also clears the downstream DAG's sensor at the same logical date,
    # so a re-extract is followed by a re-load. At run time the marker does nothing (an EmptyOperator).
    mark_downstream = ExternalTaskMarker(
        task_id="mark_downstream",
        external_dag_id="external_task_sensor",
        external_task_id="wait_for_extract",
    )
    extract() >> mark_downstream
# [END external_task_sensor_upstream]


with DAG(
    dag_id="external_task_sensor",
    schedule=None,  # in production: "@daily", like the upstream
    params={
        "data_dir": Param(type="string", description="Where the upstream's extract/<day>.json is read from."),
        "source": Param("orders", type="string"),
        "upstream_days_back": Param(0, type="integer", minimum=0),
    },
    tags=["cookbook"],
) as downstream:
    # Stands in for the upstream's own schedule: starts its run for this run's logical date (or an earlier one,
    # to show a run of another date does not count) and does not wait for it.
    start_upstream = TriggerDagRunOperator(
        task_id="start_upstream",
        trigger_dag_id=UPSTREAM_DAG_ID,
        logical_date="{{ (logical_date - macros.timedelta(days=params.upstream_days_back)).isoformat() }}",
        conf={"data_dir": "{{ params.data_dir }}", "source": "{{ params.source }}"},
        wait_for_completion=False,
    )

    # [START external_task_sensor_wait]
    # Waits for `extract` of the upstream DAG run with the same logical date. Without failed_states a failed
    # extract is not an answer: the sensor keeps poking until its timeout (so someone can fix and clear it).
    # Poke mode holds a worker slot for the whole wait, as the Prefect polling task holds its process; for long
    # waits use mode="reschedule" with a poke_interval of a minute or more (see the page's gotchas).
    wait_for_extract = ExternalTaskSensor(
        task_id="wait_for_extract",
        external_dag_id=UPSTREAM_DAG_ID,
        external_task_id="extract",
        allowed_states=["success"],
        failed_states=["failed", "upstream_failed"],
        poke_interval=POKE_INTERVAL,
        timeout=SENSOR_TIMEOUT,
        mode="poke",
    )

    @task
    def load(params: dict[str, Any] | None = None, ds: str | None = None) -> dict[str, Any]:
        assert params is not None
        orders = json.loads((Path(params["data_dir"]) / "extract" / f"{ds}.json").read_text())
        return {"day": ds, "orders": len(orders), "amount": sum(o["amount"] for o in orders)}

    start_upstream >> wait_for_extract >> load()
    # [END external_task_sensor_wait]
