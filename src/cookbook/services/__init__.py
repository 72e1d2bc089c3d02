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

from cookbook.recipe import Case
from cookbook.report import Engine
from cookbook.services.base import Fixture, Hosts, ServiceUnavailable

__all__ = ["Fixture", "Hosts", "ServiceUnavailable", "running_services"]


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
