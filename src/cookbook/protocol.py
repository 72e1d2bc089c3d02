"""Messages between the harness and an engine worker: one JSON object per line.

The harness writes `Job`s to the worker's stdin; the worker answers on its protocol channel (its original
stdout) with `Ready` once its engine is up, `Progress` while starting, and one `Done` per job. Everything the
engines themselves print goes to the worker's stderr, which the harness keeps as a log file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from cookbook.recipe import AirflowBackfill, DelayedFile, PrefectBlock, SchedulePreview
from cookbook.report import SideReport


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
