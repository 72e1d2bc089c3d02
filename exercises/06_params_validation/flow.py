"""Exercise 6, your translation: params validated before any task runs.

`make exercise N=6` runs this file and dag.py on the same cases and tells you what differs: the valid runs match
already, the invalid ones do not. Work through the TODO.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from prefect import flow, get_run_logger, task

ROWS = {"eu": 250, "us": 1000, "apac": 42}


@task
def plan(region: str, limit: int) -> dict:
    rows = ROWS[region]
    return {"region": region, "rows": rows, "pages": math.ceil(rows / limit)}


@task
def export(planned: dict, dry_run: bool) -> dict:
    if dry_run:
        get_run_logger().info("dry run: nothing written")
        return {**planned, "written": None}
    target = Path("out") / f"{planned['region']}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(planned, sort_keys=True) + "\n", encoding="utf-8")
    return {**planned, "written": target.as_posix()}


# TODO: Prefect checks a run's parameters against these type hints before the flow body runs, and refuses the run
#       when one does not fit, as Airflow refuses a run conf that breaks a Param's schema. Make the hints say
#       what the DAG's Params say: the region's enum (typing.Literal), the limit's range (Annotated with
#       pydantic's Field), and no lax coercion ("5" is not an integer, "no" is not a boolean: StrictInt,
#       StrictBool).
@flow(name="report-export")
def report_export(region: str = "eu", limit: int = 10, dry_run: bool = False) -> dict:
    """Plan a region's report in pages of `limit` rows and write the plan to `out/<region>.json` (unless
    `dry_run`); parameters outside their types or ranges refuse the run."""
    return export(plan(region, limit), dry_run)


if __name__ == "__main__":
    report_export.serve(name="report-export")
