from prefect import flow, task


@task
def total() -> int:
    return 7


@flow(name="harness-broke")
def main() -> int:
    return total()
