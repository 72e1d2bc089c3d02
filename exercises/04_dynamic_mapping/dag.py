"""Exercise 4, the DAG: dynamic task mapping.

`split` decides at run time how many batches of measurements there are; `measure` runs once per batch
(`expand`), each instance on its own, and `summarize` reduces their results in batch order. An empty batch fails
its own `measure` instance only; the others still run, and `summarize` does not.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, task

DEFAULT_BATCHES = [[1.0, 2.0, 3.0], [10.0, 20.0], [5.5]]

with DAG(
    dag_id="batch_stats",
    schedule=None,
    params={"batches": Param(DEFAULT_BATCHES, type="array", description="Lists of measurements.")},
    tags=["exercise"],
) as dag:

    @task
    def split(params: dict | None = None) -> list[list[float]]:
        assert params is not None
        return params["batches"]

    @task
    def measure(batch: list[float]) -> dict:
        if not batch:
            raise ValueError("an empty batch: nothing to measure")
        return {"n": len(batch), "mean": round(sum(batch) / len(batch), 2)}

    @task
    def summarize(stats: list[dict]) -> dict:
        stats = list(stats)  # a lazy sequence of the mapped XComs, in map index order
        return {"batches": len(stats), "values": sum(s["n"] for s in stats), "means": [s["mean"] for s in stats]}

    # One measure instance per batch: measure[0], measure[1], ...; none at all for an empty list.
    summarize(measure.expand(batch=split()))
