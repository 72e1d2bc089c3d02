"""Pools in Airflow 3: 20 warehouse queries, at most 3 at once, retries, and a cleanup that always runs.

Pools are enforced by the scheduler, so this recipe runs under a real scheduler with a LocalExecutor
(`airflow_mode: scheduler` in its page), not `dag.test()`, which runs one task at a time.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

FLAKY_TABLE = "t07"  # its first attempt loses the connection, as real warehouses sometimes do

# [START pools_dag]
with DAG(
    dag_id="pools",
    schedule=None,
    params={
        "workdir": Param(type="string", description="Where the query results land."),
        "broken_table": Param("", type="string", description="A table whose query always fails."),
        "query_seconds": Param(1.0, type="number", minimum=0),
    },
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
        return (Path(params["workdir"]) / "catalog.txt").read_text(encoding="utf-8").split()

    # The "warehouse" pool has 3 slots (created by an operator: `airflow pools set warehouse 3 ...`).
    # Every mapped instance takes one slot; the rest wait in the `scheduled` state, not running.
    @task(pool="warehouse", pool_slots=1, priority_weight=1)
    def run_query(table: str, params: dict[str, Any] | None = None, ti: Any = None) -> dict[str, Any]:
        assert params is not None and ti is not None
        if table == FLAKY_TABLE and ti.try_number == 1:
            raise ConnectionError(f"warehouse connection reset while querying {table}")
        if table == params["broken_table"]:
            raise ValueError(f"{table}: relation does not exist")
        time.sleep(params["query_seconds"])
        rows = sum(map(ord, table))  # a stand-in for the query's row count, the same on every run
        out = Path(params["workdir"]) / "out" / f"{table}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"table,rows\n{table},{rows}\n")
        return {"table": table, "rows": rows}

    # all_done: clean up after every query has finished, whether it succeeded or not.
    @task(trigger_rule="all_done")
    def cleanup(params: dict[str, Any] | None = None) -> None:
        assert params is not None
        marker = Path(params["workdir"]) / "out" / "_cleanup.txt"
        marker.parent.mkdir(parents=True, exist_ok=True)  # no query may have run
        marker.write_text("staging tables dropped\n")

    @task
    def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
        return {"tables": len(results), "rows": sum(r["rows"] for r in results)}

    results = run_query.expand(table=list_tables())
    results >> cleanup()
    summarize(results)
# [END pools_dag]
