"""Sensors in Prefect: a polling task with an interval and a timeout, and a soft fail as a "Skipped" state."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from prefect import flow, get_run_logger, task
from prefect.states import Completed, State

POKE_INTERVAL = 0.5
FILE_TIMEOUT = 4.0
ROWS_TIMEOUT = 3.0

T = TypeVar("T")


# [START sensors_poll]
def poll(check: Callable[[], T], *, interval: float, timeout: float) -> T:
    """Call `check` every `interval` seconds until it returns something truthy, or give up after `timeout`.

    Returns the last value either way, so the caller decides whether giving up is a failure or a skip.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@task
def wait_for_file(inbox: Path, name: str) -> Path:
    path = inbox / name
    if not poll(path.exists, interval=POKE_INTERVAL, timeout=FILE_TIMEOUT):
        # Same meaning as AirflowSensorTimeout: the task fails, and so does everything that needs it.
        raise TimeoutError(f"{path} did not appear within {FILE_TIMEOUT} s")
    get_run_logger().info("found %s", path)
    return path


# Two names for one function, as the DAG has two FileSensor tasks.
wait_for_orders = wait_for_file.with_options(name="wait_for_orders")
wait_for_manifest = wait_for_file.with_options(name="wait_for_manifest")
# [END sensors_poll]


# [START sensors_condition]
def count_rows(orders: Path) -> int:
    return len([line for line in orders.read_text().splitlines()[1:] if line.strip()])


@task
def check_rows(orders: Path, min_rows: int) -> int | State:
    rows = poll(lambda: count_rows(orders) >= min_rows, interval=POKE_INTERVAL, timeout=ROWS_TIMEOUT)
    if not rows:
        # Airflow's soft_fail: not a failure, not a success either. Prefect has no "skipped" state type,
        # so the task finishes Completed with the name "Skipped", which the UI shows and callers can test.
        get_run_logger().warning("fewer than %d rows in %s after %s s: skipped", min_rows, orders, ROWS_TIMEOUT)
        return Completed(name="Skipped", message=f"fewer than {min_rows} rows after {ROWS_TIMEOUT} s")
    count = count_rows(orders)
    get_run_logger().info("%s: %d rows, %d needed", orders, count, min_rows)
    return count


@task
def summarize(rows: int, manifest: Path) -> dict[str, int]:
    return {"rows": rows, "manifest_bytes": manifest.stat().st_size}


@flow(name="sensors")
def sensors(inbox: Path, min_rows: int = 2) -> dict[str, int] | None:
    """Wait for `orders.csv` and `manifest.json` to land in `inbox`, then summarise the orders.

    Fails if either file is still missing after FILE_TIMEOUT seconds. If the orders file holds fewer than `min_rows`
    data rows after ROWS_TIMEOUT seconds, the row check ends "Skipped", no summary is made and the run still succeeds
    (returns None); otherwise it returns the row count and the manifest's size in bytes.
    """
    # Submitted, not called: both waits run at once, like two sensors without dependencies between them.
    orders = wait_for_orders.submit(inbox, "orders.csv")
    manifest = wait_for_manifest.submit(inbox, "manifest.json")
    checked = check_rows(orders, min_rows, wait_for=[manifest], return_state=True)
    if checked.name == "Skipped":
        # Airflow's all_success trigger rule skips the downstream of a skipped task; here it is an `if`.
        return None
    if not checked.is_completed():
        # The check never ran (NotReady) because a wait failed: fail the flow with that wait's own error.
        for wait in (orders, manifest):
            wait.result()
    return summarize(checked.result(), manifest)


# [END sensors_condition]


if __name__ == "__main__":
    sensors.serve(name="sensors", parameters={"inbox": "incoming"})
