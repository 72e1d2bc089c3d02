"""Prefect's own CLI (`prefect deploy --all`), with one client bug worked around; runs in the Prefect venv.

Prefect 3.8.8's `prefect deploy` asks for the pool's online workers with `limit` and `offset` sent as JSON
nulls, which its own server rejects (422, "Input should be a valid integer") under the fastapi this project
must pin (<0.155): the deployment is saved, then the command dies before the next one. Filling in the server's
own defaults is all this wrapper changes.
"""

from __future__ import annotations

import sys
from typing import Any


def _patch() -> None:
    from prefect.client.orchestration._work_pools.client import WorkPoolAsyncClient
    from prefect.settings import PREFECT_API_DEFAULT_LIMIT

    original = WorkPoolAsyncClient.read_workers_for_work_pool

    async def read_workers_for_work_pool(
        self: Any, work_pool_name: str, worker_filter: Any = None, offset: int | None = None, limit: int | None = None
    ) -> Any:
        return await original(
            self,
            work_pool_name,
            worker_filter,
            offset or 0,
            limit if limit is not None else PREFECT_API_DEFAULT_LIMIT.value(),
        )

    WorkPoolAsyncClient.read_workers_for_work_pool = read_workers_for_work_pool  # type: ignore[method-assign]


def main() -> None:
    _patch()
    from prefect.cli import app

    sys.argv[0] = "prefect"
    sys.exit(app())


if __name__ == "__main__":
    main()
