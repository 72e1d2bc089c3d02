from prefect import flow, task


@task
def total() -> int:
    return 11  # the deliberate mismatch


@flow(name="wrong-result")
def main() -> int:
    return total()
