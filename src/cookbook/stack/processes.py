"""Processes the stack starts: one pid file each, so `stack down` ends exactly those and nothing else.

Each process leads its own process group (start_new_session). A pid file records the pid and the process's start
time from /proc, so a pid the kernel has since given to an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recorded:
    name: str
    pid: int
    start_time: int
    log: Path

    def alive(self) -> bool:
        return _start_time(self.pid) == self.start_time and _state(self.pid) not in ("Z", "X", None)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def start(
    pid_dir: Path, name: str, argv: list[str], env: Mapping[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    pid_dir.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = {"name": name, "pid": proc.pid, "start_time": _start_time(proc.pid), "log": str(log), "argv": argv}
    (pid_dir / f"{name}.pid").write_text(json.dumps(record), encoding="utf-8")
    return proc


def recorded(pid_dir: Path) -> list[Recorded]:
    found = []
    for path in sorted(pid_dir.glob("*.pid")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(Recorded(data["name"], int(data["pid"]), int(data["start_time"]), Path(data["log"])))
    return found


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`: the Prefect worker starts each flow run in a session of its own, so
    a process-group kill alone would leave a running flow behind."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [pid]
    while frontier:
        nxt = [c for p in frontier for c in children.get(p, [])]
        found.extend(nxt)
        frontier = nxt
    return found


def group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = None
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
        if fields and int(fields[3]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def stop(process: Recorded, *, first: signal.Signals = signal.SIGTERM, grace: float = 15.0) -> bool:
    """End one recorded process, its group and its descendants; False if it was no longer running."""
    if not process.alive():
        return False
    extra = [(pid, _start_time(pid)) for pid in descendants(process.pid)]
    # The Prefect worker only stops on a second SIGINT (the first one lets it finish its current poll).
    signals = [first, first] if first is signal.SIGINT else [first]
    for sig in signals:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        time.sleep(0.3)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_alive(process.pid):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    kill_pids(extra)
    return True


def kill_pids(pids: list[tuple[int, int | None]]) -> None:
    """SIGKILL each (pid, start time) that is still the same process."""
    for pid, started in pids:
        if started is not None and _start_time(pid) == started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
