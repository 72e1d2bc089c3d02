from airflow.sdk import DAG, task

with DAG(dag_id="broken_block", schedule=None):

    @task
    def total() -> int:
        return 3

    total()
