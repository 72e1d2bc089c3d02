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
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379  # the Celery broker of `airflow_executor: celery`
REDIS_OWNER_KEY = "cookbook:scheduler-stack"  # which stack (pid) holds a Redis database
# Each Celery worker names itself through [core] hostname_callable, so TaskInstance.hostname says which one ran a
# task (they share this machine's FQDN otherwise).
WORKER_NAME_MODULE = "import os\n\n\ndef hostname() -> str:\n    return os.environ['COOKBOOK_CELERY_WORKER']\n"
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


# apache-airflow-providers-celery 3.26.0 imports `retry` from celery.backends.database, which celery 5.7.0 (the
# version the lock resolves) removed: its DatabaseBackend retries by itself now. Every process of a Celery stack is
# started through this launcher, which puts a decorator of the old behaviour (three tries on a database error)
# back before Airflow imports the provider, then runs the `airflow` CLI. Without it, CeleryExecutor fails to load.
CELERY_COMPAT_LAUNCHER = """\
import functools
import runpy
import sys

import celery.backends.database as database

if not hasattr(database, "retry"):
    from sqlalchemy.exc import DatabaseError, InvalidRequestError

    def retry(fun):
        @functools.wraps(fun)
        def inner(*args, **kwargs):
            for attempt in range(3):
                try:
                    return fun(*args, **kwargs)
                except (DatabaseError, InvalidRequestError):
                    if attempt == 2:
                        raise
            return None

        return inner

    database.retry = retry

if __name__ == "__main__":
    sys.argv[0] = "airflow"
    runpy.run_module("airflow", run_name="__main__", alter_sys=True)
"""


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


def _claim_redis_db() -> int:
    """A Redis database (1-15) no live stack holds, claimed for this process, so concurrent harness runs never
    take each other's Celery messages."""
    import redis

    for number in range(1, 16):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number, socket_connect_timeout=3)
        try:
            owner = client.get(REDIS_OWNER_KEY)
            if owner is not None and owner.isdigit() and pid_alive(int(owner)) and int(owner) != os.getpid():
                continue
            if owner is None and client.dbsize():
                continue  # someone else's data
            client.flushdb()
            client.set(REDIS_OWNER_KEY, str(os.getpid()))
            return number
        except redis.RedisError as exc:
            raise StackUnavailable(f"the Celery executor needs Redis on {REDIS_HOST}:{REDIS_PORT}: {exc}") from exc
        finally:
            client.close()
    raise StackUnavailable("no free Redis database (1-15) for the Celery broker")


class SchedulerStack:
    def __init__(self, home: Path, dags_folder: Path, executor: str = "local") -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.executor = executor
        self.db = f"{DB_PREFIX}{os.getpid()}" + ("" if executor == "local" else f"_{executor}")
        self.redis_db: int | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
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
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if self.executor == "celery" else "LocalExecutor",
            **self._celery_env(),
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

    def airflow_command(self) -> list[str]:
        """How this stack runs the `airflow` CLI: through the Celery compatibility launcher for a Celery stack."""
        if self.executor == "celery":
            return [sys.executable, str(self.home / "cookbook_celery_compat.py")]
        return [sys.executable, "-m", "airflow"]

    def _celery_env(self) -> dict[str, str]:
        if self.executor != "celery":
            return {}
        return {
            "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{self.db}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            # A worker reserves no task beyond the one it runs, so a free worker is never starved by a busy one.
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        }

    def ensure_workers(self, count: int, progress: Any) -> None:
        """Exactly `count` Celery workers, worker-1 to worker-<count>, consuming the default queue."""
        while len(self.workers) > count:
            proc = self.workers.pop()
            progress(f"airflow: stopping celery worker-{len(self.workers) + 1}")
            _stop(proc)
        while len(self.workers) < count:
            name = f"worker-{len(self.workers) + 1}"
            progress(f"airflow: starting celery {name}")
            env = {
                **self.env(),
                "COOKBOOK_CELERY_WORKER": name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cookbook_worker_name.hostname",
                "PYTHONPATH": os.pathsep.join(p for p in (str(self.home), os.environ.get("PYTHONPATH", "")) if p),
            }
            log_path = self.home / f"celery-{name}.log"
            argv = [*self.airflow_command(), "celery", "worker", "--concurrency", "1"]
            # --skip-serve-logs: the log server binds every interface; the api-server reads the logs from disk.
            argv += ["--celery-hostname", f"{name}@cookbook", "--skip-serve-logs", "--without-gossip"]
            argv += ["--without-mingle"]
            with log_path.open("w") as log:
                proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.workers.append(proc)
            self._wait_for_worker(proc, log_path)

    @staticmethod
    def _wait_for_worker(proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"airflow celery worker exited ({proc.returncode}); see {log_path}")
            if " ready." in log_path.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.3)
        raise RuntimeError(f"the Celery worker was not ready within {timeout:.0f} s; see {log_path}")

    def start(self, progress: Any) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.executor == "celery":
            self.redis_db = _claim_redis_db()
            (self.home / "cookbook_worker_name.py").write_text(WORKER_NAME_MODULE, encoding="utf-8")
            (self.home / "cookbook_celery_compat.py").write_text(CELERY_COMPAT_LAUNCHER, encoding="utf-8")
        (self.home / "passwords.json").write_text(json.dumps({USER: self.password}), encoding="utf-8")
        self._drop_stale_databases()
        with contextlib.closing(_pg_connect()) as pg, pg.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{self.db}"')
        progress("airflow: migrating the scheduler's PostgreSQL database")
        env = self.env()
        airflow = self.airflow_command()
        with (self.home / "migrate.log").open("w") as log:
            subprocess.run([*airflow, "db", "migrate"], env=env, stdout=log, stderr=log, check=True)
        progress(f"airflow: starting api-server, scheduler ({self.executor} executor) and dag-processor on 127.0.0.1")
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
        while self.workers:
            _stop(self.workers.pop())
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
        if self.redis_db is not None:
            import redis

            with contextlib.suppress(redis.RedisError):
                client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db, socket_connect_timeout=3)
                client.flushdb()
                client.close()
            self.redis_db = None

    def _drop_stale_databases(self) -> None:
        """Databases of earlier harness runs that were killed before they could clean up."""
        with contextlib.closing(_pg_connect()) as pg, pg.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DB_PREFIX}%",))
            for (name,) in cursor.fetchall():
                pid = name.removeprefix(DB_PREFIX).split("_")[0]  # <pid>, or <pid>_<executor>
                if pid.isdigit() and not pid_alive(int(pid)):
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a Celery worker's warm shutdown: it finishes its task), then SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
