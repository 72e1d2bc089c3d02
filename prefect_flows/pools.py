"""Pools in Prefect: a tag-based concurrency limit on the server, retries, and a cleanup that always runs.

The warehouse directory holds the catalog (`catalog.txt`, one table per line) and each table's extract
(`extracts/<table>.csv`, `id,amount` rows); each query writes `out/<table>.csv`.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

SECONDS_PER_ROW = 0.25  # the warehouse's time per row scanned: a query is as slow as its table is long
# The DAG's default_args: every task retries, not only the queries.
TASK_DEFAULTS: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1}


# [START pools_tasks]
@task(**TASK_DEFAULTS)
def list_tables(warehouse_dir: Path) -> list[str]:
    # The warehouse's catalog, one table per line, as its team exports it.
    tables = (warehouse_dir / "catalog.txt").read_text(encoding="utf-8").split()
    get_run_logger().info("%d tables in the catalog", len(tables))
    return tables


# The tag "warehouse" has a concurrency limit of 3 on the server (created by an operator:
# `prefect concurrency-limit create warehouse 3`). A task run with that tag waits for a slot before it
# starts, across every flow run that uses the tag, as a task waits for an Airflow pool slot.
# An extract that has not landed yet is there on a later try: queries wait 45 s between tries, as in the DAG.
@task(tags=["warehouse"], retries=2, retry_delay_seconds=45)
def run_query(table: str, warehouse_dir: Path) -> dict[str, Any]:
    with (warehouse_dir / "extracts" / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    amount = sum(float(row["amount"]) for row in rows)  # a corrupt amount fails the query: ValueError
    time.sleep(len(rows) * SECONDS_PER_ROW)
    out = warehouse_dir / "out" / f"{table}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"table,rows,amount\n{table},{len(rows)},{amount:.2f}\n")
    get_run_logger().info("%s: %d rows, amount %.2f", table, len(rows), amount)
    return {"table": table, "rows": len(rows)}


@task(**TASK_DEFAULTS)
def cleanup(warehouse_dir: Path) -> None:
    marker = warehouse_dir / "out" / "_cleanup.txt"
    marker.parent.mkdir(parents=True, exist_ok=True)  # no query may have run
    marker.write_text("staging tables dropped\n")


@task(**TASK_DEFAULTS)
def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    return {"tables": len(results), "rows": sum(r["rows"] for r in results)}


# [END pools_tasks]


# [START pools_flow]
# Enough threads to submit every query at once: the server's limit, not the runner, decides how many run.
@flow(name="pools", task_runner=ThreadPoolTaskRunner(max_workers=20))
def pools(warehouse_dir: Path) -> dict[str, int]:
    """Query every table of the catalog, at most 3 at once across the warehouse, then drop the staging tables."""
    try:
        queries = run_query.map(list_tables(warehouse_dir), unmapped(warehouse_dir))
        wait(queries)  # every query final, failed or not
    finally:
        # Airflow's all_done: the cleanup runs after the queries, and also when the listing failed and no query
        # ran (their state is upstream_failed there, which is "done").
        cleanup(warehouse_dir)
    # Raises the first query's failure, so summarize is never called and the run fails, as in Airflow.
    return summarize(queries.result())


# [END pools_flow]


if __name__ == "__main__":
    # Create the limit first (`prefect concurrency-limit create warehouse 3`): a tag with no limit limits nothing.
    pools.serve(name="nightly", parameters={"warehouse_dir": "/data/warehouse"})
