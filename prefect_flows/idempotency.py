"""Idempotent loads in Prefect: the same atomic partition write, and a task cache keyed by the task's inputs and
source, so a repeated call with the same input does no work at all.

`load_first` loads a day's partition; `load_again` loads it again, as a re-run would, with `rerun_rows` (the same
rows unless a case gives a correction). Every write that really happens is counted in `warehouse/loads.log`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import INPUTS, TASK_SOURCE

SAMPLE_ROWS = [120.0, 35.5, 9.9]


# [START idempotency_load]
def fingerprint(rows: list[float]) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


# The cache key hashes every argument (the warehouse path included, so two warehouses never share an entry) and
# the function's own source (not its helpers'), so editing the task invalidates it. A hit returns the stored
# result without calling the function; the entry is written only when the task succeeds, and is trusted 7 days.
@task(cache_policy=INPUTS + TASK_SOURCE, cache_expiration=timedelta(days=7))
def load_partition(warehouse: Path, day: str, rows: list[float]) -> dict[str, Any]:
    if any(amount < 0 for amount in rows):
        raise ValueError(f"day {day}: negative amounts in {rows}")
    summary = {"day": day, "rows": len(rows), "total": round(sum(rows), 2), "fingerprint": fingerprint(rows)}
    target = warehouse / f"day={day}.json"
    warehouse.mkdir(parents=True, exist_ok=True)
    # Still an idempotent write: if the cache is lost (expired, storage wiped), running again rewrites the same file.
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps({**summary, "amounts": rows}, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    with (warehouse / "loads.log").open("a", encoding="utf-8") as log:
        log.write(f"loaded day={day} rows={len(rows)} fingerprint={summary['fingerprint']}\n")
    get_run_logger().info("wrote %s: %s rows, fingerprint %s", target, len(rows), summary["fingerprint"])
    return summary


# Two names for one cached task, as the DAG has two tasks: the name is not part of the cache key.
load_first = load_partition.with_options(name="load_first")
load_again = load_partition.with_options(name="load_again")
# [END idempotency_load]


# [START idempotency_flow]
@flow(name="idempotency")
def idempotency(
    warehouse: Path = Path("/tmp/warehouse"),
    day: str = "2026-11-20",
    rows: list[float] = SAMPLE_ROWS,
    rerun_rows: list[float] | None = None,
) -> dict[str, Any]:
    """Load one day's amounts into `warehouse/day=<day>.json`, then load it again as a re-run would.

    The second load, with `rerun_rows` (or the same `rows`), writes nothing when its input is unchanged: its cached
    result is returned (for 7 days). A correction (different rows) rewrites the partition. Negative amounts fail the
    load and leave the previous partition in place. Every real write adds a line to `warehouse/loads.log`.
    """
    load_first(warehouse, day, rows)
    # A second call with the same arguments is a cache hit: a task run in state Cached, and no write.
    return load_again(warehouse, day, rows if rerun_rows is None else rerun_rows)


# [END idempotency_flow]


if __name__ == "__main__":
    idempotency.serve(name="idempotency")
