"""Exercise 3, your translation: a branch and its join.

`make exercise N=3` runs this file and dag.py on the same cases and tells you what differs. Work through the TODOs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from pydantic import Field

PARCEL_LIMIT_KG = 30


@task
def choose_carrier(weight_kg: float) -> Literal["parcel", "freight"]:
    return "parcel" if weight_kg <= PARCEL_LIMIT_KG else "freight"


@task
def ship_parcel(weight_kg: float) -> dict:
    return {"carrier": "parcel", "cost": round(4.5 + 0.8 * weight_kg, 2)}


@task
def ship_freight(weight_kg: float) -> dict:
    return {"carrier": "freight", "cost": round(60 + 0.35 * weight_kg, 2)}


# TODO 2: once the flow calls only one shipping task, `confirm` needs one shipment, not two.
@task
def confirm(order_id: str, parcel: dict, freight: dict) -> dict:
    get_run_logger().info("order %s ships by %s", order_id, parcel["carrier"])
    return {"order_id": order_id, **parcel}


@flow(name="shipping")
def shipping(order_id: str = "A-100", weight_kg: Annotated[float, Field(gt=0)] = 2.0) -> dict:
    """Ship the order by parcel up to 30 kg, by freight above, and confirm the carrier and the cost."""
    # TODO 1: @task.branch becomes an `if`: call choose_carrier and call only the shipping task it chose. The
    #         other one must not run at all (Airflow skips it without running it).
    parcel = ship_parcel(weight_kg)
    freight = ship_freight(weight_kg)
    return confirm(order_id, parcel, freight)


if __name__ == "__main__":
    shipping.serve(name="shipping")
