"""A concurrency-limited ETL on a real PostgreSQL warehouse in Prefect: 20 region queries, at most 3 at once.

The warehouse's credentials are a `SqlAlchemyConnector` block (prefect-sqlalchemy), `warehouse` by default. The
warehouse lands the day's orders as text in `raw_orders` (region, order_id, amount). Every region's query casts its
orders into `staging_orders` and writes the region's totals into `region_totals`; the global concurrency limit
`warehouse` (limit 3, created by an operator with `prefect gcl create warehouse --limit 3`) keeps the warehouse at
three such queries at a time, across every flow run that takes it. The staging table is dropped at the end,
whatever happened to the queries.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.concurrency.sync import concurrency
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_sqlalchemy import SqlAlchemyConnector

WAREHOUSE_LIMIT = "warehouse"  # the global concurrency limit every warehouse query takes a slot of
# The DAG's default_args: every task retries twice, 5 s apart.
TASK_DEFAULTS: dict[str, Any] = {"retries": 2, "retry_delay_seconds": 5}

# [START warehouse_pool_sql]
# The DAG's statement with SQLAlchemy's named parameters (`:region`, where psycopg takes `%(region)s`).
REGION_TOTALS_SQL = """
WITH staged AS (
    INSERT INTO staging_orders (region, order_id, amount)
    SELECT region, order_id, amount::numeric(10, 2) FROM raw_orders WHERE region = :region
    RETURNING region, amount
), totals AS (
    SELECT region, count(*) AS orders, sum(amount) AS revenue FROM staged GROUP BY region
)
INSERT INTO region_totals (region, orders, revenue)
SELECT region, orders, revenue FROM totals, LATERAL pg_sleep(orders * 0.15)
ON CONFLICT (region) DO UPDATE SET orders = excluded.orders, revenue = excluded.revenue
"""
# [END warehouse_pool_sql]


# [START warehouse_pool_tasks]
@task(**TASK_DEFAULTS)
def list_regions(block_name: str) -> list[str]:
    with SqlAlchemyConnector.load(block_name) as warehouse:
        rows = warehouse.fetch_all("SELECT DISTINCT region FROM raw_orders ORDER BY region")
    return [region for (region,) in rows]


@task(**TASK_DEFAULTS)
def create_staging(block_name: str) -> None:
    with SqlAlchemyConnector.load(block_name) as warehouse:
        warehouse.execute("DROP TABLE IF EXISTS staging_orders")
        warehouse.execute(
            "CREATE UNLOGGED TABLE staging_orders"
            " (region text NOT NULL, order_id integer PRIMARY KEY, amount numeric(10, 2) NOT NULL)"
        )


@task(**TASK_DEFAULTS)
def run_query(region: str, block_name: str) -> None:
    # A slot of the server's limit for as long as the query holds a connection: the 4th query waits here until
    # one of the 3 running ends. strict=True: a limit that does not exist fails the task instead of letting
    # every query through. The slot is given back when the query fails, so a retry waits its 5 s without it.
    warehouse = SqlAlchemyConnector.load(block_name)  # no connection yet: its engine connects on first use
    # Leaving the block closes the connection (the engine is disposed), then gives the slot back.
    with concurrency(WAREHOUSE_LIMIT, occupy=1, strict=True), warehouse:
        warehouse.execute(REGION_TOTALS_SQL, parameters={"region": region})
    get_run_logger().info("%s: totals written", region)


@task(**TASK_DEFAULTS)
def cleanup(block_name: str) -> None:
    with SqlAlchemyConnector.load(block_name) as warehouse:
        warehouse.execute("DROP TABLE IF EXISTS staging_orders")


@task(**TASK_DEFAULTS)
def summarize(block_name: str) -> dict[str, Any]:
    with SqlAlchemyConnector.load(block_name) as warehouse:
        regions, revenue = warehouse.fetch_one("SELECT count(*), sum(revenue) FROM region_totals")
    get_run_logger().info("%d regions, revenue %s", regions, revenue)
    return {"regions": regions, "revenue": str(revenue)}


# [END warehouse_pool_tasks]


# [START warehouse_pool_flow]
# One thread per query, so all 20 ask for a slot at once: the server's limit, not the runner, decides how many run.
@flow(name="warehouse-pool", task_runner=ThreadPoolTaskRunner(max_workers=20))
def warehouse_pool(block_name: str = "warehouse") -> dict[str, Any]:
    """Total every region's orders, at most 3 queries at once on the warehouse, then drop the staging table."""
    try:
        create_staging(block_name)
        queries = run_query.map(list_regions(block_name), unmapped(block_name))
        wait(queries)  # every query final, failed or not
    finally:
        # Airflow's all_done: after the queries, and also when the staging table or the listing failed.
        cleanup(block_name)
    # Raises the first failed query's error: summarize is never called and the run fails, as in Airflow.
    queries.result()
    return summarize(block_name)


# [END warehouse_pool_flow]


if __name__ == "__main__":
    # Create the limit first (`prefect gcl create warehouse --limit 3`): with strict=True a missing limit fails
    # the queries rather than letting all 20 through at once.
    warehouse_pool.serve(name="nightly")
