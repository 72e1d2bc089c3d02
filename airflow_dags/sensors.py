"""Sensors in Airflow 3: wait for files (poke and reschedule), and for a condition with a soft fail.

The inbox is an `fs` connection (`AIRFLOW_CONN_FS_INBOX`), so the same DAG watches another directory in every
environment without a code change.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.standard.hooks.filesystem import FSHook
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import DAG, Param, PokeReturnValue, task

# Short on purpose: the harness proves the timeout paths, and nobody waits an hour in a test.
POKE_INTERVAL = 0.5
FILE_TIMEOUT = 4.0
ROWS_TIMEOUT = 3.0

with DAG(
    dag_id="sensors",
    schedule=None,
    params={"min_rows": Param(2, type="integer", minimum=1)},
    tags=["cookbook"],
) as dag:
    # [START sensors_files]
    # Poke mode: the sensor holds its worker slot and checks every poke_interval until timeout.
    wait_for_orders = FileSensor(
        task_id="wait_for_orders",
        fs_conn_id="fs_inbox",
        filepath="orders.csv",
        poke_interval=POKE_INTERVAL,
        timeout=FILE_TIMEOUT,
        mode="poke",
    )
    # Reschedule mode: between pokes the task gives its slot back and is rescheduled (UP_FOR_RESCHEDULE).
    wait_for_manifest = FileSensor(
        task_id="wait_for_manifest",
        fs_conn_id="fs_inbox",
        filepath="manifest.json",
        poke_interval=POKE_INTERVAL,
        timeout=FILE_TIMEOUT,
        mode="reschedule",
    )
    # [END sensors_files]

    # [START sensors_condition]
    # A condition, not a file: wait until the orders file has enough rows. soft_fail turns the
    # timeout into a skip, and the default trigger rule (all_success) then skips everything downstream.
    @task.sensor(poke_interval=POKE_INTERVAL, timeout=ROWS_TIMEOUT, mode="poke", soft_fail=True)
    def check_rows(params: dict | None = None) -> PokeReturnValue:
        assert params is not None
        orders = Path(FSHook("fs_inbox").get_path()) / "orders.csv"
        rows = [line for line in orders.read_text().splitlines()[1:] if line.strip()]
        return PokeReturnValue(is_done=len(rows) >= params["min_rows"], xcom_value=len(rows))

    @task
    def summarize(rows: int) -> dict[str, int]:
        manifest = Path(FSHook("fs_inbox").get_path()) / "manifest.json"
        return {"rows": rows, "manifest_bytes": manifest.stat().st_size}

    rows = check_rows()
    [wait_for_orders, wait_for_manifest] >> rows
    summarize(rows)
    # [END sensors_condition]
