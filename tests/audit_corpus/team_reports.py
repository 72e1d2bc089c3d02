"""Two DAGs built from the team's shared defaults (common/defaults.py)."""

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, chain

from common.defaults import DEFAULT_ARGS, WAREHOUSE_ARGS

with DAG(
    dag_id="team_reports",
    default_args=DEFAULT_ARGS,
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["reports"],
    doc_md=__doc__,
):
    begin = EmptyOperator(task_id="begin")
    render = BashOperator(task_id="render", bash_command="render.sh {{ ds }}")
    publish = BashOperator(task_id="publish", bash_command="publish.sh {{ run_id }}")
    chain(begin, render, publish)

with DAG(
    dag_id="team_warehouse_refresh",
    default_args=WAREHOUSE_ARGS,
    schedule="30 4 * * 1-5",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
):
    refresh = BashOperator(task_id="refresh", bash_command="refresh.sh {{ dag.dag_id }}")
