"""Find the Python files of a DAG folder and read each one, turning every way a file can be unreadable into a note.

A dags/ folder in the wild holds symlinks (some pointing back up), SQL and YAML next to the DAGs, generated files of
megabytes, half-edited files that do not parse, zipped DAG packages. None of these stops the audit: each is named
with what was done about it, and the scan goes on.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cookbook.audit.findings import FileScan, Note
from cookbook.audit.scan import scan_source

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


def scan_file(path: Path, shown: str, max_bytes: int = DEFAULT_MAX_BYTES) -> FileScan:
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
    try:
        return scan_source(data, shown)
    except SyntaxError as exc:
        return skipped(f"syntax error at line {exc.lineno}: {exc.msg}", size)
    except (ValueError, UnicodeDecodeError) as exc:
        return skipped(f"not Python source: {exc}", size)
    except RecursionError:
        return skipped("nested too deeply to parse", size)
    except Exception as exc:  # a scanner bug on one odd file must not end an audit of a thousand
        return skipped(f"not scanned: the scanner failed ({type(exc).__name__}: {exc}); please report it", size)
