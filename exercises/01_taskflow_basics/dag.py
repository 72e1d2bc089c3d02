"""Exercise 1, the DAG: a small TaskFlow ETL of thermometer readings.

`extract` takes the readings from the run's params, `transform` drops the missing ones and converts Celsius to
Fahrenheit, `load` writes them to `<out_dir>/readings.json` and returns a summary (the run's result).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from airflow.sdk import DAG, Param, task

log = logging.getLogger(__name__)

DEFAULT_READINGS = [
    {"sensor": "roof", "celsius": 21.5},
    {"sensor": "cellar", "celsius": 12.0},
    {"sensor": "attic", "celsius": None},
    {"sensor": "garage", "celsius": -3.25},
]

with DAG(
    dag_id="readings_etl",
    schedule=None,
    params={
        "readings": Param(DEFAULT_READINGS, type="array", description="Each item: {sensor, celsius (or null)}."),
        "out_dir": Param("out", type="string", description="Where readings.json is written."),
    },
    tags=["exercise"],
) as dag:

    @task
    def extract(params: dict | None = None) -> list[dict]:
        assert params is not None
        return params["readings"]

    @task
    def transform(readings: list[dict]) -> list[dict]:
        # A sensor that sent nothing is left out; the others are converted, rounded to one decimal.
        return [
            {"sensor": r["sensor"], "fahrenheit": round(r["celsius"] * 9 / 5 + 32, 1)}
            for r in readings
            if r["celsius"] is not None
        ]

    @task
    def load(rows: list[dict], params: dict | None = None) -> dict:
        assert params is not None
        target = Path(params["out_dir"]) / "readings.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        log.info("wrote %d readings to %s", len(rows), target)
        return {"rows": len(rows), "warmest": max((r["fahrenheit"] for r in rows), default=None)}

    # Return values travel between tasks as XComs: TaskFlow wires them from the calls.
    load(transform(extract()))
