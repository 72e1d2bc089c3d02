"""The scanner's state while it reads one file, how it records a finding, and how it resolves names.

Names go through the file's own imports (`Ref`); a name assigned once in reach is followed to its value. The
readers of the other modules of this package each add one concern on top of `ScannerBase`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from cookbook.audit.findings import Dag, Finding, Kind
from cookbook.audit.vocabulary import AIRFLOW2_NAMES, airflow3_equivalent

SharedModules = Callable[[str, str], ast.expr | None]
"""(module as imported, name) -> the value a module of the audited folder assigns to that name, or None."""


@dataclass(frozen=True)
class Ref:
    """What a name or dotted name in the file refers to, through the file's imports."""

    name: str  # as Airflow exports it: `BashOperator`, `task.bash`, `Variable.get`, `DAG`
    module: str | None  # where it was imported from; None for a name the file defines (or a star import)

    @property
    def airflow(self) -> bool:
        """Airflow's own API; the example DAGs' helpers (`airflow.example_dags.libs.helper`) are user code."""
        module = self.module
        if module is None or module.startswith("airflow.example_dags"):
            return False
        return module == "airflow" or module.startswith("airflow.")

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


def _is_camel(name: str) -> bool:
    return name[:1].isupper()


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


class ScannerBase(ast.NodeVisitor):
    """The state of one file's walk, findings, and names (imports, assignments, literal text)."""

    def __init__(self, path: str, modules: SharedModules | None = None) -> None:
        self.stem = PurePosixPath(path).stem  # what `Path(__file__).stem` makes a DAG id
        self.modules = modules
        self.context_names: list[set[str]] = [set()]  # per function: names holding the task context
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
        self.operator_dags: dict[int, str] = {}  # an operator call -> the DAG it belongs to
        self.task_dags: dict[str, str] = {}  # a variable holding a task -> that task's DAG
        self.handled: set[int] = set()
        self.expanded: dict[int, list[ast.keyword]] = {}  # a `.partial(...)` call -> its `.expand(...)` arguments

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
        owner: str | None = None,
    ) -> Finding:
        flags = list(flags or [])
        airflow3 = airflow3_equivalent(construct, module) or next(
            (AIRFLOW2_NAMES[alias] for alias in aliases or [] if alias in AIRFLOW2_NAMES), None
        )
        if airflow3 and not any(flag.startswith("Airflow 2") for flag in flags):
            flags.append("Airflow 2")
        finding = Finding(
            kind=kind,
            name=construct,
            label=label or construct,
            line=getattr(node, "lineno", 0),
            aliases=aliases or [],
            kwargs=kwargs or {},
            detail=detail,
            module=module,
            flags=flags,
            airflow3=airflow3,
            owner=owner,
        )
        self.findings.append(finding)
        if self.dag_stack:
            finding.dags.append(self.dag_stack[-1].dag.key)
        else:
            self.pending.append((finding, self.top))
        return finding

    def _parse_time(self) -> bool:
        """True where code runs each time the scheduler parses the file: module level and `@dag` bodies."""
        return not self.functions or self.functions[-1].parse_time

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.imports[alias.asname] = (alias.name, None)
            else:
                root = alias.name.split(".")[0]
                self.imports[root] = (root, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")  # `from .defaults import X` is `.defaults`
        for alias in node.names:
            if alias.name != "*":
                self.imports[alias.asname or alias.name] = (module, alias.name)

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
        """A name's assigned value, when the file assigns it once in reach (module constants, local dicts), or when
        it is imported from a module of the audited folder that assigns it (`from common.defaults import ARGS`)."""
        for _ in range(3):
            if not isinstance(node, ast.Name):
                break
            for scope in reversed(self.scopes):
                if node.id in scope:
                    node = scope[node.id]
                    break
            else:
                imported = self.imports.get(node.id)
                if imported is None or imported[1] is None or self.modules is None:
                    break
                value = self.modules(*imported)
                if value is None:
                    break
                for child in ast.walk(value):  # shown where this file uses it
                    if hasattr(child, "lineno"):
                        child.lineno, child.col_offset = node.lineno, node.col_offset  # type: ignore[attr-defined]
                node = value
        return node

    def _shared_module(self, node: ast.expr) -> str | None:
        """The module a name was imported from, when the audited folder holds it and it assigns the name."""
        if not (isinstance(node, ast.Name) and node.id in self.imports and self.modules is not None):
            return None
        if any(node.id in scope for scope in self.scopes):
            return None
        module, name = self.imports[node.id]
        return module if name is not None and self.modules(module, name) is not None else None

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
