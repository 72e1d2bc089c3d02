"""S3: one SeaweedFS server per batch on 127.0.0.1, a set of buckets per side for each case.

Not written yet: the object_storage recipe brings it. Until then a case that asks for S3 is not proven.
"""

from __future__ import annotations

from typing import Any

from cookbook.recipe import S3Store
from cookbook.report import Engine
from cookbook.services import Hosts, ServiceUnavailable


class Fixture:
    def __init__(self, spec: S3Store, label: str, engines: tuple[Engine, ...], hosts: Hosts) -> None:
        raise ServiceUnavailable("the S3 service is not available in this version of the cookbook")

    def variables(self, engine: Engine) -> dict[str, str]:
        return {}

    def secrets(self) -> dict[str, str]:
        return {}

    def start(self) -> None:
        pass

    def observe(self, engine: Engine) -> dict[str, list[Any]]:
        return {}

    def close(self) -> None:
        pass
