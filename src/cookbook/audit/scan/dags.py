"""DAG definitions: `with DAG(...)`, `dag = DAG(...)`, a task's `dag=` argument, and the names a DAG is bound to.

(`@dag` and `@asset` functions are read with the other decorators, in `definitions.py`.)
"""

from __future__ import annotations

import ast
from typing import Literal

from cookbook.audit.findings import Dag
from cookbook.audit.scan.arguments import ArgumentReader
from cookbook.audit.scan.base import _DagState
from cookbook.audit.vocabulary import (
    CONTEXT_FUNCTIONS,
    DOC_ARGS,
    GENERATED_IN_A_LOOP,
)


class DagReader(ArgumentReader):
    """Opens a DAG where one is defined; what is read inside it belongs to it."""

    def _is_dag_class(self, func: ast.expr) -> bool:
        ref = self._ref(func)
        return ref is not None and ref.name == "DAG" and (ref.airflow or ref.module is None)

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

    def _dag_from_kwarg(self, node: ast.Call) -> bool:
        """Airflow 2 style `BashOperator(..., dag=dag)` outside any `with`: the task belongs to that DAG."""
        for kw in node.keywords:
            if kw.arg == "dag" and isinstance(kw.value, ast.Name) and kw.value.id in self.dag_names:
                self.dag_stack.append(self.dag_names[kw.value.id])
                return True
        return False

    def visit_Assign(self, node: ast.Assign) -> None:
        docs = [t for t in node.targets if isinstance(t, ast.Attribute) and t.attr in DOC_ARGS]
        if docs:
            # `dag.doc_md = __doc__`: documentation, listed as the argument it sets (its text is no template).
            target = docs[0]
            pushed = isinstance(target.value, ast.Name) and target.value.id in self.dag_names
            if pushed:
                self.dag_stack.append(self.dag_names[target.value.id])  # type: ignore[union-attr]
            self._emit("dag_setting", target.attr, node, label=target.attr, detail=f"{ast.unparse(target)} = ...")
            if pushed:
                self.dag_stack.pop()
            return
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        value = node.value
        if isinstance(value, ast.Call) and self._ref(value.func) is not None:
            ref = self._ref(value.func)
            if ref is not None and ref.name in CONTEXT_FUNCTIONS:
                self.context_names[-1].update(names)
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
                if id(value) in self.operator_dags:
                    self.task_dags[name] = self.operator_dags[id(value)]

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
