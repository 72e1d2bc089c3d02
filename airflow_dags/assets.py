"""Assets in Airflow 3: a producer DAG updates an asset, and a consumer DAG scheduled on it runs once per update.

Airflow 2 called these Datasets (`from airflow.datasets import Dataset`, `schedule=[dataset]`); Airflow 3 renamed
them Assets. The scheduler turns each asset event into a run of every DAG scheduled on the asset, so this recipe
runs under a real scheduler (`airflow_mode: scheduler` in its page): `dag.test()` never starts a consumer.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

ORDERS_CSV = "id,amount\nA-1,120.0\nA-2,35.5\nA-3,9.9\n"

# [START assets_asset]
# An asset is a name and a URI: an identity, not a location Airflow reads. Where this update's file is travels
# in the asset event's `extra`, so one consumer serves every environment (and every run's working directory).
ORDERS = Asset(name="daily_orders", uri="warehouse://orders/daily")
# [END assets_asset]

# [START assets_producer]
with DAG(
    dag_id="assets",
    schedule=None,
    params={
        "workdir": Param(type="string", description="Where the export lands."),
        "broken": Param("", enum=["", "export_orders", "summarize"], description="A task made to fail."),
    },
    tags=["cookbook"],
) as producer:
    # `outlets`: when this task succeeds, Airflow records an asset event for ORDERS (with the extra set here).
    # A failed task records none, whatever happens to the rest of the run.
    @task(outlets=[ORDERS])
    def export_orders(params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        assert params is not None and outlet_events is not None
        if params["broken"] == "export_orders":
            raise ConnectionError("warehouse unavailable: nothing exported")
        path = Path(params["workdir"]) / "orders.csv"
        path.write_text(ORDERS_CSV)
        rows = len(ORDERS_CSV.splitlines()) - 1
        outlet_events[ORDERS].extra = {"path": str(path), "rows": rows}
        return {"path": str(path), "rows": rows}

    @task
    def summarize(export: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        if params["broken"] == "summarize":
            raise RuntimeError("summary service down")
        return {"rows": export["rows"], "file": Path(export["path"]).name}

    summarize(export_orders())
# [END assets_producer]

# [START assets_consumer]
# No cron: the DAG runs when ORDERS gets an event. Several events between two scheduler loops make one run.
with DAG(dag_id="assets_consumer", schedule=[ORDERS], tags=["cookbook"]) as consumer:

    @task
    def build_report(triggering_asset_events: Any = None) -> int:
        assert triggering_asset_events is not None
        events = triggering_asset_events[ORDERS]
        path = Path(events[-1].extra["path"])  # the latest update's file
        with path.open(newline="") as handle:
            total = sum(float(row["amount"]) for row in csv.DictReader(handle))
        # One line per consumer run: a duplicate run would show as a second line.
        with (path.parent / "reports.txt").open("a") as report:
            report.write(f"{path.name}: {len(events)} event(s), total {total:.2f}\n")
        return len(events)

    build_report()
# [END assets_consumer]
