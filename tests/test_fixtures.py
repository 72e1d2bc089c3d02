"""The harness's own fixtures: placeholders and the authenticated API both sides call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cookbook.fixtures import PlaceholderError, expand, make_secrets, running_apis
from cookbook.recipe import ApiResponse, HttpApi


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


def test_scripted_responses_are_counted_per_side() -> None:
    secrets = make_secrets(["token"])
    script = [ApiResponse(status=503), ApiResponse(after_seconds=1.0)]
    spec = HttpApi(name="orders", token_secret="token", data={"orders": []}, responses=script)
    auth = {"Authorization": f"Bearer {secrets['secret.token']}"}
    with running_apis([spec], secrets) as variables:
        assert "http.orders.url" not in variables  # one count for both sides would depend on who asks first
        airflow, prefect = variables["http.orders.airflow.url"], variables["http.orders.prefect.url"]
        assert airflow != prefect and variables["http.orders.prefect.port"] in prefect
        assert httpx.get(f"{airflow}/data").status_code == 401  # a wrong token takes no turn
        assert httpx.get(f"{airflow}/data", headers=auth).status_code == 503
        with pytest.raises(httpx.ReadTimeout):  # the second answer is held back past the client's timeout
            httpx.get(f"{airflow}/data", headers=auth, timeout=0.3)
        ok = httpx.get(f"{airflow}/data", headers=auth)
        assert ok.status_code == 200 and ok.json() == {"orders": []}
        assert httpx.get(f"{prefect}/data", headers=auth).status_code == 503  # the other side's own first turn
        slow = httpx.get(f"{prefect}/data", headers=auth, timeout=5)
        assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.9


def test_a_webhook_records_posts_to_its_secret_path_only() -> None:
    from cookbook.fixtures import running_webhooks, settle

    with running_webhooks(["alerts"], ("airflow", "prefect")) as hooks:
        airflow, prefect = hooks["airflow"]["alerts"], hooks["prefect"]["alerts"]
        assert airflow.url != prefect.url and airflow.token not in prefect.url
        assert httpx.post(airflow.url, json={"text": "failed"}).status_code == 204
        assert httpx.post(airflow.url, content=b"plain").status_code == 204
        wrong = airflow.url.rsplit("/", 1)[0] + "/guess"
        assert httpx.post(wrong, json={"text": "x"}).status_code == 404
        settle([airflow, prefect], quiet=0.05)
        assert airflow.messages() == [{"text": "failed"}, "plain"]
        assert prefect.messages() == []


def test_a_delayed_directory_stands_where_a_task_must_write_its_file(tmp_path: Any) -> None:
    from cookbook.protocol import Job
    from cookbook.recipe import DelayedFile
    from cookbook.workers.common import job_context

    spec = DelayedFile(path="out/2026-11-06.json", directory=True)
    job = Job(recipe="r", case="c", source_file="f.py", dag_id="d", flow_name="f", workdir=str(tmp_path))
    with job_context(job.model_copy(update={"delayed_files": [spec]})), pytest.raises(IsADirectoryError):
        (tmp_path / spec.path).write_text("{}")
    with pytest.raises(ValueError, match="a directory has no content"):
        DelayedFile(path="x", directory=True, content="a")
