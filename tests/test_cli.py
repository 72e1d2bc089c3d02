"""The command line as a user meets it: exit codes, one-line errors, and the bad pairs under tests/pairs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PAIRS_ROOT

from cookbook.harness import _group_alive
from cookbook.recipe import discover, recipe_names

COOKBOOK = [sys.executable, "-m", "cookbook.cli"]


def cookbook(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COOKBOOK, *args], capture_output=True, text=True, timeout=timeout)


def test_list_shows_every_recipe() -> None:
    result = cookbook("list")
    assert result.returncode == 0
    for name in discover():
        assert name in result.stdout


def test_an_unknown_recipe_is_one_line_naming_the_valid_ones() -> None:
    result = cookbook("compare", "nope")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown recipe 'nope'" in lines[0]
    assert all(name in lines[0] for name in recipe_names())
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_case_lists_the_recipes_cases() -> None:
    result = cookbook("compare", "xcom", "--case", "nope")
    assert result.returncode == 2
    assert "its cases: " in result.stderr and "default_orders" in result.stderr


def test_a_stack_compare_checks_names_before_the_stack(tmp_path: Path) -> None:
    env = {**os.environ, "COOKBOOK_STACK_DIR": str(tmp_path / "no-stack")}
    typo = subprocess.run([*COOKBOOK, "stack", "compare", "nope"], capture_output=True, text=True, env=env)
    assert typo.returncode == 2 and "unknown recipe 'nope'" in typo.stderr
    down = subprocess.run([*COOKBOOK, "stack", "compare", "xcom"], capture_output=True, text=True, env=env)
    assert down.returncode != 0 and "`make stack` first" in " ".join(down.stderr.split())
    assert "Traceback" not in typo.stderr + down.stderr


def test_a_folder_that_is_no_cookbook_is_a_usage_error(tmp_path: Path) -> None:
    result = cookbook("--root", str(tmp_path), "list")
    assert result.returncode == 2 and "has no recipes/ folder" in result.stderr


def worker_pids() -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "cookbook.workers." in text and str(PAIRS_ROOT) in text:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.parity
def test_bad_pairs_are_reported_by_side_and_nothing_is_left_running(tmp_path: Path) -> None:
    report = tmp_path / "runs.json"
    result = cookbook("--root", str(PAIRS_ROOT), "compare", "--json", str(report))
    assert result.returncode == 1, result.stdout + result.stderr
    runs = {run["recipe"]: run for run in json.loads(report.read_text())}

    def notes(name: str) -> list[str]:
        return [f"{d['aspect']} {d['where']} {d['note']}" for d in runs[name]["verdict"]["differences"]]

    # A deliberately wrong result is a mismatch at the result's path.
    assert [d["where"] for d in runs["wrong_result"]["verdict"]["differences"]] == ["result"]
    # A DAG that fails to import: its error, named by side.
    assert runs["broken_dag"]["airflow"]["error"]["kind"] == "import_error"
    assert "ModuleNotFoundError" in runs["broken_dag"]["airflow"]["error"]["message"]
    assert notes("broken_dag") == [
        f"execution airflow {'import_error: ' + runs['broken_dag']['airflow']['error']['message']}"
    ]
    # A side that hangs is killed after the recipe's timeout, and named.
    assert runs["hangs"]["prefect"]["error"]["kind"] == "timeout"
    assert "prefect side gave no result within 4 s" in runs["hangs"]["prefect"]["error"]["message"]
    # A secret printed by a task is caught without printing it.
    assert notes("leaky") == ["execution prefect.log prefect: secret.token appears in its log"]
    # After a side was killed, the batch goes on with a fresh worker.
    assert runs["pair_ok"]["verdict"]["parity"] is True
    # A file the case waits for (from runs it should have caused) that never appears fails it on both sides.
    for engine in ("airflow", "prefect"):
        error = runs["awaits_missing"][engine]["error"]
        assert error["kind"] == "timeout"
        assert "awaited files did not appear" in error["message"] and "never_written.txt" in error["message"]
    assert runs["awaits_missing"]["verdict"]["parity"] is False
    # Both sides failed in the same task, for different reasons: the classes are compared, not only the states.
    wrong_error = runs["wrong_error"]["verdict"]
    assert wrong_error["status"] == "mismatch"
    assert [(d["aspect"], d["where"]) for d in wrong_error["differences"]] == [
        ("expectation", "errors.total"),
        ("error", "total"),
    ]
    assert "it failed with KeyError" in wrong_error["differences"][0]["note"]
    # The recipe's own block function failing is the recipe's failure (before the run), not the harness's.
    assert runs["broken_block"]["prefect"]["error"]["kind"] == "import_error"
    assert "block 'alerts_block' gave a NoneType, not a Block" in runs["broken_block"]["prefect"]["error"]["message"]
    assert runs["broken_block"]["verdict"]["status"] == "mismatch"
    # Our own code failing is a harness break, never a mismatch the translation is blamed for.
    assert runs["harness_broke"]["prefect"]["error"]["kind"] == "harness_error"
    assert runs["harness_broke"]["verdict"]["status"] == "harness_error"
    summary = " ".join(result.stdout.split())
    assert "HARNESS BROKE: 1/9 cases match" in summary
    mismatched = ["wrong_result", "wrong_error", "broken_block", "broken_dag", "hangs", "leaky", "awaits_missing"]
    assert f"7 mismatch: {', '.join(f'{name}/default' for name in mismatched)}" in summary
    assert "1 harness broke: harness_broke/default" in summary
    assert "Traceback" not in result.stdout + result.stderr
    leftovers = [pid for pid in worker_pids() if _group_alive(pid)]
    assert leftovers == []
