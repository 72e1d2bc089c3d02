"""Load the day's exports from S3 into Postgres, then publish a summary to Snowflake."""

import pendulum
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.snowflake.operators.snowflake import SnowflakeOperator
from airflow.sdk import DAG, task

with DAG(
    dag_id="warehouse_sync",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    template_searchpath=["/opt/airflow/sql"],
    max_active_tasks=4,
    default_args={"retries": 3, "retry_delay": pendulum.duration(minutes=2), "pool": "warehouse"},
):
    wait = S3KeySensor(
        task_id="wait_for_export",
        bucket_name="exports",
        bucket_key="daily/{{ ds }}/orders.csv",
        aws_conn_id="aws_exports",
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
    )

    @task(queue="io")
    def load(ds=None):
        body = S3Hook(aws_conn_id="aws_exports").read_key(f"daily/{ds}/orders.csv", "exports")
        hook = PostgresHook(postgres_conn_id="warehouse")
        hook.insert_rows("orders", [line.split(",") for line in body.splitlines()])
        return len(body.splitlines())

    merge = SQLExecuteQueryOperator(
        task_id="merge",
        conn_id="warehouse",
        sql="merge_orders.sql",
        params={"schema": "analytics"},
    )
    publish = SnowflakeOperator(
        task_id="publish",
        snowflake_conn_id="snowflake",
        sql="insert into runs values ('{{ dag.dag_id }}', '{{ run_id }}', '{{ ds }}')",
        trigger_rule="all_done",
    )
    wait >> load() >> merge >> publish
