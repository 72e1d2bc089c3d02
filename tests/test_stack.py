"""The real stack on 127.0.0.1: Prefect server, process worker and Airflow's components, as production runs them.

One stack per module, in its own run directory, ports and PostgreSQL databases, so a stack the user runs is never
touched. Marked `stack` (slow: about a minute to come up).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from cookbook.recipe import PROJECT_ROOT, load_recipe
from cookbook.report import Outcome
from cookbook.stack import processes
from cookbook.stack.compare import PrefectApi, compare_case, judge, stack_reports
from cookbook.stack.config import HOST, StackConfig
from cookbook.stack.deploy import deploy
from cookbook.stack.sockets import listeners
from cookbook.stack.stack import (
    PREFECT_BIN,
    down,
    link_into_flows_root,
    prefect_env,
    running,
    start_worker,
    status,
    up,
)

pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    if not (PREFECT_BIN / "prefect").exists():
        pytest.skip("the Prefect venv is missing (make setup)")
    cfg = StackConfig(tmp_path_factory.mktemp("stack"), _free_port(), _free_port())
    began = time.perf_counter()
    try:
        up(cfg)
        print(f"\nstack up in {time.perf_counter() - began:.1f} s")
        deploy(cfg)
        yield cfg
    finally:
        down(cfg)
        assert not running(cfg)


def test_status_lists_every_component(stack: StackConfig) -> None:
    names = {row.name for row in status(stack) if row.alive}
    assert names == {
        "prefect-server",
        "prefect-worker",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    }


def test_everything_listens_on_loopback_only(stack: StackConfig) -> None:
    pids = [pid for p in processes.recorded(stack.pid_dir) for pid in (p.pid, *processes.descendants(p.pid))]
    found = listeners(pids)
    ports = {item.port for item in found}
    assert {stack.prefect_port, stack.airflow_port} <= ports
    assert all(item.loopback for item in found), [f"{i.address}:{i.port} (pid {i.pid})" for i in found]


def test_deployment_run_on_the_worker_matches_airflow_under_its_scheduler(stack: StackConfig) -> None:
    recipe = load_recipe(PROJECT_ROOT / "recipes" / "xcom.md")
    for case in ("default_orders", "too_many_rejected"):
        run = compare_case(stack, recipe, recipe.cases_by_name[case])
        assert run.verdict.parity, run.verdict.differences
        assert run.prefect.run_state == run.airflow.run_state
    assert run.prefect.tasks["check_rejected"].outcome == "failed"
    first = compare_case(stack, recipe, recipe.cases_by_name["default_orders"])
    # The same values the in-process run of the flow returns (recipes/xcom.md: three sample orders, one rejected).
    assert first.prefect.result == {"valid_count": 2, "rejected_count": 1, "total": 155.5}


def test_dated_subflow_and_mapped_cases_stay_at_parity_when_compared_again(stack: StackConfig) -> None:
    # A stack keeps its runs: the dated case's second compare meets the first one's runs (its own DAG's and the
    # upstream run it triggered), and on Prefect the earlier upstream runs for that date, which the sensor must
    # not mistake for this run's (it did: it took the highest run id, and ids are random).
    cases = [("external_task_sensor", "upstream_succeeds"), ("task_groups", "default_orders")]
    cases += [("dynamic_mapping", "negative_amount")]
    last = {}
    for _ in range(2):
        for name, case in cases:
            recipe = load_recipe(PROJECT_ROOT / "recipes" / f"{name}.md")
            last[name] = run = compare_case(stack, recipe, recipe.cases_by_name[case])
            assert run.verdict.parity, (name, case, run.verdict.differences)
    assert last["external_task_sensor"].prefect.result == last["external_task_sensor"].airflow.result is not None
    assert last["task_groups"].prefect.tasks["enrich.score.rank"].outcome == "success"  # a task of a subflow


def test_a_mapped_task_on_the_stack_is_judged_as_recorded_and_a_different_multiset_fails(stack: StackConfig) -> None:
    recipe = load_recipe(PROJECT_ROOT / "recipes" / "dynamic_mapping.md")
    case = recipe.cases_by_name["negative_amount"]
    reports = stack_reports(stack, recipe, case)
    # What the Prefect server recorded, before any alignment: as many validate runs as orders, exactly the ones the
    # case expects to fail among them (its expectation, not the Airflow side, says which).
    recorded = {name: t.outcome for name, t in reports["prefect"].tasks.items() if name.startswith("validate[")}
    expected_failures = sum(1 for pattern in case.expect.errors if pattern.startswith("validate"))
    assert sorted(recorded.values()).count(Outcome.FAILED) == expected_failures >= 1
    assert len(recorded) == len([n for n in reports["airflow"].tasks if n.startswith("validate[")])
    assert judge(recipe, case, reports).verdict.parity
    # One more failed run on the Prefect side is a different multiset: the verdict must see it.
    tampered = reports["prefect"].model_copy(deep=True)
    succeeded = next(n for n, outcome in recorded.items() if outcome is Outcome.SUCCESS)
    tampered.tasks[succeeded] = tampered.tasks[succeeded].model_copy(
        update={"outcome": Outcome.FAILED, "error_type": "ValueError"}
    )
    verdict = judge(recipe, case, {"airflow": reports["airflow"], "prefect": tampered}).verdict
    assert not verdict.parity
    assert any(d.aspect in ("tasks", "expectation") for d in verdict.differences)


def test_files_written_to_a_relative_path_stay_out_of_the_checkout(stack: StackConfig) -> None:
    recipe = load_recipe(PROJECT_ROOT / "recipes" / "params.md")
    run = compare_case(stack, recipe, recipe.cases_by_name["defaults"])
    assert run.verdict.parity, run.verdict.differences
    # params writes out/nightly.json relative to its working directory: each engine has its own, in the run dir.
    assert (stack.airflow_cwd / "out" / "nightly.json").is_file()
    assert (stack.flows_root / "out" / "nightly.json").is_file()
    assert not (PROJECT_ROOT / "out" / "nightly.json").exists()


def test_prefect_deployment_run_cli_watches_to_completed(stack: StackConfig) -> None:
    answer = subprocess.run(
        [str(PREFECT_BIN / "prefect"), "deployment", "run", "xcom/xcom", "--watch", "--watch-interval", "1"],
        env=prefect_env(stack),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout[-2000:] + answer.stderr[-2000:]
    assert "Completed" in answer.stdout


def test_the_server_schedules_runs_of_a_deployment_with_a_schedule(stack: StackConfig) -> None:
    """prefect.yaml's schedules are live: the server's scheduler creates the runs, in the schedule's timezone.

    (With SQLAlchemy 2.1, Prefect 3.8.8's scheduler service failed on every insert and created no run at all.)
    """
    api = PrefectApi(stack)
    deployment = api.client.get("/deployments/name/dataset-refresh/weekday-morning").raise_for_status().json()
    query = {
        "deployments": {"id": {"any_": [deployment["id"]]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
    }
    deadline = time.monotonic() + 60
    while not (runs := api.client.post("/flow_runs/filter", json=query).raise_for_status().json()):
        assert time.monotonic() < deadline, "the scheduler service created no run within 60 s"
        time.sleep(1)
    amsterdam = ZoneInfo("Europe/Amsterdam")
    for run in runs:
        local = datetime.fromisoformat(run["expected_start_time"]).astimezone(amsterdam)
        assert (local.hour, local.minute) == (6, 0) and local.weekday() < 5, local


SLOW_FLOW = "tests/stack_flows/slow.py:slow"  # test-only: prefect.yaml stays one deployment per recipe
CRASHED_WITHIN = 120.0  # the zombie automation allows 45 s without a heartbeat, plus its evaluation


def _deploy_slow_flow(stack: StackConfig, api: PrefectApi) -> str:
    # Prefect's own `prefect deploy`, through the project's wrapper (see cookbook.stack.prefect_cli); the pull step
    # is prefect.yaml's (the checkout), which the command reads but does not change.
    wrapper = [str(PREFECT_BIN / "python"), "-m", "cookbook.stack.prefect_cli", "--no-prompt"]
    # Flow runs start in the stack's flow root, which links in prefect_flows/ only: add this test's flow folder.
    link_into_flows_root(stack, "tests/stack_flows")
    answer = subprocess.run(
        [*wrapper, "deploy", SLOW_FLOW, "--name", "slow", "--pool", "default"],
        env=prefect_env(stack),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout[-2000:] + answer.stderr[-2000:]
    return api.client.get("/deployments/name/slow/slow").raise_for_status().json()["id"]


def _wait_until(what: str, timeout: float, check: Callable[[], object]) -> float:
    """Seconds until `check()` is true; fails the test after `timeout`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:.0f} s")


def _pid_gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def test_a_killed_worker_crashes_its_run_and_a_new_worker_takes_the_next(stack: StackConfig) -> None:
    api = PrefectApi(stack)
    deployment_id = _deploy_slow_flow(stack, api)
    created = api.client.post(f"/deployments/{deployment_id}/create_flow_run", json={"parameters": {"seconds": 600}})
    flow_run_id = created.raise_for_status().json()["id"]

    def state() -> str:
        return api.client.get(f"/flow_runs/{flow_run_id}").raise_for_status().json()["state_type"]

    def heartbeats() -> int:
        body = {
            "filter": {
                "event": {"name": ["prefect.flow-run.heartbeat"]},
                "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
            },
            "limit": 10,
        }
        return len(api.client.post("/events/filter", json=body).raise_for_status().json()["events"])

    _wait_until("the slow run was not Running", 120, lambda: state() == "RUNNING")
    # The zombie automation starts counting from a heartbeat: the run must have sent one before it dies.
    _wait_until("the slow run sent no heartbeat", 60, heartbeats)

    # The worker dies with its machine: SIGKILL its group and everything it started (each flow run has a session
    # of its own, so the group alone would leave the run going).
    worker = next(p for p in processes.recorded(stack.pid_dir) if p.name == "prefect-worker")
    tree = processes.descendants(worker.pid)
    assert tree, "the worker had not started the flow run's process"
    killed = time.monotonic()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _wait_until("the worker or its flow run survived SIGKILL", 10, lambda: all(map(_pid_gone, [worker.pid, *tree])))
    assert state() == "RUNNING"  # the server has not been told: only the missed heartbeats can say so

    _wait_until("the killed run was not Crashed", CRASHED_WITHIN, lambda: state() != "RUNNING")
    crashed = time.monotonic() - killed
    flow_run = api.client.get(f"/flow_runs/{flow_run_id}").raise_for_status().json()
    assert flow_run["state_type"] == "CRASHED", flow_run["state"]
    print(f"\nkilled run Crashed {crashed:.1f} s after the kill: {flow_run['state']['message']}")

    # A new worker, started as `stack up` does (its pid file replaces the dead one's, so `stack down` stops it).
    began = time.monotonic()
    new_worker = start_worker(stack)
    assert any(p.name == "prefect-worker" and p.pid == new_worker.pid for p in running(stack))
    next_run = api.run_deployment("xcom", "xcom", {}, timeout=120)
    assert next_run["state_type"] == "COMPLETED", next_run["state"]
    print(f"the next run Completed on a new worker {time.monotonic() - began:.1f} s after it started")


def test_airflow_api_rejects_calls_without_a_token(stack: StackConfig) -> None:
    assert httpx.get(f"{stack.airflow_url}/api/v2/dags", timeout=10).status_code in (401, 403)
    bad = httpx.post(f"{stack.airflow_url}/auth/token", json={"username": "admin", "password": "wrong"}, timeout=10)
    assert bad.status_code in (401, 403)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "COOKBOOK_STACK_DIR": str(tmp_path), "COOKBOOK_STACK_PREFECT_PORT": str(port)}
        answer = subprocess.run(
            [str(PROJECT_ROOT / ".venv" / "bin" / "cookbook"), "stack", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert answer.returncode == 2
    assert f"port {port} on 127.0.0.1 is taken" in answer.stderr
    assert not list(tmp_path.glob("pids/*.pid"))


def _prefect_server(tmp_path: Path, port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        **extra,
    }
    log = (tmp_path / "server.log").open("wb")
    return subprocess.Popen(
        [str(PREFECT_BIN / "prefect"), "server", "start", "--host", HOST, "--port", str(port), "--no-services"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_up(url: str, proc: subprocess.Popen[bytes], headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the Prefect server exited"
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail("the Prefect server did not come up")


def test_prefect_basic_auth_and_csrf_on_a_real_server(tmp_path: Path) -> None:
    port = _free_port()
    auth = "admin:s3cret-" + base64.b16encode(os.urandom(4)).decode()
    proc = _prefect_server(
        tmp_path,
        port,
        {"PREFECT_SERVER_API_AUTH_STRING": auth, "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true"},
    )
    api = f"http://{HOST}:{port}/api"
    good = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()}
    try:
        _wait_up(f"{api}/health", proc, good)
        assert httpx.get(f"{api}/admin/version", timeout=10).status_code == 401
        assert httpx.get(f"{api}/admin/version", headers=good, timeout=10).status_code == 200
        # CSRF on: a state-changing call without a token is refused, while Prefect's own client (which fetches
        # a token first) still works.
        assert httpx.post(f"{api}/flows/", json={"name": "raw"}, headers=good, timeout=10).status_code == 403
        code = (
            "from prefect.client.orchestration import get_client\n"
            "from prefect.client.schemas.actions import FlowCreate\n"
            "with get_client(sync_client=True) as c:\n"
            "    print(c.create_flow_from_name('through-the-client'))\n"
        )
        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": auth, "PREFECT_HOME": str(tmp_path)}
        client = subprocess.run(
            [str(PREFECT_BIN / "python"), "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert client.returncode == 0, client.stderr[-2000:]
        env_wrong = {**env, "PREFECT_API_AUTH_STRING": "admin:wrong"}
        refused = subprocess.run(
            [str(PREFECT_BIN / "python"), "-c", code], env=env_wrong, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode != 0
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
