import os

from prefect import flow, task


@task
def total() -> int:
    print("token is", os.environ["PAIR_TOKEN"])  # the deliberate leak
    return len(os.environ["PAIR_TOKEN"])


@flow(name="leaky")
def main() -> int:
    return total()
