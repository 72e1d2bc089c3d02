from airflow.sdk import DAG, task

with DAG(dag_id="hangs", schedule=None):

    @task
    def total() -> int:
        return 1

    total()
