"""Assets in Airflow 3: a producer DAG updates an asset, and a consumer DAG scheduled on it reads each update.

Airflow 2 called these Datasets (`from airflow.datasets import Dataset`, `schedule=[dataset]`); Airflow 3 renamed
them Assets. The scheduler turns asset events into runs of every DAG scheduled on the asset, so this recipe runs
under a real scheduler (`airflow_mode: scheduler` in its page): `dag.test()` never starts a consumer.

The producer exports one orders file per region from `<data_dir>/incoming/<region>.csv` to
`<data_dir>/orders/<region>.csv`: three exports, three asset events in a burst. The consumer appends one line per
event to `<data_dir>/reports/<region>.txt`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, task

REGIONS = ["eu", "us", "apac"]

# [START assets_asset]
# An asset is a name and a URI: an identity, not a location Airflow reads. Where this update's file is travels
# in the asset event's `extra`, so one consumer serves every environment and every region.
ORDERS = Asset(name="daily_orders", uri="warehouse://orders/daily")
# [END assets_asset]


def read_orders(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# [START assets_producer]
with DAG(
    dag_id="assets",
    schedule=None,
    params={"data_dir": Param(type="string", description="Holds incoming/, orders/ and reports/.")},
    tags=["cookbook"],
) as producer:
    # `outlets`: each time this task succeeds, Airflow records an asset event for ORDERS with the extra set here.
    # Mapped, it succeeds once per region: one event each. A failed instance records none.
    # One instance at a time: mapped instances that finish together can leave an event out of the consumer run
    # and waiting for the next update (apache/airflow#54659, seen here on 3.3.2). Spaced out, each is queued.
    @task(outlets=[ORDERS], max_active_tis_per_dagrun=1)
    def export_orders(region: str, params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
        assert params is not None and outlet_events is not None
        rows = read_orders(Path(params["data_dir"]) / "incoming" / f"{region}.csv")
        path = Path(params["data_dir"]) / "orders" / f"{region}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "amount"], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        outlet_events[ORDERS].extra = {"path": str(path), "region": region, "rows": len(rows)}
        return {"region": region, "rows": len(rows)}

    @task
    def summarize(exports: list[dict[str, Any]]) -> dict[str, int]:
        # A quality gate after the exports: it fails the run, but the events are already recorded.
        empty = [e["region"] for e in exports if e["rows"] == 0]
        if empty:
            raise ValueError(f"no orders exported for {', '.join(empty)}")
        return {e["region"]: e["rows"] for e in exports}

    summarize(export_orders.expand(region=REGIONS))
# [END assets_producer]

# [START assets_consumer]
# No cron: the DAG runs when ORDERS gets events. Events that arrive between two scheduler loops make one run,
# so a run can stand for several updates: handle every event, never only the last one.
with DAG(dag_id="assets_consumer", schedule=[ORDERS], tags=["cookbook"]) as consumer:

    @task
    def build_report(triggering_asset_events: Any = None) -> int:
        assert triggering_asset_events is not None
        events = triggering_asset_events[ORDERS]
        for event in events:
            path = Path(event.extra["path"])
            total = sum(float(row["amount"]) for row in read_orders(path))
            report = path.parent.parent / "reports" / f"{event.extra['region']}.txt"
            report.parent.mkdir(parents=True, exist_ok=True)
            # Appended: an update handled twice shows as a second line.
            with report.open("a") as handle:
                handle.write(f"orders: {event.extra['rows']}, total: {total:.2f}\n")
        return len(events)

    build_report()
# [END assets_consumer]
