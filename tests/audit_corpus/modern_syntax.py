"""A DAG whose helpers use Python 3.12 syntax: a type alias, a generic function, nested f-string quotes."""

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

type Row = dict[str, str]


def first[T](items: list[T]) -> T:
    return items[0]


def summarise(rows: list[Row]) -> str:
    return f"first: {first(rows)["id"]}"


with DAG("modern_syntax", schedule="@hourly", catchup=False):
    PythonOperator(task_id="summarise", python_callable=summarise, op_args=[[{"id": "1"}]], retries=1)
