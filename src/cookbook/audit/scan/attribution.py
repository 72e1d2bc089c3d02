"""After the walk: DAGs generated in a loop or built by a factory, and findings outside any DAG's body given to
the DAGs that use the function or class they sit in. `_Scanner` is the whole reader.
"""

from __future__ import annotations

import ast

from cookbook.audit.findings import Finding
from cookbook.audit.scan.definitions import DefinitionReader
from cookbook.audit.vocabulary import (
    GENERATED_IN_A_LOOP,
)


class _Scanner(DefinitionReader):
    """Every reader of this package; `run` walks a module and then attributes what it found."""

    def run(self, tree: ast.Module) -> None:
        self._body(tree.body)
        self._flag_loops()
        self._attribute()

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
