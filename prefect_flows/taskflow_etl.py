"""The ETL in Prefect: every Airflow edge is either an argument (data) or `wait_for=` (order only).

`extract` returns raw orders (amounts as text, as a CSV gives them), `transform` converts them, two loads write
`out/orders.csv` and `out/totals.json`, and two final tasks read those files: `audit` checks them against each other
and `publish` writes a `_SUCCESS` manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.futures import wait
from prefect.runtime import flow_run
from pydantic import BaseModel, Field, StrictFloat

OUT = Path("out")


class RawOrder(BaseModel):
    id: str
    amount: str  # as the source wrote it; converting is transform's job, and its failure


class Row(BaseModel):
    id: str
    amount: float
    currency: str


SAMPLE_ORDERS = [
    RawOrder(id="A-1", amount="120.00"),
    RawOrder(id="A-2", amount="35.50"),
    RawOrder(id="A-3", amount="9.99"),
]


# [START etl_classic]
# The PythonOperator's op_kwargs become ordinary keyword arguments, and what the callable took from the context
# is passed in explicitly: `ti.xcom_pull(task_ids="extract")` is the `raw` argument, `params["rate"]` is `rate`.
@task
def transform(raw: list[RawOrder], rate: float, currency: str, precision: int) -> list[Row]:
    rows = []
    for order in raw:
        # float("12,50") raises ValueError: a source that writes a decimal comma fails here, not in the loads.
        amount = float(order.amount)
        rows.append(Row(id=order.id, amount=round(amount * rate, precision), currency=currency))
    # context["run_id"] has a runtime equivalent; prefer arguments for anything the logic depends on.
    get_run_logger().info("run %s: %d orders converted to %s", flow_run.id, len(rows), currency)
    return rows


# [END etl_classic]


# [START etl_tasks]
@task
def reset_output() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)


@task
def load_orders(rows: list[Row]) -> int:
    with (OUT / "orders.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "amount", "currency"])
        writer.writeheader()
        writer.writerows(r.model_dump() for r in rows)
    return len(rows)


@task
def load_totals(rows: list[Row], max_total: float) -> float:
    total = round(sum(r.amount for r in rows), 2)
    if total > max_total:
        raise ValueError(f"total {total} is over the limit of {max_total}: not loading it")
    (OUT / "totals.json").write_text(json.dumps({"count": len(rows), "total": total}) + "\n")
    return total


@task
def audit() -> None:
    rows = list(csv.DictReader((OUT / "orders.csv").open()))
    totals = json.loads((OUT / "totals.json").read_text())
    if len(rows) != totals["count"]:
        raise ValueError(f"orders.csv has {len(rows)} rows, totals.json counts {totals['count']}")
    (OUT / "audit.txt").write_text(f"ok: {len(rows)} rows\n")


@task
def publish() -> dict[str, Any]:
    loaded = ["orders.csv", "totals.json"]
    manifest = {name: hashlib.sha256((OUT / name).read_bytes()).hexdigest()[:12] for name in loaded}
    (OUT / "_SUCCESS").write_text(json.dumps(manifest, sort_keys=True) + "\n")
    return {"files": manifest}


# [END etl_tasks]


# [START etl_flow]
@flow(name="taskflow-etl")
def taskflow_etl(
    orders: list[RawOrder] = SAMPLE_ORDERS,
    # type "number", exclusiveMinimum 0: StrictFloat takes 2 but not "2" (see the params recipe), and the
    # constraint sits in Annotated because a Field(1.1, gt=0) default is not enforced on flow parameters.
    rate: Annotated[StrictFloat, Field(gt=0)] = 1.1,
    max_total: StrictFloat = 1000,
) -> dict[str, Any]:
    """Convert the raw orders at `rate` into EUR and load them into `out/`, then audit and publish the load.

    Writes `out/orders.csv` and `out/totals.json` (refused when the total is over `max_total`), checks that the two
    agree (`out/audit.txt`) and writes a `_SUCCESS` manifest of their hashes, which the run returns. `out/` is
    emptied first; an amount that is not a number fails the run before anything is loaded.
    """
    # chain(reset_output, extract, transform): the first edge carries nothing, so it is wait_for=. The DAG's
    # extract only read the orders out of params; here they are the flow's parameter, and go to transform as its
    # argument, the data edge the xcom_pull hid.
    reset = reset_output.submit()
    rows = transform.submit(orders, rate, currency="EUR", precision=2, wait_for=[reset])

    loads = [load_orders.submit(rows), load_totals.submit(rows, max_total)]

    # cross_downstream(loads, [audit, publish]): the readers take no argument from the loads, only their order.
    # Like Airflow's default all_success rule, a task whose wait_for holds a failed future never runs (NotReady).
    audited = audit.submit(wait_for=loads)
    published = publish.submit(wait_for=loads)

    # Airflow fails the run when a leaf task fails or never runs; Prefect fails it only if the flow raises (or
    # returns a failed state). Let every task reach its end, then raise the first error, upstream first, so the
    # run fails with the root cause rather than "upstream task did not complete".
    futures = [reset, rows, *loads, audited, published]
    wait(futures)
    for future in futures:
        future.result()
    return published.result()


# [END etl_flow]


if __name__ == "__main__":
    taskflow_etl.serve(name="taskflow-etl")
