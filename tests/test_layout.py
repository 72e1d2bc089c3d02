"""The package's import graph, read statically (`ast`): no import cycle, and the engine workers stay light.

Every `import cookbook...` and `from cookbook... import` counts, at module level or inside a function: a function-level
import is still a dependency, only a later one. `from cookbook.workers import airflow_hitl` is an edge to the module
`cookbook.workers.airflow_hitl`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cookbook"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, package: str, level: int) -> str:
    if not level:
        return module
    base = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*base, module] if module else base)


def import_graph() -> dict[str, set[str]]:
    """Module -> the cookbook modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", package, node.level)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in modules else base)
        graph[name] = {t for t in targets if t in modules}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable(graph: dict[str, set[str]], start: str) -> dict[str, str]:
    """Every module `start` imports, directly or not, each with the module that imports it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop()
        for target in graph.get(node, ()):
            if target not in seen and target != start:
                seen[target] = node
                todo.append(target)
    return seen


def _chain(seen: dict[str, str], start: str, end: str) -> str:
    chain = [end]
    while chain[-1] != start:
        chain.append(seen[chain[-1]])
    return " -> ".join(reversed(chain))


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "cookbook.harness" in graph["cookbook.cli"]
    assert "cookbook.stack.cli" in graph["cookbook.cli"]  # a function-level import
    assert "cookbook.workers.airflow_hitl" in graph["cookbook.workers.airflow_worker"]  # `from package import mod`


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycles_are_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


WORKERS = sorted(name for name in _modules() if name.startswith("cookbook.workers."))


@pytest.mark.parametrize("worker", WORKERS)
def test_workers_do_not_import_the_fixture_servers(worker: str) -> None:
    """The engine workers run in the Airflow and Prefect venvs; the HTTP and webhook servers run in the harness."""
    seen = reachable(import_graph(), worker)
    chain = _chain(seen, worker, "cookbook.fixtures") if "cookbook.fixtures" in seen else ""
    assert not chain, f"a worker imports the fixture servers: {chain}"


def test_one_place_builds_a_job() -> None:
    """A `Job` is made from a recipe and a case by `Job.for_case` only: no other module copies its fields."""
    builders = []
    for name, path in _modules().items():
        if name == "cookbook.protocol":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Job":
                builders.append(f"{name}:{node.lineno}")
    assert not builders, f"Job(...) built outside cookbook.protocol (use Job.for_case): {', '.join(builders)}"
