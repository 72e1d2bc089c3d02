"""Dataset refresh in Prefect: the capstone. Three vendor datasets, refreshed every weekday at 06:00 Amsterdam time.

Each dataset is fetched from the primary vendor (the secondary one when the primary is down), checked against its
Pydantic contract, stored as a point-in-time version keyed by the run's scheduled date, and announced with an event.
`prices` references `products` and `fx_rates`, so it is refreshed after them (level 1 after level 0).

The vendors are `VendorApi` blocks saved once per environment:
`VendorApi(base_url="https://api.vendor.example", token="<token>").save("vendor-primary")`, and "vendor-secondary".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from prefect import Task, flow, get_run_logger, task
from prefect.blocks.core import Block
from prefect.deployments.runner import RunnerDeployment
from prefect.events import emit_event
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.schedules import Cron
from pydantic import BaseModel, Field, SecretStr, ValidationError

BUSINESS_TZ = ZoneInfo("Europe/Amsterdam")


# [START contracts]
# The contracts: what a row must look like before anything downstream may read it. Fields a vendor adds are
# dropped (Pydantic's default, extra="ignore"): a new column must not stop the refresh, and it is not stored.
class Product(BaseModel):
    sku: str = Field(pattern=r"^SKU-\d{4}$")
    name: str = Field(min_length=1)
    category: str


class FxRate(BaseModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    per_eur: float = Field(gt=0)


class Price(BaseModel):
    sku: str = Field(pattern=r"^SKU-\d{4}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount: float = Field(gt=0)


@dataclass(frozen=True)
class Dataset:
    contract: type[BaseModel]
    # field -> (dataset, key field) it must exist in: a foreign key, and a dependency of the refresh.
    references: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def depends_on(self) -> list[str]:
        return sorted({dataset for dataset, _ in self.references.values()})


DATASETS: dict[str, Dataset] = {
    "products": Dataset(Product),
    "fx_rates": Dataset(FxRate),
    "prices": Dataset(Price, references={"sku": ("products", "sku"), "currency": ("fx_rates", "currency")}),
}
# [END contracts]


# What the tasks hand each other: small, typed, and JSON-friendly (they are results, which may be persisted).
class Fetched(BaseModel):
    vendor: str
    rows: list[dict[str, Any]]


class StoredVersion(BaseModel):
    dataset: str
    version: str
    vendor: str
    rows: int
    sha256: str
    changed: bool


class DatasetStatus(BaseModel):
    vendor: str
    rows: int
    sha256: str
    changed: bool


class RefreshSummary(BaseModel):
    version: str
    datasets: dict[str, DatasetStatus]


class VendorUnavailable(Exception):
    """An outage (connection refused, timeout, 5xx, 429): worth trying the other vendor."""


class ContractViolation(ValueError):
    pass


class DatasetsNotRefreshed(RuntimeError):
    pass


# [START fetch]
class VendorApi(Block):
    """Base URL and bearer token of a data vendor's API."""

    base_url: str
    token: SecretStr

    def get_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token.get_secret_value()}"},
            timeout=10,
        )


def get_rows(block_name: str, dataset: str) -> list[dict[str, Any]]:
    with VendorApi.load(block_name).get_client() as client:
        try:
            response = client.get("/data", params={"dataset": dataset})
        except httpx.TransportError as exc:
            raise VendorUnavailable(f"{block_name}: {exc!r}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise VendorUnavailable(f"{block_name}: HTTP {response.status_code}")
    # 401, 403, 404: our configuration is wrong, not the vendor down. Switching vendors would hide it for good.
    response.raise_for_status()
    return response.json()["datasets"][dataset]


@task
def fetch(dataset: str, primary: str, secondary: str) -> Fetched:
    try:
        return Fetched(vendor="primary", rows=get_rows(primary, dataset))
    except VendorUnavailable as exc:
        get_run_logger().warning("%s: primary vendor unavailable (%s); falling back to the secondary", dataset, exc)
        return Fetched(vendor="secondary", rows=get_rows(secondary, dataset))


# [END fetch]


# [START validate]
def version_key(moment: datetime) -> str:
    """The stored version's name: the run's date in the business timezone."""
    return moment.astimezone(BUSINESS_TZ).date().isoformat()


def violations(index: int, exc: ValidationError) -> list[dict[str, Any]]:
    # The error type, not its message: stable across Pydantic versions, and it never echoes the rejected value.
    return [{"row": index, "field": ".".join(map(str, e["loc"])), "error": e["type"]} for e in exc.errors()]


def read_version(root: Path, dataset: str, version: str) -> list[dict[str, Any]]:
    return json.loads((root / dataset / version / "data.json").read_text(encoding="utf-8"))["rows"]


@task
def validate(dataset: str, fetched: Fetched, root: Path, version: str) -> Fetched:
    spec = DATASETS[dataset]
    # The dependencies were stored for this same version before this task could start (level 1 after level 0).
    known = {
        name: {row[key] for row in read_version(root, ref, version)} for name, (ref, key) in spec.references.items()
    }
    rows, rejected = [], []
    for index, raw in enumerate(fetched.rows):
        try:
            row = spec.contract.model_validate(raw)
        except ValidationError as exc:
            rejected += violations(index, exc)
            continue
        missing = [name for name in spec.references if getattr(row, name) not in known[name]]
        rejected += [{"row": index, "field": name, "error": "unknown_reference"} for name in missing]
        if not missing:
            rows.append(row.model_dump())
    if rejected:
        # All or nothing: a half dataset joined downstream is worse than yesterday's whole one, which `latest`
        # keeps pointing at. The rejected rows are kept for the vendor ticket.
        quarantine = root / "_quarantine" / dataset / f"{version}.json"
        quarantine.parent.mkdir(parents=True, exist_ok=True)
        document = {"dataset": dataset, "version": version, "vendor": fetched.vendor, "rejected": rejected}
        quarantine.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        raise ContractViolation(f"{dataset}: {len(rejected)} contract violation(s), see {quarantine}")
    return Fetched(vendor=fetched.vendor, rows=rows)


# [END validate]


# [START store]
def write_version(root: Path, dataset: str, version: str, vendor: str, rows: list[dict[str, Any]]) -> StoredVersion:
    """Store `rows` as `<root>/<dataset>/<version>/data.json` and point `latest.json` at it. Idempotent."""
    document = {"dataset": dataset, "version": version, "vendor": vendor, "rows": rows}
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    target = root / dataset / version / "data.json"
    changed = not target.exists() or target.read_bytes() != data
    if changed:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (or a crash) never sees half a version.
        partial = target.with_name("data.json.partial")
        partial.write_bytes(data)
        partial.replace(target)
    pointer = root / dataset / "latest.json"
    current = json.loads(pointer.read_text(encoding="utf-8"))["version"] if pointer.exists() else ""
    # A re-run or backfill of an older date rewrites its own version but never moves `latest` backwards.
    if version >= current:
        partial = pointer.with_name("latest.json.partial")
        partial.write_text(json.dumps({"version": version, "path": f"{version}/data.json", "sha256": digest}) + "\n")
        partial.replace(pointer)
    return StoredVersion(
        dataset=dataset, version=version, vendor=vendor, rows=len(rows), sha256=digest, changed=changed
    )


@task
def store(dataset: str, valid: Fetched, root: Path, version: str) -> StoredVersion:
    return write_version(root, dataset, version, valid.vendor, valid.rows)


# [END store]


# [START announce]
def append_activity(root: Path, stored: StoredVersion) -> None:
    """One JSON line per refresh, the feed a catalog or an on-call channel reads."""
    with (root / stored.dataset / "activity.jsonl").open("a", encoding="utf-8") as feed:
        feed.write(json.dumps({"event": "dataset.refreshed", **stored.model_dump()}, sort_keys=True) + "\n")


@task
def announce(stored: StoredVersion, root: Path) -> StoredVersion:
    # An event on the Prefect server: automations and deployment triggers can match on the resource id
    # (a trigger with match={"prefect.resource.id": "dataset.prices"} starts a consumer deployment).
    event = emit_event(
        event="dataset.refreshed",
        resource={"prefect.resource.id": f"dataset.{stored.dataset}", "prefect.resource.name": stored.dataset},
        payload=stored.model_dump(),
    )
    # None when no events client is configured (no API URL): the refresh itself still counts.
    get_run_logger().info("event %s: dataset.refreshed %s %s", event and event.id, stored.dataset, stored.version)
    append_activity(root, stored)
    return stored


# [END announce]


@task
def summarize(announced: list[StoredVersion]) -> RefreshSummary:
    return RefreshSummary(
        version=announced[0].version,
        datasets={a.dataset: DatasetStatus.model_validate(a.model_dump()) for a in announced},
    )


# [START flow]
def dependency_levels(datasets: Mapping[str, Dataset]) -> list[list[str]]:
    """[["fx_rates", "products"], ["prices"]]: each level needs only datasets of the levels before it."""
    sorter = TopologicalSorter({name: spec.depends_on for name, spec in datasets.items()})
    sorter.prepare()
    levels = []
    while sorter.is_active():
        levels.append(sorted(sorter.get_ready()))
        sorter.done(*levels[-1])
    return levels


def submit_refresh(
    dataset: str, root: Path, version: str, vendors: tuple[str, str], after: list[PrefectFuture]
) -> PrefectFuture:
    """Submit one dataset's four steps, each named like the DAG's task id ("products.fetch")."""

    def step(t: Task) -> Task:
        return t.with_options(name=f"{dataset}.{t.name}")

    fetched = step(fetch).submit(dataset, *vendors, wait_for=after)
    valid = step(validate).submit(dataset, fetched, root, version)
    stored = step(store).submit(dataset, valid, root, version)
    return step(announce).submit(stored, root)


@flow(name="dataset-refresh")
def refresh(
    logical_date: datetime | None = None,
    store_root: Path = Path("store"),
    primary: str = "vendor-primary",
    secondary: str = "vendor-secondary",
) -> RefreshSummary:
    """Refresh products, fx_rates and prices from the vendors and store today's version of each.

    Each dataset is fetched from the `primary` vendor block (the `secondary` one while the primary is down),
    checked against its contract, stored under `store_root/<dataset>/<version>/` with `latest.json` pointing at
    the newest version, and announced with a `dataset.refreshed` event. The version is the run's date in
    Amsterdam: `logical_date`, or the scheduled start time when it is not given (set it to re-run a past day).
    A dataset with rejected rows is not stored: its rejected rows go to `store_root/_quarantine/` for the vendor
    ticket and the previous version stays `latest`. The datasets that depend on it are not refreshed either, the
    others are, and the run fails.
    """
    # Not datetime.now() as a default (it would be frozen at import): the time the scheduler meant this run for.
    version = version_key(logical_date or flow_run.scheduled_start_time)
    announced: dict[str, PrefectFuture] = {}
    for level in dependency_levels(DATASETS):
        for name in level:  # a level's datasets run side by side on the task runner's threads
            after = [announced[upstream] for upstream in DATASETS[name].depends_on]
            announced[name] = submit_refresh(name, store_root, version, (primary, secondary), after)
    # Let every branch finish, as Airflow does: fx_rates still refreshes when products fails.
    wait(list(announced.values()))
    failed = [name for name, future in announced.items() if not future.state.is_completed()]
    if failed:
        # Downstream of a failure the tasks never ran (NotReady); the failed task's own state has the reason.
        raise DatasetsNotRefreshed(f"not refreshed: {', '.join(failed)}")
    return summarize([announced[name].result() for name in DATASETS])


def deployments() -> list[RunnerDeployment]:
    # Weekdays at 06:00 in Amsterdam, through DST changes (05:00Z in winter, 04:00Z in summer).
    schedule = Cron("0 6 * * 1-5", timezone="Europe/Amsterdam")
    return [refresh.to_deployment(name="weekday-morning", schedules=[schedule])]


# [END flow]


if __name__ == "__main__":
    from prefect import serve

    serve(*deployments())
