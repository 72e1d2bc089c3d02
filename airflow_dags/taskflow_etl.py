"""A classic PythonOperator and TaskFlow tasks in one ETL DAG, with ordering-only chain() and cross_downstream() edges.

`extract` returns raw orders (amounts as text, as a CSV gives them), `transform` is a classic PythonOperator that
pulls them from XCom and converts them, two loads write `out/orders.csv` and `out/totals.json`, and two final tasks
read those files: `audit` checks them against each other and `publish` writes a `_SUCCESS` manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, chain, cross_downstream, task

OUT = Path("out")

SAMPLE_ORDERS = [
    {"id": "A-1", "amount": "120.00"},
    {"id": "A-2", "amount": "35.50"},
    {"id": "A-3", "amount": "9.99"},
]


# [START etl_classic]
# Airflow 1 needed provide_context=True to get the context; since Airflow 2 any callable that declares **context
# (or a named context key such as `ti`) receives it, and Airflow 3 rejects provide_context as an invalid argument.
# op_kwargs are merged into that same context before the call, so their names share one namespace with `ti`,
# `params`, `run_id`...
def transform_orders(currency: str, precision: int, **context: Any) -> list[dict[str, Any]]:
    # The data edge is hidden in here: nothing in the call says that this task reads extract's output, which is
    # why the DAG needs an explicit extract >> transform edge (the chain() below).
    raw = context["ti"].xcom_pull(task_ids="extract")
    rate = context["params"]["rate"]
    rows = []
    for order in raw:
        # float("12,50") raises ValueError: a source that writes a decimal comma fails here, not in the loads.
        amount = float(order["amount"])
        rows.append({"id": order["id"], "amount": round(amount * rate, precision), "currency": currency})
    print(f"run {context['run_id']}: {len(rows)} orders converted to {currency}")
    return rows


# [END etl_classic]

with DAG(
    dag_id="taskflow_etl",
    schedule=None,
    params={
        "orders": Param(SAMPLE_ORDERS, type="array"),
        "rate": Param(1.1, type="number", exclusiveMinimum=0),
        "max_total": Param(1000, type="number"),
    },
    tags=["cookbook"],
) as dag:
    # [START etl_taskflow]
    @task
    def reset_output() -> None:
        # Returns nothing: its only effect is on the disk, so the tasks after it depend on it by order alone.
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)

    @task
    def extract(params: dict[str, Any] | None = None) -> list[dict[str, str]]:
        assert params is not None
        return params["orders"]

    @task
    def load_orders(rows: list[dict[str, Any]]) -> int:
        with (OUT / "orders.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["id", "amount", "currency"])
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)

    @task
    def load_totals(rows: list[dict[str, Any]], params: dict[str, Any] | None = None) -> float:
        assert params is not None
        total = round(sum(r["amount"] for r in rows), 2)
        if total > params["max_total"]:
            raise ValueError(f"total {total} is over the limit of {params['max_total']}: not loading it")
        (OUT / "totals.json").write_text(json.dumps({"count": len(rows), "total": total}) + "\n")
        return total

    @task
    def audit() -> None:
        # Reads what both loads wrote. No XCom comes in: the files are the data, the edges only say "after".
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

    # [END etl_taskflow]

    # [START etl_edges]
    transform = PythonOperator(
        task_id="transform",
        python_callable=transform_orders,
        op_kwargs={"currency": "EUR", "precision": 2},
    )

    # chain(a, b, c) is a >> b >> c. The first edge carries no data (reset_output returns nothing); the second
    # carries extract's output, but only through the xcom_pull inside transform_orders.
    chain(reset_output(), extract(), transform)

    # transform.output is an XComArg: passing it both feeds the loads and makes them downstream of transform.
    loads = [load_orders(transform.output), load_totals(transform.output)]

    # Every load before every reader of the files: four ordering-only edges, none carrying an XCom.
    cross_downstream(loads, [audit(), publish()])
    # [END etl_edges]
