"""Deferrable sensors in Airflow 3: a wait the triggerer holds, and a sensor that gives its slot back between pokes.

Neither wait keeps a worker slot: the deferred sensor is handed to the triggerer (one asyncio loop that holds
thousands of waits), and the reschedule-mode sensor ends after every poke and is started again by the scheduler.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import DAG, Param, PokeReturnValue, task

# Short on purpose: the harness proves the paths, and nobody waits an hour in a test.
WINDOW = timedelta(seconds=2)
POKE_INTERVAL = 1.0
EXPORT_TIMEOUT = 20.0

with DAG(
    dag_id="deferrable",
    schedule=None,
    params={"inbox": Param(".", type="string")},
    tags=["cookbook"],
) as dag:
    # [START deferrable_window]
    # deferrable=True: the task computes its target moment (run_after + delta), raises TaskDeferred and
    # leaves its worker. The triggerer's DateTimeTrigger fires at that moment and the scheduler queues the
    # task again, to run execute_complete. `timeout` is enforced by the scheduler while it is deferred.
    wait_for_window = TimeDeltaSensor(
        task_id="wait_for_window",
        delta=WINDOW,
        deferrable=True,
        timeout=60,
    )
    # [END deferrable_window]

    # [START deferrable_reschedule]
    # mode="reschedule": each poke is a short task execution; between pokes the task instance is
    # UP_FOR_RESCHEDULE and holds no slot. The timeout counts from the first poke, across reschedules.
    @task.sensor(poke_interval=POKE_INTERVAL, timeout=EXPORT_TIMEOUT, mode="reschedule")
    def wait_for_export(params: dict | None = None) -> PokeReturnValue:
        assert params is not None
        export = Path(params["inbox"]) / "export.csv"
        if not export.exists():
            return PokeReturnValue(is_done=False)
        rows = [line for line in export.read_text().splitlines()[1:] if line.strip()]
        return PokeReturnValue(is_done=True, xcom_value=len(rows))

    @task
    def load(rows: int) -> dict[str, int]:
        return {"rows": rows}

    rows = wait_for_export()
    wait_for_window >> load(rows)
    # [END deferrable_reschedule]
