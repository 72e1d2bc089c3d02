"""Exercise 3, the DAG: a branch and its join.

An order ships by parcel up to 30 kg and by freight above. `choose_carrier` (@task.branch) returns the task_id to
follow; the other shipping task is skipped without running. `confirm` joins the two paths: with the default
trigger rule it would be skipped too (one of its upstreams always is), so it runs on none_failed_min_one_success.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, TriggerRule, task

PARCEL_LIMIT_KG = 30

with DAG(
    dag_id="shipping",
    schedule=None,
    params={
        "order_id": Param("A-100", type="string"),
        "weight_kg": Param(2.0, type="number", exclusiveMinimum=0, description="The parcel's weight."),
    },
    tags=["exercise"],
) as dag:

    @task.branch
    def choose_carrier(params: dict | None = None) -> str:
        assert params is not None
        return "ship_parcel" if params["weight_kg"] <= PARCEL_LIMIT_KG else "ship_freight"

    @task
    def ship_parcel(params: dict | None = None) -> dict:
        assert params is not None
        return {"carrier": "parcel", "cost": round(4.5 + 0.8 * params["weight_kg"], 2)}

    @task
    def ship_freight(params: dict | None = None) -> dict:
        assert params is not None
        return {"carrier": "freight", "cost": round(60 + 0.35 * params["weight_kg"], 2)}

    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def confirm(parcel: dict | None, freight: dict | None, params: dict | None = None) -> dict:
        # The skipped path pushed no XCom: its argument arrives as None.
        assert params is not None
        shipment = parcel or freight
        assert shipment is not None
        return {"order_id": params["order_id"], **shipment}

    parcel, freight = ship_parcel(), ship_freight()
    choose_carrier() >> [parcel, freight]
    confirm(parcel, freight)
