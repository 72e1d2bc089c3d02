"""Bring the stack up, down, and say what runs: the no-Docker twin of `compose.yml`."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from cookbook.recipe import PROJECT_ROOT
from cookbook.stack import processes
from cookbook.stack.config import (
    AIRFLOW_USER,
    HOST,
    PG_PORT,
    PG_USER,
    WORK_POOL,
    StackConfig,
    StackError,
    port_taken,
    postgres_reachable,
)
from cookbook.stack.sockets import Listener, listeners
from cookbook.workers.airflow_scheduler import QUICK_SCHEDULING

PREFECT_BIN = PROJECT_ROOT / ".venvs" / "prefect" / "bin"
AIRFLOW_BIN = PROJECT_ROOT / ".venvs" / "airflow" / "bin"
STARTUP_TIMEOUT = 180.0
# Prefect refuses a heartbeat more frequent than 30 s; the zombie automation gives a run 45 s to send the next.
HEARTBEAT_SECONDS = 30
ZOMBIE_WITHIN_SECONDS = 45
ZOMBIE_AUTOMATION = "cookbook: crash zombie flow runs"
Progress = Callable[[str], None]


def prefect_env(cfg: StackConfig) -> dict[str, str]:
    """What every Prefect process of the stack (server, worker, CLI, flow runs) shares."""
    home = cfg.run_dir / "prefect"
    state = cfg.read_state()
    db_url = str(state.get("prefect_db_url") or _prefect_db_url(cfg, postgres_reachable()))
    return {
        **os.environ,
        "PREFECT_HOME": str(home / "home"),
        "PREFECT_API_URL": cfg.prefect_api_url,
        "PREFECT_API_DATABASE_CONNECTION_URL": db_url,
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(cfg.prefect_port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # A run waits for the worker's next poll before its process starts: 0.25 s, not the default 10 s.
        "PREFECT_WORKER_QUERY_SECONDS": "0.25",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
        # JSON, not pickle: results stay readable by anything (the stack compare reads them without Prefect).
        "PREFECT_RESULTS_DEFAULT_SERIALIZER": "json",
        "PREFECT_LOCAL_STORAGE_PATH": str(cfg.result_storage),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS),
        # The worker keeps each flow run's working copy under $TMPDIR/runner_storage: keep it in the run dir.
        "TMPDIR": str(home / "tmp"),
        # prefect.yaml's pull step runs each flow from here.
        "COOKBOOK_ROOT": str(cfg.flows_root),
        "PYTHONUNBUFFERED": "1",
        # prefect.yaml's job command says `python`: the Prefect venv's.
        "PATH": f"{PREFECT_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _prefect_db_url(cfg: StackConfig, postgres: bool) -> str:
    if postgres:
        return f"postgresql+asyncpg://{PG_USER}@{HOST}:{PG_PORT}/{cfg.prefect_db}"
    return f"sqlite+aiosqlite:///{cfg.run_dir / 'prefect' / 'prefect.db'}"


def airflow_env(cfg: StackConfig) -> dict[str, str]:
    home = cfg.run_dir / "airflow"
    state = cfg.read_state()
    db_url = str(state.get("airflow_db_url") or _airflow_db_url(cfg, postgres_reachable()))
    secret_file = home / "jwt_secret"
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "airflow_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{cfg.airflow_url}/execution/",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(cfg.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip() if secret_file.exists() else "",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{AIRFLOW_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        **QUICK_SCHEDULING,
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "PYTHONUNBUFFERED": "1",
    }


def _airflow_db_url(cfg: StackConfig, postgres: bool) -> str:
    if postgres:
        return f"postgresql+psycopg2://{PG_USER}@{HOST}:{PG_PORT}/{cfg.airflow_db}"
    return f"sqlite:///{cfg.run_dir / 'airflow' / 'airflow.db'}"


def _postgres(statements: list[str]) -> None:
    """Run statements as the postgres user through the Airflow venv's psycopg2 (the harness venv has no driver)."""
    code = (
        "import sys, psycopg2\n"
        f"c = psycopg2.connect(host={HOST!r}, port={PG_PORT}, user={PG_USER!r}, dbname='postgres', connect_timeout=3)\n"
        "c.autocommit = True\n"
        "cur = c.cursor()\n"
        "for s in sys.argv[1:]: cur.execute(s)\n"
    )
    answer = subprocess.run(
        [str(AIRFLOW_BIN / "python"), "-c", code, *statements], capture_output=True, text=True, check=False
    )
    if answer.returncode != 0:
        lines = answer.stderr.strip().splitlines() or ["no output"]
        raise StackError(f"PostgreSQL on {HOST}:{PG_PORT}: {lines[-1]}")


def _drop_databases(cfg: StackConfig) -> None:
    _postgres([f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in (cfg.prefect_db, cfg.airflow_db)])


def running(cfg: StackConfig) -> list[processes.Recorded]:
    return [p for p in processes.recorded(cfg.pid_dir) if p.alive()]


def up(cfg: StackConfig, progress: Progress = lambda message: None) -> dict[str, object]:
    if not (PREFECT_BIN / "prefect").exists() or not (AIRFLOW_BIN / "airflow").exists():
        raise StackError("the engine venvs are missing; run `make setup`")
    alive = running(cfg)
    if alive:
        names = ", ".join(f"{p.name} ({p.pid})" for p in alive)
        raise StackError(f"the stack in {cfg.run_dir} is already running: {names}; `make stack-down` first")
    for port, what, variable in (
        (cfg.prefect_port, "the Prefect server", "COOKBOOK_STACK_PREFECT_PORT"),
        (cfg.airflow_port, "Airflow's api-server", "COOKBOOK_STACK_AIRFLOW_PORT"),
    ):
        if port_taken(port):
            raise StackError(f"port {port} on {HOST} is taken, {what} cannot listen there: free it or set {variable}")
    began = time.perf_counter()
    for stale in processes.recorded(cfg.pid_dir):
        (cfg.pid_dir / f"{stale.name}.pid").unlink(missing_ok=True)
    postgres = postgres_reachable()
    state: dict[str, object] = {
        "backend": "postgresql" if postgres else "sqlite",
        "prefect_db_url": _prefect_db_url(cfg, postgres),
        "airflow_db_url": _airflow_db_url(cfg, postgres),
        "prefect_api_url": cfg.prefect_api_url,
        "airflow_url": cfg.airflow_url,
        "databases": [cfg.prefect_db, cfg.airflow_db] if postgres else [],
    }
    for sub in ("prefect/home", "prefect/tmp", "airflow", "logs"):
        (cfg.run_dir / sub).mkdir(parents=True, exist_ok=True)
    cfg.result_storage.mkdir(parents=True, exist_ok=True)
    _write_private(cfg.run_dir / "airflow" / "passwords.json", json.dumps({AIRFLOW_USER: secrets.token_urlsafe(16)}))
    _write_private(cfg.run_dir / "airflow" / "jwt_secret", secrets.token_urlsafe(32))
    cfg.state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
    try:
        if postgres:
            progress("creating the PostgreSQL databases")
            _drop_databases(cfg)
            _postgres([f'CREATE DATABASE "{db}"' for db in (cfg.prefect_db, cfg.airflow_db)])
        _start_all(cfg, progress)
    except BaseException:
        down(cfg)
        raise
    state["up_seconds"] = round(time.perf_counter() - began, 1)
    cfg.state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return state


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def link_into_flows_root(cfg: StackConfig, folder: str) -> None:
    """Make the checkout's `folder` (a path relative to it) visible at the same path under the flow root, where
    the worker's flow runs resolve their entrypoints."""
    link = cfg.flows_root / folder
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(PROJECT_ROOT / folder, target_is_directory=True)


def _working_directories(cfg: StackConfig) -> None:
    cfg.airflow_cwd.mkdir(parents=True, exist_ok=True)
    link_into_flows_root(cfg, "prefect_flows")


def _start_all(cfg: StackConfig, progress: Progress) -> None:
    _working_directories(cfg)
    penv, aenv = prefect_env(cfg), airflow_env(cfg)
    logs = cfg.log_dir
    progress(f"starting the Prefect server on {HOST}:{cfg.prefect_port}; migrating Airflow's metadata DB")
    prefect = str(PREFECT_BIN / "prefect")
    airflow = str(AIRFLOW_BIN / "airflow")
    start = processes.start
    server = start(
        cfg.pid_dir,
        "prefect-server",
        [prefect, "server", "start", "--host", HOST, "--port", str(cfg.prefect_port)],
        penv,
        logs / "prefect-server.log",
        PROJECT_ROOT,
    )
    with (logs / "airflow-migrate.log").open("ab") as log:
        migrate = subprocess.run([airflow, "db", "migrate"], env=aenv, stdout=log, stderr=log, check=False)
    if migrate.returncode != 0:
        raise StackError(f"`airflow db migrate` failed; see {logs / 'airflow-migrate.log'}")
    progress(f"starting Airflow's api-server ({HOST}:{cfg.airflow_port}), scheduler, dag-processor, triggerer")
    # --skip-serve-logs: the log servers of the scheduler and the triggerer bind 0.0.0.0 with a hard-coded host;
    # with the LocalExecutor every task log is on this disk, where the api-server reads it.
    airflow_commands = {
        "airflow-api-server": [airflow, "api-server", "--host", HOST, "--port", str(cfg.airflow_port)],
        "airflow-scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "airflow-dag-processor": [airflow, "dag-processor"],
        "airflow-triggerer": [airflow, "triggerer", "--skip-serve-logs"],
    }
    started = {"prefect-server": server}
    for name, argv in airflow_commands.items():
        started[name] = start(cfg.pid_dir, name, argv, aenv, logs / f"{name}.log", cfg.airflow_cwd)
    _wait(started, f"{cfg.prefect_api_url}/health", cfg, "the Prefect server")
    progress(f"starting a process worker on work pool {WORK_POOL!r}")
    started["prefect-worker"] = start_worker(cfg)
    ensure_zombie_automation(cfg)
    _wait(started, f"{cfg.airflow_url}/api/v2/monitor/health", cfg, "Airflow's api-server")
    _wait_for_pool(started, cfg)


def start_worker(cfg: StackConfig) -> subprocess.Popen[bytes]:
    """The stack's process worker on work pool `default`, recorded in its pid file (so `stack down` stops it)."""
    prefect = str(PREFECT_BIN / "prefect")
    return processes.start(
        cfg.pid_dir,
        "prefect-worker",
        [prefect, "worker", "start", "--pool", WORK_POOL, "--type", "process", "--name", "cookbook-stack"],
        prefect_env(cfg),
        cfg.log_dir / "prefect-worker.log",
        PROJECT_ROOT,
    )


def _wait(started: dict[str, subprocess.Popen[bytes]], url: str, cfg: StackConfig, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        _check_alive(started, cfg)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, headers=auth_headers()).status_code == 200:
                return
        time.sleep(0.3)
    raise StackError(f"{what} did not answer within {STARTUP_TIMEOUT:.0f} s; logs in {cfg.log_dir}")


def _wait_for_pool(started: dict[str, subprocess.Popen[bytes]], cfg: StackConfig) -> None:
    """The worker creates the pool (with the process type's job template) on its first poll."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        _check_alive(started, cfg)
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(f"{cfg.prefect_api_url}/work_pools/{WORK_POOL}/workers/filter", headers=auth_headers())
            if answer.status_code == 200 and answer.json():
                return
        time.sleep(0.3)
    raise StackError(f"the Prefect worker did not register within {STARTUP_TIMEOUT:.0f} s; logs in {cfg.log_dir}")


def _check_alive(started: dict[str, subprocess.Popen[bytes]], cfg: StackConfig) -> None:
    for name, proc in started.items():
        if proc.poll() is not None:
            raise StackError(f"{name} exited ({proc.returncode}) while starting; see {cfg.log_dir / name}.log")


def auth_headers() -> dict[str, str]:
    """Prefect's basic auth, when the server was started with PREFECT_SERVER_API_AUTH_STRING."""
    auth = os.environ.get("PREFECT_API_AUTH_STRING") or os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if not auth:
        return {}
    import base64

    return {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}


def ensure_zombie_automation(cfg: StackConfig) -> None:
    """A flow run whose process died (its worker's machine went away) stops sending heartbeats: mark it Crashed.

    This is Prefect's documented zombie-run automation; without it such a run would stay Running forever.
    """
    api = cfg.prefect_api_url
    found = httpx.post(f"{api}/automations/filter", json={}, headers=auth_headers(), timeout=10).raise_for_status()
    if any(a["name"] == ZOMBIE_AUTOMATION for a in found.json()):
        return
    automation = {
        "name": ZOMBIE_AUTOMATION,
        "description": "Crash a running flow run that has missed its heartbeats.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Proactive",
            "match": {"prefect.resource.id": ["prefect.flow-run.*"]},
            "after": ["prefect.flow-run.heartbeat"],
            "expect": [
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            ],
            "for_each": ["prefect.resource.id"],
            "threshold": 1,
            "within": ZOMBIE_WITHIN_SECONDS,
        },
        "actions": [
            {
                "type": "change-flow-run-state",
                "state": "CRASHED",
                "message": f"No heartbeat for {ZOMBIE_WITHIN_SECONDS} s: the process running this flow is gone.",
            }
        ],
    }
    httpx.post(f"{api}/automations/", json=automation, headers=auth_headers(), timeout=10).raise_for_status()


def down(cfg: StackConfig) -> list[str]:
    """Stop exactly the recorded processes (and what they started), then drop the stack's databases."""
    stopped = []
    # The worker first (it must not pick up work while the server goes), then the rest.
    order = sorted(processes.recorded(cfg.pid_dir), key=lambda p: (p.name != "prefect-worker", p.name))
    for process in order:
        first = signal.SIGINT if process.name == "prefect-worker" else signal.SIGTERM
        if processes.stop(process, first=first, grace=15.0):
            stopped.append(f"{process.name} ({process.pid})")
        (cfg.pid_dir / f"{process.name}.pid").unlink(missing_ok=True)
    state = cfg.read_state()
    if state.get("databases"):
        _drop_databases(cfg)
        state["databases"] = []
        cfg.state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return stopped


@dataclass(frozen=True)
class Row:
    name: str
    pid: int
    alive: bool
    listening: list[Listener]
    log: Path


def status(cfg: StackConfig) -> list[Row]:
    rows = []
    for process in processes.recorded(cfg.pid_dir):
        alive = process.alive()
        pids = [process.pid, *processes.descendants(process.pid)] if alive else []
        rows.append(Row(process.name, process.pid, alive, listeners(pids), process.log))
    return rows
