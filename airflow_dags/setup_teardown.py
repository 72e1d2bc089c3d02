"""Setup and teardown tasks in Airflow 3: @setup, @teardown, .as_teardown(), and what they do to the run state.

Two nested resources in the export directory (the Param `export_dir`): a lock file (outer) and a staging directory
(inner). The work loads orders into staging and publishes them to `out/`; the teardowns remove both resources and
keep a record of it in `audit.log`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, setup, task, teardown

SAMPLE_ORDERS = [{"id": "A-1", "amount": 120.0}, {"id": "A-2", "amount": 35.5}, {"id": "A-3", "amount": 9.5}]


def audit(export_dir: str, line: str) -> None:
    with (Path(export_dir) / "audit.log").open("a") as log:
        log.write(line + "\n")


# [START setup_teardown_dag]
with DAG(
    dag_id="setup_teardown",
    schedule=None,
    params={
        "export_dir": Param(
            "/tmp", type="string", description="An existing directory for the lock, staging, out/ and audit.log."
        ),
        "orders": Param(SAMPLE_ORDERS, type="array"),
    },
    tags=["cookbook"],
) as dag:

    @setup
    def acquire_lock(params: dict[str, Any] | None = None) -> str:
        assert params is not None
        lock = Path(params["export_dir"]) / "export.lock"
        with lock.open("x") as f:  # "x": fails if another run holds the lock
            f.write("held by setup_teardown\n")
        return str(lock)

    @setup
    def create_staging(params: dict[str, Any] | None = None) -> str:
        assert params is not None
        staging = Path(params["export_dir"]) / "staging"
        staging.mkdir()  # fails if a crashed run left its staging behind
        return str(staging)

    @task
    def load_orders(staging: str, params: dict[str, Any] | None = None) -> int:
        assert params is not None
        with (Path(staging) / "orders.csv").open("w") as out:
            for order in params["orders"]:
                if order["amount"] < 0:
                    raise ValueError(f"order {order['id']} has a negative amount")
                out.write(f"{order['id']},{order['amount']:.2f}\n")
        return len(params["orders"])

    @task
    def publish(staging: str, rows: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        target = Path(params["export_dir"]) / "out" / "orders.csv"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(Path(staging) / "orders.csv", target)
        return {"rows": rows, "published": str(target)}

    # A teardown runs once its upstream tasks are done, whatever their state, as long as its setup succeeded.
    # Its failure does not fail the run (on_failure_fail_dagrun=False is the default).
    @teardown
    def drop_staging(staging: str, params: dict[str, Any] | None = None) -> None:
        assert params is not None
        names = sorted(p.name for p in Path(staging).iterdir())
        # Staged data is never deleted without a record of it: the record first, then the drop.
        audit(params["export_dir"], f"dropping staging: {', '.join(names) or 'empty'}")
        shutil.rmtree(staging)

    @task
    def release_lock(lock: str, params: dict[str, Any] | None = None) -> None:
        assert params is not None
        # A lock never outlives its run because its record failed: the release first, then the record.
        Path(lock).unlink()
        audit(params["export_dir"], "released lock")

    lock = acquire_lock()
    staging = create_staging()
    published = publish(staging, load_orders(staging))
    # Passing the setup's output makes staging -> drop_staging an edge; the tasks between them are its scope.
    dropped = drop_staging(staging)
    # .as_teardown turns an ordinary task into a teardown, here the outer one, paired with its setup.
    released = release_lock(lock).as_teardown(setups=lock)
    lock >> staging
    published >> dropped >> released
# [END setup_teardown_dag]
