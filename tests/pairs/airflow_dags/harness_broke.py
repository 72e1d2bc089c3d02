from airflow.sdk import DAG, task

with DAG(dag_id="harness_broke", schedule=None):

    @task
    def total() -> int:
        return 7

    total()
