"""Retries in Airflow 3: retries and retry_delay from default_args, exponential backoff capped by max_retry_delay,
and a retry_policy that refuses to retry an error that no retry can fix.

`fetch_orders` fails its first `fetch_failures` tries with a ConnectionError. `load_orders` fails its first
`load_failures` tries the same way, and raises ValueError at once when a row is bad. Every try is written to
`out/attempts.log`, so the run leaves a record of how often each task ran and why it stopped.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, ExceptionRetryPolicy, Param, RetryAction, RetryRule, task

ORDERS = [{"id": "A-1", "amount": 120.0}, {"id": "A-2", "amount": 35.5}, {"id": "A-3", "amount": 0.99}]
BAD_ROW = {"id": "A-4", "amount": -5.0}
JOURNAL = Path("out/attempts.log")


def journal(line: str) -> None:
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


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
        "fetch_failures": Param(0, type="integer", minimum=0, description="Tries of fetch_orders that fail."),
        "load_failures": Param(0, type="integer", minimum=0, description="Tries of load_orders that fail."),
        "bad_row": Param(False, type="boolean", description="Add a row with a negative amount."),
    },
    tags=["cookbook"],
) as dag:

    @task
    def fetch_orders(**context: Any) -> list[dict[str, Any]]:
        # try_number counts from 1 and goes up on every retry: the failure is decided by it, not by chance.
        attempt = context["ti"].try_number
        if attempt <= context["params"]["fetch_failures"]:
            journal(f"fetch_orders try {attempt}: ConnectionError")
            raise ConnectionError(f"orders API unavailable (try {attempt})")
        journal(f"fetch_orders try {attempt}: ok")
        return ORDERS + ([BAD_ROW] if context["params"]["bad_row"] else [])

    # [END retries_defaults]

    # [START retries_backoff]
    # ValueError means bad data: no retry can fix it, so the policy fails the task on its first try. Anything
    # else falls through to the standard logic: up to 4 retries, with exponential backoff.
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
        attempt = context["ti"].try_number
        bad = [row["id"] for row in orders if row["amount"] < 0]
        if bad:
            journal(f"load_orders try {attempt}: ValueError")
            raise ValueError(f"negative amounts in {bad}")
        if attempt <= context["params"]["load_failures"]:
            journal(f"load_orders try {attempt}: ConnectionError")
            raise ConnectionError(f"warehouse unavailable (try {attempt})")
        Path("out/orders.json").write_text(json.dumps(orders, indent=2) + "\n", encoding="utf-8")
        journal(f"load_orders try {attempt}: ok")
        return {"rows": len(orders), "total": round(sum(row["amount"] for row in orders), 2)}

    load_orders(fetch_orders())
    # [END retries_backoff]
