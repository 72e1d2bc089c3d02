"""Airflow 3's public REST API as the harness uses it: a real user and token, a DAG run triggered and read back.

Used by the scheduler run mode (inside the Airflow worker) and by the stack compare (in the harness venv), so it
imports nothing from Airflow: only httpx.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from cookbook.outcomes import airflow_outcome, error_type
from cookbook.report import Outcome, RunState, SideError, SideReport, TaskOutcome, wait_between_tries
from cookbook.workers.common import WORKDIR_TOKEN, indexed_name, to_json

POLL_SECONDS = 0.5


class RunRefused(httpx.HTTPStatusError):
    """The API refused to create the run (a conf the DAG's params reject, say): no run exists."""


class AirflowRest:
    def __init__(self, base_url: str, username: str, password: str, token_timeout: float = 60) -> None:
        self.base_url = base_url
        self.known_pools: dict[str, int] = {}
        token = self._token(username, password, token_timeout)
        # The api-server's first requests after start-up build its routers; on a loaded machine that took over 30 s.
        self.client = httpx.Client(
            base_url=f"{base_url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=120
        )

    def _token(self, username: str, password: str, timeout: float) -> str:
        """A JWT for the user. Right after start-up the health endpoint can answer before auth does (a 5xx), and
        on a loaded machine the first answers can take longer than a request's timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = httpx.post(
                    f"{self.base_url}/auth/token", json={"username": username, "password": password}, timeout=10
                )
            except httpx.TimeoutException:
                if time.monotonic() > deadline:
                    raise
                continue
            if answer.status_code < 500 or time.monotonic() > deadline:
                return answer.raise_for_status().json()["access_token"]
            time.sleep(POLL_SECONDS)

    def close(self) -> None:
        self.client.close()

    def ensure_pools(self, pools: dict[str, int]) -> None:
        for name, slots in pools.items():
            if self.known_pools.get(name) == slots:
                continue
            body = {"name": name, "slots": slots, "description": "cookbook", "include_deferred": False}
            answer = self.client.post("/pools", json=body)
            if answer.status_code == 409:
                answer = self.client.patch(f"/pools/{name}", json=body)
            answer.raise_for_status()
            self.known_pools[name] = slots

    @contextlib.contextmanager
    def connections(self, bodies: list[dict[str, Any]]) -> Iterator[None]:
        """These connections (REST `ConnectionBody`s) for the block's duration, as an operator adds them with
        `airflow connections add`: task processes under a scheduler read them from the API server, not from the
        harness's environment. Deleted afterwards, so the next case starts without them."""
        made = []
        try:
            for body in bodies:
                answer = self.client.post("/connections", json=body)
                if answer.status_code == 409:
                    answer = self.client.patch(f"/connections/{body['connection_id']}", json=body)
                answer.raise_for_status()
                made.append(body["connection_id"])
            yield
        finally:
            for connection_id in made:
                self.client.delete(f"/connections/{connection_id}")

    def trigger(self, dag_id: str, conf: dict[str, Any], logical_date: str | None, timeout: float) -> str:
        """Wait until the dag-processor has parsed the DAG, then start a run; returns its run_id."""
        self._wait_parsed(dag_id, timeout, time.monotonic() + timeout)
        answer = self.client.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": logical_date, "conf": conf})
        if answer.status_code == 400:
            detail = " ".join(str(answer.json().get("detail", answer.text)).split())
            raise RunRefused(f"the API refused the run: {detail}", request=answer.request, response=answer)
        return answer.raise_for_status().json()["dag_run_id"]

    def delete_dated_runs(self, dag_id: str, timeout: float) -> int:
        """Delete every run with a logical date of the DAG and of the DAGs defined in the same file.

        A DAG has at most one run per logical date, and a DAG that triggers another for a date makes a run of
        that one too; on a long-lived stack, comparing a dated case again needs both gone. Runs started without a
        logical date (most manual runs) are kept.
        """
        fileloc = self._wait_parsed(dag_id, timeout, time.monotonic() + timeout)["fileloc"]
        dags = self.client.get("/dags", params={"limit": 1000}).raise_for_status().json()["dags"]
        deleted = 0
        for dag in (d for d in dags if d["fileloc"] == fileloc):
            query = {"logical_date_gte": "1970-01-01T00:00:00Z", "limit": 1000}
            path = f"/dags/{dag['dag_id']}/dagRuns"
            for run in self.client.get(path, params=query).raise_for_status().json()["dag_runs"]:
                self.client.delete(f"{path}/{run['dag_run_id']}").raise_for_status()
                deleted += 1
        return deleted

    def backfill(
        self,
        dag_id: str,
        from_date: str,
        to_date: str,
        conf: dict[str, Any],
        *,
        max_active_runs: int,
        reprocess_behavior: str,
        timeout: float,
    ) -> list[dict[str, Any]]:
        """Create a backfill (its dag runs are created with it, queued) and return those runs, oldest first.

        Airflow allows one unfinished backfill per DAG, and its scheduler marks a backfill finished only every
        30 s; a previous case's backfill can still count as running, so a 409 is retried until `timeout`.
        """
        deadline = time.monotonic() + timeout
        self._wait_parsed(dag_id, timeout, deadline)
        body = {
            "dag_id": dag_id,
            "from_date": from_date,
            "to_date": to_date,
            "dag_run_conf": conf,
            "max_active_runs": max_active_runs,
            "reprocess_behavior": reprocess_behavior,
        }
        while (answer := self.client.post("/backfills", json=body)).status_code == 409:
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        if answer.is_error:
            raise RuntimeError(f"backfill refused ({answer.status_code}): {answer.text[:300]}")
        query = {
            "run_type": "backfill",
            "logical_date_gte": from_date,
            "logical_date_lte": to_date,
            "order_by": "logical_date",
            "limit": 1000,
        }
        runs = self.client.get(f"/dags/{dag_id}/dagRuns", params=query).raise_for_status().json()["dag_runs"]
        # Runs of earlier backfills in the range keep their own conf unless this backfill reprocessed them.
        return [run for run in runs if run["conf"] == conf]

    def _wait_parsed(self, dag_id: str, timeout: float, deadline: float) -> dict[str, Any]:
        """The DAG as the API describes it, once the dag-processor has parsed it (the API knows it only from then)."""
        while (answer := self.client.get(f"/dags/{dag_id}")).status_code != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the dag-processor did not parse {dag_id!r} within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        return answer.json()

    def wait(self, dag_id: str, run_id: str, timeout: float | None = None) -> str:
        """The run's final state, or its state when `timeout` runs out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                state = self.client.get(f"/dags/{dag_id}/dagRuns/{run_id}").raise_for_status().json()["state"]
            except httpx.ReadTimeout:  # a busy machine's api-server (one worker) can be slow; the run goes on
                state = "unknown"
            if state in ("success", "failed") or (deadline is not None and time.monotonic() > deadline):
                return state
            time.sleep(POLL_SECONDS)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        return self.client.get(path, params={"limit": 1000}).raise_for_status().json()["task_instances"]

    def return_values(self, dag_id: str, run_id: str, task_id: str) -> list[tuple[int, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries"
        entries = self.client.get(path, params={"xcom_key": "return_value", "limit": 1000})
        if entries.status_code == 404:
            return []
        values = []
        for entry in entries.raise_for_status().json()["xcom_entries"]:
            one = self.client.get(f"{path}/return_value", params={"map_index": entry["map_index"], "deserialize": True})
            values.append((entry["map_index"], one.raise_for_status().json()["value"]))
        return values

    def task_failure(self, dag_id: str, run_id: str, ti: dict[str, Any]) -> tuple[str | None, str | None]:
        """The exception a failed task instance's last try raised, (class, "Class: message"), from its log.

        The REST API keeps no exception on a task instance; the task's structured log has it, in the
        "Task failed with exception" event's `error_detail` (the first entry that is not a cause).
        """
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/logs/{ti['try_number']}"
        params = {"map_index": ti["map_index"], "full_content": True}
        answer = self.client.get(path, params=params, headers={"Accept": "application/json"})
        if answer.status_code != 200:
            return None, None
        found: tuple[str | None, str | None] = (None, None)
        for line in answer.json().get("content", []):
            if isinstance(line, dict) and line.get("level") == "error" and found[0] is None:
                found = (None, " ".join(str(line.get("event", "")).split()))  # the failure, without its class
            details = line.get("error_detail") if isinstance(line, dict) else None
            for detail in details or []:
                if not detail.get("is_cause"):
                    value = " ".join(str(detail.get("exc_value", "")).split())
                    found = (detail["exc_type"], f"{detail['exc_type']}: {value}" if value else detail["exc_type"])
                    break
        return found

    def retry_wait(self, dag_id: str, run_id: str, ti: dict[str, Any]) -> float | None:
        """The time a task instance waited between its tries, from the start and end of each (its try history)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
        path += f"/{ti['map_index']}/tries" if ti["map_index"] >= 0 else "/tries"
        answer = self.client.get(path, params={"limit": 1000})
        if answer.status_code != 200:
            return None
        tries = sorted(answer.json()["task_instances"], key=lambda t: t["try_number"])
        return wait_between_tries([(_moment(t["start_date"]), _moment(t["end_date"])) for t in tries])

    def fill_report(
        self,
        report: SideReport,
        dag_id: str,
        run_id: str,
        state: str,
        result_task: str | None,
        workdir: str,
        run_index: int | None = None,
    ) -> None:
        """The run's state, every task instance's outcome and the result task's return value, into `report`.

        `run_index`: one of several runs (a backfill's) reported together; its tasks are keyed `task_id[run_index]`.
        """
        report.run_state = RunState.SUCCESS if state == "success" else RunState.FAILED
        for ti in self.task_instances(dag_id, run_id):
            index = ti["map_index"] if ti["map_index"] >= 0 else None
            name = indexed_name(indexed_name(ti["task_id"], index), run_index)  # a mapped one: `task[j][i]`
            # A task that was queued at least once has a try number; one skipped by a trigger rule has none.
            outcome = airflow_outcome(str(ti["state"]), ran=(ti["try_number"] or 0) > 0)
            kind, message = self.task_failure(dag_id, run_id, ti) if outcome is Outcome.FAILED else (None, None)
            report.tasks[name] = TaskOutcome(
                outcome=outcome,
                engine_state=str(ti["state"]),
                attempts=ti["try_number"] or 0,
                started_at=ti["start_date"],
                ended_at=ti["end_date"],
                retry_wait_seconds=self.retry_wait(dag_id, run_id, ti) if (ti["try_number"] or 0) > 1 else None,
                error=message.replace(workdir, WORKDIR_TOKEN) if message else None,
                error_type=error_type(kind) if kind else None,
            )
        if result_task:
            values = self.return_values(dag_id, run_id, result_task)
            if len(values) == 1 and values[0][0] < 0:
                report.result = to_json(values[0][1], workdir)
            elif values:
                report.result = to_json([v for _, v in sorted(values)], workdir)
        if report.run_state is RunState.FAILED:
            failed = [name for name, t in report.tasks.items() if t.outcome is Outcome.FAILED]
            report.error = SideError(kind="run_error", message=f"failed tasks: {', '.join(failed) or 'none'}")


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
