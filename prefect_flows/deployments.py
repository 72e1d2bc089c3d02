"""Deployments in Prefect: the flow is code; a deployment says when it runs, with what, and where.

`python prefect_flows/deployments.py` serves the deployment from this process (each run in a subprocess of it).
`deploy_to_pool()` registers the same deployment for the process work pool `default` instead, where any
`prefect worker start --pool default` runs it; the repository's prefect.yaml does that for every recipe.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

from prefect import flow, get_run_logger, serve, task
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run
from pydantic import Field

SALES: dict[str, dict[str, int]] = {
    "eu": {"espresso": 420, "croissant": 310, "baguette": 275, "macaron": 190, "stroopwafel": 160, "pretzel": 120},
    "us": {"bagel": 510, "donut": 480, "muffin": 330, "cookie": 300, "brownie": 220, "pretzel": 140},
    "apac": {"bao": 610, "mochi": 450, "matcha": 380, "dumpling": 360, "egg tart": 240, "onigiri": 230},
}


# [START deployments_flow]
@task
def extract(region: str) -> dict[str, int]:
    return SALES[region]


@task
def rank(sales: dict[str, int], top_n: int) -> list[dict[str, Any]]:
    best = sorted(sales.items(), key=lambda item: (-item[1], item[0]))[:top_n]
    return [{"product": product, "units": units} for product, units in best]


@task
def publish(report_dir: Path, region: str, top_n: int, top: list[dict[str, Any]]) -> dict[str, Any]:
    # The run's tags are the deployment's (plus any given when the run was created), not the code's.
    report = {"region": region, "top_n": top_n, "top": top, "tags": sorted(flow_run.tags)}
    out = report_dir / "reports" / f"{region}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    get_run_logger().info("top %d of %s written to %s", top_n, region, out)
    return report


# The signature is the parameter schema a deployment stores: the server checks every run's parameters against it
# before the run exists, as Airflow checks a trigger's conf against `params`.
@flow(name="deployments")
def nightly_report(
    report_dir: Path = Path("/tmp"),
    region: Literal["eu", "us", "apac"] = "eu",
    top_n: Annotated[int, Field(ge=1, le=10)] = 3,
) -> dict[str, Any]:
    """The region's best sellers, ranked and written to `report_dir`/reports/<region>.json."""
    return publish(report_dir, region, top_n, rank(extract(region), top_n))


# [END deployments_flow]


# [START deployments_serve]
def deployments() -> list[RunnerDeployment]:
    return [
        nightly_report.to_deployment(
            name="nightly",
            cron="0 6 * * *",  # UTC; the first run is the next 06:00, never one in the past
            tags=["cookbook", "reports"],
            version="2026.11.30",
            description="The sales report, every morning.",
            # Airflow's max_active_runs=1: a second run waits (AwaitingConcurrencySlot) until this one ends.
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            paused=False,  # a new deployment's schedule is active unless told otherwise
        )
    ]


if __name__ == "__main__":
    # A long-lived process that registers the deployment, polls the server for its runs and starts each one in a
    # subprocess; stopping it (Ctrl-C) pauses the deployment's schedule.
    serve(*deployments())
# [END deployments_serve]


# [START deployments_deploy]
def deploy_to_pool() -> UUID:
    """The same deployment, run by any worker of the process work pool `default` (`prefect worker start --pool
    default`) instead of by this process. A worker starts from nothing, so the deployment records where the code
    is: this folder here (a worker on the same machine), a git URL or a bucket in production."""
    here = Path(__file__).resolve().parent
    return nightly_report.from_source(source=str(here), entrypoint="deployments.py:nightly_report").deploy(
        name="nightly",
        work_pool_name="default",
        cron="0 6 * * *",
        tags=["cookbook", "reports"],
        version="2026.11.30",
        concurrency_limit=1,
        print_next_steps=False,
    )


# [END deployments_deploy]
