"""The code on a recipe page, kept in the page so GitHub shows it, and kept true by regenerating it.

A page shows a region of a tested file as a marker line and the code under it:

    <!-- code: prefect_flows/pools.py:pools_flow -->
    ```python
    ...the lines between `# [START pools_flow]` and `# [END pools_flow]`...
    ```

The marker names the file and the region; the block under it is generated, never edited by hand:
`make pages` rewrites every block from its region, and a test fails while a page shows code that is not the file's
(so a page read on GitHub is the code that was tested). The docs site renders the same blocks from the files again.

`python -m cookbook.pages [--check]`: regenerate the blocks (or, with --check, list the stale ones and exit 1).
"""

from __future__ import annotations

import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from cookbook.recipe import PROJECT_ROOT

CODE_BLOCK = re.compile(
    r"^<!-- code: (?P<path>[^\s:]+):(?P<region>[A-Za-z0-9_]+) -->\n```python\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


class RegionError(ValueError):
    pass


@dataclass(frozen=True)
class CodeRef:
    path: str
    region: str


def region(path: Path, name: str) -> str:
    """The lines between the `[START name]` and `[END name]` markers of a file, dedented, markers excluded."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if f"[START {name}]" in line), None)
    end = next((i for i, line in enumerate(lines) if f"[END {name}]" in line), None)
    if start is None or end is None or end <= start:
        where = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
        raise RegionError(f"{where} has no region {name!r}")
    return textwrap.dedent("\n".join(lines[start + 1 : end])).strip("\n")


def code_refs(markdown: str) -> list[CodeRef]:
    """The regions a page shows, in page order."""
    return [CodeRef(m["path"], m["region"]) for m in CODE_BLOCK.finditer(markdown)]


def render_code(markdown: str, root: Path = PROJECT_ROOT) -> str:
    """The page with every code block regenerated from the region its marker names."""

    def fill(match: re.Match[str]) -> str:
        code = region(root / match["path"], match["region"])
        return f"<!-- code: {match['path']}:{match['region']} -->\n```python\n{code}\n```"

    return CODE_BLOCK.sub(fill, markdown)


def stale_blocks(page: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """The regions `page` shows differently from the file they come from (empty: the page is current)."""
    text = page.read_text(encoding="utf-8")
    stale = []
    for match in CODE_BLOCK.finditer(text):
        try:
            current = region(root / match["path"], match["region"])
        except (OSError, RegionError) as exc:
            stale.append(f"{page.name}: {exc}")
            continue
        if match["code"].rstrip("\n") != current:
            stale.append(f"{page.name}: {match['path']}:{match['region']} differs from the file")
    return stale


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print("usage: python -m cookbook.pages [--check]", file=sys.stderr)
        return 2
    pages = sorted((PROJECT_ROOT / "recipes").glob("*.md"))
    if check:
        stale = [line for page in pages for line in stale_blocks(page)]
        for line in stale:
            print(line)
        if stale:
            print("run `make pages` to regenerate the code on the pages", file=sys.stderr)
        return 1 if stale else 0
    try:
        for page in pages:
            text = page.read_text(encoding="utf-8")
            rendered = render_code(text)
            if rendered != text:
                page.write_text(rendered, encoding="utf-8")
                print(f"updated {page.relative_to(PROJECT_ROOT)}")
    except (OSError, RegionError) as exc:
        print(f"pages: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
