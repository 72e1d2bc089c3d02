"""Functions, classes, decorators and loops: `@dag`, `@asset` and TaskFlow decorators, classes built on an
operator, sensor or hook, and what runs in a loop (a DAG made in one is generated in a loop).
"""

from __future__ import annotations

import ast
from typing import Literal

from cookbook.audit.scan.base import _DagState, _Function, _LocalClass
from cookbook.audit.scan.calls import CallReader
from cookbook.audit.vocabulary import (
    ASSET_DECORATORS,
    CONTEXT_PARAMS,
    DAG_DECORATORS,
    SCHEDULE_ARGS,
    TASKFLOW_DECORATORS,
)


class DefinitionReader(CallReader):
    """Reads definitions and loops: the scopes, the functions being read, and which of them are DAGs or tasks."""

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        outer_top = self.top
        self.top = self.top or node.name
        self.top_refs.setdefault(self.top, set())
        for base in node.bases:
            ref = self._ref(base)
            if ref is None:
                continue
            local = self.classes.get(ref.name) if ref.module is None else None
            kind = local.kind if local else self._class_kind(ref.last)
            if local is None and not ref.airflow and kind == "other":
                continue
            root = local.base if local else ref.last
            generic = {"operator": "BaseOperator", "sensor": "BaseSensorOperator", "hook": "BaseHook"}.get(kind)
            self.classes[node.name] = _LocalClass(kind, generic or root)
            aliases = [ref.last] + ([generic] if generic and generic != ref.last else [])
            self._emit(
                "custom_class",
                node.name,
                node,
                label=f"class {node.name}({ref.last})",
                aliases=aliases,
                module=ref.module,
                flags=["custom"],
            )
            break
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scopes.append({})
        self._body(node.body)
        self.scopes.pop()
        self.top = outer_top

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer_top = self.top
        self.top = self.top or node.name
        self.top_refs.setdefault(self.top, set())
        is_task = parse_time = False
        dag_state: _DagState | None = None
        for decorator in node.decorator_list:
            role = self._decorator(decorator, node)
            if role == "task":
                is_task = True
                self.task_functions.add(node.name)
            elif role == "task_group":
                parse_time = True
                self.task_functions.add(node.name)
            elif role in ("decorator", "asset"):
                parse_time = role == "decorator"
                dag_state = self.dags[-1]
                self.dag_functions[node.name] = dag_state
                self.dag_stack.pop()  # pushed by _decorator so the decorator's own arguments belong to it
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        if dag_state:
            self.dag_stack.append(dag_state)
        self.functions.append(_Function(node.name, is_task, parse_time))
        self.scopes.append({})
        # `**context` / `**kwargs` of a callable, and a `context` parameter (`execute(self, context)`), hold the
        # task context; so does a name assigned `get_current_context()` in the body (see `visit_Assign`).
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        names = {a.arg for a in params if a.arg in CONTEXT_PARAMS}
        if node.args.kwarg is not None:
            names.add(node.args.kwarg.arg)
        self.context_names.append(names)
        self._body(node.body)
        self.context_names.pop()
        self.scopes.pop()
        self.functions.pop()
        if dag_state:
            self.dag_stack.pop()
        self.top = outer_top

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.functions.append(_Function("<lambda>", False, False))
        self.generic_visit(node)
        self.functions.pop()

    def _decorator(self, decorator: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        call = decorator if isinstance(decorator, ast.Call) else None
        ref = self._ref(call.func if call else decorator)
        keywords = call.keywords if call else []
        if ref is None or not ref.airflow:
            self.visit(decorator)
            return None
        root = ref.name.split(".")[0]
        if call:
            self.handled.add(id(call))
        kwargs = self._kwargs(keywords)
        if root in DAG_DECORATORS or root in ASSET_DECORATORS:
            how: Literal["decorator", "asset"] = "decorator" if root in DAG_DECORATORS else "asset"
            id_arg = "dag_id" if how == "decorator" else "name"
            id_node = next((k.value for k in keywords if k.arg == id_arg), None)
            state = self._new_dag(func, self._text(id_node) if id_node is not None else func.name, how, [])
            state.creator = self.top
            self.dag_stack.append(state)
            self._emit("dag", ref.name, decorator, label=f"@{ref.name}", kwargs=kwargs, module=ref.module)
            if how == "asset":
                # An asset is a DAG of one task: its schedule is the DAG's, the rest are the task's arguments.
                self._task_args(keywords, sensor=False)
                self._dag_args(state, [k for k in keywords if k.arg in SCHEDULE_ARGS], decorator)
                for kw in keywords:
                    if kw.arg not in SCHEDULE_ARGS:
                        self._visit_value(kw)
            else:
                self._dag_args(state, keywords, decorator)
            for arg in call.args if call else []:
                self.visit(arg)
            return how  # the caller pops the DAG after reading the decorators
        if root in TASKFLOW_DECORATORS:
            self._taskflow(ref, decorator, keywords, kwargs)
            for arg in call.args if call else []:
                self.visit(arg)
            for kw in keywords:
                self._visit_value(kw)
            return "task_group" if root in ("task_group", "taskgroup") else "task"
        self.visit(decorator)
        return None

    def _loop(self, node: ast.AST) -> None:
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self._loop(node)

    visit_AsyncFor = visit_While = visit_For

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _loop
