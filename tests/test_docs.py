"""The docs site: built strictly from the tested files, every internal link resolves, no page is left empty,
and in a real browser the code stands side by side and search finds recipes by Airflow terms."""

from __future__ import annotations

import functools
import html
import itertools
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from cookbook.pages import code_refs, region
from cookbook.recipe import PROJECT_ROOT, discover

SCREENSHOTS = PROJECT_ROOT / "runs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_recipe_has_a_page_with_the_tested_code(site: Path) -> None:
    for recipe in discover().values():
        page = (site / "recipes" / recipe.name / "index.html").read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        # A line of each side's first included region appears, as written in the tested file.
        for folder in ("airflow_dags/", "prefect_flows/"):
            path, name = _first_region(recipe.body, folder)
            line = next(
                line.strip() for line in region(PROJECT_ROOT / path, name).splitlines() if len(line.strip()) > 20
            )
            assert line in text, f"{recipe.name}: {line!r} from {path}:{name} is not on the page"
        assert "make compare RECIPE=" + recipe.name in text


def _first_region(body: str, folder: str) -> tuple[str, str]:
    for ref in code_refs(body):
        if ref.path.startswith(folder):
            return ref.path, ref.region
    raise AssertionError(f"no {folder} region on the page")


def test_each_region_a_page_shows_is_on_the_site_once(site: Path) -> None:
    """The narrative shows each region where it explains it, and nowhere else (no second copy above or below)."""
    for recipe in discover().values():
        page = (site / "recipes" / recipe.name / "index.html").read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        for ref in code_refs(recipe.body):
            code = region(PROJECT_ROOT / ref.path, ref.region)
            assert text.count(code) == 1, f"{recipe.name}: {ref.path}:{ref.region} is on the page {text.count(code)}x"


def test_the_flow_and_the_dag_can_be_downloaded_from_their_page(site: Path) -> None:
    for recipe in discover().values():
        page = (site / "recipes" / recipe.name / "index.html").read_text(encoding="utf-8")
        for folder, path in (("flows", recipe.flow_file), ("dags", recipe.dag_file)):
            links = re.findall(rf'<a\b[^>]*href="\.\./\.\./{folder}/{re.escape(path.name)}"[^>]*>', page)
            assert any(" download" in link for link in links), f"{recipe.name}: no download link to its {folder} file"
            shipped = site / folder / path.name
            assert shipped.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_the_concept_map_lists_every_concept(site: Path) -> None:
    text = html.unescape((site / "concepts" / "index.html").read_text(encoding="utf-8"))
    for recipe in discover().values():
        for concept in recipe.meta.concepts:
            assert (
                html.escape(concept.airflow, quote=False) in html.escape(text, quote=False) or concept.airflow in text
            )


def test_internal_links_resolve(site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in pages(site):
        source = page.read_text(encoding="utf-8")
        for href in re.findall(r'(?:href|src)="([^"]+)"', source):
            parts = urlsplit(html.unescape(href))
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:", "data:")):
                continue
            if not parts.path:
                target = page
            elif parts.path.startswith("/"):  # the 404 page links from the site's root
                target = site / unquote(parts.path).lstrip("/")
            else:
                target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = set(re.findall(r'id="([^"]+)"', target.read_text(encoding="utf-8")))
                if parts.fragment not in ids[target]:
                    broken.append(f"{page.relative_to(site)} -> {href} (no such anchor)")
    assert broken == []


def test_no_page_is_unfinished(site: Path) -> None:
    for page in pages(site):
        if page.name == "404.html":
            continue
        article = page.read_text(encoding="utf-8").split('<article class="md-content__inner', 1)[-1]
        text = re.sub(r"<[^>]+>", " ", article)
        assert "TODO" not in text and "TBD" not in text, page
        assert "no capture yet" not in text, page
        # A heading directly followed by a heading of the same or a higher level is an empty section.
        headings = list(re.finditer(r"<h([1-6])[^>]*>(.*?)</h\1>", article, re.DOTALL))
        for this, following in itertools.pairwise(headings):
            between = article[this.end() : following.start()]
            if not re.sub(r"<[^>]+>", "", between).strip() and int(following[1]) <= int(this[1]):
                raise AssertionError(f"{page.relative_to(site)}: empty section {re.sub('<[^>]+>', '', this[2])!r}")


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it where it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def test_recipe_code_is_side_by_side_on_wide_screens_and_tabs_on_narrow(browser, served: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wide = browser.new_page(viewport={"width": 1600, "height": 1000})
    wide.goto(f"{served}/recipes/sensors/")
    blocks = wide.locator(".side-by-side .tabbed-block")
    assert blocks.count() == 2
    left, right = blocks.nth(0).bounding_box(), blocks.nth(1).bounding_box()
    assert left and right and left["width"] > 300 and right["width"] > 300
    assert right["x"] >= left["x"] + left["width"] - 1, (left, right)  # next to each other...
    assert abs(right["y"] - left["y"]) < 2  # ...on the same line
    assert "FileSensor" in blocks.nth(0).inner_text() and "@task" in blocks.nth(1).inner_text()
    # What a reader sees: each region the page shows is rendered once, both sides' code included.
    shown = wide.locator("article").inner_text()
    recipe = discover()["sensors"]
    for ref in code_refs(recipe.body):
        line = max(region(PROJECT_ROOT / ref.path, ref.region).splitlines(), key=len).strip()
        assert shown.count(line) == 1, f"{ref.path}:{ref.region}: {line!r} shown {shown.count(line)} times"
    wide.screenshot(path=str(SCREENSHOTS / "recipe-wide.png"))

    narrow = browser.new_page(viewport={"width": 480, "height": 900})
    narrow.goto(f"{served}/recipes/sensors/")
    visible = [narrow.locator(".side-by-side .tabbed-block").nth(i).is_visible() for i in range(2)]
    assert visible == [True, False]
    narrow.locator(".side-by-side .tabbed-labels label").nth(1).click()
    assert narrow.locator(".side-by-side .tabbed-block").nth(1).is_visible()
    narrow.screenshot(path=str(SCREENSHOTS / "recipe-narrow.png"))


@pytest.mark.parametrize(("term", "recipe"), [("FileSensor", "sensors"), ("xcom_pull", "xcom")])
def test_search_finds_a_recipe_by_an_airflow_term(browser, served: str, term: str, recipe: str) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{served}/")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially(term, delay=20)  # material searches on key events; fill() sends none
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    hrefs = [results.nth(i).get_attribute("href") or "" for i in range(results.count())]
    assert any(f"recipes/{recipe}/" in href for href in hrefs), hrefs
    page.screenshot(path=str(SCREENSHOTS / f"search-{term}.png"))
