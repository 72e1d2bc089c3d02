"""Retries in Prefect: `retries` and `retry_delay_seconds` on each task, exponential backoff as a list of delays
with jitter, and a `retry_condition_fn` that refuses to retry an error that no retry can fix.

`fetch_orders` fails its first `fetch_failures` runs with a ConnectionError. `load_orders` fails its first
`load_failures` runs the same way, and raises ValueError at once when a row is bad. Every run is written to
`out/attempts.log`, so the flow leaves a record of how often each task ran and why it stopped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from prefect import Task, flow, runtime, task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

ORDERS = [{"id": "A-1", "amount": 120.0}, {"id": "A-2", "amount": 35.5}, {"id": "A-3", "amount": 0.99}]
BAD_ROW = {"id": "A-4", "amount": -5.0}
JOURNAL = Path("out/attempts.log")


def journal(line: str) -> None:
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


# [START retries_defaults]
# Prefect has no default_args: a dict of options spread into each decorator says the same thing once.
# Without retry_delay_seconds, Prefect retries at once (its default delay is 0, Airflow's is 300 s).
TASK_DEFAULTS: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1}


@task(**TASK_DEFAULTS)
def fetch_orders(fetch_failures: int, bad_row: bool) -> list[dict[str, Any]]:
    # run_count is Airflow's try_number: 1 on the first run, one more on every retry.
    attempt = runtime.task_run.run_count
    if attempt <= fetch_failures:
        journal(f"fetch_orders try {attempt}: ConnectionError")
        raise ConnectionError(f"orders API unavailable (try {attempt})")
    journal(f"fetch_orders try {attempt}: ok")
    return ORDERS + ([BAD_ROW] if bad_row else [])


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
def load_orders(orders: list[dict[str, Any]], load_failures: int) -> dict[str, Any]:
    attempt = runtime.task_run.run_count
    bad = [row["id"] for row in orders if row["amount"] < 0]
    if bad:
        journal(f"load_orders try {attempt}: ValueError")
        raise ValueError(f"negative amounts in {bad}")
    if attempt <= load_failures:
        journal(f"load_orders try {attempt}: ConnectionError")
        raise ConnectionError(f"warehouse unavailable (try {attempt})")
    Path("out/orders.json").write_text(json.dumps(orders, indent=2) + "\n", encoding="utf-8")
    journal(f"load_orders try {attempt}: ok")
    return {"rows": len(orders), "total": round(sum(row["amount"] for row in orders), 2)}


@flow(name="retries")
def retries(fetch_failures: int = 0, load_failures: int = 0, bad_row: bool = False) -> dict[str, Any]:
    # A task that fails after its last retry raises here, so the flow fails and load_orders is never called.
    orders = fetch_orders(fetch_failures, bad_row)
    return load_orders(orders, load_failures)


# [END retries_backoff]


if __name__ == "__main__":
    print(retries(fetch_failures=2))
