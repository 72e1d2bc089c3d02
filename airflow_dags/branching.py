"""Branching in Airflow 3: @task.branch, a join after the branch, ShortCircuitOperator, BranchPythonOperator.

A nightly orders load picks a full or an incremental load, stops publishing when there is nothing new, and publishes
to the targets a param names. `record_run` always records what happened, unless the load itself failed.
"""

from __future__ import annotations

from airflow.providers.standard.operators.python import BranchPythonOperator, ShortCircuitOperator
from airflow.sdk import DAG, Param, TriggerRule, task

with DAG(
    dag_id="branching",
    schedule=None,
    params={
        "source_rows": Param(5, type="integer", minimum=0, description="Rows in the source table tonight."),
        "watermark": Param(
            None, type=["null", "integer"], minimum=0, description="Rows loaded so far; null if never loaded."
        ),
        "full_refresh": Param(False, type="boolean"),
        "targets": Param("warehouse", enum=["warehouse", "lake", "both"]),
    },
    tags=["cookbook"],
) as dag:
    # [START branching_load]
    # @task.branch returns the task_id(s) to follow; every other task DIRECTLY downstream of it is set to
    # skipped without running.
    @task.branch
    def choose_load(params: dict | None = None) -> str:
        assert params is not None
        return "full_load" if params["full_refresh"] else "incremental_load"

    @task
    def full_load(params: dict | None = None) -> dict:
        assert params is not None
        return {"mode": "full", "rows": params["source_rows"]}

    @task
    def incremental_load(params: dict | None = None) -> dict:
        assert params is not None
        if params["watermark"] is None:
            raise ValueError("no watermark: this table was never loaded, run a full refresh first")
        return {"mode": "incremental", "rows": max(params["source_rows"] - params["watermark"], 0)}

    # The join. With the default all_success it would be skipped, because one of its upstreams always is;
    # none_failed_min_one_success runs it after whichever branch ran, and still not after a failed one.
    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def merge(full: dict | None, incremental: dict | None) -> dict:
        # The skipped branch pushed no XCom; TaskFlow hands the argument over as None.
        loaded = full or incremental
        assert loaded is not None
        return loaded

    full = full_load()
    incremental = incremental_load()
    choose_load() >> [full, incremental]
    loaded = merge(full, incremental)
    # [END branching_load]

    # [START branching_publish]
    # A falsy return skips downstream. ignore_downstream_trigger_rules=False skips only the DIRECT downstream
    # (choose_targets) and lets trigger rules decide the rest, so record_run still runs; with the default
    # (True) every task downstream would be skipped, record_run included.
    has_new_rows = ShortCircuitOperator(
        task_id="has_new_rows",
        python_callable=lambda loaded: loaded["rows"] > 0,
        op_args=[loaded],
        ignore_downstream_trigger_rules=False,
    )

    # The classic spelling of @task.branch. A list follows several branches at once.
    def pick_targets(params: dict) -> list[str]:
        return {
            "warehouse": ["publish_warehouse"],
            "lake": ["publish_lake"],
            "both": ["publish_warehouse", "publish_lake"],
        }[params["targets"]]

    choose_targets = BranchPythonOperator(task_id="choose_targets", python_callable=pick_targets)

    @task
    def publish_warehouse(loaded: dict) -> str:
        return "warehouse"

    @task
    def publish_lake(loaded: dict) -> str:
        return "lake"

    # none_failed: runs whether the publishes ran or were skipped, but not when something upstream failed.
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def record_run(loaded: dict, warehouse: str | None, lake: str | None) -> dict:
        return {"mode": loaded["mode"], "rows": loaded["rows"], "published": [t for t in (warehouse, lake) if t]}

    warehouse = publish_warehouse(loaded)
    lake = publish_lake(loaded)
    has_new_rows >> choose_targets >> [warehouse, lake]
    record_run(loaded, warehouse, lake)
    # [END branching_publish]
