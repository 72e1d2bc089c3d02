"""The Prefect side: runs a recipe's flow against a real Prefect API server.

Started by the harness as `python -m cookbook.workers.prefect_worker` inside the Prefect venv. Unless the user
points it at a running server (`--api-url`), it starts one on 127.0.0.1 from a throwaway PREFECT_HOME whose
SQLite DB is copied from a cached, already migrated one; every job of the batch then runs against it. Task
outcomes are read back from the server's API, the way a user would see them in the UI.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

from cookbook.outcomes import PARAMETERS_REFUSED, prefect_error_type, prefect_outcome, prefect_task_name
from cookbook.protocol import Job
from cookbook.report import Outcome, RunState, SideError, SideReport, TaskOutcome, wait_between_tries
from cookbook.workers import prefect_hitl, prefect_schedules
from cookbook.workers.common import (
    Channel,
    collect_files,
    indexed_name,
    job_context,
    one_line,
    rejected,
    serve,
    to_json,
)
from cookbook.workers.prefect_served import forget_earlier_runs, run_through_deployment, serving
from cookbook.workers.responder import report_problems
from cookbook.workers.submissions import JOURNAL_ENV, SUBMISSIONS

# How long to wait for the server to have recorded every task run's final state. Task run states reach the
# server as events, processed asynchronously, so they can lag the flow's own return by a moment.
CONSISTENCY_TIMEOUT = 15.0
_FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def configure_environment(home: Path, api_url: str | None) -> None:
    """Prefect reads its settings at import time, so this runs before the first `import prefect`."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # Built-in block types are registered lazily when a flow saves one; skipping this saves seconds.
            "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
            "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url


class PrefectSide:
    def __init__(self, home: Path, cache_dir: Path, api_url: str | None) -> None:
        self.home = home
        self.cache_dir = cache_dir
        self.api_url = api_url
        self.version = ""
        self._settings = contextlib.ExitStack()

    def start(self, channel: Channel) -> tuple[str, str]:
        import prefect
        from prefect.settings import temporary_settings

        self.version = prefect.__version__
        SUBMISSIONS.install()
        api_url = self.api_url
        if api_url is None:
            api_url = self._start_server(channel)
        # Heartbeats detect crashed runs of deployments; for in-process calls the engine would otherwise spend
        # about a second per flow joining the heartbeat thread.
        self._settings.enter_context(
            temporary_settings(updates={"api.url": api_url, "flows.heartbeat_frequency": None})
        )
        # Flow runs served from deployments run in their own processes (and the runner in its own thread):
        # they find the server through the environment.
        os.environ["PREFECT_API_URL"] = api_url
        return self.version, f"PREFECT_API_URL={api_url}"

    def _start_server(self, channel: Channel) -> str:
        from prefect.server.api.server import SubprocessASGIServer

        db = self.home / "prefect.db"
        cached = self.cache_dir / f"prefect-{self.version}.db"
        if cached.exists():
            channel.progress("prefect: starting the API server (migrated DB from cache)")
            _sqlite_copy(cached, db)
        else:
            channel.progress("prefect: starting the API server (first run: migrating its DB)")
        server = SubprocessASGIServer()
        server.start(timeout=120)
        if not cached.exists():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.partial")
            _sqlite_copy(db, partial)
            partial.replace(cached)
        return server.api_url

    def run(self, job: Job) -> SideReport:
        report = SideReport(engine="prefect", engine_version=self.version, recipe=job.recipe, case=job.case)
        try:
            module = _import_flow_module(job, self.home / "flow_modules")
        except Exception as exc:
            report.error = SideError(kind="import_error", message=f"{Path(job.source_file).name}: {one_line(exc)}")
            return report
        flows = _flows_in(module)
        flow = flows.get(job.flow_name)
        if flow is None:
            found = ", ".join(sorted(flows)) or "none"
            report.error = SideError(kind="import_error", message=f"no flow named {job.flow_name!r} (found: {found})")
            return report

        from prefect.blocks.core import Block

        for spec in job.prefect_blocks:
            # A name the module lacks is the case's mistake (ours, a harness break, raised as is); a block the
            # recipe's own code cannot build is the recipe's failure.
            make_block = getattr(module, spec.block)
            try:
                block = make_block(**spec.fields)
            except Exception as exc:
                report.error = SideError(kind="import_error", message=f"block {spec.block!r}: {one_line(exc)}")
                return report
            if not isinstance(block, Block):
                got = type(block).__name__
                report.error = SideError(kind="import_error", message=f"block {spec.block!r} gave a {got}, not a Block")
                return report
            block.save(spec.name, overwrite=True)
        _set_variables(job.variables)
        _set_concurrency_limits(job.concurrency_limits, job.tag_limits)
        if job.schedule_preview is not None:
            return _schedule_preview(module, job, report)

        with contextlib.ExitStack() as stack:
            served = None
            if job.prefect_mode == "deployment":
                try:
                    served = stack.enter_context(serving(module, self.home, f"cookbook-{job.recipe}-{os.getpid()}"))
                except Exception as exc:
                    report.error = SideError(kind="import_error", message=f"cannot serve: {one_line(exc)}")
                    return report
                if self.api_url is None:  # our own throwaway server; a user's server keeps its history
                    forget_earlier_runs(served)
            # Runs started by the runner (this one, and those it causes) inherit the job's cwd and environment.
            stack.enter_context(job_context(job))
            responder = stack.enter_context(prefect_hitl.responding(job))
            began = time.perf_counter()
            try:
                if served is not None and job.scheduled_runs:
                    states = [run_through_deployment(served, job, when) for when in job.scheduled_runs]
                elif served is not None:
                    states = [run_through_deployment(served, job)]
                else:
                    states = [flow(**job.params, return_state=True)]
            except Exception as exc:  # rejected before a flow run existed (for example, bad parameters)
                report.duration_seconds = time.perf_counter() - began
                return rejected(report, one_line(exc), Path(job.workdir))
            report.duration_seconds = time.perf_counter() - began
            if job.scheduled_runs:
                self._fill_runs(states, module, job, report)
            else:
                self._fill(states[0], module, job, report)
            report_problems(responder, report)
            collect_files(job, report)
        return report

    def _fill(self, state: Any, module: ModuleType, job: Job, report: SideReport) -> None:
        report.run_state = RunState.SUCCESS if state.is_completed() else RunState.FAILED
        if state.is_completed():
            report.result = to_json(state.result(), job.workdir)
        elif state.is_final():
            message = _state_message(state)
            # The engine validated the parameters against the flow's signature and said no: nothing ran.
            kind = "refused" if message.startswith(PARAMETERS_REFUSED) else "run_error"
            report.error = SideError(kind=kind, message=message)
        else:
            report.error = SideError(kind="run_error", message=f"the flow run did not end: {state.name}")
        flow_run_id = state.state_details.flow_run_id
        if flow_run_id is not None:
            report.tasks = _task_outcomes(flow_run_id, _task_names(module))
            report.states = _run_states(flow_run_id)

    def _fill_runs(self, states: list[Any], module: ModuleType, job: Job, report: SideReport) -> None:
        """Several scheduled runs reported together, as the Airflow side reports a backfill's runs: each task keyed
        by its run's position (`task[i]`, a mapped one `task[j][i]`); failed when any run failed; no result."""
        failed = []
        for index, (when, state) in enumerate(zip(job.scheduled_runs, states, strict=True)):
            one = SideReport(engine="prefect", engine_version=self.version, recipe=job.recipe, case=job.case)
            self._fill(state, module, job, one)
            for name, task in one.tasks.items():
                report.tasks[indexed_name(name, index)] = task  # `task[j]` of a map becomes `task[j][i]`
            report.states.extend(one.states)
            if one.run_state is not RunState.SUCCESS:
                failed.append(when.isoformat())
        report.run_state = RunState.FAILED if failed else RunState.SUCCESS
        if failed:
            report.error = SideError(kind="run_error", message=f"failed scheduled runs: {', '.join(failed)}")


def _run_states(flow_run_id: UUID) -> list[str]:
    """The flow run's state names in the order the server recorded them (Running, Suspended, ..., Completed)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        history = client.read_flow_run_states(flow_run_id)
    return [entry.name for entry in sorted(history, key=lambda entry: entry.timestamp)]


def _schedule_preview(module: ModuleType, job: Job, report: SideReport) -> SideReport:
    assert job.schedule_preview is not None
    try:
        report.result = prefect_schedules.preview(module, job.schedule_preview)
    except LookupError as exc:
        report.error = SideError(kind="import_error", message=str(exc))
        return report
    report.run_state = RunState.SUCCESS
    return report


def _set_variables(variables: dict[str, Any]) -> None:
    """Seed Prefect Variables on the server, as an operator would with `prefect variable set`."""
    from prefect.variables import Variable

    for name, value in variables.items():
        if value is None:
            Variable.unset(name)
        else:
            Variable.set(name, value, overwrite=True)


def _set_concurrency_limits(limits: dict[str, int], tags: dict[str, int]) -> None:
    """Create the case's limits on the server, as an operator would with `prefect gcl create` and
    `prefect concurrency-limit create`."""
    if not limits and not tags:
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for name, limit in limits.items():
            client.upsert_global_concurrency_limit_by_name(name, limit)
        for tag, limit in tags.items():
            client.create_concurrency_limit(tag=tag, concurrency_limit=limit)


def _import_flow_module(job: Job, importable_from: Path) -> ModuleType:
    """A fresh module per job, registered in sys.modules so Pydantic and pickled results can find its classes.

    Its name is importable too, from a folder on sys.path and on PYTHONPATH: processes a flow starts itself (the
    worker processes of a DaskTaskRunner's cluster) unpickle its tasks by module name and import the module, as
    they import the user's installed package in production.
    """
    name = f"cookbook_flows_{job.recipe}"
    importable_from.mkdir(parents=True, exist_ok=True)
    link = importable_from / f"{name}.py"
    staged = importable_from / f".{name}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path(job.source_file).resolve())
    staged.replace(link)  # a mutant's copy replaces the recipe's file for this job, atomically
    # Prefect's loader of a deployment's entrypoint puts the flow file's folder on sys.path and leaves it there:
    # prefect_flows/email.py would then shadow the standard library's email in every process spawned later (a
    # Dask worker). The flows are imported by file, never from that folder.
    flows_folder = Path(job.source_file).resolve().parent
    sys.path[:] = [p for p in sys.path if not p or Path(p).resolve() != flows_folder]
    folder = str(importable_from)
    if folder not in sys.path:
        sys.path.insert(0, folder)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)
    spec = importlib.util.spec_from_file_location(name, job.source_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {job.source_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _flows_in(module: ModuleType) -> dict[str, Any]:
    from prefect import Flow

    return {obj.name: obj for obj in vars(module).values() if isinstance(obj, Flow)}


def _task_names(module: ModuleType) -> dict[str, str]:
    """task_key -> task name for the module's tasks: how a task run is traced back to the task it ran."""
    from prefect import Task

    # `with_options(name=...)` copies share a task_key; such a key cannot name one task, so it is left out.
    names: dict[str, set[str]] = {}
    for obj in vars(module).values():
        if isinstance(obj, Task):
            names.setdefault(obj.task_key, set()).add(obj.name)
    return {key: next(iter(found)) for key, found in names.items() if len(found) == 1}


def _state_message(state: Any) -> str:
    message = " ".join((state.message or state.name or "failed").split())
    return message


def _task_outcomes(flow_run_id: UUID, task_names: dict[str, str]) -> dict[str, TaskOutcome]:
    """Every task run of the flow run and its subflow runs, as the server recorded them."""
    from prefect.client.orchestration import get_client
    from prefect.events.worker import EventsWorker

    # Push out the engine's buffered state-change events, then wait for the server to have recorded them.
    EventsWorker.drain_all(timeout=10)
    journal = os.environ.get(JOURNAL_ENV)  # served runs' submissions, taken in on every read below
    deadline = time.monotonic() + CONSISTENCY_TIMEOUT
    with get_client(sync_client=True) as client:
        previous: list[Any] | None = None
        while True:
            runs, flow_runs = _read_task_runs(client, flow_run_id)
            # The server records task run states from the engine's events, after the flow run's own final state:
            # a read can come too early and show none yet. Every task run the flows submitted must be there.
            if journal:
                SUBMISSIONS.read_journals(Path(journal))
            submitted = SUBMISSIONS.submitted_by({flow_run_id, *(f.id for f in flow_runs)})
            seen = {r.id for r in runs}
            settled = submitted <= seen and all(_is_settled(r) for r in runs)
            if settled and previous is not None and _fingerprint(runs) == _fingerprint(previous):
                break
            if time.monotonic() > deadline:
                # Outcomes read without some of the task runs would be wrong, not merely late: ours to report.
                if missing := len(submitted - seen):
                    raise RuntimeError(
                        f"the Prefect server did not record {missing} of the {len(submitted)} task runs the flow "
                        f"submitted within {CONSISTENCY_TIMEOUT:.0f} s of the run's end"
                    )
                break
            previous = runs
            time.sleep(0.1)
        waits = {r.id: _retry_wait(client, r.id) for r in runs if r.run_count > 1}
    return _outcomes_by_name(runs, flow_runs, task_names, waits)


def _retry_wait(client: Any, task_run_id: UUID) -> float | None:
    """From the task run's state history: a try runs from a Running state to the next state that is not."""
    states = sorted(client.read_task_run_states(task_run_id), key=lambda s: s.timestamp)
    tries: list[tuple[Any, Any]] = []
    for state in states:
        running = state.type.value == "RUNNING"
        if running and (not tries or tries[-1][1] is not None):
            tries.append((state.timestamp, None))
        elif not running and tries and tries[-1][1] is None:
            tries[-1] = (tries[-1][0], state.timestamp)
    return wait_between_tries(tries)


def _read_task_runs(client: Any, root: UUID) -> tuple[list[Any], list[Any]]:
    """The task runs of the flow run and of every flow run below it, and those flow runs."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    flow_run_ids = [root]
    below: list[Any] = []
    frontier = [root]
    while frontier:
        parents = FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=frontier))
        children = [
            c
            for c in _paged(client.read_flow_runs, flow_run_filter=parents, sort=FlowRunSort.ID_DESC)
            if c.id not in flow_run_ids
        ]
        frontier = [c.id for c in children]
        flow_run_ids.extend(frontier)
        below.extend(children)
    runs = FlowRunFilter(id=FlowRunFilterId(any_=flow_run_ids))
    task_runs = _paged(client.read_task_runs, flow_run_filter=runs, sort=TaskRunSort.EXPECTED_START_TIME_ASC)
    return task_runs, below


def _paged(read: Any, page_size: int = 200, **query: Any) -> list[Any]:
    """All rows of a filter query; the API caps each answer (PREFECT_API_DEFAULT_LIMIT)."""
    rows: list[Any] = []
    while True:
        page = read(limit=page_size, offset=len(rows), **query)
        rows.extend(page)
        if len(page) < page_size:
            return rows


def _is_settled(run: Any) -> bool:
    return run.state_type is not None and (run.state_type.value in _FINAL or run.state_name == "NotReady")


def _fingerprint(runs: list[Any]) -> list[tuple[str, str | None, int]]:
    return sorted((str(r.id), r.state_name, r.run_count) for r in runs)


def _call_order(runs: list[Any], flow_runs: list[Any]) -> Callable[[Any], tuple[tuple[int, float], ...]]:
    """A sort key putting a flow's calls in the order it made them, at every depth.

    Within one flow run: submissions in the order the submit calls were made, direct calls by creation time. A
    task run below another (a task called from a task, or any task of a subflow or of a deployment run started
    from a task) sorts under its caller first: `write[i]` of the child run started by `run_day[i]` stays i even
    when the children's processes start in another order.
    """
    by_id = {r.id: r for r in runs}
    caller_of_flow = {f.id: f.parent_task_run_id for f in flow_runs}
    keys: dict[UUID, tuple[tuple[int, float], ...]] = {}

    def key(run: Any) -> tuple[tuple[int, float], ...]:
        if run.id in keys:
            return keys[run.id]
        keys[run.id] = ()  # a cycle cannot happen; this only keeps a malformed answer from recursing forever
        own = (0, float(SUBMISSIONS.order[run.id])) if run.id in SUBMISSIONS.order else (1, run.created.timestamp())
        calling = [i.id for i in (run.task_inputs or {}).get("__parents__", []) if getattr(i, "id", None) in by_id]
        caller = by_id[calling[0]] if calling else by_id.get(caller_of_flow.get(run.flow_run_id))  # type: ignore[arg-type]
        keys[run.id] = (*(key(caller) if caller is not None else ()), own)
        return keys[run.id]

    return key


def _outcomes_by_name(
    runs: list[Any], flow_runs: list[Any], task_names: dict[str, str], waits: dict[UUID, float | None]
) -> dict[str, TaskOutcome]:
    """Key task runs by task name; a task called n > 1 times (mapped, or in a loop) gets `name[0..n-1]`."""
    known = set(task_names.values())
    # The task run Prefect records in a parent for each subflow or deployment run it started stands for that
    # child run, whose own tasks are reported; it is no task of the flow (and no DAG has a counterpart).
    stand_ins = {f.parent_task_run_id for f in flow_runs}
    by_task: dict[str, list[Any]] = {}
    for run in runs:
        if run.id in stand_ins:
            continue
        name = prefect_task_name(run.name)
        # A custom task_run_name (no generated suffix): trace the run back through its task_key. A copy made with
        # `with_options(name=...)` inside the flow keeps the suffix, and is reported under its own name.
        if name not in known and name == run.name:
            name = task_names.get(run.task_key, name)
        by_task.setdefault(name, []).append(run)
    outcomes: dict[str, TaskOutcome] = {}
    order = _call_order(runs, flow_runs)
    for name, calls in sorted(by_task.items()):
        calls.sort(key=order)
        mapped = any(r.id in SUBMISSIONS.mapped for r in calls)  # a one-element map is still `name[0]`
        for index, run in enumerate(calls):
            key = indexed_name(name, index if len(calls) > 1 or mapped else None)
            outcomes[key] = _task_outcome(run, waits.get(run.id))
    return outcomes


def _task_outcome(run: Any, retry_wait: float | None = None) -> TaskOutcome:
    state_type = run.state_type.value if run.state_type else "PENDING"
    state_name = run.state_name or state_type.title()
    outcome = prefect_outcome(state_type, state_name)
    error = kind = None
    if outcome is Outcome.FAILED and run.state is not None:
        error = _state_message(run.state)
        kind = prefect_error_type(state_name, run.state.message)
    return TaskOutcome(
        outcome=outcome,
        engine_state=state_name,
        attempts=run.run_count,
        started_at=run.start_time,
        ended_at=run.end_time,
        retry_wait_seconds=retry_wait,
        error=error,
        error_type=kind,
    )


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite DB even while a server has it open (WAL mode)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--api-url", default=None, help="Use this running server instead of starting one.")
    args = parser.parse_args()
    configure_environment(args.home, args.api_url)
    side = PrefectSide(args.home, args.cache_dir, args.api_url)
    serve("prefect", side.start, side.run)


if __name__ == "__main__":
    main()
