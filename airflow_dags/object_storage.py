"""Object storage in Airflow 3: wait for a key with S3KeySensor, read it and write a report with S3Hook.

The shop's tills export the day's orders as `orders/<day>.csv` (`id,region,amount`) into a landing bucket. The DAG
waits for that key, totals the orders per region, writes `reports/<day>.json` into the reports bucket and moves the
export to `archive/<day>.csv`, so a rerun finds nothing to do twice. The store is reached through the AWS
connection `object_store`; for an S3-compatible server (MinIO, SeaweedFS, Ceph) its extra names the endpoint, for
example `AIRFLOW_CONN_OBJECT_STORE='{"conn_type": "aws", "login": "<access key>", "password": "<secret key>",
"extra": {"endpoint_url": "https://s3.internal:9000", "region_name": "us-east-1"}}'`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import DAG, Param, task

STORE_CONN_ID = "object_store"
# Short on purpose: the cases prove a key that lands late and one that never does, and nobody waits an hour in a test.
POKE_INTERVAL = 0.5
LANDING_TIMEOUT = 6.0
log = logging.getLogger(__name__)

with DAG(
    dag_id="object_storage",
    schedule=None,
    params={
        "landing_bucket": Param(type="string", description="Bucket the tills export their orders into."),
        "reports_bucket": Param(type="string", description="Bucket the daily reports are written to."),
        "day": Param(type="string", format="date", description="The business day, YYYY-MM-DD."),
    },
    tags=["cookbook"],
) as dag:
    # [START object_storage_sensor]
    # Poke mode, not deferred: the sensor asks the store (a HEAD of the key) every poke_interval, in its worker slot,
    # and fails with AirflowSensorTimeout when the key is still missing after `timeout` seconds.
    wait_for_orders = S3KeySensor(
        task_id="wait_for_orders",
        aws_conn_id=STORE_CONN_ID,
        bucket_name="{{ params.landing_bucket }}",
        bucket_key="orders/{{ params.day }}.csv",
        poke_interval=POKE_INTERVAL,
        timeout=LANDING_TIMEOUT,
        mode="poke",
        deferrable=False,
    )
    # [END object_storage_sensor]

    # [START object_storage_tasks]
    @task
    def extract(params: dict[str, Any] | None = None) -> str:
        assert params is not None
        key = f"orders/{params['day']}.csv"
        text = S3Hook(aws_conn_id=STORE_CONN_ID).read_key(key=key, bucket_name=params["landing_bucket"])
        log.info("read s3://%s/%s (%d bytes)", params["landing_bucket"], key, len(text))
        return text

    @task
    def transform(text: str) -> dict[str, Any]:
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or set(rows[0]) != {"id", "region", "amount"}:
            raise ValueError(f"not an orders export: columns {sorted(rows[0]) if rows else []}")
        totals: dict[str, float] = {}
        for row in rows:
            # A value that is not a number ("n/a", an empty cell) raises ValueError: the export is corrupt.
            totals[row["region"]] = totals.get(row["region"], 0.0) + float(row["amount"])
        regions = {region: round(total, 2) for region, total in sorted(totals.items())}
        return {"orders": len(rows), "regions": regions, "total": round(sum(totals.values()), 2)}

    @task
    def load(report: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        key = f"reports/{params['day']}.json"
        body = json.dumps({"day": params["day"], **report}, indent=2, sort_keys=True) + "\n"
        S3Hook(aws_conn_id=STORE_CONN_ID).load_string(body, key=key, bucket_name=params["reports_bucket"], replace=True)
        log.info("wrote s3://%s/%s", params["reports_bucket"], key)
        return {"key": key, "orders": report["orders"], "total": report["total"]}

    @task
    def archive(params: dict[str, Any] | None = None) -> None:
        # S3 has no rename: a move is a server-side copy, then a delete of the source.
        assert params is not None
        hook, bucket = S3Hook(aws_conn_id=STORE_CONN_ID), params["landing_bucket"]
        source, target = f"orders/{params['day']}.csv", f"archive/{params['day']}.csv"
        hook.copy_object(
            source_bucket_key=source, dest_bucket_key=target, source_bucket_name=bucket, dest_bucket_name=bucket
        )
        hook.delete_objects(bucket=bucket, keys=[source])
        log.info("moved s3://%s/%s to %s", bucket, source, target)

    loaded = load(transform(wait_for_orders >> extract()))
    loaded >> archive()
    # [END object_storage_tasks]
