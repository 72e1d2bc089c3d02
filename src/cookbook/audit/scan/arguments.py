"""Keyword arguments: a DAG's settings and schedule, `default_args`, a task's arguments, connections, templates.

What each argument name means comes from `vocabulary.py` (`DAG_ARGS`, `TASK_ARGS`, `SENSOR_ARGS`, ...).
"""

from __future__ import annotations

import ast
import re

from cookbook.audit.findings import Kind
from cookbook.audit.scan.base import ScannerBase, _DagState, _short
from cookbook.audit.vocabulary import (
    ANY,
    ARG_ALIASES,
    DAG_ARGS,
    DAG_ARGS_IGNORED,
    DOC_ARGS,
    POSITIONAL_ARGS,
    SCHEDULE_ARGS,
    SENSOR_ARGS,
    TASK_ARGS,
    TASK_CALLABLE_ARGS,
    TEMPLATE_ALIASES,
    VALUED_ARGS,
    classify_schedule,
    normalise_value,
    template_constructs,
)


def _valued(name: str, value: str) -> str:
    """`=all_done` for an argument whose value tells constructs apart; a class path or free text is no category, but
    a category of any length is (`trigger_rule=none_failed_min_one_success`)."""
    if name not in VALUED_ARGS or value == ANY:
        return ""
    return f"={value}" if len(value) <= 24 or _CATEGORY.fullmatch(value) else ""


_CATEGORY = re.compile(r"@?[a-z][a-z0-9_]*")


class ArgumentReader(ScannerBase):
    """Reads the arguments of DAGs, tasks and hooks, and the templates in their values."""

    def _dag_args(self, state: _DagState, keywords: list[ast.keyword], node: ast.AST) -> None:
        scheduled = False
        for kw in keywords:
            if kw.arg is None or kw.arg in DAG_ARGS_IGNORED:
                continue
            if kw.arg == "default_args":
                self._default_args(kw.value, owner="DAG")
            elif kw.arg in SCHEDULE_ARGS:
                scheduled = True
                value = classify_schedule(self._resolve(kw.value))
                label = f"{kw.arg}={value}" if value != ANY else kw.arg
                aliases = ["schedule"] if kw.arg != "schedule" else []
                flags = ["Airflow 2 only"] if kw.arg == "schedule_interval" else []
                self._emit(
                    "schedule",
                    kw.arg,
                    kw,
                    label=label,
                    aliases=aliases,
                    kwargs={kw.arg: value},
                    detail=_short(self._resolve(kw.value)),
                    flags=flags,
                    owner="DAG",
                )
                state.dag.schedule = label
            else:
                self._arg(DAG_ARGS.get(kw.arg, "dag_setting"), kw.arg, kw, owner="DAG")
            self._visit_value(kw)
        if not scheduled and state.dag.how != "asset":
            state.dag.schedule = "not set"
            self._emit(
                "schedule",
                "schedule",
                node,
                label="schedule (not set)",
                kwargs={"schedule": "unset"},
                detail="no schedule: none on Airflow 3, daily on Airflow 2",
            )

    def _arg(self, kind: Kind, name: str, kw: ast.keyword, prefix: str = "", owner: str | None = None) -> None:
        resolved = self._resolve(kw.value)
        value = normalise_value(name, resolved)
        label = f"{prefix}{name}{_valued(name, value)}"
        aliases = list(ARG_ALIASES.get(name, ()))
        self._emit(
            kind, name, kw, label=label, aliases=aliases, kwargs={name: value}, detail=_short(resolved), owner=owner
        )

    def _default_args(self, value: ast.expr, owner: str | None = None) -> None:
        """`default_args` itself, then each key as the task argument it is (`default_args: retries` is `retries`)."""
        shared = self._shared_module(value)
        items = self._dict_items(value)
        if items is None:
            detail = "not a literal dict: keys unknown"
            if isinstance(value, ast.Name) and value.id in self.imports:
                detail = f"imported from {self.imports[value.id][0]}, not found in the audited folder: keys unknown"
            self._emit("default_args", "default_args", value, kwargs={"default_args": ANY}, detail=detail, owner=owner)
            return
        detail = f"from {shared}" if shared else None
        dict_use = self._emit(
            "default_args", "default_args", value, kwargs={"default_args": ANY}, detail=detail, owner=owner
        )
        dict_use.keys = list(dict.fromkeys(key for key, _ in items))
        for key, node in items:
            resolved = self._resolve(node)
            normalised = normalise_value(key, resolved)
            label = f"default_args: {key}{_valued(key, normalised)}"
            aliases = ["conn_id"] if key.endswith("conn_id") and key != "conn_id" else list(ARG_ALIASES.get(key, ()))
            self._emit(
                "default_args",
                key,
                node,
                label=label,
                aliases=aliases,
                kwargs={key: normalised},
                detail=_short(resolved),
            )

    def _dict_items(self, node: ast.expr, depth: int = 0) -> list[tuple[str, ast.expr]] | None:
        node = self._resolve(node)
        if depth > 3:
            return None
        if isinstance(node, ast.Dict):
            items: list[tuple[str, ast.expr]] = []
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:  # {**base, ...}
                    items.extend(self._dict_items(value, depth + 1) or [])
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    items.append((key.value, value))
            return items
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            items = []
            for arg in node.args:
                items.extend(self._dict_items(arg, depth + 1) or [])
            items.extend((kw.arg, kw.value) for kw in node.keywords if kw.arg)
            return items
        return None

    def _kwargs(self, keywords: list[ast.keyword], call: ast.Call | None = None, name: str = "") -> dict[str, str]:
        """The site's keyword arguments, normalised; with `call` and `name`, its positional ones named too."""
        found = {kw.arg: normalise_value(kw.arg, self._resolve(kw.value)) for kw in keywords if kw.arg}
        if call is not None:
            for param, arg in zip(POSITIONAL_ARGS.get(name, ()), call.args, strict=False):
                found.setdefault(param, normalise_value(param, self._resolve(arg)))
        return found

    def _task_args(self, keywords: list[ast.keyword], *, sensor: bool, owner: str | None = None) -> None:
        for kw in keywords:
            if kw.arg is None:
                continue
            kind = TASK_ARGS.get(kw.arg) or (SENSOR_ARGS.get(kw.arg) if sensor else None)
            if kind:
                self._arg(kind, kw.arg, kw, owner=owner)
            elif kw.arg in TASK_CALLABLE_ARGS:
                self._arg(TASK_CALLABLE_ARGS[kw.arg], kw.arg, kw, owner=owner)
            elif kw.arg.endswith("conn_id"):
                self._connection(kw)
            elif kw.arg == "default_args":
                self._default_args(kw.value, owner="task")

    def _connection(self, kw: ast.keyword) -> None:
        assert kw.arg is not None
        aliases = ["conn_id"] if kw.arg != "conn_id" else []
        self._emit("connection", kw.arg, kw, aliases=aliases, detail=_short(self._resolve(kw.value)))

    def _visit_value(self, kw: ast.keyword) -> None:
        if kw.arg in DOC_ARGS:
            return
        outer, self.kwarg = self.kwarg, kw.arg
        self.visit(kw.value)
        self.kwarg = outer

    def visit_keyword(self, node: ast.keyword) -> None:
        self._visit_value(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and ("{{" in node.value or "{%" in node.value):
            for construct in template_constructs(node.value):
                self._emit(
                    "template",
                    construct,
                    node,
                    aliases=TEMPLATE_ALIASES.get(construct),
                    detail=f"in {self.kwarg}" if self.kwarg else None,
                )
