"""Dataset refresh in Airflow 3: the capstone. Three vendor datasets, refreshed every weekday at 06:00 Amsterdam time.

Each dataset is fetched from the primary vendor (the secondary one when the primary is down), checked against its
Pydantic contract, stored as a point-in-time version keyed by the run's logical date, and announced as an asset
event. `prices` references `products` and `fx_rates`, so it is refreshed after them (level 1 after level 0).

The vendors are connections: `AIRFLOW_CONN_VENDOR_PRIMARY` and `AIRFLOW_CONN_VENDOR_SECONDARY`, for example
`{"conn_type": "http", "host": "api.vendor.example", "port": 443, "schema": "https", "password": "<token>"}`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from airflow.sdk import DAG, Asset, BaseHook, CronTriggerTimetable, Param, TaskGroup, get_current_context, task
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

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


class VendorUnavailable(Exception):
    """An outage (connection refused, timeout, 5xx, 429): worth trying the other vendor."""


class ContractViolation(ValueError):
    pass


# [START fetch]
def vendor_client(conn_id: str) -> httpx.Client:
    conn = BaseHook.get_connection(conn_id)
    return httpx.Client(
        base_url=f"{conn.schema or 'https'}://{conn.host}:{conn.port}",
        headers={"Authorization": f"Bearer {conn.password}"},
        timeout=10,
    )


def get_rows(conn_id: str, dataset: str) -> list[dict[str, Any]]:
    with vendor_client(conn_id) as client:
        try:
            response = client.get("/data", params={"dataset": dataset})
        except httpx.TransportError as exc:
            raise VendorUnavailable(f"{conn_id}: {exc!r}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise VendorUnavailable(f"{conn_id}: HTTP {response.status_code}")
    # 401, 403, 404: our configuration is wrong, not the vendor down. Switching vendors would hide it for good.
    response.raise_for_status()
    return response.json()["datasets"][dataset]


@task
def fetch(dataset: str) -> dict[str, Any]:
    try:
        return {"vendor": "primary", "rows": get_rows("vendor_primary", dataset)}
    except VendorUnavailable as exc:
        log.warning("%s: primary vendor unavailable (%s); falling back to the secondary", dataset, exc)
        return {"vendor": "secondary", "rows": get_rows("vendor_secondary", dataset)}


# [END fetch]


# [START validate]
def version_key() -> str:
    """The stored version's name: the run's logical date, as a date in the business timezone.

    Airflow 3 runs may have no logical date (a manual run can be created without one): then the run's own time.
    """
    context = get_current_context()
    moment: datetime = context.get("logical_date") or context["dag_run"].run_after
    return moment.astimezone(BUSINESS_TZ).date().isoformat()


def violations(index: int, exc: ValidationError) -> list[dict[str, Any]]:
    # The error type, not its message: stable across Pydantic versions, and it never echoes the rejected value.
    return [{"row": index, "field": ".".join(map(str, e["loc"])), "error": e["type"]} for e in exc.errors()]


def read_version(root: Path, dataset: str, version: str) -> list[dict[str, Any]]:
    return json.loads((root / dataset / version / "data.json").read_text(encoding="utf-8"))["rows"]


@task
def validate(dataset: str, fetched: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    assert params is not None
    root, version, spec = Path(params["store_root"]), version_key(), DATASETS[dataset]
    # The dependencies were stored for this same version before this task could start (level 1 after level 0).
    known = {
        name: {row[key] for row in read_version(root, ref, version)} for name, (ref, key) in spec.references.items()
    }
    rows, rejected = [], []
    for index, raw in enumerate(fetched["rows"]):
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
        document = {"dataset": dataset, "version": version, "vendor": fetched["vendor"], "rejected": rejected}
        quarantine.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        raise ContractViolation(f"{dataset}: {len(rejected)} contract violation(s), see {quarantine}")
    return {"vendor": fetched["vendor"], "rows": rows}


# [END validate]


# [START store]
def write_version(root: Path, dataset: str, version: str, vendor: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
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
    return {
        "dataset": dataset,
        "version": version,
        "vendor": vendor,
        "rows": len(rows),
        "sha256": digest,
        "changed": changed,
    }


@task
def store(dataset: str, valid: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    assert params is not None
    return write_version(Path(params["store_root"]), dataset, version_key(), valid["vendor"], valid["rows"])


# [END store]


# [START announce]
def append_activity(root: Path, stored: dict[str, Any]) -> None:
    """One JSON line per refresh, the feed a catalog or an on-call channel reads."""
    with (root / stored["dataset"] / "activity.jsonl").open("a", encoding="utf-8") as feed:
        feed.write(json.dumps({"event": "dataset.refreshed", **stored}, sort_keys=True) + "\n")


@task
def announce(stored: dict[str, Any], params: dict[str, Any] | None = None, outlet_events: Any = None) -> dict[str, Any]:
    assert params is not None
    # The asset event this task emits on success carries the version's metadata; DAGs scheduled on the asset
    # (schedule=[Asset("prices")]) start from it and can read it from their triggering_asset_events.
    outlet_events[Asset(stored["dataset"])].extra = stored
    append_activity(Path(params["store_root"]), stored)
    return stored


# [END announce]


@task
def summarize(announced: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": announced[0]["version"],
        "datasets": {a["dataset"]: {k: a[k] for k in ("vendor", "rows", "sha256", "changed")} for a in announced},
    }


# [START dag]
with DAG(
    dag_id="dataset_refresh",
    # Trigger at 06:00 Amsterdam wall-clock time, Monday to Friday, through DST changes; the logical date is the
    # trigger time itself (CronTriggerTimetable), not the start of an interval.
    schedule=CronTriggerTimetable("0 6 * * 1-5", timezone="Europe/Amsterdam"),
    start_date=datetime(2026, 1, 1, tzinfo=BUSINESS_TZ),
    catchup=False,
    max_active_runs=1,
    params={"store_root": Param("store", type="string", description="Root of the versioned dataset store.")},
    tags=["cookbook"],
) as dag:
    groups: dict[str, TaskGroup] = {}
    announced = []
    for name in DATASETS:
        # One group per dataset: task ids "products.fetch", "products.validate", ...
        with TaskGroup(group_id=name) as group:
            stored = store(name, validate(name, fetch(name)))
            announced.append(announce.override(outlets=[Asset(name)])(stored))
        groups[name] = group
    # The levels follow from the edges: a group starts when every group it references has announced.
    for name, spec in DATASETS.items():
        for upstream in spec.depends_on:
            groups[upstream] >> groups[name]
    summarize(announced)
# [END dag]
