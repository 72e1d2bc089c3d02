"""XCom: passing data between tasks in Airflow 3.

TaskFlow return values, `multiple_outputs`, and the classic `xcom_push`/`xcom_pull` with keys.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, task

SAMPLE_ORDERS = [
    {"id": "A-1", "amount": 120.0},
    {"id": "A-2", "amount": 35.5},
    {"id": "A-3", "amount": -4.0},
]

# [START xcom_taskflow]
with DAG(
    dag_id="xcom",
    schedule=None,
    params={
        "orders": Param(SAMPLE_ORDERS, type="array"),
        "max_rejected": Param(1, type="integer", minimum=0),
    },
    tags=["cookbook"],
) as dag:

    @task
    def extract(params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        # Context variables such as `params` are injected by keyword argument name.
        assert params is not None
        return params["orders"]

    # multiple_outputs=True stores each key of the returned dict as its own XCom,
    # so downstream tasks can pull `split_orders["valid"]` alone.
    @task(multiple_outputs=True)
    def split_orders(orders: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        valid = [o for o in orders if o["amount"] > 0]
        rejected = [o for o in orders if o["amount"] <= 0]
        return {"valid": valid, "rejected": rejected}

    parts = split_orders(extract())
    # [END xcom_taskflow]

    # [START xcom_classic]
    def check_rejected(ti, params) -> None:
        rejected = ti.xcom_pull(task_ids="split_orders", key="rejected")
        if len(rejected) > params["max_rejected"]:
            raise ValueError(f"{len(rejected)} rejected orders, at most {params['max_rejected']} allowed")
        # An explicit push under a key of our choosing, next to the implicit return_value.
        ti.xcom_push(key="rejected_count", value=len(rejected))

    check = PythonOperator(task_id="check_rejected", python_callable=check_rejected)

    @task
    def summarize(valid: list[dict[str, Any]], ti=None) -> dict[str, Any]:
        rejected_count = ti.xcom_pull(task_ids="check_rejected", key="rejected_count")
        return {
            "valid_count": len(valid),
            "rejected_count": rejected_count,
            "total": round(sum(o["amount"] for o in valid), 2),
        }

    summary = summarize(parts["valid"])
    parts >> check >> summary
    # [END xcom_classic]
