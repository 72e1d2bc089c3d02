"""Object storage in Prefect: prefect-aws's `S3Bucket` over an `AwsCredentials` block, and a polling task that
waits for a key the way S3KeySensor does.

The shop's tills export the day's orders as `orders/<day>.csv` (`id,region,amount`) into a landing bucket. The flow
waits for that key, totals the orders per region, writes `reports/<day>.json` into the reports bucket and moves the
export to `archive/<day>.csv`. The store's credentials are the `AwsCredentials` block `object-store`; for an
S3-compatible server (MinIO, SeaweedFS, Ceph) its client parameters name the endpoint, saved once from a shell or CI:
`AwsCredentials(aws_access_key_id=..., aws_secret_access_key=..., region_name="us-east-1",
aws_client_parameters={"endpoint_url": "https://s3.internal:9000"}).save("object-store")`.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from prefect import flow, get_run_logger, task
from prefect_aws import AwsCredentials
from prefect_aws.s3 import S3Bucket

STORE_BLOCK = "object-store"
POKE_INTERVAL = 0.5
LANDING_TIMEOUT = 6.0


def bucket(name: str) -> S3Bucket:
    """The bucket `name`, reached with the store's credentials (loaded in the task that uses them)."""
    return S3Bucket(bucket_name=name, credentials=AwsCredentials.load(STORE_BLOCK))


# [START object_storage_sensor]
def key_exists(store: S3Bucket, key: str) -> bool:
    """A HEAD of the key, as S3KeySensor makes: False on 404, any other error (403, a bad endpoint) raises."""
    client = store.credentials.get_s3_client()
    try:
        client.head_object(Bucket=store.bucket_name, Key=key)
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


@task
def wait_for_orders(landing_bucket: str, day: str) -> str:
    """S3KeySensor in poke mode: look every POKE_INTERVAL seconds, fail with TimeoutError after LANDING_TIMEOUT."""
    store, key = bucket(landing_bucket), f"orders/{day}.csv"
    deadline = time.monotonic() + LANDING_TIMEOUT
    while not key_exists(store, key):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"s3://{landing_bucket}/{key} did not land within {LANDING_TIMEOUT} s")
        time.sleep(POKE_INTERVAL)
    get_run_logger().info("found s3://%s/%s", landing_bucket, key)
    return key


# [END object_storage_sensor]


# [START object_storage_tasks]
@task
def extract(landing_bucket: str, key: str) -> str:
    text = bucket(landing_bucket).read_path(key).decode("utf-8")
    get_run_logger().info("read s3://%s/%s (%d bytes)", landing_bucket, key, len(text))
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
def load(report: dict[str, Any], reports_bucket: str, day: str) -> dict[str, Any]:
    key = f"reports/{day}.json"
    body = json.dumps({"day": day, **report}, indent=2, sort_keys=True) + "\n"
    bucket(reports_bucket).write_path(key, body.encode("utf-8"))
    get_run_logger().info("wrote s3://%s/%s", reports_bucket, key)
    return {"key": key, "orders": report["orders"], "total": report["total"]}


@task
def archive(landing_bucket: str, key: str, day: str) -> None:
    # move_object is S3's only "rename": a server-side copy, then a delete of the source.
    target = bucket(landing_bucket).move_object(key, f"archive/{day}.csv")
    get_run_logger().info("moved s3://%s/%s to %s", landing_bucket, key, target)


@flow(name="object-storage")
def object_storage(landing_bucket: str, reports_bucket: str, day: str) -> dict[str, Any]:
    """Wait for the day's orders export in `landing_bucket`, total it per region into `reports_bucket`, archive it.

    Fails if `orders/<day>.csv` has not landed after LANDING_TIMEOUT seconds (nothing is written), or if the export
    is not a well-formed orders CSV (no report is written, the export stays where it landed for a person to look at).
    Returns the report's key, the number of orders and their total.
    """
    key = wait_for_orders(landing_bucket, day)
    report = transform(extract(landing_bucket, key))
    written = load(report, reports_bucket, day)
    archive(landing_bucket, key, day)
    return written


# [END object_storage_tasks]


if __name__ == "__main__":
    object_storage.serve(
        name="object-storage",
        parameters={"landing_bucket": "shop-landing", "reports_bucket": "shop-reports", "day": "2026-12-07"},
    )
