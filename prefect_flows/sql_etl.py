"""A nightly SQL ETL in Prefect: a prefect-sqlalchemy `SqlAlchemyConnector` block against PostgreSQL.

Every night at 02:30 UTC the flow loads the previous day's orders from the landing table `raw_orders` (written by
the shop's order service) into the reporting table `daily_revenue` (one row per day and region), through a
staging table the flow owns: `prepare_staging` creates and empties it, `extract_orders` reads the day's raw rows,
`transform_orders` drops cancelled orders, signs refunds and tidies the region, `load_staging` writes the rows in
transactions of `LOAD_CHUNK_ROWS`, `merge_report` replaces the day's rows of the report in one transaction and
`summarize` returns the night's counts.

The warehouse is the SqlAlchemyConnector block `warehouse`, saved once from a shell or CI:

    SqlAlchemyConnector(connection_info=ConnectionComponents(
        driver="postgresql+psycopg", host="db.internal", port=5432, database="warehouse",
        username="etl", password="<password>")).save("warehouse")
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run
from prefect_sqlalchemy import SqlAlchemyConnector
from pydantic import AwareDatetime

WAREHOUSE_BLOCK = "warehouse"
# Each chunk is one execute_many, committed on its own: a load that fails keeps the chunks before it.
LOAD_CHUNK_ROWS = 500
STAGING_COLUMNS = ["order_id", "order_day", "region", "amount"]


def business_day(logical_date: datetime) -> date:
    """The day a run loads: the one before its logical date (the 02:30 run of 7 December loads 6 December)."""
    return (logical_date.astimezone(UTC) - timedelta(days=1)).date()


def run_in_transaction(database: SqlAlchemyConnector, statements: list[str], parameters: dict[str, Any]) -> None:
    """Airflow's SQLExecuteQueryOperator with a list of statements: one connection, one commit at the end."""
    # begin=True is engine.begin(): committed when the block exits, rolled back if a statement raises.
    # exec_driver_sql takes the driver's own %(name)s placeholders, as the Airflow hook does.
    with database.get_connection(begin=True) as connection:
        for statement in statements:
            connection.exec_driver_sql(statement, parameters)


# [START sql_etl_prepare]
# The DAG's default_args, spread into every task.
TASK_DEFAULTS: dict[str, Any] = {"retries": 1, "retry_delay_seconds": 2, "timeout_seconds": 300}


@task(**TASK_DEFAULTS)
def prepare_staging(warehouse_block: str) -> None:
    # Loaded inside the task: the block holds an engine and its pool, which must not cross task boundaries.
    with SqlAlchemyConnector.load(warehouse_block) as database:
        run_in_transaction(
            database,
            [
                """
                CREATE TABLE IF NOT EXISTS staging_orders (
                    order_id integer PRIMARY KEY,
                    order_day date NOT NULL,
                    region text NOT NULL,
                    amount numeric(12, 2) NOT NULL
                )
                """,
                "TRUNCATE staging_orders",
            ],
            {},
        )


# [END sql_etl_prepare]


# [START sql_etl_extract]
@task(**TASK_DEFAULTS)
def extract_orders(warehouse_block: str, day: date) -> list[dict[str, Any]]:
    with SqlAlchemyConnector.load(warehouse_block) as database:
        # fetch_all takes SQLAlchemy's :name placeholders. A second fetch_all of the same query and parameters on
        # the same block would return the rest of the first result (nothing), not run the query again.
        records = database.fetch_all(
            "SELECT order_id, ordered_at, region, amount_cents, status FROM raw_orders"
            " WHERE ordered_at >= :start AND ordered_at < :end ORDER BY order_id",
            parameters={"start": f"{day}T00:00:00+00:00", "end": f"{day + timedelta(days=1)}T00:00:00+00:00"},
        )
    return [
        {"order_id": oid, "ordered_at": at.isoformat(), "region": region, "amount_cents": cents, "status": status}
        for oid, at, region, cents, status in records
    ]


@task(**TASK_DEFAULTS)
def transform_orders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = []
    for row in rows:
        if row["status"] == "cancelled":
            continue
        cents = -row["amount_cents"] if row["status"] == "refunded" else row["amount_cents"]
        kept.append(
            {
                "order_id": row["order_id"],
                "order_day": datetime.fromisoformat(row["ordered_at"]).astimezone(UTC).date(),
                "region": (row["region"] or "unknown").strip().upper(),
                "amount": Decimal(cents) / 100,
            }
        )
    return kept


@task(**TASK_DEFAULTS)
def load_staging(warehouse_block: str, rows: list[dict[str, Any]]) -> int:
    insert = (
        f"INSERT INTO staging_orders ({', '.join(STAGING_COLUMNS)})"
        f" VALUES ({', '.join(':' + column for column in STAGING_COLUMNS)})"
    )
    with SqlAlchemyConnector.load(warehouse_block) as database:
        for start in range(0, len(rows), LOAD_CHUNK_ROWS):
            # One connection from the block's pool and one commit per chunk, like insert_rows(commit_every=...).
            database.execute_many(insert, seq_of_parameters=rows[start : start + LOAD_CHUNK_ROWS])
    get_run_logger().info("loaded %d rows into staging_orders", len(rows))
    return len(rows)


# [END sql_etl_extract]


# [START sql_etl_merge]
@task(**TASK_DEFAULTS)
def merge_report(warehouse_block: str, day: date) -> None:
    # Two execute() calls would be two transactions: a failed upsert would leave the delete committed.
    with SqlAlchemyConnector.load(warehouse_block) as database:
        run_in_transaction(
            database,
            [
                "DELETE FROM daily_revenue WHERE day = %(day)s AND region NOT IN (SELECT region FROM staging_orders)",
                """
                INSERT INTO daily_revenue (day, region, orders, revenue)
                SELECT order_day, region, count(*) FILTER (WHERE amount > 0), sum(amount)
                FROM staging_orders GROUP BY order_day, region
                ON CONFLICT (day, region) DO UPDATE SET orders = EXCLUDED.orders, revenue = EXCLUDED.revenue
                """,
            ],
            {"day": day},
        )


@task(**TASK_DEFAULTS)
def summarize(warehouse_block: str, day: date, extracted: list[dict[str, Any]], loaded: int) -> dict[str, Any]:
    with SqlAlchemyConnector.load(warehouse_block) as database:
        regions, revenue = database.fetch_all(
            "SELECT count(*), coalesce(sum(revenue), 0) FROM daily_revenue WHERE day = :day", parameters={"day": day}
        )[0]
    return {
        "day": day.isoformat(),
        "extracted": len(extracted),
        "loaded": loaded,
        "regions": regions,
        "revenue": str(revenue),
    }


@flow(name="sql-etl")
def sql_etl(warehouse_block: str = WAREHOUSE_BLOCK, logical_date: AwareDatetime | None = None) -> dict[str, Any]:
    """Load the previous day's orders from `raw_orders` into `daily_revenue`, through `staging_orders`.

    `logical_date` is Airflow's: the run loads the day before it. Without it, a scheduled run uses its slot (the
    02:30 of the night it belongs to, however late it starts); a run started by hand, the moment it starts.
    """
    if logical_date is None:
        logical_date = flow_run.scheduled_start_time
    day = business_day(logical_date)
    prepare_staging(warehouse_block)
    raw = extract_orders(warehouse_block, day)
    loaded = load_staging(warehouse_block, transform_orders(raw))
    merge_report(warehouse_block, day)
    return summarize(warehouse_block, day, raw, loaded)


# [END sql_etl_merge]


if __name__ == "__main__":
    sql_etl.serve(name="sql-etl", cron="30 2 * * *")
