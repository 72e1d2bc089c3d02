"""Prefect Variables: JSON values on the Prefect server, read and written inside tasks.

`read_settings` reads a JSON Variable, a string Variable and an optional one with a default; `record_run` updates a
JSON Variable (a run counter) and returns the value it reads back.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.variables import Variable
from pydantic import BaseModel


class ExportSettings(BaseModel):
    region: str
    targets: list[str]
    owner: str
    batch_size: int


# [START variables_tasks]
def required(name: str) -> Any:
    """Variable.get, failing like Airflow's when the Variable does not exist (Prefect returns the default, None)."""
    value = Variable.get(name)
    if value is None:
        raise KeyError(f"Variable {name} does not exist")
    return value


@task
def read_settings() -> ExportSettings:
    # Read when the task runs, never at module level: that runs at import, when deploying included.
    config = required("export_config")  # stored as JSON, returned as a dict: no deserialize_json
    owner = required("export_owner")
    batch_size = Variable.get("export_batch_size", default=100)
    # The model checks the Variable's shape, so a bad config fails here, with the field named.
    settings = ExportSettings(region=config["region"], targets=config["targets"], owner=owner, batch_size=batch_size)
    get_run_logger().info("exporting %s to %s in batches of %s", settings.region, settings.targets, batch_size)
    return settings


@task
def record_run(settings: ExportSettings) -> dict[str, Any]:
    previous = Variable.get("export_state", default={"runs": 0})
    state = {"runs": previous["runs"] + 1, "owner": settings.owner, "targets": len(settings.targets)}
    # Airflow's set() always replaces; Prefect's raises ValueError for an existing name unless overwrite=True.
    Variable.set("export_state", state, overwrite=True)
    written = Variable.get("export_state")
    get_run_logger().info("export_state: run %d recorded", state["runs"])
    return {"settings": settings.model_dump(), "previous": previous, "written": written}


@flow(name="variables")
def variables() -> dict[str, Any]:
    """Read the export settings from Prefect Variables and count this run in the `export_state` Variable.

    Needs the `export_config` (JSON: region and targets) and `export_owner` Variables, and fails without them;
    `export_batch_size` is optional (default 100). Returns the settings, the previous state and the state written.
    """
    return record_run(read_settings())


# [END variables_tasks]


if __name__ == "__main__":
    variables.serve(name="variables")
