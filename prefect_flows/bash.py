"""BashOperator in Prefect: `subprocess.run` where the exit code or stdout matter, ShellOperation elsewhere.

`write_report` writes two files, `check_rows` exits 0 (fine), 99 (nothing to do: skipped) or 3 (too many
rows: failed), and `summarize` turns the last line of an awk command into the run's result.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.states import Completed, State
from prefect_shell import ShellOperation
from pydantic import DirectoryPath, Field

# [START bash_scripts]
# Values reach the shell as variables or arguments, never pasted into the script text: Jinja's
# `{{ params.rows }}` became $ROWS, and `{{ params.max_rows }}` became the positional argument $1.
WRITE_REPORT = [
    "set -euo pipefail",
    "mkdir -p out",
    'seq 1 "$ROWS" > out/rows.txt',
    r"""printf 'site=%s\ngreeting=%s\nrows=%s\n' \
    "${DEPLOY_SITE:?must be set on the worker}" "$GREETING" "$ROWS" > out/header.txt""",
    "echo out/rows.txt",
]

SKIP_EXIT_CODE = 99
CHECK_ROWS = r"""
set -euo pipefail
max_rows=$1
rows=$(wc -l < out/rows.txt)
if [ "$rows" -eq 0 ]; then
    echo "out/rows.txt is empty: nothing to check"
    exit 99
fi
if [ "$rows" -gt "$max_rows" ]; then
    echo "$rows rows, at most $max_rows allowed" >&2
    exit 3
fi
echo "$rows"
"""

# No shell features needed, so no shell: awk gets its program and file as arguments.
SUMMARIZE = r"""{ total += $1 } END { printf "{\"rows\": %d, \"total\": %d}\n", NR, total }"""
# [END bash_scripts]


# [START bash_tasks]
@task
def write_report(report_dir: Path, rows: int, greeting: str) -> str:
    # ShellOperation merges env into a copy of os.environ (Airflow's append_env=True, and nothing else is
    # possible), streams every line to the run's logs, and kills the whole process group when it is done.
    lines = ShellOperation(
        commands=WRITE_REPORT,
        env={"ROWS": str(rows), "GREETING": greeting},
        working_dir=report_dir,
    ).run()
    # run() returns stdout's lines; the last one is what BashOperator would have pushed as its XCom.
    return lines[-1]


@task
def check_rows(report_dir: Path, max_rows: int) -> int | State:
    # subprocess.run, because the exit code decides the outcome; ShellOperation only raises a RuntimeError
    # that carries neither the code as an attribute nor stderr. No env=: the child inherits os.environ,
    # as a BashOperator without env= does.
    proc = subprocess.run(
        ["bash", "-c", CHECK_ROWS, "check_rows", str(max_rows)],
        cwd=report_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    logger = get_run_logger()
    for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        if text.strip():
            logger.info("%s:\n%s", stream, text.rstrip())
    if proc.returncode == SKIP_EXIT_CODE:
        # A returned state becomes the task run's final state: Completed, named Skipped, as Airflow shows it.
        return Completed(name="Skipped", message=f"exit code {SKIP_EXIT_CODE}: {proc.stdout.strip()}")
    if proc.returncode != 0:
        raise RuntimeError(f"check_rows exited with code {proc.returncode}: {proc.stderr.strip()}")
    return int(proc.stdout.split()[-1])


@task
def summarize(report_dir: Path, rows_file: str) -> dict[str, int]:
    proc = subprocess.run(
        ["awk", SUMMARIZE, rows_file],
        cwd=report_dir,
        capture_output=True,
        text=True,
        check=True,  # no exit code here means anything but failure
    )
    return json.loads(proc.stdout.splitlines()[-1])


@flow(name="bash")
def bash(
    # DirectoryPath checks that the directory exists before any task runs (BashOperator checks in the task).
    report_dir: DirectoryPath = Path("/tmp"),
    rows: Annotated[int, Field(ge=0)] = 3,
    max_rows: Annotated[int, Field(ge=0)] = 5,
    greeting: str = "hello",
) -> dict[str, int] | None:
    """Write the report under `report_dir`, check its rows, and sum them up (nothing to check: stop there)."""
    rows_file = write_report(report_dir, rows, greeting)
    checked = check_rows(report_dir, max_rows, return_state=True)
    if checked.name == "Skipped":
        # Airflow skips everything downstream of a skipped task; here, the flow simply stops calling tasks.
        return None
    checked.result()  # re-raises check_rows' error, so the run fails and summarize is never called
    return summarize(report_dir, rows_file)


# [END bash_tasks]


if __name__ == "__main__":
    bash.serve(name="bash")
