"""The real services a case can run against: each side's share is its own, read back exactly, and cleaned up.

These talk to the machine's PostgreSQL and start real SMTP servers; nothing is mocked. The harness-level tests stop
before any engine runs: a service that cannot be prepared must end the case as not proven or harness broke.
"""

from __future__ import annotations

import smtplib
import socket
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cookbook.compare import status_of_side
from cookbook.harness import Harness
from cookbook.recipe import PostgresDatabase, SmtpServer, discover
from cookbook.services import postgres, smtp
from cookbook.services.base import Hosts, ServiceUnavailable

SIDES = ("airflow", "prefect")


def _postgres_or_skip() -> None:
    try:
        postgres.admin_connection().close()
    except ServiceUnavailable as exc:
        pytest.skip(str(exc))  # CI starts PostgreSQL (.ci/postgres); only a bare checkout lacks it


def _exists(kind: str, name: str) -> bool:
    query = {"db": "SELECT 1 FROM pg_database WHERE datname = %s", "role": "SELECT 1 FROM pg_roles WHERE rolname = %s"}
    with postgres.admin_connection() as conn:
        return conn.execute(query[kind], (name,)).fetchone() is not None


def test_each_side_gets_its_own_database_read_back_and_dropped(tmp_path: Path) -> None:
    _postgres_or_skip()
    spec = PostgresDatabase(
        name="wh",
        setup_sql="CREATE TABLE orders (id int PRIMARY KEY, amount numeric(8, 2)); INSERT INTO orders VALUES (1, 2.5);",
        tables=["orders", "never_made"],
    )
    fixture = postgres.Fixture(spec, "svc_test", SIDES, Hosts(tmp_path))
    names = {e: fixture.variables(e)["postgres.wh.database"] for e in SIDES}
    try:
        assert names["airflow"] != names["prefect"]
        with psycopg.connect(fixture.variables("prefect")["postgres.wh.url"]) as conn:
            conn.execute("INSERT INTO orders VALUES (2, 10.125)")  # numeric(8, 2) rounds it: 10.13
        seen = {e: fixture.observe(e) for e in SIDES}
    finally:
        fixture.close()
    assert seen["airflow"]["postgres.wh.orders"] == [{"id": 1, "amount": "2.50"}]
    assert seen["prefect"]["postgres.wh.orders"] == [{"id": 1, "amount": "2.50"}, {"id": 2, "amount": "10.13"}]
    summary = {row["table"]: row for row in seen["prefect"]["postgres.wh"]}
    assert summary["orders"]["rows"] == 2 and summary["never_made"] == {"table": "never_made", "exists": False}
    assert seen["airflow"]["postgres.wh"][0]["sha256"] != seen["prefect"]["postgres.wh"][0]["sha256"]
    for name in names.values():
        assert not _exists("db", name) and not _exists("role", name)


def test_a_long_case_name_still_gives_each_side_its_own_database(tmp_path: Path) -> None:
    """PostgreSQL cuts identifiers at 63 bytes: a recipe and case name that long once gave both sides one role."""
    _postgres_or_skip()
    label = "warehouse_pool_conflict_on_first_try_and_then_some"
    fixture = postgres.Fixture(PostgresDatabase(name="warehouse"), label, SIDES, Hosts(tmp_path))
    try:
        names = {e: fixture.variables(e)["postgres.warehouse.database"] for e in SIDES}
        assert names["airflow"] != names["prefect"]
        assert all(_exists("db", name) and _exists("role", name) for name in names.values())
    finally:
        fixture.close()


def test_peak_activity_is_what_the_database_saw(tmp_path: Path) -> None:
    _postgres_or_skip()
    fixture = postgres.Fixture(PostgresDatabase(name="wh", activity=True), "svc_peak", SIDES, Hosts(tmp_path))
    url = fixture.variables("airflow")["postgres.wh.url"]

    def query() -> None:
        with psycopg.connect(url) as conn:
            conn.execute("SELECT pg_sleep(0.6)")

    try:
        fixture.start()
        threads = [threading.Thread(target=query) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seen = {e: fixture.observe(e) for e in SIDES}
    finally:
        fixture.close()
    assert seen["airflow"]["postgres.wh.activity"] == [{"peak_active": 3}]
    assert seen["prefect"]["postgres.wh.activity"] == [{"peak_active": 0}]


def test_a_missing_server_is_unavailable_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(postgres, "PORT", port)
    with pytest.raises(ServiceUnavailable, match=rf"^PostgreSQL is not reachable on 127.0.0.1:{port}") as caught:
        postgres.admin_connection()
    assert "\n" not in str(caught.value)


def _send(variables: dict[str, str], subject: str, password: str | None = None) -> None:
    with smtplib.SMTP(variables["smtp.relay.host"], int(variables["smtp.relay.port"]), timeout=5) as client:
        client.login(variables["smtp.relay.user"], password or variables["smtp.relay.password"])
        message = f"From: report@example.org\nTo: b@example.org, a@example.org\nSubject: {subject}\n\nbody\n"
        client.sendmail("report@example.org", ["b@example.org", "a@example.org"], message)


def test_smtp_takes_mail_after_a_login_and_refuses_as_scripted(tmp_path: Path) -> None:
    fixture = smtp.Fixture(SmtpServer(name="relay", refuse_first=1), "svc_mail", SIDES, Hosts(tmp_path))
    try:
        mine = fixture.variables("prefect")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            _send(mine, "wrong password", password="not-it")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _send(mine, "first try")
        assert refused.value.smtp_code == 451
        _send(mine, "second try")
        seen: dict[str, Any] = {e: fixture.observe(e) for e in SIDES}
    finally:
        fixture.close()
    assert seen["prefect"]["smtp.relay"] == [
        {
            "from": "report@example.org",
            "to": ["a@example.org", "b@example.org"],
            "subject": "second try",
            "body": "body",
        }
    ]
    assert seen["airflow"]["smtp.relay"] == []
    assert set(fixture.secrets()) == {"secret.smtp.relay.airflow", "secret.smtp.relay.prefect"}


@pytest.fixture
def idle_harness() -> Any:
    """A harness whose engines are never started: these cases end before any job is sent."""
    harness = Harness()
    try:
        yield harness
    finally:
        harness.close()


def _with_services(**services: Any) -> tuple[Any, Any]:
    recipe = discover()["sensors"]
    case = recipe.meta.cases[0].model_copy(update={"services": [PostgresDatabase(name="wh", **services)]})
    return recipe, case


def test_a_case_whose_service_is_missing_is_not_proven(idle_harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setattr(postgres, "PORT", probe.getsockname()[1])
    run = idle_harness.run_case(*_with_services())
    assert run.verdict.status == "not_proven"
    assert {status_of_side(run.airflow), status_of_side(run.prefect)} == {"not_proven"}
    assert "PostgreSQL is not reachable" in (run.airflow.error.message if run.airflow.error else "")


def test_a_case_whose_world_cannot_be_built_is_a_harness_break(idle_harness: Harness) -> None:
    _postgres_or_skip()
    run = idle_harness.run_case(*_with_services(setup_sql="CREATE TABLE broken ("))
    assert run.verdict.status == "harness_error"
    assert run.prefect.error is not None and "SyntaxError" in run.prefect.error.message
