"""Shared fixtures: one engine batch for the whole session, as `make compare` uses one for all recipes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cookbook.harness import CaseRun, Harness
from cookbook.recipe import PROJECT_ROOT, Recipe, discover

PAIRS_ROOT = Path(__file__).parent / "pairs"


class Runs:
    """Runs each (recipe, case) once per session on both engines, for every test that asks about it."""

    def __init__(self, harness: Harness, recipes: dict[str, Recipe]) -> None:
        self.harness = harness
        self.recipes = recipes
        self._done: dict[tuple[str, str], tuple[CaseRun, dict[str, str]]] = {}

    def get(self, recipe: str, case: str) -> tuple[CaseRun, dict[str, str]]:
        """The case's run and the secrets it was given."""
        key = (recipe, case)
        if key not in self._done:
            found = self.recipes[recipe]
            run = self.harness.run_case(found, found.cases_by_name[case])
            self._done[key] = (run, dict(self.harness.last_secrets))
        return self._done[key]


@pytest.fixture(scope="session")
def runs() -> Iterator[Runs]:
    recipes = discover(PROJECT_ROOT)
    scheduler = any(r.meta.airflow_mode == "scheduler" for r in recipes.values())
    with Harness(root=PROJECT_ROOT, prestart_scheduler=scheduler) as harness:
        yield Runs(harness, recipes)


def all_cases(root: Path = PROJECT_ROOT) -> list[tuple[str, str]]:
    return [(r.name, c.name) for r in discover(root).values() for c in r.meta.cases]
