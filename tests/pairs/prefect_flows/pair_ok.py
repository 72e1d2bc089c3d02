from prefect import flow, task


@task
def total() -> int:
    return 7


@flow(name="pair-ok")
def main() -> int:
    return total()
