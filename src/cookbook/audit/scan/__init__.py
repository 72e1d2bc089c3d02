"""Read one Airflow DAG file with `ast` and list the Airflow constructs it uses, per DAG.

Nothing is imported or run, so a file is read the same whether it was written for Airflow 2 or 3 and whether its
dependencies are installed or not. Names are resolved through the file's own imports (`BashOperator as B`, `import
airflow.models as m`), so an operator is known by its class wherever it comes from; a class the file defines on top
of an operator is a custom operator. What a name means at run time (a variable holding a class, a star import) is
out of reach: such calls are recognised by their names alone (`...Operator`, `...Sensor`, a `task_id=` argument).

`scan_source` is the entry point. The reader is one `ast.NodeVisitor` built in layers, one concern per module, each
layer using only the ones below it:

- `base.py`: the walk's state, how a finding is recorded, names resolved through the file's imports;
- `arguments.py`: keyword arguments (DAG settings, schedules, `default_args`, task arguments, connections, templates);
- `dags.py`: DAG definitions (`with DAG(...)`, `DAG(...)` assigned, a task's `dag=`);
- `calls.py`: call sites (operators, sensors, hooks, TaskFlow, mapping, XCom, Airflow APIs, exceptions);
- `definitions.py`: functions, classes, decorators (`@dag`, `@task`, ...) and loops;
- `attribution.py`: after the walk, DAGs generated in a loop and findings given to the DAGs that use them.
"""

from __future__ import annotations

import ast

from cookbook.audit.findings import FileScan, Note
from cookbook.audit.scan.attribution import _Scanner
from cookbook.audit.scan.base import Ref, SharedModules
from cookbook.audit.scan.calls import AIRFLOW2_MODULES

__all__ = ["AIRFLOW2_MODULES", "Ref", "SharedModules", "scan_source", "scan_tree"]


def scan_source(source: bytes | str, path: str, modules: SharedModules | None = None) -> FileScan:
    """Scan a file's text. Raises SyntaxError or ValueError (NUL bytes) when it is not Python source.
    `modules` reads names the file imports from the audited folder (a shared `default_args`)."""
    tree = ast.parse(source, filename=path)
    return scan_tree(tree, path, len(source), modules)


def scan_tree(tree: ast.Module, path: str, size: int, modules: SharedModules | None = None) -> FileScan:
    """Scan a file already parsed (by a newer Python, see `audit/newer.py`)."""
    scanner = _Scanner(path, modules)
    scanner.run(tree)
    scan = FileScan(path=path, size=size, dags=[s.dag for s in scanner.dags], findings=scanner.findings)
    if not scanner.dags:
        message = "no DAG defined" if scanner.findings else "no DAG and no Airflow construct"
        if scanner.findings:
            message += f"; {len(scanner.findings)} module-level construct use(s) listed"
        scan.notes.append(Note(path=path, severity="info", message=message))
    return scan
