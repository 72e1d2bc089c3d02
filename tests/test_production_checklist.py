"""Every flow is production code: it passes the checklist (`cookbook.checklist`) against the DAG it translates."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from cookbook.checklist import TEST_ONLY, check, main
from cookbook.recipe import PROJECT_ROOT, discover

RECIPES = discover()


@pytest.mark.parametrize("name", RECIPES)
def test_the_flow_passes_the_production_checklist(name: str) -> None:
    recipe = RECIPES[name]
    misses = check(recipe.flow_file, recipe.dag_file)
    assert not misses, f"{recipe.flow_file.relative_to(PROJECT_ROOT)}:\n" + "\n".join(map(str, misses))


def test_no_dag_or_flow_keeps_a_parameter_only_a_test_needs() -> None:
    """The grep the issue asks for: no fault switch or harness folder by name, anywhere in the deployed code."""
    word = re.compile(
        r"\b(fail_times|broken_table|broken_partition|cleanup_error|bad_row|slow_tries|long_wait|workdir)\b"
    )
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}"
        for folder in ("airflow_dags", "prefect_flows")
        for path in sorted((PROJECT_ROOT / folder).glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if word.search(line)
    ]
    assert not found, "\n".join(found)


GOOD_FLOW = '''
"""Loads the day's orders."""

from prefect import flow, get_run_logger, task


@task(retries=2, timeout_seconds=60)
def load(inbox: str) -> int:
    get_run_logger().info("loading %s", inbox)
    return 1


@flow
def orders(inbox: str = "/data/inbox") -> int:
    """The nightly load."""
    return load(inbox)


if __name__ == "__main__":
    orders.serve(name="nightly")
'''

GOOD_DAG = """
from datetime import timedelta
from airflow.sdk import dag, task, Param

@dag(params={"inbox": Param("/data/inbox")}, default_args={"retries": 2, "execution_timeout": timedelta(minutes=1)})
def orders():
    @task
    def load(): ...
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_a_flow_that_meets_every_item_passes(tmp_path: Path) -> None:
    assert check(write(tmp_path, "flow.py", GOOD_FLOW), write(tmp_path, "dag.py", GOOD_DAG)) == []


@pytest.mark.parametrize(
    ("change", "missed"),
    [
        (('"""Loads the day\'s orders."""\n', ""), "no module docstring"),
        (('    """The nightly load."""\n', ""), "flow orders() has no docstring"),
        (("def load(inbox: str)", "def load(inbox)"), "load() has parameters without a type hint: inbox"),
        (("def load(inbox: str) -> int:", "def load(inbox: str):"), "load() has no return type hint"),
        (("inbox: str = ", "fail_times: int = 0, inbox: str = "), "takes 'fail_times', a parameter only a test"),
        (("from prefect import", "import cookbook\nfrom prefect import"), "imports cookbook"),
        (('    get_run_logger().info("loading %s", inbox)\n', ""), "never calls get_run_logger()"),
        (('    get_run_logger().info("loading %s", inbox)\n', "    get_run_logger()\n    print(inbox)\n"), "print()"),
        (('orders.serve(name="nightly")', "print(orders())"), "neither serves nor deploys"),
        (('if __name__ == "__main__":\n    orders.serve(name="nightly")\n', ""), "no `if __name__"),
        (("retries=2, ", ""), "the DAG retries, the flow never does"),
        ((", timeout_seconds=60", ""), "the DAG has a timeout, the flow has none"),
        (("return 1", 'return len(os.environ["API_TOKEN"])'), "reads the secret API_TOKEN from the environment"),
    ],
)
def test_each_item_is_checked(tmp_path: Path, change: tuple[str, str], missed: str) -> None:
    old, new = change
    assert old in GOOD_FLOW
    flow = write(tmp_path, "flow.py", GOOD_FLOW.replace(old, new))
    misses = [str(m) for m in check(flow, write(tmp_path, "dag.py", GOOD_DAG))]
    assert any(missed in m for m in misses), misses


def test_a_dag_param_only_a_test_needs_is_named(tmp_path: Path) -> None:
    dag = write(tmp_path, "dag.py", GOOD_DAG.replace('"inbox": Param', '"slow_tries": Param(0), "inbox": Param'))
    assert [str(m) for m in check(write(tmp_path, "flow.py", GOOD_FLOW), dag)] == [
        "line 4: the DAG's Param 'slow_tries' is there only for a test"
    ]


def test_a_block_may_build_itself_from_the_environment(tmp_path: Path) -> None:
    """The secret still lands in a Block's SecretStr field (the connections recipe's fallback)."""
    block = "import os\nfrom prefect.blocks.core import Block\n\n\nclass Api(Block):\n    @classmethod\n"
    block += '    def from_env(cls) -> "Api":\n        return cls(token=os.environ["API_TOKEN"])\n'
    flow = write(tmp_path, "flow.py", GOOD_FLOW.replace("from prefect import", block + "from prefect import", 1))
    assert check(flow) == []


@pytest.mark.parametrize("name", ["workdir", "fail_times", "broken_table", "bad_row", "slow_tries", "cleanup_error"])
def test_the_test_only_names_are_recognised(name: str) -> None:
    assert TEST_ONLY.match(name)


@pytest.mark.parametrize("name", ["inbox", "export_dir", "orders_api_url", "max_rows", "region"])
def test_domain_names_are_not_taken_for_test_switches(name: str) -> None:
    assert not TEST_ONLY.match(name)


def test_the_command_line_prints_the_misses_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow = write(tmp_path, "flow.py", GOOD_FLOW.replace('    """The nightly load."""\n', ""))
    assert main([str(flow)]) == 1
    assert "flow orders() has no docstring" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.py")]) == 2
