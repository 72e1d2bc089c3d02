"""DAG params in Prefect: typed flow parameters, validated by Pydantic before the flow body runs.

`plan` turns the parameters into an export plan, and `export` writes it to `out/<run_tag>.json` unless `dry_run`
is set. Parameters that break a constraint fail the flow run before any task runs.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

ROWS = 1234

# [START params_types]
# Each type says what Airflow's JSON schema said, and no more: Pydantic's default (lax) mode would accept more.
Region = Literal["eu", "us", "apac"]  # enum: exact strings, no case folding, no coercion
# StrictInt: JSON schema's "integer" rejects "5" and true; lax int would turn them into 5 and 1. StrictInt also
# rejects 5.0, which JSON schema counts as an integer (and Airflow then passes on as a float).
# The constraints go in Annotated[...]: a Field(100, ge=1) written as the parameter's default is not enforced.
BatchSize = Annotated[StrictInt, Field(ge=1, le=1000)]
# pattern: anchored on purpose; JSON schema and Pydantic both search for it anywhere in the string.
RunTag = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{2,31}$")]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Window(BaseModel):
    # additionalProperties: false
    model_config = ConfigDict(extra="forbid")

    start: date
    # StrictInt for the same reason as batch_size: "7" is not an integer.
    days: StrictInt = Field(ge=1, le=31)

    @field_validator("start", mode="before")
    @classmethod
    def iso_date_text(cls, value: Any) -> Any:
        # {"type": "string", "format": "date"} accepts exactly YYYY-MM-DD text. Pydantic's date alone also takes
        # "2026-11-01T00:00:00" and Unix timestamps (0 is 1970-01-01).
        if type(value) is date:
            return value  # a Python caller passing a real date
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            raise ValueError("start must be a date as YYYY-MM-DD text")
        return value


DEFAULT_WINDOW = Window(start=date(2026, 11, 1), days=7)
# [END params_types]


# [START params_tasks]
@task
def plan(region: Region, batch_size: int, run_tag: str, dry_run: bool, window: Window) -> dict[str, Any]:
    # The values arrive typed: window.start is a date already, nothing to parse.
    return {
        "region": region,
        "run_tag": run_tag,
        "dry_run": dry_run,
        "start": window.start.isoformat(),
        "end": (window.start + timedelta(days=window.days - 1)).isoformat(),
        "batch_size": batch_size,
        "batches": math.ceil(ROWS / batch_size),
    }


@task
def export(exported: dict[str, Any], run_tag: str, dry_run: bool) -> dict[str, Any]:
    if dry_run:
        get_run_logger().info("dry run: the export plan is not written")
        return {**exported, "written": None}
    target = Path("out") / f"{run_tag}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(exported, sort_keys=True) + "\n")
    get_run_logger().info("wrote the export plan to %s", target)
    return {**exported, "written": target.as_posix()}


# [END params_tasks]


# [START params_flow]
@flow(name="params")
def params_flow(
    region: Region = "eu",
    batch_size: BatchSize = 100,
    run_tag: RunTag = "nightly",
    # StrictBool: lax bool reads "false", "no", "off", 0 as False and "yes", 1 as True.
    dry_run: StrictBool = False,
    window: Window = DEFAULT_WINDOW,
) -> dict[str, Any]:
    """Plan an export of one region's rows over a date window, in batches of `batch_size`, and write the plan.

    The plan goes to `out/<run_tag>.json` (relative to the working directory) unless `dry_run` is set; either way
    it is the run's result. Parameters outside their types or ranges refuse the run before any task runs.
    """
    exported = plan(region, batch_size, run_tag, dry_run, window)
    return export(exported, run_tag, dry_run)


# [END params_flow]


if __name__ == "__main__":
    params_flow.serve(name="params")
