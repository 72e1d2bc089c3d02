"""The mutants of one flow module: each a single small fault, made on its `ast` and written back into its text.

A mutant's id is `<operator>:<scope>:<n>`: the n-th place (1-based, in source order) where the operator applies in
one scope. A scope is a function by its qualified name (`load_orders`, `Summary.total`, `outer.inner`) or a
module-level definition a task is built from (`load_first = load.with_options(...)`, or an option dict spread into
decorators: `TASK_DEFAULTS`). Editing another scope leaves every id of this one as it was.

Only what a case's run executes as the flow's own code is mutated: functions (tasks, flows, plain helpers, methods)
with their decorators and defaults, and those module-level task definitions. Never imports, module constants,
`if __name__ == "__main__":` blocks, or `deployments()`, which only builds what `serve()` would serve.
"""

from __future__ import annotations

import ast
import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

Operator = Literal[
    "drop_retries", "flip_comparison", "swallow_exception", "change_constant", "negate_branch", "return_nothing"
]
OPERATORS: tuple[Operator, ...] = (
    "drop_retries",
    "flip_comparison",
    "swallow_exception",
    "change_constant",
    "negate_branch",
    "return_nothing",
)
RETRY_KEYWORDS = frozenset({"retries", "retry_delay_seconds"})
NEVER_MUTATED = frozenset({"deployments"})
DEFAULT_MAX_PER_OPERATOR = 8

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NEGATED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.LtE: ast.Gt,
    ast.Gt: ast.LtE,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
# A lone constant says little (`0 -> 1`): its description shows the node around it when that fits on one line.
_CONTEXTS = (ast.expr, ast.keyword, ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
_SHORT = 72  # a description side longer than this is cut down to the window around what changed


@dataclass(frozen=True)
class Scope:
    name: str
    roots: tuple[ast.AST, ...]  # walked for sites; nested definitions are scopes of their own


@dataclass(frozen=True)
class Location:
    """Where a node hangs in the tree, so a mutant can be swapped in and out again."""

    parent: ast.AST
    field: str
    index: int | None


@dataclass(frozen=True)
class Change:
    """What an operator proposes at one node: `target` becomes `replacement`."""

    target: ast.AST
    replacement: ast.AST
    anchor: ast.AST  # where it is, for the order of sites and the line shown (a keyword, not its whole call)
    sub: int = 0  # several changes at one anchor (the operators of `a < b < c`)
    # The new text made from the old one, where that reads better than unparsing the replacement (which drops the
    # parentheses of `not (a < b)`, so it would read `not a < b`).
    rewrite: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: Operator
    scope: str
    line: int
    column: int
    before: str
    after: str
    source: str  # the whole mutated module

    @property
    def description(self) -> str:
        return f"line {self.line}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Mutants:
    """Every mutant of a module in source order; `dropped`: ids of changes that vanished or did not compile."""

    all: tuple[Mutant, ...]
    dropped: tuple[str, ...]

    def capped(self, max_per_operator: int) -> list[Mutant]:
        return cap(self.all, max_per_operator)


def mutants_of(source: str, filename: str = "<flow>") -> Mutants:
    tree = ast.parse(source, filename)
    parents = _parent_map(tree)
    original = ast.dump(tree)
    built: list[Mutant] = []
    dropped: list[str] = []
    for mutant_id, operator, scope, change in _numbered_changes(tree):
        mutant = _build(source, tree, original, parents, mutant_id, operator, scope, change)
        if mutant is None:
            dropped.append(mutant_id)
        else:
            built.append(mutant)
    built.sort(key=lambda m: (m.line, m.column, OPERATORS.index(m.operator), m.id))
    return Mutants(all=tuple(built), dropped=tuple(dropped))


def cap(mutants: Sequence[Mutant], max_per_operator: int) -> list[Mutant]:
    """At most `max_per_operator` of each operator (0: all), spread over the file: round-robin over the scopes in
    file order, each scope's sites in order, so every function gets one before any gets a second."""
    if max_per_operator <= 0:
        return list(mutants)
    chosen: list[Mutant] = []
    for operator in OPERATORS:
        by_scope: dict[str, list[Mutant]] = {}
        for mutant in mutants:
            if mutant.operator == operator:
                by_scope.setdefault(mutant.scope, []).append(mutant)
        queues = list(by_scope.values())
        taken = 0
        for depth in range(max((len(q) for q in queues), default=0)):
            for queue in queues:
                if depth < len(queue) and taken < max_per_operator:
                    chosen.append(queue[depth])
                    taken += 1
    order = {m.id: i for i, m in enumerate(mutants)}
    return sorted(chosen, key=lambda m: order[m.id])


# Scopes ------------------------------------------------------------------------------------------------------


def scopes_of(tree: ast.Module) -> list[Scope]:
    found: list[Scope] = []
    spread = _spread_option_dicts(tree)
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name not in NEVER_MUTATED:
                found += _function_scopes(stmt, stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            found += _class_scopes(stmt, stmt.name)
        elif (assigned := _module_assignment(stmt)) is not None:
            name, value = assigned
            if (name in spread and isinstance(value, ast.Dict)) or _builds_task(value):
                found.append(Scope(name, (value,)))
    return found


def _function_scopes(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> list[Scope]:
    # Decorators and defaults are the function's own settings (`@task(retries=2)`, `attempts: int = 0`); the
    # annotations are types, never behaviour, and are not walked at all.
    defaults = [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]
    roots: tuple[ast.AST, ...] = (*fn.decorator_list, *defaults, *fn.body)
    found = [Scope(qualname, roots)]
    for node in _walk(roots):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += _function_scopes(node, f"{qualname}.{node.name}")
        elif isinstance(node, ast.ClassDef):
            found += _class_scopes(node, f"{qualname}.{node.name}")
    return found


def _class_scopes(cls: ast.ClassDef, qualname: str) -> list[Scope]:
    found: list[Scope] = []
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            found += _function_scopes(stmt, f"{qualname}.{stmt.name}")
        elif isinstance(stmt, ast.ClassDef):
            found += _class_scopes(stmt, f"{qualname}.{stmt.name}")
    return found


def _module_assignment(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None


def _is_task_factory(call: ast.Call) -> bool:
    """`task(...)`, `flow(...)` (also `prefect.task(...)`) or `something.with_options(...)`."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in ("task", "flow")
    return isinstance(func, ast.Attribute) and func.attr in ("task", "flow", "with_options")


def _builds_task(value: ast.expr) -> bool:
    return any(isinstance(node, ast.Call) and _is_task_factory(node) for node in ast.walk(value))


def _spread_option_dicts(tree: ast.Module) -> set[str]:
    """Names spread into a task factory as keywords: `@task(**TASK_DEFAULTS)`."""
    return {
        kw.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _is_task_factory(node)
        for kw in node.keywords
        if kw.arg is None and isinstance(kw.value, ast.Name)
    }


def _walk(roots: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under `roots`; a nested definition is yielded but not entered, annotations are skipped."""
    stack = list(roots)[::-1]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _DEFS):
            continue
        children: list[ast.AST] = []
        for field, value in ast.iter_fields(node):
            if field in ("annotation", "returns"):
                continue
            if isinstance(value, ast.AST):
                children.append(value)
            elif isinstance(value, list):
                children += [v for v in value if isinstance(v, ast.AST)]
        stack += children[::-1]


# Operators ---------------------------------------------------------------------------------------------------

OperatorFn = Callable[[ast.AST], Iterator[Change]]


def _drop_retries(node: ast.AST) -> Iterator[Change]:
    if isinstance(node, ast.Call) and _is_task_factory(node):
        for i, kw in enumerate(node.keywords):
            if kw.arg in RETRY_KEYWORDS:
                call = copy.copy(node)
                call.keywords = node.keywords[:i] + node.keywords[i + 1 :]
                yield Change(node, call, kw)
    elif isinstance(node, ast.Dict):  # an option dict spread into decorators
        for i, key in enumerate(node.keys):
            if isinstance(key, ast.Constant) and key.value in RETRY_KEYWORDS:
                options = copy.copy(node)
                options.keys = node.keys[:i] + node.keys[i + 1 :]
                options.values = node.values[:i] + node.values[i + 1 :]
                yield Change(node, options, key)


def _flip_comparison(node: ast.AST) -> Iterator[Change]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            flipped = copy.copy(node)
            flipped.ops = [*node.ops[:i], _NEGATED[type(op)](), *node.ops[i + 1 :]]
            yield Change(node, flipped, node, sub=i)


def _swallow_exception(node: ast.AST) -> Iterator[Change]:
    if isinstance(node, ast.Raise):
        yield Change(node, ast.Return(value=ast.Constant(value=None)), node)


def _change_constant(node: ast.AST) -> Iterator[Change]:
    # `type(...) is`, not isinstance: True and False are ints too, and a flipped flag is another kind of fault.
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        changed = value + 1 if type(value) is int else (value * 2 if value else 1.0)
        yield Change(node, ast.Constant(value=changed), node)


def _negate_branch(node: ast.AST) -> Iterator[Change]:
    if isinstance(node, ast.If | ast.While | ast.IfExp):
        negated = ast.UnaryOp(op=ast.Not(), operand=node.test)
        yield Change(node.test, negated, node.test, rewrite=lambda text: f"not ({text})")


def _return_nothing(node: ast.AST) -> Iterator[Change]:
    value = node.value if isinstance(node, ast.Return) else None
    if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
        yield Change(node, ast.Return(value=ast.Constant(value=None)), node)


_OPERATOR_FNS: dict[Operator, OperatorFn] = {
    "drop_retries": _drop_retries,
    "flip_comparison": _flip_comparison,
    "swallow_exception": _swallow_exception,
    "change_constant": _change_constant,
    "negate_branch": _negate_branch,
    "return_nothing": _return_nothing,
}


# Building mutants --------------------------------------------------------------------------------------------


def _numbered_changes(tree: ast.Module) -> Iterator[tuple[str, Operator, str, Change]]:
    """Every change with its id. Numbered before any is dropped, so a change that vanishes shifts no other id;
    scopes of the same name (a function defined twice) share one numbering, so ids stay unique."""
    by_key: dict[tuple[Operator, str], list[Change]] = {}
    for scope in scopes_of(tree):
        for node in _walk(scope.roots):
            for operator, fn in _OPERATOR_FNS.items():
                by_key.setdefault((operator, scope.name), []).extend(fn(node))
    for (operator, scope_name), changes in by_key.items():
        changes.sort(key=lambda c: (c.anchor.lineno, c.anchor.col_offset, c.sub))  # type: ignore[attr-defined]
        for n, change in enumerate(changes, start=1):
            yield f"{operator}:{scope_name}:{n}", operator, scope_name, change


def _build(
    source: str,
    tree: ast.Module,
    original: str,
    parents: dict[int, Location],
    mutant_id: str,
    operator: Operator,
    scope: str,
    change: Change,
) -> Mutant | None:
    where = parents[id(change.target)]
    before, show_after = _description(change, where)
    with _swapped(where, change.replacement):
        expected = ast.dump(tree)
        if expected == original:
            return None
        after = show_after()
        # The file's own text with only the changed node rewritten keeps comments and line numbers; ast.unparse of
        # the whole module is the fallback should the splice not read back as the intended tree.
        if change.rewrite is not None:
            text = _splice(source, change.target, change.rewrite(_segment(source, change.target)))
        else:
            text = _splice(source, change.target, ast.unparse(change.replacement))
        if not _parses_to(text, expected):
            text = ast.unparse(tree)
    try:
        compile(text, f"<mutant {mutant_id}>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    before, after = _window(before, after)
    anchor = change.anchor
    return Mutant(
        id=mutant_id,
        operator=operator,
        scope=scope,
        line=anchor.lineno,  # type: ignore[attr-defined]
        column=anchor.col_offset,  # type: ignore[attr-defined]
        before=before,
        after=after,
        source=text,
    )


def _parent_map(tree: ast.AST) -> dict[int, Location]:
    parents: dict[int, Location] = {}
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                parents[id(value)] = Location(node, field, None)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        parents[id(item)] = Location(node, field, i)
    return parents


@contextlib.contextmanager
def _swapped(where: Location, node: ast.AST) -> Iterator[None]:
    holder = getattr(where.parent, where.field)
    if where.index is None:
        setattr(where.parent, where.field, node)
        try:
            yield
        finally:
            setattr(where.parent, where.field, holder)
    else:
        old = holder[where.index]
        holder[where.index] = node
        try:
            yield
        finally:
            holder[where.index] = old


def _description(change: Change, where: Location) -> tuple[str, Callable[[], str]]:
    """The text before, and how to get the text after once the change is swapped in."""
    target, replacement = change.target, change.replacement
    if isinstance(target, ast.Constant) and isinstance(where.parent, ast.arguments):
        # A parameter's default: `name=value`, not the whole signature with its annotations.
        name = _parameter_of(where)
        return f"{name}={_one_line(target)}", lambda: f"{name}={_one_line(replacement)}"
    if isinstance(target, ast.Constant) and isinstance(where.parent, _CONTEXTS):
        context = where.parent
        return _one_line(context), lambda: _one_line(context)
    at = "@" if where.field == "decorator_list" else ""
    before = at + _one_line(target)
    rewrite = change.rewrite
    if rewrite is not None:
        return before, lambda: at + rewrite(_one_line(target))
    return before, lambda: at + _one_line(replacement)


def _parameter_of(where: Location) -> str:
    arguments = where.parent
    assert isinstance(arguments, ast.arguments) and where.index is not None
    if where.field == "kw_defaults":
        return arguments.kwonlyargs[where.index].arg
    positional = [*arguments.posonlyargs, *arguments.args]
    return positional[len(positional) - len(arguments.defaults) + where.index].arg


def _one_line(node: ast.AST) -> str:
    return " ".join(ast.unparse(node).split())


def _splice(source: str, node: ast.AST, text: str) -> str:
    lines = source.split("\n")

    def offset(lineno: int, col: int) -> int:
        # ast columns count UTF-8 bytes; the text is indexed by characters.
        before = sum(len(line) + 1 for line in lines[: lineno - 1])
        return before + len(lines[lineno - 1].encode()[:col].decode())

    start = offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
    return source[:start] + text + source[end:]


def _segment(source: str, node: ast.AST) -> str:
    segment = ast.get_source_segment(source, node)
    return segment if segment is not None else ast.unparse(node)


def _parses_to(text: str, expected: str) -> bool:
    try:
        return ast.dump(ast.parse(text)) == expected
    except SyntaxError:
        return False


def _window(before: str, after: str, keep: int = 24) -> tuple[str, str]:
    """Both sides cut to what changed and `keep` characters around it, when either is too long for one line."""
    if max(len(before), len(after)) <= _SHORT:
        return before, after
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    start = max(prefix - keep, 0)

    def cut(text: str) -> str:
        end = min(len(text) - suffix + keep, len(text))
        middle = text[start:end]
        if len(middle) > _SHORT:
            middle = middle[: _SHORT - 1] + "…"
        return ("…" if start > 0 else "") + middle + ("…" if end < len(text) and not middle.endswith("…") else "")

    return cut(before), cut(after)
