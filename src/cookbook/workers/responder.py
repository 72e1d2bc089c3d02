"""The person in a human-in-the-loop case: answers a run's requests for input from outside the run, while it waits.

Engine-free: each engine's module says how a pending request is found and how it is answered (through the engine's
API, as its UI would); this thread does the rest, in the worker process, next to the run it answers.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

from cookbook.protocol import Reply
from cookbook.report import SideError, SideReport
from cookbook.workers.common import one_line

POLL_SECONDS = 0.2


class Request:
    """A request for input the engine shows to people: `key` tells two requests apart, `where` names it."""

    def __init__(self, key: str, where: str, handle: Any = None) -> None:
        self.key = key
        self.where = where
        self.handle = handle


class Responder:
    """Answers `replies` in order, each to the next request that appears, `after_seconds` after it appeared.

    `settle_seconds` is the least an engine needs between asking and being answered (see airflow_hitl.SETTLE_SECONDS).

    Use as a context manager around the run. What went wrong (an answer refused, an answer never asked for) is
    in `problems` afterwards; the side reports it as its error.
    """

    def __init__(
        self,
        replies: list[Reply],
        find_pending: Callable[[], Request | None],
        answer: Callable[[Request, dict[str, Any]], None],
        settle_seconds: float = 0.0,
    ) -> None:
        self.replies = replies
        self.settle_seconds = settle_seconds
        self.find_pending = find_pending
        self.answer = answer
        self.answered: list[str] = []
        self.problems: list[str] = []
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Responder:
        if self.replies:
            # The thread sees the caller's context: Prefect keeps its settings (the API URL) in context variables.
            context = contextvars.copy_context()
            self._thread = threading.Thread(target=context.run, args=(self._respond,), name="responder", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def finish(self) -> None:
        """Stop answering (the run is over) and note the answers it never asked for."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        unasked = len(self.replies) - len(self.answered)
        if unasked > 0 and not self.problems:
            self.problems.append(f"{unasked} of {len(self.replies)} answers were never asked for")

    def _respond(self) -> None:
        try:
            for reply in self.replies:
                request = self._next_request()
                if request is None:  # the run ended first
                    return
                if self._stop.wait(max(reply.after_seconds, self.settle_seconds)):
                    return
                self.answer(request, reply.input)
                self._done.add(request.key)
                self.answered.append(request.where)
        except Exception as exc:
            self.problems.append(f"the response was refused: {one_line(exc)}")

    def _next_request(self) -> Request | None:
        while not self._stop.is_set():
            request = self.find_pending()
            if request is not None and request.key not in self._done:
                return request
            self._stop.wait(POLL_SECONDS)
        return None


def report_problems(responder: Responder, report: SideReport) -> None:
    """A side whose person could not answer as the case says has an error, whatever its run did."""
    responder.finish()
    if not responder.problems:
        return
    problems = "; ".join(responder.problems)
    message = f"{report.error.message}; {problems}" if report.error is not None else problems
    report.error = SideError(kind="run_error", message=message)
