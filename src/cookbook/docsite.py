"""MkDocs hooks: the docs site is generated from the recipes and the tested files, never pasted.

- every `recipes/<name>.md` becomes a page: its narrative with "The Airflow way" and "The Prefect way" next to each
  other (tabs on a narrow screen), each code block rendered again from the region its marker names (see
  `cookbook.pages`), a link to copy the flow, the concepts, the cases and a captured compare;
- `concepts.md` (the concept map) and `cli.md` (the CLI reference) are generated from metadata and argparse;
- `--8<-- "path:region"` in the other pages (docs/) is replaced by the region between `[START region]` and
  `[END region]` markers of that file (`# [START x]` in Python, `<!-- [START x] -->` in Markdown).

Also a small CLI: `python -m cookbook.docsite capture RUNS.json` renders compare output for the pages.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from cookbook.pages import RegionError, code_refs, region, render_code
from cookbook.recipe import PROJECT_ROOT, Recipe, discover

log = logging.getLogger("mkdocs.plugins.cookbook")
INCLUDE = re.compile(r'^(?P<indent>[ \t]*)--8<-- "(?P<path>[^":]+):(?P<region>[A-Za-z0-9_]+)"[ \t]*$', re.MULTILINE)
CAPTURES = PROJECT_ROOT / "docs" / "captures"
EFFORT_WORDS = {"mechanical": "mechanical", "judgment": "needs judgment", "redesign": "needs redesign"}


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
    """The regions of one side that the recipe's page shows, in page order."""
    return [(ref.path, ref.region) for ref in code_refs(recipe.body) if ref.path.startswith(folder)]


SIDES = ("## The Airflow way", "## The Prefect way")
SECTION = re.compile(r"^## ", re.MULTILINE)


def _side_by_side(body: str, recipe: Recipe) -> str:
    """The page body with its two "way" sections as two tabs, shown next to each other on wide screens.

    Each region appears once, where the narrative shows it; on a narrow screen the two sections are tabs.
    """
    starts = [m.start() for m in SECTION.finditer(body)] + [len(body)]
    sections = [body[a:b] for a, b in itertools.pairwise(starts)]
    head = body[: starts[0]]
    ways = [next((s for s in sections if s.startswith(title + "\n")), None) for title in SIDES]
    if None in ways:
        return body
    airflow, prefect = (s.split("\n", 1)[1].strip("\n") for s in ways)  # type: ignore[union-attr]
    dag, flow = recipe.dag_file.name, recipe.flow_file.name
    prefect += (
        f"\n\n[:material-download: Copy the flow: `prefect_flows/{flow}`](../flows/{flow}){{ download }}"
        f" · [the DAG: `airflow_dags/{dag}`](../dags/{dag}){{ download }}"
    )
    tabs = f"""<div class="side-by-side" markdown>

=== "The Airflow way"

{textwrap.indent(airflow, "    ")}

=== "The Prefect way"

{textwrap.indent(prefect, "    ")}

</div>

"""
    out, placed = [head], False
    for section in sections:
        if section in ways:
            if not placed:
                out.append("## The Airflow way and the Prefect way\n\n" + tabs)
                placed = True
            continue
        out.append(section)
    return "".join(out)


def recipe_page(recipe: Recipe) -> str:
    meta = recipe.meta
    concepts = "\n".join(
        f"| `{c.airflow}` | {c.prefect} | {EFFORT_WORDS[c.effort]} |".replace("\n", " ") for c in meta.concepts
    )
    cases = "\n".join(f"| `{c.name}` | {c.description or '&nbsp;'} |" for c in meta.cases)
    harmless = "\n".join(f"- `{mutant}`: {why}".replace("\n", " ") for mutant, why in meta.harmless_mutations.items())
    survivors = (
        f"""
Mutants of the flow that no case kills (`make mutate RECIPE={recipe.name}`), each with why it is harmless:

{harmless}
"""
        if harmless
        else ""
    )
    capture = CAPTURES / f"{recipe.name}.txt"
    if capture.exists():
        output = capture.read_text(encoding="utf-8")
    else:
        log.warning("no captured compare output for %s: run `make docs-capture`", recipe.name)
        output = "(no capture yet: make docs-capture)\n"
    try:
        body = render_code(recipe.body)
    except (OSError, RegionError) as exc:
        log.warning("recipes/%s.md: %s", recipe.name, exc)
        body = recipe.body
    return f"""# {meta.title}

{meta.summary}

{_side_by_side(body, recipe).strip()}

## Concepts mapped

| Airflow | Prefect | Effort |
|---|---|---|
{concepts}

## Run it

Both engines run every case below (`recipes/{recipe.name}.cases.yaml`); the verdict compares what they produced.

| case | what it checks |
|---|---|
{cases}
{survivors}
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
    for r in recipes.values():  # the files themselves, for the pages' "copy the flow" links
        generated[f"flows/{r.flow_file.name}"] = r.flow_file.read_text(encoding="utf-8")
        generated[f"dags/{r.dag_file.name}"] = r.dag_file.read_text(encoding="utf-8")
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
