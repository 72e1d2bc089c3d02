"""TaskGroups in Prefect: a plain function where the group only organises, a subflow where it is a unit of its own.

An order pipeline: `clean` drops invalid and duplicate orders, `enrich` adds a region and, in its nested `score`
group, a size band and a rank; `check_total` guards the total and `publish` summarises.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from pydantic import BaseModel


class Order(BaseModel):
    id: str
    amount: float
    country: str
    region: str | None = None
    band: str | None = None
    rank: int | None = None


class Summary(BaseModel):
    orders: int
    total: float
    by_region: dict[str, float]
    top: str
    large: list[str]


REGIONS = {"FR": "emea", "DE": "emea", "US": "amer", "JP": "apac"}

DEFAULT_ORDERS = [
    Order(id="A-1", amount=120.0, country="FR"),
    Order(id="A-2", amount=35.5, country="US"),
    Order(id="A-2", amount=35.5, country="US"),
    Order(id="A-3", amount=-1.0, country="JP"),
    Order(id="A-4", amount=980.0, country="DE"),
]


# [START groups_function]
# The group prefix is part of the task name, as it is part of Airflow's task_id: the UI lists the task runs as
# "clean.drop_invalid-…", and searching or alerting on "clean." finds the whole group.
@task(name="clean.drop_invalid")
def drop_invalid(rows: list[Order]) -> list[Order]:
    valid = [r for r in rows if r.amount > 0]
    get_run_logger().info("%d of %d orders have a positive amount", len(valid), len(rows))
    return valid


@task(name="clean.dedupe")
def dedupe(rows: list[Order]) -> list[Order]:
    first_by_id: dict[str, Order] = {}
    for r in rows:
        first_by_id.setdefault(r.id, r)
    return list(first_by_id.values())


def clean(rows: list[Order]) -> list[Order]:
    """A TaskGroup that only organises: a plain function. No run, no state; its tasks belong to the caller's run."""
    return dedupe(drop_invalid(rows))


# [END groups_function]


# [START groups_subflow]
# The group's default_args, spelled out once and given to each task: a failing task is retried on its own,
# exactly as in Airflow. (Retries on the subflow would re-run the whole group instead.)
ENRICH_DEFAULTS: dict[str, Any] = {"retries": 1, "retry_delay_seconds": 1}


@task(name="enrich.add_region", **ENRICH_DEFAULTS)
def add_region(rows: list[Order]) -> list[Order]:
    unknown = sorted({r.country for r in rows} - REGIONS.keys())
    if unknown:
        raise KeyError(f"no region for {unknown}")
    return [r.model_copy(update={"region": REGIONS[r.country]}) for r in rows]


@task(name="enrich.score.band", **ENRICH_DEFAULTS)
def band(rows: list[Order]) -> list[Order]:
    return [r.model_copy(update={"band": "large" if r.amount >= 100 else "small"}) for r in rows]


@task(name="enrich.score.rank", **ENRICH_DEFAULTS)
def rank(rows: list[Order]) -> list[Order]:
    ordered = sorted(rows, key=lambda r: r.amount, reverse=True)
    return [r.model_copy(update={"rank": i}) for i, r in enumerate(ordered, start=1)]


def score(rows: list[Order]) -> list[Order]:
    # A nested group can stay a plain function inside the subflow: its tasks run in the subflow's run.
    return rank(band(rows))


@flow(name="enrich")
def enrich(rows: list[Order]) -> list[Order]:
    """A TaskGroup that is a unit: its own flow run, with its own state, parameters and logs."""
    return score(add_region(rows))


# [END groups_subflow]


# [START groups_flow]
# prefix_group_id=False: the task keeps its plain name.
@task
def check_total(rows: list[Order], max_total: float) -> list[Order]:
    total = sum(r.amount for r in rows)
    if total > max_total:
        raise ValueError(f"total {total} is over the limit of {max_total}")
    return rows


@task
def publish(rows: list[Order]) -> Summary:
    by_region: dict[str, float] = {}
    for r in rows:
        assert r.region is not None
        by_region[r.region] = round(by_region.get(r.region, 0) + r.amount, 2)
    summary = Summary(
        orders=len(rows),
        total=round(sum(r.amount for r in rows), 2),
        by_region=dict(sorted(by_region.items())),
        top=rows[0].id,
        large=[r.id for r in rows if r.band == "large"],
    )
    get_run_logger().info("published %d orders, total %s", summary.orders, summary.total)
    return summary


@flow(name="task-groups")
def task_groups(orders: list[Order] = DEFAULT_ORDERS, max_total: float = 5000) -> Summary:
    """Clean, enrich and check a batch of orders, then publish a summary of them.

    Orders with an amount of zero or less and repeated ids are dropped; each remaining order gets its region, a size
    band and a rank by amount. The run fails if an order's country has no region (after one retry) or if the total
    is over `max_total`; nothing is published then.
    """
    # The orders parameter is the data: Airflow's `extract` task, which only read it from `params`, has no twin.
    cleaned = clean(orders)
    # A subflow call blocks until the child run ends and returns its value; if the child run fails, the call
    # raises its error here, so nothing after it runs and this run fails too.
    enriched = enrich(cleaned)
    checked = check_total(enriched, max_total)
    return publish(checked)


# [END groups_flow]


if __name__ == "__main__":
    task_groups.serve(name="task-groups")
