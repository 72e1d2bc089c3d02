"""Find the Python files of a DAG folder and read each one, turning every way a file can be unreadable into a note.

A dags/ folder in the wild holds symlinks (some pointing back up), SQL and YAML next to the DAGs, generated files of
megabytes, half-edited files that do not parse, zipped DAG packages. None of these stops the audit: each is named
with what was done about it, and the scan goes on.
"""

from __future__ import annotations

import ast
import copy
import errno
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cookbook.audit.findings import FileScan, Note
from cookbook.audit.newer import NewerSyntaxError, newest_interpreter, parse_with
from cookbook.audit.scan import SharedModules, scan_source, scan_tree

DEFAULT_MAX_BYTES = 2_000_000
# Not DAG folders' content: version control, virtual environments, caches.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


@dataclass
class Walk:
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path to read, path shown, relative)
    notes: list[Note] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # other files, by suffix


def walk(root: Path) -> Walk:
    """Every `.py` file under `root` in sorted order, each real file once, never following a symlink loop."""
    found = Walk()
    if not root.is_dir():
        found.files.append((root, root.name))
        return found
    seen_files: dict[tuple[int, int], str] = {}
    seen_dirs: dict[tuple[int, int], str] = {}
    top = root.stat()
    # Depth-first with an explicit stack: a deep tree must not hit Python's recursion limit.
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [(root, "", frozenset({(top.st_dev, top.st_ino)}))]
    seen_dirs[(top.st_dev, top.st_ino)] = "."
    while stack:
        folder, rel, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.notes.append(Note(path=rel or ".", severity="skipped", message=f"folder not read: {exc.strerror}"))
            continue
        subfolders = []
        for entry in entries:
            shown = f"{rel}/{entry.name}" if rel else entry.name
            if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
                continue
            try:
                info = os.stat(entry.path)  # follows symlinks, so a loop or a dangling link raises here
            except OSError as exc:
                loop = exc.errno == errno.ELOOP
                message = "symlink loop: not followed" if loop else f"broken symlink: {exc.strerror}"
                found.notes.append(Note(path=shown, severity="skipped", message=message))
                continue
            key = (info.st_dev, info.st_ino)
            if entry.is_dir():
                if key in ancestors:
                    target = seen_dirs.get(key, "an enclosing folder")
                    message = f"symlink loop: points back to {target}, not followed"
                    found.notes.append(Note(path=shown, severity="skipped", message=message))
                elif key in seen_dirs:
                    message = f"same folder as {seen_dirs[key]}: already scanned"
                    found.notes.append(Note(path=shown, severity="info", message=message))
                else:
                    seen_dirs[key] = shown
                    subfolders.append((Path(entry.path), shown, ancestors | {key}))
            elif not entry.is_file():
                found.notes.append(Note(path=shown, severity="skipped", message="not a regular file"))
            elif entry.name.endswith(".py"):
                if key in seen_files:
                    message = f"same file as {seen_files[key]}: already scanned"
                    found.notes.append(Note(path=shown, severity="info", message=message))
                else:
                    seen_files[key] = shown
                    found.files.append((Path(entry.path), shown))
            elif entry.name.endswith(".zip"):
                message = "zip archive: Airflow can load DAGs from it, the audit does not open it"
                found.notes.append(Note(path=shown, severity="skipped", message=message))
            else:
                found.ignored[Path(entry.name).suffix or entry.name] += 1
        stack.extend(reversed(subfolders))
    found.files.sort(key=lambda f: f[1])
    return found


class FolderModules:
    """Module-level values of the audited folder's own modules, for the names a DAG file imports from them.

    Larger repositories keep `default_args` in a shared module (`from common.defaults import DEFAULT_ARGS`): Airflow
    puts the dags folder on `sys.path`, so the module is looked up from the importing file's folder up to the
    audited folder (a relative import from the file's package). Only literal assignments are read, never run.
    """

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = (root if root.is_dir() else root.parent).resolve()
        self.max_bytes = max_bytes
        self.cache: dict[Path, dict[str, ast.expr]] = {}

    def for_file(self, path: Path) -> SharedModules:
        folder = path.resolve().parent

        def lookup(module: str, name: str) -> ast.expr | None:
            if module.split(".")[0] == "airflow":
                return None
            for candidate in self._candidates(module, folder):
                values = self._values(candidate)
                if name in values:
                    return copy.deepcopy(values[name])
            return None

        return lookup

    def _candidates(self, module: str, folder: Path) -> list[Path]:
        dotted = module.lstrip(".")
        level = len(module) - len(dotted)
        parts = dotted.split(".") if dotted else []
        # `from .x import` is the file's package; an absolute import is looked up from its folder upwards.
        bases = [folder.parents[level - 2] if level > 1 else folder] if level else [folder, *folder.parents]
        found = []
        for base in bases:
            if base != self.root and self.root not in base.parents:
                break
            target = base.joinpath(*parts)
            found += [target.with_suffix(".py"), target / "__init__.py"] if parts else [target / "__init__.py"]
        return found

    def _values(self, path: Path) -> dict[str, ast.expr]:
        if path not in self.cache:
            self.cache[path] = {}
            try:
                if path.is_file() and path.stat().st_size <= self.max_bytes:
                    self.cache[path] = _module_values(ast.parse(path.read_bytes()))
            except (OSError, SyntaxError, ValueError, RecursionError):
                pass
        return self.cache[path]


def _module_values(tree: ast.Module) -> dict[str, ast.expr]:
    """`NAME = <expression>` at module level, with the module's other such names inlined (three levels deep)."""
    values: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            values[stmt.target.id] = stmt.value

    class Inline(ast.NodeTransformer):
        def __init__(self, depth: int) -> None:
            self.depth = depth

        def visit_Name(self, node: ast.Name) -> ast.expr:
            if self.depth and isinstance(node.ctx, ast.Load) and node.id in values:
                return Inline(self.depth - 1).visit(copy.deepcopy(values[node.id]))
            return node

    return {name: Inline(3).visit(copy.deepcopy(value)) for name, value in values.items()}


def _parse_newer(data: bytes, shown: str, error: SyntaxError, modules: SharedModules | None) -> FileScan:
    """A file this Python cannot parse, parsed by a newer one when the machine has it (see `newer.py`)."""
    here = f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    interpreter = newest_interpreter()
    if interpreter is None:
        message = f"syntax error at line {error.lineno}: {error.msg} ({here}; no newer Python found to try)"
        return FileScan(path=shown, size=len(data), notes=[Note(path=shown, severity="skipped", message=message)])
    try:
        tree = parse_with(interpreter, data)
    except NewerSyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        message = f"syntax error{where}: {exc.msg} ({interpreter.name})"
        return FileScan(path=shown, size=len(data), notes=[Note(path=shown, severity="skipped", message=message)])
    scan = scan_tree(tree, shown, len(data), modules)
    message = f"parsed with {interpreter.name}: newer syntax than {here} reads (line {error.lineno}: {error.msg})"
    scan.notes.insert(0, Note(path=shown, severity="info", message=message))
    return scan


def scan_file(
    path: Path, shown: str, max_bytes: int = DEFAULT_MAX_BYTES, modules: FolderModules | None = None
) -> FileScan:
    """The file's findings, or a note saying why it was not read; never raises for a file's content."""

    def skipped(message: str, size: int = 0) -> FileScan:
        return FileScan(path=shown, size=size, notes=[Note(path=shown, severity="skipped", message=message)])

    try:
        size = path.stat().st_size
    except OSError as exc:
        return skipped(f"not read: {exc.strerror}")
    if size > max_bytes:
        return skipped(f"{size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (--max-file-size): not read", size)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return skipped(f"not read: {exc.strerror}", size)
    if b"\0" in data:
        return skipped("binary content (NUL bytes): not Python source", size)
    lookup = modules.for_file(path) if modules is not None else None
    try:
        try:
            return scan_source(data, shown, lookup)
        except SyntaxError as exc:
            return _parse_newer(data, shown, exc, lookup)
    except (ValueError, UnicodeDecodeError) as exc:
        return skipped(f"not Python source: {exc}", size)
    except RecursionError:
        return skipped("nested too deeply to parse", size)
    except Exception as exc:  # a scanner bug on one odd file must not end an audit of a thousand
        return skipped(f"not scanned: the scanner failed ({type(exc).__name__}: {exc}); please report it", size)
