from prefect import flow, task


@task
def total() -> int:
    return 1


@flow(name="broken-dag")
def main() -> int:
    return total()
