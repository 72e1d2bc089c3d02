"""Exercise 6, the DAG: params checked against a JSON schema before any task runs.

`plan` works out how many pages of `limit` rows a region's report has; `export` writes the plan to
`out/<region>.json` unless `dry_run`. A run conf that breaks a Param's schema (a region not in the enum, a limit out
of range or given as text, a dry_run that is not a boolean) is refused: the run never starts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from airflow.sdk import DAG, Param, task

ROWS = {"eu": 250, "us": 1000, "apac": 42}

with DAG(
    dag_id="report_export",
    schedule=None,
    params={
        "region": Param("eu", enum=["eu", "us", "apac"]),
        "limit": Param(10, type="integer", minimum=1, maximum=100, description="Rows per page."),
        "dry_run": Param(False, type="boolean", description="Plan only; write nothing."),
    },
    tags=["exercise"],
) as dag:

    @task
    def plan(params: dict | None = None) -> dict:
        assert params is not None
        rows = ROWS[params["region"]]
        return {"region": params["region"], "rows": rows, "pages": math.ceil(rows / params["limit"])}

    @task
    def export(planned: dict, params: dict | None = None) -> dict:
        assert params is not None
        if params["dry_run"]:
            return {**planned, "written": None}
        target = Path("out") / f"{planned['region']}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(planned, sort_keys=True) + "\n", encoding="utf-8")
        return {**planned, "written": target.as_posix()}

    export(plan())
