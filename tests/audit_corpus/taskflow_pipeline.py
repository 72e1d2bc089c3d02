"""A TaskFlow pipeline over object storage, with a skip, a fan-out and labelled edges."""

import pendulum
from airflow.configuration import conf
from airflow.exceptions import AirflowSkipException
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, Label, ObjectStoragePath, dag, get_current_context, task

RAW = ObjectStoragePath("s3://lake/raw/", conn_id="lake")
CLEAN = Asset("s3://lake/clean/")
PARALLELISM = conf.getint("core", "parallelism")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["lake", "taskflow"],
    doc_md="Cleans the raw files of a day. Triggered by the upload service.",
    render_template_as_native_obj=True,
    max_consecutive_failed_dag_runs=3,
    params={"day": "2025-01-01"},
)
def taskflow_pipeline():
    @task
    def list_files() -> list[str]:
        context = get_current_context()
        day = context["params"]["day"]
        files = [str(path) for path in (RAW / day).iterdir()]
        if not files:
            raise AirflowSkipException(f"nothing uploaded for {day}")
        return files

    @task(inlets=[Asset("s3://lake/raw/")], outlets=[CLEAN], retries=2)
    def clean(path: str) -> int:
        context = get_current_context()
        context["ti"].log.info("cleaning %s in run %s", path, context["run_id"])
        return len(ObjectStoragePath(path).read_text().splitlines())

    @task(trigger_rule="none_failed_min_one_success")
    def report(counts: list[int]) -> None:
        print(sum(counts))

    end = EmptyOperator(task_id="end")
    files = list_files()
    counts = clean.override(max_active_tis_per_dagrun=PARALLELISM).expand(path=files)
    files >> Label("one per file") >> counts
    report(counts) >> end


taskflow_pipeline()
