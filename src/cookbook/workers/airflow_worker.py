"""The Airflow side: runs a recipe's DAG with `dag.test()` in a throwaway AIRFLOW_HOME.

Started by the harness as `python -m cookbook.workers.airflow_worker` inside the Airflow venv. It migrates (or
copies a cached, already migrated) SQLite metadata DB, then runs jobs one after another for the whole batch, so
Airflow's one-off start-up costs are paid once.
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cookbook.airflow_rest import RunRefused
from cookbook.outcomes import airflow_outcome, error_type
from cookbook.protocol import Job
from cookbook.report import RunState, SideError, SideReport, TaskOutcome, wait_between_tries
from cookbook.workers import airflow_hitl, airflow_schedules
from cookbook.workers.airflow_scheduler import SchedulerStack, StackUnavailable
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
from cookbook.workers.responder import report_problems

CONNECTION_PREFIX = "AIRFLOW_CONN_"  # the case env entries that become connections under the scheduler


def configure_environment(home: Path, dags_folder: Path) -> None:
    """Airflow reads its configuration at import time, so this runs before the first `import airflow`."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder.resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Recipes return Pydantic models and dataclasses from tasks; allow their own modules.
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r"(airflow|unusual_prefix_|cookbook).*",
        }
    )


def migrated_db(home: Path, cache_dir: Path, version: str) -> None:
    """Put a migrated metadata DB in place: copied from the cache, or migrated once and then cached."""
    target = home / "airflow.db"
    cached = cache_dir / f"airflow-{version}-py{sys.version_info.major}{sys.version_info.minor}.db"
    if not cached.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            stdout=sys.stderr,
            stderr=sys.stderr,
        )
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        shutil.copyfile(target, partial)
        partial.replace(cached)  # atomic: a concurrent harness never sees half a DB
    else:
        shutil.copyfile(cached, target)


class RunListener:
    """Airflow listener hooks: which task instances actually executed, and why they failed.

    Airflow's own state does not say whether a `skipped` task ran (a sensor that soft-failed) or was never
    started (a trigger rule skipped it); the listener does.
    """

    def __init__(self) -> None:
        from airflow.listeners import hookimpl

        self.ran: set[tuple[str, int]] = set()
        self.errors: dict[tuple[str, int], str] = {}
        self.error_types: dict[tuple[str, int], str] = {}

        # pluggy finds hooks by attribute name on the registered object; bind them as closures.
        @hookimpl
        def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
            self.ran.add((task_instance.task_id, task_instance.map_index))

        @hookimpl
        def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
            key = (task_instance.task_id, task_instance.map_index)
            self.errors[key] = one_line(error) if isinstance(error, BaseException) else str(error)
            if isinstance(error, BaseException):
                self.error_types[key] = error_type(type(error).__name__)

        self.on_task_instance_running = on_task_instance_running
        self.on_task_instance_failed = on_task_instance_failed

    def reset(self) -> None:
        self.ran.clear()
        self.errors.clear()
        self.error_types.clear()


class AirflowSide:
    def __init__(self, home: Path, dags_folder: Path) -> None:
        self.version = ""
        self.home = home
        self.dags_folder = dags_folder
        self.listener: RunListener | None = None
        self.channel: Channel | None = None
        self.stacks: dict[str, SchedulerStack] = {}  # by executor: local, celery
        self._stack_lock = threading.Lock()
        self._prestart: concurrent.futures.Future[SchedulerStack] | None = None

    def start(self, channel: Channel, home: Path, cache_dir: Path) -> tuple[str, str]:
        from importlib.metadata import version

        self.channel = channel
        self.version = version("apache-airflow")
        channel.progress("airflow: preparing the metadata DB")
        migrated_db(home, cache_dir, self.version)
        channel.progress("airflow: importing Airflow")
        from airflow.sdk.listener import get_listener_manager

        self.listener = RunListener()
        get_listener_manager().add_listener(self.listener)
        channel.progress("airflow: warming up the execution API")
        _warm_up_execution_api()
        return self.version, f"AIRFLOW_HOME={home}"

    def run(self, job: Job) -> SideReport:
        from airflow.dag_processing.dagbag import DagBag

        assert self.listener is not None
        report = SideReport(engine="airflow", engine_version=self.version, recipe=job.recipe, case=job.case)
        if job.airflow_mode == "scheduler" and job.schedule_preview is None:
            return self._run_scheduled(job, report)
        if job.schedule_preview is not None:
            job = job.model_copy(update={"dag_id": job.schedule_preview.dag_id})
        bag = DagBag(dag_folder=job.source_file, safe_mode=False)
        if bag.import_errors:
            message = " | ".join(_last_line(tb) for tb in bag.import_errors.values())
            report.error = SideError(kind="import_error", message=f"{Path(job.source_file).name}: {message}")
            return report
        dag = bag.get_dag(job.dag_id)
        if dag is None:
            found = ", ".join(sorted(bag.dag_ids)) or "none"
            report.error = SideError(kind="import_error", message=f"no DAG with dag_id {job.dag_id!r} (found: {found})")
            return report

        if job.schedule_preview is not None:
            report.result = airflow_schedules.preview(dag, job.schedule_preview)
            report.run_state = RunState.SUCCESS
            return report
        self.listener.reset()
        _set_variables(job.variables)
        began = time.perf_counter()
        test_args: dict[str, Any] = {"run_conf": job.params or None}
        if job.logical_date is not None:
            test_args["logical_date"] = job.logical_date
        with job_context(job), airflow_hitl.responding(job) as responder:
            try:
                dag_run = dag.test(**test_args)
            except Exception as exc:  # rejected before a run existed: invalid params, say
                report.duration_seconds = time.perf_counter() - began
                return rejected(report, one_line(exc), Path(job.workdir))
        report.duration_seconds = time.perf_counter() - began
        report.run_state = RunState.SUCCESS if dag_run.state == "success" else RunState.FAILED
        self._collect(dag_run, job, report)
        report_problems(responder, report)
        collect_files(job, report)
        return report

    def prestart_scheduler(self) -> None:
        """Start the scheduler stack in the background, while the batch's dag.test() cases run."""
        self._prestart = concurrent.futures.ThreadPoolExecutor(1).submit(self.scheduler_stack)

    def scheduler_stack(self, executor: str = "local") -> SchedulerStack:
        with self._stack_lock:
            if executor not in self.stacks:
                home = self.home / ("scheduler" if executor == "local" else f"scheduler-{executor}")
                stack = SchedulerStack(home, self.dags_folder, executor)
                try:
                    stack.start(self._progress)
                except BaseException:
                    stack.stop()
                    raise
                self.stacks[executor] = stack
                atexit.register(stack.stop)
            return self.stacks[executor]

    def _progress(self, message: str) -> None:
        if self.channel is not None:
            self.channel.progress(message)

    def _run_scheduled(self, job: Job, report: SideReport) -> SideReport:
        """The DAG under Airflow's scheduler, triggered and read back through the REST API."""
        if others := sorted(key for key in job.env if not key.startswith(CONNECTION_PREFIX)):
            message = f"env is not passed to scheduled task processes (only {CONNECTION_PREFIX}*): {', '.join(others)}"
            report.error = SideError(kind="harness_error", message=message)
            return report
        try:
            stack = self.scheduler_stack(job.airflow_executor)
        except StackUnavailable as exc:
            report.error = SideError(kind="unavailable", message=str(exc))
            return report
        if job.airflow_executor == "celery":
            stack.ensure_workers(job.airflow_workers or 1, self._progress)
        assert stack.rest is not None
        stack.rest.ensure_pools(job.pools)
        with stack.rest.connections(_connection_bodies(job.env)):
            if job.airflow_backfill is not None:
                return self._run_backfill(job, stack, report)
            return self._run_triggered(job, stack, report)

    def _run_triggered(self, job: Job, stack: SchedulerStack, report: SideReport) -> SideReport:
        assert stack.rest is not None
        logical_date = job.logical_date.isoformat() if job.logical_date else None
        began = time.perf_counter()
        with job_context(job), airflow_hitl.responding(job, stack.rest) as responder:
            try:
                run_id = stack.rest.trigger(job.dag_id, job.params, logical_date, timeout=120)
            except RunRefused as exc:  # as in dag.test(): rejected before a run existed
                report.duration_seconds = time.perf_counter() - began
                return rejected(report, str(exc), Path(job.workdir))
            state = stack.rest.wait(job.dag_id, run_id)
        report.duration_seconds = time.perf_counter() - began
        stack.rest.fill_report(report, job.dag_id, run_id, state, job.result_task, job.workdir)
        report_problems(responder, report)
        collect_files(job, report)
        return report

    def _run_backfill(self, job: Job, stack: SchedulerStack, report: SideReport) -> SideReport:
        """A backfill over the case's date range, created and read back through the REST API.

        One run is reported like a triggered run; several are reported together: the run succeeds when all of them
        did, and each task is keyed by its run's position in logical-date order, `task_id[i]`.
        """
        assert stack.rest is not None and job.airflow_backfill is not None
        spec = job.airflow_backfill
        now = datetime.now(UTC)
        from_date, to_date = (d if isinstance(d, datetime) else now + d for d in (spec.from_date, spec.to_date))
        began = time.perf_counter()
        with job_context(job):
            runs = stack.rest.backfill(
                job.dag_id,
                from_date.isoformat(),
                to_date.isoformat(),
                job.params,
                max_active_runs=spec.max_active_runs,
                reprocess_behavior=spec.reprocess_behavior,
                timeout=120,
            )
            states = [stack.rest.wait(job.dag_id, run["dag_run_id"], spec.held_after_seconds) for run in runs]
        report.duration_seconds = time.perf_counter() - began
        if len(runs) == 1:
            stack.rest.fill_report(report, job.dag_id, runs[0]["dag_run_id"], states[0], job.result_task, job.workdir)
        else:
            for index, (run, state) in enumerate(zip(runs, states, strict=True)):
                stack.rest.fill_report(report, job.dag_id, run["dag_run_id"], state, None, job.workdir, index)
            failed = [
                run["logical_date"] + ("" if state == "failed" else f" ({state}: held)")
                for run, state in zip(runs, states, strict=True)
                if state != "success"
            ]
            report.run_state = RunState.FAILED if failed or not runs else RunState.SUCCESS
            report.error = None
            if failed or not runs:
                message = f"failed backfill runs: {', '.join(failed)}" if failed else "the backfill created no runs"
                report.error = SideError(kind="run_error", message=message)
        collect_files(job, report)
        return report

    def _collect(self, dag_run: Any, job: Job, report: SideReport) -> None:
        from airflow.models.taskinstancehistory import TaskInstanceHistory
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        assert self.listener is not None
        with create_session() as session:
            tis = sorted(dag_run.get_task_instances(session=session), key=lambda t: (t.task_id, t.map_index))
            earlier: dict[tuple[str, int], list[Any]] = {}
            history = session.scalars(
                select(TaskInstanceHistory)
                .where(TaskInstanceHistory.dag_id == dag_run.dag_id, TaskInstanceHistory.run_id == dag_run.run_id)
                .order_by(TaskInstanceHistory.try_number)
            )
            for row in history:
                earlier.setdefault((row.task_id, row.map_index), []).append(row)
            for ti in tis:
                key = (ti.task_id, ti.map_index)
                name = indexed_name(ti.task_id, ti.map_index if ti.map_index >= 0 else None)
                report.tasks[name] = TaskOutcome(
                    outcome=airflow_outcome(str(ti.state), ran=key in self.listener.ran),
                    engine_state=str(ti.state),
                    attempts=ti.try_number or 0,
                    started_at=ti.start_date,
                    ended_at=ti.end_date,
                    retry_wait_seconds=wait_between_tries(
                        [(t.start_date, t.end_date) for t in [*earlier.get(key, []), ti]]
                    ),
                    error=self.listener.errors.get(key),
                    error_type=self.listener.error_types.get(key),
                )
            if job.result_task:
                rows = session.scalars(
                    XComModel.get_many(
                        run_id=dag_run.run_id,
                        dag_ids=job.dag_id,
                        task_ids=job.result_task,
                        key="return_value",
                    )
                ).all()
                values = [(row.map_index, XComModel.deserialize_value(row)) for row in rows]
                if len(values) == 1 and values[0][0] < 0:
                    report.result = to_json(values[0][1], job.workdir)
                elif values:
                    report.result = to_json([v for _, v in sorted(values)], job.workdir)
        failed = [f"{name}: {t.error or t.engine_state}" for name, t in report.tasks.items() if t.error]
        if report.run_state is RunState.FAILED:
            report.error = SideError(kind="run_error", message="; ".join(failed) or "the DAG run failed")


def _connection_bodies(env: dict[str, str]) -> list[dict[str, Any]]:
    """The case's `AIRFLOW_CONN_<ID>` entries (a URI or Airflow's JSON form) as REST connection bodies: under a
    scheduler the task processes do not inherit the worker's environment, so each becomes a real connection."""
    from airflow.models.connection import Connection

    bodies = []
    for key, value in sorted(env.items()):
        conn_id = key.removeprefix(CONNECTION_PREFIX).lower()
        if value.lstrip().startswith("{"):
            conn = Connection.from_json(value, conn_id=conn_id)
        else:
            conn = Connection(conn_id=conn_id, uri=value)
        fields = ("conn_type", "host", "port", "login", "password", "schema", "extra")
        bodies.append({"connection_id": conn_id, **{field: getattr(conn, field) for field in fields}})
    return bodies


def _set_variables(variables: dict[str, Any]) -> None:
    """Seed Airflow Variables in the metadata DB, as an operator would with `airflow variables set`."""
    from airflow.models.variable import Variable

    for key, value in variables.items():
        if value is None:
            Variable.delete(key)
        else:
            Variable.set(key, value, serialize_json=not isinstance(value, str))


def _warm_up_execution_api() -> None:
    """Pay dag.test()'s first-call cost now, while the Prefect side is still starting.

    The in-process execution API (a Cadwyn app) generates its versioned routers on its first request, which
    takes seconds; any request triggers it. The task runner module is the other large first-time import.
    """
    import httpx
    from airflow.sdk.execution_time import task_runner  # noqa: F401
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    with httpx.Client(transport=in_process_api_server().transport, base_url="http://in-process") as client:
        client.get("/execution/health")


def _last_line(traceback_text: str) -> str:
    lines = [line.strip() for line in traceback_text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "import failed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--dags-folder", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--prestart-scheduler", action="store_true", help="the batch has scheduler-mode recipes")
    args = parser.parse_args()
    configure_environment(args.home, args.dags_folder)
    # Exit through atexit on SIGTERM, so a scheduler stack (processes, a PostgreSQL database) is cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    side = AirflowSide(args.home, args.dags_folder.resolve())

    def start(channel: Channel) -> tuple[str, str]:
        started = side.start(channel, args.home, args.cache_dir)
        if args.prestart_scheduler:
            side.prestart_scheduler()
        return started

    serve("airflow", start, side.run)


if __name__ == "__main__":
    main()
