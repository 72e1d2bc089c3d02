"""Pools in Prefect: a tag-based concurrency limit on the server, retries, and a cleanup that always runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import flow, task, unmapped
from prefect.futures import wait
from prefect.runtime import task_run
from prefect.task_runners import ThreadPoolTaskRunner

FLAKY_TABLE = "t07"
# The DAG's default_args: every task retries, not only the queries.
TASK_DEFAULTS: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 1}


# [START pools_tasks]
@task(**TASK_DEFAULTS)
def list_tables(workdir: Path) -> list[str]:
    # The warehouse's catalog, one table per line, as its team exports it.
    return (workdir / "catalog.txt").read_text(encoding="utf-8").split()


# The tag "warehouse" has a concurrency limit of 3 on the server (created by an operator:
# `prefect concurrency-limit create warehouse 3`). A task run with that tag waits for a slot before it
# starts, across every flow run that uses the tag, as a task waits for an Airflow pool slot.
@task(tags=["warehouse"], **TASK_DEFAULTS)
def run_query(table: str, workdir: Path, broken_table: str, query_seconds: float) -> dict[str, Any]:
    if table == FLAKY_TABLE and task_run.run_count == 1:
        raise ConnectionError(f"warehouse connection reset while querying {table}")
    if table == broken_table:
        raise ValueError(f"{table}: relation does not exist")
    time.sleep(query_seconds)
    rows = sum(map(ord, table))
    out = workdir / "out" / f"{table}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"table,rows\n{table},{rows}\n")
    return {"table": table, "rows": rows}


@task(**TASK_DEFAULTS)
def cleanup(workdir: Path) -> None:
    marker = workdir / "out" / "_cleanup.txt"
    marker.parent.mkdir(parents=True, exist_ok=True)  # no query may have run
    marker.write_text("staging tables dropped\n")


@task(**TASK_DEFAULTS)
def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
    return {"tables": len(results), "rows": sum(r["rows"] for r in results)}


# [END pools_tasks]


# [START pools_flow]
# Enough threads to submit every query at once: the server's limit, not the runner, decides how many run.
@flow(name="pools", task_runner=ThreadPoolTaskRunner(max_workers=20))
def pools(workdir: Path, broken_table: str = "", query_seconds: float = 1.0) -> dict[str, int]:
    try:
        queries = run_query.map(list_tables(workdir), unmapped(workdir), broken_table, query_seconds)
        wait(queries)  # every query final, failed or not
    finally:
        # Airflow's all_done: the cleanup runs after the queries, and also when the listing failed and no query
        # ran (their state is upstream_failed there, which is "done").
        cleanup(workdir)
    # Raises the first query's failure, so summarize is never called and the run fails, as in Airflow.
    return summarize(queries.result())


# [END pools_flow]
