import time

from prefect import flow, task


@task
def total() -> int:
    time.sleep(600)  # never answers within the 4 s timeout
    return 1


@flow(name="hangs")
def main() -> int:
    return total()
