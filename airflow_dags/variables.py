"""Airflow Variables in Airflow 3: Variable.get with deserialize_json and a default, Variable.set, where to call them.

`read_settings` reads a JSON Variable, a string Variable and an optional one with a default; `record_run` updates a
JSON Variable (a run counter) and returns the value it reads back.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, Variable, task

# [START variables_dag]
with DAG(dag_id="variables", schedule=None, tags=["cookbook"]) as dag:

    @task
    def read_settings() -> dict[str, Any]:
        # Read when the task runs, never at the top of the file: module-level code runs at every parse.
        config = Variable.get("export_config", deserialize_json=True)  # JSON text -> dict; missing -> the task fails
        owner = Variable.get("export_owner")  # stored as text, returned as text
        # `default` is Airflow 2's `default_var`. It is returned as given, never deserialised.
        batch_size = Variable.get("export_batch_size", default=100, deserialize_json=True)
        return {"region": config["region"], "targets": config["targets"], "owner": owner, "batch_size": batch_size}

    @task
    def record_run(settings: dict[str, Any]) -> dict[str, Any]:
        previous = Variable.get("export_state", default={"runs": 0}, deserialize_json=True)
        state = {"runs": previous["runs"] + 1, "owner": settings["owner"], "targets": len(settings["targets"])}
        # set() creates or replaces. The Task SDK stores text only: a dict needs serialize_json=True.
        Variable.set("export_state", state, serialize_json=True)
        written = Variable.get("export_state", deserialize_json=True)
        return {"settings": settings, "previous": previous, "written": written}

    record_run(read_settings())
# [END variables_dag]
