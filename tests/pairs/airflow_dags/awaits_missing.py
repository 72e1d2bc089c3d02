from airflow.sdk import DAG, task

with DAG(dag_id="awaits_missing", schedule=None):

    @task
    def total() -> int:
        return 7

    total()
