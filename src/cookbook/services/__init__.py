"""Real services a case runs against (PostgreSQL, SMTP, S3), one instance per side, started by the harness.

Each kind is a module with a `Fixture` class: made for one case, it prepares every side's share of the service
(a database, a server, a set of buckets), gives each side its placeholders and the secrets to watch for, and after
the run reads back what the side left in it. What a side left is compared like webhook messages: by name, under
`SideReport.messages`.

A service that cannot start here (no PostgreSQL on the machine, say) raises `ServiceUnavailable`: the case is then
"not proven" on both sides, never skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from cookbook.recipe import Case
from cookbook.report import Engine


class ServiceUnavailable(Exception):
    """A service a case needs cannot run on this machine: one line saying which and why."""


class Fixture(Protocol):
    def variables(self, engine: Engine) -> dict[str, str]:
        """The side's placeholders: `<kind>.<name>.<field>`."""
        ...

    def secrets(self) -> dict[str, str]:
        """Every credential handed to a side, named: none may appear in a report or a log."""
        ...

    def start(self) -> None:
        """Called as the sides' runs begin (a sampler that watches the run starts here)."""
        ...

    def observe(self, engine: Engine) -> dict[str, list[Any]]:
        """What the side left in the service, by message channel (`<kind>.<name>[.<part>]`)."""
        ...

    def close(self) -> None: ...


class Hosts:
    """Servers that outlive a case (one S3 server per batch): started on first use, stopped with the harness."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: dict[str, Any] = {}

    def get(self, kind: str, start: Any) -> Any:
        if kind not in self.running:
            self.running[kind] = start(self.root / kind)
        return self.running[kind]

    def close(self) -> None:
        for host in self.running.values():
            with contextlib.suppress(Exception):
                host.close()
        self.running.clear()


@contextlib.contextmanager
def running_services(case: Case, label: str, engines: tuple[Engine, ...], hosts: Hosts) -> Iterator[list[Fixture]]:
    """Prepare each service of the case for every side; `label` names the case in databases and buckets."""
    from cookbook.services import postgres, s3, smtp  # imported here: each pulls its client library

    makers = {"postgres": postgres.Fixture, "smtp": smtp.Fixture, "s3": s3.Fixture}
    fixtures: list[Fixture] = []
    try:
        for spec in case.services:
            fixtures.append(makers[spec.kind](spec, label, engines, hosts))
        yield fixtures
    finally:
        for fixture in reversed(fixtures):
            with contextlib.suppress(Exception):
                fixture.close()
