"""Exercise 3, a solution: the branch is an `if` on what the deciding task returns.

The path not taken is never called (no task run at all, where Airflow records a skip), and no trigger rule is
needed for the join: `shipment` is bound on whichever path ran.
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


@task
def confirm(order_id: str, shipment: dict) -> dict:
    get_run_logger().info("order %s ships by %s", order_id, shipment["carrier"])
    return {"order_id": order_id, **shipment}


@flow(name="shipping")
def shipping(order_id: str = "A-100", weight_kg: Annotated[float, Field(gt=0)] = 2.0) -> dict:
    """Ship the order by parcel up to 30 kg, by freight above, and confirm the carrier and the cost."""
    if choose_carrier(weight_kg) == "parcel":  # noqa: SIM108
        shipment = ship_parcel(weight_kg)
    else:
        shipment = ship_freight(weight_kg)
    return confirm(order_id, shipment)


if __name__ == "__main__":
    shipping.serve(name="shipping")
