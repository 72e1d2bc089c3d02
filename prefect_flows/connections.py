"""Connections in Prefect: a custom credentials block with a `SecretStr` token and an httpx client factory.

The block lives on the Prefect server (`OrdersApiCredentials(...).save("orders-api")`, once, from a shell or
CI); without a saved block the flow falls back to ORDERS_API_URL / ORDERS_API_TOKEN in the environment.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from prefect import flow, get_run_logger, task
from prefect.blocks.core import Block
from prefect.exceptions import ObjectNotFound
from pydantic import BaseModel, Field, SecretStr


# [START block]
class OrdersApiCredentials(Block):
    """Base URL and bearer token of the orders API."""

    _block_type_name = "Orders API Credentials"

    base_url: str = Field(description="Scheme, host and port, for example https://api.example.com")
    # SecretStr: encrypted on the server like every block field, and also shown as ******** in the UI,
    # in repr() and in logs of the block object.
    token: SecretStr

    def get_client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token.get_secret_value()}"},
            timeout=timeout,
        )

    @classmethod
    def load_or_env(cls, name: str) -> OrdersApiCredentials:
        """The saved block `name`, or else ORDERS_API_URL / ORDERS_API_TOKEN (local runs, CI)."""
        try:
            return cls.load(name)
        except ValueError as exc:
            # `load` reports a missing block as a ValueError raised from ObjectNotFound; any other error (a saved
            # block that no longer validates is a RuntimeError in Prefect 3.8) must not quietly switch credentials.
            if not isinstance(exc.__cause__, ObjectNotFound):
                raise
        url, token = os.environ.get("ORDERS_API_URL"), os.environ.get("ORDERS_API_TOKEN")
        if not url or not token:
            raise MissingCredentials(
                f"no {cls.get_block_type_slug()} block named {name!r} is saved, "
                "and ORDERS_API_URL / ORDERS_API_TOKEN are not both set"
            )
        return cls(base_url=url, token=SecretStr(token))


class MissingCredentials(RuntimeError):
    pass


class CredentialsRejected(RuntimeError):
    pass


# [END block]


class Order(BaseModel):
    id: str
    amount: float
    status: str


class Summary(BaseModel):
    order_count: int
    paid_count: int
    paid_total: float


# [START flow]
def retry_transient(_task: Any, _task_run: Any, state: Any) -> bool:
    """Retry what may go away (5xx, timeouts); not missing or rejected credentials."""
    try:
        state.result()
    except (MissingCredentials, CredentialsRejected):
        return False
    except Exception:
        return True
    return False


@task(retries=2, retry_delay_seconds=30, retry_condition_fn=retry_transient)
def fetch_orders(block_name: str) -> list[Order]:
    # Loaded inside the task: credentials never travel as task arguments or results, so they are never
    # part of a cache key, a persisted result or the run's recorded inputs.
    credentials = OrdersApiCredentials.load_or_env(block_name)
    with credentials.get_client() as client:
        response = client.get("/data")
    if response.status_code in (401, 403):
        raise CredentialsRejected(
            f"the orders API rejected the credentials of {block_name!r} (HTTP {response.status_code})"
        )
    response.raise_for_status()
    orders = [Order.model_validate(o) for o in response.json()["orders"]]
    # The base URL names the environment an operator is looking at; the token never goes into a log.
    get_run_logger().info("fetched %s orders from %s", len(orders), credentials.base_url)
    return orders


@task
def summarize(orders: list[Order]) -> Summary:
    paid = [o for o in orders if o.status == "paid"]
    return Summary(
        order_count=len(orders),
        paid_count=len(paid),
        paid_total=round(sum(o.amount for o in paid), 2),
    )


@flow(name="connections")
def connections(block_name: str = "orders-api") -> Summary:
    """Fetch the orders from the orders API and summarise them: how many, how many paid, the paid total.

    The API's URL and token come from the `OrdersApiCredentials` block named `block_name` (with no such block
    saved: from ORDERS_API_URL / ORDERS_API_TOKEN). Missing credentials, or credentials the API rejects, fail the
    run at once; any other error (a 5xx answer, a timeout) is retried twice, 30 seconds apart.
    """
    # The block name is a parameter, so one deployment can point at staging or production credentials.
    return summarize(fetch_orders(block_name))


# [END flow]


if __name__ == "__main__":
    connections.serve(name="connections")
