import module_that_does_not_exist  # noqa: F401
from airflow.sdk import DAG, task

with DAG(dag_id="broken_dag", schedule=None):

    @task
    def total() -> int:
        return 1

    total()
