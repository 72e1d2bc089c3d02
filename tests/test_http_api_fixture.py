"""The loopback API of `http_apis`, served for real and called with httpx: pages, rate limits, auth, readiness."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from cookbook.fixtures import make_secrets, running_apis
from cookbook.recipe import ApiResponse, HttpApi

ORDERS = [{"id": f"A-{n}"} for n in range(1, 6)]


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start one API from its spec; yields a function giving (a client with the right token, the other side's URL)."""
    stack: list[Any] = []

    def start(**spec: Any) -> tuple[httpx.Client, str]:
        secrets = make_secrets(["token"])
        api = running_apis([HttpApi(name="orders", token_secret="token", **spec)], secrets)
        variables = api.__enter__()
        stack.append(api)
        auth = {"Authorization": f"Bearer {secrets['secret.token']}"}
        client = httpx.Client(base_url=variables["http.orders.airflow.url"], headers=auth, timeout=5)
        stack.append(client)
        return client, variables["http.orders.prefect.url"]

    yield start
    for thing in reversed(stack):
        thing.__exit__(None, None, None)


def test_pages_of_a_list_link_to_the_next_until_the_last(serve: Any) -> None:
    client, _ = serve(data=ORDERS, page_size=2, responses=[ApiResponse()])
    first = client.get("/data").json()  # no page parameter: the first page
    assert first == {"items": ORDERS[:2], "page": 1, "next_page": 2}
    assert client.get("/data", params={"page": 2}).json() == {"items": ORDERS[2:4], "page": 2, "next_page": 3}
    assert client.get("/data", params={"page": 3}).json() == {"items": ORDERS[4:], "page": 3, "next_page": None}
    assert client.get("/data", params={"page": 4}).json() == {"items": [], "page": 4, "next_page": None}


def test_pages_of_a_mapping_keep_its_other_keys_and_refuse_a_bad_page(serve: Any) -> None:
    client, _ = serve(data={"currency": "EUR", "items": ORDERS[:2]}, page_size=2, responses=[ApiResponse()])
    assert client.get("/data").json() == {"currency": "EUR", "items": ORDERS[:2], "page": 1, "next_page": None}
    for bad in ("0", "-1", "two"):
        refused = client.get("/data", params={"page": bad})
        assert refused.status_code == 400 and "positive integer" in refused.json()["detail"]


def test_without_page_size_the_page_parameter_is_ignored(serve: Any) -> None:
    client, _ = serve(data={"items": ORDERS}, responses=[ApiResponse()])
    assert client.get("/data", params={"page": 2}).json() == {"items": ORDERS}


def test_every_page_takes_a_turn_of_the_script(serve: Any) -> None:
    client, _ = serve(data=ORDERS, page_size=2, responses=[ApiResponse(), ApiResponse(status=503)])
    assert client.get("/data", params={"page": 1}).status_code == 200
    assert client.get("/data", params={"page": 2}).status_code == 503  # the second request, whatever its page
    assert client.get("/data", params={"page": 2}).json()["page"] == 2


def test_a_429_with_retry_after_refuses_early_requests_without_taking_a_turn(serve: Any) -> None:
    script = [ApiResponse(status=429, retry_after=1), ApiResponse(status=503)]
    client, other = serve(data=ORDERS, page_size=5, responses=script)
    limited = client.get("/data")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    early = client.get("/data")  # at once: still refused, with what is left of the second (rounded up)
    assert early.status_code == 429 and early.headers["Retry-After"] == "1"
    time.sleep(1.05)
    # The early request took no turn: the next one is the script's second answer, then the data.
    assert client.get("/data").status_code == 503
    assert client.get("/data").json()["items"] == ORDERS
    # The other side has its own limiter and its own turns.
    assert httpx.get(f"{other}/data", headers=client.headers).status_code == 429


def test_a_503_can_carry_retry_after_too_and_a_plain_429_none(serve: Any) -> None:
    script = [ApiResponse(status=503, retry_after=2), ApiResponse(status=429)]
    client, _ = serve(data=ORDERS, responses=script)
    down = client.get("/data")
    assert down.status_code == 503 and down.headers["Retry-After"] == "2"
    assert client.get("/data").status_code == 503  # within the two seconds
    time.sleep(2.05)
    plain = client.get("/data")
    assert plain.status_code == 429 and "Retry-After" not in plain.headers
    assert client.get("/data").status_code == 200  # no window after a 429 without Retry-After


def test_retry_after_as_an_http_date_names_a_whole_second(serve: Any) -> None:
    client, _ = serve(data=ORDERS, responses=[ApiResponse(status=429, retry_after=1, retry_after_date=True)])
    limited = client.get("/data")
    until = email.utils.parsedate_to_datetime(limited.headers["Retry-After"])
    left = until.timestamp() - time.time()
    assert limited.status_code == 429 and 1 <= left <= 2.05 and until.timestamp() % 1 == 0
    early = client.get("/data")
    assert early.status_code == 429 and early.headers["Retry-After"] == limited.headers["Retry-After"]
    time.sleep(max(0.0, until.timestamp() - time.time()) + 0.02)
    assert client.get("/data").status_code == 200


def test_a_wrong_or_missing_token_is_refused_and_takes_no_turn(serve: Any) -> None:
    client, _ = serve(data=ORDERS, page_size=2, responses=[ApiResponse(status=503)])
    url = str(client.base_url)
    assert httpx.get(f"{url}/data").status_code == 401
    wrong = httpx.get(f"{url}/data", params={"page": 2}, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "missing or wrong bearer token"}
    assert client.get("/data").status_code == 503  # the script's first turn is still there
    assert client.get("/nope").status_code == 404


def test_health_needs_no_token_and_reports_a_slow_start_per_side(serve: Any) -> None:
    client, other = serve(data=ORDERS, not_ready_checks=2)
    url = str(client.base_url)
    assert [httpx.get(f"{url}/health").status_code for _ in range(3)] == [503, 503, 200]
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{other}/health").json() == {"status": "starting"}  # the other side's first check
    assert client.get("/data").json() == ORDERS  # /data does not wait for /health


def test_an_api_without_scripts_keeps_its_shared_address() -> None:
    secrets = make_secrets(["token"])
    with running_apis([HttpApi(name="o", token_secret="token", data=[], page_size=1)], secrets) as variables:
        assert httpx.get(f"{variables['http.o.url']}/health").status_code == 200
    with running_apis([HttpApi(name="o", token_secret="token", data=[], not_ready_checks=1)], secrets) as variables:
        assert "http.o.url" not in variables  # a count shared by both sides would depend on who asks first


def test_the_spec_refuses_what_the_server_cannot_serve() -> None:
    with pytest.raises(ValidationError, match="retry_after goes with a 429 or a 503"):
        ApiResponse(status=500, retry_after=1)
    with pytest.raises(ValidationError, match="page_size needs data that is a list"):
        HttpApi(name="o", token_secret="t", data={"orders": []}, page_size=2)
    with pytest.raises(ValidationError):
        ApiResponse(status=429, retry_after=-1)
    with pytest.raises(ValidationError, match="retry_after_date needs a retry_after"):
        ApiResponse(status=429, retry_after_date=True)
