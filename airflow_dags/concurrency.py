"""Concurrency in Airflow 3: a run that may use at most 2 task slots, and one run of the DAG at a time.

`max_active_tasks` is enforced by the scheduler, so this recipe runs under a real scheduler with a LocalExecutor
(`airflow_mode: scheduler` in its page; executor parallelism 4), not `dag.test()`, which runs one task at a time.

Each partition is rebuilt from its source, `<partitions_dir>/source/<partition>.csv` (`id,amount` rows), into
`<partitions_dir>/out/<partition>.txt`.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

PARTITIONS = [f"p{i:02d}" for i in range(10)]
SECONDS_PER_ROW = 0.25  # a rebuild's cost per source row: minutes of CPU per partition in real life

# [START concurrency_dag]
with DAG(
    dag_id="concurrency",
    schedule=None,
    params={"partitions_dir": Param(type="string", description="The partitions' sources and rebuilds.")},
    # At most 2 task instances of one run at a time (per run since Airflow 3; in Airflow 2 it was per DAG).
    # The executor's parallelism (4 here, 32 by default) is the installation-wide cap above it.
    max_active_tasks=2,
    # One run of this DAG at a time: a run triggered meanwhile waits in `queued`.
    max_active_runs=1,
    tags=["cookbook"],
) as dag:

    @task
    def list_partitions() -> list[str]:
        return PARTITIONS

    # 10 mapped instances are created at once; the scheduler starts 2, the rest wait in `scheduled`.
    @task
    def rebuild(partition: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert params is not None
        partitions = Path(params["partitions_dir"])
        with (partitions / "source" / f"{partition}.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        amount = sum(float(row["amount"]) for row in rows)  # a corrupt source fails the rebuild: ValueError
        time.sleep(len(rows) * SECONDS_PER_ROW)
        out = partitions / "out" / f"{partition}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"{partition} rebuilt: {len(rows)} rows, amount {amount:.2f}\n")
        return {"partition": partition, "rows": len(rows)}

    @task
    def summarize(results: list[dict[str, Any]]) -> dict[str, int]:
        return {"partitions": len(results), "rows": sum(r["rows"] for r in results)}

    summarize(rebuild.expand(partition=list_partitions()))
# [END concurrency_dag]
