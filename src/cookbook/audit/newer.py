"""Files that need a newer Python than the audit runs on (`type X = ...`, `def f[T]()`, PEP 701 f-strings).

Airflow 3 runs DAG files on Python 3.10 to 3.13, while the audit may run on an older interpreter than the DAGs'. A
file this interpreter cannot parse is parsed again by the newest Python found on the machine (`python3.X` on the
PATH, pyenv's versions), in a subprocess that sends the syntax tree back as JSON; the tree is rebuilt here, with the
newer constructs turned into what this Python has (`type X = ...` is read as `X = ...`, type parameters are dropped:
neither is an Airflow construct). The file is never run.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT_S = 30

_DUMP = r"""
import ast, json, sys
sys.setrecursionlimit(20000)

def conv(node):
    if isinstance(node, ast.AST):
        out = {"_t": type(node).__name__}
        for name, value in ast.iter_fields(node):
            out[name] = conv(value)
        if hasattr(node, "lineno"):
            out["_p"] = [node.lineno, node.col_offset, node.end_lineno, node.end_col_offset]
        return out
    if isinstance(node, list):
        return [conv(item) for item in node]
    if node is None or isinstance(node, (str, int, float, bool)):
        return node
    if isinstance(node, bytes):
        return {"_bytes": node.decode("latin-1")}
    if isinstance(node, complex):
        return {"_complex": [node.real, node.imag]}
    if node is Ellipsis:
        return {"_ellipsis": True}
    return repr(node)

version = "%d.%d" % sys.version_info[:2]
try:
    tree = ast.parse(sys.stdin.buffer.read())
except SyntaxError as exc:
    print(json.dumps({"version": version, "error": [exc.lineno, exc.msg]}))
except (ValueError, RecursionError, MemoryError) as exc:
    print(json.dumps({"version": version, "error": [None, str(exc) or type(exc).__name__]}))
else:
    print(json.dumps({"version": version, "tree": conv(tree)}))
"""


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: tuple[int, int]

    @property
    def name(self) -> str:
        return f"Python {self.version[0]}.{self.version[1]}"


def _version_of(path: str) -> tuple[int, int] | None:
    match = re.search(r"(\d+)\.(\d+)", Path(path).name) or re.search(r"(\d+)\.(\d+)", str(Path(path).parent.parent))
    return (int(match.group(1)), int(match.group(2))) if match else None


@functools.cache
def newest_interpreter() -> Interpreter | None:
    """The newest Python on this machine newer than the running one, or None."""
    candidates: dict[str, tuple[int, int]] = {}
    for minor in range(sys.version_info.minor + 1, 20):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates[found] = (3, minor)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for binary in sorted(pyenv.glob("3.*/bin/python3")):
        version = _version_of(str(binary))
        if version:
            candidates[str(binary)] = version
    newer = [(v, p) for p, v in candidates.items() if v > sys.version_info[:2]]
    for version, path in sorted(newer, reverse=True):
        try:  # a pyenv shim for a version not selected fails: try the next
            done = subprocess.run([path, "-c", "pass"], capture_output=True, timeout=TIMEOUT_S)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return Interpreter(path, version)
    return None


class NewerSyntaxError(Exception):
    """The newer Python could not parse the file either (or could not be run)."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno
        self.msg = message


def parse_with(interpreter: Interpreter, source: bytes) -> ast.Module:
    """The file's syntax tree as `interpreter` reads it, rebuilt for this Python."""
    try:
        done = subprocess.run(
            [interpreter.path, "-I", "-c", _DUMP], input=source, capture_output=True, timeout=TIMEOUT_S
        )
        answer = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise NewerSyntaxError(f"{interpreter.name} could not be run: {type(exc).__name__}") from None
    if "error" in answer:
        lineno, message = answer["error"]
        raise NewerSyntaxError(message, lineno)
    tree = _build(answer["tree"])
    assert isinstance(tree, ast.Module)
    return tree


def _build(data: Any) -> Any:
    if isinstance(data, list):
        return [_build(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "_bytes" in data:
        return data["_bytes"].encode("latin-1")
    if "_complex" in data:
        return complex(*data["_complex"])
    if "_ellipsis" in data:
        return Ellipsis
    kind = data["_t"]
    node: ast.AST
    if kind == "TypeAlias":  # `type Rows = list[Row]` (3.12): an assignment as far as the audit cares
        node = ast.Assign(targets=[_build(data["name"])], value=_build(data["value"]))
    else:
        cls = getattr(ast, kind, None)
        if not (isinstance(cls, type) and issubclass(cls, ast.AST)):
            node = ast.Constant(value=None)  # a construct this Python does not know: nothing the audit reads
        else:
            node = cls(**{name: _build(data[name]) for name in cls._fields if name in data})
    if "_p" in data:
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = data["_p"]  # type: ignore[attr-defined]
    return node
