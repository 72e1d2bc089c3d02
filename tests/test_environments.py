"""Each side runs with only its own engine installed, at the versions the cookbook documents."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cookbook.harness import engine_python


def run_python(engine: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(engine_python(engine)), "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("engine", "other"), [("airflow", "prefect"), ("prefect", "airflow")])
def test_the_other_engine_is_not_installed(engine: str, other: str) -> None:
    result = run_python(engine, f"import {other}")
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


@pytest.mark.parametrize(
    ("engine", "package", "version"),
    [("airflow", "apache-airflow", "3.3.2"), ("prefect", "prefect", "3.8.8")],
)
def test_engine_versions(engine: str, package: str, version: str) -> None:
    result = run_python(engine, f"from importlib.metadata import version; print(version({package!r}))")
    assert result.stdout.strip() == version


def test_the_harness_venv_has_no_engine() -> None:
    for module in ("airflow", "prefect"):
        result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        assert result.returncode != 0
