"""A concurrency-limited ETL on a real PostgreSQL warehouse in Airflow 3: 20 region queries, at most 3 at once.

The warehouse (the connection `warehouse`, for example
`AIRFLOW_CONN_WAREHOUSE='postgresql://etl:<password>@warehouse.internal:5432/sales'`) lands the day's orders as text
in `raw_orders` (region, order_id, amount). Every region's query casts its orders into `staging_orders` and writes
the region's totals into `region_totals`; the pool `warehouse` (3 slots, created by an operator with
`airflow pools set warehouse 3 "sales warehouse"`) keeps the warehouse at three such queries at a time, whichever
DAGs ask. The staging table is dropped at the end, whatever happened to the queries.

Pools are enforced by the scheduler, so this recipe runs under a real scheduler (`airflow_mode: scheduler`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import DAG, task

WAREHOUSE_CONN_ID = "warehouse"

# [START warehouse_pool_sql]
# One statement, so one transaction: the region's orders are cast and staged, and its totals upserted, or nothing
# is. A cast that fails (an amount that is not a number) fails the whole query. The data set here is small, so
# pg_sleep stands in for the scan a real warehouse spends on each row: 0.15 s per order of the region.
REGION_TOTALS_SQL = """
WITH staged AS (
    INSERT INTO staging_orders (region, order_id, amount)
    SELECT region, order_id, amount::numeric(10, 2) FROM raw_orders WHERE region = %(region)s
    RETURNING region, amount
), totals AS (
    SELECT region, count(*) AS orders, sum(amount) AS revenue FROM staged GROUP BY region
)
INSERT INTO region_totals (region, orders, revenue)
SELECT region, orders, revenue FROM totals, LATERAL pg_sleep(orders * 0.15)
ON CONFLICT (region) DO UPDATE SET orders = excluded.orders, revenue = excluded.revenue
"""
# [END warehouse_pool_sql]

# [START warehouse_pool_dag]
with DAG(
    dag_id="warehouse_pool",
    schedule=None,
    # Every task retries twice, 5 s apart: a query that fails for good has tried three times.
    default_args={"retries": 2, "retry_delay": timedelta(seconds=5)},
    # Above the pool's 3 slots: the pool, not the DAG, is what holds the queries back.
    max_active_tasks=16,
    tags=["cookbook"],
) as dag:

    @task
    def list_regions() -> list[dict[str, str]]:
        hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
        rows = hook.get_records("SELECT DISTINCT region FROM raw_orders ORDER BY region")
        return [{"region": region} for (region,) in rows]

    create_staging = SQLExecuteQueryOperator(
        task_id="create_staging",
        conn_id=WAREHOUSE_CONN_ID,
        sql=[
            "DROP TABLE IF EXISTS staging_orders",
            "CREATE UNLOGGED TABLE staging_orders"
            " (region text NOT NULL, order_id integer PRIMARY KEY, amount numeric(10, 2) NOT NULL)",
        ],
        do_xcom_push=False,  # DDL returns nothing anyone reads: no XCom row to write
    )

    # One mapped query per region, each taking one of the pool's 3 slots: the other regions wait in `scheduled`,
    # and a query waiting for its retry gives its slot back.
    run_query = SQLExecuteQueryOperator.partial(
        task_id="run_query",
        conn_id=WAREHOUSE_CONN_ID,
        sql=REGION_TOTALS_SQL,
        pool="warehouse",
        pool_slots=1,
    ).expand(parameters=list_regions())

    # all_done: drop the staging table once every query has ended, failed or not (and when the listing failed).
    cleanup = SQLExecuteQueryOperator(
        task_id="cleanup",
        conn_id=WAREHOUSE_CONN_ID,
        sql="DROP TABLE IF EXISTS staging_orders",
        trigger_rule="all_done",
        do_xcom_push=False,
    )

    # The day's totals, read back once every region's query succeeded. Besides being the run's result, this leaf
    # is what fails the run when a query failed: were the all_done cleanup the only leaf, its success would make
    # the DAG run succeed.
    @task
    def summarize() -> dict[str, Any]:
        hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
        regions, revenue = hook.get_first("SELECT count(*), sum(revenue) FROM region_totals")
        return {"regions": regions, "revenue": str(revenue)}

    create_staging >> run_query >> cleanup
    run_query >> summarize()
# [END warehouse_pool_dag]
