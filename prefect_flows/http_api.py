"""HTTP APIs in Prefect: httpx inside tasks, the API's address and token in a credentials block, a readiness
probe that polls until the API answers, a loop over its pages that honours `Retry-After`, and task retries for
the API's transient 5xx answers.

The block lives on the Prefect server (`OrdersApi(base_url=..., token=...).save("orders-api")`, once, from a shell
or CI). The API pages its orders (`GET /data?page=N` answers one page and the number of the next), limits its
callers' rate (429 with `Retry-After`), and answers 503 now and then; a token it rejects (401, 403) stays rejected.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from prefect import Task, flow, get_run_logger, task
from prefect.blocks.core import Block
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from pydantic import BaseModel, Field, SecretStr


# [START block]
class OrdersApi(Block):
    """Base URL and bearer token of the orders API: what Airflow's `orders_api` connection held."""

    _block_type_name = "Orders API"

    base_url: str = Field(description="Scheme, host and port, for example https://api.example.com")
    # SecretStr: shown as ******** in the UI, in repr() and in logs of the block object.
    token: SecretStr
    # httpx gives up after 5 s by default; HttpHook (requests) never does. Say which you mean.
    timeout_seconds: float = Field(10.0, gt=0)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token.get_secret_value()}"},
            timeout=self.timeout_seconds,
        )


# [END block]


# [START sensor]
POKE_INTERVAL = 1.0


@task(timeout_seconds=15)  # the sensor's timeout: the task run ends TimedOut, and is not retried
def wait_for_api(block_name: str) -> None:
    """Poll GET /health until the API says it is ready; a 503 is "still starting", any other error fails."""
    with OrdersApi.load(block_name).client() as client:
        while True:
            response = client.get("/health")
            if response.status_code != 503:
                response.raise_for_status()
                if response.json()["status"] == "ok":
                    return
            get_run_logger().info("the orders API is not ready (%s), asking again", response.status_code)
            time.sleep(POKE_INTERVAL)


# [END sensor]


# [START rate_limit]
MAX_RETRY_AFTER = 30  # the longest Retry-After the walk sleeps through in place, holding its worker
MAX_THROTTLED = 3  # 429 answers in a row for one page before the walk gives up


class CredentialsRejected(Exception):
    """The API refused the token (401, 403): no retry can fix that."""


class RateLimited(Exception):
    """The API kept refusing for our rate, or asked for a longer pause than the walk waits in place."""


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds: delay-seconds or an HTTP-date (RFC 9110); None if absent or unreadable."""
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def get_page(client: httpx.Client, page: int) -> dict[str, Any]:
    """One page of orders; sleeps through a 429 as long as its Retry-After asks, then asks again."""
    throttled = 0
    while True:
        response = client.get("/data", params={"page": page})
        if response.status_code in (401, 403):
            raise CredentialsRejected(f"the orders API refused the block's token ({response.status_code})")
        if response.status_code != 429:
            response.raise_for_status()  # a 5xx raises httpx's HTTPStatusError: the task's retries are for that
            return response.json()
        throttled += 1
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait > MAX_RETRY_AFTER or throttled > MAX_THROTTLED:
            raise RateLimited(f"page {page}: rate limited {throttled} times, Retry-After {wait}")
        get_run_logger().info("page %d: rate limited, waiting %g s as Retry-After asks", page, wait)
        time.sleep(wait)


# [END rate_limit]


# [START fetch]
def retry_unless_rejected(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Airflow's RetryRule(exception=CredentialsRejected, action=FAIL): False ends the task run as Failed."""
    return not isinstance(state.result(raise_on_failure=False), CredentialsRejected)


class Summary(BaseModel):
    order_count: int
    ids: list[str]
    total: float


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_unless_rejected, timeout_seconds=300)
def fetch_orders(block_name: str) -> list[dict[str, Any]]:
    # Loaded inside the task: the token is never a task argument, result or cache key.
    orders: list[dict[str, Any]] = []
    page: int | None = 1
    with OrdersApi.load(block_name).client() as client:
        while page is not None:  # a retry of the task starts the walk again from page 1
            body = get_page(client, page)
            orders += body["items"]
            page = body["next_page"]
    get_run_logger().info("fetched %d orders", len(orders))
    return orders


@task
def summarize(orders: list[dict[str, Any]]) -> Summary:
    return Summary(
        order_count=len(orders),
        ids=[order["id"] for order in orders],
        total=round(sum(order["amount"] for order in orders), 2),
    )


@flow(name="http-api")
def http_api(block_name: str = "orders-api") -> Summary:
    """Wait until the orders API is ready, fetch every page of its orders and summarise them.

    The API's URL and token come from the `OrdersApi` block named `block_name`. A 429 is waited out in place for
    as long as its Retry-After asks (up to 30 s, three times a page); a 5xx is retried twice, 2 s apart, from the
    first page; a rejected token fails the run at once.
    """
    wait_for_api(block_name)  # raises if the API never got ready, so no page is asked for
    return summarize(fetch_orders(block_name))


# [END fetch]


if __name__ == "__main__":
    http_api.serve(name="http-api")
