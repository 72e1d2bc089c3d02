"""Jobs run elsewhere: a container, a shell on the batch host, an HTTP API, and an email when done."""

from datetime import datetime, timedelta

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.sdk import DAG

with DAG(
    "remote_jobs",
    schedule=timedelta(hours=6),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    dagrun_timeout=timedelta(hours=2),
    tags=["remote"],
) as dag:
    ready = HttpSensor(task_id="api_ready", http_conn_id="jobs_api", endpoint="health", poke_interval=60)
    submit = HttpOperator(
        task_id="submit",
        http_conn_id="jobs_api",
        endpoint="jobs",
        method="POST",
        data='{"run": "{{ run_id }}"}',
        response_filter=lambda response: response.json()["id"],
    )
    crunch = DockerOperator(task_id="crunch", image="registry.example.com/crunch:1.4", command="crunch {{ ds }}")
    archive = SSHOperator(task_id="archive", ssh_conn_id="batch_host", command="archive.sh {{ ds }}")
    notify = EmailOperator(
        task_id="notify",
        to="team@example.com",
        subject="{{ dag.dag_id }} done",
        html_content="Run {{ run_id }} finished.",
        trigger_rule="all_done",
    )
    ready >> submit >> crunch >> archive >> notify
