"""Half edited: the DAG call is never closed."""

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("broken", schedule="@daily"
    EmptyOperator(task_id="never_read")
