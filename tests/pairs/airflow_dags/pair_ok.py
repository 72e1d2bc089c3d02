from airflow.sdk import DAG, task

with DAG(dag_id="pair_ok", schedule=None):

    @task
    def total() -> int:
        return 7

    total()
