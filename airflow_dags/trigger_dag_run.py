"""TriggerDagRunOperator in Airflow 3: a parent DAG starts a child DAG with a conf, waits for it, reads its result.

Both DAGs live in this file. Waiting for another DAG run is the scheduler's business, so this recipe runs under a
real scheduler (`airflow_mode: scheduler` in its page), not `dag.test()`.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param, task

CHILD_DAG_ID = "trigger_dag_run_child"
STORES = {"emea": [120.0, 80.5, 42.25], "apac": [300.0, 12.5]}

# [START trigger_dag_run_child]
with DAG(
    dag_id=CHILD_DAG_ID,
    schedule=None,  # runs only when something triggers it
    params={"region": Param("emea", type="string")},
    tags=["cookbook"],
) as child:

    @task
    def refresh_region(params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        region = params["region"]
        if region not in STORES:
            raise ValueError(f"unknown region {region!r}")
        sales = STORES[region]
        return {"region": region, "stores": len(sales), "revenue": sum(sales)}

    refresh_region()
# [END trigger_dag_run_child]


# [START trigger_dag_run_parent]
with DAG(
    dag_id="trigger_dag_run",
    schedule=None,
    params={"region": Param("emea", type="string")},
    tags=["cookbook"],
) as parent:
    # Starts a run of the child with a conf, then polls its state every poke_interval seconds. The task
    # succeeds when the child run succeeds and fails when it fails (failed_states); it returns nothing.
    trigger_child = TriggerDagRunOperator(
        task_id="trigger_child",
        trigger_dag_id=CHILD_DAG_ID,
        conf={"region": "{{ params.region }}"},
        wait_for_completion=True,
        poke_interval=1,
        allowed_states=["success"],
        failed_states=["failed"],
    )

    @task
    def report(ti: Any = None) -> dict[str, Any]:
        # The operator pushes the child's run_id; the child's return value is an XCom of *its* run,
        # pulled across DAGs by dag_id + run_id.
        child_run_id = ti.xcom_pull(task_ids="trigger_child", key="trigger_run_id")
        summary = ti.xcom_pull(dag_id=CHILD_DAG_ID, run_id=child_run_id, task_ids="refresh_region")
        return {"child": summary, "revenue_per_store": round(summary["revenue"] / summary["stores"], 2)}

    trigger_child >> report()
# [END trigger_dag_run_parent]
