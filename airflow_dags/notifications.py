"""Notifications in Airflow 3: a BaseNotifier that posts JSON to a webhook, as a task on_failure_callback and a
DAG on_success_callback, next to the deprecated email_on_failure.

`extract` reads the batch from `<inbox>/<batch>.json`, a list of {"id", "amount"} rows that an upstream system
drops there. `load` rejects rows without an amount (one retry, so a bad batch fails twice): the failing task posts
one alert. A good batch posts one success message for the whole run. The webhook URL is the password of the
`alerts_webhook` connection, so it never appears in the DAG, in a param, or (masked) in a log.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
from airflow.sdk import DAG, BaseHook, BaseNotifier, Context, Param, task


# [START notifications_notifier]
class WebhookNotifier(BaseNotifier):
    """POST {"title": ..., "text": ...} to the webhook whose URL is the password of an Airflow connection."""

    # Rendered with the callback's context before notify(): {{ ti.task_id }}, {{ params.batch }}, {{ exception }}...
    template_fields = ("title", "text")

    def __init__(self, *, title: str, text: str, conn_id: str = "alerts_webhook", timeout: float = 10.0) -> None:
        super().__init__()
        self.title = title
        self.text = text
        self.conn_id = conn_id
        self.timeout = timeout

    def get_template_env(self, dag=None):
        # apache/airflow#64649: under `airflow dags test` (dag.test()) a DAG callback's context holds the
        # scheduler's SerializedDAG, which cannot make a Jinja environment, and the notifier fails before it
        # sends anything. Fall back to the sandboxed environment a notifier without a DAG gets.
        if dag is not None and not hasattr(dag, "get_template_env"):
            dag = None
        return super().get_template_env(dag)

    def notify(self, context: Context) -> None:
        # Read at call time, on whichever machine runs the callback: a worker for task callbacks, the DAG
        # processor for DAG callbacks. Both need the connection.
        url = BaseHook.get_connection(self.conn_id).password
        try:
            response = httpx.post(url, json={"title": self.title, "text": self.text}, timeout=self.timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            # httpx puts the URL in its messages, and this URL is a credential: report without it.
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            raise RuntimeError(f"the {self.conn_id} webhook did not take the alert ({status})") from None


# [END notifications_notifier]

# [START notifications_dag]
alert_on_failure = WebhookNotifier(
    title="{{ dag.dag_id }}, batch {{ params.batch }}: {{ ti.task_id }} failed",
    text="{{ ti.task_id }} failed on try {{ ti.try_number }} of {{ ti.max_tries + 1 }}: {{ exception }}",
)
announce_success = WebhookNotifier(
    title="{{ dag.dag_id }}, batch {{ params.batch }}: published",
    text="every row loaded and published",
)

with DAG(
    dag_id="notifications",
    schedule=None,
    params={
        "batch": Param("2026-11-22", type="string"),
        "inbox": Param(
            "/data/inbox", type="string", description="Holds <batch>.json: a list of {id, amount}; amount may be null."
        ),
    },
    default_args={
        "retries": 1,
        "retry_delay": timedelta(seconds=1),
        # Per task, after its last try: one alert per failed task, not one per run.
        "on_failure_callback": [alert_on_failure],
        # The built-in alternative, deprecated in Airflow 3: an SMTP email per failed task, sent through the
        # smtp_default connection. Without an SMTP server the send fails, is logged, and changes nothing.
        "email": ["data-oncall@example.com"],
        "email_on_failure": True,
        "email_on_retry": False,
    },
    # Per run, once every task is done and the run succeeded.
    on_success_callback=[announce_success],
    tags=["cookbook"],
) as dag:

    @task
    def extract(params: dict | None = None) -> list[dict]:
        assert params is not None
        path = Path(params["inbox"]) / f"{params['batch']}.json"
        return json.loads(path.read_text(encoding="utf-8"))

    @task
    def load(rows: list[dict]) -> int:
        missing = [row["id"] for row in rows if row.get("amount") is None]
        if missing:
            raise ValueError(f"{len(missing)} row(s) without an amount: {', '.join(missing)}")
        return len(rows)

    @task
    def publish(loaded: int, params: dict | None = None) -> dict:
        assert params is not None
        return {"batch": params["batch"], "rows": loaded}

    publish(load(extract()))
# [END notifications_dag]
