"""Settings shared by the team's DAGs: one place for owners, retries and alerting."""

from datetime import timedelta

ALERT_EMAILS = ["data-alerts@example.com"]

DEFAULT_ARGS = {
    "owner": "data-platform",
    "depends_on_past": False,
    "email": ALERT_EMAILS,
    "email_on_failure": True,
    "email_on_retry": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(hours=1),
}

WAREHOUSE_ARGS = {**DEFAULT_ARGS, "pool": "warehouse", "queue": "heavy"}
