from airflow.sdk import DAG, task

with DAG(dag_id="wrong_error", schedule=None):

    @task
    def total() -> int:
        raise ValueError("no rows to total")

    total()
