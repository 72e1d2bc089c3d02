"""The harness's own fixtures: placeholders and the authenticated API both sides call."""

from __future__ import annotations

import httpx
import pytest

from cookbook.fixtures import PlaceholderError, expand, make_secrets, running_apis
from cookbook.recipe import HttpApi


def test_placeholders_fill_nested_values() -> None:
    value = {"a": ["${workdir}/in", {"b": "x-${secret.t}"}], "n": 3}
    assert expand(value, {"workdir": "/w", "secret.t": "s"}) == {"a": ["/w/in", {"b": "x-s"}], "n": 3}


def test_airflow_templates_are_left_alone() -> None:
    assert expand("{{ ds }} {{ params.x }}", {}) == "{{ ds }} {{ params.x }}"


def test_an_unknown_placeholder_is_an_error_that_hides_secret_values() -> None:
    with pytest.raises(PlaceholderError, match=r"unknown placeholder \$\{nope\}") as err:
        expand("${nope}", {"workdir": "/w", "secret.t": "hidden-value"})
    assert "hidden-value" not in str(err.value)


def test_secrets_are_fresh_each_time() -> None:
    assert make_secrets(["t"]) != make_secrets(["t"])


def test_the_api_answers_only_with_the_right_token() -> None:
    secrets = make_secrets(["token"])
    spec = HttpApi(name="orders", token_secret="token", data={"orders": [1, 2]})
    with running_apis([spec], secrets) as variables:
        url = variables["http.orders.url"]
        assert url.startswith("http://127.0.0.1:")
        token = secrets["secret.token"]
        assert httpx.get(f"{url}/data").status_code == 401
        assert httpx.get(f"{url}/data", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = httpx.get(f"{url}/data", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json() == {"orders": [1, 2]}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/data", timeout=2)
