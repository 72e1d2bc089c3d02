"""Recipe metadata, one source of truth for the docs site and the harness, in two files per recipe.

- `recipes/<name>.md`: the page. Its YAML front matter has the title, summary, reading order, the constructs the
  recipe maps and the upstream threads its gotchas cite; its body is the narrative the docs site renders.
- `recipes/<name>.cases.yaml`: the proof. How the harness runs each side, the cases, what must match between the
  engines and what each case is expected to produce, and the mutants no case kills with why they are harmless.

A bad file is one line naming the file, the line and the field (`RecipeError`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cookbook.report import Engine, Outcome, RunState

PROJECT_ROOT = Path(__file__).resolve().parents[2]

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Concept(Strict):
    airflow: str = Field(description="The Airflow construct, as a user would grep for it.")
    prefect: str = Field(description="What it becomes in Prefect.")
    effort: Literal["mechanical", "judgment", "redesign"] = "mechanical"


class Link(Strict):
    title: str
    url: str


Aspect = Literal["run_state", "tasks", "attempts", "result", "files", "messages"]


class Parity(Strict):
    """What must match between the two sides, and how values are normalised before comparing."""

    compare: list[Aspect] = Field(default_factory=lambda: ["run_state", "tasks", "attempts", "result", "files"])
    unordered_lists: bool = Field(False, description="Compare every list in the result as a multiset.")
    float_tolerance: float = Field(0.0, ge=0)
    ignore_keys: list[str] = Field(default_factory=list, description="Dict keys dropped at any depth.")
    ignore_tasks: list[str] = Field(default_factory=list)
    task_names: dict[str, str] = Field(
        default_factory=dict,
        description="Prefect task name -> the Airflow task_id it stands for, where Prefect's natural name differs "
        "(a task named after what it does, a DAG's task_id after its operator): the Prefect side's tasks are "
        "renamed before anything is checked, so expectations and the comparison use the Airflow task_id.",
    )

    @model_validator(mode="after")
    def _one_prefect_task_per_airflow_task(self) -> Parity:
        targets = list(self.task_names.values())
        if len(targets) != len(set(targets)):
            raise ValueError(f"task_names: two Prefect tasks map to one Airflow task ({targets})")
        return self

    ignore_files: list[str] = Field(default_factory=list, description="Glob patterns, relative to workdir.")


class DelayedFile(Strict):
    """A file the harness writes into each side's working directory while the run is going on."""

    path: str
    content: str = ""
    directory: bool = Field(
        False, description="A directory at `path`, not a file: a place no task can write its file to."
    )
    after_seconds: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _directory_has_no_content(self) -> DelayedFile:
        if self.directory and self.content:
            raise ValueError(f"{self.path}: a directory has no content")
        return self


class ApiResponse(Strict):
    """One scripted answer of an `HttpApi`: a status (200: the API's `data`), held back a while if asked."""

    status: int = Field(200, ge=200, le=599)
    after_seconds: float = Field(0.0, ge=0, description="Sent this long after the request (past a client timeout).")
    retry_after: int | None = Field(
        None,
        ge=0,
        description="With a 429 or 503: the Retry-After header, in seconds. Until they have passed, the API answers "
        "every further GET /data of the side the same way (Retry-After: what is left, rounded up) without using up a "
        "turn, as a rate limiter does: a client that comes back early is refused again.",
    )
    retry_after_date: bool = Field(
        False,
        description="Send Retry-After as an HTTP-date (the moment `retry_after` seconds from now, rounded up to "
        "a whole second), the header's other form, instead of a number of seconds.",
    )

    @model_validator(mode="after")
    def _retry_after_comes_with_429_or_503(self) -> ApiResponse:
        if self.retry_after is not None and self.status not in (429, 503):
            raise ValueError(f"retry_after goes with a 429 or a 503, not a {self.status}")
        if self.retry_after_date and self.retry_after is None:
            raise ValueError("retry_after_date needs a retry_after")
        return self


class HttpApi(Strict):
    """A small JSON API on 127.0.0.1 that answers only with the right bearer token (see `fixtures.py`)."""

    name: str
    token_secret: str = Field(description="Name of the case secret that is the API's bearer token.")
    data: Any = Field(description="The JSON document served at GET /data.")
    responses: list[ApiResponse] = Field(
        default_factory=list,
        description="How the API answers a side's first GET /data requests with the right token, in order (a 503, "
        "a hang); later ones get `data`. Each side counts its own at its own address, `${http.<name>.<engine>.url}` "
        "(`.host`, `.port`); an API with responses has no shared address, whose count would mix the sides.",
    )
    page_size: int | None = Field(
        None,
        ge=1,
        description="Serve `data` (a list, or a mapping with an `items` list) in pages: GET /data?page=N (from 1, "
        'the default) answers {..., "items": [the Nth page], "page": N, "next_page": N + 1, or null on the last}. '
        "Every page is one request, so it takes one turn of `responses`.",
    )
    not_ready_checks: int = Field(
        0,
        ge=0,
        description='GET /health (no token needed) answers 503 {"status": "starting"} to a side\'s first N checks, '
        'then 200 {"status": "ok"}: an API still starting. Counted per side, like `responses`.',
    )

    @model_validator(mode="after")
    def _pages_need_items(self) -> HttpApi:
        if self.page_size is not None:
            items = self.data.get("items") if isinstance(self.data, dict) else self.data
            if not isinstance(items, list):
                raise ValueError("page_size needs data that is a list, or a mapping with an `items` list")
        return self


class PostgresDatabase(Strict):
    """A fresh database per side on the machine's PostgreSQL (127.0.0.1:5432), owned by a role made for the run.

    Each side gets `${postgres.<name>.url}` (`.host`, `.port`, `.database`, `.user`, `.password`): its own database,
    so neither side sees the other's rows. The password is random per run and watched by the leak check.
    """

    kind: Literal["postgres"] = "postgres"
    name: str
    setup_sql: str = Field(
        "",
        description="Run in each side's database before the run, as its owner: the tables and rows the world starts "
        "with. A fault is a world this leaves broken (a table missing, a row a constraint refuses).",
    )
    tables: list[str] = Field(
        default_factory=list,
        description="Tables whose rows each side leaves behind are compared: `postgres.<name>.<table>` (the rows, "
        "sorted) and `postgres.<name>` (row count and checksum per table), both under `messages`.",
    )
    activity: bool = Field(
        False,
        description="Sample pg_stat_activity through the run: the peak number of the side's queries active at once, "
        "as the database saw them (`postgres.<name>.activity`: [{peak_active: n}]).",
    )


class SmtpServer(Strict):
    """A real SMTP server per side on 127.0.0.1 (aiosmtpd) that needs a login: `${smtp.<name>.host}`, `.port`,
    `.user`, `.password`. What it receives is compared: `smtp.<name>` lists {from, to, subject, body} per message."""

    kind: Literal["smtp"] = "smtp"
    name: str
    refuse_first: int = Field(
        0, ge=0, description="The first N messages a side sends are refused with a transient 451 (a flaky relay)."
    )


class S3Object(Strict):
    """An object the world holds: there before the run, or put `after_seconds` into it (a file that lands late)."""

    bucket: str
    key: str
    content: str = ""
    after_seconds: float = Field(0.0, ge=0)


class S3Store(Strict):
    """A real S3-compatible server (SeaweedFS, one per batch) with a bucket set per side, and keys for the run.

    Each side gets `${s3.<name>.endpoint}`, `.access_key`, `.secret_key`, `.region` and `${s3.<name>.bucket.<b>}`, the
    side's own name for bucket <b>. What each side leaves in its buckets is compared: `s3.<name>` lists
    {bucket, key, size, sha256}, sorted.
    """

    kind: Literal["s3"] = "s3"
    name: str
    buckets: list[str] = Field(min_length=1)
    objects: list[S3Object] = Field(default_factory=list)

    @model_validator(mode="after")
    def _objects_in_known_buckets(self) -> S3Store:
        for obj in self.objects:
            if obj.bucket not in self.buckets:
                raise ValueError(f"object {obj.key!r}: bucket {obj.bucket!r} is not one of {self.buckets}")
        return self


Service = Annotated[PostgresDatabase | SmtpServer | S3Store, Field(discriminator="kind")]


class PrefectBlock(Strict):
    """A block the Prefect worker saves on its server before the run.

    `block` names a Block class of the flow module, or a function of it that returns a block instance (so the
    recipe can keep, say, a notification payload template in code).
    """

    block: str
    name: str
    fields: dict[str, Any]


class Overlap(Strict):
    """Bounds on how many of the matching tasks ran at the same moment, measured from their start/end times."""

    tasks: str = Field(description="A task name (its mapped instances included), or a glob over task names.")
    at_most: int = Field(ge=1)
    at_least: int = Field(1, ge=1)


class RetryWait(Strict):
    """Bounds on the time a task waited between its tries, summed, on each engine: its retry delays, measured."""

    at_least: float = Field(0.0, ge=0, description="Seconds; a translation that retries at once falls below it.")
    at_most: float = Field(gt=0, description="Seconds; delays longer than the DAG's go above it.")

    @model_validator(mode="after")
    def _ordered(self) -> RetryWait:
        if self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least}) is more than at_most ({self.at_most})")
        return self


class TaskSeconds(RetryWait):
    """Bounds on how long a task tried once ran, from its start to its end as the engine recorded them: a wait
    inside the task (a Retry-After slept through in place) that is too short or too long falls outside."""


class SchedulePreview(Strict):
    """Instead of running anything: the next run times each engine computes from the recipe's schedule."""

    dag_id: str = Field(description="The DAG whose timetable (with its start_date, end_date) is previewed.")
    deployment: str = Field(description="`flow-name/deployment-name` among the flow module's `deployments()`.")
    after: datetime = Field(description="Preview the runs due at or after this moment (timezone-aware).")
    count: int = Field(5, ge=1, le=100)


class HumanResponse(Strict):
    """Someone answering a run that waits: from outside the run, through the engine's API, while it waits
    (Airflow: the HITL detail of a task in `awaiting_input`; Prefect: `resume_flow_run` with `run_input` on a paused
    or suspended flow run). A side set to null has no such request (a suspended Prefect run resumed by the producer
    of the data it waits for, say)."""

    after_seconds: float = Field(0.0, ge=0, description="How long after the request appears the answer is given.")
    airflow: dict[str, Any] | None = Field(description="The HITL response body: `chosen_options`, `params_input`.")
    prefect: dict[str, Any] | None = Field(
        description="The `run_input` the paused flow run's RunInput is loaded from ({} to resume with no input)."
    )


class AirflowBackfill(Strict):
    """Airflow side, scheduler mode: instead of one triggered run, a backfill over a date range
    (`POST /api/v2/backfills`), with the case's params as every run's conf; the side waits for all its runs."""

    from_date: datetime | timedelta = Field(description="An aware datetime, or an ISO duration from now (-P2D).")
    to_date: datetime | timedelta = Field(description="An aware datetime, or an ISO duration from now (-P0D).")
    max_active_runs: int = Field(10, ge=1)
    reprocess_behavior: Literal["none", "failed", "completed"] = "none"
    held_after_seconds: float | None = Field(
        None,
        gt=0,
        description="A run still going this long after the run before it ended is reported as it stands: "
        "depends_on_past holds a task whose past failed, and such a run never ends by itself.",
    )


class FileExpectation(Strict):
    """What one file a side writes must hold (paths in it to a side's workdir read `${workdir}`)."""

    text: str | None = Field(None, description="The whole content, as text.")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="The content's SHA-256, for binaries.")
    contains: list[str] = Field(default_factory=list, description="Lines or fragments the content must contain.")

    @model_validator(mode="after")
    def _says_something(self) -> FileExpectation:
        if self.text is None and self.sha256 is None and not self.contains:
            raise ValueError("a file expectation needs text, sha256 or contains (null: the file must not exist)")
        return self


class Expectation(Strict):
    """What each side on its own must have produced: checked on both, so two sides wrong the same way fail."""

    run_state: RunState | None = None
    refused: str | dict[Engine, str] | None = Field(
        None,
        description="The run is refused before any task runs (its input fails validation); the text each side's "
        "refusal must contain (case-insensitive), one for both or one per engine.",
    )
    errors: dict[str, str | dict[Engine, str | None]] = Field(
        default_factory=dict,
        description="Each task (or glob, or a mapped task's name) that fails, and the class of its failure: an "
        "exception class name (ValueError) or `timeout`; one per engine where the engines raise their own "
        "(Airflow's BashOperator raises AirflowException), null for an engine where it does not fail (or does "
        "not exist: a task of the other engine's shape). A failed task not listed here is a mismatch.",
    )

    @model_validator(mode="after")
    def _per_engine_entries_name_both_engines(self) -> Expectation:
        for field, what in (("errors", "a class"), ("tasks", "an outcome")):
            for key, wanted in getattr(self, field).items():
                if isinstance(wanted, dict) and set(wanted) != {"airflow", "prefect"}:
                    raise ValueError(f"{field}.{key}: {what} per engine names both airflow and prefect")
        for pattern, wanted in self.errors.items():
            if isinstance(wanted, dict) and wanted["airflow"] is None and wanted["prefect"] is None:
                raise ValueError(f"errors.{pattern}: it fails on at least one engine")
        return self

    def error_for(self, pattern: str, engine: Engine) -> str | None:
        """The class `pattern` fails with on `engine`; None: it does not fail there."""
        wanted = self.errors[pattern]
        return wanted if isinstance(wanted, str) else wanted[engine]

    max_overlap: Overlap | None = None
    retry_waits: dict[str, RetryWait] = Field(
        default_factory=dict,
        description="Each task's wait between tries, summed (seconds, from the engine's own record of each try).",
    )
    task_seconds: dict[str, TaskSeconds] = Field(
        default_factory=dict,
        description="Each task's run time, from start to end (seconds), for tasks tried once (`attempts` 1).",
    )
    messages: dict[str, int | list[Any]] = Field(
        default_factory=dict,
        description="Each webhook's messages: how many, or the list of them (each a JSON subset of the message).",
    )
    logs: dict[Engine, list[str]] = Field(
        default_factory=dict,
        description="Fragments each side's own log must show during the case: what only a log records (a hook or "
        "notifier that failed, which the engine logs and swallows, changing no state).",
    )
    tasks: dict[str, Outcome | dict[Engine, Outcome]] = Field(
        default_factory=dict,
        description="Each task's outcome; one per engine where they differ by design (what the page explains): "
        "each side is then held to its own, and the two are not compared on that task.",
    )

    def outcome_for(self, name: str, engine: Engine) -> Outcome | None:
        wanted = self.tasks.get(name)
        return wanted[engine] if isinstance(wanted, dict) else wanted

    attempts: dict[str, int] = Field(default_factory=dict)
    result: Any = Field(None, description="The run's result, exactly (after the recipe's normalisation).")
    result_subset: Any = Field(None, description="A JSON subset the result must contain (dict keys, list items).")
    files: dict[str, FileExpectation | None] = Field(default_factory=dict, description="null: must not exist.")
    passed_through: dict[Engine, list[str]] = Field(
        default_factory=dict,
        description="Run states one engine's run must pass through, in order (Prefect: Suspended, Paused).",
    )

    @property
    def expects_result(self) -> bool:
        return "result" in self.model_fields_set


class Case(Strict):
    """One run of both sides on the same inputs."""

    name: str
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    prefect_flow: str | None = Field(
        None,
        description="Another flow of the recipe's module to run as the Prefect side (a variant the page teaches "
        "beside the main translation, held to the same DAG and the same expectation).",
    )
    params_for: dict[Engine, dict[str, Any]] = Field(
        default_factory=dict,
        description="Extra parameters for one side only, where the engines' idioms differ (merged over params).",
    )
    logical_date: datetime | None = Field(
        None,
        description="Airflow's logical date for the run (dag.test); `${logical_date}` gives it to the Prefect side.",
    )
    scheduled_runs: list[datetime] = Field(
        default_factory=list,
        description="Prefect (deployment mode): one run of the deployment per scheduled time, in this order, each "
        "started once the one before ended, as a scheduler makes them; the Prefect side of a multi-interval "
        "`airflow_backfill`, reported the same way (`task[i]` for the i-th run; failed if any run failed).",
    )
    pools: dict[str, int] = Field(default_factory=dict, description="Airflow pools: name -> slots.")
    airflow_workers: int | None = Field(
        None,
        ge=1,
        le=4,
        description="Airflow side, `airflow_executor: celery`: how many `airflow celery worker` processes (one "
        "task at a time each, named worker-1, worker-2, ...) consume the queue during this case (default 1).",
    )
    concurrency_limits: dict[str, int] = Field(
        default_factory=dict, description="Prefect global concurrency limits (for `concurrency()`): name -> limit."
    )
    tag_limits: dict[str, int] = Field(
        default_factory=dict, description="Prefect tag-based task concurrency limits: tag -> limit."
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description="Variables set on both engines before the run (Airflow Variable, Prefect Variable); "
        "null deletes one, so a case can prove a default.",
    )
    secrets: list[str] = Field(default_factory=list, description="Random values made fresh for each run.")
    env: dict[Engine, dict[str, str]] = Field(default_factory=dict)
    delayed_files: list[DelayedFile] = Field(default_factory=list)
    http_apis: list[HttpApi] = Field(default_factory=list)
    webhooks: list[str] = Field(
        default_factory=list,
        description="Receivers on 127.0.0.1, one per side: `${webhook.<name>.url}` (its path holds a secret token).",
    )
    services: list[Service] = Field(
        default_factory=list,
        description="Real services the harness starts for the case, one instance (or database, or bucket set) per "
        "side: PostgreSQL, SMTP, S3. What each side left in them is compared under `messages`.",
    )
    prefect_blocks: list[PrefectBlock] = Field(default_factory=list)
    await_files: list[str] = Field(
        default_factory=list,
        description="Files (relative to workdir) written by runs the case's run causes (a triggered consumer, a "
        "child): after the run ends, each side waits for them before the files are compared.",
    )
    settle_seconds: float = Field(
        0.0, ge=0, description="Then waits this long more, so a duplicate downstream run would show in the files."
    )
    airflow_backfill: AirflowBackfill | None = None
    schedule_preview: SchedulePreview | None = None
    respond: list[HumanResponse] = Field(
        default_factory=list,
        description="Answers to the run's requests for input, one per request in the order they appear; an answer "
        "the run never asked for is an error of that side.",
    )
    expect: Expectation = Field(default_factory=Expectation)

    @model_validator(mode="after")
    def _expectation_is_complete(self) -> Case:
        """A case says how it ends: the run's state, what each task did, and why a failing run failed."""
        expect = self.expect
        if expect.run_state is None:
            raise ValueError("expect.run_state is required (success or failed)")
        if expect.refused is not None:
            if expect.run_state is not RunState.FAILED:
                raise ValueError("a refused run ends failed: expect.run_state must be failed")
            return self
        if self.schedule_preview is None and not expect.tasks:
            raise ValueError("expect.tasks is required: the outcome of at least the tasks the case is about")
        if self.scheduled_runs and self.logical_date is not None:
            raise ValueError("scheduled_runs and logical_date both set: the runs' times are in scheduled_runs")
        if expect.run_state is RunState.FAILED and not expect.errors and self.airflow_backfill is None:
            raise ValueError("a failing case declares expect.errors: which task fails, with which error class")
        return self

    def params_of(self, engine: Engine) -> dict[str, Any]:
        """This case's parameters for one engine: the shared ones and that engine's own."""
        return {**self.params, **self.params_for.get(engine, {})}


class PageMeta(Strict):
    """The front matter of `recipes/<name>.md`: what a reader sees before the narrative."""

    title: str
    summary: str
    order: int = 100
    concepts: list[Concept] = Field(default_factory=list)
    upstream: list[Link] = Field(default_factory=list, description="Upstream threads the gotchas cite.")


class CasesFile(Strict):
    """`recipes/<name>.cases.yaml`: how both sides are run, and the cases that prove them equivalent."""

    dag_id: str | None = Field(None, description="Defaults to the recipe name.")
    flow_name: str | None = Field(None, description="Defaults to the recipe name with '-' for '_'.")
    result_task: str | None = Field(None, description="The Airflow task whose return value is the run result.")
    timeout_seconds: float = Field(90, gt=0, description="Per case and side; a side past it is killed.")
    airflow_mode: Literal["dag_test", "scheduler"] = Field(
        "dag_test",
        description="scheduler: run under Airflow's scheduler and a LocalExecutor (pools, parallelism), "
        "not dag.test(), which runs one task at a time.",
    )
    airflow_executor: Literal["local", "celery"] = Field(
        "local",
        description="Scheduler mode only: celery runs the scheduler with a CeleryExecutor (broker: the machine's "
        "Redis on 127.0.0.1:6379, result backend: the stack's PostgreSQL database) and each case's "
        "`airflow_workers` Celery workers, instead of a LocalExecutor.",
    )
    prefect_mode: Literal["call", "deployment"] = Field(
        "call",
        description="deployment: serve the flow module's `deployments()` with a Runner (what `serve()` does: each "
        "run in its own process) and start the case's run with `run_deployment`, not as a function call.",
    )
    parity: Parity = Field(default_factory=Parity)
    cases: list[Case] = Field(min_length=1)
    harmless_mutations: dict[str, str] = Field(
        default_factory=dict,
        description="Mutants of the flow (ids as `make mutate` prints them) that no case kills, each with why the "
        "change does not alter what the flow does.",
    )

    @model_validator(mode="after")
    def _unique_case_names(self) -> CasesFile:
        names = [c.name for c in self.cases]
        if len(names) != len(set(names)):
            raise ValueError(f"case names must be unique: {names}")
        return self

    @model_validator(mode="after")
    def _services_are_compared(self) -> CasesFile:
        """What a side left in a real service is the point of such a case: it is never left out of the verdict."""
        uses = [c.name for c in self.cases if c.services]
        if uses and "messages" not in self.parity.compare:
            raise ValueError(f"cases {uses} use services: parity.compare must include messages")
        return self

    @model_validator(mode="after")
    def _celery_needs_the_scheduler(self) -> CasesFile:
        if self.airflow_executor == "celery" and self.airflow_mode != "scheduler":
            raise ValueError("airflow_executor: celery needs airflow_mode: scheduler (dag.test() has no executor)")
        if self.airflow_executor != "celery" and any(c.airflow_workers for c in self.cases):
            raise ValueError("airflow_workers needs airflow_executor: celery (a LocalExecutor has no workers)")
        return self

    @model_validator(mode="after")
    def _backfills_need_the_scheduler(self) -> CasesFile:
        if self.airflow_mode != "scheduler" and any(c.airflow_backfill for c in self.cases):
            raise ValueError("airflow_backfill needs airflow_mode: scheduler (dag.test() runs no backfills)")
        return self


class RecipeMeta(PageMeta, CasesFile):
    """Both files of a recipe, read as one."""


class RecipeError(Exception):
    """A recipe page that cannot be read; the message is one line fit for a user."""


class Recipe(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    meta: RecipeMeta
    body: str
    page: Path

    @property
    def root(self) -> Path:
        """The cookbook this recipe belongs to: `recipes/`, `airflow_dags/` and `prefect_flows/` side by side."""
        return self.page.parent.parent

    @property
    def dag_file(self) -> Path:
        return self.root / "airflow_dags" / f"{self.name}.py"

    @property
    def flow_file(self) -> Path:
        return self.root / "prefect_flows" / f"{self.name}.py"

    @property
    def dag_id(self) -> str:
        return self.meta.dag_id or self.name

    @property
    def flow_name(self) -> str:
        return self.meta.flow_name or self.name.replace("_", "-")

    @cached_property
    def cases_by_name(self) -> dict[str, Case]:
        return {c.name: c for c in self.meta.cases}


def cases_file(page: Path) -> Path:
    """The cases of the recipe whose page is `page`: `recipes/<name>.cases.yaml`, beside it."""
    return page.with_name(f"{page.stem}.cases.yaml")


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...], default: int) -> int:
    """The line (1-based) of the deepest YAML node along a validation error's location."""
    line = default
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((key, value) for key, value in node.value if key.value == part), None)
            if pair is None:
                break
            marked, node = pair  # a field's line is its key's (a block value starts on the next line)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            marked = node = node.value[part]
        else:
            break
        line = marked.start_mark.line + 1
    return line


def _validated(model: type[Strict], text: str, where: Path, first_line: int) -> dict[str, Any]:
    """`text` (YAML starting at line `first_line` of `where`) checked against `model`; its data as read."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{first_line + mark.line}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"{where}:{line}not YAML: {problem}".replace("\n", " ")) from exc
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}:{first_line}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where_in = ".".join(str(p) for p in first["loc"]) or "(top)"
        # The node tree, for line numbers, only once something is wrong: a valid file is parsed once.
        line = first_line - 1 + _line_of(yaml.compose(text), tuple(first["loc"]), 1)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RecipeError(f"{where}:{line}: {where_in}: {first['msg']}{more}".replace("\n", " ")) from exc
    return raw


def load_recipe(page: Path) -> Recipe:
    """A recipe from its page and, beside it, its cases file; a bad one is a one-line `RecipeError`."""
    name = page.stem
    if not _NAME.match(name):
        raise RecipeError(f"{page.name}: a recipe name is lower_snake_case")
    match = _FRONT_MATTER.match(page.read_text(encoding="utf-8"))
    if not match:
        raise RecipeError(f"{page}: no YAML front matter between '---' lines")
    front = _validated(PageMeta, match.group(1), page, first_line=2)
    cases_path = cases_file(page)
    if not cases_path.is_file():
        raise RecipeError(f"{cases_path}: missing (the cases that prove recipes/{page.name})")
    cases = _validated(CasesFile, cases_path.read_text(encoding="utf-8"), cases_path, first_line=1)
    return Recipe(name=name, meta=RecipeMeta.model_validate({**front, **cases}), body=match.group(2), page=page)


def recipe_names(root: Path = PROJECT_ROOT) -> list[str]:
    """Every recipe's name, from the file names alone (no page is parsed)."""
    return sorted(p.stem for p in (root / "recipes").glob("*.md"))


def discover(root: Path = PROJECT_ROOT) -> dict[str, Recipe]:
    """Every recipe of a cookbook, in reading order (the page's `order`, then name)."""
    recipes = [load_recipe(p) for p in sorted((root / "recipes").glob("*.md"))]
    recipes.sort(key=lambda r: (r.meta.order, r.name))
    return {r.name: r for r in recipes}
