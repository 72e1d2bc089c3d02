"""Pools in Airflow 3: 20 warehouse queries, at most 3 at once, retries, and a cleanup that always runs.

Pools are enforced by the scheduler, so this recipe runs under a real scheduler with a LocalExecutor
(`airflow_mode: scheduler` in its page), not `dag.test()`, which runs one task at a time.

The warehouse directory holds the catalog (`catalog.txt`, one table per line) and each table's extract
(`extracts/<table>.csv`, `id,amount` rows); each query writes `out/<table>.csv`.
"""

from __future__ import annotations

import csv
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

SECONDS_PER_ROW = 0.25  # the warehouse's time per row scanned: a query is as slow as its table is long

# [START pools_dag]
with DAG(
    dag_id="pools",
    schedule=None,
    params={"warehouse_dir": Param(type="string", description="The catalog, the extracts and the query results.")},
    # Retries for every task; the pool, not max_active_tasks, is what limits the queries.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
    max_active_tasks=16,
    tags=["cookbook"],
) as dag:
    # The warehouse's catalog, one table per line, as its team exports it. A missing catalog fails this task
    # (after its retries), the queries are upstream_failed, and the all_done cleanup still runs.
    @task
    def list_tables(params: dict[str, Any] | None = None) -> list[str]:
        assert params is not None
        return (Path(params["warehouse_dir"]) / "catalog.txt").read_text(encoding="utf-8").split()

    # The "warehouse" pool has 3 slots (created by an operator: `airflow pools set warehouse 3 ...`).
    # Every mapped instance takes one slot; the rest wait in the `scheduled` state, not running.
    # An extract that has not landed yet is there on a later try: queries wait 45 s between tries.
    @task(pool="warehouse", pool_slots=1, priority_weight=1, retry_delay=timedelta(seconds=45))
    def run_query(table: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        warehouse = Path(params["warehouse_dir"])
        with (warehouse / "extracts" / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        amount = sum(float(row["amount"]) for row in rows)  # a corrupt amount fails the query: ValueError
        time.sleep(len(rows) * SECONDS_PER_ROW)
        out = warehouse / "out" / f"{table}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"table,rows,amount\n{table},{len(rows)},{amount:.2f}\n")
        return {"table": table, "rows": len(rows)}

    # all_done: clean up after every query has finished, whether it succeeded or not.
    @task(trigger_rule="all_done")
    def cleanup(params: dict[str, Any] | None = None) -> None:
        assert params is not None
        marker = Path(params["warehouse_dir"]) / "out" / "_cleanup.txt"
        marker.parent.mkdir(parents=True, exist_ok=True)  # no query may have run
        marker.write_text("staging tables dropped\n")

    @task
    def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
        return {"tables": len(results), "rows": sum(r["rows"] for r in results)}

    results = run_query.expand(table=list_tables())
    results >> cleanup()
    summarize(results)
# [END pools_dag]
