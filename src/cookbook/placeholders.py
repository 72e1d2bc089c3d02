"""`${name}` placeholders in a case's JSON-like values, and the string mapping they are filled by.

No server and no engine here: the engine workers import it (through `cookbook.workers.common`) in the Airflow and
Prefect venvs, while the fixtures (`cookbook.fixtures`) and their HTTP servers stay in the harness process.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_.]*)\}")


class PlaceholderError(ValueError):
    pass


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """`change` applied to every string of a JSON-like value (dict keys left as they are)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, change) for k, v in value.items()}
    return value


def expand(value: Any, variables: dict[str, str]) -> Any:
    """Fill `${name}` placeholders in every string of a JSON-like value."""

    def lookup(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in variables:
            known = ", ".join(sorted(k for k in variables if not k.startswith("secret.")))
            raise PlaceholderError(f"unknown placeholder ${{{key}}} (known: {known}, secret.<name>)")
        return variables[key]

    return map_strings(value, lambda text: _PLACEHOLDER.sub(lookup, text))
