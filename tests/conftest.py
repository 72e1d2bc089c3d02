"""Shared fixtures: one engine batch for the whole session, as `make compare` uses one for all recipes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from cookbook.harness import CaseRun, Harness
from cookbook.recipe import PROJECT_ROOT, Recipe, discover

PAIRS_ROOT = Path(__file__).parent / "pairs"
Outcome = tuple[CaseRun, dict[str, str]]  # a case's run, and the secrets it was given


class Background:
    """Every case of some recipes, run in a batch of their own on a thread; `get` waits for the one asked for."""

    def __init__(self, recipes: dict[str, Recipe]) -> None:
        self.recipes = recipes
        self._done: dict[tuple[str, str], Future[Outcome]] = {
            (r.name, c.name): Future() for r in recipes.values() for c in r.meta.cases
        }
        self.thread = threading.Thread(target=self._run_all, name="scheduler-batch", daemon=True)
        self.thread.start()

    def _run_all(self) -> None:
        try:
            with Harness(root=PROJECT_ROOT, prestart_scheduler=True) as harness:
                for recipe in self.recipes.values():
                    for case in recipe.meta.cases:
                        run = harness.run_case(recipe, case)
                        self._done[(recipe.name, case.name)].set_result((run, dict(harness.last_secrets)))
        except BaseException as exc:  # every waiting test gets the failure; none waits forever
            for future in self._done.values():
                if not future.done():
                    future.set_exception(exc)

    def get(self, recipe: str, case: str) -> Outcome:
        return self._done[(recipe, case)].result()


class Runs:
    """Runs each (recipe, case) once per session on both engines, for every test that asks about it.

    Recipes under Airflow's scheduler spend most of their time waiting (process starts, pool slots), so they run
    in a second batch of their own, in the background, while the in-process recipes run in this one.
    """

    def __init__(self, harness: Harness, recipes: dict[str, Recipe], background: Background | None) -> None:
        self.harness = harness
        self.recipes = recipes
        self.background = background
        self._done: dict[tuple[str, str], Outcome] = {}

    def get(self, recipe: str, case: str) -> Outcome:
        if self.background is not None and recipe in self.background.recipes:
            return self.background.get(recipe, case)
        key = (recipe, case)
        if key not in self._done:
            found = self.recipes[recipe]
            run = self.harness.run_case(found, found.cases_by_name[case])
            self._done[key] = (run, dict(self.harness.last_secrets))
        return self._done[key]


def _selected_recipes(session: pytest.Session) -> set[str]:
    """The recipes the session's selected tests ask about (after -k / -m), so nothing else is started."""
    return {
        item.callspec.params["recipe"]
        for item in session.items
        if hasattr(item, "callspec") and "recipe" in item.callspec.params
    }


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest) -> Iterator[Runs]:
    recipes = discover(PROJECT_ROOT)
    selected = _selected_recipes(request.session)
    scheduled = {name: r for name, r in recipes.items() if r.meta.airflow_mode == "scheduler" and name in selected}
    background = Background(scheduled) if scheduled else None
    with Harness(root=PROJECT_ROOT) as harness:
        yield Runs(harness, recipes, background)
    if background is not None:
        background.thread.join()


def all_cases(root: Path = PROJECT_ROOT) -> list[tuple[str, str]]:
    return [(r.name, c.name) for r in discover(root).values() for c in r.meta.cases]
