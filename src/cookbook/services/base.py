"""What every service module shares: the error for a service that cannot run here, and the batch's servers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Protocol

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
