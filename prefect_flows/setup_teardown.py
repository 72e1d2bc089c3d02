"""Setup and teardown in Prefect: context managers built on try/finally around ordinary tasks.

Two nested resources in the export directory (the parameter `export_dir`): a lock file (outer) and a staging
directory (inner). The work loads orders into staging and publishes them to `out/`; the teardowns remove both
resources and keep a record of it in `audit.log`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import Task, flow, get_run_logger, task
from pydantic import BaseModel, DirectoryPath


class Order(BaseModel):
    id: str
    amount: float


SAMPLE_ORDERS = [Order(id="A-1", amount=120.0), Order(id="A-2", amount=35.5), Order(id="A-3", amount=9.5)]


def audit(export_dir: Path, line: str) -> None:
    with (export_dir / "audit.log").open("a") as log:
        log.write(line + "\n")


# [START setup_teardown_tasks]
@task
def acquire_lock(export_dir: Path) -> Path:
    lock = export_dir / "export.lock"
    with lock.open("x") as f:  # "x": fails if another run holds the lock
        f.write("held by setup_teardown\n")
    return lock


@task
def create_staging(export_dir: Path) -> Path:
    staging = export_dir / "staging"
    staging.mkdir()  # fails if a crashed run left its staging behind
    return staging


@task
def load_orders(staging: Path, orders: list[Order]) -> int:
    with (staging / "orders.csv").open("w") as out:
        for order in orders:
            if order.amount < 0:
                raise ValueError(f"order {order.id} has a negative amount")
            out.write(f"{order.id},{order.amount:.2f}\n")
    return len(orders)


@task
def publish(export_dir: Path, staging: Path, rows: int) -> dict[str, Any]:
    target = export_dir / "out" / "orders.csv"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(staging / "orders.csv", target)
    return {"rows": rows, "published": str(target)}


@task
def drop_staging(export_dir: Path, staging: Path) -> None:
    names = sorted(p.name for p in staging.iterdir())
    # Staged data is never deleted without a record of it: the record first, then the drop.
    audit(export_dir, f"dropping staging: {', '.join(names) or 'empty'}")
    shutil.rmtree(staging)


@task
def release_lock(export_dir: Path, lock: Path) -> None:
    # A lock never outlives its run because its record failed: the release first, then the record.
    lock.unlink()
    audit(export_dir, "released lock")


# [END setup_teardown_tasks]


# [START setup_teardown_scopes]
def run_teardown(teardown: Task[..., Any], *args: Any) -> None:
    """Call a teardown task without letting its failure fail the flow: Airflow's on_failure_fail_dagrun=False.

    Its task run still ends Failed, visible in the UI. To translate on_failure_fail_dagrun=True, call it plainly.
    """
    state = teardown(*args, return_state=True)
    if state.is_failed():
        get_run_logger().warning("teardown %s failed: %s", teardown.name, state.message)


@contextmanager
def lock_held(export_dir: Path) -> Iterator[Path]:
    lock = acquire_lock(export_dir)  # if the setup fails, the with-block and the teardown never run
    try:
        yield lock
    finally:  # whether the work succeeded or raised
        run_teardown(release_lock, export_dir, lock)


@contextmanager
def staging_area(export_dir: Path) -> Iterator[Path]:
    staging = create_staging(export_dir)
    try:
        yield staging
    finally:
        run_teardown(drop_staging, export_dir, staging)


@flow(name="setup-teardown")
def setup_teardown(
    export_dir: DirectoryPath = Path("/tmp"),
    orders: list[Order] = SAMPLE_ORDERS,
) -> dict[str, Any]:
    """Load the orders into a staging area under the export lock and publish them; clean up whatever happens."""
    # Nested scopes exit innermost first: drop_staging, then release_lock, as in the DAG.
    with lock_held(export_dir), staging_area(export_dir) as staging:
        rows = load_orders(staging, orders)
        return publish(export_dir, staging, rows)


# [END setup_teardown_scopes]


if __name__ == "__main__":
    setup_teardown.serve(name="setup-teardown")
