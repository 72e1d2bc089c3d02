"""`make compare RECIPE=x MODE=stack`: a recipe's cases through the running stack, the way production runs them.

The Prefect side is a run of the recipe's deployment (prefect.yaml), picked up by the stack's process worker; its
persisted result is read back from the result storage. The Airflow side is a DAG run triggered through Airflow's
REST API with a real token and executed by the real scheduler. Both go in parallel, then the usual verdict.
Everything here speaks HTTP: no engine is imported into the harness venv.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from cookbook.airflow_rest import AirflowRest, RunRefused
from cookbook.harness import CaseRun
from cookbook.outcomes import PARAMETERS_REFUSED, prefect_error_type, prefect_outcome, prefect_task_name
from cookbook.protocol import Job
from cookbook.recipe import PROJECT_ROOT, Case, Recipe
from cookbook.report import Engine, Outcome, RunState, SideError, SideReport, TaskOutcome
from cookbook.selection import select
from cookbook.stack.config import AIRFLOW_USER, StackConfig, StackError
from cookbook.stack.deployments import deployment_for
from cookbook.stack.stack import auth_headers, running
from cookbook.workers.common import indexed_name, rejected, snapshot_files, to_json

_FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
POLL = 0.1


def unsupported(case: Case) -> str | None:
    """What a case needs that only the in-process harness provides (fixtures it starts per case)."""
    needs = {
        "http_apis": case.http_apis,
        "webhooks": case.webhooks,
        "services": case.services,
        "secrets": case.secrets,
        "prefect_blocks": case.prefect_blocks,
        "variables": case.variables,
        "env": case.env,
        "delayed_files": case.delayed_files,
        "pools": case.pools,
        "airflow_workers": case.airflow_workers,  # the stack's scheduler has a LocalExecutor, no Celery workers
        "concurrency_limits": case.concurrency_limits,
        "tag_limits": case.tag_limits,
        "respond": case.respond,
        "schedule_preview": case.schedule_preview,
        "airflow_backfill": case.airflow_backfill,
        "scheduled_runs": case.scheduled_runs,
        "await_files": case.await_files,
        "prefect_flow": case.prefect_flow,  # the stack deploys each recipe's main flow only
    }
    missing = [name for name, value in needs.items() if value]
    return f"needs per-case fixtures ({', '.join(missing)}): use `make compare` without MODE" if missing else None


class PrefectApi:
    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.client = httpx.Client(base_url=cfg.prefect_api_url, headers=auth_headers(), timeout=30)

    def run_deployment(
        self,
        flow_name: str,
        deployment: str,
        parameters: dict[str, Any],
        timeout: float,
        scheduled_time: str | None = None,
    ) -> dict:
        """Start a run of the deployment (what `prefect deployment run` does) and wait for it to end.

        `scheduled_time`: the case's logical date, as the run's scheduled start (a past one is due at once); a flow
        reads it as Airflow's logical date (`flow_run.scheduled_start_time`)."""
        answer = self.client.get(f"/deployments/name/{flow_name}/{deployment}")
        if answer.status_code == 404:
            raise StackError(f"no deployment {flow_name}/{deployment} on the stack's server: `make deploy` first")
        deployment_id = answer.raise_for_status().json()["id"]
        body: dict[str, Any] = {"parameters": parameters}
        if scheduled_time:
            body["state"] = {"type": "SCHEDULED", "state_details": {"scheduled_time": scheduled_time}}
        run = self.client.post(f"/deployments/{deployment_id}/create_flow_run", json=body)
        flow_run_id = run.raise_for_status().json()["id"]
        return self.wait(flow_run_id, timeout)

    def wait(self, flow_run_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            flow_run = self.client.get(f"/flow_runs/{flow_run_id}").raise_for_status().json()
            if flow_run["state_type"] in _FINAL or time.monotonic() > deadline:
                return flow_run
            time.sleep(POLL)

    def result(self, flow_run: dict) -> Any:
        """The persisted result (JSON serializer), with Prefect's `{"__class__", "data"}` wrappers taken off."""
        data = (flow_run.get("state") or {}).get("data") or {}
        key = data.get("storage_key")
        if not key:
            return None
        path = Path(key) if Path(key).is_absolute() else self.cfg.result_storage / key
        record = json.loads(path.read_text(encoding="utf-8"))
        # A task's record holds metadata and result together; a flow's file is the serialized value alone.
        if isinstance(record, dict) and set(record) == {"metadata", "result"}:
            record = json.loads(record["result"]) if isinstance(record["result"], str) else record["result"]
        return _unwrap(record)

    def task_runs(self, flow_run_id: str) -> list[dict]:
        """The task runs of the flow run and of its subflow runs, at any depth (a task group is a subflow)."""
        flow_run_ids, frontier, calls = [flow_run_id], [flow_run_id], set()
        while frontier:
            body = {"flow_runs": {"parent_flow_run_id": {"any_": frontier}}, "limit": 200}
            children = self.client.post("/flow_runs/filter", json=body).raise_for_status().json()
            calls.update(c["parent_task_run_id"] for c in children)
            frontier = [c["id"] for c in children if c["id"] not in flow_run_ids]
            flow_run_ids.extend(frontier)
        body = {"flow_runs": {"id": {"any_": flow_run_ids}}, "sort": "EXPECTED_START_TIME_ASC", "limit": 200}
        runs = self.client.post("/task_runs/filter", json=body).raise_for_status().json()
        for run in runs:
            # The task run a subflow call leaves in its parent ("enrich-0") stands for the child run.
            run["subflow_call"] = run["id"] in calls
        return runs

    def settled_task_runs(self, flow_run_id: str, timeout: float = 15.0, quiet: float = 1.0) -> list[dict]:
        """Task run states reach the server as events, processed asynchronously, and after the flow run's own final
        state: an early read can show none of them yet. So the runs must stop moving for `quiet` seconds, not only
        between two reads (this process has no record of what the flow submitted to check them against)."""
        deadline = time.monotonic() + timeout
        previous = None
        stable_since = time.monotonic()
        while True:
            runs = self.task_runs(flow_run_id)
            fingerprint = sorted((r["id"], r["state_name"], r["run_count"]) for r in runs)
            settled = all(r["state_type"] in _FINAL or r["state_name"] == "NotReady" for r in runs)
            now = time.monotonic()
            if fingerprint != previous:
                stable_since = now
            if (settled and now - stable_since >= quiet) or now > deadline:
                return runs
            previous = fingerprint
            time.sleep(POLL)


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__class__", "data"}:
            return _unwrap(value["data"])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _task_name(run: dict) -> str:
    """The task a run belongs to. A run named by the task's `task_run_name` ("validate-emea") carries no generated
    suffix; its task_key ("<function name>-<code hash>") still names the function, which is the task's default name.
    (The in-process compare maps task keys to names from the imported module; this process has no Prefect.)"""
    name = prefect_task_name(run["name"])
    if name == run["name"] and run.get("task_key") and not run.get("subflow_call"):
        return str(run["task_key"]).rpartition("-")[0] or name
    return name


def _prefect_outcome(run: dict) -> TaskOutcome:
    state_type = run.get("state_type") or "PENDING"
    state_name = run.get("state_name") or state_type.title()
    outcome = prefect_outcome(state_type, state_name)
    message = ((run.get("state") or {}).get("message") or "") if outcome is Outcome.FAILED else ""
    return TaskOutcome(
        outcome=outcome,
        engine_state=state_name,
        attempts=run.get("run_count") or 0,
        started_at=run.get("start_time"),
        ended_at=run.get("end_time"),
        error=" ".join(message.split()) or None,
        error_type=prefect_error_type(state_name, message) if outcome is Outcome.FAILED else None,
    )


def prefect_side(cfg: StackConfig, job: Job) -> SideReport:
    report = SideReport(engine="prefect", engine_version="stack", recipe=job.recipe, case=job.case)
    api = PrefectApi(cfg)
    workdir = Path(job.workdir)
    began = time.perf_counter()
    deployment = deployment_for(job.recipe, job.flow_name)
    try:
        logical_date = job.logical_date.isoformat() if job.logical_date else None
        flow_run = api.run_deployment(job.flow_name, deployment, job.params, job.timeout_seconds, logical_date)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 409:
            raise
        # The server checked the parameters against the deployment's schema and created no run.
        detail = " ".join(str(exc.response.json().get("detail", exc.response.text)).split())
        return rejected(report, detail, workdir)
    report.duration_seconds = time.perf_counter() - began
    state_type = flow_run["state_type"]
    report.run_state = RunState.SUCCESS if state_type == "COMPLETED" else RunState.FAILED
    if state_type == "COMPLETED":
        report.result = to_json(api.result(flow_run), str(workdir))
    else:
        message = " ".join(((flow_run.get("state") or {}).get("message") or state_type).split())
        kind = "refused" if message.startswith(PARAMETERS_REFUSED) else "run_error"
        report.error = SideError(kind=kind, message=message)
    by_task: dict[str, list[dict]] = {}
    for run in api.settled_task_runs(flow_run["id"]):
        if run["subflow_call"]:
            continue  # stands for a child run, whose own tasks are reported (as in-process)
        by_task.setdefault(_task_name(run), []).append(run)
    for name, calls in sorted(by_task.items()):
        # Creation order, which for a mapped task follows the worker threads' race: align_mapped matches such runs
        # to Airflow's by outcome afterwards (the in-process compare records the submissions themselves).
        calls.sort(key=lambda r: r["created"])
        for index, run in enumerate(calls):
            report.tasks[indexed_name(name, index if len(calls) > 1 else None)] = _prefect_outcome(run)
    report.files = snapshot_files(workdir)
    return report


def airflow_side(cfg: StackConfig, job: Job) -> SideReport:
    report = SideReport(engine="airflow", engine_version="stack", recipe=job.recipe, case=job.case)
    rest = AirflowRest(cfg.airflow_url, AIRFLOW_USER, cfg.airflow_password(), token_timeout=10)
    workdir = Path(job.workdir)
    try:
        logical_date = job.logical_date.isoformat() if job.logical_date else None
        began = time.perf_counter()
        if logical_date:
            # The stack keeps its runs between compares: a dated case compared again would be refused (one run per
            # DAG and logical date), and so would the runs it triggers.
            rest.delete_dated_runs(job.dag_id, job.timeout_seconds)
        try:
            run_id = rest.trigger(job.dag_id, job.params, logical_date, job.timeout_seconds)
        except RunRefused as exc:  # the conf broke the DAG's params: no run exists
            return rejected(report, str(exc), workdir)
        state = rest.wait(job.dag_id, run_id, timeout=job.timeout_seconds)
        report.duration_seconds = time.perf_counter() - began
        rest.fill_report(report, job.dag_id, run_id, state, job.result_task, job.workdir)
    finally:
        rest.close()
    report.files = snapshot_files(workdir)
    return report


def _guarded(side: Callable[[StackConfig, Job], SideReport], engine: str, cfg: StackConfig, job: Job) -> SideReport:
    try:
        return side(cfg, job)
    except (httpx.HTTPError, StackError, OSError) as exc:
        message = " ".join(str(exc).split())[:300]
        return SideReport(
            engine=engine,  # type: ignore[arg-type]
            engine_version="stack",
            recipe=job.recipe,
            case=job.case,
            error=SideError(kind="crash", message=message),
        )


_INDEXED = re.compile(r"^(?P<name>.+)\[(?P<index>\d+)\]$")


def align_mapped(airflow: SideReport, prefect: SideReport) -> SideReport:
    """The Prefect report with a mapped task's runs given the indexes of the Airflow runs they match, when they
    match as a multiset; otherwise the report unchanged, so the difference shows. Neither input is modified.

    The flow runs in the worker's process, and the server does not record the order in which a task was mapped
    (its runs are created in the task runner's threads, in whatever order those get to it), so on the stack a
    mapped task's calls are compared as a multiset of (outcome, attempts). Different outcomes still differ.
    """
    groups: dict[str, dict[str, dict[int, str]]] = {}
    for engine, report in (("airflow", airflow), ("prefect", prefect)):
        for key in report.tasks:
            if match := _INDEXED.match(key):
                group = groups.setdefault(match["name"], {"airflow": {}, "prefect": {}})
                group[engine][int(match["index"])] = key
    aligned = prefect.model_copy(deep=True)
    for keys in groups.values():
        if len(keys["airflow"]) < 2 or keys["airflow"].keys() != keys["prefect"].keys():
            continue
        unclaimed = [prefect.tasks[keys["prefect"][i]] for i in sorted(keys["prefect"])]
        claimed = {}
        for index in sorted(keys["airflow"]):
            key = keys["airflow"][index]
            wanted = (airflow.tasks[key].outcome, airflow.tasks[key].attempts)
            found = next((t for t in unclaimed if (t.outcome, t.attempts) == wanted), None)
            if found is None:
                break
            unclaimed.remove(found)
            claimed[key] = found
        else:
            aligned.tasks.update(claimed)
    return aligned


def stack_reports(cfg: StackConfig, recipe: Recipe, case: Case) -> dict[str, SideReport]:
    """One case through the stack: a DAG run through Airflow's REST API and a deployment run on the worker, both
    reported as the engines recorded them (mapped runs in the Prefect server's creation order)."""
    reason = unsupported(case)
    if reason:
        raise StackError(f"{recipe.name} · {case.name} {reason}")
    stamp = f"{time.strftime('%H%M%S')}-{time.monotonic_ns() % 10**6}"
    with ThreadPoolExecutor(2) as pool:
        futures = {}
        sides: tuple[tuple[Engine, Callable[[StackConfig, Job], SideReport]], ...] = (
            ("airflow", airflow_side),
            ("prefect", prefect_side),
        )
        for engine, side in sides:
            workdir = cfg.run_dir / "work" / recipe.name / f"{case.name}-{stamp}" / engine
            workdir.mkdir(parents=True)  # as the in-process harness does: flows may require it to exist
            # The job a worker would get; the stack reads its parameters, dates and names, the fixtures it refused.
            job = Job.for_case(recipe, case, engine, workdir)
            futures[engine] = pool.submit(_guarded, side, engine, cfg, job)
        return {engine: future.result() for engine, future in futures.items()}


def judge(recipe: Recipe, case: Case, reports: dict[str, SideReport]) -> CaseRun:
    """The verdict on a stack case's reports, its mapped runs matched as a multiset."""
    aligned = {"airflow": reports["airflow"], "prefect": align_mapped(reports["airflow"], reports["prefect"])}
    return CaseRun.judge(recipe, case, aligned)  # type: ignore[arg-type]


def compare_case(cfg: StackConfig, recipe: Recipe, case: Case) -> CaseRun:
    return judge(recipe, case, stack_reports(cfg, recipe, case))


def run_compare(cfg: StackConfig, args: argparse.Namespace, console: Console) -> int:
    from cookbook.render import case_panel, matrix, print_summary

    # Bad names first: a typo should not be answered with "start the stack".
    selection = select(PROJECT_ROOT, args.recipes, args.case)
    names = {p.name for p in running(cfg)}
    if not {"prefect-server", "prefect-worker", "airflow-api-server", "airflow-scheduler"} <= names:
        raise StackError(f"the stack in {cfg.run_dir} is not (fully) running: `make stack` first")
    # A case named with --case must run; otherwise cases that need the in-process harness are skipped, and said so.
    wanted = [
        (recipe, recipe.cases_by_name[name])
        for recipe, cases in selection
        for name in cases
        if args.case or not unsupported(recipe.cases_by_name[name])
    ]
    skipped = sum(len(cases) for _, cases in selection) - len(wanted)
    if not wanted:
        raise StackError("every selected case needs per-case fixtures: use `make compare` without MODE")
    began = time.perf_counter()
    runs = []
    for recipe, case in wanted:
        run = compare_case(cfg, recipe, case)
        runs.append(run)
        if len(selection) == 1 or not run.verdict.parity:
            console.print(case_panel(run))
    if len(selection) > 1:
        console.print(matrix(runs))
    print_summary(console, runs, time.perf_counter() - began)
    if skipped:
        console.print(f"skipped {skipped} case(s) that need per-case fixtures; `make compare` without MODE runs them")
    return 0 if all(r.verdict.parity for r in runs) else 1
