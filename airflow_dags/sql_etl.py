"""A nightly SQL ETL in Airflow 3: SQLExecuteQueryOperator, PostgresHook and `insert_rows` against PostgreSQL.

Every night at 02:30 UTC the DAG loads the previous day's orders from the landing table `raw_orders` (written by
the shop's order service) into the reporting table `daily_revenue` (one row per day and region), through a
staging table the DAG owns:

1. `prepare_staging` creates `staging_orders` if needed and empties it;
2. `extract_orders` reads the day's raw rows with a PostgresHook;
3. `transform_orders` drops cancelled orders, signs refunds and tidies the region, in Python;
4. `load_staging` writes the rows with `insert_rows`, in transactions of `LOAD_CHUNK_ROWS` rows;
5. `merge_report` replaces the day's rows of `daily_revenue` in one transaction (an upsert, and a delete of the
   regions that no longer have orders), so a re-run of the same night leaves the same rows;
6. `summarize` returns the night's counts.

The warehouse is the connection `warehouse`, for example
`AIRFLOW_CONN_WAREHOUSE='postgres://etl:<password>@db.internal:5432/warehouse'` (URI form) or the same as JSON,
`{"conn_type": "postgres", "host": ..., "port": 5432, "login": ..., "password": ..., "schema": "warehouse"}`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pendulum
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import DAG, task

WAREHOUSE_CONN_ID = "warehouse"
# insert_rows commits after every chunk of this many rows: a load that fails keeps the chunks before it.
LOAD_CHUNK_ROWS = 500
STAGING_COLUMNS = ["order_id", "order_day", "region", "amount"]


def business_day(logical_date: datetime) -> date:
    """The day a run loads: the one before its logical date (the 02:30 run of 7 December loads 6 December)."""
    return (logical_date.astimezone(pendulum.UTC) - timedelta(days=1)).date()


# [START sql_etl_prepare]
default_args = {
    "retries": 1,
    "retry_delay": timedelta(seconds=2),
    "execution_timeout": timedelta(minutes=5),
}

with DAG(
    dag_id="sql_etl",
    schedule="30 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args,
    tags=["cookbook"],
) as dag:
    # Not PostgresOperator: it was deprecated, then removed from the postgres provider. A list of statements runs
    # on one connection and is committed once at the end (autocommit=False, the default).
    prepare_staging = SQLExecuteQueryOperator(
        task_id="prepare_staging",
        conn_id=WAREHOUSE_CONN_ID,
        sql=[
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
    )
    # [END sql_etl_prepare]

    # [START sql_etl_extract]
    @task
    def extract_orders(logical_date: datetime | None = None) -> list[dict[str, Any]]:
        assert logical_date is not None
        day = business_day(logical_date)
        hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
        records = hook.get_records(
            "SELECT order_id, ordered_at, region, amount_cents, status FROM raw_orders"
            " WHERE ordered_at >= %(start)s AND ordered_at < %(end)s ORDER BY order_id",
            parameters={"start": f"{day}T00:00:00+00:00", "end": f"{day + timedelta(days=1)}T00:00:00+00:00"},
        )
        # Plain JSON values: the rows travel to the next task as an XCom.
        return [
            {"order_id": oid, "ordered_at": at.isoformat(), "region": region, "amount_cents": cents, "status": status}
            for oid, at, region, cents, status in records
        ]

    @task
    def transform_orders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for row in rows:
            if row["status"] == "cancelled":
                continue
            cents = -row["amount_cents"] if row["status"] == "refunded" else row["amount_cents"]
            kept.append(
                {
                    "order_id": row["order_id"],
                    "order_day": datetime.fromisoformat(row["ordered_at"]).astimezone(pendulum.UTC).date().isoformat(),
                    "region": (row["region"] or "unknown").strip().upper(),
                    "amount": str(Decimal(cents) / 100),
                }
            )
        return kept

    @task
    def load_staging(rows: list[dict[str, Any]]) -> int:
        hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
        hook.insert_rows(
            "staging_orders",
            [tuple(row[c] for c in STAGING_COLUMNS) for row in rows],
            target_fields=STAGING_COLUMNS,
            commit_every=LOAD_CHUNK_ROWS,
            executemany=True,
        )
        return len(rows)

    # [END sql_etl_extract]

    # [START sql_etl_merge]
    # Both statements run in one transaction: if the upsert fails, the delete is rolled back with it.
    merge_report = SQLExecuteQueryOperator(
        task_id="merge_report",
        conn_id=WAREHOUSE_CONN_ID,
        sql=[
            "DELETE FROM daily_revenue WHERE day = %(day)s AND region NOT IN (SELECT region FROM staging_orders)",
            """
            INSERT INTO daily_revenue (day, region, orders, revenue)
            SELECT order_day, region, count(*) FILTER (WHERE amount > 0), sum(amount)
            FROM staging_orders GROUP BY order_day, region
            ON CONFLICT (day, region) DO UPDATE SET orders = EXCLUDED.orders, revenue = EXCLUDED.revenue
            """,
        ],
        parameters={"day": "{{ macros.ds_add(ds, -1) }}"},
    )

    @task
    def summarize(extracted: list[dict[str, Any]], loaded: int, logical_date: datetime | None = None) -> dict[str, Any]:
        assert logical_date is not None
        day = business_day(logical_date)
        hook = PostgresHook(postgres_conn_id=WAREHOUSE_CONN_ID)
        regions, revenue = hook.get_first(
            "SELECT count(*), coalesce(sum(revenue), 0) FROM daily_revenue WHERE day = %(day)s",
            parameters={"day": day},
        )
        return {
            "day": day.isoformat(),
            "extracted": len(extracted),
            "loaded": loaded,
            "regions": regions,
            "revenue": str(revenue),
        }

    raw = extract_orders()
    loaded = load_staging(transform_orders(raw))
    prepare_staging >> raw
    loaded >> merge_report >> summarize(raw, loaded)
    # [END sql_etl_merge]
