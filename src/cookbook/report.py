"""The parity contract: what one side's run of one case produced.

Both engine workers emit a `SideReport`; the comparison only ever looks at these, never at engine objects,
so Airflow and Prefect can live in separate virtual environments and separate processes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

Engine = Literal["airflow", "prefect"]
ENGINES: tuple[Engine, ...] = ("airflow", "prefect")


class Outcome(StrEnum):
    """A task's outcome in words both engines can be mapped onto.

    Airflow has more states than Prefect (no "skipped" in Prefect, no "upstream_failed"), so each worker maps
    its engine's states onto this vocabulary and keeps the raw engine state beside it for display.
    """

    SUCCESS = "success"
    FAILED = "failed"
    # The task ran and decided to do nothing: Airflow `skipped` after it executed (AirflowSkipException,
    # soft_fail), Prefect a Completed state named "Skipped".
    SKIPPED = "skipped"
    # The task never executed: Airflow `upstream_failed`, or `skipped` by trigger rules without running;
    # Prefect `NotReady`, or no task run at all because the flow never called it.
    NOT_RUN = "not_run"
    # Still pending/running when the run ended: only a broken or killed run leaves one.
    UNFINISHED = "unfinished"


class RunState(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class TaskOutcome(BaseModel):
    outcome: Outcome
    engine_state: str = Field(description="The engine's own state name, for display.")
    attempts: int = Field(0, description="Airflow try_number, Prefect run_count.")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None


class FileRecord(BaseModel):
    sha256: str
    size: int
    preview: str | None = Field(None, description="The start of a small text file, for diffs.")


class SideError(BaseModel):
    kind: Literal["import_error", "run_error", "timeout", "crash", "harness_error", "unavailable"]
    message: str


class SideReport(BaseModel):
    engine: Engine
    engine_version: str
    recipe: str
    case: str
    run_state: RunState | None = None
    result: Any = None
    tasks: dict[str, TaskOutcome] = Field(default_factory=dict)
    files: dict[str, FileRecord] = Field(default_factory=dict)
    messages: dict[str, list[Any]] = Field(
        default_factory=dict, description="What each webhook of the case received from this side (harness-side)."
    )
    duration_seconds: float = 0.0
    error: SideError | None = None

    @property
    def executed(self) -> bool:
        """True when the engine ran the case to an end state (success or failure), as opposed to not at all."""
        return self.run_state is not None and (self.error is None or self.error.kind == "run_error")
