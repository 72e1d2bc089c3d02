"""HTTP APIs in Airflow 3: an `HttpSensor` waits until the orders API is ready, an `@task` walks its pages with the
HTTP provider's `HttpHook`, and a summary task counts what came back.

Both reach the API through the connection `orders_api`: its host, port and schema make the base URL, and its
password is the API's bearer token, for example `AIRFLOW_CONN_ORDERS_API='{"conn_type": "http", "host":
"api.example.com", "schema": "https", "password": "<token>"}'`. The API pages its orders (`GET /data?page=N`
answers one page and the number of the next), limits its callers' rate (429 with `Retry-After`), and answers 503
now and then; a token it rejects (401, 403) stays rejected.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from airflow.providers.http.hooks.http import HttpHook
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import DAG, BaseHook, ExceptionRetryPolicy, RetryAction, RetryRule, task

ORDERS_CONN_ID = "orders_api"
log = logging.getLogger(__name__)


# [START rate_limit]
REQUEST_TIMEOUT = 10  # seconds per request: HttpHook's default is None, and requests then waits for ever
MAX_RETRY_AFTER = 30  # the longest Retry-After the walk sleeps through in place, holding its worker slot
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


def get_page(hook: HttpHook, headers: dict[str, str], page: int) -> dict[str, Any]:
    """One page of orders; sleeps through a 429 as long as its Retry-After asks, then asks again."""
    throttled = 0
    while True:
        # check_response=False: the hook returns every answer instead of raising AirflowException("429:...").
        response = hook.run(
            "data",
            data={"page": page},
            headers=headers,
            extra_options={"check_response": False, "timeout": REQUEST_TIMEOUT},
        )
        if response.status_code in (401, 403):
            raise CredentialsRejected(
                f"the orders API refused the token of {ORDERS_CONN_ID!r} ({response.status_code})"
            )
        if response.status_code != 429:
            response.raise_for_status()  # a 5xx raises requests' HTTPError: the task's retries are for that
            return response.json()
        throttled += 1
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait > MAX_RETRY_AFTER or throttled > MAX_THROTTLED:
            raise RateLimited(f"page {page}: rate limited {throttled} times, Retry-After {wait}")
        log.info("page %d: rate limited, waiting %g s as Retry-After asks", page, wait)
        time.sleep(wait)


# [END rate_limit]


with DAG(dag_id="http_api", schedule=None, tags=["cookbook"]) as dag:
    # [START sensor]
    wait_for_api = HttpSensor(
        task_id="wait_for_api",
        http_conn_id=ORDERS_CONN_ID,
        endpoint="health",
        # HttpSensor pokes again only on a 404 by default; any other error status fails it at once.
        response_error_codes_allowlist=["503"],
        response_check=lambda response: response.json()["status"] == "ok",
        extra_options={"timeout": REQUEST_TIMEOUT},
        poke_interval=1,
        timeout=15,  # seconds of poking before AirflowSensorTimeout, which is never retried
        mode="poke",  # holds its worker slot between pokes; "reschedule" frees it, for waits of minutes
    )
    # [END sensor]

    # [START fetch]
    @task(
        retries=2,
        retry_delay=timedelta(seconds=2),
        # A rejected token stays rejected: fail now rather than spend the retries (and risk a lockout).
        retry_policy=ExceptionRetryPolicy(
            rules=[RetryRule(exception=CredentialsRejected, action=RetryAction.FAIL, reason="token refused")]
        ),
        execution_timeout=timedelta(minutes=5),
    )
    def fetch_orders() -> list[dict[str, Any]]:
        # HttpHook sends basic auth when the connection has a login; a bearer token is a header we build.
        token = BaseHook.get_connection(ORDERS_CONN_ID).password
        headers = {"Authorization": f"Bearer {token}"}
        hook = HttpHook(method="GET", http_conn_id=ORDERS_CONN_ID)
        orders: list[dict[str, Any]] = []
        page: int | None = 1
        while page is not None:  # a retry of the task starts the walk again from page 1
            body = get_page(hook, headers, page)
            orders += body["items"]
            page = body["next_page"]
        log.info("fetched %d orders", len(orders))
        return orders

    @task
    def summarize(orders: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "order_count": len(orders),
            "ids": [order["id"] for order in orders],
            "total": round(sum(order["amount"] for order in orders), 2),
        }

    orders = fetch_orders()
    wait_for_api >> orders  # no page is asked for before the API is ready
    summarize(orders)
    # [END fetch]
