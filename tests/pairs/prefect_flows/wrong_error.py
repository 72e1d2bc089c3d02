from prefect import flow, task


@task
def total() -> int:
    # The translation fails too, but for another reason than the DAG: not parity, whatever the run states say.
    raise KeyError("rows")


@flow(name="wrong-error")
def main() -> int:
    return total()
