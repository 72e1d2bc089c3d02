"""PostgreSQL: a database and a login role per side on the machine's server, dropped after the case."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from cookbook.recipe import PostgresDatabase
from cookbook.report import Engine
from cookbook.services.base import Hosts, ServiceUnavailable

HOST, PORT, ADMIN = "127.0.0.1", 5432, "postgres"
SAMPLE_EVERY = 0.02  # seconds between two looks at pg_stat_activity: a query shorter than this may go unseen


def admin_connection() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(host=HOST, port=PORT, user=ADMIN, dbname="postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(f"PostgreSQL is not reachable on {HOST}:{PORT} as {ADMIN} ({first})") from None


class Fixture:
    def __init__(self, spec: PostgresDatabase, label: str, engines: tuple[Engine, ...], hosts: Hosts) -> None:
        self.spec = spec
        self.admin = admin_connection()
        suffix = secrets.token_hex(4)
        self.sides: dict[Engine, dict[str, str]] = {}
        self.samplers: dict[Engine, _ActivitySampler] = {}
        try:
            for engine in engines:
                # The engine first: a long recipe and case name is cut to PostgreSQL's 63-byte identifiers, and
                # the cut must not make both sides' names one.
                name = f"ck_{engine}_{label}_{spec.name}"[:50] + f"_{suffix}"
                side = {"database": name, "user": name, "password": secrets.token_urlsafe(18)}
                self.sides[engine] = side
                self._create(side)
                if spec.activity:
                    self.samplers[engine] = _ActivitySampler(name)
        except BaseException:
            self.close()
            raise

    def _create(self, side: dict[str, str]) -> None:
        role, database = sql.Identifier(side["user"]), sql.Identifier(side["database"])
        self.admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(side["password"])))
        self.admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
        if self.spec.setup_sql.strip():
            with self._connect(side) as conn:
                conn.execute(self.spec.setup_sql.encode())

    @staticmethod
    def _connect(side: dict[str, str]) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=HOST, port=PORT, user=side["user"], password=side["password"], dbname=side["database"]
        )

    def variables(self, engine: Engine) -> dict[str, str]:
        side = self.sides[engine]
        prefix = f"postgres.{self.spec.name}"
        url = f"postgresql://{side['user']}:{side['password']}@{HOST}:{PORT}/{side['database']}"
        return {
            f"{prefix}.url": url,
            f"{prefix}.host": HOST,
            f"{prefix}.port": str(PORT),
            f"{prefix}.database": side["database"],
            f"{prefix}.user": side["user"],
            f"{prefix}.password": side["password"],
        }

    def secrets(self) -> dict[str, str]:
        return {f"secret.postgres.{self.spec.name}.{e}": side["password"] for e, side in self.sides.items()}

    def start(self) -> None:
        for sampler in self.samplers.values():
            sampler.start()

    def observe(self, engine: Engine) -> dict[str, list[Any]]:
        prefix = f"postgres.{self.spec.name}"
        seen: dict[str, list[Any]] = {}
        if engine in self.samplers:
            seen[f"{prefix}.activity"] = [{"peak_active": self.samplers[engine].stop()}]
        if not self.spec.tables:
            return seen
        summary = []
        with self._connect(self.sides[engine]) as conn:
            for table in self.spec.tables:
                rows = _rows(conn, table)
                seen[f"{prefix}.{table}"] = rows if rows is not None else []
                digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]
                summary.append(
                    {"table": table, "exists": rows is not None, "rows": len(rows or []), "sha256": digest}
                    if rows is not None
                    else {"table": table, "exists": False}
                )
        seen[prefix] = summary
        return seen

    def close(self) -> None:
        for sampler in self.samplers.values():
            sampler.stop()
        for side in self.sides.values():
            self.admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(side["database"]))
            )
            self.admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(side["user"])))
        self.sides.clear()
        self.admin.close()


def _rows(conn: psycopg.Connection[Any], table: str) -> list[dict[str, Any]] | None:
    """The table's rows as JSON-able dicts, ordered by every column in turn; None when the table does not exist."""
    schema, _, name = table.rpartition(".")
    exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    if exists is None or exists[0] is None:
        return None
    ident = sql.Identifier(schema, name) if schema else sql.Identifier(name)
    width = len(conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(ident)).description or [])
    order = sql.SQL(", ").join(sql.Literal(k) for k in range(1, width + 1)) if width else sql.SQL("1")
    try:
        cursor = conn.execute(sql.SQL("SELECT * FROM {} ORDER BY {}").format(ident, order))
        ordered = True
    except psycopg.errors.UndefinedFunction:  # a column with no ordering (json): sorted by its text below
        conn.rollback()
        cursor, ordered = conn.execute(sql.SQL("SELECT * FROM {}").format(ident)), False
    columns = [c.name for c in cursor.description or []]
    rows = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]
    return rows if ordered else sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def _plain(value: Any) -> Any:
    """Database values as JSON: exact decimals as strings, times in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return value


class _ActivitySampler:
    """Counts the side's active queries, as pg_stat_activity shows them, until stopped; keeps the peak."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.peak = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"pg-activity:{database}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        with admin_connection() as conn:
            while not self.done.wait(SAMPLE_EVERY):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                    " AND backend_type = 'client backend'",
                    (self.database,),
                ).fetchone()
                self.peak = max(self.peak, int(row[0]) if row else 0)

    def stop(self) -> int:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join(timeout=2)
        return self.peak
