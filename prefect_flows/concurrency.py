"""Concurrency in Prefect: a task runner with 2 workers bounds a run's fan-out; a deployment limit bounds runs.

Each partition is rebuilt from its source, `<partitions_dir>/source/<partition>.csv` (`id,amount` rows), into
`<partitions_dir>/out/<partition>.txt`.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from prefect import Task, flow, get_run_logger, task, unmapped
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import ThreadPoolTaskRunner

PARTITIONS = [f"p{i:02d}" for i in range(10)]
SECONDS_PER_ROW = 0.25  # a rebuild's cost per source row: minutes of CPU per partition in real life


# [START concurrency_tasks]
@task
def list_partitions() -> list[str]:
    return PARTITIONS


@task
def rebuild(partition: str, partitions_dir: Path) -> dict[str, Any]:
    with (partitions_dir / "source" / f"{partition}.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    amount = sum(float(row["amount"]) for row in rows)  # a corrupt source fails the rebuild: ValueError
    time.sleep(len(rows) * SECONDS_PER_ROW)
    out = partitions_dir / "out" / f"{partition}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"{partition} rebuilt: {len(rows)} rows, amount {amount:.2f}\n")
    get_run_logger().info("%s rebuilt: %d rows", partition, len(rows))
    return {"partition": partition, "rows": len(rows)}


@task
def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    return {"partitions": len(results), "rows": sum(r["rows"] for r in results)}


# [END concurrency_tasks]


# [START concurrency_flow]
# max_active_tasks=2: every run gets its own pool of 2 threads. Without max_workers the pool is unbounded
# (PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS, else sys.maxsize) and all 10 rebuilds start at once.
@flow(name="concurrency", task_runner=ThreadPoolTaskRunner(max_workers=2))
def concurrency(partitions_dir: Path) -> dict[str, int]:
    """Rebuild every partition, two at a time in this run, then sum their rows."""
    rebuilt = rebuild.map(list_partitions(), unmapped(partitions_dir))
    # Let every rebuild finish, as Airflow's other mapped instances do when one fails. Without this, the first
    # failure raised by .result() ends the flow and the runner cancels the rebuilds still waiting for a thread.
    wait(rebuilt)
    # Raises the failed rebuild's error, so summarize is never called and the run fails, as in Airflow.
    return summarize(rebuilt.result())


# [END concurrency_flow]


# [START concurrency_batched]
def submit_in_batches(task: Task[..., Any], items: list[Any], size: int, *args: Any) -> list[PrefectFuture[Any]]:
    """Submit `size` items, wait until all of them are final, then the next `size`: never more than `size` run
    at once, whatever the flow's task runner allows. A slow item holds back its whole batch."""
    futures: list[PrefectFuture[Any]] = []
    for start in range(0, len(items), size):
        batch = [task.submit(item, *args) for item in items[start : start + size]]
        wait(batch)
        futures.extend(batch)
    return futures


# The default runner: the bound comes from the batches, so other fan-outs of this flow stay unbounded.
@flow(name="concurrency-batched")
def concurrency_batched(partitions_dir: Path, batch_size: int = 2) -> dict[str, int]:
    """Rebuild every partition in batches of `batch_size`, each batch finished before the next starts."""
    rebuilt = submit_in_batches(rebuild, list_partitions(), batch_size, partitions_dir)
    return summarize([future.result() for future in rebuilt])


# [END concurrency_batched]


# [START concurrency_deploy]
if __name__ == "__main__":
    # max_active_runs=1: one run of this deployment at a time. ENQUEUE keeps a run triggered meanwhile waiting
    # (Airflow's `queued`); CANCEL_NEW would cancel it instead, which Airflow has no setting for.
    concurrency.serve(
        name="nightly",
        parameters={"partitions_dir": "/data/partitions"},
        global_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
    )
# [END concurrency_deploy]
