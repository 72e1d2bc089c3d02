"""Every recipe is complete: its three files, its page's sections, the regions its page includes, clean imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cookbook.pages import stale_blocks
from cookbook.recipe import PROJECT_ROOT, Recipe, RecipeError, discover, load_recipe

RECIPES = discover()
SECTIONS = [
    "## The problem",
    "## The Airflow way",
    "## The Prefect way",
    "## What differs in meaning",
    "## Parity",
    "## Gotchas",
]
INCLUDE = re.compile(r"<!-- code: ([^\s:]+):([a-z0-9_]+) -->")
ISSUE_LINK = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+/(?:issues|pull|discussions)/\d+")
ALLOWED_IN_FLOWS = {
    "prefect",
    "prefect_aws",
    "prefect_dask",
    "prefect_email",
    "prefect_shell",
    "prefect_sqlalchemy",
    "pydantic",
    "httpx",
    "__future__",
}


def by_name(name: str) -> Recipe:
    return RECIPES[name]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_core_recipes_exist() -> None:
    assert {"sensors", "bash", "xcom", "connections"} <= set(RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_has_both_sides_and_a_complete_page(name: str) -> None:
    recipe = by_name(name)
    assert recipe.dag_file.is_file() and recipe.flow_file.is_file()
    positions = [recipe.body.find(section) for section in SECTIONS]
    assert -1 not in positions, f"missing sections: {[s for s, p in zip(SECTIONS, positions, strict=True) if p < 0]}"
    assert positions == sorted(positions), "sections out of order"
    assert "TODO" not in recipe.body
    assert recipe.meta.concepts, "a recipe maps at least one Airflow construct"


@pytest.mark.parametrize("name", RECIPES)
def test_included_regions_exist_in_the_tested_files(name: str) -> None:
    recipe = by_name(name)
    includes = INCLUDE.findall(recipe.body)
    assert any(f.startswith("airflow_dags/") for f, _ in includes), "the page shows no Airflow code"
    assert any(f.startswith("prefect_flows/") for f, _ in includes), "the page shows no Prefect code"
    for file, region in includes:
        text = (PROJECT_ROOT / file).read_text(encoding="utf-8")
        assert f"# [START {region}]" in text and f"# [END {region}]" in text, f"{file} has no region {region}"


@pytest.mark.parametrize("name", RECIPES)
def test_the_code_on_the_page_is_the_tested_code(name: str) -> None:
    """GitHub shows the page as it is: its code blocks are the regions' current text (`make pages` writes them)."""
    recipe = by_name(name)
    assert stale_blocks(recipe.page) == [], "run `make pages`"
    assert "--8<--" not in recipe.body, "GitHub shows an include line as text: use a `<!-- code: path:region -->` block"


@pytest.mark.parametrize("name", RECIPES)
def test_every_cited_thread_is_in_the_metadata(name: str) -> None:
    recipe = by_name(name)
    listed = {link.url for link in recipe.meta.upstream}
    cited = set(ISSUE_LINK.findall(recipe.body))
    assert cited, "the gotchas cite no upstream thread"
    assert cited <= listed, f"cited but not in `upstream:` {sorted(cited - listed)}"


@pytest.mark.parametrize("name", RECIPES)
def test_prefect_side_is_copy_paste_ready(name: str) -> None:
    roots = imported_roots(by_name(name).flow_file)
    stdlib = set(__import__("sys").stdlib_module_names)
    assert roots - stdlib <= ALLOWED_IN_FLOWS, (
        f"imports beyond Prefect, Pydantic, httpx: {roots - stdlib - ALLOWED_IN_FLOWS}"
    )


@pytest.mark.parametrize("name", RECIPES)
def test_airflow_side_does_not_import_prefect(name: str) -> None:
    roots = imported_roots(by_name(name).dag_file)
    assert not roots & {"prefect", "prefect_shell", "cookbook"}


def test_no_orphan_dag_or_flow() -> None:
    for folder in ("airflow_dags", "prefect_flows"):
        stems = {p.stem for p in (PROJECT_ROOT / folder).glob("*.py") if not p.name.startswith("_")}
        assert stems <= set(RECIPES), f"{folder} files without a recipe page: {stems - set(RECIPES)}"


def test_a_page_without_front_matter_is_a_one_line_error(tmp_path: Path) -> None:
    page = tmp_path / "recipes" / "bad.md"
    page.parent.mkdir()
    page.write_text("# no front matter\n")
    with pytest.raises(RecipeError, match="no YAML front matter"):
        load_recipe(page)


def bad_recipe(tmp_path: Path, front: str, cases: str | None) -> Path:
    page = tmp_path / "recipes" / "bad.md"
    page.parent.mkdir()
    page.write_text(f"---\n{front}---\nbody\n")
    if cases is not None:
        (tmp_path / "recipes" / "bad.cases.yaml").write_text(cases)
    return page


CASE = "cases:\n  - name: a\n    expect: {run_state: success, tasks: {t: success}}\n"


def test_invalid_case_metadata_names_the_file_line_and_field(tmp_path: Path) -> None:
    cases = "# a comment\ncases:\n  - name: a\n    expect:\n      run_state: maybe\n"
    page = bad_recipe(tmp_path, "title: t\nsummary: s\n", cases)
    with pytest.raises(RecipeError, match=r"bad\.cases\.yaml:5: cases\.0\.expect\.run_state: Input should be"):
        load_recipe(page)


def test_a_misspelt_field_is_named_with_its_line(tmp_path: Path) -> None:
    page = bad_recipe(tmp_path, "title: t\nsummary: s\n", CASE + "harmles_mutations: {}\n")
    with pytest.raises(RecipeError, match=r"bad\.cases\.yaml:4: harmles_mutations: Extra inputs are not permitted"):
        load_recipe(page)


def test_invalid_page_metadata_names_the_page_line(tmp_path: Path) -> None:
    page = bad_recipe(tmp_path, "title: t\nsummary: s\norder: soon\n", CASE)
    with pytest.raises(RecipeError, match=r"bad\.md:4: order: Input should be a valid integer"):
        load_recipe(page)


def test_cases_on_the_page_are_refused(tmp_path: Path) -> None:
    page = bad_recipe(tmp_path, "title: t\nsummary: s\n" + CASE, CASE)
    with pytest.raises(RecipeError, match=r"bad\.md:4: cases: Extra inputs are not permitted"):
        load_recipe(page)


def test_a_page_without_its_cases_file_is_a_one_line_error(tmp_path: Path) -> None:
    page = bad_recipe(tmp_path, "title: t\nsummary: s\n", None)
    with pytest.raises(RecipeError, match=r"bad\.cases\.yaml: missing"):
        load_recipe(page)


def test_a_cases_file_that_is_not_yaml_names_its_line(tmp_path: Path) -> None:
    page = bad_recipe(tmp_path, "title: t\nsummary: s\n", CASE + "parity: [unclosed\n")
    with pytest.raises(RecipeError, match=r"bad\.cases\.yaml:\d+: not YAML"):
        load_recipe(page)


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_keeps_its_cases_beside_its_page(name: str) -> None:
    recipe = by_name(name)
    front = recipe.page.read_text(encoding="utf-8").split("---\n")[1]
    assert "cases:" not in front and "parity:" not in front, "the cases belong in the .cases.yaml file"
    assert (recipe.page.parent / f"{name}.cases.yaml").is_file()


def test_the_readme_links_every_recipe() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in RECIPES if f"(recipes/{name}.md)" not in readme]
    assert missing == [], f"README does not list {missing}"
