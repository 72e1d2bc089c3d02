"""What both engine workers share: the job loop, the working directory, files written, JSON results.

A worker runs inside its engine's own venv (the Airflow one has no Prefect, and the other way round), so this
module imports nothing from either engine.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic_core import to_jsonable_python

from cookbook.placeholders import map_strings
from cookbook.protocol import Done, Fatal, Job, Message, Progress, Ready
from cookbook.recipe import DelayedFile
from cookbook.report import Engine, FileRecord, RunState, SideError, SideReport

PREVIEW_BYTES = 2048
WORKDIR_TOKEN = "${workdir}"


class Channel:
    """The protocol channel: the process's original stdout, kept apart from whatever the engines print."""

    def __init__(self) -> None:
        protocol_fd = os.dup(sys.stdout.fileno())
        # From here on, anything written to fd 1 (engine logs, print() in tasks) lands in the log (stderr).
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        self._out: IO[str] = os.fdopen(protocol_fd, "w", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self._out.write(message.model_dump_json() + "\n")
            self._out.flush()

    def progress(self, text: str) -> None:
        self.send(Progress(message=text))


def serve(engine: Engine, start: Callable[[Channel], tuple[str, str]], run: Callable[[Job], SideReport]) -> None:
    """Start the engine, then run jobs from stdin until it closes."""
    channel = Channel()
    began = time.perf_counter()
    try:
        version, detail = start(channel)
    except Exception as exc:
        traceback.print_exc()
        channel.send(Fatal(message=f"{engine} failed to start: {one_line(exc)}"))
        return
    channel.send(Ready(engine_version=version, startup_seconds=time.perf_counter() - began, detail=detail))
    for line in sys.stdin:
        if not line.strip():
            continue
        job = Job.model_validate_json(line)
        print(f"=== cookbook job: {job.recipe}/{job.case} ===", file=sys.stderr, flush=True)
        try:
            report = run(job)
        except Exception as exc:
            traceback.print_exc()
            report = SideReport(
                engine=engine,
                engine_version=version,
                recipe=job.recipe,
                case=job.case,
                error=SideError(kind="harness_error", message=one_line(exc)),
            )
        channel.send(Done(report=without_workdir(report, job.workdir)))


def without_workdir(report: SideReport, workdir: str) -> SideReport:
    """Error messages name paths in this side's working directory; the other side's differs, so use a token."""
    if report.error is not None:
        report.error.message = report.error.message.replace(workdir, WORKDIR_TOKEN)
    for task in report.tasks.values():
        if task.error is not None:
            task.error = task.error.replace(workdir, WORKDIR_TOKEN)
    return report


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def environment(updates: dict[str, str]) -> Iterator[None]:
    """These environment variables for the block's duration, then each back as it was (or unset)."""
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def job_context(job: Job) -> Iterator[None]:
    """Run inside the job's working directory, with its environment, and its delayed files on their timers."""
    workdir = Path(job.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    saved_cwd = os.getcwd()
    stop = threading.Event()
    timers = [_start_delayed_file(workdir, f, stop) for f in job.delayed_files]
    with environment(job.env):
        os.chdir(workdir)
        try:
            yield
        finally:
            os.chdir(saved_cwd)
            stop.set()
            for t in timers:
                t.join()


def _start_delayed_file(workdir: Path, spec: DelayedFile, stop: threading.Event) -> threading.Thread:
    target = workdir / spec.path

    def write() -> None:
        if spec.directory:
            target.mkdir(parents=True, exist_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a poking sensor never sees half a file.
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(spec.content, encoding="utf-8")
        partial.replace(target)

    def write_later() -> None:
        if not stop.wait(spec.after_seconds):  # else the run ended before the file was due
            write()

    if spec.after_seconds == 0:
        write()  # due at once: there before the run starts, with no race against its first task
    thread = threading.Thread(target=write_later if spec.after_seconds else lambda: None, daemon=True)
    thread.start()
    return thread


def rejected(report: SideReport, detail: str, workdir: Path) -> SideReport:
    """The engine refused the run before it existed (parameters its schema rejects, say): failed, no task ran."""
    report.run_state = RunState.FAILED
    report.error = SideError(kind="refused", message=f"rejected before any task ran: {detail}")
    report.files = snapshot_files(workdir)
    return report


def await_files(job: Job) -> list[str]:
    """Wait for the files that runs caused by this one write (a triggered consumer, say), then settle.

    Returns the files still missing when the wait gave up, a little before the harness would kill the side.
    """
    workdir = Path(job.workdir)
    deadline = time.monotonic() + max(1.0, job.timeout_seconds * 0.8 - job.settle_seconds)
    missing = [p for p in job.await_files if not (workdir / p).exists()]
    while missing and time.monotonic() < deadline:
        time.sleep(0.2)
        missing = [p for p in missing if not (workdir / p).exists()]
    if job.await_files or job.settle_seconds:
        time.sleep(job.settle_seconds)
    return missing


def collect_files(job: Job, report: SideReport) -> None:
    """The files the run (and the runs it caused) wrote; a file that never appeared is an error of this side."""
    began = time.monotonic()
    missing = await_files(job)
    if missing and report.error is None:
        # Not a run error: the runs this case should have caused never wrote what it waits for, so the case did not
        # happen as written (both sides missing the file the same way is no parity).
        waited = time.monotonic() - began
        message = f"awaited files did not appear within {waited:.0f} s: {', '.join(missing)}"
        report.error = SideError(kind="timeout", message=message)
    report.files = snapshot_files(Path(job.workdir))


def snapshot_files(workdir: Path) -> dict[str, FileRecord]:
    files: dict[str, FileRecord] = {}
    if not workdir.is_dir():
        return files
    for path in sorted(workdir.rglob("*")):
        if not path.is_file() or path.name.endswith(".partial"):
            continue
        data = path.read_bytes()
        # Absolute paths differ between the two sides' working directories; compare what they point at.
        data = data.replace(str(workdir).encode(), WORKDIR_TOKEN.encode())
        preview = None
        if len(data) <= PREVIEW_BYTES:
            with contextlib.suppress(UnicodeDecodeError):
                preview = data.decode("utf-8")
        files[path.relative_to(workdir).as_posix()] = FileRecord(
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), preview=preview
        )
    return files


def to_json(value: Any, workdir: str) -> Any:
    """A run's result as plain JSON, with this side's working directory replaced by a token."""
    plain = to_jsonable_python(value, fallback=repr)
    return map_strings(plain, lambda text: text.replace(workdir, WORKDIR_TOKEN))


def indexed_name(name: str, index: int | None) -> str:
    """The report's key for a task: `name`, or `name[i]` for the i-th of a mapped or repeated task."""
    return name if index is None else f"{name}[{index}]"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def utc(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC: how both engines' run times are compared."""
    return moment.astimezone(UTC).isoformat()
