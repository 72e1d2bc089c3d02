"""Scaling a fan-out out in Prefect: a `DaskTaskRunner` whose Dask cluster has one worker process or several.

A nightly audit of the event log fingerprints each partition: `plan_partitions` checks the partitions and orders
them longest first, `fingerprint_partition` runs once per partition (a key-stretched SHA-256 of its name, as many
rounds as the partition's size asks: CPU-bound work), and `combine` folds the fingerprints into one manifest digest,
with which worker fingerprinted which partition. The partitions are independent, so more workers finish the night
sooner. A partition whose `rounds` is not positive cannot be fingerprinted: its task fails, the others still run,
and the manifest is not written.

The Airflow DAG ran on a CeleryExecutor with several `airflow celery worker` processes; here the flow's task runner
is a Dask cluster: `scale_out` on two worker processes, `scale_out_on_one_worker` the same flow on one. A Prefect
work pool's workers start whole flow runs, not tasks: see the recipe page and `deploy/` for the pools.
"""

from __future__ import annotations

import hashlib
import os
import socket
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.futures import wait
from prefect_dask import DaskTaskRunner
from pydantic import BaseModel, Field

SALT = b"event-log-audit"


class Partition(BaseModel):
    name: str = Field(description="The partition's key in the event log, such as 2026-12-01/eu.")
    rounds: int = Field(description="Key-stretching rounds: the partition's size, so the work comes from the data.")


# [START scale_out_tasks]
@task
def plan_partitions(partitions: list[Partition]) -> list[dict[str, Any]]:
    """The partitions, longest first: on several workers the big ones start early and the night ends sooner."""
    names = [p.name for p in partitions]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate partitions in {names}")
    planned = sorted(partitions, key=lambda p: (-p.rounds, p.name))
    get_run_logger().info("planned %d partitions", len(planned))
    # Plain dicts cross to the Dask workers: a class of this file would be pickled by reference, by a module name
    # the worker processes cannot import (see the page's gotchas).
    return [p.model_dump() for p in planned]


@task(retries=1, retry_delay_seconds=2)
def fingerprint_partition(partition: dict[str, Any]) -> dict[str, Any]:
    """One partition's fingerprint; pbkdf2_hmac raises ValueError for a partition with no rounds."""
    digest = hashlib.pbkdf2_hmac("sha256", partition["name"].encode(), SALT, partition["rounds"]).hex()
    # Each Dask worker is a process of its own: host and pid name the worker that ran this partition.
    where = f"{socket.gethostname()}:{os.getpid()}"
    get_run_logger().info("fingerprinted %s on %s", partition["name"], where)
    return {"partition": partition["name"], "fingerprint": digest, "worker": where}


@task
def combine(fingerprints: list[dict[str, Any]]) -> dict[str, Any]:
    """The manifest: one digest over every partition's fingerprint, and where each partition was fingerprinted."""
    ordered = sorted(fingerprints, key=lambda f: f["partition"])
    manifest = hashlib.sha256("".join(f["partition"] + f["fingerprint"] for f in ordered).encode()).hexdigest()
    placement = {f["partition"]: f["worker"] for f in ordered}
    get_run_logger().info("manifest %s over %d partitions", manifest, len(ordered))
    return {
        "partitions": len(ordered),
        "manifest": manifest,
        "workers": len(set(placement.values())),
        "placement": placement,
    }


# [END scale_out_tasks]


# [START scale_out_flow]
def dask_workers(n: int) -> DaskTaskRunner:
    """A temporary local Dask cluster of `n` worker processes, one thread each: one task at a time per worker,
    as one `airflow celery worker --concurrency 1` runs one task at a time. Give `address=` for a standing cluster."""
    # No dashboard: it would listen on every interface; give dashboard_address="127.0.0.1:8787" to watch one.
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": n, "processes": True, "threads_per_worker": 1, "dashboard_address": None}
    )


@flow(name="scale-out", task_runner=dask_workers(2))
def scale_out(partitions: list[Partition]) -> dict[str, Any]:
    """Fingerprint every partition of the event log in parallel on the task runner's workers; return the manifest."""
    planned = plan_partitions(partitions)
    # .map() submits one task run per partition to the Dask cluster, which hands each to a free worker.
    fingerprints = fingerprint_partition.map(planned)
    # Every partition gets its try, as Airflow's other mapped instances do when one fails; then .result() raises
    # the first failure, so combine is never called and the run fails.
    wait(fingerprints)
    return combine(fingerprints.result())


# The same flow on a single worker process: what a small deployment (or a laptop) runs.
scale_out_on_one_worker = scale_out.with_options(name="scale-out-on-one-worker", task_runner=dask_workers(1))
# [END scale_out_flow]


if __name__ == "__main__":
    scale_out.serve(
        name="scale-out",
        parameters={
            "partitions": [
                {"name": "2026-12-01/eu", "rounds": 2_000_000},
                {"name": "2026-12-01/us", "rounds": 1_500_000},
                {"name": "2026-12-01/apac", "rounds": 500_000},
            ]
        },
    )
