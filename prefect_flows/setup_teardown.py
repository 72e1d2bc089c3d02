"""Setup and teardown in Prefect: context managers built on try/finally around ordinary tasks.

Two nested resources in the working directory: a lock file (outer) and a staging directory (inner). The work loads
orders into staging and publishes them; the teardowns remove both resources and append to `audit.log`.
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


def audit(workdir: Path, line: str) -> None:
    with (workdir / "audit.log").open("a") as log:
        log.write(line + "\n")


# [START setup_teardown_tasks]
@task
def acquire_lock(workdir: Path) -> Path:
    lock = workdir / "export.lock"
    with lock.open("x") as f:  # "x": fails if another run holds the lock
        f.write("held by setup_teardown\n")
    return lock


@task
def create_staging(workdir: Path) -> Path:
    staging = workdir / "staging"
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
def publish(workdir: Path, staging: Path, rows: int) -> dict[str, Any]:
    target = workdir / "out" / "orders.csv"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(staging / "orders.csv", target)
    return {"rows": rows, "published": str(target)}


@task
def drop_staging(workdir: Path, staging: Path, cleanup_error: bool) -> None:
    if cleanup_error:
        raise ConnectionError("storage API unavailable: staging not dropped")
    names = sorted(p.name for p in staging.iterdir())
    shutil.rmtree(staging)
    audit(workdir, f"dropped staging: {', '.join(names) or 'empty'}")


@task
def release_lock(workdir: Path, lock: Path) -> None:
    lock.unlink()
    audit(workdir, "released lock")


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
def lock_held(workdir: Path) -> Iterator[Path]:
    lock = acquire_lock(workdir)  # if the setup fails, the with-block and the teardown never run
    try:
        yield lock
    finally:  # whether the work succeeded or raised
        run_teardown(release_lock, workdir, lock)


@contextmanager
def staging_area(workdir: Path, cleanup_error: bool) -> Iterator[Path]:
    staging = create_staging(workdir)
    try:
        yield staging
    finally:
        run_teardown(drop_staging, workdir, staging, cleanup_error)


@flow(name="setup-teardown")
def setup_teardown(
    workdir: DirectoryPath = Path("/tmp"),
    orders: list[Order] = SAMPLE_ORDERS,
    cleanup_error: bool = False,
) -> dict[str, Any]:
    # Nested scopes exit innermost first: drop_staging, then release_lock, as in the DAG.
    with lock_held(workdir), staging_area(workdir, cleanup_error) as staging:
        rows = load_orders(staging, orders)
        return publish(workdir, staging, rows)


# [END setup_teardown_scopes]


if __name__ == "__main__":
    print(setup_teardown())
