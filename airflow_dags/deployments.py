"""Deployment in Airflow 3: a DAG file dropped in the dags folder is the deployment.

The dag-processor parses every file of the folder over and over; what a parse finds (schedule, params, tags,
max_active_runs, whether a new DAG starts paused) is what the scheduler acts on. There is no separate "deploy"
step: copying the file is the release, deleting it is the retirement.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

# A stand-in for the sales table: units sold per product, per region.
SALES: dict[str, dict[str, int]] = {
    "eu": {"espresso": 420, "croissant": 310, "baguette": 275, "macaron": 190, "stroopwafel": 160, "pretzel": 120},
    "us": {"bagel": 510, "donut": 480, "muffin": 330, "cookie": 300, "brownie": 220, "pretzel": 140},
    "apac": {"bao": 610, "mochi": 450, "matcha": 380, "dumpling": 360, "egg tart": 240, "onigiri": 230},
}


# [START deployments_dag]
@dag(
    dag_id="deployments",
    # Every morning at 06:00 UTC. `run_immediately=timedelta(0)`: the first run is the next 06:00, never the one
    # that just passed (with the default, a DAG first parsed up to 2.4 h after 06:00 runs today's at once).
    schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC", run_immediately=timedelta(0)),
    catchup=False,
    max_active_runs=1,  # a second run (scheduled or triggered) waits in `queued` until this one ends
    # Production configs create new DAGs paused (`dags_are_paused_at_creation = True`); this one schedules as soon
    # as the dag-processor has parsed the file.
    is_paused_upon_creation=False,
    tags=["cookbook", "reports"],
    # Checked against the trigger's conf when the run is created: a bad conf is refused, no run exists.
    params={
        "report_dir": Param("/tmp", type="string", description="Where the report is written."),
        "region": Param("eu", type="string", enum=["eu", "us", "apac"]),
        "top_n": Param(3, type="integer", minimum=1, maximum=10),
    },
)
def deployments() -> None:
    @task
    def extract(params: dict[str, Any] | None = None) -> dict[str, int]:
        assert params is not None
        return SALES[params["region"]]

    @task
    def rank(sales: dict[str, int], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        assert params is not None
        best = sorted(sales.items(), key=lambda item: (-item[1], item[0]))[: params["top_n"]]
        return [{"product": product, "units": units} for product, units in best]

    @task
    def publish(top: list[dict[str, Any]], params: dict[str, Any] | None = None, dag: Any = None) -> dict[str, Any]:
        assert params is not None and dag is not None
        # The run reads what the DAG file declared: its tags come from the parse, not from the trigger.
        report = {"region": params["region"], "top_n": params["top_n"], "top": top, "tags": sorted(dag.tags)}
        out = Path(params["report_dir"]) / "reports" / f"{params['region']}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        # Sorted keys: `top` came back from XCom with its keys reordered (units before product).
        out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
        return report

    publish(rank(extract()))


deployments()
# [END deployments_dag]
