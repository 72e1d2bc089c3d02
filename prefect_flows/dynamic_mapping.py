"""Dynamic task mapping in Prefect: `.map()`, `unmapped()`, futures in call order, and an empty input.

A regional sales rollup. `extract` decides at run time how many regions there are; `validate` runs once per region,
`convert` once per validated region with the same exchange rate, and `report` reduces the converted rows, in region
order.
"""

from __future__ import annotations

from typing import Annotated

from prefect import flow, get_run_logger, task, unmapped
from pydantic import BaseModel, Field


class Region(BaseModel):
    region: str
    amounts: list[float] = Field(description="Sales in USD.")


class Report(BaseModel):
    regions: list[str]
    eur: list[float]
    total_eur: float


DEFAULT_REGIONS = [
    Region(region="emea", amounts=[120.0, 35.5]),
    Region(region="amer", amounts=[99.5]),
    Region(region="apac", amounts=[10.0, 20.0, 30.0]),
]


# [START mapping_tasks]
@task
def extract(regions: list[Region]) -> list[Region]:
    batches = [r for r in regions if r.amounts]
    get_run_logger().info("%s of %s regions have sales", len(batches), len(regions))
    return batches


# map_index_template becomes task_run_name: the run is called "validate-emea" in the UI and the logs.
@task(task_run_name="validate-{region}")
def validate(region: str, amounts: list[float]) -> dict:
    if any(a < 0 for a in amounts):
        raise ValueError(f"{region}: negative amount in {amounts}")
    return {"region": region, "usd": round(sum(amounts), 2)}


@task
def convert(row: dict, rate: float) -> dict:
    return {"region": row["region"], "eur": round(row["usd"] * rate, 2)}


@task
def report(rows: list[dict]) -> Report:
    summary = Report(
        regions=[r["region"] for r in rows],
        eur=[r["eur"] for r in rows],
        total_eur=round(sum(r["eur"] for r in rows), 2),
    )
    get_run_logger().info("%s regions, %s EUR in total", len(summary.regions), summary.total_eur)
    return summary


# [END mapping_tasks]


# [START mapping_flow]
# The rate's constraint goes in Annotated: a pydantic Field(...) given as the default is not checked by Prefect
# (3.8.8 runs with usd_to_eur=0), where Airflow's Param(exclusiveMinimum=0) refuses the run.
@flow(name="dynamic-mapping")
def dynamic_mapping(
    regions: list[Region] = DEFAULT_REGIONS, usd_to_eur: Annotated[float, Field(gt=0)] = 0.9
) -> Report | None:
    """Roll up each region's sales and convert them to EUR at `usd_to_eur`: one report, regions in input order.

    Regions without sales are left out; with none at all nothing is reported (the run succeeds with no result).
    A region with a negative amount fails the run, and no region is converted.
    """
    batches = extract(regions)
    if not batches:
        # Airflow marks a zero-length mapped task skipped, and the default trigger rule skips everything after
        # it. `validate.map([])` would just return no futures and `report([])` would run: stop here instead.
        return None
    # expand_kwargs takes one dict of arguments per call; .map takes one list per argument and zips them.
    validated = validate.map(region=[b.region for b in batches], amounts=[b.amounts for b in batches])
    # Airflow expands `convert` only once every `validate` instance has finished, and not at all if one failed.
    # Mapping over the futures would pipeline instead (convert[i] waits for validate[i] only), so wait for all,
    # then let .result() raise the first failure: the run fails and convert is never called.
    validated.wait()
    rows = validated.result()
    # unmapped(): the same rate for every call, as partial() does; the rows are zipped one per call, as expand().
    # The rate is the parameter itself: Airflow's exchange_rate task only turned the param into an XCom for partial().
    converted = convert.map(rows, rate=unmapped(usd_to_eur))
    # A list of futures passed to a task arrives as their results, in call order: region order, as map indexes.
    return report(converted)


# [END mapping_flow]


if __name__ == "__main__":
    dynamic_mapping.serve(name="dynamic-mapping")
