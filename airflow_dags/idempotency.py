"""Idempotent loads in Airflow 3: a partition file per day, written atomically, and rewritten only when its input
changed.

Airflow keeps no record of what a task computed before: a cleared task or a re-triggered run executes the task
again, so the task itself must make the second execution harmless. `load_first` loads a day's partition;
`load_again` loads it again, as a re-run would, with `rerun_rows` (the same rows unless a case gives a correction).
Every write that really happens is counted in `warehouse/loads.log`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task


# [START idempotency_load]
def fingerprint(rows: list[float]) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def load_partition(warehouse: Path, day: str, rows: list[float]) -> dict[str, Any]:
    if any(amount < 0 for amount in rows):
        raise ValueError(f"day {day}: negative amounts in {rows}")
    summary = {"day": day, "rows": len(rows), "total": round(sum(rows), 2), "fingerprint": fingerprint(rows)}
    target = warehouse / f"day={day}.json"
    # The partition records which input it was built from: the same input again means there is nothing to do.
    # This check, on the target itself, is Airflow's only "cache".
    if target.exists() and json.loads(target.read_text())["fingerprint"] == summary["fingerprint"]:
        return summary
    warehouse.mkdir(parents=True, exist_ok=True)
    # Write then rename: a try that dies half-way leaves the previous partition intact, never half a file.
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps({**summary, "amounts": rows}, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    with (warehouse / "loads.log").open("a", encoding="utf-8") as log:
        log.write(f"loaded day={day} rows={len(rows)} fingerprint={summary['fingerprint']}\n")
    return summary


# [END idempotency_load]

# [START idempotency_dag]
with DAG(
    dag_id="idempotency",
    schedule=None,
    params={
        "warehouse": Param("/tmp/warehouse", type="string"),
        "day": Param("2026-11-20", type="string", format="date"),
        "rows": Param([120.0, 35.5, 9.9], type="array", items={"type": "number"}),
        "rerun_rows": Param(None, type=["null", "array"], description="The re-run's input; null: the same rows."),
    },
    tags=["cookbook"],
) as dag:

    @task
    def load_first(params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        return load_partition(Path(params["warehouse"]), params["day"], params["rows"])

    # What clearing load_first and running it again would do, as a second task so one run shows both passes.
    @task
    def load_again(params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        rows = params["rows"] if params["rerun_rows"] is None else params["rerun_rows"]
        return load_partition(Path(params["warehouse"]), params["day"], rows)

    load_first() >> load_again()
# [END idempotency_dag]
