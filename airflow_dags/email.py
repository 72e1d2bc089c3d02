"""Email in Airflow 3: a daily sales report sent with the smtp provider's EmailOperator, and a failure mail to
on-call from an SmtpNotifier, the supported successor of the deprecated `email_on_failure`.

`build_report` reads the day's sales export, `<data_dir>/sales.csv` (`day,region,amount` rows written by the shop's
nightly job), and builds the report's subject and HTML body; `send_report` mails it to `recipients`. Any task that
fails after its last try mails `oncall` with the task and the error. Both mails go through the SMTP connection
`smtp_reports`: host, port, login and password, plus the extras a plain relay needs, for example
`AIRFLOW_CONN_SMTP_REPORTS='{"conn_type": "smtp", "host": "relay.internal", "port": 25, "login": "reports",
"password": "<password>", "extra": {"disable_ssl": true, "disable_tls": true, "retry_limit": 0}}'`.
"""

from __future__ import annotations

import csv
import logging
import smtplib
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.providers.smtp.operators.smtp import EmailOperator
from airflow.sdk import DAG, ExceptionRetryPolicy, Param, RetryAction, RetryRule, task

SMTP_CONN_ID = "smtp_reports"
SENDER = "reports@shop.example.com"
log = logging.getLogger(__name__)

# [START email_notifier]
# The task_id and the error, rendered with the failed task's context after its last try. Airflow's own
# email_on_failure mail (subject "Airflow alert: <TaskInstance ...>", a body with the log URL and the host) is
# not used: it is deprecated in Airflow 3 and its content changes with every run and machine.
mail_oncall = SmtpNotifier(
    smtp_conn_id=SMTP_CONN_ID,
    from_email=SENDER,
    to="{{ params.oncall }}",
    subject="{{ dag.dag_id }}: {{ ti.task_id }} failed",
    html_content="{{ ti.task_id }} failed on try {{ ti.try_number }} of {{ ti.max_tries + 1 }}: {{ exception }}",
)
# [END email_notifier]


# [START email_dag]
with DAG(
    dag_id="email",
    schedule="0 6 * * *",
    catchup=False,
    params={
        "data_dir": Param(
            "/srv/exports/sales",
            type="string",
            description="Holds sales.csv, the day's export: day,region,amount rows.",
        ),
        "recipients": Param(
            ["sales-leads@shop.example.com", "finance@shop.example.com"],
            type="array",
            items={"type": "string"},
            description="Who gets the report.",
        ),
        "oncall": Param("data-oncall@shop.example.com", type="string", description="Who hears about failures."),
    },
    default_args={
        # A callback per task, after its last try: replaces email=[...] + email_on_failure=True.
        "on_failure_callback": [mail_oncall],
    },
    tags=["cookbook"],
) as dag:

    @task(multiple_outputs=True)
    def build_report(params: dict[str, Any] | None = None) -> dict[str, str]:
        assert params is not None
        path = Path(params["data_dir"]) / "sales.csv"
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
        log.info("built the report for %s from %d rows", day, len(rows))
        return {"subject": f"Daily sales report: {day}", "html": html}

    report = build_report()

    send_report = EmailOperator(
        task_id="send_report",
        conn_id=SMTP_CONN_ID,
        from_email=SENDER,
        # A templated list renders as its Python repr; the hook splits a string on "," and ";".
        to="{{ params.recipients | join(',') }}",
        # multiple_outputs pushes each key as its own XCom, so report["subject"] is one of them.
        subject=report["subject"],
        html_content=report["html"],
        # A relay that answers 4xx (busy, greylisting) is tried again a second later; a refused login is not.
        retries=1,
        retry_delay=timedelta(seconds=1),
        retry_policy=ExceptionRetryPolicy(
            rules=[
                RetryRule(
                    exception=smtplib.SMTPAuthenticationError,
                    action=RetryAction.FAIL,
                    reason="the relay refused the login: a retry sends the same password",
                )
            ]
        ),
    )
# [END email_dag]
