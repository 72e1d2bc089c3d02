"""Messages between the harness and an engine worker: one JSON object per line.

The harness writes `Job`s to the worker's stdin; the worker answers on its protocol channel (its original
stdout) with `Ready` once its engine is up, `Progress` while starting, and one `Done` per job. Everything the
engines themselves print goes to the worker's stderr, which the harness keeps as a log file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from cookbook.placeholders import expand
from cookbook.recipe import AirflowBackfill, Case, DelayedFile, PrefectBlock, Recipe, SchedulePreview
from cookbook.report import Engine, SideReport


class Reply(BaseModel):
    """A human response (`HumanResponse`) as one engine takes it: its input, and how long the person takes."""

    after_seconds: float = 0.0
    input: dict[str, Any] = Field(default_factory=dict)


class Job(BaseModel):
    """One case for one side, with every placeholder already filled in by the harness."""

    recipe: str
    case: str
    source_file: str = Field(description="The DAG file or the flow file.")
    dag_id: str
    flow_name: str
    result_task: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    logical_date: datetime | None = None
    scheduled_runs: list[datetime] = Field(default_factory=list)
    airflow_mode: Literal["dag_test", "scheduler"] = "dag_test"
    airflow_executor: Literal["local", "celery"] = "local"
    airflow_workers: int | None = None
    pools: dict[str, int] = Field(default_factory=dict)
    concurrency_limits: dict[str, int] = Field(default_factory=dict)
    tag_limits: dict[str, int] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    workdir: str
    delayed_files: list[DelayedFile] = Field(default_factory=list)
    prefect_blocks: list[PrefectBlock] = Field(default_factory=list)
    prefect_mode: Literal["call", "deployment"] = "call"
    await_files: list[str] = Field(default_factory=list)
    settle_seconds: float = 0.0
    airflow_backfill: AirflowBackfill | None = None
    schedule_preview: SchedulePreview | None = None
    replies: list[Reply] = Field(default_factory=list)
    timeout_seconds: float = Field(90, description="The harness kills the side after this; waits stay below it.")

    @classmethod
    def for_case(
        cls, recipe: Recipe, case: Case, engine: Engine, workdir: Path, variables: dict[str, str] | None = None
    ) -> Job:
        """One side's job for a case: the only place a `Job` is made from a recipe and a case.

        `variables`: what the case's fixtures fill in (API addresses, secrets, webhook URLs); `${workdir}` and, for
        a dated case, `${logical_date}` are added. What one engine alone takes is left empty for the other.
        """
        variables = {**(variables or {}), "workdir": str(workdir)}
        if case.logical_date is not None:
            variables["logical_date"] = case.logical_date.isoformat()
        return cls(
            recipe=recipe.name,
            case=case.name,
            source_file=str(recipe.dag_file if engine == "airflow" else recipe.flow_file),
            dag_id=recipe.dag_id,
            flow_name=case.prefect_flow or recipe.flow_name,
            result_task=recipe.meta.result_task,
            params=expand(case.params_of(engine), variables),
            logical_date=case.logical_date,
            scheduled_runs=case.scheduled_runs if engine == "prefect" else [],
            airflow_mode=recipe.meta.airflow_mode,
            airflow_executor=recipe.meta.airflow_executor,
            airflow_workers=case.airflow_workers if engine == "airflow" else None,
            pools=case.pools if engine == "airflow" else {},
            concurrency_limits=case.concurrency_limits if engine == "prefect" else {},
            tag_limits=case.tag_limits if engine == "prefect" else {},
            variables=expand(case.variables, variables),
            env=expand(case.env.get(engine, {}), variables),
            workdir=str(workdir),
            delayed_files=case.delayed_files,
            prefect_blocks=[b.model_copy(update={"fields": expand(b.fields, variables)}) for b in case.prefect_blocks]
            if engine == "prefect"
            else [],
            prefect_mode=recipe.meta.prefect_mode,
            await_files=case.await_files,
            settle_seconds=case.settle_seconds,
            airflow_backfill=case.airflow_backfill if engine == "airflow" else None,
            schedule_preview=case.schedule_preview,
            replies=[
                Reply(after_seconds=r.after_seconds, input=expand(getattr(r, engine), variables))
                for r in case.respond
                if getattr(r, engine) is not None
            ],
            timeout_seconds=recipe.meta.timeout_seconds,
        )


class Ready(BaseModel):
    kind: Literal["ready"] = "ready"
    engine_version: str
    startup_seconds: float
    detail: str = ""


class Progress(BaseModel):
    kind: Literal["progress"] = "progress"
    message: str


class Done(BaseModel):
    kind: Literal["done"] = "done"
    report: SideReport


class Fatal(BaseModel):
    """The worker cannot go on (its engine failed to start)."""

    kind: Literal["fatal"] = "fatal"
    message: str


Message = Annotated[Ready | Progress | Done | Fatal, Field(discriminator="kind")]
MESSAGE = TypeAdapter(Message)
