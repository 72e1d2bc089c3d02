"""Exercise 2, your translation: retries for a flaky API.

The API token lives in the Secret block `rates-api-token`. `make exercise N=2` runs this file and dag.py on the
same cases (an API that answers 503 first) and tells you what differs. Work through the TODO.
"""

from __future__ import annotations

import httpx
from prefect import flow, get_run_logger, runtime, task
from prefect.blocks.system import Secret

DEFAULT_AMOUNTS = [10.0, 2.5, 7.25]  # USD


# TODO: the DAG's default_args retry every task 3 times, 1 s apart; Prefect has no default_args, and a task
#       without `retries=` never retries. Give this task the DAG's retries and delay. Should `convert` get them
#       too? Read its @task in dag.py.
@task
def fetch_rates(rates_api_url: str) -> dict[str, float]:
    token = Secret.load("rates-api-token").get()
    with httpx.Client(base_url=rates_api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        response = client.get("/data")
    response.raise_for_status()
    get_run_logger().info("rates fetched on try %d", runtime.task_run.run_count)
    return response.json()["rates"]


@task
def convert(rates: dict[str, float], amounts: list[float], currency: str) -> dict:
    rate = rates[currency]
    return {"currency": currency, "total": round(sum(a * rate for a in amounts), 2)}


@flow(name="exchange-rates")
def exchange_rates(rates_api_url: str, amounts: list[float] = DEFAULT_AMOUNTS, currency: str = "EUR") -> dict:
    """Fetch today's rates and convert the USD `amounts` into `currency`."""
    return convert(fetch_rates(rates_api_url), amounts, currency)


if __name__ == "__main__":
    exchange_rates.serve(name="exchange-rates", parameters={"rates_api_url": "https://rates.example.com"})
