"""Email in Prefect: a daily sales report sent with prefect-email's `email_send_message` task through a saved
`EmailServerCredentials` block, and a failure mail to on-call from a task `on_failure` hook.

`build_report` reads the day's sales export, `<data_dir>/sales.csv` (`day,region,amount` rows written by the shop's
nightly job), and builds the report's subject and HTML body; `send_report` mails it to `recipients`. Any task that
fails after its last try mails `oncall` with the task and the error. Both mails go through the block
`smtp-reports`, saved once by an operator, for example
`EmailServerCredentials(smtp_server="relay.internal", smtp_port=25, smtp_type="INSECURE", username="reports",
password="<password>").save("smtp-reports")` (`STARTTLS` or `SSL` for a relay outside the machine's network).

Run it as a module (`python -m prefect_flows.email`), not as `python prefect_flows/email.py`: a script's folder
comes first on `sys.path`, and a file named `email.py` there hides the standard library's `email` package.
"""

from __future__ import annotations

import asyncio
import csv
import smtplib
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from prefect import Task, flow, get_run_logger, task
from prefect.client.schemas.objects import TaskRun
from prefect.runtime import flow_run
from prefect.states import State
from prefect_email import EmailServerCredentials, email_send_message

SMTP_BLOCK = "smtp-reports"
SENDER = "reports@shop.example.com"
RECIPIENTS = ("sales-leads@shop.example.com", "finance@shop.example.com")
ONCALL = "data-oncall@shop.example.com"


# [START email_hook]
def _send(credentials: EmailServerCredentials, message: EmailMessage) -> None:
    with credentials.get_server() as server:
        server.send_message(message)


async def mail_oncall(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> None:
    """A task on_failure hook (after the last try): mail on-call the task and the error, as Airflow's notifier does.

    Async, because send_report is prefect-email's async task: its hooks run in an async context, where
    `Block.load()` and `state.result()` return coroutines. The engine awaits an async hook on a sync task too.
    It sends with the block's own SMTP client instead of calling `email_send_message`: a task called from a hook
    would be one more task run of the flow. A hook that raises is logged by Prefect, not retried.
    """
    error = await state.aresult(raise_on_failure=False)
    message = EmailMessage()
    message["Subject"] = f"{flow_run.flow_name}: {task.name} failed"
    message["From"] = SENDER
    message["To"] = flow_run.parameters["oncall"]
    message.set_content(f"{task.name} failed on try {task_run.run_count} of {task.retries + 1}: {error}", "html")
    credentials = await EmailServerCredentials.aload(SMTP_BLOCK)
    await asyncio.to_thread(_send, credentials, message)


# [END email_hook]


# [START email_tasks]
@task(on_failure=[mail_oncall])
def build_report(data_dir: str) -> dict[str, str]:
    path = Path(data_dir) / "sales.csv"
    with path.open(newline="", encoding="utf-8") as export:
        rows = list(csv.DictReader(export))
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        # A row the export job left half-written ("n/a", "") fails the task with ValueError.
        totals[row["region"]] += float(row["amount"])
    day = rows[0]["day"] if rows else "no sales"
    lines = [f"<tr><td>{region}</td><td>{amount:.2f}</td></tr>" for region, amount in sorted(totals.items())]
    summary = f"<p>Sales for {day}: {len(rows)} orders, {sum(totals.values()):.2f} EUR.</p>"
    html = "\n".join([summary, "<table>", *lines, "</table>"])
    get_run_logger().info("built the report for %s from %d rows", day, len(rows))
    return {"subject": f"Daily sales report: {day}", "html": html}


async def retry_unless_login_refused(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Airflow's RetryRule(exception=SMTPAuthenticationError, action=FAIL): a retry sends the same password."""
    error = await state.aresult(raise_on_failure=False)
    return not isinstance(error, smtplib.SMTPAuthenticationError)


# prefect-email's task, under the DAG's task_id, with the EmailOperator's retries: a relay that answers 4xx (busy,
# greylisting) is tried again a second later.
send_report = email_send_message.with_options(
    name="send_report",
    retries=1,
    retry_delay_seconds=1,
    retry_condition_fn=retry_unless_login_refused,
    on_failure=[mail_oncall],
)
# [END email_tasks]


# [START email_flow]
@flow(name="email")
def email(data_dir: str, recipients: tuple[str, ...] = RECIPIENTS, oncall: str = ONCALL) -> None:
    """Build the day's sales report from `<data_dir>/sales.csv` and mail it to `recipients`.

    A task that fails (a half-written export, a relay that refuses the login or the message twice) mails `oncall`
    with the task's name and the error.
    """
    report = build_report(data_dir)
    # Loaded in the flow and handed to the task, as prefect-email's examples do; the password is a SecretStr.
    credentials = EmailServerCredentials.load(SMTP_BLOCK)
    # email_send_message is an async task: called from a sync flow it would return a coroutine that never runs.
    # submit() runs it on the task runner; result() waits for it and raises its error, failing the run.
    sent = send_report.submit(
        subject=report["subject"],
        msg=report["html"],
        email_server_credentials=credentials,
        email_from=SENDER,
        email_to=list(recipients),
    )
    sent.result()


# [END email_flow]


if __name__ == "__main__":
    email.serve(name="email", cron="0 6 * * *", parameters={"data_dir": "/srv/exports/sales"})
