"""What the audit knows about Airflow itself: argument names, the template context, how values are normalised.

Both the scanner (reading DAG files) and the catalog (reading recipe concepts) use these rules, so
`TriggerRule.ALL_DONE` in a DAG and `trigger_rule="all_done"` in a concept, or `"0 6 * * *"` and `"30 2 * * 1"`,
come out as the same value.
Nothing here says which recipe shows what: that lives only in the recipes' front matter (`concepts`).
"""

from __future__ import annotations

import ast
import re

from cookbook.audit.findings import Kind

# Flags the scanner sets on findings; a concept can name them in words ("... (parse time)").
PARSE_TIME = "parse time"
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
    "sla": "callback",
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
DAG_ARGS_IGNORED = frozenset(
    {"dag_id", "description", "doc_md", "tags", "dag_display_name", "default_view", "orientation", "owner_links"}
)
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
