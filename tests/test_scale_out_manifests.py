"""The work pool manifests of the scale_out recipe (deploy/scale_out/), validated statically: there is no cluster here.

- Structure, in the harness venv: each base job template parses, has Prefect's two keys (`job_configuration`,
  `variables`) and declares every placeholder it uses; the deployments file points at flows that exist.
- Prefect's own checks, in the Prefect venv (a subprocess), with the workers' own classes (prefect-kubernetes'
  KubernetesWorkerJobConfiguration, prefect-docker's DockerWorkerJobConfiguration): the server's `WorkPoolCreate`
  validator accepts each template; its job configuration uses only fields the worker reads (an unknown key is
  silently dropped by the worker, so a typo would change nothing without this check); each deployment's job
  variables validate against its pool's variables schema (the check `prefect deploy` makes); and the job
  configuration the worker builds for it (`from_template_and_values`, what the worker calls for each flow run) is
  a complete Kubernetes Job or container spec, with nothing left unfilled.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "scale_out"
PREFECT_PYTHON = ROOT / ".venvs" / "prefect" / "bin" / "python"
TEMPLATES = {"kubernetes": DEPLOY / "kubernetes-work-pool.json", "docker": DEPLOY / "docker-work-pool.json"}
POOL_TYPES = {"k8s-scale-out": "kubernetes", "docker-scale-out": "docker"}
PLACEHOLDER = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")


def template(kind: str) -> dict[str, Any]:
    return json.loads(TEMPLATES[kind].read_text(encoding="utf-8"))


def deployments() -> list[dict[str, Any]]:
    return yaml.safe_load((DEPLOY / "deployments.yaml").read_text(encoding="utf-8"))["deployments"]


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_template_structure(kind: str) -> None:
    data = template(kind)
    assert set(data) == {"job_configuration", "variables"}
    config, variables = data["job_configuration"], data["variables"]
    assert variables["type"] == "object"
    used = set(PLACEHOLDER.findall(json.dumps(config)))
    assert used <= set(variables["properties"]), f"undeclared: {used - set(variables['properties'])}"
    for name, spec in variables["properties"].items():
        assert "type" in spec or "allOf" in spec or "$ref" in spec, name


def test_kubernetes_job_manifest_shape() -> None:
    manifest = template("kubernetes")["job_configuration"]["job_manifest"]
    assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "Job")
    pod = manifest["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}  # a Job refuses Always
    # The worker puts the flow run's command and env into the container named prefect-job.
    (container,) = pod["containers"]
    assert container["name"] == "prefect-job"
    assert {"image", "args", "env", "resources"} <= set(container)


def test_deployments_point_at_existing_flows() -> None:
    for deployment in deployments():
        path, _, attribute = deployment["entrypoint"].partition(":")
        module = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {t.id for node in module.body if isinstance(node, ast.Assign) for t in node.targets if hasattr(t, "id")}
        names |= {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
        assert attribute in names, deployment["entrypoint"]
        assert deployment["work_pool"]["name"] in POOL_TYPES


PREFECT_CHECK = r"""
import asyncio, json, sys
from prefect.server.schemas.actions import WorkPoolCreate
from prefect.utilities.schema_tools import validate
from prefect.utilities.templating import find_placeholders
from prefect_docker.worker import DockerWorkerJobConfiguration
from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

WORKER_CONFIGURATION = {"kubernetes": KubernetesWorkerJobConfiguration, "docker": DockerWorkerJobConfiguration}


# These templates reference no Prefect block or variable, so the worker's resolution never calls its client.
class NoServer:
    def __getattr__(self, name):
        raise AssertionError(f"the template needs the API ({name}): it references a block or variable")


async def render(configuration, template, values):
    return await configuration.from_template_and_values(template, values, client=NoServer())


request = json.loads(sys.stdin.read())
out = {}
for pool in request["pools"]:
    template = pool["template"]
    WorkPoolCreate(name=pool["name"], type=pool["type"], base_job_template=template)  # raises if refused
    configuration = WORKER_CONFIGURATION[pool["type"]]
    unread = set(template["job_configuration"]) - set(configuration.model_fields)
    assert not unread, (pool["name"], "fields the worker does not read", sorted(unread))
    schema = template["variables"]
    defaults = configuration._get_base_config_defaults(schema.get("properties", {}))
    errors = validate(defaults, schema, preprocess=True, ignore_required=True)
    assert not errors, [e.message for e in errors]
    rendered = {}
    for name, job_variables in pool["deployments"].items():
        errors = validate(job_variables, schema, preprocess=True, ignore_required=True)
        assert not errors, (name, [e.message for e in errors])
        values = {**job_variables, "name": name, "command": "prefect flow-run execute"}
        config = asyncio.run(render(configuration, template, values)).model_dump(mode="json")
        assert not find_placeholders(json.dumps(config)), (name, find_placeholders(json.dumps(config)))
        rendered[name] = config
    out[pool["name"]] = rendered
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if not PREFECT_PYTHON.exists():
        pytest.skip("the Prefect venv (.venvs/prefect) is not set up")
    by_pool: dict[str, dict[str, Any]] = {name: {} for name in POOL_TYPES}
    for deployment in deployments():
        pool = deployment["work_pool"]
        by_pool[pool["name"]][deployment["name"]] = pool.get("job_variables", {})
    request = {
        "pools": [
            {"name": name, "type": kind, "template": template(kind), "deployments": by_pool[name]}
            for name, kind in POOL_TYPES.items()
        ]
    }
    done = subprocess.run(
        [str(PREFECT_PYTHON), "-c", PREFECT_CHECK],
        input=json.dumps(request),
        env={**os.environ, "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))},  # nothing of the user's
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_prefect_accepts_and_renders_kubernetes(rendered: dict[str, dict[str, Any]]) -> None:
    config = rendered["k8s-scale-out"]["scale-out-k8s"]
    container = config["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/cookbook/scale-out:2026-12-01"
    assert container["resources"]["requests"]["cpu"] == "2"  # the DaskTaskRunner's two worker processes
    assert container["resources"]["limits"]["memory"] == "2Gi"
    assert container["env"] == {"PREFECT_LOGGING_LEVEL": "INFO"}
    assert config["job_manifest"]["metadata"]["namespace"] == "prefect"
    assert config["job_manifest"]["spec"]["ttlSecondsAfterFinished"] == 3600


def test_prefect_accepts_and_renders_docker(rendered: dict[str, dict[str, Any]]) -> None:
    config = rendered["docker-scale-out"]["scale-out-docker"]
    assert config["image"] == "registry.example.com/cookbook/scale-out:2026-12-01"
    assert config["container_create_kwargs"] == {"nano_cpus": 1_000_000_000}  # one CPU: scale_out_on_one_worker
    assert config["mem_limit"] == "1g"
    assert config["auto_remove"] is True


def test_prefect_refuses_an_undeclared_placeholder() -> None:
    """The validator the tests rely on does refuse a broken template (so a pass above means something)."""
    if not PREFECT_PYTHON.exists():
        pytest.skip("the Prefect venv (.venvs/prefect) is not set up")
    broken = template("docker")
    broken["job_configuration"]["image"] = "{{ imagee }}"
    script = (
        "import json, sys\nfrom prefect.server.schemas.actions import WorkPoolCreate\n"
        "WorkPoolCreate(name='p', type='docker', base_job_template=json.loads(sys.stdin.read()))\n"
    )
    done = subprocess.run(
        [str(PREFECT_PYTHON), "-c", script], input=json.dumps(broken), capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0 and "imagee" in done.stderr


def test_celery_cases_need_the_scheduler_and_the_celery_executor() -> None:
    """The cases-file fields the scale_out recipe added: a Celery executor needs the scheduler, workers need Celery."""
    from cookbook.recipe import CasesFile

    case = {"name": "c", "airflow_workers": 2, "expect": {"run_state": "success", "tasks": {"t": "success"}}}
    assert (
        CasesFile.model_validate({"airflow_mode": "scheduler", "airflow_executor": "celery", "cases": [case]})
        .cases[0]
        .airflow_workers
        == 2
    )
    with pytest.raises(ValueError, match="needs airflow_mode: scheduler"):
        CasesFile.model_validate({"airflow_executor": "celery", "cases": [case]})
    with pytest.raises(ValueError, match="needs airflow_executor: celery"):
        CasesFile.model_validate({"airflow_mode": "scheduler", "cases": [case]})
