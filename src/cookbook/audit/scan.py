"""Read one Airflow DAG file with `ast` and list the Airflow constructs it uses, per DAG.

Nothing is imported or run, so a file is read the same whether it was written for Airflow 2 or 3 and whether its
dependencies are installed or not. Names are resolved through the file's own imports (`BashOperator as B`, `import
airflow.models as m`), so an operator is known by its class wherever it comes from; a class the file defines on top
of an operator is a custom operator. What a name means at run time (a variable holding a class, a star import) is
out of reach: such calls are recognised by their names alone (`...Operator`, `...Sensor`, a `task_id=` argument).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from cookbook.audit.findings import Dag, FileScan, Finding, Kind, Note
from cookbook.audit.vocabulary import (
    ANY,
    ASSET_CALLS,
    ASSET_DECORATORS,
    DAG_ARGS,
    DAG_ARGS_IGNORED,
    DAG_DECORATORS,
    DOC_ARGS,
    GENERATED_IN_A_LOOP,
    MAPPING_METHODS,
    PARSE_TIME,
    POSITIONAL_ARGS,
    SCHEDULE_ARGS,
    SENSOR_ARGS,
    SETUP_TEARDOWN_METHODS,
    TASK_ARGS,
    TASKFLOW_DECORATORS,
    TEMPLATE_ALIASES,
    VALUED_ARGS,
    VARIABLE_METHODS,
    classify_schedule,
    normalise_value,
    template_constructs,
)

# Import paths Airflow 3 removed (moved to providers or to airflow.sdk): worth a flag in a migration plan.
AIRFLOW2_MODULES = ("airflow.operators", "airflow.sensors", "airflow.hooks", "airflow.contrib")


@dataclass(frozen=True)
class Ref:
    """What a name or dotted name in the file refers to, through the file's imports."""

    name: str  # as Airflow exports it: `BashOperator`, `task.bash`, `Variable.get`, `DAG`
    module: str | None  # where it was imported from; None for a name the file defines (or a star import)

    @property
    def airflow(self) -> bool:
        return self.module is not None and (self.module == "airflow" or self.module.startswith("airflow."))

    @property
    def last(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass
class _DagState:
    dag: Dag
    refs: set[str] = field(default_factory=set)
    creator: str | None = None  # the function whose body builds it (a factory or a @dag function)


@dataclass
class _Function:
    name: str
    is_task: bool
    parse_time: bool  # a `@dag` or `@task_group` body runs when the file is parsed, a task's when it runs


@dataclass
class _LocalClass:
    kind: Literal["operator", "sensor", "hook", "other"]
    base: str


def scan_source(source: bytes | str, path: str) -> FileScan:
    """Scan a file's text. Raises SyntaxError or ValueError (NUL bytes) when it is not Python source."""
    tree = ast.parse(source, filename=path)
    scanner = _Scanner(path)
    scanner.run(tree)
    size = len(source)
    scan = FileScan(path=path, size=size, dags=[s.dag for s in scanner.dags], findings=scanner.findings)
    if not scanner.dags:
        message = "no DAG defined" if scanner.findings else "no DAG and no Airflow construct"
        if scanner.findings:
            message += f"; {len(scanner.findings)} module-level construct use(s) listed"
        scan.notes.append(Note(path=path, severity="info", message=message))
    return scan


def _is_camel(name: str) -> bool:
    return name[:1].isupper()


def _valued(name: str, value: str) -> str:
    """`=all_done` for an argument whose value tells constructs apart; a class path is no category."""
    return f"={value}" if name in VALUED_ARGS and value != ANY and len(value) <= 24 else ""


def _short(node: ast.expr) -> str | None:
    """A value worth showing as a detail: a literal or a name, never a long expression."""
    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        text = repr(node.value) if not isinstance(node.value, str) else node.value
        return text if len(text) <= 80 else text[:77] + "..."
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute | ast.Call):
        text = ast.unparse(node.func if isinstance(node, ast.Call) else node)
        return f"{text}(...)" if isinstance(node, ast.Call) else text
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.stem = PurePosixPath(path).stem  # what `Path(__file__).stem` makes a DAG id
        # local name -> (module, imported name or None for a module)
        self.imports: dict[str, tuple[str, str | None]] = {}
        self.scopes: list[dict[str, ast.expr]] = [{}]
        self.classes: dict[str, _LocalClass] = {}
        self.dag_names: dict[str, _DagState] = {}
        self.dag_stack: list[_DagState] = []
        self.functions: list[_Function] = []
        self.loop_depth = 0
        self.top: str | None = None  # the module-level def or class being read
        self.kwarg: str | None = None  # the keyword argument being read, for templates' details
        self.dags: list[_DagState] = []
        self.keys: set[str] = set()
        self.findings: list[Finding] = []
        self.pending: list[tuple[Finding, str | None]] = []
        self.top_refs: dict[str, set[str]] = {}
        self.local_calls: list[tuple[str, bool]] = []
        self.dag_functions: dict[str, _DagState] = {}
        self.task_functions: set[str] = set()
        self.operator_calls: set[int] = set()
        self.operator_vars: set[str] = set()
        self.handled: set[int] = set()
        self.expanded: dict[int, list[ast.keyword]] = {}  # a `.partial(...)` call -> its `.expand(...)` arguments

    # ---- driving -------------------------------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self._body(tree.body)
        self._flag_loops()
        self._attribute()

    def _body(self, body: list[ast.stmt]) -> None:
        for index, stmt in enumerate(body):
            # A docstring documents; `{{ ds }}` in one is not a template Airflow renders.
            if index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue
            self.visit(stmt)

    def _emit(
        self,
        kind: Kind,
        construct: str,
        node: ast.AST,
        *,
        label: str | None = None,
        aliases: list[str] | None = None,
        kwargs: dict[str, str] | None = None,
        detail: str | None = None,
        module: str | None = None,
        flags: list[str] | None = None,
    ) -> Finding:
        finding = Finding(
            kind=kind,
            name=construct,
            label=label or construct,
            line=getattr(node, "lineno", 0),
            aliases=aliases or [],
            kwargs=kwargs or {},
            detail=detail,
            module=module,
            flags=flags or [],
        )
        self.findings.append(finding)
        if self.dag_stack:
            finding.dags.append(self.dag_stack[-1].dag.key)
        else:
            self.pending.append((finding, self.top))
        return finding

    # ---- names ---------------------------------------------------------------------------------------------------

    def _ref(self, node: ast.expr) -> Ref | None:
        """`B` -> BashOperator (airflow.operators.bash); `models.DAG` -> DAG; `task.bash` -> task.bash."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        attrs.reverse()
        imported = self.imports.get(node.id)
        if imported is None:
            return Ref(".".join([node.id, *attrs]), None)
        module, name = imported
        chain = [name, *attrs] if name else attrs
        if not chain:
            return Ref(node.id, module)
        # A module's lower-case path ends where the first class (`DAG`, `Variable`) or exported object begins.
        start = next((i for i, part in enumerate(chain) if _is_camel(part)), 0 if name else len(chain) - 1)
        if not name:
            module = ".".join([module, *chain[:start]])
        return Ref(".".join(chain[start:]), module)

    def _resolve(self, node: ast.expr) -> ast.expr:
        """A name's assigned value, when the file assigns it once in reach (module constants, local dicts)."""
        for _ in range(3):
            if not isinstance(node, ast.Name):
                break
            for scope in reversed(self.scopes):
                if node.id in scope:
                    node = scope[node.id]
                    break
            else:
                break
        return node

    def _text(self, node: ast.expr) -> str:
        """A DAG id as text: literal, f-string with `{placeholders}`, or the expression in angle brackets."""
        node = self._resolve(node)
        if isinstance(node, ast.Constant):
            return str(node.value)
        if isinstance(node, ast.JoinedStr):
            return "".join(
                str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"  # type: ignore[attr-defined]
                for v in node.values
            )
        text = ast.unparse(node)
        if "__file__" in text:
            return self.stem
        return f"<{text if len(text) <= 40 else text[:37] + '...'}>"

    def _parse_time(self) -> bool:
        """True where code runs each time the scheduler parses the file: module level and `@dag` bodies."""
        return not self.functions or self.functions[-1].parse_time

    # ---- DAGs ----------------------------------------------------------------------------------------------------

    def _new_dag(
        self, node: ast.AST, dag_id: str, how: Literal["with", "call", "decorator", "asset"], bindings: list[str]
    ) -> _DagState:
        key = dag_id if dag_id not in self.keys else f"{dag_id}@{getattr(node, 'lineno', 0)}"
        self.keys.add(key)
        state = _DagState(Dag(key=key, dag_id=dag_id, line=getattr(node, "lineno", 0), how=how))
        state.creator = self.top
        if self.loop_depth:
            state.dag.flags.append(GENERATED_IN_A_LOOP)
        for name in bindings:
            self.dag_names[name] = state
        self.dags.append(state)
        return state

    def _dag_call(self, call: ast.Call, how: Literal["with", "call"], bindings: list[str]) -> _DagState:
        id_node = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "dag_id"), None)
        state = self._new_dag(call, self._text(id_node) if id_node is not None else "<no dag_id>", how, bindings)
        self.handled.add(id(call))
        self.dag_stack.append(state)
        label = "with DAG(...)" if how == "with" else "DAG(...)"
        self._emit("dag", "DAG", call, label=label, kwargs=self._kwargs(call.keywords, call, "DAG"))
        self._dag_args(state, call.keywords, call)
        for arg in call.args[1:]:
            self.visit(arg)
        self.dag_stack.pop()
        return state

    def _dag_args(self, state: _DagState, keywords: list[ast.keyword], node: ast.AST) -> None:
        scheduled = False
        for kw in keywords:
            if kw.arg is None or kw.arg in DAG_ARGS_IGNORED:
                continue
            if kw.arg == "default_args":
                self._default_args(kw.value)
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
                )
                state.dag.schedule = label
            else:
                self._arg(DAG_ARGS.get(kw.arg, "dag_setting"), kw.arg, kw)
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

    def _arg(self, kind: Kind, name: str, kw: ast.keyword, prefix: str = "") -> None:
        resolved = self._resolve(kw.value)
        value = normalise_value(name, resolved)
        label = f"{prefix}{name}{_valued(name, value)}"
        self._emit(kind, name, kw, label=label, kwargs={name: value}, detail=_short(resolved))

    def _default_args(self, value: ast.expr) -> None:
        items = self._dict_items(value)
        if items is None:
            self._emit("default_args", "default_args", value, detail="not a literal dict: keys unknown")
            return
        for key, node in items:
            resolved = self._resolve(node)
            normalised = normalise_value(key, resolved)
            label = f"default_args: {key}{_valued(key, normalised)}"
            aliases = ["conn_id", "default_args"] if key.endswith("conn_id") and key != "conn_id" else ["default_args"]
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

    # ---- statements ----------------------------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.imports[alias.asname] = (alias.name, None)
            else:
                root = alias.name.split(".")[0]
                self.imports[root] = (root, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name != "*":
                self.imports[alias.asname or alias.name] = (module, alias.name)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Attribute) and t.attr in DOC_ARGS for t in node.targets):
            return
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        value = node.value
        if isinstance(value, ast.Call) and self._is_dag_class(value.func):
            self._dag_call(value, "call", names)
        else:
            self.visit(value)
        for target in node.targets:
            if not isinstance(target, ast.Name):
                self.visit(target)
        for name in names:
            self.scopes[-1][name] = value
            if id(value) in self.operator_calls:
                self.operator_vars.add(name)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            if isinstance(node.target, ast.Name):
                self.scopes[-1][node.target.id] = node.value

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        pushed = 0
        for item in node.items:
            expr = item.context_expr
            binding = [item.optional_vars.id] if isinstance(item.optional_vars, ast.Name) else []
            if isinstance(expr, ast.Call) and self._is_dag_class(expr.func):
                state = self._dag_call(expr, "with", binding)
            elif isinstance(expr, ast.Name) and expr.id in self.dag_names:
                state = self.dag_names[expr.id]
            else:
                self.visit(expr)
                continue
            self.dag_stack.append(state)
            pushed += 1
        self._body(node.body)
        del self.dag_stack[len(self.dag_stack) - pushed :]

    visit_AsyncWith = visit_With

    def _loop(self, node: ast.AST) -> None:
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    def visit_For(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        self._loop(node)

    visit_AsyncFor = visit_While = visit_For
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _loop

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

    @staticmethod
    def _class_kind(name: str) -> Literal["operator", "sensor", "hook", "other"]:
        if name.endswith(("Sensor", "SensorOperator", "SensorAsync")):
            return "sensor"
        if name.endswith("Operator"):
            return "operator"
        if name.endswith("Hook"):
            return "hook"
        return "other"

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
        self._body(node.body)
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
            self._task_args(keywords, sensor=ref.name == "task.sensor")

    # ---- expressions ---------------------------------------------------------------------------------------------

    def _kwargs(self, keywords: list[ast.keyword], call: ast.Call | None = None, name: str = "") -> dict[str, str]:
        """The site's keyword arguments, normalised; with `call` and `name`, its positional ones named too."""
        found = {kw.arg: normalise_value(kw.arg, self._resolve(kw.value)) for kw in keywords if kw.arg}
        if call is not None:
            for param, arg in zip(POSITIONAL_ARGS.get(name, ()), call.args, strict=False):
                found.setdefault(param, normalise_value(param, self._resolve(arg)))
        return found

    def _task_args(self, keywords: list[ast.keyword], *, sensor: bool) -> None:
        for kw in keywords:
            if kw.arg is None:
                continue
            kind = TASK_ARGS.get(kw.arg) or (SENSOR_ARGS.get(kw.arg) if sensor else None)
            if kind:
                self._arg(kind, kw.arg, kw)
            elif kw.arg.endswith("conn_id"):
                self._connection(kw)
            elif kw.arg == "default_args":
                self._default_args(kw.value)

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

    def _is_dag_class(self, func: ast.expr) -> bool:
        ref = self._ref(func)
        return ref is not None and ref.name == "DAG" and (ref.airflow or ref.module is None)

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

    def _dag_from_kwarg(self, node: ast.Call) -> bool:
        """Airflow 2 style `BashOperator(..., dag=dag)` outside any `with`: the task belongs to that DAG."""
        for kw in node.keywords:
            if kw.arg == "dag" and isinstance(kw.value, ast.Name) and kw.value.id in self.dag_names:
                self.dag_stack.append(self.dag_names[kw.value.id])
                return True
        return False

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
        else:
            self._emit("airflow_api", ref.name, node, module=ref.module)

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
        self._task_args(keywords, sensor=kind == "sensor")

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
        if attr in SETUP_TEARDOWN_METHODS:
            self._emit("setup_teardown", attr, node, label=f".{attr}()", kwargs=self._kwargs(node.keywords))
            return True
        if attr == "override" and isinstance(func.value, ast.Name) and func.value.id in self.task_functions:
            self._emit("taskflow", "override", node, label=".override()", kwargs=self._kwargs(node.keywords))
            self._task_args(node.keywords, sensor=False)
            return True
        if attr == "defer" and isinstance(func.value, ast.Name) and func.value.id == "self":
            self._emit("deferrable", "defer", node, label="self.defer()")
            return True
        return False

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

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "output" and isinstance(node.value, ast.Name) and node.value.id in self.operator_vars:
            self._emit("xcom", "operator.output", node, aliases=["XComArg"])
        self.generic_visit(node)

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

    # ---- after the walk ------------------------------------------------------------------------------------------

    def _flag_loops(self) -> None:
        """A DAG built by a function called in a loop, or a `@dag` function called in one, is generated in a loop."""
        in_loop = {name for name, looped in self.local_calls if looped}
        called = {name for name, _ in self.local_calls}
        for state in self.dags:
            creator = next((name for name, s in self.dag_functions.items() if s is state), None)
            factory = creator or (state.creator if state.dag.how in ("with", "call") else None)
            if factory and factory in in_loop and GENERATED_IN_A_LOOP not in state.dag.flags:
                state.dag.flags.append(GENERATED_IN_A_LOOP)
            if factory and not creator and factory in called:
                state.dag.flags.append(f"built by {factory}()")
            if GENERATED_IN_A_LOOP in state.dag.flags:
                finding = Finding(
                    kind="dag",
                    name=GENERATED_IN_A_LOOP,
                    label=f"DAG {GENERATED_IN_A_LOOP}",
                    line=state.dag.line,
                    detail=f"dag_id {state.dag.dag_id}",
                    dags=[state.dag.key],
                )
                self.findings.append(finding)

    def _attribute(self) -> None:
        """Findings outside any DAG's body go to the DAGs that use the function or class they sit in."""
        reach: dict[str, set[str]] = {}
        for state in self.dags:
            names = set(state.refs) | ({state.creator} if state.creator else set())
            todo = list(names)
            while todo:
                name = todo.pop()
                for ref in self.top_refs.get(name, ()):
                    if ref not in names:
                        names.add(ref)
                        todo.append(ref)
            reach[state.dag.key] = names
        only = [self.dags[0].dag.key] if len(self.dags) == 1 else []
        for finding, top in self.pending:
            dags = [key for key, names in reach.items() if top in names] if top else []
            finding.dags = dags or only
