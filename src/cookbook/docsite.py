"""MkDocs hooks: the docs site is generated from the recipes and the tested files, never pasted.

- every `recipes/<name>.md` becomes a page (with both sides' code side by side, the narrative, a captured compare);
- `concepts.md` (the concept map) and `cli.md` (the CLI reference) are generated from metadata and argparse;
- `--8<-- "path:region"` in any page is replaced by the region between `[START region]` and `[END region]` markers
  of that file (`# [START x]` in Python, `<!-- [START x] -->` in Markdown), as Airflow's own docs include examples.

Also a small CLI: `python -m cookbook.docsite capture RUNS.json` renders compare output for the pages.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from cookbook.recipe import PROJECT_ROOT, Recipe, discover

log = logging.getLogger("mkdocs.plugins.cookbook")
INCLUDE = re.compile(r'^(?P<indent>[ \t]*)--8<-- "(?P<path>[^":]+):(?P<region>[A-Za-z0-9_]+)"[ \t]*$', re.MULTILINE)
CAPTURES = PROJECT_ROOT / "docs" / "captures"
EFFORT_WORDS = {"mechanical": "mechanical", "judgment": "needs judgment", "redesign": "needs redesign"}


class RegionError(ValueError):
    pass


def region(path: Path, name: str) -> str:
    """The lines between the `[START name]` and `[END name]` markers of a file, dedented, markers excluded."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if f"[START {name}]" in line), None)
    end = next((i for i, line in enumerate(lines) if f"[END {name}]" in line), None)
    if start is None or end is None or end <= start:
        raise RegionError(f"{path.relative_to(PROJECT_ROOT)} has no region {name!r}")
    return textwrap.dedent("\n".join(lines[start + 1 : end])).strip("\n")


def resolve_includes(markdown: str, where: str) -> str:
    def include(match: re.Match[str]) -> str:
        try:
            text = region(PROJECT_ROOT / match["path"], match["region"])
        except (OSError, RegionError) as exc:
            log.warning("%s: cannot include %s:%s (%s)", where, match["path"], match["region"], exc)
            return match.group(0)
        return textwrap.indent(text, match["indent"])

    return INCLUDE.sub(include, markdown)


def regions_of(recipe: Recipe, folder: str) -> list[tuple[str, str]]:
    """The regions of one side that the recipe's page includes, in page order."""
    return [(m["path"], m["region"]) for m in INCLUDE.finditer(recipe.body) if m["path"].startswith(folder)]


def recipe_page(recipe: Recipe) -> str:
    meta = recipe.meta
    airflow = "\n\n".join(region(PROJECT_ROOT / p, r) for p, r in regions_of(recipe, "airflow_dags/"))
    prefect = "\n\n".join(region(PROJECT_ROOT / p, r) for p, r in regions_of(recipe, "prefect_flows/"))
    concepts = "\n".join(
        f"| `{c.airflow}` | {c.prefect} | {EFFORT_WORDS[c.effort]} |".replace("\n", " ") for c in meta.concepts
    )
    cases = "\n".join(f"| `{c.name}` | {c.description or '&nbsp;'} |" for c in meta.cases)
    capture = CAPTURES / f"{recipe.name}.txt"
    if capture.exists():
        output = capture.read_text(encoding="utf-8")
    else:
        log.warning("no captured compare output for %s: run `make docs-capture`", recipe.name)
        output = "(no capture yet: make docs-capture)\n"
    body = resolve_includes(recipe.body, f"recipes/{recipe.name}.md")
    return f"""# {meta.title}

{meta.summary}

<div class="side-by-side" markdown>

=== "Airflow · `{recipe.dag_file.relative_to(recipe.root)}`"

    ```python
{textwrap.indent(airflow, "    ")}
    ```

=== "Prefect · `{recipe.flow_file.relative_to(recipe.root)}`"

    ```python
{textwrap.indent(prefect, "    ")}
    ```

</div>

{body.strip()}

## Concepts mapped

| Airflow | Prefect | Effort |
|---|---|---|
{concepts}

## Run it

Both engines run every case below; the verdict compares what they produced.

| case | what it checks |
|---|---|
{cases}

```console
$ make compare RECIPE={recipe.name}
{output.rstrip()}
```
"""


RECIPES_MARKER = "<!-- cookbook:recipes -->"


def recipes_table(recipes: dict[str, Recipe]) -> str:
    rows = "\n".join(
        f"| [{r.meta.title}](recipes/{r.name}.md) | {r.meta.summary} | {len(r.meta.cases)} |" for r in recipes.values()
    )
    return f"| recipe | what it shows | cases |\n|---|---|---|\n{rows}"


def concept_map(recipes: dict[str, Recipe]) -> str:
    rows = sorted(
        ((c.airflow, c.prefect, c.effort, r) for r in recipes.values() for c in r.meta.concepts),
        key=lambda row: row[0].lower().lstrip("@{"),
    )
    table = "\n".join(
        f"| `{airflow}` | {prefect} | {EFFORT_WORDS[effort]} | [{r.meta.title}](recipes/{r.name}.md) |".replace(
            "\n", " "
        )
        for airflow, prefect, effort, r in rows
    )
    return f"""# Concept map

Every Airflow construct the recipes cover, what it becomes in Prefect, and the recipe that proves it by running
both engines. Generated from the recipes' metadata; use the search box to find an operator, an argument or a macro.

The effort says what a migration of that construct takes: **mechanical** (a direct translation),
**needs judgment** (the meaning differs; read the recipe's "What differs in meaning"), **needs redesign**.

| Airflow | Prefect | Effort | Recipe |
|---|---|---|---|
{table}
"""


def cli_reference() -> str:
    from cookbook.cli import _parser

    parser = _parser()
    parts = ["# CLI reference\n", "The `cookbook` command; `make compare` and `make list` call it.\n"]
    parts.append(f"```text\n{parser.format_help().rstrip()}\n```\n")
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():  # type: ignore[attr-defined]
        parts.append(f"## `cookbook {name}`\n")
        parts.append(f"```text\n{sub.format_help().rstrip()}\n```\n")
    parts.append(
        "Exit codes: `0` every compared case has parity, `1` a case differs or a side failed to run, "
        "`2` bad usage (an unknown recipe or case, a folder that is not a cookbook)."
    )
    return "\n".join(parts)


# ---- MkDocs hooks ----------------------------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    recipes = discover()
    nav = config["nav"] or []
    for item in nav:
        if isinstance(item, dict) and "Recipes" in item:
            item["Recipes"] = [{r.meta.title: f"recipes/{r.name}.md"} for r in recipes.values()]
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    recipes = discover()
    generated = {f"recipes/{r.name}.md": recipe_page(r) for r in recipes.values()}
    generated["concepts.md"] = concept_map(recipes)
    generated["cli.md"] = cli_reference()
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    markdown = markdown.replace(RECIPES_MARKER, recipes_table(discover()))
    return resolve_includes(markdown, page.file.src_uri)


# ---- captures ---------------------------------------------------------------------------------------------------


def capture(runs_json: Path, out_dir: Path = CAPTURES) -> list[Path]:
    """Render a `cookbook compare --json` file into one text capture per recipe, as the terminal shows it."""
    from rich.console import Console

    from cookbook.harness import CaseRun
    from cookbook.render import case_panel, print_summary

    runs = [CaseRun.model_validate(r) for r in json.loads(runs_json.read_text(encoding="utf-8"))]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in dict.fromkeys(r.recipe for r in runs):
        mine = [r for r in runs if r.recipe == name]
        console = Console(record=True, width=100, color_system=None, file=io.StringIO())
        for run in mine:
            console.print(case_panel(run))
        print_summary(console, mine)
        path = out_dir / f"{name}.txt"
        path.write_text(console.export_text(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "capture":
        sys.exit("usage: python -m cookbook.docsite capture RUNS.json")
    for written_path in capture(Path(sys.argv[2])):
        print(written_path.relative_to(PROJECT_ROOT))
