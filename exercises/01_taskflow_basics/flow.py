"""Exercise 1, your translation: the readings ETL as a Prefect flow.

`make exercise N=1` runs this file and dag.py on the same cases and tells you what differs. Work through the TODOs.
"""

from __future__ import annotations

from prefect import flow, task
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


# TODO 1: a task named `transform` (the DAG's task_id): leave out the readings whose celsius is None, convert the
#         others to {"sensor": ..., "fahrenheit": round(celsius * 9 / 5 + 32, 1)}.

# TODO 2: a task named `load` that writes the rows to `<out_dir>/readings.json` exactly as the DAG does
#         (json.dumps(rows, indent=2) plus a newline) and returns {"rows": ..., "warmest": ...}.
#         Log with prefect's get_run_logger(), not print().


@flow(name="readings-etl")
def readings_etl(readings: list[Reading] = DEFAULT_READINGS, out_dir: str = "out") -> dict | None:
    """Convert the readings to Fahrenheit, write them to `<out_dir>/readings.json`, return how many and the warmest."""
    extract(readings)
    # TODO 3: pass what extract returns through transform, then load, and return what load returns: the DAG's
    #         result is the return value of its `load` task.
    return None


if __name__ == "__main__":
    readings_etl.serve(name="readings-etl")
