"""The next run times of a deployment, as Prefect's server computes them, without waiting for the clock.

The deployment is applied to the server and its schedules read back (so what is compared is what the server
stored, timezone included); the server's own schedule models then list the dates its scheduler service would
create runs for.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from types import ModuleType
from typing import Any

from cookbook.recipe import SchedulePreview
from cookbook.workers.common import utc
from cookbook.workers.prefect_served import declared_deployments


def find_deployment(module: ModuleType, full_name: str) -> Any:
    """`flow-name/deployment-name` among the module's `deployments()`."""
    found = {f"{d.flow_name}/{d.name}": d for d in declared_deployments(module)}
    if full_name not in found:
        raise LookupError(f"no deployment {full_name!r} (found: {', '.join(sorted(found)) or 'none'})")
    return found[full_name]


def preview(module: ModuleType, spec: SchedulePreview) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client
    from prefect.server.schemas.schedules import SCHEDULE_TYPES
    from pydantic import TypeAdapter

    deployment_id = find_deployment(module, spec.deployment).apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    server_schedule = TypeAdapter(SCHEDULE_TYPES)
    dates: set[datetime] = set()
    for entry in stored.schedules:
        if entry.active:
            schedule = server_schedule.validate_python(entry.schedule.model_dump())
            dates.update(asyncio.run(schedule.get_dates(n=spec.count, start=spec.after)))
    return [{"run_at": utc(moment)} for moment in sorted(dates)[: spec.count]]
