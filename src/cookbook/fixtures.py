"""Fixtures the harness provides to both sides of a case: secrets, an authenticated API, webhooks, placeholders.

The placeholder helpers live in `cookbook.placeholders` (the engine workers need them, not these servers) and are
imported here too, so `from cookbook.fixtures import expand` keeps working.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cookbook.placeholders import PlaceholderError
from cookbook.placeholders import expand as expand  # re-exported
from cookbook.placeholders import map_strings as map_strings  # re-exported
from cookbook.recipe import ApiResponse, HttpApi
from cookbook.report import ENGINES


def make_secrets(names: list[str]) -> dict[str, str]:
    """Fresh random values for each run, so a leaked secret is one nobody could have typed into a file."""
    return {f"secret.{name}": f"ck_{secrets.token_urlsafe(24)}" for name in names}


@dataclass
class ApiLog:
    authorized: int = 0  # also the turn of the next authorized request in the API's `responses`
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class JsonApi:
    """GET /data answers the configured JSON document, but only with `Authorization: Bearer <token>`.

    One listener per address: the shared one (`${http.<name>.url}`, unless the API scripts `responses`) and one per
    side (`${http.<name>.<side>.url}`), each with its own log, so a scripted outage counts each side on its own.
    """

    def __init__(self, spec: HttpApi, token: str, sides: tuple[str, ...] = ENGINES) -> None:
        self.spec = spec
        self.closing = threading.Event()
        labels = [*([] if spec.responses else [""]), *sides]
        self.logs = {label: ApiLog() for label in labels}
        expected = f"Bearer {token}".encode()
        self.servers = {
            label: ThreadingHTTPServer(("127.0.0.1", 0), self._handler(log, expected))
            for label, log in self.logs.items()
        }
        self.threads = {
            label: threading.Thread(target=server.serve_forever, name=f"api:{spec.name}:{label}", daemon=True)
            for label, server in self.servers.items()
        }

    def _handler(self, log: ApiLog, expected: bytes) -> type[BaseHTTPRequestHandler]:
        payload = json.dumps(self.spec.data).encode()
        script, closing = self.spec.responses, self.closing

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                given = self.headers.get("Authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    with log.lock:
                        log.rejected += 1
                    self._answer(401, b'{"detail": "missing or wrong bearer token"}')
                    return
                if self.path.split("?")[0] != "/data":
                    self._answer(404, b'{"detail": "not found"}')
                    return
                with log.lock:
                    turn = log.authorized
                    log.authorized += 1
                scripted = script[turn] if turn < len(script) else ApiResponse()
                if closing.wait(scripted.after_seconds):
                    return  # the case is over: nobody waits for this answer any more
                if scripted.status == 200:
                    self._answer(200, payload)
                else:
                    self._answer(scripted.status, json.dumps({"detail": f"scripted HTTP {scripted.status}"}).encode())

            def _answer(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except ConnectionError:
                    pass  # the client stopped waiting (its timeout, after a scripted delay)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would carry nothing secret, but they are noise in the compare output

        return Handler

    @property
    def variables(self) -> dict[str, str]:
        variables: dict[str, str] = {}
        for label, server in self.servers.items():
            host, port = server.server_address[:2]
            prefix = ".".join(filter(None, ("http", self.spec.name, label)))
            variables |= {
                f"{prefix}.url": f"http://{host}:{port}",
                f"{prefix}.host": str(host),
                f"{prefix}.port": str(port),
            }
        return variables

    def start(self) -> None:
        for thread in self.threads.values():
            thread.start()

    def close(self) -> None:
        self.closing.set()
        for label, server in self.servers.items():
            if self.threads[label].is_alive():  # shutdown() waits for a serve_forever() that has started
                server.shutdown()
            server.server_close()


@contextlib.contextmanager
def running_apis(specs: list[HttpApi], case_secrets: dict[str, str]) -> Iterator[dict[str, str]]:
    """Start each API of a case on 127.0.0.1 (a free port per address) and yield their placeholders."""
    apis = []
    for spec in specs:
        token = case_secrets.get(f"secret.{spec.token_secret}")
        if token is None:
            raise PlaceholderError(f"http_apis.{spec.name}: token_secret {spec.token_secret!r} is not a case secret")
        apis.append(JsonApi(spec, token))
    try:
        variables: dict[str, str] = {}
        for api in apis:
            api.start()
            variables.update(api.variables)
        yield variables
    finally:
        for api in apis:
            api.close()


class WebhookReceiver:
    """Records every POST to `/hook/<secret token>` on 127.0.0.1, like a chat or incident tool would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.token = secrets.token_urlsafe(16)
        self.received: list[Any] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?")[0] != f"/hook/{receiver.token}":
                    self.send_response(404)
                    self.end_headers()
                    return
                try:
                    message: Any = json.loads(body)
                except ValueError:
                    message = body.decode("utf-8", errors="replace")
                with receiver.lock:
                    receiver.received.append(message)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line carries the secret token

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"webhook:{name}", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook/{self.token}"

    def messages(self) -> list[Any]:
        with self.lock:
            return list(self.received)


def settle(receivers: list[WebhookReceiver], quiet: float = 0.3, limit: float = 5.0) -> None:
    """Wait until no message has arrived for `quiet` seconds: a hook may deliver just after its run ends."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        count = sum(len(r.messages()) for r in receivers)
        if count == seen:
            return
        seen = count
        time.sleep(quiet)


@contextlib.contextmanager
def running_webhooks(names: list[str], engines: tuple[str, ...]) -> Iterator[dict[str, dict[str, WebhookReceiver]]]:
    """One receiver per webhook name and engine, so each message is attributed to the side that sent it."""
    receivers = {engine: {name: WebhookReceiver(name) for name in names} for engine in engines}
    everyone = [r for by_name in receivers.values() for r in by_name.values()]
    for receiver in everyone:
        receiver.thread.start()
    try:
        yield receivers
    finally:
        for receiver in everyone:
            receiver.server.shutdown()
            receiver.server.server_close()
