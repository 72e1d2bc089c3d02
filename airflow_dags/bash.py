"""BashOperator in Airflow 3: env and append_env, cwd, a templated command, skip_on_exit_code, @task.bash.

`write_report` writes two files, `check_rows` exits 0 (fine), 99 (nothing to do: skipped) or 3 (too many
rows: failed), and `summarize` turns the last line of an awk command into the run's result.
"""

from __future__ import annotations

import json
import shlex

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

# [START bash_scripts]
# `rows` is an integer Param, validated before the run starts, so templating it into the command text is safe.
# `greeting` is free text: it reaches the shell as the variable $GREETING and is never parsed as code.
# DEPLOY_SITE is not set by the DAG at all: it comes from the worker's environment.
WRITE_REPORT = r"""
set -euo pipefail
mkdir -p out
seq 1 {{ params.rows }} > out/rows.txt
printf 'site=%s\ngreeting=%s\nrows=%s\n' \
    "${DEPLOY_SITE:?must be set on the worker}" "$GREETING" "{{ params.rows }}" > out/header.txt
echo out/rows.txt
"""

# 0: fine; 99: nothing to check, a skip rather than a failure; anything else: a real failure.
CHECK_ROWS = r"""
set -euo pipefail
rows=$(wc -l < out/rows.txt)
if [ "$rows" -eq 0 ]; then
    echo "out/rows.txt is empty: nothing to check"
    exit 99
fi
if [ "$rows" -gt {{ params.max_rows }} ]; then
    echo "$rows rows, at most {{ params.max_rows }} allowed" >&2
    exit 3
fi
echo "$rows"
"""

SUMMARIZE = r"""awk '{ total += $1 } END { printf "{\"rows\": %d, \"total\": %d}\n", NR, total }'"""
# [END bash_scripts]

# [START bash_dag]
with DAG(
    dag_id="bash",
    schedule=None,
    params={
        "report_dir": Param(
            "/tmp", type="string", description="An existing directory: the commands run in it and write out/ there."
        ),
        "rows": Param(3, type="integer", minimum=0),
        "max_rows": Param(5, type="integer", minimum=0),
        "greeting": Param("hello", type="string"),
    },
    tags=["cookbook"],
) as dag:
    write_report = BashOperator(
        task_id="write_report",
        bash_command=WRITE_REPORT,
        # env is templated too. Without append_env=True it would REPLACE the worker's environment:
        # DEPLOY_SITE (and PATH, HOME, credentials...) would be gone.
        env={"GREETING": "{{ params.greeting }}"},
        append_env=True,
        # Left unset, cwd is a fresh temporary directory, deleted when the command ends: out/ would vanish.
        cwd="{{ params.report_dir }}",
    )

    check_rows = BashOperator(
        task_id="check_rows",
        bash_command=CHECK_ROWS,
        # 99 is the default; spelled out because the script's contract depends on it.
        skip_on_exit_code=99,
        cwd="{{ params.report_dir }}",
    )

    # @task.bash: the function returns the command, so Python can build it from upstream XComs at run time.
    # The command's last line of output is the XCom, and output_processor turns it into a dict.
    @task.bash(cwd="{{ params.report_dir }}", output_processor=json.loads)
    def summarize(rows_file: str) -> str:
        return f"{SUMMARIZE} {shlex.quote(rows_file)}"

    # write_report's XCom is its last line of output: the path it printed.
    summary = summarize(write_report.output)
    write_report >> check_rows >> summary
# [END bash_dag]
