"""`make deploy`: apply prefect.yaml to the running stack's server with Prefect's own CLI."""

from __future__ import annotations

import subprocess

import yaml

from cookbook.recipe import PROJECT_ROOT
from cookbook.stack.config import StackConfig, StackError
from cookbook.stack.deployments import PREFECT_YAML
from cookbook.stack.stack import PREFECT_BIN, prefect_env, running


def deploy(cfg: StackConfig) -> list[str]:
    if not any(p.name == "prefect-server" for p in running(cfg)):
        raise StackError(f"no Prefect server of the stack is running in {cfg.run_dir}; `make stack` first")
    log = cfg.log_dir / "deploy.log"
    with log.open("ab") as out:
        answer = subprocess.run(
            [
                str(PREFECT_BIN / "python"),
                "-m",
                "cookbook.stack.prefect_cli",
                "--no-prompt",
                "deploy",
                "--all",
                "--prefect-file",
                str(PREFECT_YAML),
            ],
            cwd=PROJECT_ROOT,
            env=prefect_env(cfg),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if answer.returncode != 0:
        raise StackError(f"`prefect deploy --all` failed ({answer.returncode}); see {log}")
    return [d["name"] for d in yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]]
