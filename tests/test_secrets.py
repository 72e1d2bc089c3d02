"""A secret handed to a recipe never comes back: not in a report, a worker log, or what `compare` prints."""

from __future__ import annotations

import pytest
from conftest import Runs
from rich.console import Console

from cookbook.recipe import discover
from cookbook.render import case_panel

SECRET_CASES = [(r.name, c.name) for r in discover().values() for c in r.meta.cases if c.secrets]


def test_some_recipe_uses_secrets() -> None:
    assert SECRET_CASES, "the connections recipe should hand secrets to both sides"


@pytest.mark.parity
@pytest.mark.parametrize(("recipe", "case"), SECRET_CASES, ids=[f"{r}/{c}" for r, c in SECRET_CASES])
def test_secret_appears_nowhere(runs: Runs, recipe: str, case: str) -> None:
    run, secrets = runs.get(recipe, case)
    assert secrets, "the harness made no secret for a case that declares some"
    console = Console(record=True, width=160, color_system=None)
    console.print(case_panel(run))
    printed = console.export_text()
    logs = "".join(p.read_text(errors="replace") for p in (runs.harness.run_dir / "logs").glob("*.log"))
    for name, value in secrets.items():
        assert value not in printed, f"{name} printed by compare"
        assert value not in run.model_dump_json(), f"{name} in a report"
        assert value not in logs, f"{name} in a worker log"
