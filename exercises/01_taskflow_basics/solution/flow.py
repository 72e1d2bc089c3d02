"""Exercise 1, a solution: the readings ETL as a Prefect flow.

Return values pass between tasks directly (no XCom), and the DAG's params are the flow's typed parameters.
"""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, get_run_logger, task
from pydantic import BaseModel


class Reading(BaseModel):
    sensor: str
    celsius: float | None


DEFAULT_READINGS = [
    Reading(sensor="roof", celsius=21.5),
    Reading(sensor="cellar", celsius=12.0),
    Reading(sensor="attic", celsius=None),
    Reading(sensor="garage", celsius=-3.25),
]


@task
def extract(readings: list[Reading]) -> list[Reading]:
    return readings


@task
def transform(readings: list[Reading]) -> list[dict]:
    return [
        {"sensor": r.sensor, "fahrenheit": round(r.celsius * 9 / 5 + 32, 1)} for r in readings if r.celsius is not None
    ]


@task
def load(rows: list[dict], out_dir: str) -> dict:
    target = Path(out_dir) / "readings.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    get_run_logger().info("wrote %d readings to %s", len(rows), target)
    return {"rows": len(rows), "warmest": max((r["fahrenheit"] for r in rows), default=None)}


@flow(name="readings-etl")
def readings_etl(readings: list[Reading] = DEFAULT_READINGS, out_dir: str = "out") -> dict:
    """Convert the readings to Fahrenheit, write them to `<out_dir>/readings.json`, return how many and the warmest."""
    return load(transform(extract(readings)), out_dir)


if __name__ == "__main__":
    readings_etl.serve(name="readings-etl")
