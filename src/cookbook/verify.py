"""`cookbook verify DAG.py FLOW.py --case CASES.yaml`: a user's own DAG and their Prefect translation, proven the
way the recipes are.

The three files make an in-memory recipe (`Pair`): the cases file has the schema of `recipes/<r>.cases.yaml`
(`CasesFile`), and where it names no `dag_id` or `flow_name`, the DAG and the flow are found in the files, read
without importing them (the audit's reader for the DAG, `@flow` decorators for the flow). The pair then runs through
the same harness, fixtures, verdict and output as `cookbook compare`. The DAG runs from a copy in a throwaway dags
folder (`staged`), which is what Airflow's scheduler mode parses; a helper module the DAG imports from beside it
must be importable there too (PYTHONPATH).

A bad input is one line (`RecipeError`, or `UsageError` for a missing file): a file that is not there, Python that
does not parse, a file with no DAG or no flow (or several, and the cases file does not say which), a cases file
that is not YAML or breaks the schema (file:line), and, once the engines have tried it, a DAG or flow that does not
import (`load_failure`).
"""

from __future__ import annotations

import ast
import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from cookbook.harness import RUNS_DIR, CaseRun
from cookbook.recipe import CasesFile, Recipe, RecipeError, RecipeMeta, _validated
from cookbook.selection import UsageError

_LITERAL_ID = re.compile(r"^[\w.-]+$")
ENGINE_OF = {"airflow": "the DAG", "prefect": "the flow"}


class Pair(Recipe):
    """A user's DAG and flow with their cases: a recipe with no page, its files anywhere."""

    dag_path: Path
    flow_path: Path
    cases_path: Path

    @property
    def dag_file(self) -> Path:
        return self.dag_path

    @property
    def flow_file(self) -> Path:
        return self.flow_path


def _read(path: Path, what: str) -> str:
    if not path.is_file():
        raise UsageError(f"no such file: {path} (the {what})")
    return path.read_text(encoding="utf-8")


def _parsed(source: str, path: Path) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise RecipeError(f"{path}:{exc.lineno or 1}: not Python: {exc.msg}") from exc


def dag_ids(source: str, path: Path) -> list[str]:
    """The DAG ids a file defines, as the audit reads them (a computed id shows as `<expression>`)."""
    from cookbook.audit.scan import scan_source

    _parsed(source, path)
    return [dag.dag_id for dag in scan_source(source, str(path)).dags]


def flow_names(source: str, path: Path) -> list[str]:
    """The names of the flows a file defines with `@flow`: `name=` if given, else Prefect's default (the function's
    name with `-` for `_`); a computed name shows as `<expression>`."""
    names = []
    for node in ast.walk(_parsed(source, path)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if ast.unparse(target) not in ("flow", "prefect.flow"):
                continue
            given = next((k.value for k in call.keywords if k.arg == "name"), None) if call else None
            if given is None and call is not None and call.args:
                given = call.args[0] if not isinstance(call.args[0], ast.Lambda) else None
            if given is None:
                names.append(node.name.replace("_", "-"))
            elif isinstance(given, ast.Constant) and isinstance(given.value, str):
                names.append(given.value)
            else:
                names.append(f"<{ast.unparse(given)}>")
    return names


def _chosen(found: list[str], named: str | None, what: str, key: str, path: Path, cases: Path) -> str:
    """The one DAG (or flow) of a file to verify: the cases file's `key`, or the file's only one."""
    if named is not None:
        if found and all(_LITERAL_ID.match(f) for f in found) and named not in found:
            raise RecipeError(f"{path}: no {what} {named!r} (the {key} of {cases}); found: {', '.join(found)}")
        return named
    if not found:
        shape = "with DAG(...), DAG(...) or @dag" if what == "DAG" else "a function decorated with @flow"
        raise RecipeError(f"{path}: no {what} found ({shape})")
    if len(found) > 1 or not _LITERAL_ID.match(found[0]):
        raise RecipeError(f"{path}: {what}s {', '.join(found)}: say which one in {cases} with `{key}:`")
    return found[0]


def load_pair(dag: Path, flow: Path, cases: Path) -> Pair:
    """The in-memory recipe of a DAG file, a flow file and a cases file; a bad one is one line."""
    dag_source, flow_source = _read(dag, "DAG"), _read(flow, "Prefect flow")
    raw = _validated(CasesFile, _read(cases, "cases file"), cases, first_line=1)
    meta = CasesFile.model_validate(raw)
    dag_id = _chosen(dag_ids(dag_source, dag), meta.dag_id, "DAG", "dag_id", dag, cases)
    flow_name = _chosen(flow_names(flow_source, flow), meta.flow_name, "flow", "flow_name", flow, cases)
    name = re.sub(r"[^a-z0-9_]+", "_", dag_id.lower()).strip("_")
    name = name if re.match(r"^[a-z]", name) else f"dag_{name}"
    recipe_meta = RecipeMeta.model_validate(
        {**raw, "dag_id": dag_id, "flow_name": flow_name, "title": dag_id, "summary": f"{dag} and {flow}"}
    )
    return Pair(
        name=name,
        meta=recipe_meta,
        body="",
        page=cases,
        dag_path=dag.resolve(),
        flow_path=flow.resolve(),
        cases_path=cases,
    )


def select_cases(pair: Pair, only: Sequence[str]) -> list[str]:
    names = [c.name for c in pair.meta.cases if not only or c.name in only]
    if only and not names:
        raise UsageError(f"{pair.cases_path} has no case {', '.join(only)}; its cases: {', '.join(pair.cases_by_name)}")
    return names


@contextlib.contextmanager
def staged(pairs: Sequence[Pair]) -> Iterator[tuple[Path, list[Pair]]]:
    """A throwaway cookbook root whose `airflow_dags/` holds a copy of each pair's DAG (one folder per pair, so two
    `dag.py` do not collide), and the pairs pointed at their copies; removed afterwards."""
    names = [p.name for p in pairs]
    if len(names) != len(set(names)):
        raise UsageError(f"two pairs share a DAG name: {names}")
    RUNS_DIR.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="verify-", dir=RUNS_DIR))
    try:
        copies = []
        for pair in pairs:
            copy = root / "airflow_dags" / pair.name / pair.dag_path.name
            copy.parent.mkdir(parents=True)
            shutil.copyfile(pair.dag_path, copy)
            copies.append(pair.model_copy(update={"dag_path": copy}))
        yield root, copies
    finally:
        shutil.rmtree(root, ignore_errors=True)


def load_failure(run: CaseRun) -> str | None:
    """One line when a side could not load its file (an import error, no such DAG or flow): bad input, not a
    verdict, and the same for every case, so the caller stops there."""
    for engine in ("airflow", "prefect"):
        error = getattr(run, engine).error
        if error is not None and error.kind == "import_error":
            return f"{ENGINE_OF[engine]} does not load on {engine.capitalize()}: {error.message}"
    return None
