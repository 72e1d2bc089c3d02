"""The parity contract: what one side's run of one case produced.

Both engine workers emit a `SideReport`; the comparison only ever looks at these, never at engine objects,
so Airflow and Prefect can live in separate virtual environments and separate processes.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    # The task never executed because something it needed failed: Airflow `upstream_failed`; Prefect `NotReady`
    # (a failed upstream future), or never called by a flow run that ended failed.
    UPSTREAM_FAILED = "upstream_failed"
    # The task never executed because a branch or trigger rule chose not to run it: Airflow `skipped` without
    # executing; Prefect never called by a flow run that ended successfully.
    SKIPPED_BY_RULE = "skipped_by_rule"
    # Still pending/running when the run ended: only a broken or killed run leaves one.
    UNFINISHED = "unfinished"

    @property
    def never_ran(self) -> bool:
        return self in (Outcome.UPSTREAM_FAILED, Outcome.SKIPPED_BY_RULE)


class RunState(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class TaskOutcome(BaseModel):
    outcome: Outcome
    engine_state: str = Field(description="The engine's own state name, for display.")
    attempts: int = Field(0, description="Airflow try_number, Prefect run_count.")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    retry_wait_seconds: float | None = Field(
        None,
        description="Time spent waiting between tries, summed: from each failed try's end to the next try's start "
        "(None for a task tried once, or whose tries the engine did not record).",
    )
    error: str | None = None
    error_type: str | None = Field(
        None, description="The failure's class in words both engines share (see `outcomes.error_type`)."
    )


class FileRecord(BaseModel):
    sha256: str
    size: int
    preview: str | None = Field(None, description="The start of a small text file, for diffs.")


ErrorKind = Literal["refused", "run_error", "import_error", "timeout", "crash", "harness_error", "unavailable"]


class SideError(BaseModel):
    """Why a side did not succeed. Three families, never conflated:

    - the recipe said no on purpose: `refused` (the engine or the flow rejected the input before any task ran);
    - the run failed: `run_error` (a task or the flow raised; which one is in `tasks`), or the side did not do what
      the case needs: `import_error`, `timeout` (killed, or awaited files never came), `crash` (its process died);
    - it could not be proven: `harness_error` (a bug of the cookbook's own code), `unavailable` (a service the case
      needs, PostgreSQL say, is not there).
    """

    kind: ErrorKind
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
    states: list[str] = Field(
        default_factory=list,
        description="The run's own states in order, where the engine keeps a history (Prefect: Running, Suspended...).",
    )
    duration_seconds: float = 0.0
    error: SideError | None = None

    @property
    def executed(self) -> bool:
        """True when the engine ran the case to an end state (success, failure or refusal), not when it broke."""
        return self.run_state is not None and (self.error is None or self.error.kind in ("run_error", "refused"))


def wait_between_tries(tries: Sequence[tuple[datetime | None, datetime | None]]) -> float | None:
    """The summed gaps between consecutive tries, given each try's (start, end) in try order."""
    if len(tries) < 2 or any(start is None for start, _ in tries[1:]) or any(end is None for _, end in tries[:-1]):
        return None
    gaps = [(tries[k + 1][0] - tries[k][1]).total_seconds() for k in range(len(tries) - 1)]  # type: ignore[operator]
    return round(max(0.0, sum(gaps)), 3)
