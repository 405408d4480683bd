"""The web UI's modules (issue 25): ``core.js`` and ``svg.js`` shared, one module per page in ``views/``,
and the shell ``main.js``, the only module that imports the pages and that nobody imports, so that the
imports form no circle. Every module stays short, and a text key is defined once: the review page's note
box reads its own text again (the recurring page's closing note had replaced it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.web.conftest import Site, log_in

WEB = ROOT / "api" / "web"
GENERATED = {"kinds.js"}  # served by the API from detector.kinds (api/ops/ui.py), not a file
MAX_LINES = 300

STATIC = re.compile(r"^\s*(?:import|export)\b[^;\"'`]*?\bfrom\s*[\"']([^\"']+)[\"']", re.MULTILINE)
BARE = re.compile(r"^\s*import\s*[\"']([^\"']+)[\"']", re.MULTILINE)
DYNAMIC = re.compile(r"\bimport\s*\(\s*[\"']([^\"']+)[\"']\s*\)")
# A comment starts a line or follows a space ("http://" is no comment); a block comment may span lines.
COMMENT = re.compile(r"(?:^|(?<=\s))//[^\n]*|/\*.*?\*/", re.MULTILINE | re.DOTALL)


def scripts() -> list[Path]:
    """The app's own modules; the vendored Leaflet is not ours."""
    return sorted(p for p in WEB.rglob("*.js") if "vendor" not in p.relative_to(WEB).parts)


def name(path: Path) -> str:
    return path.relative_to(WEB).as_posix()


def imports(text: str, where: str) -> set[str]:
    """The modules a script imports (static, bare, re-exported and dynamic), as paths under ``api/web``;
    ``where`` is the script's own path there."""
    code = COMMENT.sub("", text)
    found = set()
    for pattern in (STATIC, BARE, DYNAMIC):
        for target in pattern.findall(code):
            relative = not target.startswith("/ui/")
            found.add(normalise(f"{Path(where).parent}/{target}" if relative else target[len("/ui/") :]))
    return found


def normalise(path: str) -> str:
    """``views/../core.js`` as ``core.js``."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def graph() -> dict[str, set[str]]:
    return {name(p): imports(p.read_text(), name(p)) for p in scripts()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports as the modules along it (the first again at the end), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(edges.get(node, ())):
            if cycle := visit(target, [*path, node]):
                return cycle
        done.add(node)
        return None

    for start in sorted(edges):
        if cycle := visit(start, []):
            return cycle
    return None


def test_the_import_reader_sees_every_form_of_import() -> None:
    text = (
        '// import { x } from "./commented.js";\n'
        'import { a,\n  b } from "./core.js";\n'
        'import "./side.js";\n'
        'export { c } from "../svg.js";\n'
        'const L = import("../vendor/leaflet/leaflet.js");\n'
        'const url = "http://www.w3.org/2000/svg"; // import("./not.js") in a comment\n'
    )
    assert imports(text, "views/map.js") == {
        "views/core.js",
        "views/side.js",
        "svg.js",
        "vendor/leaflet/leaflet.js",
    }


def test_the_cycle_finder_names_a_circle() -> None:
    circle = {"a.js": {"b.js"}, "b.js": {"c.js"}, "c.js": {"a.js"}}
    assert find_cycle(circle) == ["a.js", "b.js", "c.js", "a.js"]
    assert find_cycle({"main.js": {"core.js", "views/x.js"}, "views/x.js": {"core.js"}}) is None


def test_the_modules_import_no_circle() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "the web UI's modules import in a circle: " + " → ".join(cycle or [])


def test_only_the_shell_imports_the_pages_and_nobody_imports_the_shell() -> None:
    edges = graph()
    assert "main.js" in edges and "core.js" in edges and "svg.js" in edges
    importers = {source for source, targets in edges.items() if "main.js" in targets}
    assert not importers, f"main.js is the entry point, imported by nobody: {sorted(importers)}"
    # Views may use each other's widgets; anything else that imports a view makes a page a dependency.
    wrong = {
        source: sorted(t for t in targets if t.startswith("views/"))
        for source, targets in edges.items()
        if source != "main.js" and not source.startswith("views/")
    }
    assert not {s: t for s, t in wrong.items() if t}, f"only main.js imports views/: {wrong}"
    assert edges["core.js"] == {"kinds.js"}, "core.js imports only the generated kinds module"
    assert edges["svg.js"] <= {"core.js", "kinds.js"}


def test_every_module_is_loaded_from_the_page_and_exists() -> None:
    html = (WEB / "index.html").read_text()
    assert re.findall(r'<script type="module" src="/ui/([^"]+)"', html) == ["main.js"]
    edges = graph()
    reached, todo = set(), ["main.js"]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(edges.get(module, ()))
    assert set(edges) <= reached, f"modules no page loads: {sorted(set(edges) - reached)}"
    missing = sorted(m for m in reached - GENERATED if not (WEB / m).is_file())
    assert not missing, f"imported but not there: {missing}"


@pytest.mark.parametrize("path", scripts(), ids=name)
def test_no_module_is_over_300_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{name(path)} has {lines} lines: split it"


def test_the_review_note_box_reads_its_own_text(page: Page, site: Site) -> None:
    log_in(page, site, "anna")
    note = page.locator("#detail #note")
    expect(note).to_have_attribute("placeholder", "备注（可选）")
    expect(page.locator("#detail p.muted")).to_contain_text("/ 备注（可选）")
    texts = page.evaluate("() => import('/ui/core.js').then(({ t }) => [t('r.note'), t('r.close_note')])")
    assert texts == ["备注（可选）", "结案说明（如何解决）"]  # the recurring page's closing note is its own
    page.click("#lang")
    expect(note).to_have_attribute("placeholder", "Note (optional)")


DEFINE_TWICE = """async (key) => {
  const { defineTexts, t } = await import('/ui/core.js');
  const refused = (zh, en) => { try { defineTexts(zh, en); return null; } catch (e) { return e.message; } };
  const first = refused({ [key]: '一次' }, { [key]: 'once' });
  const again = refused({ [key]: '两次' }, { [key]: 'twice' });
  const english = refused({}, { [key]: 'only English' });
  const views = refused({ 'r.note': '别的' }, { 'r.note': 'another' });
  return { first, again, english, views, text: t(key) };
}"""


def test_a_text_key_defined_twice_is_refused(page: Page, site: Site) -> None:
    page.goto(site.url + "/")
    expect(page.locator("#login")).to_be_visible()  # the app's modules have loaded and defined their texts
    result = page.evaluate(DEFINE_TWICE, "test.once")
    assert result["first"] is None
    assert result["again"] and "test.once" in result["again"]
    assert result["english"] and "test.once" in result["english"]
    assert result["views"] and "r.note" in result["views"]  # a key of the review page, as recurring.js had
    assert result["text"] == "一次"  # the first definition stands


# What each page shows once its data is in (the page's own module has run).
PAGES = {
    "review": "#queue .card",
    "events": "#history-filters",
    "cases": "#board",
    "cameras": "#main .grid, #main p.muted",
    "officers": "#enrol",
    "dashboard": "#figures",
    "briefs": "#brief",
    "projects": "#projects",
    "map": "#map-page",
    "recurring": "#tracked",
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_opens_without_a_script_error(page: Page, site: Site, lang: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, site, "anna")
    if lang == "en":
        page.click("#lang")
    links = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == [f"#/{p}" for p in PAGES]
    for name, shown in PAGES.items():
        page.click(f"header nav a[href='#/{name}']")
        expect(page.locator(shown).first).to_be_visible()
        expect(page.locator("#main > p.error")).to_have_count(0)
    assert not errors
