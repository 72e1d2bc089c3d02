"""Assets in Prefect: a `@materialize` task emits an asset event, and a deployment trigger runs the consumer.

Both flows are served (`serve(*deployments())`): the consumer's deployment carries a trigger, which the server
turns into an automation that runs it once per matching event, with the event's payload as its parameters.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from prefect import flow, serve, task
from prefect.assets import Asset, AssetProperties, materialize
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger

ORDERS_CSV = "id,amount\nA-1,120.0\nA-2,35.5\nA-3,9.9\n"

# [START assets_asset]
# The same identity as the Airflow asset. Prefect's asset key is the URI; the name is a display property.
ORDERS = Asset(key="warehouse://orders/daily", properties=AssetProperties(name="daily_orders"))
# [END assets_asset]


# [START assets_producer]
# `@materialize` is a task that, when it completes, emits `prefect.asset.materialization.succeeded` for ORDERS
# (and `...failed` when it fails), with the metadata added during the run as the event's payload.
@materialize(ORDERS)
def export_orders(workdir: Path, broken: str) -> dict[str, Any]:
    if broken == "export_orders":
        raise ConnectionError("warehouse unavailable: nothing exported")
    path = workdir / "orders.csv"
    path.write_text(ORDERS_CSV)
    rows = len(ORDERS_CSV.splitlines()) - 1
    ORDERS.add_metadata({"path": str(path), "rows": rows})
    return {"path": str(path), "rows": rows}


@task
def summarize(export: dict[str, Any], broken: str) -> dict[str, Any]:
    if broken == "summarize":
        raise RuntimeError("summary service down")
    return {"rows": export["rows"], "file": Path(export["path"]).name}


@flow(name="assets")
def assets(workdir: Path, broken: str = "") -> dict[str, Any]:
    return summarize(export_orders(workdir, broken), broken)


# [END assets_producer]


# [START assets_consumer]
@task
def build_report(orders_path: Path) -> int:
    with orders_path.open(newline="") as handle:
        total = sum(float(row["amount"]) for row in csv.DictReader(handle))
    # One line per consumer run: a duplicate run would show as a second line. The trigger fires once per event
    # (threshold 1), so a run always stands for exactly one update.
    with (orders_path.parent / "reports.txt").open("a") as report:
        report.write(f"{orders_path.name}: 1 event(s), total {total:.2f}\n")
    return 1


@flow(name="assets-consumer")
def assets_consumer(orders_path: Path) -> int:
    return build_report(orders_path)


# [END assets_consumer]


# [START assets_deployments]
def deployments() -> list[RunnerDeployment]:
    on_orders = DeploymentEventTrigger(
        name="orders updated",
        expect={"prefect.asset.materialization.succeeded"},
        match={"prefect.resource.id": ORDERS.key},
        # Rendered with Jinja against the triggering event: Airflow's `extra`, read from the event's payload.
        parameters={"orders_path": "{{ event.payload.path }}"},
    )
    return [
        assets.to_deployment(name="producer"),
        assets_consumer.to_deployment(name="on-orders", triggers=[on_orders]),
    ]


# [END assets_deployments]


if __name__ == "__main__":
    serve(*deployments())
