"""The production checklist of a Prefect flow module: what a team copying it into production can rely on.

Read from the source alone (nothing is imported or run), so it applies to any flow file, and from the DAG it
translates, for what the DAG promised (retries, timeouts):

- a module docstring, and a docstring on every flow;
- type hints on every parameter and return of every function;
- imports of Prefect, Pydantic, httpx, the standard library and Prefect's integrations only (never a test harness);
- no parameter that exists only for a test (a fault switch such as `fail_times`, a harness `workdir`), on the flow
  or on the DAG's Params;
- retries where the DAG retries, a timeout where the DAG has one;
- secrets through Blocks: no environment variable read for a token, password or key;
- logging through `get_run_logger()`, never `print`;
- an `if __name__ == "__main__":` block that serves or deploys the flow.

`python -m cookbook.checklist FLOW.py [DAG.py]` prints what a file misses (exit 1) or nothing (exit 0).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ALLOWED_ROOTS = {"prefect", "pydantic", "httpx", "__future__"}
# Names of parameters that switch on a fault or point at a test's scratch folder: a deployed flow has no use for them.
TEST_ONLY = re.compile(
    r"^(workdir|fail_times|fail_\w+|\w+_failures|broken_\w+|bad_\w+|slow_tries|long_wait|\w+_error|simulate_\w+)$"
)
SECRET_NAME = re.compile(r"token|secret|password|passwd|api_key|apikey|credential", re.IGNORECASE)
SERVE_CALLS = {"serve", "deploy", "aserve", "adeploy"}


@dataclass(frozen=True)
class Miss:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _flows(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [f for f in _functions(tree) if "flow" in _decorator_names(f)]


def _keywords(tree: ast.AST) -> dict[str, list[ast.expr]]:
    """Every `name=value` keyword and every `"name": value` constant dict key of a module, by name."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg:
            found.setdefault(node.arg, []).append(node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.setdefault(key.value, []).append(value)
    return found


def _is_zero(value: ast.expr) -> bool:
    return isinstance(value, ast.Constant) and value.value in (0, None, False)


def _dag_params(dag: ast.Module) -> list[tuple[int, str]]:
    """The DAG's Params: the keys of every `params={...}` dict."""
    return [
        (key.lineno, key.value)
        for value in _keywords(dag).get("params", [])
        if isinstance(value, ast.Dict)
        for key in value.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    ]


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.append((node.lineno, node.module.split(".")[0]))
    return roots


def _main_block(tree: ast.Module) -> ast.If | None:
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            return node
    return None


def _called(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            target = call.func
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _block_classes(tree: ast.Module) -> list[ast.ClassDef]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.ClassDef) and any(ast.unparse(b).split(".")[-1] == "Block" for b in n.bases)
    ]


def _env_reads(tree: ast.Module) -> list[tuple[int, str]]:
    """`os.environ[...]`, `os.environ.get(...)`, `os.getenv(...)` with a constant name, outside a Block class (a
    block that builds itself from the environment still keeps the secret in a SecretStr field)."""
    inside_blocks = {id(n) for cls in _block_classes(tree) for n in ast.walk(cls)}
    reads = []
    for node in ast.walk(tree):
        if id(node) in inside_blocks:
            continue
        name = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            name = node.slice
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.getenv", "os.environ.get") and node.args:
            name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            reads.append((node.lineno, name.value))
    return reads


def check(flow_file: Path, dag_file: Path | None = None) -> list[Miss]:
    """What `flow_file` misses of the checklist (empty: it passes), judged against the DAG it translates."""
    tree = ast.parse(flow_file.read_text(encoding="utf-8"))
    misses: list[Miss] = []
    if ast.get_docstring(tree) is None:
        misses.append(Miss(1, "no module docstring"))
    flows = _flows(tree)
    if not flows:
        misses.append(Miss(1, "no @flow in the module"))
    for fn in flows:
        if ast.get_docstring(fn) is None:
            misses.append(Miss(fn.lineno, f"flow {fn.name}() has no docstring"))
        for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
            if TEST_ONLY.match(arg.arg):
                misses.append(Miss(arg.lineno, f"flow {fn.name}() takes {arg.arg!r}, a parameter only a test needs"))
    for fn in _functions(tree):
        args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs, fn.args.vararg, fn.args.kwarg]
        untyped = [a.arg for a in args if a is not None and a.annotation is None and a.arg not in ("self", "cls")]
        if untyped:
            misses.append(Miss(fn.lineno, f"{fn.name}() has parameters without a type hint: {', '.join(untyped)}"))
        if fn.returns is None:
            misses.append(Miss(fn.lineno, f"{fn.name}() has no return type hint"))
    stdlib = set(sys.stdlib_module_names)
    for line, root in _imports(tree):
        if root not in ALLOWED_ROOTS and root not in stdlib and not root.startswith("prefect_"):
            misses.append(Miss(line, f"imports {root}: a flow imports Prefect, Pydantic, httpx and the stdlib only"))
    for line, name in _env_reads(tree):
        if SECRET_NAME.search(name):
            misses.append(Miss(line, f"reads the secret {name} from the environment: use a Secret block"))
    called = _called(tree)
    if "get_run_logger" not in called:
        misses.append(Miss(1, "never calls get_run_logger(): a run's log is where an operator looks"))
    if "print" in called:
        line = next(
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"
        )
        misses.append(Miss(line, "calls print(): log through get_run_logger()"))
    main = _main_block(tree)
    if main is None:
        misses.append(Miss(len(tree.body) and tree.body[-1].lineno, 'no `if __name__ == "__main__":` block'))
    elif not _called(main) & SERVE_CALLS:
        misses.append(Miss(main.lineno, "the __main__ block neither serves nor deploys the flow"))
    if dag_file is not None:
        misses += _against_the_dag(tree, ast.parse(dag_file.read_text(encoding="utf-8")))
    return misses


def _against_the_dag(flow: ast.Module, dag: ast.Module) -> list[Miss]:
    misses = [
        Miss(line, f"the DAG's Param {name!r} is there only for a test")
        for line, name in _dag_params(dag)
        if TEST_ONLY.match(name)
    ]
    in_dag, in_flow = _keywords(dag), _keywords(flow)
    if any(not _is_zero(v) for v in in_dag.get("retries", [])) and not any(
        not _is_zero(v) for v in in_flow.get("retries", [])
    ):
        misses.append(Miss(1, "the DAG retries, the flow never does (retries=)"))
    dag_timeouts = [v for k in ("execution_timeout", "dagrun_timeout") for v in in_dag.get(k, []) if not _is_zero(v)]
    if dag_timeouts and not any(not _is_zero(v) for v in in_flow.get("timeout_seconds", [])):
        misses.append(Miss(1, "the DAG has a timeout, the flow has none (timeout_seconds=)"))
    return misses


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print("usage: python -m cookbook.checklist FLOW.py [DAG.py]", file=sys.stderr)
        return 2
    flow_file, dag_file = Path(argv[0]), Path(argv[1]) if len(argv) == 2 else None
    for path in filter(None, (flow_file, dag_file)):
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            return 2
    misses = check(flow_file, dag_file)
    for miss in misses:
        print(f"{flow_file}:{miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
