"""Connections: an authenticated HTTP API reached through `BaseHook.get_connection` in Airflow 3.

The connection `orders_api` is not in the metadata DB: the worker finds it in the environment, as
`AIRFLOW_CONN_ORDERS_API` in JSON form, for example
`{"conn_type": "http", "host": "api.example.com", "port": 443, "schema": "https", "password": "<token>"}`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from airflow.sdk import DAG, BaseHook, Connection, task
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

ORDERS_CONN_ID = "orders_api"


# [START connection]
def orders_base_url(conn: Connection) -> str:
    # The HTTP provider's convention: `schema` holds the URL scheme, unless `host` is already a full URL.
    if conn.host and "://" in conn.host:
        return conn.host.rstrip("/")
    base = f"{conn.schema or 'https'}://{conn.host}"
    return f"{base}:{conn.port}" if conn.port else base


with DAG(dag_id="connections", schedule=None, tags=["cookbook"]) as dag:

    @task(retries=2, retry_delay=timedelta(seconds=30))
    def fetch_orders() -> list[dict[str, Any]]:
        try:
            # Resolved at run time by the worker (a configured secrets backend, then AIRFLOW_CONN_*, then the
            # metadata DB through the execution API); the password is registered with the log masker as it is fetched.
            conn = BaseHook.get_connection(ORDERS_CONN_ID)
        except AirflowNotFoundException as exc:
            # Retrying cannot make a missing connection appear.
            raise AirflowFailException(str(exc)) from None

        headers = {"Authorization": f"Bearer {conn.password}"}
        with httpx.Client(base_url=orders_base_url(conn), headers=headers, timeout=10) as client:
            response = client.get("/data")
        if response.status_code in (401, 403):
            # A rejected token stays rejected: fail now rather than spend the retries (and risk a lockout).
            raise AirflowFailException(
                f"the orders API rejected the credentials of connection {ORDERS_CONN_ID!r} "
                f"(HTTP {response.status_code})"
            )
        response.raise_for_status()  # anything else (5xx, say) is worth the retries
        return response.json()["orders"]

    # [END connection]

    @task
    def summarize(orders: list[dict[str, Any]]) -> dict[str, Any]:
        paid = [o for o in orders if o["status"] == "paid"]
        return {
            "order_count": len(orders),
            "paid_count": len(paid),
            "paid_total": round(sum(o["amount"] for o in paid), 2),
        }

    summarize(fetch_orders())
