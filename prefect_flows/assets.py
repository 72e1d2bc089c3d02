"""Assets in Prefect: a `@materialize` task emits an asset event, and a deployment trigger runs the consumer.

Both flows are served (`serve(*deployments())`): the consumer's deployment carries a trigger, which the server
turns into an automation that runs it once per matching event, with the event's payload as its parameters.

The producer exports one orders file per region from `<data_dir>/incoming/<region>.csv` to
`<data_dir>/orders/<region>.csv`: three exports, three materialization events. The consumer appends one line per
event to `<data_dir>/reports/<region>.txt`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, serve, task
from prefect.assets import Asset, AssetProperties, materialize
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.task_runners import ThreadPoolTaskRunner

REGIONS = ["eu", "us", "apac"]

# [START assets_asset]
# The same identity as the Airflow asset. Prefect's asset key is the URI; the name is a display property.
ORDERS = Asset(key="warehouse://orders/daily", properties=AssetProperties(name="daily_orders"))
# [END assets_asset]


def read_orders(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# [START assets_producer]
# `@materialize` is a task that, when it completes, emits `prefect.asset.materialization.succeeded` for ORDERS
# (and `...failed` when it fails), with the metadata added during the run as the event's payload. Mapped, each
# task run has its own metadata and emits its own event.
@materialize(ORDERS)
def export_orders(region: str, data_dir: Path) -> dict[str, Any]:
    rows = read_orders(data_dir / "incoming" / f"{region}.csv")
    path = data_dir / "orders" / f"{region}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "amount"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    ORDERS.add_metadata({"path": str(path), "region": region, "rows": len(rows)})
    return {"region": region, "rows": len(rows)}


@task
def summarize(exports: list[dict[str, Any]]) -> dict[str, int]:
    # A quality gate after the exports: it fails the run, but the events are already emitted.
    empty = [e["region"] for e in exports if e["rows"] == 0]
    if empty:
        raise ValueError(f"no orders exported for {', '.join(empty)}")
    return {e["region"]: e["rows"] for e in exports}


# One export at a time, as the DAG runs them (max_active_tis_per_dagrun=1): the exports run, and emit their
# events, in region order.
@flow(name="assets", task_runner=ThreadPoolTaskRunner(max_workers=1))
def assets(data_dir: Path) -> dict[str, int]:
    """Export every region's orders, one asset event each, then check that none came out empty."""
    exports = export_orders.map(REGIONS, data_dir=data_dir)
    # Passed as futures, a failed export would leave summarize NotReady and this flow Completed. `.result()` waits
    # for every export and raises the first failure: the run fails and summarize never runs, as in Airflow.
    return summarize(exports.result())


# [END assets_producer]


# [START assets_consumer]
@task
def build_report(orders_path: Path, region: str, rows: int) -> None:
    total = sum(float(row["amount"]) for row in read_orders(orders_path))
    report = orders_path.parent.parent / "reports" / f"{region}.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    # Appended: an update handled twice shows as a second line.
    with report.open("a") as handle:
        handle.write(f"orders: {rows}, total: {total:.2f}\n")
    get_run_logger().info("report for %s: %d rows, total %.2f", region, rows, total)
    # No count to return: the DAG's task returns how many events its run folded together; here it is always one.


@flow(name="assets-consumer")
def assets_consumer(orders_path: Path, region: str, rows: int) -> None:
    """Rebuild one region's report from one update of the orders asset (one event: one run)."""
    build_report(orders_path, region, rows)


# [END assets_consumer]


# [START assets_deployments]
def deployments() -> list[RunnerDeployment]:
    on_orders = DeploymentEventTrigger(
        name="orders updated",
        expect={"prefect.asset.materialization.succeeded"},
        match={"prefect.resource.id": ORDERS.key},
        # Rendered with Jinja against the triggering event: Airflow's `extra`, read from the event's payload.
        parameters={
            "orders_path": "{{ event.payload.path }}",
            "region": "{{ event.payload.region }}",
            "rows": "{{ event.payload.rows }}",
        },
    )
    return [
        assets.to_deployment(name="producer"),
        assets_consumer.to_deployment(name="on-orders", triggers=[on_orders]),
    ]


# [END assets_deployments]


if __name__ == "__main__":
    serve(*deployments())
