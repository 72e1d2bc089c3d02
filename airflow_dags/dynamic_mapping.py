"""Dynamic task mapping in Airflow 3: expand, partial, expand_kwargs, mapping over a mapped result, named map indexes.

A regional sales rollup. `extract` decides at run time how many regions there are; `validate` runs once per region
(`expand_kwargs`), `convert` once per validated region (`expand` over a mapped result, with the exchange rate fixed
by `partial`), and `report` reduces the converted rows, in region order.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

DEFAULT_REGIONS = [
    {"region": "emea", "amounts": [120.0, 35.5]},
    {"region": "amer", "amounts": [99.5]},
    {"region": "apac", "amounts": [10.0, 20.0, 30.0]},
]

with DAG(
    dag_id="dynamic_mapping",
    schedule=None,
    params={
        "regions": Param(DEFAULT_REGIONS, type="array", description="Each item: {region, amounts (USD)}."),
        "usd_to_eur": Param(0.9, type="number", exclusiveMinimum=0),
    },
    tags=["cookbook"],
) as dag:
    # [START mapping_tasks]
    @task
    def extract(params: dict | None = None) -> list[dict]:
        # The number of regions, hence of mapped task instances, is only known once this task has run.
        assert params is not None
        return [r for r in params["regions"] if r["amounts"]]

    @task
    def exchange_rate(params: dict | None = None) -> float:
        assert params is not None
        return params["usd_to_eur"]

    # The UI labels each instance with the rendered template ("emea") instead of its map index (0).
    # `task` in the template context is this instance's own copy, with its mapped arguments filled in.
    @task(map_index_template="{{ task.op_kwargs['region'] }}")
    def validate(region: str, amounts: list[float]) -> dict:
        if any(a < 0 for a in amounts):
            raise ValueError(f"{region}: negative amount in {amounts}")
        return {"region": region, "usd": round(sum(amounts), 2)}

    @task
    def convert(row: dict, rate: float) -> dict:
        return {"region": row["region"], "eur": round(row["usd"] * rate, 2)}

    @task
    def report(rows: list[dict]) -> dict:
        # `rows` is a lazy sequence of convert's XComs, in map index order: region order, whatever finished first.
        rows = list(rows)
        return {
            "regions": [r["region"] for r in rows],
            "eur": [r["eur"] for r in rows],
            "total_eur": round(sum(r["eur"] for r in rows), 2),
        }

    # [END mapping_tasks]

    # [START mapping_dag]
    # expand_kwargs: one validate instance per dict, each dict being that instance's keyword arguments.
    validated = validate.expand_kwargs(extract())
    # expand over a mapped result: one convert per validate instance. partial: the same rate for all of them.
    converted = convert.partial(rate=exchange_rate()).expand(row=validated)
    report(converted)
    # [END mapping_dag]
