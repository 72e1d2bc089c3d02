"""Fixtures the harness provides to both sides of a case: secrets, an authenticated API, webhooks, placeholders.

The placeholder helpers live in `cookbook.placeholders` (the engine workers need them, not these servers) and are
imported here too, so `from cookbook.fixtures import expand` keeps working.
"""

from __future__ import annotations

import contextlib
import email.utils
import hmac
import json
import math
import secrets
import threading
import time
import urllib.parse
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
    health_checks: int = 0
    throttled: int = 0  # requests refused again because they came before a Retry-After had passed
    refused_until: float = 0.0  # time.monotonic() at which the last Retry-After has passed
    refused_with: int = 0  # the status that Retry-After came with
    refused_as_date: bool = False  # and whether it was an HTTP-date
    lock: threading.Lock = field(default_factory=threading.Lock)


class JsonApi:
    """GET /data answers the configured JSON document, but only with `Authorization: Bearer <token>`.

    One listener per address: the shared one (`${http.<name>.url}`, unless the API scripts `responses` or a slow
    start) and one per side (`${http.<name>.<side>.url}`), each with its own log, so a scripted outage counts each
    side on its own. With `page_size`, GET /data?page=N answers one page; GET /health needs no token.
    """

    def __init__(self, spec: HttpApi, token: str, sides: tuple[str, ...] = ENGINES) -> None:
        self.spec = spec
        self.closing = threading.Event()
        counted = bool(spec.responses) or spec.not_ready_checks > 0
        labels = [*([] if counted else [""]), *sides]
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
        script, closing, api = self.spec.responses, self.closing, self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/health":  # a readiness probe: no token, like most health endpoints
                    with log.lock:
                        check = log.health_checks
                        log.health_checks += 1
                    if check < api.spec.not_ready_checks:
                        self._answer(503, b'{"status": "starting"}')
                    else:
                        self._answer(200, b'{"status": "ok"}')
                    return
                given = self.headers.get("Authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    with log.lock:
                        log.rejected += 1
                    self._answer(401, b'{"detail": "missing or wrong bearer token"}')
                    return
                if path != "/data":
                    self._answer(404, b'{"detail": "not found"}')
                    return
                with log.lock:
                    left = log.refused_until - time.monotonic()
                    if left > 0:  # back before the Retry-After passed: refused again, no turn taken
                        log.throttled += 1
                        status, as_date = log.refused_with, log.refused_as_date
                    else:
                        turn = log.authorized
                        log.authorized += 1
                if left > 0:
                    self._refuse(status, left, as_date)
                    return
                scripted = script[turn] if turn < len(script) else ApiResponse()
                if closing.wait(scripted.after_seconds):
                    return  # the case is over: nobody waits for this answer any more
                if scripted.status == 200:
                    status, body = api._page(query) if api.spec.page_size else (200, payload)
                    self._answer(status, body)
                elif scripted.retry_after is not None:
                    seconds = float(scripted.retry_after)
                    if scripted.retry_after_date:  # a date has whole seconds: the window ends on one
                        seconds = math.ceil(time.time() + seconds) - time.time()
                    with log.lock:
                        log.refused_until = time.monotonic() + seconds
                        log.refused_with, log.refused_as_date = scripted.status, scripted.retry_after_date
                    self._refuse(scripted.status, seconds, scripted.retry_after_date)
                else:
                    self._answer(scripted.status, json.dumps({"detail": f"scripted HTTP {scripted.status}"}).encode())

            def _refuse(self, status: int, seconds: float, as_date: bool) -> None:
                """Answer `status` with a Retry-After `seconds` from now: whole seconds, rounded up, or a date."""
                if as_date:  # the window of a date ends on a whole second (see do_GET): that one
                    value = email.utils.formatdate(round(time.time() + seconds), usegmt=True)
                else:
                    value = str(math.ceil(seconds))
                detail = json.dumps({"detail": f"scripted HTTP {status}, retry after {value}"}).encode()
                self._answer(status, detail, {"Retry-After": value})

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except ConnectionError:
                    pass  # the client stopped waiting (its timeout, after a scripted delay)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would carry nothing secret, but they are noise in the compare output

        return Handler

    def _page(self, query: str) -> tuple[int, bytes]:
        """The status and body of GET /data?<query> when the API pages its `data`."""
        raw = urllib.parse.parse_qs(query).get("page", ["1"])[-1]
        number = int(raw) if raw.isdigit() else 0
        if number < 1:
            return 400, json.dumps({"detail": f"page must be a positive integer, not {raw!r}"}).encode()
        data, size = self.spec.data, self.spec.page_size or 1
        items = data if isinstance(data, list) else data["items"]
        more = number * size < len(items)
        rest = {} if isinstance(data, list) else data
        page = {**rest, "items": items[(number - 1) * size : number * size], "page": number}
        return 200, json.dumps({**page, "next_page": number + 1 if more else None}).encode()

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
