"""A flow that runs long enough to be killed mid-run: deployed by tests/test_stack.py only (not a recipe)."""

import time

from prefect import flow


@flow(name="slow")
def slow(seconds: float = 600) -> float:
    time.sleep(seconds)
    return seconds
