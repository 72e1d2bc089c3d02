"""Scaling a fan-out out in Airflow 3: mapped tasks spread over the `airflow celery worker`s of a CeleryExecutor.

A nightly audit of the event log fingerprints each partition: `plan_partitions` checks the partitions and orders
them longest first, `fingerprint_partition` runs once per partition (a key-stretched SHA-256 of its name, as many
rounds as the partition's size asks: CPU-bound work), and `combine` folds the fingerprints into one manifest digest,
with which worker fingerprinted which partition. The partitions are independent, so more workers finish the night
sooner. A partition whose `rounds` is not positive cannot be fingerprinted: its task fails, the others still run,
and the manifest is not written.

Nothing in the DAG names a worker: the deployment's executor does. With `AIRFLOW__CORE__EXECUTOR=CeleryExecutor`,
the scheduler puts each task instance on the Celery queue of its `queue` (here the default queue) and whichever
`airflow celery worker` consuming that queue has a free slot takes it; TaskInstance.hostname records which one.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

SALT = b"event-log-audit"
log = logging.getLogger(__name__)

# [START scale_out_dag]
with DAG(
    dag_id="scale_out",
    schedule=None,
    params={
        "partitions": Param(
            type="array",
            items={"type": "object", "required": ["name", "rounds"]},
            description="The event log's partitions: name (2026-12-01/eu) and rounds (the partition's size).",
        )
    },
    # Above the number of worker slots, so the workers (not the DAG) are what limits the fan-out.
    max_active_tasks=16,
    tags=["cookbook"],
) as dag:

    @task
    def plan_partitions(**context: Any) -> list[dict[str, Any]]:
        """The partitions, longest first: on several workers the big ones start early and the night ends sooner."""
        partitions = context["params"]["partitions"]
        names = [p["name"] for p in partitions]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate partitions in {names}")
        planned = sorted(partitions, key=lambda p: (-p["rounds"], p["name"]))
        log.info("planned %d partitions", len(planned))
        return planned

    # queue= picks the Celery queue (the workers started with `-q <queue>` take it); the default is
    # [operators] default_queue, "default". A retry is queued again and may land on another worker.
    @task(retries=1, retry_delay=timedelta(seconds=2), queue="default")
    def fingerprint_partition(partition: dict[str, Any], **context: Any) -> dict[str, Any]:
        """One partition's fingerprint; pbkdf2_hmac raises ValueError for a partition with no rounds."""
        digest = hashlib.pbkdf2_hmac("sha256", partition["name"].encode(), SALT, partition["rounds"]).hex()
        where = context["ti"].hostname  # the worker's name, from [core] hostname_callable
        log.info("fingerprinted %s on %s", partition["name"], where)
        return {"partition": partition["name"], "fingerprint": digest, "worker": where}

    @task
    def combine(fingerprints: list[dict[str, Any]]) -> dict[str, Any]:
        """The manifest: one digest over every partition's fingerprint, and where each one was fingerprinted."""
        ordered = sorted(fingerprints, key=lambda f: f["partition"])
        manifest = hashlib.sha256("".join(f["partition"] + f["fingerprint"] for f in ordered).encode()).hexdigest()
        placement = {f["partition"]: f["worker"] for f in ordered}
        log.info("manifest %s over %d partitions", manifest, len(ordered))
        return {
            "partitions": len(ordered),
            "manifest": manifest,
            "workers": len(set(placement.values())),
            "placement": placement,
        }

    # One task instance per partition, each queued to Celery on its own as soon as the plan is known.
    combine(fingerprint_partition.expand(partition=plan_partitions()))
    # [END scale_out_dag]
