import os

from airflow.sdk import DAG, task

with DAG(dag_id="leaky", schedule=None):

    @task
    def total() -> int:
        return len(os.environ["PAIR_TOKEN"])

    total()
