"""Trigger rules in Airflow 3: seven tasks after the same three extracts, one rule each.

Nightly regional sales: each region drops its day's orders as `<exports_dir>/<region>.csv` (`order_id,amount`).
An extract succeeds (the export has orders), fails (the export is missing or corrupt) or skips itself (the export
is empty: the region is closed today). Which of the seven downstream tasks run, and how the run ends, depends only
on the trigger rules.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from airflow.sdk import DAG, Param, TriggerRule, task
from airflow.sdk.exceptions import AirflowSkipException

REGIONS = ["eu", "us", "apac"]

log = logging.getLogger(__name__)

with DAG(
    dag_id="trigger_rules",
    schedule=None,
    params={
        "exports_dir": Param(
            "/data/sales/exports", type="string", description="Where each region's nightly <region>.csv lands."
        ),
    },
    tags=["cookbook"],
) as dag:
    # [START trigger_rules_extract]
    @task
    def extract(region: str, params: dict | None = None) -> int:
        assert params is not None
        export = Path(params["exports_dir"]) / f"{region}.csv"
        # No export at all: the region's source is down. open() raises FileNotFoundError, and the task fails.
        with export.open(newline="", encoding="utf-8") as lines:
            orders = list(csv.DictReader(lines))
        if not orders:
            # Ran, and decided there is nothing to do: the task ends "skipped", not "success".
            raise AirflowSkipException(f"{region} sent an empty export: closed today, nothing to extract")
        for line, order in enumerate(orders, start=2):
            try:
                float(order.get("amount") or "")
            except ValueError:
                raise ValueError(f"{export}:{line}: {order.get('amount')!r} is not an amount") from None
        log.info("%s: %d orders", region, len(orders))
        return len(orders)

    eu, us, apac = (extract.override(task_id=f"extract_{region}")(region) for region in REGIONS)
    extracts = [eu, us, apac]
    # [END trigger_rules_extract]

    # [START trigger_rules_rules]
    # all_success (the default): every extract succeeded. A skipped one skips it, a failed one makes it
    # upstream_failed.
    @task(trigger_rule=TriggerRule.ALL_SUCCESS)
    def load_all(eu: int, us: int, apac: int) -> int:
        return eu + us + apac

    # none_failed_min_one_success: nothing failed and at least one delivered. A skipped upstream's value is None.
    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def load_available(eu: int | None, us: int | None, apac: int | None) -> dict:
        delivered = {r: rows for r, rows in zip(REGIONS, (eu, us, apac), strict=True) if rows is not None}
        return {"rows": sum(delivered.values()), "regions": sorted(delivered)}

    # none_failed: nothing failed; skips are fine, even if every extract skipped.
    @task(trigger_rule=TriggerRule.NONE_FAILED)
    def publish_report() -> str:
        return "report published"

    # one_failed: as soon as one extract fails, without waiting for the others.
    @task(trigger_rule=TriggerRule.ONE_FAILED)
    def alert_on_failure() -> str:
        return "on-call paged"

    # one_success: as soon as one extract succeeds, without waiting for the others.
    @task(trigger_rule=TriggerRule.ONE_SUCCESS)
    def warm_cache() -> str:
        return "dashboard cache warming"

    # none_skipped: every extract ran (succeeded OR failed); runs after failures, not after a skip.
    @task(trigger_rule=TriggerRule.NONE_SKIPPED)
    def audit_sources() -> str:
        return "every source was tried tonight"

    # all_done: after every extract finished, whatever its state.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def cleanup() -> str:
        return "staging area emptied"

    load_all(eu, us, apac)
    load_available(eu, us, apac)
    extracts >> publish_report()
    extracts >> alert_on_failure()
    extracts >> warm_cache()
    extracts >> audit_sources()
    extracts >> cleanup()
    # [END trigger_rules_rules]
