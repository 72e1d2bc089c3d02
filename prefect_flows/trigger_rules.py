"""Trigger rules in Prefect: allow_failure for all_done, and state checks in the flow for everything else.

Nightly regional sales: each region drops its day's orders as `<exports_dir>/<region>.csv` (`order_id,amount`).
An extract succeeds (the export has orders), fails (the export is missing or corrupt) or skips itself (the export
is empty: the region is closed today). Seven downstream tasks, one per Airflow trigger rule, run or not according
to the extracts' states.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from prefect import allow_failure, flow, get_run_logger, task
from prefect.futures import PrefectFuture, as_completed, wait
from prefect.states import Completed, State

Region = Literal["eu", "us", "apac"]
REGIONS: tuple[Region, ...] = ("eu", "us", "apac")


# [START trigger_rules_extract]
@task
def extract(region: Region, exports_dir: Path) -> int | State:
    export = exports_dir / f"{region}.csv"
    # No export at all: the region's source is down. open() raises FileNotFoundError, and the task fails.
    with export.open(newline="", encoding="utf-8") as lines:
        orders = list(csv.DictReader(lines))
    if not orders:
        # Ran, and decided there is nothing to do: Completed, named Skipped (Prefect has no skipped state type).
        return Completed(name="Skipped", message=f"{region} sent an empty export: closed today, nothing to extract")
    for line, order in enumerate(orders, start=2):
        try:
            float(order.get("amount") or "")
        except ValueError:
            raise ValueError(f"{export}:{line}: {order.get('amount')!r} is not an amount") from None
    get_run_logger().info("%s: %d orders", region, len(orders))
    return len(orders)


# One task per region, named as Airflow's task ids are.
extract_eu = extract.with_options(name="extract_eu")
extract_us = extract.with_options(name="extract_us")
extract_apac = extract.with_options(name="extract_apac")
EXTRACTS = {"eu": extract_eu, "us": extract_us, "apac": extract_apac}


def outcome(state: State) -> Literal["success", "skipped", "failed"]:
    """An upstream's final state in Airflow's words, which is what every trigger rule counts."""
    if state.is_completed():
        return "skipped" if state.name == "Skipped" else "success"
    return "failed"


# [END trigger_rules_extract]


@task
def load_all(rows: dict[Region, int]) -> int:
    return sum(rows.values())


@task
def load_available(rows: dict[Region, int]) -> dict:
    return {"rows": sum(rows.values()), "regions": sorted(rows)}


@task
def publish_report() -> str:
    return "report published"


@task
def alert_on_failure(region: Region) -> str:
    # Unlike the Airflow task, this one is told which region failed: the flow has the states in hand.
    return f"on-call paged: {region} failed"


@task
def warm_cache() -> str:
    return "dashboard cache warming"


@task
def audit_sources() -> str:
    return "every source was tried tonight"


@task
def cleanup() -> str:
    return "staging area emptied"


# [START trigger_rules_flow]
@flow(name="trigger-rules")
def trigger_rules(exports_dir: Path = Path("/data/sales/exports")) -> dict | None:
    """Extract every region's export, then run each of the seven tasks when its Airflow trigger rule would."""
    futures = {region: EXTRACTS[region].submit(region, exports_dir) for region in REGIONS}

    # all_done: the one rule Prefect has built in, besides the default. allow_failure lets cleanup start once
    # every extract is final, whatever the state.
    later: list[PrefectFuture] = [cleanup.submit(wait_for=[allow_failure(f) for f in futures.values()])]

    # one_failed / one_success fire on the first upstream that qualifies, while the others may still run.
    alerted = warming = False
    for future in as_completed(list(futures.values())):
        # wait() returns at once here, and records the final state on the future; without it, `state` is read
        # back from the API, where it can still say Running.
        future.wait()
        result = outcome(future.state)
        if result == "failed" and not alerted:
            region = next(r for r, f in futures.items() if f is future)
            later.append(alert_on_failure.submit(region))
            alerted = True
        if result == "success" and not warming:
            later.append(warm_cache.submit())
            warming = True

    # Every other rule is a test on the extracts' final states.
    states = {region: outcome(f.state) for region, f in futures.items()}
    failed = [r for r, s in states.items() if s == "failed"]
    skipped = [r for r, s in states.items() if s == "skipped"]
    rows = {r: futures[r].result() for r, s in states.items() if s == "success"}

    # all_success. Passing the futures to load_all would not do: a Skipped-named state is Completed, so
    # Prefect would run load_all after a skip, where Airflow skips it.
    if not failed and not skipped:
        later.append(load_all.submit(rows))
    loaded = None
    if not failed and rows:  # none_failed_min_one_success
        loaded = load_available.submit(rows)
        later.append(loaded)
    if not failed:  # none_failed
        later.append(publish_report.submit())
    if not skipped:  # none_skipped: failures are fine
        later.append(audit_sources.submit())
    wait(later)

    # The run's final state. Airflow derives it from the leaf tasks: load_all, load_available and publish_report
    # are leaves and end upstream_failed when an extract fails, so the DAG run fails then, and only then. A flow
    # run's state is what the flow returns or raises: returning normally here would be Completed, failed
    # extracts or not. So say it.
    if failed:
        raise RuntimeError(f"extract failed for {', '.join(failed)}")
    return loaded.result() if loaded else None


# [END trigger_rules_flow]


if __name__ == "__main__":
    trigger_rules.serve(name="nightly")
