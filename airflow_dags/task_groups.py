"""TaskGroups in Airflow 3: a `TaskGroup` context manager, a `@task_group` with a nested group and default_args, and
a group with `prefix_group_id=False`.

An order pipeline: `clean` drops invalid and duplicate orders, `enrich` adds a region and, in its nested `score`
group, a size band and a rank; `check_total` guards the total and `publish` summarises.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param, TaskGroup, task, task_group

REGIONS = {"FR": "emea", "DE": "emea", "US": "amer", "JP": "apac"}

DEFAULT_ORDERS = [
    {"id": "A-1", "amount": 120.0, "country": "FR"},
    {"id": "A-2", "amount": 35.5, "country": "US"},
    {"id": "A-2", "amount": 35.5, "country": "US"},
    {"id": "A-3", "amount": -1.0, "country": "JP"},
    {"id": "A-4", "amount": 980.0, "country": "DE"},
]

with DAG(
    dag_id="task_groups",
    schedule=None,
    params={
        "orders": Param(DEFAULT_ORDERS, type="array", description="Each item: {id, amount, country}."),
        "max_total": Param(5000, type="number"),
    },
    tags=["cookbook"],
) as dag:

    @task
    def extract(params: dict | None = None) -> list[dict]:
        assert params is not None
        return params["orders"]

    @task
    def drop_invalid(rows: list[dict]) -> list[dict]:
        return [r for r in rows if r["amount"] > 0]

    @task
    def dedupe(rows: list[dict]) -> list[dict]:
        first_by_id: dict[str, dict] = {}
        for r in rows:
            first_by_id.setdefault(r["id"], r)
        return list(first_by_id.values())

    @task
    def add_region(rows: list[dict]) -> list[dict]:
        unknown = sorted({r["country"] for r in rows} - REGIONS.keys())
        if unknown:
            raise KeyError(f"no region for {unknown}")
        return [{**r, "region": REGIONS[r["country"]]} for r in rows]

    @task
    def band(rows: list[dict]) -> list[dict]:
        return [{**r, "band": "large" if r["amount"] >= 100 else "small"} for r in rows]

    @task
    def rank(rows: list[dict]) -> list[dict]:
        ordered = sorted(rows, key=lambda r: r["amount"], reverse=True)
        return [{**r, "rank": i} for i, r in enumerate(ordered, start=1)]

    @task
    def check_total(rows: list[dict], params: dict | None = None) -> list[dict]:
        assert params is not None
        total = sum(r["amount"] for r in rows)
        if total > params["max_total"]:
            raise ValueError(f"total {total} is over the limit of {params['max_total']}")
        return rows

    @task
    def publish(rows: list[dict]) -> dict:
        by_region: dict[str, float] = {}
        for r in rows:
            by_region[r["region"]] = round(by_region.get(r["region"], 0) + r["amount"], 2)
        return {
            "orders": len(rows),
            "total": round(sum(r["amount"] for r in rows), 2),
            "by_region": dict(sorted(by_region.items())),
            "top": rows[0]["id"],
            "large": [r["id"] for r in rows if r["band"] == "large"],
        }

    # [START groups_decorated]
    # Nested in enrich, so its tasks are enrich.score.band and enrich.score.rank.
    @task_group
    def score(rows):
        return rank(band(rows))

    # default_args of a group apply to each task created inside it, nested groups included: every one of
    # enrich.add_region, enrich.score.band and enrich.score.rank is retried once, on its own.
    @task_group(default_args={"retries": 1, "retry_delay": timedelta(seconds=1)})
    def enrich(rows):
        # The returned XComArg is what the group "returns": the next task depends on it.
        return score(add_region(rows))

    # [END groups_decorated]

    # [START groups_dag]
    rows = extract()
    # A context manager: tasks called inside get the "clean." prefix in their task_id.
    with TaskGroup("clean", tooltip="drop invalid and duplicate orders"):
        cleaned = dedupe(drop_invalid(rows))

    enriched = enrich(cleaned)

    # prefix_group_id=False: still drawn as a group in the UI, but the task_id is plain "check_total".
    with TaskGroup("checks", prefix_group_id=False):
        checked = check_total(enriched)

    publish(checked)
    # [END groups_dag]
