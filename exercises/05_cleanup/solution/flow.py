"""Exercise 5, a solution: Airflow's trigger rules as explicit waits and state checks in the flow.

all_done is `wait_for=[allow_failure(future)]`: the cleanup starts once `validate` has ended, however it ended.
one_failed is an `if` on `validate`'s final state. The flow then fails with `validate`'s own error, as the DAG run
fails (its leaf `publish` never ran).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from prefect import allow_failure, flow, get_run_logger, task

DEFAULT_AMOUNTS = [12.5, 7.5, 30.0]


@task
def stage(amounts: list[float], staging_dir: str) -> str:
    target = Path(staging_dir) / "batch.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["amount"], *([a] for a in amounts)])
    return str(target)


@task
def validate(path: str) -> float:
    with open(path, newline="", encoding="utf-8") as f:
        amounts = [float(row["amount"]) for row in csv.DictReader(f)]
    negative = [a for a in amounts if a < 0]
    if negative:
        raise ValueError(f"negative amounts: {negative}")
    return round(sum(amounts), 2)


@task
def publish(total: float, out_dir: str) -> dict:
    target = Path(out_dir) / "total.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"{total:.2f}\n", encoding="utf-8")
    return {"total": total}


@task
def cleanup(staging_dir: str) -> None:
    shutil.rmtree(staging_dir, ignore_errors=True)


@task
def alert(out_dir: str) -> None:
    get_run_logger().warning("tonight's batch failed validation")
    target = Path(out_dir) / "ALERT.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("tonight's batch failed validation\n", encoding="utf-8")


@flow(name="nightly-batch")
def nightly_batch(amounts: list[float] = DEFAULT_AMOUNTS, staging_dir: str = "staging", out_dir: str = "out") -> dict:
    """Stage, validate and publish tonight's total; the staging folder is removed whatever happens, and a failed
    validation leaves an alert in `out_dir` and fails the run."""
    checked = validate.submit(stage(amounts, staging_dir))
    cleaned = cleanup.submit(staging_dir, wait_for=[allow_failure(checked)])  # all_done
    checked.wait()
    if checked.state.is_failed():  # one_failed
        alert(out_dir)
        cleaned.wait()
        checked.result()  # raises validate's error: the run fails, and publish never runs
    published = publish(checked.result(), out_dir)
    cleaned.wait()
    return published


if __name__ == "__main__":
    nightly_batch.serve(name="nightly-batch")
