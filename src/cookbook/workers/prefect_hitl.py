"""Answering a paused Prefect flow run the way its UI does, for cases with `respond`.

The person finds the job's flow run in state Paused, waits until the run has published the schema of the input it
wants (the UI renders its form from it), then calls `resume_flow_run(flow_run_id, run_input=...)`: the server
validates the input against that schema and sets the run Running, and `pause_flow_run(wait_for_input=...)` returns it.
"""

from __future__ import annotations

from typing import Any

from cookbook.protocol import Job
from cookbook.workers.responder import Request, Responder


def responding(job: Job) -> Responder:
    return Responder(job.replies, lambda: _pending(job.flow_name), _answer)


def _pending(flow_name: str) -> Request | None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            ),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
        if not runs or runs[0].state is None:
            return None
        run, details = runs[0], runs[0].state.state_details
        keyset = details.run_input_keyset
        if keyset is not None:
            try:  # the form exists once the run has saved the schema of its RunInput, just after pausing
                client.read_flow_run_input(run.id, keyset["schema"])
            except Exception:
                return None
        key = f"{run.id}/{details.pause_key}"
        return Request(key=key, where=f"{run.name} pause {details.pause_key}", handle=run.id)


def _answer(request: Request, run_input: dict[str, Any]) -> None:
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(request.handle, run_input=run_input or None)
