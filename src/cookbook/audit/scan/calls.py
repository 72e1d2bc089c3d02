"""Call sites and the names they use: operators and sensors (custom ones included), hooks, TaskFlow calls,
mapping, XCom, setup/teardown, Airflow classes' methods, other Airflow APIs, and Airflow exceptions.
"""

from __future__ import annotations

import ast
from typing import Literal

from cookbook.audit.findings import Finding, Kind
from cookbook.audit.scan.base import Ref, _is_camel, _short
from cookbook.audit.scan.dags import DagReader
from cookbook.audit.vocabulary import (
    ANY,
    ASSET_CALLS,
    CALL_ALIASES,
    CONTEXT_FUNCTIONS,
    DEPENDENCY_FUNCTIONS,
    DEPENDENCY_METHODS,
    MAPPING_METHODS,
    NAMESPACED_ROOTS,
    PARSE_TIME,
    SETUP_TEARDOWN_METHODS,
    TASK_ARGS,
    TASKFLOW_DECORATORS,
    TEMPLATE_ALIASES,
    VARIABLE_METHODS,
)

# Import paths Airflow 3 removed (moved to providers or to airflow.sdk): worth a flag in a migration plan.
AIRFLOW2_MODULES = ("airflow.operators", "airflow.sensors", "airflow.hooks", "airflow.contrib")


class CallReader(DagReader):
    """Classifies each call by what it calls, through the file's imports and the classes it defines."""

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) in self.handled:
            for child in [*node.args, *node.keywords]:
                self.visit(child)
            return
        pushed = self._dag_from_kwarg(node)
        if self._is_dag_class(node.func):
            self._dag_call(node, "call", [])
        else:
            self._classify(node)
            self.generic_visit(node)
        if pushed:
            self.dag_stack.pop()

    def _classify(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and self._method(node, func):
            return
        ref = self._ref(func)
        if ref is None:
            return
        if self._operator_like(ref, node):
            self._operator(node, ref)
            return
        if self._hook_like(ref):
            self._hook(node, ref)
            return
        if ref.module is None and "." not in ref.name:
            self.local_calls.append((ref.name, self.loop_depth > 0))
            return
        if not ref.airflow:
            return
        root = ref.name.split(".")[0]
        if root in TASKFLOW_DECORATORS:
            self._taskflow(ref, node, node.keywords, self._kwargs(node.keywords))
            return
        last = ref.last
        if "." in ref.name and _is_camel(ref.name):
            self._class_method(node, ref)
        elif last == "TaskGroup":
            kwargs = self._kwargs(node.keywords, node, "TaskGroup")
            self._emit("task_group", "TaskGroup", node, kwargs=kwargs, module=ref.module)
            for kw in node.keywords:
                if kw.arg == "default_args":
                    self._default_args(kw.value)
        elif last == "Param":
            self._emit("param", "Param", node, kwargs=self._kwargs(node.keywords, node, "Param"), module=ref.module)
        elif last in ASSET_CALLS:
            self._emit("asset", last, node, module=ref.module)
        elif last.endswith(("Exception", "Timeout", "Error")):
            self._emit("exception", last, node, module=ref.module)
        elif last == "XComArg":
            self._emit("xcom", last, node, module=ref.module)
        elif last == "Variable":
            self._emit("variable", last, node, module=ref.module)
        elif ref.name in DEPENDENCY_FUNCTIONS or ref.name == "Label":
            self._to_tasks_dag(self._emit("dependency", ref.name, node, module=ref.module), node)
        elif ref.name in CONTEXT_FUNCTIONS:
            self._emit("context", ref.name, node, module=ref.module)
        else:
            flags = [PARSE_TIME] if ref.name.startswith("conf.") and self._parse_time() else []
            aliases = list(CALL_ALIASES.get(ref.name, ()))
            kwargs = {alias: ANY for alias in aliases}  # part of that argument's value
            self._emit("airflow_api", ref.name, node, aliases=aliases, kwargs=kwargs, module=ref.module, flags=flags)

    @staticmethod
    def _class_kind(name: str) -> Literal["operator", "sensor", "hook", "other"]:
        if name.endswith(("Sensor", "SensorOperator", "SensorAsync")):
            return "sensor"
        if name.endswith("Operator"):
            return "operator"
        if name.endswith("Hook"):
            return "hook"
        return "other"

    def _operator_like(self, ref: Ref, node: ast.Call) -> bool:
        if ref.module is None and ref.name in self.classes:
            return self.classes[ref.name].kind in ("operator", "sensor")
        last = ref.last
        if not _is_camel(last) or last in ("BaseOperator", "BaseSensorOperator"):
            return False
        if self._class_kind(last) in ("operator", "sensor"):
            return True
        # A class without the usual suffix (ExternalTaskMarker, an in-house class) is a task when given a task_id.
        return any(kw.arg == "task_id" for kw in node.keywords) and (ref.airflow or ref.module is not None)

    def _operator(self, node: ast.Call, ref: Ref, keywords: list[ast.keyword] | None = None) -> None:
        keywords = node.keywords if keywords is None else keywords
        local = self.classes.get(ref.name) if ref.module is None else None
        kind: Kind = "sensor" if (local and local.kind == "sensor") or "Sensor" in ref.last else "operator"
        flags: list[str] = []
        aliases: list[str] = []
        if local is not None or (ref.module is not None and not ref.airflow):
            flags.append("custom")
            generic = "BaseSensorOperator" if kind == "sensor" else "BaseOperator"
            aliases = [local.base] if local and local.base != generic else []
            aliases.append(generic)
        if ref.module and ref.module.startswith(AIRFLOW2_MODULES):
            flags.append("Airflow 2 path")
        self._emit(
            kind,
            ref.last,
            node,
            aliases=aliases,
            kwargs=self._kwargs(keywords),
            module=ref.module,
            flags=flags,
        )
        self.operator_calls.add(id(node))
        if self.dag_stack:
            self.operator_dags[id(node)] = self.dag_stack[-1].dag.key
        self._task_args(keywords, sensor=kind == "sensor", owner=ref.last)

    def _hook_like(self, ref: Ref) -> bool:
        if ref.module is None and ref.name in self.classes:
            return self.classes[ref.name].kind == "hook"
        return "." not in ref.name and _is_camel(ref.name) and ref.name.endswith("Hook") and ref.name != "BaseHook"

    def _hook(self, node: ast.Call, ref: Ref) -> None:
        custom = (ref.module is None and ref.name in self.classes) or (ref.module is not None and not ref.airflow)
        flags = ["custom"] if custom else []
        if ref.module and ref.module.startswith(AIRFLOW2_MODULES):
            flags.append("Airflow 2 path")
        if self._parse_time():
            flags.append(PARSE_TIME)
        kwargs = self._kwargs(node.keywords)
        self._emit("hook", ref.last, node, aliases=["BaseHook"], kwargs=kwargs, module=ref.module, flags=flags)
        for kw in node.keywords:
            if kw.arg and kw.arg.endswith("conn_id"):
                self._connection(kw)

    def _method(self, node: ast.Call, func: ast.Attribute) -> bool:
        """Calls recognised by their method name, whatever the receiver: mapping, XCom, setup/teardown."""
        attr = func.attr
        if attr in MAPPING_METHODS:
            if attr != "partial" and isinstance(func.value, ast.Call):
                # `BashOperator.partial(task_id=...).expand(bash_command=[...])`: bash_command is the operator's.
                self.expanded[id(func.value)] = node.keywords
            receiver = self._ref(func.value)
            if receiver is not None and receiver.module == "functools":
                return False
            if attr == "partial" and receiver is not None and self._operator_like(receiver, node):
                # `BashOperator.partial(...)` is a use of the class as much as `BashOperator(...)`.
                self._operator(node, receiver, [*node.keywords, *self.expanded.get(id(node), [])])
            elif attr == "partial":
                self._task_args(node.keywords, sensor=False)
            names = ", ".join(kw.arg for kw in node.keywords if kw.arg and attr != "partial")
            self._emit("mapping", attr, node, label=f".{attr}()", kwargs=self._kwargs(node.keywords), detail=names)
            return True
        if attr in ("xcom_push", "xcom_pull"):
            self._emit("xcom", attr, node, kwargs=self._kwargs(node.keywords, node, attr))
            return True
        if attr in DEPENDENCY_METHODS:
            finding = self._emit(
                "dependency", attr, node, label=f".{attr}()", aliases=[">>"], detail=ast.unparse(node)[:80]
            )
            self._to_tasks_dag(finding, node)
            return True
        if attr == "get" and node.args and self._context_key(func.value, node.args[0]):
            self._context(node, func.value, node.args[0], None)
            for child in node.args[1:]:
                self.visit(child)
            return True
        if attr in SETUP_TEARDOWN_METHODS:
            self._emit("setup_teardown", attr, node, label=f".{attr}()", kwargs=self._kwargs(node.keywords))
            return True
        if attr == "override" and isinstance(func.value, ast.Name) and self._task_function(func.value.id, node):
            self._emit("taskflow", "override", node, label=".override()", kwargs=self._kwargs(node.keywords))
            self._task_args(node.keywords, sensor=False)
            return True
        if attr == "defer" and isinstance(func.value, ast.Name) and func.value.id == "self":
            self._emit("deferrable", "defer", node, label="self.defer()")
            return True
        return False

    def _task_function(self, name: str, call: ast.Call) -> bool:
        """A @task function: defined in the file, or imported and given task arguments (`extract.override(...)`)."""
        if name in self.task_functions:
            return True
        return name in self.imports and any(kw.arg == "task_id" or kw.arg in TASK_ARGS for kw in call.keywords)

    def _class_method(self, node: ast.Call, ref: Ref) -> None:
        """`Variable.get`, `BaseHook.get_connection`, `DagRun.find`: a class of Airflow's, used directly."""
        owner, _, method = ref.name.rpartition(".")
        flags = [PARSE_TIME] if self._parse_time() else []
        detail = _short(node.args[0]) if node.args else None
        kwargs = self._kwargs(node.keywords, node, ref.name)
        kind: Kind = "airflow_api"
        label = ref.name
        if owner.endswith("Variable") and method in VARIABLE_METHODS:
            kind = "variable"
            label += " at parse time" if flags else ""
        elif "connection" in method or owner == "Connection":
            kind = "connection"
        elif owner.endswith("Hook"):
            kind = "hook"
        elif owner == "XCom":
            kind = "xcom"
        if kind not in ("variable", "connection", "hook"):
            flags = []
        self._emit(
            kind,
            ref.name,
            node,
            label=label,
            aliases=[owner],
            kwargs=kwargs,
            detail=detail,
            module=ref.module,
            flags=flags,
        )

    def _taskflow(self, ref: Ref, node: ast.AST, keywords: list[ast.keyword], kwargs: dict[str, str]) -> None:
        root = ref.name.split(".")[0]
        kind: Kind = {"task_group": "task_group", "taskgroup": "task_group", "setup": "setup_teardown"}.get(
            root, "setup_teardown" if root == "teardown" else "taskflow"
        )  # type: ignore[assignment]
        construct = "task_group" if root == "taskgroup" else ref.name
        self._emit(kind, construct, node, label=f"@{construct}", kwargs=kwargs, module=ref.module)
        if kind == "task_group":
            for kw in keywords:
                if kw.arg == "default_args":
                    self._default_args(kw.value)
        else:
            self._task_args(keywords, sensor=ref.name == "task.sensor", owner=f"@{ref.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "output" and isinstance(node.value, ast.Name) and node.value.id in self.operator_vars:
            self._emit("xcom", "operator.output", node, aliases=["XComArg"])
        value = node.value
        if isinstance(value, ast.Subscript) and self._context_key(value.value, value.slice):
            self._context(node, value.value, value.slice, node.attr)
            return
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._context_key(node.value, node.slice):
            self._context(node, node.value, node.slice, None)
            return
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        """`a >> b`, `[a, b] << c`: a statement of task dependencies, one finding per statement."""
        value = node.value
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.RShift | ast.LShift):
            op = ">>" if isinstance(value.op, ast.RShift) else "<<"
            text = ast.unparse(value)
            finding = self._emit(
                "dependency",
                op,
                node,
                label=f"a {op} b",
                aliases=[">>"] if op == "<<" else [],
                detail=text if len(text) <= 80 else text[:77] + "...",
            )
            self._to_tasks_dag(finding, value)
        self.generic_visit(node)

    def _to_tasks_dag(self, finding: Finding, node: ast.AST) -> None:
        """Airflow 2 style `a >> b` outside any `with DAG`: it belongs to the DAG of the tasks it names."""
        if finding.dags:
            return
        dags = {
            self.task_dags[child.id]
            for child in ast.walk(node)
            if isinstance(child, ast.Name) and child.id in self.task_dags
        }
        if dags:
            finding.dags = sorted(dags)
            self.pending = [(f, top) for f, top in self.pending if f is not finding]

    def _context_key(self, receiver: ast.expr, key: ast.expr) -> bool:
        """`context["ti"]`, `kwargs["ds"]`: a string key of a name that holds the task context."""
        return (
            isinstance(receiver, ast.Name)
            and any(receiver.id in names for names in self.context_names)
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        )

    def _context(self, node: ast.expr, receiver: ast.expr, key: ast.expr, attr: str | None) -> None:
        """One use of the task context, named the same whatever the variable is called: `context["ti"]`."""
        assert isinstance(key, ast.Constant)
        name = f'context["{key.value}"]'
        root = "ti" if key.value == "task_instance" else key.value
        aliases = []
        if attr:
            aliases = [name, f"{root}.{attr}"]
            if root in NAMESPACED_ROOTS:
                aliases.append(f"{{{{ {root}.{attr} }}}}")
            name += f".{attr}"
        template = f"{{{{ {root} }}}}"
        aliases += [template, *TEMPLATE_ALIASES.get(template, [])]
        detail = ast.unparse(node)
        self._emit("context", name, node, aliases=aliases, detail=detail if len(detail) <= 80 else detail[:77] + "...")
        if isinstance(receiver, ast.Name):
            self.visit_Name(receiver)

    def visit_Name(self, node: ast.Name) -> None:
        if self.dag_stack:
            self.dag_stack[-1].refs.add(node.id)
        if self.top:
            self.top_refs[self.top].add(node.id)

    def visit_Raise(self, node: ast.Raise) -> None:
        if node.exc is not None and not isinstance(node.exc, ast.Call):
            self._exception(node.exc)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type] if node.type else []
        for exc in types:
            self._exception(exc)
        self._body(node.body)

    def _exception(self, node: ast.expr) -> None:
        ref = self._ref(node)
        if ref is not None and ref.airflow:
            self._emit("exception", ref.last, node, module=ref.module)
