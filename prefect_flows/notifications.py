"""Notifications in Prefect: a saved CustomWebhookNotificationBlock, called from a task on_failure hook and a flow
on_completion hook.

`extract` reads the batch from `<inbox>/<batch>.json`, a list of {"id", "amount"} rows that an upstream system
drops there. `load` rejects rows without an amount (one retry, so a bad batch fails twice): the failing task posts
one alert. A good batch posts one success message for the whole run. The webhook URL lives in the block's
secrets, so it never appears in the flow, in a parameter, or in a log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from prefect import Flow, Task, flow, get_run_logger, task
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.runtime import flow_run as current_flow_run
from prefect.states import State

ALERTS_BLOCK = "data-alerts"


# [START notifications_block]
def alerts_webhook(url: str) -> CustomWebhookNotificationBlock:
    """The block an operator saves once, in the UI or with `alerts_webhook(url).save("data-alerts")`.

    The block fills `{{subject}}`, `{{body}}` and `{{name}}` (and its secrets) into the request; the JSON is
    the same {"title": ..., "text": ...} that the Airflow notifier posts.
    """
    return CustomWebhookNotificationBlock(
        name=ALERTS_BLOCK,
        # The whole URL is the credential (its path holds the token), so it is a secret, filled in at send time.
        url="{{webhook_url}}",
        secrets={"webhook_url": url},
        json_data={"title": "{{subject}}", "text": "{{body}}"},
    )


def send_alert(subject: str, body: str) -> None:
    block = CustomWebhookNotificationBlock.load(ALERTS_BLOCK)
    try:
        block.notify(body, subject)
    except httpx.HTTPError as exc:
        # httpx puts the URL in its messages, and this URL is a credential: report without it.
        status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
        raise RuntimeError(f"the {ALERTS_BLOCK} webhook did not take the alert ({status})") from None


# [END notifications_block]


# [START notifications_hooks]
def alert_on_failure(task: Task, task_run: TaskRun, state: State) -> None:
    # A task hook: (task, task_run, state). The flow's name and parameters come from the runtime context.
    batch = current_flow_run.parameters["batch"]
    error = state.result(raise_on_failure=False)
    send_alert(
        subject=f"{current_flow_run.flow_name}, batch {batch}: {task.name} failed",
        body=f"{task.name} failed on try {task_run.run_count} of {task.retries + 1}: {error}",
    )


def announce_success(flow: Flow, flow_run: FlowRun, state: State) -> None:
    # A flow hook: (flow, flow_run, state), once the run is Completed.
    send_alert(
        subject=f"{flow.name}, batch {flow_run.parameters['batch']}: published",
        body="every row loaded and published",
    )


def alert_on_crash(flow: Flow, flow_run: FlowRun, state: State) -> None:
    # The flow's process died (out of memory, SIGKILL, a lost node), so no task hook ran. Under a worker, the
    # runner that started the process calls this hook; Airflow runs a killed task's on_failure_callback in
    # the DAG processor instead.
    send_alert(
        subject=f"{flow.name}, batch {flow_run.parameters['batch']}: run crashed",
        body=state.message or "the flow run's process exited",
    )


# Airflow's default_args, spelled out once and given to every task.
TASK_DEFAULTS: dict[str, Any] = {"retries": 1, "retry_delay_seconds": 1, "on_failure": [alert_on_failure]}


@task(**TASK_DEFAULTS)
def extract(inbox: str, batch: str) -> list[dict[str, Any]]:
    path = Path(inbox) / f"{batch}.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    get_run_logger().info("read %s rows from %s", len(rows), path)
    return rows


@task(**TASK_DEFAULTS)
def load(rows: list[dict[str, Any]]) -> int:
    missing = [row["id"] for row in rows if row.get("amount") is None]
    if missing:
        raise ValueError(f"{len(missing)} row(s) without an amount: {', '.join(missing)}")
    get_run_logger().info("loaded %s rows", len(rows))
    return len(rows)


@task(**TASK_DEFAULTS)
def publish(loaded: int, batch: str) -> dict[str, Any]:
    return {"batch": batch, "rows": loaded}


@flow(name="notifications", on_completion=[announce_success], on_crashed=[alert_on_crash])
def notifications(batch: str = "2026-11-22", inbox: str = "/data/inbox") -> dict[str, Any]:
    """Load and publish the batch in `<inbox>/<batch>.json`, and tell the team on the `data-alerts` webhook how it went.

    A row without an amount fails `load` (after one retry, a second later) and posts one alert naming the task and
    the error; a batch that loads posts one "published" message for the run. A crashed run posts an alert too.
    """
    return publish(load(extract(inbox, batch)), batch)


# [END notifications_hooks]


if __name__ == "__main__":
    notifications.serve(name="notifications")
