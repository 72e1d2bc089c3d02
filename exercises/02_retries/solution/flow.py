"""Exercise 2, a solution: retries on the task that calls the flaky API, none on the one that cannot be fixed.

Prefect has no default_args: each task says its own retries, and a task without `retries=` is never retried.
The API token lives in the Secret block `rates-api-token` (`Secret(value="<token>").save("rates-api-token")`).
"""

from __future__ import annotations

import httpx
from prefect import flow, get_run_logger, runtime, task
from prefect.blocks.system import Secret

DEFAULT_AMOUNTS = [10.0, 2.5, 7.25]  # USD


@task(retries=3, retry_delay_seconds=1)
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
    """Fetch today's rates (retried three times, 1 s apart) and convert the USD `amounts` into `currency`."""
    return convert(fetch_rates(rates_api_url), amounts, currency)


if __name__ == "__main__":
    exchange_rates.serve(name="exchange-rates", parameters={"rates_api_url": "https://rates.example.com"})
