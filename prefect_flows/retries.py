"""Retries in Prefect: `retries` and `retry_delay_seconds` on each task, exponential backoff as a list of delays
with jitter, and a `retry_condition_fn` that refuses to retry an error that no retry can fix.

`fetch_orders` GETs the day's orders from the shop's orders API (`orders_api_url`); `load_orders` prices them in
euros at the rates of the shop's rates API (`rates_api_url`) and writes them to `<warehouse_dir>/orders.json`.
Both APIs answer a 503 now and then (a deploy, an overloaded node): the retries are for that. An order with a
negative amount is bad data, which no retry fixes. Both APIs take the shop's API token, kept in the Secret block
`shop-api-token` (`Secret(value="<token>").save("shop-api-token")`, once, from a shell or CI).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
from prefect import Task, flow, get_run_logger, runtime, task
from prefect.blocks.system import Secret
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

SHOP_TOKEN_BLOCK = "shop-api-token"


def get_json(base_url: str) -> Any:
    """GET /data of one of the shop's APIs with the shop's token; a 5xx answer raises HTTPStatusError."""
    # Loaded inside the task that calls the API: the token is never a task argument, result or cache key.
    token = Secret.load(SHOP_TOKEN_BLOCK).get()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        response = client.get("/data")
    response.raise_for_status()
    return response.json()


# [START retries_defaults]
# Prefect has no default_args: a dict of options spread into each decorator says the same thing once.
# Without retry_delay_seconds, Prefect retries at once (its default delay is 0, Airflow's is 300 s).
TASK_DEFAULTS: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1}


@task(**TASK_DEFAULTS)
def fetch_orders(orders_api_url: str) -> list[dict[str, Any]]:
    # A 503 raises here and the task is retried; run_count is Airflow's try_number: 1, then one more per retry.
    orders = get_json(orders_api_url)["orders"]
    get_run_logger().info("fetched %d orders on try %d", len(orders), runtime.task_run.run_count)
    return orders


# [END retries_defaults]


# [START retries_backoff]
def retry_unless_bad_data(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Airflow's RetryRule(exception=ValueError, action=FAIL): False ends the task run as Failed."""
    # A Failed state's result is the exception the run raised; raise_on_failure=False returns it instead.
    error = state.result(raise_on_failure=False)
    return not isinstance(error, ValueError)


# Airflow's retry_delay=0.5 s, retry_exponential_backoff=2.0, max_retry_delay=4 s, spelled out as a list: one
# delay per retry, the last repeated if there are more retries than delays. Airflow rounds each delay up to whole
# seconds, at least 1; Prefect keeps fractions and has no max delay, so both are done here: 1, 1, 2 and 4 s.
MAX_RETRY_DELAY = 4.0
BACKOFF = [min(max(1.0, float(math.ceil(d))), MAX_RETRY_DELAY) for d in exponential_backoff(backoff_factor=0.5)(4)]


@task(
    retries=4,
    retry_delay_seconds=BACKOFF,
    # Random jitter: each delay is drawn around its value, at most 1.5 times it.
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_unless_bad_data,
)
def load_orders(orders: list[dict[str, Any]], rates_api_url: str, warehouse_dir: str) -> dict[str, Any]:
    bad = [row["id"] for row in orders if row["amount"] < 0]
    if bad:
        raise ValueError(f"negative amounts in {bad}")
    rates = get_json(rates_api_url)["rates"]
    priced = [{**row, "amount_eur": round(row["amount"] * rates[row["currency"]], 2)} for row in orders]
    target = Path(warehouse_dir) / "orders.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(priced, indent=2) + "\n", encoding="utf-8")
    get_run_logger().info("loaded %d orders into %s on try %d", len(priced), target, runtime.task_run.run_count)
    return {"rows": len(priced), "total_eur": round(sum(row["amount_eur"] for row in priced), 2)}


@flow(name="retries")
def retries(orders_api_url: str, rates_api_url: str, warehouse_dir: str) -> dict[str, Any]:
    """Fetch the day's orders, price them in euros and load them into `warehouse_dir`; return the count and total.

    A failing API call is retried: twice, 1 s apart, for the orders; four times with a backoff of 1, 1, 2 and 4 s
    (jittered) for the rates. An order with a negative amount fails the run at once, without a retry.
    """
    # A task that fails after its last retry raises here, so the flow fails and load_orders is never called.
    orders = fetch_orders(orders_api_url)
    return load_orders(orders, rates_api_url, warehouse_dir)


# [END retries_backoff]


if __name__ == "__main__":
    retries.serve(
        name="retries",
        parameters={
            "orders_api_url": "https://shop.example.com/orders",
            "rates_api_url": "https://shop.example.com/rates",
            "warehouse_dir": "/srv/warehouse/orders",
        },
    )
