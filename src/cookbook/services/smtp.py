"""SMTP: a real mail server per side on 127.0.0.1 (aiosmtpd) that takes mail only after a login."""

from __future__ import annotations

import hmac
import logging
import secrets
import socket
import threading
import warnings
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from cookbook.recipe import SmtpServer
from cookbook.report import Engine
from cookbook.services.base import Hosts

HOST = "127.0.0.1"
logging.getLogger("mail.log").setLevel(logging.ERROR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class _Mailbox:
    """Receives a side's mail; refuses the first `refuse_first` messages with a transient error."""

    def __init__(self, refuse_first: int) -> None:
        self.refuse_left = refuse_first
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                self.refused += 1
                return "451 4.3.0 try again later (the case's flaky relay)"
        raw = envelope.original_content or envelope.content or b""
        message = message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        # SMTP carries CRLF line ends: a 7bit part keeps them, a base64 one (Airflow's utf-8 MIMEText) decodes to
        # what the sender wrote. A reader sees the same lines either way, so they are compared as "\n".
        text = text.replace("\r\n", "\n")
        with self.lock:
            self.received.append(
                {
                    "from": envelope.mail_from,
                    "to": sorted(envelope.rcpt_tos),
                    "subject": str(message.get("Subject", "")),
                    "body": text.strip(),
                }
            )
        return "250 OK"


class _QuietController(Controller):
    """Plain AUTH without TLS is what a loopback test relay does on purpose; aiosmtpd warns of it every session."""

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().factory()


class Fixture:
    def __init__(self, spec: SmtpServer, label: str, engines: tuple[Engine, ...], hosts: Hosts) -> None:
        self.spec = spec
        self.boxes: dict[Engine, _Mailbox] = {}
        self.logins: dict[Engine, tuple[str, str]] = {}
        self.controllers: dict[Engine, Controller] = {}
        for engine in engines:
            user, password = f"{engine}-{label}"[:40], secrets.token_urlsafe(18)
            box = _Mailbox(spec.refuse_first)
            controller = _QuietController(
                box,
                hostname=HOST,
                port=_free_port(),
                authenticator=_authenticator(user, password),
                auth_required=True,
                auth_require_tls=False,  # loopback only; a real relay would be reached over STARTTLS
            )
            controller.start()
            self.boxes[engine], self.logins[engine], self.controllers[engine] = box, (user, password), controller

    def variables(self, engine: Engine) -> dict[str, str]:
        user, password = self.logins[engine]
        prefix = f"smtp.{self.spec.name}"
        port = self.controllers[engine].port
        return {
            f"{prefix}.host": HOST,
            f"{prefix}.port": str(port),
            f"{prefix}.user": user,
            f"{prefix}.password": password,
        }

    def secrets(self) -> dict[str, str]:
        return {f"secret.smtp.{self.spec.name}.{e}": password for e, (_, password) in self.logins.items()}

    def start(self) -> None:
        pass  # the servers listen from the moment the fixture is made

    def observe(self, engine: Engine) -> dict[str, list[Any]]:
        box = self.boxes[engine]
        with box.lock:
            return {f"smtp.{self.spec.name}": sorted(box.received, key=lambda m: (m["subject"], m["to"], m["body"]))}

    def close(self) -> None:
        for controller in self.controllers.values():
            controller.stop()
        self.controllers.clear()


def _authenticator(user: str, password: str) -> Any:
    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            good = hmac.compare_digest(data.login, user.encode()) and hmac.compare_digest(
                data.password, password.encode()
            )
            return AuthResult(success=good, handled=False)  # handled=False: the server answers 535 itself
        return AuthResult(success=False, handled=False)

    return authenticate
