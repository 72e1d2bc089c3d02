"""XCom in Prefect: tasks return values, and typed Pydantic models replace keyed XComs."""

from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field


# [START xcom_models]
class Order(BaseModel):
    id: str
    amount: float


# One model replaces `multiple_outputs=True`: each field is a named output, and it is typed.
class SplitOrders(BaseModel):
    valid: list[Order]
    rejected: list[Order]


class Summary(BaseModel):
    valid_count: int
    rejected_count: int
    total: float


# [END xcom_models]


SAMPLE_ORDERS = [
    Order(id="A-1", amount=120.0),
    Order(id="A-2", amount=35.5),
    Order(id="A-3", amount=-4.0),
]


# [START xcom_tasks]
@task
def split_orders(orders: list[Order]) -> SplitOrders:
    return SplitOrders(
        valid=[o for o in orders if o.amount > 0],
        rejected=[o for o in orders if o.amount <= 0],
    )


@task
def check_rejected(parts: SplitOrders, max_rejected: int) -> int:
    # Where Airflow pushed `rejected_count` under a key, the task simply returns it.
    if len(parts.rejected) > max_rejected:
        raise ValueError(f"{len(parts.rejected)} rejected orders, at most {max_rejected} allowed")
    get_run_logger().info("%d rejected orders, at most %d allowed", len(parts.rejected), max_rejected)
    return len(parts.rejected)


@task
def summarize(valid: list[Order], rejected_count: int) -> Summary:
    return Summary(
        valid_count=len(valid),
        rejected_count=rejected_count,
        total=round(sum(o.amount for o in valid), 2),
    )


@flow(name="xcom")
def xcom(orders: list[Order] = SAMPLE_ORDERS, max_rejected: Annotated[int, Field(ge=0)] = 1) -> Summary:
    """Split the orders into valid (amount above 0) and rejected ones, and summarise the valid ones.

    Fails, with no summary, when more than `max_rejected` orders are rejected. Returns the two counts and the valid
    orders' total.
    """
    # The DAG's extract read the orders out of params; here they are the parameter, passed straight in.
    parts = split_orders(orders)
    rejected_count = check_rejected(parts, max_rejected)
    return summarize(parts.valid, rejected_count)


# [END xcom_tasks]


if __name__ == "__main__":
    xcom.serve(name="xcom")
