"""Retries in Airflow 3: retries and retry_delay from default_args, exponential backoff capped by max_retry_delay,
and a retry_policy that refuses to retry an error that no retry can fix.

`fetch_orders` GETs the day's orders from the shop's orders API (`orders_api_url`); `load_orders` prices them in
euros at the rates of the shop's rates API (`rates_api_url`) and writes them to `<warehouse_dir>/orders.json`.
Both APIs answer a 503 now and then (a deploy, an overloaded node): the retries are for that. An order with a
negative amount is bad data, which no retry fixes. Both APIs take the shop's API token, the password of the
connection `shop_api` (for example `AIRFLOW_CONN_SHOP_API='{"conn_type": "http", "password": "<token>"}'`).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from airflow.sdk import DAG, BaseHook, ExceptionRetryPolicy, Param, RetryAction, RetryRule, task

SHOP_CONN_ID = "shop_api"
log = logging.getLogger(__name__)


def get_json(base_url: str) -> Any:
    """GET /data of one of the shop's APIs with the shop's token; a 5xx answer raises HTTPStatusError."""
    token = BaseHook.get_connection(SHOP_CONN_ID).password
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        response = client.get("/data")
    response.raise_for_status()
    return response.json()


# [START retries_defaults]
# Every task of the DAG inherits these unless it sets its own. Seconds, not minutes, so the cases run fast;
# without retry_delay, Airflow would wait its default of 300 s between tries.
default_args = {
    "retries": 2,
    "retry_delay": timedelta(seconds=1),
}

with DAG(
    dag_id="retries",
    schedule=None,
    default_args=default_args,
    params={
        "orders_api_url": Param(type="string", description="Base URL of the shop's orders API."),
        "rates_api_url": Param(type="string", description="Base URL of the shop's exchange rates API."),
        "warehouse_dir": Param(type="string", description="Directory the priced orders are loaded into."),
    },
    tags=["cookbook"],
) as dag:

    @task
    def fetch_orders(**context: Any) -> list[dict[str, Any]]:
        # A 503 raises here and the task is retried; try_number counts from 1 and goes up on every retry.
        orders = get_json(context["params"]["orders_api_url"])["orders"]
        log.info("fetched %d orders on try %d", len(orders), context["ti"].try_number)
        return orders

    # [END retries_defaults]

    # [START retries_backoff]
    # ValueError means bad data: no retry can fix it, so the policy fails the task on its first try. Anything
    # else (a 503 of the rates API) falls through to the standard logic: up to 4 retries, with exponential backoff.
    NOT_RETRYABLE = ExceptionRetryPolicy(
        rules=[RetryRule(exception=ValueError, action=RetryAction.FAIL, reason="bad data: a retry cannot fix it")]
    )

    @task(
        retries=4,
        retry_delay=timedelta(seconds=0.5),
        # The multiplier: delay * 2 ** (try_number - 1), rounded UP to whole seconds, plus a hash-based jitter.
        retry_exponential_backoff=2.0,
        max_retry_delay=timedelta(seconds=4),
        retry_policy=NOT_RETRYABLE,
    )
    def load_orders(orders: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        bad = [row["id"] for row in orders if row["amount"] < 0]
        if bad:
            raise ValueError(f"negative amounts in {bad}")
        rates = get_json(context["params"]["rates_api_url"])["rates"]
        priced = [{**row, "amount_eur": round(row["amount"] * rates[row["currency"]], 2)} for row in orders]
        target = Path(context["params"]["warehouse_dir"]) / "orders.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(priced, indent=2) + "\n", encoding="utf-8")
        log.info("loaded %d orders into %s on try %d", len(priced), target, context["ti"].try_number)
        return {"rows": len(priced), "total_eur": round(sum(row["amount_eur"] for row in priced), 2)}

    load_orders(fetch_orders())
    # [END retries_backoff]
