"""The Airflow side under a real scheduler, for what `dag.test()` cannot show: pools, parallelism, slots.

`dag.test()` runs one task at a time in-process, so pools never limit anything there. Recipes that are about
concurrency ask for `airflow_mode: scheduler`: the Airflow worker then starts Airflow's own components on
127.0.0.1 (api-server, scheduler with a LocalExecutor, dag-processor) against a throwaway PostgreSQL database,
triggers the DAG through the REST API with a real user and token, and reads the run back through the same API.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from cookbook.airflow_rest import AirflowRest
from cookbook.workers.common import pid_alive

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DB_PREFIX = "cookbook_sched_"
USER = "cookbook"
PARALLELISM = 4  # above the pools' slots, so a pool (not the executor) is what limits a run
# Airflow settings for a small local scheduler, shared with the stack (cookbook.stack.stack.airflow_env). The
# defaults cost seconds per task on a small DAG (measured, see docs/infrastructure.md).
QUICK_SCHEDULING = {
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    # The scheduler sleeps this long after a loop with nothing to do: a task that just ended waits up to that long
    # for its downstream to be queued (default 1 s per hop of the DAG).
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.1",
    # A task's supervisor notices its process has exited only when its wait times out (default 5 s), and the
    # LocalExecutor slot stays taken until then: the next task queued behind it waits that long.
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
}


class StackUnavailable(RuntimeError):
    """The scheduler mode cannot run here (no PostgreSQL); one line for the report."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_connect(dbname: str = "postgres") -> Any:
    import psycopg2

    try:
        connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        raise StackUnavailable(
            f"the scheduler mode needs PostgreSQL on {PG_HOST}:{PG_PORT} (user {PG_USER}): {str(exc).strip()}"
        ) from exc
    connection.autocommit = True
    return connection


class SchedulerStack:
    def __init__(self, home: Path, dags_folder: Path) -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.db = f"{DB_PREFIX}{os.getpid()}"
        self.port = _free_port()
        self.password = secrets.token_urlsafe(16)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.rest: AirflowRest | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        passwords = self.home / "passwords.json"
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.db}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",  # one process is plenty for one client, and this machine has 2 cores
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
            **QUICK_SCHEDULING,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, progress: Any) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: self.password}), encoding="utf-8")
        self._drop_stale_databases()
        with contextlib.closing(_pg_connect()) as pg, pg.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.db}"')
        progress("airflow: migrating the scheduler's PostgreSQL database")
        env = self.env()
        airflow = [sys.executable, "-m", "airflow"]
        with (self.home / "migrate.log").open("w") as log:
            subprocess.run([*airflow, "db", "migrate"], env=env, stdout=log, stderr=log, check=True)
        progress("airflow: starting api-server, scheduler and dag-processor on 127.0.0.1")
        # --skip-serve-logs: the worker log server binds every interface and cannot be told otherwise; with a
        # LocalExecutor the api-server reads the task logs from local disk anyway.
        commands = {
            "api-server": [*airflow, "api-server"],
            "scheduler": [*airflow, "scheduler", "--skip-serve-logs"],
            "dag-processor": [*airflow, "dag-processor"],
        }
        for name, argv in commands.items():
            with (self.home / f"{name}.log").open("a") as log:
                self.procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_for_api()
        self.rest = AirflowRest(self.base_url, USER, self.password)

    def _wait_for_api(self, timeout: float = 300) -> None:  # several batches at once can make start-up take minutes
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"airflow {name} exited ({proc.returncode}); see {self.home / (name + '.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"the Airflow api-server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.rest is not None:
            self.rest.close()
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with contextlib.suppress(StackUnavailable), contextlib.closing(_pg_connect()) as pg, pg.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def _drop_stale_databases(self) -> None:
        """Databases of earlier harness runs that were killed before they could clean up."""
        with contextlib.closing(_pg_connect()) as pg, pg.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DB_PREFIX}%",))
            for (name,) in cursor.fetchall():
                pid = name.removeprefix(DB_PREFIX)
                if pid.isdigit() and not pid_alive(int(pid)):
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
