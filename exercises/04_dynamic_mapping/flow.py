"""Exercise 4, your translation: dynamic task mapping.

`make exercise N=4` runs this file and dag.py on the same cases and tells you what differs. This version looks
right on the default input; the cases with one batch, an empty batch and no batches say otherwise. Work through the
TODOs.
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
    # TODO 1: a loop runs the batches one after another and stops at the first failure; Airflow's `expand` runs
    #         every instance whatever the others do. Use measure.map(...), wait for all of them, then summarize
    #         their results (a failed instance's .result() raises, and the flow fails there).
    # TODO 2: with no batches at all, Airflow skips measure and summarize: summarize must not run.
    stats = [measure(batch) for batch in split_batches]
    return summarize(stats)


if __name__ == "__main__":
    batch_stats.serve(name="batch-stats")
