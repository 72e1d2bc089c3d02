from prefect import flow, task
from prefect.blocks.core import Block


def alerts_block() -> Block | None:
    # Meant to build the block the flow's alerts use; returns nothing, so the case cannot be set up.
    return None


@task
def total() -> int:
    return 3


@flow(name="broken-block")
def main() -> int:
    return total()
