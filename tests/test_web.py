"""The web edition: build/web/<locale>/<id>.html and build/web/index.html, checked in Chromium with axe-core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import build

from .conftest import copy_repo, make_project

pytestmark = pytest.mark.slow  # builds, and Chromium

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:|//)|<link\b|<script\b[^>]*\bsrc=|@import|url\(""", re.I)


@pytest.fixture(scope="module")
def web_sample(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The sample (en, es; de broken), web edition only."""
    project = make_project(tmp_path_factory.mktemp("web-sample"))
    build(project, workers=1, editions=("web",), progress=lambda line: None)
    return project


@pytest.fixture(scope="module")
def web_rtl(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Two repository handouts (the triage and the "where" pictures) in English, Arabic and Persian
    (right to left) and Chinese, web edition only."""
    project = copy_repo(tmp_path_factory.mktemp("web-rtl"))
    result = build(project, locales=("en", "ar", "fa", "zh_Hans"), handout_ids=("warning-signs", "acdf"), editions=("web",),
                   workers=1, progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    return project


def test_every_ready_locale_gets_a_page_and_the_index_links_to_them(web_sample: Project) -> None:
    web = web_sample.build_dir / "web"
    assert sorted(p.relative_to(web).as_posix() for p in web.rglob("*.html")) == [
        "en/walking.html", "es/walking.html", "index.html"]  # de is broken: no page, no link
    index = (web / "index.html").read_text("utf-8")
    links = re.findall(r'href="([^"#]+)"', index)
    assert links == ["en/walking.html", "es/walking.html"]
    assert all((web / link).exists() for link in links)
    assert '<section class="language" id="es" lang="es" dir="ltr"' in index
    assert "Caminar después de la cirugía" in index


def test_pages_carry_the_same_draft_marks_as_the_pdf(web_sample: Project) -> None:
    spanish = (web_sample.build_dir / "web" / "es" / "walking.html").read_text("utf-8")
    assert '<html lang="es" dir="ltr">' in spanish
    assert "BORRADOR — todavía no aprobado por un médico" in spanish
    assert 'class="draft-mark"' in spanish and 'class="draft-notice"' in spanish
    english = (web_sample.build_dir / "web" / "en" / "walking.html").read_text("utf-8")
    assert 'class="draft-mark"' in english and 'class="draft-notice"' not in english
    assert "DRAFT — not yet approved by a clinician" in english


def test_pages_are_self_contained(web_sample: Project) -> None:
    for page in (web_sample.build_dir / "web").rglob("*.html"):
        html = page.read_text("utf-8")
        assert not EXTERNAL.search(html), (page, EXTERNAL.search(html))
        assert "@media print" in html  # the print stylesheet is inline too
        assert '<meta name="viewport"' in html


def test_second_build_writes_nothing_and_a_deleted_page_comes_back(web_sample: Project) -> None:
    lines: list[str] = []
    again = build(web_sample, workers=1, editions=("web",), progress=lines.append)
    assert not again.outputs and len(again.unchanged) == 2
    assert not [line for line in lines if "web" in line], lines
    page = web_sample.build_dir / "web" / "es" / "walking.html"
    page.unlink()
    rebuilt = build(web_sample, workers=1, editions=("web",), progress=lambda line: None)
    assert [(o.locale, o.edition, o.pdf) for o in rebuilt.outputs] == [("es", "web", None)]
    assert page.exists()


def test_rtl_pages_have_lang_and_dir(web_rtl: Project) -> None:
    arabic = (web_rtl.build_dir / "web" / "ar" / "warning-signs.html").read_text("utf-8")
    assert '<html lang="ar" dir="rtl">' in arabic
    assert '<p class="clinic" lang="en">' in arabic  # the clinic's English name says so
    assert '<bdi dir="ltr">' in arabic  # phone numbers keep their order
    index = (web_rtl.build_dir / "web" / "index.html").read_text("utf-8")
    assert 'lang="fa" dir="rtl"' in index and 'lang="ar" dir="rtl"' in index


# ---------------------------------------------------------------- Chromium and axe-core




def axe_violations(browser, url: str, width: int) -> list[tuple[str, str]]:
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(url)
        result = Axe().run(page)  # every rule axe-core runs by default: WCAG 2.1 A and AA, and best practices
        return [(v["id"], node["target"][0]) for v in result.response["violations"] for node in v["nodes"]]
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 360])  # a desktop and a phone
@pytest.mark.parametrize("page", ["index.html", "en/warning-signs.html", "ar/warning-signs.html",
                                  "fa/warning-signs.html", "zh_Hans/warning-signs.html", "en/acdf.html", "ar/acdf.html"])
def test_axe_finds_no_violations(browser, web_rtl: Project, page: str, width: int) -> None:
    assert axe_violations(browser, (web_rtl.build_dir / "web" / page).as_uri(), width) == []


def test_axe_can_fail(browser, web_rtl: Project, tmp_path: Path) -> None:
    """The check sees a real violation: an image without alternative text."""
    broken = tmp_path / "broken.html"
    html = (web_rtl.build_dir / "web" / "en" / "warning-signs.html").read_text("utf-8")
    broken.write_text(html.replace("<main>", '<main><img src="x.png">'), "utf-8")
    assert ("image-alt", "img") in axe_violations(browser, broken.as_uri(), 1280)


def test_pages_work_from_the_file_system(browser, web_rtl: Project) -> None:
    """From the index, the Persian link opens the Persian page, which links back; the layout mirrors."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((web_rtl.build_dir / "web" / "index.html").as_uri())
        page.click('nav a[lang="fa"]')
        page.locator('#fa a[href="fa/warning-signs.html"]').click()
        assert page.url.endswith("/web/fa/warning-signs.html")
        heading = page.locator("h1").bounding_box()
        assert heading["x"] + heading["width"] > 900  # right-aligned: starts on the right
        page.screenshot(path=str(web_rtl.build_dir / "web-fa.png"), full_page=True)
        page.click(".clinic a")
        assert page.url.endswith("/web/index.html")
    finally:
        page.close()


@pytest.mark.parametrize("text", ["DRAFT — not yet approved by a clinician",
                                  "Draft translation: not yet reviewed by a qualified medical translator."])
def test_index_marks_are_strings_the_templates_print(repo: Project, text: str) -> None:
    """The index translates the PDF's own draft marks: they must still be in the POT."""
    from handoutkit.outputs import web

    assert text in (web.DRAFT_MARK, web.DRAFT_TRANSLATION)
    assert f'msgid "{text}"' in repo.pot_path.read_text("utf-8")
