from airflow.sdk import DAG, task
import os

with DAG(dag_id="leaky", schedule=None):

    @task
    def total() -> int:
        return len(os.environ["PAIR_TOKEN"])

    total()
