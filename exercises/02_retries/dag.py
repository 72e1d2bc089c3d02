"""Exercise 2, the DAG: retries for a flaky API, and a task that must not retry.

`fetch_rates` GETs today's exchange rates from the rates API (`rates_api_url`), which answers a 503 now and then:
every task retries three times, a second apart (default_args). `convert` turns the day's USD amounts into
`currency`; a currency the API does not know is a mistake no retry fixes, so `convert` sets its own `retries=0`.
The API takes a bearer token, the password of the connection `rates_api`
(`AIRFLOW_CONN_RATES_API='{"conn_type": "http", "password": "<token>"}'`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
from airflow.sdk import DAG, BaseHook, Param, task

log = logging.getLogger(__name__)

with DAG(
    dag_id="exchange_rates",
    schedule=None,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=1)},
    params={
        "rates_api_url": Param(type="string", description="Base URL of the exchange rates API."),
        "amounts": Param([10.0, 2.5, 7.25], type="array", description="Today's amounts, in USD."),
        "currency": Param("EUR", type="string", description="The currency to convert them to."),
    },
    tags=["exercise"],
) as dag:

    @task
    def fetch_rates(**context: Any) -> dict[str, float]:
        token = BaseHook.get_connection("rates_api").password
        url = context["params"]["rates_api_url"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
            response = client.get("/data")
        response.raise_for_status()  # a 503 raises HTTPStatusError: the task fails this try and is retried
        log.info("rates fetched on try %d", context["ti"].try_number)
        return response.json()["rates"]

    @task(retries=0)
    def convert(rates: dict[str, float], **context: Any) -> dict[str, Any]:
        currency = context["params"]["currency"]
        rate = rates[currency]  # KeyError for a currency the API does not list
        total = round(sum(a * rate for a in context["params"]["amounts"]), 2)
        return {"currency": currency, "total": total}

    convert(fetch_rates())
