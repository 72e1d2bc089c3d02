"""What the audit knows about Airflow itself: argument names, the template context, how values are normalised.

Both the scanner (reading DAG files) and the catalog (reading recipe concepts) use these rules, so
`TriggerRule.ALL_DONE` in a DAG and `trigger_rule="all_done"` in a concept, or `"0 6 * * *"` and `"30 2 * * 1"`,
come out as the same value.
Nothing here says which recipe shows what: that lives only in the recipes' front matter (`concepts`). What is here
answers only where no recipe does, and says so by its grade: `nothing` to do, or a `generic` pointer.
"""

from __future__ import annotations

import ast
import re

from cookbook.audit.findings import Effort, Finding, Kind

# Flags the scanner sets on findings; a concept can name them in words ("... (parse time)").
PARSE_TIME = "parse time"
# Date shortcuts of Airflow 2's template context that Airflow 3 removed (each derivable from the data interval).
REMOVED_DATE_TEMPLATES = (
    "next_ds",
    "next_ds_nodash",
    "prev_ds",
    "prev_ds_nodash",
    "yesterday_ds",
    "yesterday_ds_nodash",
    "tomorrow_ds",
    "tomorrow_ds_nodash",
    "next_execution_date",
    "prev_execution_date",
    "prev_execution_date_success",
)
GENERATED_IN_A_LOOP = "generated in a loop"

ANY = "..."
"""A value that is not a literal (a variable, a call): it satisfies a concept's `name=...`, never `name="x"`."""

# Arguments of BaseOperator, accepted by every operator and TaskFlow decorator: each becomes a finding of its own.
TASK_ARGS: dict[str, Kind] = {
    "trigger_rule": "trigger_rule",
    "retries": "retry",
    "retry_delay": "retry",
    "retry_exponential_backoff": "retry",
    "max_retry_delay": "retry",
    "retry_policy": "retry",
    "execution_timeout": "timeout",
    "on_failure_callback": "callback",
    "on_success_callback": "callback",
    "on_retry_callback": "callback",
    "on_execute_callback": "callback",
    "on_skipped_callback": "callback",
    "email": "notification",
    "email_on_failure": "notification",
    "email_on_retry": "notification",
    "pool": "pool",
    "pool_slots": "pool",
    "priority_weight": "priority",
    "weight_rule": "priority",
    "queue": "executor",
    "executor": "executor",
    "executor_config": "executor",
    "run_as_user": "executor",
    "depends_on_past": "dependency",
    "wait_for_downstream": "dependency",
    "ignore_first_depends_on_past": "dependency",
    "max_active_tis_per_dag": "concurrency",
    "max_active_tis_per_dagrun": "concurrency",
    "deferrable": "deferrable",
    "do_xcom_push": "xcom",
    "multiple_outputs": "xcom",
    "outlets": "asset",
    "inlets": "asset",
    "params": "param",
    "owner": "dag_setting",
    "start_date": "schedule",
    "end_date": "schedule",
    "map_index_template": "mapping",
}

# Arguments of BaseSensorOperator (and @task.sensor): findings only on sensors, where they mean what they say.
SENSOR_ARGS: dict[str, Kind] = {
    "mode": "sensor_setting",
    "poke_interval": "sensor_setting",
    "timeout": "timeout",
    "soft_fail": "sensor_setting",
    "exponential_backoff": "sensor_setting",
    "max_wait": "sensor_setting",
    "silent_fail": "sensor_setting",
}

# DAG arguments with a kind of their own; any other DAG argument is still listed (as `dag_setting`) unless it is
# only documentation or display.
DAG_ARGS: dict[str, Kind] = {
    "schedule": "schedule",
    "schedule_interval": "schedule",
    "timetable": "schedule",
    "start_date": "schedule",
    "end_date": "schedule",
    "catchup": "catchup",
    "max_active_runs": "concurrency",
    "max_active_tasks": "concurrency",
    "concurrency": "concurrency",
    "dagrun_timeout": "timeout",
    "params": "param",
    "on_success_callback": "callback",
    "on_failure_callback": "callback",
    "sla_miss_callback": "callback",
    "deadline": "callback",
    "template_searchpath": "template",
    "user_defined_macros": "template",
    "user_defined_filters": "template",
    "render_template_as_native_obj": "template",
    "jinja_environment_kwargs": "template",
    "template_undefined": "template",
}
# Arguments Airflow renamed, and ones a concept names in words: matched as what they are, when they match nothing.
ARG_ALIASES: dict[str, tuple[str, ...]] = {
    "concurrency": ("max_active_tasks",),
    "task_concurrency": ("max_active_tis_per_dag",),
    "timeout": ("sensor timeout",),
}
# Airflow classes that are part of another construct: matched as it (`RetryRule` builds a `retry_policy`).
CALL_ALIASES: dict[str, tuple[str, ...]] = {
    "ExceptionRetryPolicy": ("retry_policy",),
    "RetryRule": ("retry_policy",),
}
# The DAG's id names it; every other argument is a finding, documentation and display ones included.
DAG_ARGS_IGNORED = frozenset({"dag_id"})
# Task arguments about the callable and its documentation, for operators taking one.
TASK_CALLABLE_ARGS: dict[str, Kind] = {
    "python_callable": "callable",
    "provide_context": "callable",
    "doc_md": "dag_setting",
    "doc": "dag_setting",
    "task_concurrency": "concurrency",
    "sla": "callback",
}
DOC_ARGS = frozenset({"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "description", "task_display_name"})

# Arguments whose value tells constructs apart in the report (`trigger_rule=all_done` is not `trigger_rule=one_failed`);
# for the others (`retries=3`, `retries=5`) the value is only a detail.
VALUED_ARGS = frozenset(
    {
        "trigger_rule",
        "mode",
        "catchup",
        "schedule",
        "schedule_interval",
        "timetable",
        "depends_on_past",
        "wait_for_downstream",
        "deferrable",
        "weight_rule",
        "retry_exponential_backoff",
        "render_template_as_native_obj",
        "soft_fail",
        "do_xcom_push",
        "multiple_outputs",
    }
)
SCHEDULE_ARGS = frozenset({"schedule", "schedule_interval", "timetable"})
# Arguments that take one of a fixed set of values, so a value in a concept is a category, not an example.
CATEGORICAL_ARGS = VALUED_ARGS | SCHEDULE_ARGS | {"type", "format", "mode", "weight_rule", "trigger_rule"}

TIMEDELTA_CALLS = frozenset({"timedelta", "duration", "relativedelta", "Duration"})
ASSET_CALLS = frozenset(
    {"Asset", "AssetAll", "AssetAny", "AssetAlias", "Dataset", "DatasetAll", "DatasetAny", "DatasetAlias", "Model"}
)

# Positional parameters of the Airflow calls that concepts spell with keywords (`ti.xcom_pull(task_ids=...)`), so
# `ti.xcom_pull("push")` passes `task_ids` as much as `ti.xcom_pull(task_ids="push")` does.
POSITIONAL_ARGS: dict[str, tuple[str, ...]] = {
    "xcom_pull": ("task_ids", "dag_id", "key"),
    "xcom_push": ("key", "value"),
    "Variable.get": ("key", "default_var", "deserialize_json"),
    "Variable.set": ("key", "value", "description", "serialize_json"),
    "Variable.setdefault": ("key", "default", "description", "deserialize_json"),
    "BaseHook.get_connection": ("conn_id",),
    "Connection.get_connection_from_secrets": ("conn_id",),
    "Param": ("default",),
    "DAG": ("dag_id",),
    "TaskGroup": ("group_id",),
}

# Task dependencies: functions of Airflow's, and methods on any task.
DEPENDENCY_FUNCTIONS = frozenset({"chain", "chain_linear", "cross_downstream"})
DEPENDENCY_METHODS = frozenset({"set_downstream", "set_upstream"})
# Functions that return the task context (`context["ti"]` then reads it).
CONTEXT_FUNCTIONS = frozenset({"get_current_context"})
# Parameters that hold the task context: `def execute(self, context)`, `def callback(context)`.
CONTEXT_PARAMS = frozenset({"context"})

# Methods recognised on any receiver, since the receiver's type is unknown without running the code.
MAPPING_METHODS = frozenset({"expand", "expand_kwargs", "partial"})
XCOM_METHODS = frozenset({"xcom_push", "xcom_pull"})
SETUP_TEARDOWN_METHODS = frozenset({"as_setup", "as_teardown"})
VARIABLE_METHODS = frozenset({"get", "set", "setdefault", "delete", "update"})

# TaskFlow decorators by the name Airflow exports them under; `task.<x>` is any attribute of `task`.
TASKFLOW_DECORATORS = frozenset({"task", "task_group", "taskgroup", "setup", "teardown"})
DAG_DECORATORS = frozenset({"dag"})
ASSET_DECORATORS = frozenset({"asset"})

# Template context roots whose second part is Airflow's API (`macros.ds_add`), not a user's name (`params.x`).
NAMESPACED_ROOTS = frozenset(
    {"macros", "var", "ti", "task_instance", "dag_run", "dag", "task", "outlet_events", "inlet_events", "conf"}
)
TEMPLATE_ROOT_ALIASES = {"task_instance": "ti"}
# A template that is the same construct as a Python API call gets that call as an alias.
TEMPLATE_ALIASES: dict[str, list[str]] = {
    "{{ params }}": ["params"],
    "{{ ti.xcom_pull }}": ["xcom_pull"],
    "{{ ti.xcom_push }}": ["xcom_push"],
    "{{ var.value }}": ["Variable.get"],
    "{{ var.json }}": ["Variable.get"],
    "{{ conn }}": ["conn_id"],
    "{{ execution_date }}": ["{{ logical_date }}"],
    "{{ dag_run.conf }}": ["dag_run.conf"],
}
_JINJA_WORDS = frozenset(
    {
        "if",
        "else",
        "elif",
        "endif",
        "for",
        "endfor",
        "in",
        "not",
        "and",
        "or",
        "is",
        "none",
        "None",
        "true",
        "false",
        "True",
        "False",
        "loop",
        "range",
        "set",
        "macro",
        "endmacro",
        "block",
        "endblock",
        "with",
        "endwith",
        "raw",
        "endraw",
        "filter",
        "endfilter",
        "call",
        "endcall",
        "include",
        "import",
        "from",
        "extends",
        "defined",
        "undefined",
    }
)
_TEMPLATE_EXPR = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TEMPLATE_TAG = re.compile(r"\{%-?\s*([A-Za-z_]\w*)(.*?)-?%\}", re.DOTALL)
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
# A dotted name not preceded by a dot, not a keyword argument (`key=`), and not a filter (`| default`).
_CHAIN = re.compile(r"(?<![\w.|])(?<!\|\s)([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)(?![\w.])(?!\s*=[^=])")
_BOUND = re.compile(r"\{%-?\s*(?:for\s+([\w\s,]+?)\s+in|set\s+(\w+))")


def template_constructs(text: str) -> list[str]:
    """The template constructs in a string, deduplicated in order: `{{ ds }}`, `{{ macros.ds_add }}`, `{% for %}`.

    A variable is named by its root, plus its second part where that is Airflow's API (`{{ ti.xcom_pull }}`), never
    the user's own name (`{{ params.x }}` is `{{ params }}`). Loop variables and `set` names of the same string are
    not constructs.
    """
    bound: set[str] = set()
    for match in _BOUND.finditer(text):
        for group in match.groups():
            if group:
                bound.update(part.strip() for part in group.split(","))
    found: dict[str, None] = {}
    for match in _TEMPLATE_TAG.finditer(text):
        tag = match.group(1)
        if not tag.startswith("end") and tag not in {"else", "elif"}:
            found[f"{{% {tag} %}}"] = None
        _add_chains(match.group(2), bound, found)
    for match in _TEMPLATE_EXPR.finditer(text):
        _add_chains(match.group(1), bound, found)
    return list(found)


def _add_chains(expression: str, bound: set[str], found: dict[str, None]) -> None:
    for chain in _CHAIN.findall(_QUOTED.sub("''", expression)):
        parts = [p.strip() for p in chain.split(".")]
        root = TEMPLATE_ROOT_ALIASES.get(parts[0], parts[0])
        if root in _JINJA_WORDS or root in bound:
            continue
        name = f"{root}.{parts[1]}" if root in NAMESPACED_ROOTS and len(parts) > 1 else root
        found[f"{{{{ {name} }}}}"] = None


def callee_name(node: ast.expr) -> str | None:
    """The last name of what is called or referred to: `timedelta` for `datetime.timedelta(...)`."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def classify_schedule(node: ast.expr) -> str:
    """`None`, a preset (`@daily`), `cron`, `timedelta`, `timetable`, `assets` (Dataset or Asset) or `...`.

    Airflow accepts nothing else as a schedule, so any class called for one that is neither an asset nor a duration
    is a timetable.
    """
    if isinstance(node, ast.Constant):
        if node.value is None:
            return "None"
        if isinstance(node.value, str):
            text = node.value.strip()
            return text if text.startswith("@") else "cron"
        return ANY
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return "assets"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr | ast.BitAnd):
        return "assets"
    name = callee_name(node)
    if isinstance(node, ast.Call) and name:
        if name in TIMEDELTA_CALLS:
            return "timedelta"
        if name in ASSET_CALLS:
            return "assets"
        # Whatever else a schedule is built from (CronTriggerTimetable, AssetOrTimeSchedule...) is a timetable.
        if name[:1].isupper():
            return "timetable"
    if isinstance(node, ast.Attribute) and node.attr.isupper():
        return node.attr.lower()
    return ANY


def normalise_value(arg: str | None, node: ast.expr) -> str:
    """A keyword argument's value as a short comparable text, the same for a DAG file and a concept's text."""
    if arg in SCHEDULE_ARGS:
        return classify_schedule(node)
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis:
            return ANY
        return str(node.value)
    # Enum members: `TriggerRule.ALL_DONE` is the string "all_done" Airflow compares against.
    if isinstance(node, ast.Attribute) and node.attr.isupper():
        return node.attr.lower()
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return str(ast.literal_eval(node)) if isinstance(node.op, ast.USub) else ANY
    return ANY


def normalise_text(arg: str | None, text: str) -> str:
    """`normalise_value` for a value written in a concept's text (`"poke"`, `TriggerRule.ALL_DONE`, `...`, `array`)."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return text.strip().strip("\"'")
    if isinstance(node, ast.Name) and arg not in SCHEDULE_ARGS:
        # A bare word in prose (`type=array`) means the string, not a variable.
        return node.id
    return normalise_value(arg, node)


# ---- Airflow 2 idioms: what Airflow 3 has instead ----------------------------------------------------------------

AIRFLOW2_NAMES: dict[str, str] = {
    "schedule_interval": "schedule=... (schedule_interval was removed)",
    "timetable": "schedule=<the timetable> (timetable= was removed)",
    "provide_context": "removed: a callable that takes **context (or named context keys) gets them",
    "concurrency": "max_active_tasks",
    "task_concurrency": "max_active_tis_per_dag",
    "sla": "removed: Deadline Alerts (DAG(deadline=...))",
    "sla_miss_callback": "removed: Deadline Alerts (DAG(deadline=...))",
    "SubDagOperator": "removed: a TaskGroup, or a DAG of its own started by TriggerDagRunOperator",
    "DummyOperator": "EmptyOperator (airflow.providers.standard.operators.empty)",
    "days_ago": "removed: a fixed pendulum.datetime(...) start_date",
    "email_on_failure": "deprecated: SmtpNotifier in on_failure_callback",
    "email_on_retry": "deprecated: SmtpNotifier in on_retry_callback",
    "Dataset": "Asset (airflow.sdk)",
    "DatasetAlias": "AssetAlias (airflow.sdk)",
    "DatasetAll": "AssetAll (airflow.sdk)",
    "DatasetAny": "AssetAny (airflow.sdk)",
    "{{ execution_date }}": "{{ logical_date }}",
    'context["execution_date"]': 'context["logical_date"]',
    **{
        f"{{{{ {name} }}}}": "removed: derive it from data_interval_start / data_interval_end"
        for name in REMOVED_DATE_TEMPLATES
    },
}
# Airflow 2 import paths and where Airflow 3 has the same classes (the provider packages or the Task SDK).
AIRFLOW3_MODULES: dict[str, str] = {
    "airflow.operators.python": "airflow.providers.standard.operators.python",
    "airflow.operators.bash": "airflow.providers.standard.operators.bash",
    "airflow.operators.empty": "airflow.providers.standard.operators.empty",
    "airflow.operators.dummy": "airflow.providers.standard.operators.empty",
    "airflow.operators.trigger_dagrun": "airflow.providers.standard.operators.trigger_dagrun",
    "airflow.operators.latest_only": "airflow.providers.standard.operators.latest_only",
    "airflow.operators.datetime": "airflow.providers.standard.operators.datetime",
    "airflow.operators.weekday": "airflow.providers.standard.operators.weekday",
    "airflow.operators.email": "airflow.providers.smtp.operators.smtp",
    "airflow.sensors.filesystem": "airflow.providers.standard.sensors.filesystem",
    "airflow.sensors.external_task": "airflow.providers.standard.sensors.external_task",
    "airflow.sensors.python": "airflow.providers.standard.sensors.python",
    "airflow.sensors.time_delta": "airflow.providers.standard.sensors.time_delta",
    "airflow.sensors.date_time": "airflow.providers.standard.sensors.date_time",
    "airflow.sensors.time_sensor": "airflow.providers.standard.sensors.time",
    "airflow.sensors.bash": "airflow.providers.standard.sensors.bash",
    "airflow.hooks.base": "airflow.sdk",
    "airflow.models": "airflow.sdk",
    "airflow.models.dag": "airflow.sdk",
    "airflow.models.baseoperator": "airflow.sdk",
    "airflow.models.variable": "airflow.sdk",
    "airflow.models.param": "airflow.sdk",
    "airflow.decorators": "airflow.sdk",
    "airflow.datasets": "airflow.sdk",
    "airflow.utils.task_group": "airflow.sdk",
    "airflow.utils.edgemodifier": "airflow.sdk",
    "airflow.models.baseoperator.chain": "airflow.sdk",
}
AIRFLOW2_PREFIXES = ("airflow.operators", "airflow.sensors", "airflow.hooks", "airflow.contrib")


def airflow3_equivalent(name: str, module: str | None) -> str | None:
    """What Airflow 3 has for an Airflow 2 construct or import path; None when the construct is current."""
    if name in AIRFLOW2_NAMES:
        return AIRFLOW2_NAMES[name]
    if module is None:
        return None
    if module in AIRFLOW3_MODULES:
        return f"from {AIRFLOW3_MODULES[module]} import {name.split('.')[0]}"
    if module.startswith(AIRFLOW2_PREFIXES):
        return "moved to a provider package (airflow.providers.standard, or the provider the class belongs to)"
    return None


# ---- what the audit answers where no recipe does -----------------------------------------------------------------
# Recipes' concepts always come first (`catalog.py`); these answer only what no concept matched, each clearly
# graded: `nothing` (Prefect needs no counterpart) or `generic` (a pointer, not a tested recipe).

_DEFAULT = "the default"
NOTHING_TO_DO: dict[str, dict[str | None, str]] = {
    # name -> value (None: any value) -> why nothing needs doing
    "catchup": {"False": "Prefect never runs missed intervals by itself: a deployment's schedule starts from now"},
    "schedule": {"None": "a deployment without a schedule: it runs when triggered (UI, API, run_deployment)"},
    "schedule_interval": {"None": "a deployment without a schedule: it runs when triggered (UI, API, run_deployment)"},
    "depends_on_past": {"False": _DEFAULT},
    "wait_for_downstream": {"False": _DEFAULT},
    "retry_exponential_backoff": {"False": _DEFAULT},
    "soft_fail": {"False": _DEFAULT},
    "multiple_outputs": {"False": _DEFAULT},
    "do_xcom_push": {
        "True": "the default: a Prefect task's return value is its result",
        "False": "a task's return value is kept only for its callers (persisted only if result persistence is on)",
    },
    "email_on_retry": {"False": _DEFAULT},
    "email_on_failure": {"False": "no mail wanted: nothing to set up"},
    "render_template_as_native_obj": {
        None: "Prefect passes Python objects between tasks as they are: there is no Jinja rendering to configure"
    },
    "owner": {None: "Prefect has no owner field: a tag or the deployment's description if it matters"},
    "owner_links": {None: "UI links: Prefect has no owner field"},
    "dag_display_name": {None: "the flow's name is what the UI shows (@flow(name=...))"},
    "task_display_name": {None: "the task's name is what the UI shows (@task(name=...))"},
    "default_view": {None: "a UI preference of Airflow's: Prefect's UI has its own views"},
    "orientation": {None: "a UI preference of Airflow's: Prefect's UI has its own views"},
    "Label": {None: "an edge label is documentation: Prefect's task graph has no edge labels"},
    "EmptyOperator": {
        None: "an empty task only joins or fans out: in a flow the calls (or wait_for=[...]) give the order"
    },
    "DummyOperator": {
        None: "an empty task only joins or fans out: in a flow the calls (or wait_for=[...]) give the order"
    },
}

_FLOW_RUNTIME = "prefect.runtime.flow_run"
_SCHEDULE_UNSET = "Airflow 3: no schedule (a deployment without one); Airflow 2: daily (a daily cron on the deployment)"
_SCHEDULE_ONCE = "no schedule: run the deployment once (prefect deployment run, or run_deployment())"
GENERIC: dict[str, str] = {
    "DAG": "a @flow function: the tasks of the DAG's body become calls in it; schedule and settings go on a deployment",
    "dag": "@flow on the same function; its schedule and settings go on the deployment (prefect.yaml or .deploy())",
    "asset": "@materialize(asset) on a task (prefect.assets), called by a flow whose deployment has the schedule",
    "AssetWatcher": "a deployment trigger on an event (prefect.events), emitted by whatever watches the source",
    "Metadata": "add_asset_metadata(asset, {...}) in the @materialize task (prefect.assets)",
    "AssetAlias": "no alias: @materialize on an asset key computed at run time, or emit_event() with its resource id",
    "default_args": "no default_args: set task options per task, or share a dict via task.with_options(**options)",
    "doc_md": "the flow's (or task's) docstring, or @flow(description=...)",
    "doc": "the flow's (or task's) docstring, or @flow(description=...)",
    "doc_rst": "the flow's (or task's) docstring, or @flow(description=...)",
    "description": "@flow(description=...) or the flow's docstring; the deployment's description",
    "tags": "tags on the deployment (or @flow(tags=...) / `with prefect.tags(...)`)",
    ">>": "the order of the calls in the flow; wait_for=[upstream] where no data passes",
    "chain": "the order of the calls in the flow; wait_for=[upstream] where no data passes",
    "chain_linear": "the order of the calls in the flow; wait_for=[upstream] where no data passes",
    "cross_downstream": "wait_for=[every upstream] on each downstream task",
    "python_callable": "the callable becomes the body of a @task function",
    "op_kwargs": "keyword arguments of the @task call",
    "op_args": "positional arguments of the @task call",
    "get_current_context": "prefect.runtime (flow_run, task_run, deployment) or prefect.context.get_run_context()",
    "override": "task.with_options(name=..., retries=..., ...)",
    "inlets": "asset lineage: @materialize(asset, asset_deps=[...]) (prefect.assets)",
    "outlets": "@materialize(asset) (prefect.assets), or emit_event() for other consumers",
    "template_searchpath": "no Jinja in Prefect: the task reads its SQL or template file (Path(...).read_text())",
    "user_defined_macros": "no Jinja in Prefect: plain Python functions called in the task",
    "user_defined_filters": "no Jinja in Prefect: plain Python functions called in the task",
    "jinja_environment_kwargs": "no Jinja in Prefect: f-strings or a template library in the task",
    "template_undefined": "no Jinja in Prefect: f-strings or a template library in the task",
    "queue": "the deployment's work pool and work queue (per flow); a task runner for tasks (prefect-dask)",
    "executor": "the deployment's work pool type (process, Docker, Kubernetes...)",
    "executor_config": "the deployment's job variables (image, resources) on its work pool",
    "run_as_user": "the user the worker (or the work pool's job) runs as",
    "max_consecutive_failed_dag_runs": "an Automation that pauses the deployment after N failed flow runs",
    "max_active_tasks": "a concurrency limit: a task runner's max_workers, or a global concurrency limit",
    "weight_rule": "no task priority in Prefect: work queue priority, at the deployment level",
    "AirflowSkipException": "return early (a Completed state with a message if wanted): Prefect has no skipped state",
    "AirflowException": "raise any exception: the task run fails (and retries if it has retries)",
    "conf": "Prefect settings (prefect.settings) or environment variables read in the flow",
    "ObjectStoragePath": "prefect-aws S3Bucket (or fsspec / pathlib) in a task",
    "SubDagOperator": "a subflow: a @flow called from the parent flow",
    "days_ago": "a fixed start for the deployment's schedule (pendulum.datetime(...))",
    "sla": "an Automation on flow run duration, or a timeout",
    "sla_miss_callback": "an Automation on flow run duration (a 'flow run stuck running' trigger)",
    "deadline": "an Automation on flow run duration",
    "BaseOperator": "a @task function doing what execute() does (a class with a method is fine too)",
    "BaseSensorOperator": "a @task that polls: retries with a delay, or a loop with a timeout, until poke() holds",
    "BaseHook": "a Block holding the connection's fields, and a client built from it in the task",
    "AirflowPlugin": "no plugins in Prefect: import the module where it is used",
    "Timetable": "a deployment schedule: cron, interval or RRule (several schedules for irregular ones)",
    "PriorityWeightStrategy": "no task priority in Prefect: work queue priority, at the deployment level",
    "task.virtualenv": "a deployment whose work pool runs that environment, called as a subflow via run_deployment()",
    "task.external_python": "a deployment whose work pool runs that interpreter, called via run_deployment()",
    "task.docker": "a deployment on a Docker work pool, called via run_deployment()",
    "task.kubernetes": "a deployment on a Kubernetes work pool, called via run_deployment()",
    "PythonVirtualenvOperator": "a deployment whose work pool runs that environment, called via run_deployment()",
    "ExternalPythonOperator": "a deployment whose work pool runs that interpreter, called via run_deployment()",
    "{% for %}": "no Jinja in Prefect: a Python loop (or a comprehension) building the string in the task",
    "{% if %}": "no Jinja in Prefect: a Python conditional in the task",
    "{% set %}": "no Jinja in Prefect: a Python variable in the task",
    "{{ run_id }}": f"{_FLOW_RUNTIME}.id (or .name)",
    "{{ dag }}": f"{_FLOW_RUNTIME}.flow_name",
    "{{ dag.dag_id }}": f"{_FLOW_RUNTIME}.flow_name",
    "{{ task }}": "prefect.runtime.task_run (task_name)",
    "{{ task.task_id }}": "prefect.runtime.task_run.task_name",
    "{{ ti }}": "prefect.runtime.task_run (id, name, run_count)",
    "{{ ti.task_id }}": "prefect.runtime.task_run.task_name",
    "{{ ti.try_number }}": "prefect.runtime.task_run.run_count",
    "{{ dag_run }}": f"{_FLOW_RUNTIME} (id, parameters, scheduled_start_time)",
    "{{ dag_run.conf }}": f"the flow's parameters ({_FLOW_RUNTIME}.parameters)",
    "{{ dag_run.run_id }}": f"{_FLOW_RUNTIME}.id",
    "{{ ts_nodash }}": f"{_FLOW_RUNTIME}.scheduled_start_time formatted in the task",
    "{{ ts }}": f"{_FLOW_RUNTIME}.scheduled_start_time",
    "{{ logical_date }}": f"{_FLOW_RUNTIME}.scheduled_start_time",
    "{{ execution_date }}": f"{_FLOW_RUNTIME}.scheduled_start_time",
    "{{ conn }}": "a Block's fields, loaded in the task",
    "{{ macros }}": "plain Python (datetime, json...) in the task",
    "{{ inlet_events }}": "the triggering event's payload: a deployment trigger's parameters from the event",
    "{{ outlet_events }}": "@materialize(asset) with asset metadata (prefect.assets.add_asset_metadata)",
    **{
        f"{{{{ {name} }}}}": f"compute it from {_FLOW_RUNTIME}.scheduled_start_time in the task"
        for name in (
            *REMOVED_DATE_TEMPLATES,
            "prev_data_interval_start_success",
            "prev_data_interval_end_success",
            "prev_start_date_success",
            "data_interval_start",
            "data_interval_end",
        )
    },
}
# The context dict (`context["ti"]`, `kwargs["ds"]`) holds what templates see; its objects point at the same places.
CONTEXT_POINTERS: dict[str, str] = {
    key[3:-3]: pointer for key, pointer in GENERIC.items() if key.startswith("{{ ") and "." not in key
}
CONTEXT_POINTERS.update(
    {
        "ti": "prefect.runtime.task_run (id, name, run_count); XCom is the task's return value",
        "task_instance": "prefect.runtime.task_run (id, name, run_count); XCom is the task's return value",
        "task": "prefect.runtime.task_run (task_name); the task object itself has no Prefect counterpart",
        "dag": f"{_FLOW_RUNTIME}.flow_name; the DAG object itself has no Prefect counterpart",
        "params": f"the flow's parameters ({_FLOW_RUNTIME}.parameters)",
        "exception": "the state's exception in an on_failure hook (state.result(raise_on_failure=False))",
        "var": "a Variable (prefect.variables.Variable.get) or a Block",
        "ds": f"{_FLOW_RUNTIME}.scheduled_start_time formatted as a date",
    }
)

# The Prefect integration for each provider package, for provider classes no recipe shows.
PROVIDER_POINTERS: dict[str, str] = {
    "amazon": "prefect-aws (AwsCredentials, S3Bucket, ...) called in a task",
    "google": "prefect-gcp (GcpCredentials, GcsBucket, BigQuery) called in a task",
    "microsoft.azure": "prefect-azure called in a task",
    "snowflake": "prefect-snowflake (SnowflakeConnector) called in a task",
    "databricks": "prefect-databricks called in a task",
    "dbt": "prefect-dbt called in a task",
    "docker": "prefect-docker in a task, or the work as a deployment on a Docker work pool",
    "cncf.kubernetes": "prefect-kubernetes in a task, or the work as a deployment on a Kubernetes work pool",
    "ssh": "an SSH client (paramiko, fabric) called in a task, credentials in a Secret block",
    "sftp": "an SFTP client (paramiko) called in a task, credentials in a Secret block",
    "http": "httpx called in a task (retries on the task), the base URL and token in a Block",
    "postgres": "prefect-sqlalchemy (SqlAlchemyConnector) or psycopg called in a task",
    "mysql": "prefect-sqlalchemy (SqlAlchemyConnector) called in a task",
    "sqlite": "prefect-sqlalchemy (SqlAlchemyConnector) or sqlite3 called in a task",
    "common.sql": "prefect-sqlalchemy (SqlAlchemyConnector) called in a task",
    "slack": "prefect-slack (SlackWebhook) or an on_failure hook",
    "smtp": "prefect-email (EmailServerCredentials, email_send_message) called in a task",
    "github": "prefect-github called in a task",
}
_PROVIDER_FALLBACK = "the provider's Python client called in a task, its credentials in a Block"


def provider_package(module: str | None) -> str | None:
    """`airflow.providers.microsoft.azure.hooks.wasb` -> `microsoft.azure`; None outside the provider packages."""
    if not module or not module.startswith("airflow.providers."):
        return None
    parts = module.split(".")[2:]
    for size in (2, 1):
        if ".".join(parts[:size]) in PROVIDER_POINTERS:
            return ".".join(parts[:size])
    return parts[0] if parts else None


def fallback(finding: Finding) -> tuple[Effort, str] | None:
    """The grade and pointer for a construct no recipe matched: nothing to do, a generic pointer, or None."""
    names = [finding.name, *finding.aliases]
    for name in names:
        values = NOTHING_TO_DO.get(name)
        if values is not None:
            value = finding.kwargs.get(name, finding.kwargs.get(finding.name))
            if value in values:
                return "nothing", values[value]
            if None in values:
                return "nothing", values[None]
    if finding.kind == "schedule" and finding.name in SCHEDULE_ARGS | {"schedule"}:
        value = finding.kwargs.get(finding.name, "")
        if value == "unset":
            return "generic", _SCHEDULE_UNSET
        if value == "@once":
            return "generic", _SCHEDULE_ONCE
        if value.startswith("@"):
            return "generic", f"a cron schedule on the deployment ({value} as its cron expression)"
    pointer = _generic(finding.name)
    if pointer:
        return "generic", pointer
    provider = provider_package(finding.module) if finding.kind in ("operator", "sensor", "hook") else None
    if provider and provider != "standard" and "custom" not in finding.flags:
        # A provider's class is its integration's before it is any hook or operator (`BaseHook`).
        pointer = PROVIDER_POINTERS.get(provider, _PROVIDER_FALLBACK)
        if finding.kind == "sensor":
            pointer += "; poll with a task's retries or a loop (sensors recipe)"
        return "generic", pointer
    for alias in finding.aliases:
        pointer = _generic(alias)
        if pointer:
            return "generic", pointer
    return None


def _generic(name: str) -> str | None:
    if name in GENERIC:
        return GENERIC[name]
    if name.startswith('context["'):
        return CONTEXT_POINTERS.get(name[len('context["') :].split('"', 1)[0])
    if name.split(".", 1)[0] == "conf":  # `conf.get`, `conf.getint`, ... from airflow.configuration
        return GENERIC["conf"]
    return None
