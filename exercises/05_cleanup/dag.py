"""Exercise 5, the DAG: a cleanup that always runs, and an alert that runs only on failure (trigger rules).

`stage` writes tonight's amounts to `<staging_dir>/batch.csv`, `validate` checks and totals them, `publish`
writes the total to `<out_dir>/total.txt`. Whatever `validate` did, `cleanup` removes the staging folder
(all_done); when it failed, `alert` leaves a note for the on-call person in `<out_dir>/ALERT.txt` (one_failed).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from airflow.sdk import DAG, Param, TriggerRule, task

with DAG(
    dag_id="nightly_batch",
    schedule=None,
    params={
        "amounts": Param([12.5, 7.5, 30.0], type="array", description="Tonight's amounts."),
        "staging_dir": Param("staging", type="string"),
        "out_dir": Param("out", type="string"),
    },
    tags=["exercise"],
) as dag:

    @task
    def stage(params: dict | None = None) -> str:
        assert params is not None
        target = Path(params["staging_dir"]) / "batch.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([["amount"], *([a] for a in params["amounts"])])
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
    def publish(total: float, params: dict | None = None) -> dict:
        assert params is not None
        target = Path(params["out_dir"]) / "total.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"{total:.2f}\n", encoding="utf-8")
        return {"total": total}

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def cleanup(params: dict | None = None) -> None:
        assert params is not None
        shutil.rmtree(params["staging_dir"], ignore_errors=True)

    @task(trigger_rule=TriggerRule.ONE_FAILED)
    def alert(params: dict | None = None) -> None:
        assert params is not None
        target = Path(params["out_dir"]) / "ALERT.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("tonight's batch failed validation\n", encoding="utf-8")

    total = validate(stage())
    publish(total)
    total >> [cleanup(), alert()]
