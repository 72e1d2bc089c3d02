"""DAG params in Airflow 3: `Param` with JSON-schema validation, defaults, run conf, and `context["params"]`.

`plan` turns the params into an export plan, and `export`, a classic PythonOperator, writes it to
`out/<run_tag>.json` unless `dry_run` is set. A run conf that breaks a schema never creates a run.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, task

ROWS = 1234  # how many rows the export covers; batch_size decides how many batches that makes

# [START params_schema]
with DAG(
    dag_id="params",
    schedule=None,
    # Every Param is a JSON schema. A manual run's conf is merged over the defaults and the result validated with
    # jsonschema (formats checked too) before the run is created: one bad value and no task runs.
    params={
        "region": Param("eu", type="string", enum=["eu", "us", "apac"]),
        "batch_size": Param(100, type="integer", minimum=1, maximum=1000),
        "run_tag": Param("nightly", type="string", pattern=r"^[a-z][a-z0-9-]{2,31}$"),
        "dry_run": Param(False, type="boolean"),
        "window": Param(
            {"start": "2026-11-01", "days": 7},
            type="object",
            properties={
                "start": {"type": "string", "format": "date"},
                "days": {"type": "integer", "minimum": 1, "maximum": 31},
            },
            required=["start", "days"],
            additionalProperties=False,
        ),
    },
    tags=["cookbook"],
) as dag:
    # [END params_schema]

    # [START params_tasks]
    @task
    def plan(params: dict[str, Any] | None = None) -> dict[str, Any]:
        # params holds the merged, validated values: defaults for what the conf left out.
        assert params is not None
        window = params["window"]
        start = date.fromisoformat(window["start"])  # JSON has no date type: it arrives as text
        return {
            "region": params["region"],
            "run_tag": params["run_tag"],
            "dry_run": params["dry_run"],
            "start": start.isoformat(),
            "end": (start + timedelta(days=window["days"] - 1)).isoformat(),
            "batch_size": params["batch_size"],
            "batches": math.ceil(ROWS / params["batch_size"]),
        }

    def export_plan(run_tag: str, **context: Any) -> dict[str, Any]:
        # run_tag came through op_kwargs as "{{ params.run_tag }}": a rendered template is always text (unless the
        # DAG sets render_template_as_native_obj=True), fine for a string, wrong for batch_size or dry_run.
        # Typed values come from context["params"].
        exported = context["ti"].xcom_pull(task_ids="plan")
        # dag_run.conf is only what the trigger sent, before defaults: {} for a run with no conf. Reading
        # conf.get("dry_run", False) would repeat the default by hand; params already has it.
        print(f"conf sent by the trigger: {sorted(context['dag_run'].conf or {})}")
        if context["params"]["dry_run"]:
            return {**exported, "written": None}
        target = Path("out") / f"{run_tag}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(exported, sort_keys=True) + "\n")
        return {**exported, "written": target.as_posix()}

    export = PythonOperator(
        task_id="export",
        python_callable=export_plan,
        op_kwargs={"run_tag": "{{ params.run_tag }}"},
    )

    plan() >> export
    # [END params_tasks]
