"""Branching in Prefect: decisions are tasks that return values, and the flow branches on them with `if`.

A nightly orders load picks a full or an incremental load, stops publishing when there is nothing new, and publishes
to the targets a parameter names. `record_run` always records what happened, unless the load itself failed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from prefect import flow, get_run_logger, task
from pydantic import Field

Target = Literal["warehouse", "lake"]
TARGETS: dict[str, list[Target]] = {"warehouse": ["warehouse"], "lake": ["lake"], "both": ["warehouse", "lake"]}


# [START branching_load]
# The decision stays a task because in real pipelines it reads something (a table, a file); it returns a value
# that means something, not a task id. A decision on parameters alone can be a bare `if` in the flow.
@task
def choose_load(full_refresh: bool) -> Literal["full", "incremental"]:
    return "full" if full_refresh else "incremental"


@task
def full_load(source_rows: int) -> dict:
    return {"mode": "full", "rows": source_rows}


@task
def incremental_load(source_rows: int, watermark: int | None) -> dict:
    if watermark is None:
        raise ValueError("no watermark: this table was never loaded, run a full refresh first")
    return {"mode": "incremental", "rows": max(source_rows - watermark, 0)}


# [END branching_load]


# [START branching_publish]
@task
def has_new_rows(loaded: dict) -> bool:
    return loaded["rows"] > 0


@task
def choose_targets(targets: Literal["warehouse", "lake", "both"]) -> list[Target]:
    return TARGETS[targets]


@task
def publish_warehouse(loaded: dict) -> str:
    return "warehouse"


@task
def publish_lake(loaded: dict) -> str:
    return "lake"


@task
def record_run(loaded: dict, published: list[str]) -> dict:
    get_run_logger().info("%s load: %s rows, published to %s", loaded["mode"], loaded["rows"], published)
    return {"mode": loaded["mode"], "rows": loaded["rows"], "published": published}


@flow(name="branching")
def branching(
    source_rows: Annotated[int, Field(ge=0)] = 5,
    watermark: Annotated[int, Field(ge=0)] | None = None,
    full_refresh: bool = False,
    targets: Literal["warehouse", "lake", "both"] = "warehouse",
) -> dict:
    """Load tonight's orders and publish them to the chosen targets.

    A full refresh loads every source row; otherwise only the rows past `watermark` are loaded, and a table that
    was never loaded (no watermark) fails the run: run it once with `full_refresh`. Publishing is skipped when
    nothing is new. `record_run` returns the load mode, the rows loaded and the targets published to.
    """
    # @task.branch becomes an `if` on the decision. The branch not taken is never called: no task run at all,
    # where Airflow records "skipped". A failed load raises here, so nothing after it runs. (A block, not a
    # ternary: each arm is a path that usually grows more steps.)
    if choose_load(full_refresh) == "full":  # noqa: SIM108
        loaded = full_load(source_rows)
    else:
        loaded = incremental_load(source_rows, watermark)
    # No join task: `loaded` is bound on whichever path ran, which is all Airflow's merge task was for.

    published: list[str] = []
    # ShortCircuitOperator(ignore_downstream_trigger_rules=False): the short circuit skips this block only,
    # and the flow goes on after it. The default (True) would be a `return` here instead.
    if has_new_rows(loaded):
        chosen = choose_targets(targets)
        if "warehouse" in chosen:
            published.append(publish_warehouse(loaded))
        if "lake" in chosen:
            published.append(publish_lake(loaded))
    return record_run(loaded, published)


# [END branching_publish]


if __name__ == "__main__":
    branching.serve(name="branching")
