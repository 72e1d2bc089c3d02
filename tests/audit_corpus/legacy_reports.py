"""Nightly reports, written for Airflow 2.4 and never ported."""

from datetime import timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.dummy import DummyOperator
from airflow.operators.python import BranchPythonOperator, PythonOperator
from airflow.operators.subdag import SubDagOperator
from airflow.utils.dates import days_ago
from airflow.utils.trigger_rule import TriggerRule

default_args = {
    "owner": "reports",
    "depends_on_past": True,
    "email_on_failure": True,
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
    "sla": timedelta(hours=2),
}

dag = DAG(
    "legacy_reports",
    default_args=default_args,
    schedule_interval="0 3 * * *",
    start_date=days_ago(2),
    catchup=False,
    max_active_runs=1,
    concurrency=4,
)


def extract(**kwargs):
    ti = kwargs["ti"]
    day = kwargs["execution_date"].strftime("%Y-%m-%d")
    ti.xcom_push(key="day", value=day)
    return day


def choose(**context):
    if context["dag_run"].conf.get("full"):
        return "full_report"
    return "daily_report"


def build_section(parent, child, args):
    sub = DAG(f"{parent}.{child}", default_args=args, schedule_interval="@daily")
    DummyOperator(task_id="placeholder", dag=sub)
    return sub


start = DummyOperator(task_id="start", dag=dag)
pull = PythonOperator(task_id="extract", python_callable=extract, provide_context=True, dag=dag)
branch = BranchPythonOperator(task_id="choose", python_callable=choose, provide_context=True, dag=dag)
daily = BashOperator(task_id="daily_report", bash_command="report.sh {{ ds }} {{ execution_date }}", dag=dag)
full = BashOperator(task_id="full_report", bash_command="report.sh --full {{ prev_ds }}", dag=dag)
sections = SubDagOperator(task_id="sections", subdag=build_section("legacy_reports", "sections", default_args), dag=dag)
done = DummyOperator(task_id="done", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, dag=dag)

start.set_downstream(pull)
pull >> branch >> [daily, full]
sections.set_upstream(pull)
done << [daily, full, sections]
