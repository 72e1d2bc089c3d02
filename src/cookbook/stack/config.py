"""Where the stack lives and what it listens on; everything comes from the environment so tests can run their own."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cookbook.recipe import PROJECT_ROOT

HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
DEFAULT_RUN_DIR = PROJECT_ROOT / "runs" / "stack"
AIRFLOW_USER = "admin"
WORK_POOL = "default"


class StackError(Exception):
    """Something the user must fix before the stack can start or stop; one line."""


@dataclass(frozen=True)
class StackConfig:
    run_dir: Path
    prefect_port: int
    airflow_port: int

    @classmethod
    def from_env(cls) -> StackConfig:
        env = os.environ
        return cls(
            run_dir=Path(env.get("COOKBOOK_STACK_DIR", DEFAULT_RUN_DIR)).resolve(),
            prefect_port=int(env.get("COOKBOOK_STACK_PREFECT_PORT", "4200")),
            airflow_port=int(env.get("COOKBOOK_STACK_AIRFLOW_PORT", "8280")),
        )

    @property
    def slug(self) -> str:
        # One PostgreSQL database pair per run directory, so a test's stack never touches the user's.
        if self.run_dir == DEFAULT_RUN_DIR.resolve():
            return "main"
        return hashlib.sha1(str(self.run_dir).encode()).hexdigest()[:10]

    @property
    def prefect_db(self) -> str:
        return f"cookbook_stack_{self.slug}_prefect"

    @property
    def airflow_db(self) -> str:
        return f"cookbook_stack_{self.slug}_airflow"

    @property
    def prefect_api_url(self) -> str:
        return f"http://{HOST}:{self.prefect_port}/api"

    @property
    def airflow_url(self) -> str:
        return f"http://{HOST}:{self.airflow_port}"

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "stack.json"

    @property
    def airflow_cwd(self) -> Path:
        """The Airflow components' working directory, so also their tasks': a file a DAG writes to a relative
        path lands here, not in the checkout."""
        return self.run_dir / "airflow" / "cwd"

    @property
    def flows_root(self) -> Path:
        """$COOKBOOK_ROOT for the worker's flow runs: their working directory, with `prefect_flows` linked in, so
        entrypoints resolve and a file a flow writes to a relative path lands here, not in the checkout."""
        return self.run_dir / "prefect" / "flows-root"

    @property
    def result_storage(self) -> Path:
        return self.run_dir / "prefect" / "storage"

    def read_state(self) -> dict[str, object]:
        try:
            return json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def airflow_password(self) -> str:
        try:
            return json.loads((self.run_dir / "airflow" / "passwords.json").read_text())[AIRFLOW_USER]
        except (OSError, ValueError, KeyError) as exc:
            raise StackError(f"no Airflow password under {self.run_dir}: is the stack up? (`make stack`)") from exc


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def postgres_reachable() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((HOST, PG_PORT)) == 0
