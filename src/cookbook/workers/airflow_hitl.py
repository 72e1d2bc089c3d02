"""Answering Airflow's Human-in-the-loop requests the way its UI does, for cases with `respond`.

Under the scheduler, through the public REST API with the stack's user and token: list the pending HITL details,
`PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails`. Under `dag.test()` there is no api-server: the run
keeps its task in `awaiting_input` until a response recorded in the metadata DB resumes it (apache/airflow#68492).
Building the whole core API app in-process to call that route costs tens of seconds (every public router is
built on import), so the responder does in the DB what the route does: validate the choice, record who answered
and when, and resume the parked task with `handle_event_submit`, the same transition.
"""

from __future__ import annotations

from typing import Any

from cookbook.airflow_rest import AirflowRest
from cookbook.protocol import Job
from cookbook.workers.responder import Request, Responder

# The user an answer is recorded for in dag.test() mode; under the scheduler it is the stack's own REST user.
REVIEWER = {"id": "cookbook-reviewer", "name": "cookbook-reviewer"}
# Under the scheduler a parked task's first process exits, and the executor reports that exit up to a supervisor
# heartbeat later (AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL, 1 s here) under the same try number as the resumed run.
# An answer faster than that resumes the task first; the late "success" event then finds it running and the
# scheduler marks it FAILED ("executor reported ... finished with state success, but the task instance's state
# attribute is running"). A person never answers within a second; the harness waits as long as one would at least.
SETTLE_SECONDS = 3.0


def responding(job: Job, rest: AirflowRest | None = None) -> Responder:
    """The job's replies, answered through REST when a scheduler stack runs the DAG, else in the metadata DB."""
    if rest is not None:
        return Responder(
            job.replies,
            lambda: _pending_rest(rest, job.dag_id),
            lambda r, i: _answer_rest(rest, r, i),
            settle_seconds=SETTLE_SECONDS,
        )
    return Responder(job.replies, lambda: _pending_db(job.dag_id), _answer_db)


def _pending_rest(rest: AirflowRest, dag_id: str) -> Request | None:
    answer = rest.client.get(
        f"/dags/{dag_id}/dagRuns/~/hitlDetails",
        params={"response_received": False, "ti_state": "awaiting_input", "order_by": "created_at"},
    )
    details = answer.raise_for_status().json()["hitl_details"]
    if not details:
        return None
    ti = details[0]["task_instance"]
    path = f"/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails"
    return Request(key=str(ti["id"]), where=ti["task_id"], handle=path)


def _answer_rest(rest: AirflowRest, request: Request, body: dict[str, Any]) -> None:
    answer = rest.client.patch(request.handle, json=body)
    if answer.status_code >= 400:
        raise RuntimeError(f"PATCH hitlDetails of {request.where}: {answer.status_code} {answer.text[:300]}")


def _pending_db(dag_id: str) -> Request | None:
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(HITLDetail.ti_id, TaskInstance.task_id)
            .join(TaskInstance, HITLDetail.ti_id == TaskInstance.id)
            .where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                HITLDetail.responded_at.is_(None),
            )
            .order_by(HITLDetail.created_at)
        ).first()
    return Request(key=str(row.ti_id), where=row.task_id, handle=row.ti_id) if row else None


def _answer_db(request: Request, body: dict[str, Any]) -> None:
    """What `PATCH .../hitlDetails` (core_api/routes/public/hitl.py, update_hitl_detail) does, minus HTTP and auth."""
    from airflow._shared.timezones import timezone
    from airflow.models.hitl import HITLDetail, HITLUser
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    chosen = list(body.get("chosen_options") or [])
    with create_session() as session:
        ti = session.get(TaskInstance, request.handle, with_for_update={"of": TaskInstance})
        detail = session.scalar(select(HITLDetail).where(HITLDetail.ti_id == request.handle))
        if ti is None or detail is None:
            raise RuntimeError(f"{request.where}: no such Human-in-the-loop request")
        if detail.response_received:
            raise RuntimeError(f"{request.where}: already answered")
        invalid = set(chosen) - set(detail.options or [])
        if not chosen or invalid or (len(chosen) > 1 and not detail.multiple):
            raise RuntimeError(f"{request.where}: invalid options {chosen}; allowed: {detail.options}")
        detail.responded_by = HITLUser(id=REVIEWER["id"], name=REVIEWER["name"])
        detail.responded_at = timezone.utcnow()
        detail.chosen_options = chosen
        detail.params_input = dict(body.get("params_input") or {})
        session.add(detail)
        if ti.state in (TaskInstanceState.AWAITING_INPUT, TaskInstanceState.DEFERRED):
            handle_event_submit(TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session)
