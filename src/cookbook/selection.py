"""Which recipes and cases a command runs, from the names given on its command line.

Shared by `cookbook compare`, `cookbook mutate` and `cookbook stack compare`; it imports no command, so each of them
can import it without an import cycle through the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cookbook.recipe import Recipe, discover, load_recipe, recipe_names


class UsageError(Exception):
    """A command line the CLI refuses (exit code 2): unknown names, a path that does not exist."""


def select(root: Path, names: Sequence[str], case_names: Sequence[str]) -> list[tuple[Recipe, list[str]]]:
    """The recipes and cases a compare runs; unknown names are a usage error listing the valid ones."""
    valid = recipe_names(root)
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UsageError(f"unknown recipe {', '.join(map(repr, unknown))}; valid recipes: {', '.join(valid)}")
    # Only the pages asked for are parsed, so one broken page does not stop comparing the others.
    chosen = [load_recipe(root / "recipes" / f"{n}.md") for n in names] if names else list(discover(root).values())
    selection = []
    for recipe in chosen:
        cases = [c.name for c in recipe.meta.cases if not case_names or c.name in case_names]
        if case_names and not cases:
            valid = ", ".join(c.name for c in recipe.meta.cases)
            raise UsageError(f"recipe {recipe.name!r} has no case {', '.join(case_names)}; its cases: {valid}")
        selection.append((recipe, cases))
    return selection
