"""Run inside the Prefect venv: what each flow module's `deployments()` declares, as JSON on stdout.

`prefect.yaml` is generated from it (`cookbook.stack.deployments`), so a recipe's deployments (names, schedules,
parameters, tags, triggers) are written once, in the flow's code, and the file follows. The harness venv has no
Prefect, hence this separate process.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


def schedule_entry(entry: Any) -> dict[str, Any]:
    """One `DeploymentScheduleCreate` in prefect.yaml's form (an interval in seconds, not an ISO duration)."""
    schedule = entry.schedule.model_dump(mode="json", exclude_none=True)
    if hasattr(entry.schedule, "interval"):
        schedule["interval"] = entry.schedule.interval.total_seconds()
    schedule["active"] = entry.active
    if entry.parameters:
        schedule["parameters"] = entry.parameters
    return schedule


def describe(root: Path, path: Path) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location(f"cookbook_describe_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    found = []
    for deployment in module.deployments():
        function = (deployment.entrypoint or "").rpartition(":")[2]
        found.append(
            {
                "recipe": path.stem,
                "flow_name": deployment.flow_name,
                "name": deployment.name,
                "entrypoint": f"{path.relative_to(root).as_posix()}:{function}",
                "description": deployment.description,
                "tags": list(deployment.tags or []),
                "parameters": deployment.parameters or {},
                "schedules": [schedule_entry(s) for s in deployment.schedules or []],
                "concurrency_limit": deployment.concurrency_limit,
                "paused": deployment.paused,
                "triggers": [t.model_dump(mode="json", exclude_none=True) for t in deployment.triggers or []],
            }
        )
    return found


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    described = []
    for path in sorted((root / "prefect_flows").glob("*.py")):
        if "def deployments(" in path.read_text(encoding="utf-8"):
            described.extend(describe(root, path))
    json.dump(described, sys.stdout)


if __name__ == "__main__":
    main()
