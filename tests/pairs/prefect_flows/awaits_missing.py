from prefect import flow, task


@task
def total() -> int:
    return 7


@flow(name="awaits-missing")
def main() -> int:
    return total()
