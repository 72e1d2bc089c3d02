"""Drive both engines: one worker process per engine, started in parallel, serving a whole batch of cases.

Each worker runs in its engine's own venv with its own throwaway home, so neither engine's global state can
leak into the other. A side that does not answer within the recipe's timeout is killed (its whole process
group, Prefect's API server included) and restarted for the next case.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, ValidationError

from cookbook.compare import Difference, Verdict, _unmet, compare
from cookbook.fixtures import make_secrets, running_apis, running_webhooks, settle
from cookbook.protocol import MESSAGE, Done, Fatal, Job, Progress, Ready
from cookbook.recipe import PROJECT_ROOT, Case, Recipe
from cookbook.report import ENGINES, Engine, SideError, SideReport
from cookbook.services import Fixture, Hosts, ServiceUnavailable, running_services
from cookbook.workers.common import pid_alive

CACHE_DIR = PROJECT_ROOT / ".cache"
RUNS_DIR = PROJECT_ROOT / "runs"
KEEP_RUNS = 5
STARTUP_TIMEOUT = 300.0
# Seconds a worker gets to clean up after its input closes. Airflow may have a scheduler stack to stop and a
# PostgreSQL database to drop; Prefect's throwaway server has nothing worth waiting for.
STOP_GRACE: dict[Engine, float] = {"airflow": 15.0, "prefect": 0.0}
ProgressFn = Callable[[Engine, str], None]


class HarnessError(Exception):
    """Something the user must fix before anything can run (a missing venv, say); one line."""


def engine_python(engine: Engine) -> Path:
    override = os.environ.get(f"COOKBOOK_{engine.upper()}_PYTHON")
    python = Path(override) if override else PROJECT_ROOT / ".venvs" / engine / "bin" / "python"
    if not python.exists():
        raise HarnessError(f"the {engine} environment is missing ({python}); run `make setup`")
    return python


class CaseRun(BaseModel):
    recipe: str
    case: str
    description: str
    airflow: SideReport
    prefect: SideReport
    verdict: Verdict

    @classmethod
    def judge(
        cls, recipe: Recipe, case: Case, reports: dict[Engine, SideReport], also: list[Difference] | None = None
    ) -> CaseRun:
        """The two sides' reports and the verdict on them; `also`: differences found outside the reports."""
        verdict = compare(recipe.meta.parity, case.expect, reports["airflow"], reports["prefect"])
        verdict = verdict.with_differences(also or [])
        return cls(
            recipe=recipe.name,
            case=case.name,
            description=case.description,
            airflow=reports["airflow"],
            prefect=reports["prefect"],
            verdict=verdict,
        )


class Worker:
    """One engine worker process and its line protocol."""

    def __init__(self, engine: Engine, argv: list[str], log_path: Path, on_progress: ProgressFn) -> None:
        self.engine = engine
        self.argv = argv
        self.log_path = log_path
        self.on_progress = on_progress
        self.proc: subprocess.Popen[str] | None = None
        self.messages: queue.Queue[Ready | Progress | Done | Fatal | None] = queue.Queue()
        self.ready: Ready | None = None
        self.failure: str | None = None

    def start(self) -> None:
        self.ready, self.failure = None, None
        self.messages = queue.Queue()
        log = self.log_path.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=PROJECT_ROOT,
            start_new_session=True,  # its own process group: a kill takes its children (the API server) too
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        threading.Thread(target=self._read, args=(self.proc, self.messages), daemon=True).start()

    @staticmethod
    def _read(proc: subprocess.Popen[str], messages: queue.Queue[Ready | Progress | Done | Fatal | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with contextlib.suppress(ValidationError):
                messages.put(MESSAGE.validate_json(line))
        messages.put(None)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.ready is None and self.failure is None:
            message = self._next(deadline)
            if isinstance(message, Ready):
                self.ready = message
            elif isinstance(message, Progress):
                self.on_progress(self.engine, message.message)
            elif isinstance(message, Fatal):
                self.failure = message.message
            elif message == "timeout":
                self.kill()
                self.failure = f"{self.engine} did not start within {timeout:.0f} s (log: {self.log_path})"
            elif message is None:
                self.failure = f"{self.engine} worker exited while starting: {self._log_tail()}"

    def run(self, job: Job, timeout: float) -> SideReport:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
            self.wait_ready()
        if self.failure is not None or self.ready is None:
            return self._failed(job, "crash", self.failure or "not started")
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(job.model_dump_json() + "\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if isinstance(message, Done):
                return message.report
            if message == "timeout":
                self.kill()
                return self._failed(
                    job,
                    "timeout",
                    f"the {self.engine} side gave no result within {timeout:.0f} s and was killed",
                )
            if message is None:
                code = self.proc.wait()
                return self._failed(job, "crash", f"the {self.engine} worker exited ({code}): {self._log_tail()}")

    def _next(self, deadline: float) -> Ready | Progress | Done | Fatal | str | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        try:
            return self.messages.get(timeout=remaining)
        except queue.Empty:
            return "timeout"

    def _failed(self, job: Job, kind: str, message: str) -> SideReport:
        version = self.ready.engine_version if self.ready else "?"
        return SideReport(
            engine=self.engine,
            engine_version=version,
            recipe=job.recipe,
            case=job.case,
            error=SideError(kind=kind, message=message),  # type: ignore[arg-type]
        )

    def _log_tail(self) -> str:
        try:
            lines = [line.strip() for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return lines[-1][:300] if lines else "no output"

    def stop(self, grace: float) -> None:
        """Let the worker clean up for `grace` seconds, then end it and everything it started."""
        if self.proc is not None and self.proc.poll() is None and grace > 0:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        self.kill()

    def kill(self) -> None:
        if self.proc is None:
            return
        pgid = self.proc.pid
        # A short grace, then SIGKILL: Prefect's server would otherwise wait seconds for its open websockets,
        # and nothing in a throwaway home is worth saving.
        for sig, grace in ((signal.SIGTERM, 0.5), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + grace
            # Wait for the whole group, not just the leader: a child server can outlive it for a moment.
            while time.monotonic() < deadline and (self.proc.poll() is None or _group_alive(pgid)):
                time.sleep(0.02)
            if self.proc.poll() is not None and not _group_alive(pgid):
                break
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running (a zombie nobody has reaped yet does not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class Harness:
    """Both engines, up for a batch of cases. Use as a context manager: it never leaves processes behind."""

    def __init__(
        self,
        *,
        root: Path = PROJECT_ROOT,
        prefect_api_url: str | None = None,
        on_progress: ProgressFn | None = None,
        keep: bool = False,
        prestart_scheduler: bool = False,
    ) -> None:
        self.keep = keep
        self.on_progress = on_progress or (lambda engine, message: None)
        RUNS_DIR.mkdir(exist_ok=True)
        # Unique even for two batches started in the same second by one process (the test session runs two).
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-", dir=RUNS_DIR))
        (self.run_dir / "logs").mkdir()
        self.scratch = self.run_dir / "scratch"
        prefect_args = ["--api-url", prefect_api_url] if prefect_api_url else []
        argv: dict[Engine, list[str]] = {
            "airflow": [
                str(engine_python("airflow")),
                "-m",
                "cookbook.workers.airflow_worker",
                "--home",
                str(self.scratch / "airflow-home"),
                "--dags-folder",
                str(root / "airflow_dags"),
                "--cache-dir",
                str(CACHE_DIR),
                *(["--prestart-scheduler"] if prestart_scheduler else []),
            ],
            "prefect": [
                str(engine_python("prefect")),
                "-m",
                "cookbook.workers.prefect_worker",
                "--home",
                str(self.scratch / "prefect-home"),
                "--cache-dir",
                str(CACHE_DIR),
                *prefect_args,
            ],
        }
        self.workers = {
            engine: Worker(engine, argv[engine], self.run_dir / "logs" / f"{engine}.log", self.on_progress)
            for engine in ENGINES
        }
        self.startup_seconds: dict[Engine, float] = {}
        self.last_secrets: dict[str, str] = {}
        self.hosts = Hosts(self.scratch / "services")

    def __enter__(self) -> Harness:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start both engines at once and wait until both are ready (or have failed, which a case reports)."""
        for worker in self.workers.values():
            worker.start()
        with ThreadPoolExecutor(len(self.workers)) as pool:
            list(pool.map(lambda w: w.wait_ready(), self.workers.values()))
        for engine, worker in self.workers.items():
            if worker.ready:
                self.startup_seconds[engine] = worker.ready.startup_seconds
                self.on_progress(engine, f"{engine} {worker.ready.engine_version} ready")

    def engine_versions(self) -> dict[Engine, str]:
        return {e: (w.ready.engine_version if w.ready else "?") for e, w in self.workers.items()}

    def run_case(self, recipe: Recipe, case: Case, reuse: dict[Engine, SideReport] | None = None) -> CaseRun:
        """Run the case on both engines; an engine in `reuse` is not run again, its earlier report is judged.

        `reuse` is for runs where one side cannot have changed (mutation testing changes only the Prefect flows).
        """
        label = re.sub(r"[^a-z0-9]+", "_", f"{recipe.name}_{case.name}".lower())
        with contextlib.ExitStack() as stack:
            try:
                fixtures = stack.enter_context(running_services(case, label, ENGINES, self.hosts))
            except ServiceUnavailable as exc:
                return CaseRun.judge(recipe, case, self._unrun(recipe, case, "unavailable", str(exc)))
            except Exception as exc:  # a case whose service could not be prepared: setup SQL that fails, say
                message = f"preparing the case's services failed: {type(exc).__name__}: {exc}".splitlines()[0]
                return CaseRun.judge(recipe, case, self._unrun(recipe, case, "harness_error", message))
            return self._run_case(recipe, case, reuse or {}, fixtures)

    def _unrun(self, recipe: Recipe, case: Case, kind: str, message: str) -> dict[Engine, SideReport]:
        versions = self.engine_versions()
        return {
            e: SideReport(
                engine=e,
                engine_version=versions[e],
                recipe=recipe.name,
                case=case.name,
                error=SideError(kind=kind, message=message),  # type: ignore[arg-type]
            )
            for e in ENGINES
        }

    def _run_case(
        self, recipe: Recipe, case: Case, reuse: dict[Engine, SideReport], services: list[Fixture]
    ) -> CaseRun:
        case_secrets = make_secrets(case.secrets)
        for service in services:
            case_secrets |= service.secrets()
        with (
            running_apis(case.http_apis, case_secrets) as api_variables,
            running_webhooks(case.webhooks, ENGINES) as webhooks,
        ):
            # A webhook URL is a credential (its path token): the leak check watches for it like a secret.
            case_secrets |= {
                f"secret.webhook.{e}.{n}": r.token for e, by_name in webhooks.items() for n, r in by_name.items()
            }
            self.last_secrets = case_secrets  # for tests that prove no secret reached any output
            jobs = {}
            for engine in ENGINES:
                hooks = {f"webhook.{name}.url": receiver.url for name, receiver in webhooks[engine].items()}
                own = {k: v for service in services for k, v in service.variables(engine).items()}
                variables = {**api_variables, **case_secrets, **hooks, **own}
                jobs[engine] = Job.for_case(recipe, case, engine, self.workdir(recipe, case, engine), variables)
            offsets = {e: _size(self.workers[e].log_path) for e in ENGINES}
            running = [e for e in ENGINES if e not in reuse]
            for service in services:
                service.start()
            with ThreadPoolExecutor(len(ENGINES)) as pool:
                futures = {e: pool.submit(self.workers[e].run, jobs[e], recipe.meta.timeout_seconds) for e in running}
                reports = {e: futures[e].result() if e in futures else reuse[e].model_copy(deep=True) for e in ENGINES}
            if case.webhooks:
                settle([r for by_name in webhooks.values() for r in by_name.values()])
                for engine, by_name in webhooks.items():
                    if engine in running:
                        reports[engine].messages = {name: r.messages() for name, r in by_name.items()}
            for engine in running:
                for service in services:
                    reports[engine].messages |= service.observe(engine)
        logs = {e: _read_from(self.workers[e].log_path, offsets[e]) for e in running}
        also = self._leaks(case_secrets, reports, logs) + _unlogged(case, logs)
        return CaseRun.judge(recipe, case, reports, also=also)

    def workdir(self, recipe: Recipe, case: Case, engine: Engine) -> Path:
        """The side's working directory for a case: the same one each time the case runs in this batch."""
        return self.scratch / "work" / recipe.name / case.name / engine

    def _leaks(
        self, case_secrets: dict[str, str], reports: dict[Engine, SideReport], logs: dict[Engine, str]
    ) -> list[Difference]:
        """A secret given to a side must not come back in its report or its log (not even masked by us).

        `logs`: what each side that ran logged during the case (a side reused from an earlier run logged nothing new).
        """
        leaks = []
        for engine in ENGINES:
            log = logs.get(engine, "")
            report = reports[engine].model_dump_json()
            for name, value in case_secrets.items():
                for where, text in (("report", report), ("log", log)):
                    if value in text:
                        note = f"{engine}: {name} appears in its {where}"
                        leaks.append(Difference(aspect="execution", where=f"{engine}.{where}", note=note))
        return leaks

    def close(self) -> None:
        with ThreadPoolExecutor(len(self.workers)) as pool:
            list(pool.map(lambda w: w.stop(STOP_GRACE[w.engine]), self.workers.values()))
        self.hosts.close()
        if not self.keep:
            shutil.rmtree(self.scratch, ignore_errors=True)
        _prune_runs()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _unlogged(case: Case, logs: dict[Engine, str]) -> list[Difference]:
    """The case's expected log fragments that a side which ran did not log (a reused side was checked before)."""
    missing = []
    for engine, fragments in case.expect.logs.items():
        if engine not in logs:
            continue
        for fragment in fragments:
            if fragment not in logs[engine]:
                missing.append(_unmet(engine, f"logs.{engine}", "absent", f"its log does not show {fragment!r}"))
    return missing


def _read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _prune_runs() -> None:
    runs = sorted((p for p in RUNS_DIR.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in runs[:-KEEP_RUNS]:
        if not _owner_gone(old):  # another harness (a parallel compare) is still using it
            continue
        shutil.rmtree(old, ignore_errors=True)


def _owner_gone(run_dir: Path) -> bool:
    """A run directory is named `<date>-<time>-<pid>-<random>`; its owner is gone when that pid no longer runs."""
    parts = run_dir.name.split("-")
    return len(parts) < 4 or not parts[2].isdigit() or not pid_alive(int(parts[2]))


@contextlib.contextmanager
def harness(**kwargs: object) -> Iterator[Harness]:
    with Harness(**kwargs) as h:  # type: ignore[arg-type]
        yield h
