"""Exercise 4, a solution: `.map()` for `expand`, and the two edges Airflow treats its own way.

Every mapped call runs, whichever fails; `summarize` runs only when all succeeded; and an empty input maps nothing
and summarizes nothing (Airflow skips both), so the flow returns before mapping.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

DEFAULT_BATCHES = [[1.0, 2.0, 3.0], [10.0, 20.0], [5.5]]


@task
def split(batches: list[list[float]]) -> list[list[float]]:
    return batches


@task
def measure(batch: list[float]) -> dict:
    if not batch:
        raise ValueError("an empty batch: nothing to measure")
    return {"n": len(batch), "mean": round(sum(batch) / len(batch), 2)}


@task
def summarize(stats: list[dict]) -> dict:
    get_run_logger().info("%d batches measured", len(stats))
    return {"batches": len(stats), "values": sum(s["n"] for s in stats), "means": [s["mean"] for s in stats]}


@flow(name="batch-stats")
def batch_stats(batches: list[list[float]] = DEFAULT_BATCHES) -> dict | None:
    """Measure each batch (count and mean) and summarize them in batch order; no batches: no summary."""
    split_batches = split(batches)
    if not split_batches:
        return None  # Airflow skips a task mapped over nothing, and everything after it
    measured = measure.map(split_batches)  # one task run per batch, all submitted at once
    measured.wait()  # every instance ends, as Airflow's do, before the first failure is raised
    return summarize(measured.result())


if __name__ == "__main__":
    batch_stats.serve(name="batch-stats")
