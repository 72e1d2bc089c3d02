"""Sensors in Prefect: a polling task with an interval and a timeout, and a soft fail as a "Skipped" state."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, task
from prefect.states import Completed, State

POKE_INTERVAL = 0.5
FILE_TIMEOUT = 4.0
ROWS_TIMEOUT = 3.0


# [START sensors_poll]
def poll(check, *, interval: float, timeout: float):
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
        return Completed(name="Skipped", message=f"fewer than {min_rows} rows after {ROWS_TIMEOUT} s")
    return count_rows(orders)


@task
def summarize(rows: int, manifest: Path) -> dict[str, int]:
    return {"rows": rows, "manifest_bytes": manifest.stat().st_size}


@flow(name="sensors")
def sensors(inbox: Path, min_rows: int = 2) -> dict[str, int] | None:
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
    print(sensors(Path("incoming")))
