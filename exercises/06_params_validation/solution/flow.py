"""Exercise 6, a solution: typed flow parameters as strict as the DAG's JSON schema.

Prefect validates a run's parameters with Pydantic before the flow body runs, and refuses the run when they do
not fit. Pydantic's default (lax) mode accepts more than JSON schema does ("5" for an integer, "no" for a
boolean), so the types are strict; the range goes in Annotated (a Field(...) as the default is not enforced).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from pydantic import Field, StrictBool, StrictInt

ROWS = {"eu": 250, "us": 1000, "apac": 42}
Region = Literal["eu", "us", "apac"]
Limit = Annotated[StrictInt, Field(ge=1, le=100)]


@task
def plan(region: Region, limit: int) -> dict:
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


@flow(name="report-export")
def report_export(region: Region = "eu", limit: Limit = 10, dry_run: StrictBool = False) -> dict:
    """Plan a region's report in pages of `limit` rows and write the plan to `out/<region>.json` (unless
    `dry_run`); parameters outside their types or ranges refuse the run."""
    return export(plan(region, limit), dry_run)


if __name__ == "__main__":
    report_export.serve(name="report-export")
