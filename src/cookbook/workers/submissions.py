"""The order in which flows submit task runs, recorded where the flow runs, for the report's `task[i]` keys.

A run's creation or start time follows the worker threads' race, and task run ids (UUIDv7) are random below the
millisecond, so neither says which call came first. The recorder wraps the task runners' `submit`/`map` (observation
only: the wrappers call the originals with the same arguments and return their result). A flow run served from a
deployment runs in a process of its own: there the recorder is installed at start-up by `served_hook` and appends
what it sees to a journal that the worker reads back.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
from pathlib import Path
from typing import Any
from uuid import UUID

JOURNAL_ENV = "COOKBOOK_SUBMISSIONS_JOURNAL"  # a directory; each served process appends to <dir>/<pid>.log


class Submissions:
    def __init__(self) -> None:
        self.order: dict[UUID, int] = {}
        self.mapped: set[UUID] = set()
        # task run -> the flow run that submitted it: the task runs the server must show before a run is read back.
        self.flow_run_of: dict[UUID, UUID] = {}
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._in_map = threading.local()
        self._journal: Path | None = None
        self._journal_read: dict[Path, int] = {}  # how far each journal has been taken in

    def install(self, journal: Path | None = None) -> None:
        from prefect import task_runners

        self._journal = journal
        for runner in (
            task_runners.ThreadPoolTaskRunner,
            task_runners.ProcessPoolTaskRunner,
            task_runners.PrefectTaskRunner,
        ):
            runner.submit = self._wrap_submit(runner.submit)  # type: ignore[method-assign]
            runner.map = self._wrap_map(runner.map)  # type: ignore[method-assign]

    def read_journals(self, directory: Path) -> None:
        """Take in what served processes recorded. Orders from different processes are never compared: calls are
        ordered within one flow run, and each flow run runs in one process."""
        for journal in sorted(directory.glob("*.log")) if directory.is_dir() else []:
            with journal.open("rb") as handle:
                handle.seek(self._journal_read.get(journal, 0))
                data = handle.read()
            # Only whole lines: one still being written is read, whole, the next time.
            complete = data[: data.rfind(b"\n") + 1]
            self._journal_read[journal] = self._journal_read.get(journal, 0) + len(complete)
            for line in complete.decode("utf-8").splitlines():
                fields = line.split()
                if len(fields) != 4:
                    continue  # a line cut short by a process that was killed mid-write
                run_id = UUID(fields[0])
                self.order.setdefault(run_id, int(fields[1]))
                if fields[2] == "1":
                    self.mapped.add(run_id)
                if fields[3] != "-":
                    self.flow_run_of.setdefault(run_id, UUID(fields[3]))

    def submitted_by(self, flow_run_ids: set[UUID]) -> set[UUID]:
        """The task runs these flow runs submitted, as recorded where they ran."""
        return {task for task, flow_run in self.flow_run_of.items() if flow_run in flow_run_ids}

    def _record(self, task_run_id: UUID) -> None:
        from prefect.context import FlowRunContext

        context = FlowRunContext.get()
        flow_run_id = context.flow_run.id if context is not None and context.flow_run is not None else None
        with self._lock:
            order = self.order[task_run_id] = next(self._counter)
            mapped = getattr(self._in_map, "active", False)
            if mapped:
                self.mapped.add(task_run_id)
            if flow_run_id is not None:
                self.flow_run_of[task_run_id] = flow_run_id
            if self._journal is not None:
                with (self._journal / f"{os.getpid()}.log").open("a", encoding="utf-8") as handle:
                    handle.write(f"{task_run_id} {order} {int(mapped)} {flow_run_id or '-'}\n")

    def _wrap_submit(self, submit: Any) -> Any:
        @functools.wraps(submit)
        def recording_submit(runner: Any, *args: Any, **kwargs: Any) -> Any:
            future = submit(runner, *args, **kwargs)
            self._record(future.task_run_id)
            return future

        return recording_submit

    def _wrap_map(self, map_: Any) -> Any:
        @functools.wraps(map_)
        def recording_map(runner: Any, *args: Any, **kwargs: Any) -> Any:
            self._in_map.active = True
            try:
                return map_(runner, *args, **kwargs)
            finally:
                self._in_map.active = False

        return recording_map


SUBMISSIONS = Submissions()


def install_from_environment() -> None:
    """In a served flow run's process: record into the journal the worker named, if it named one."""
    directory = os.environ.get(JOURNAL_ENV)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        SUBMISSIONS.install(Path(directory))
