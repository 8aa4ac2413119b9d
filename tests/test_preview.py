"""Work in progress: an incomplete or unpublished language can be previewed, updated and counted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.preview import preview
from handoutkit.outputs.stats import collect
from handoutkit.translation.catalogs import init_locale, load_catalog, update

from .conftest import copy_repo


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repository with a German catalog that is started, not finished, and not published."""
    project = copy_repo(tmp_path_factory.mktemp("preview"))
    init_locale(project, "de")
    po = project.po_path("de")
    po.write_text(po.read_text("utf-8").replace('msgid "Trouble breathing or chest pain"\nmsgstr ""',
                                                'msgid "Trouble breathing or chest pain"\nmsgstr "Atemnot"'), "utf-8")
    assert "de" not in project.settings.locales
    return project


@pytest.mark.slow  # renders preview PDFs
def test_an_unfinished_unpublished_language_previews_with_english_highlighted(german: Project) -> None:
    result = preview(german, "warning-signs", "de")
    assert result.pdf == german.build_dir / "preview" / "de" / "warning-signs.pdf"
    html = result.html.read_text("utf-8")
    assert html.count('<mark class="untranslated">') == result.untranslated + 1  # + the banner's example
    assert result.untranslated > 10
    pages = page_texts(result.pdf)
    assert pages and all("PREVIEW: not for patients" in page for page in pages)
    assert "Atemnot" in pages[0] and "A severe headache" in pages[0]
    assert "\ue000" not in html and "\ue001" not in html
    # Never a patient output: nothing under build/pdf, no manifest entry, no catalog page.
    assert not (german.build_dir / "pdf").exists()
    assert not (german.build_dir / "manifest.json").exists()
    assert not (german.build_dir / "index.html").exists()


@pytest.mark.slow  # renders preview PDFs
def test_a_long_preview_is_copyfitted_and_bannered_on_every_page(german: Project) -> None:
    result = preview(german, "acdf", "es")
    pages = page_texts(result.pdf)
    assert result.pages == len(pages) <= german.settings.limits.page_budget
    assert all("PREVIEW: not for patients" in page for page in pages)
    assert result.untranslated == 0


@pytest.mark.slow  # msgmerge and msgfmt over every locale (about 3 s of CPU)
def test_update_and_stats_cover_unpublished_languages(german: Project) -> None:
    assert "de" in german.catalog_locales()
    pot = german.pot_path
    pot.write_text(pot.read_text("utf-8").replace('msgid "Trouble breathing or chest pain"',
                                                  'msgid "Trouble breathing or chest pain now"'),
                   "utf-8")
    results = {r.locale: r for r in update(german)}
    assert results["de"].written and results["de"].fuzzy == 1
    assert load_catalog(german, "de").get("Trouble breathing or chest pain now").previous_id == \
        ["Trouble breathing or chest pain"]
    rows = {s.locale: s for s in collect(german).locales}
    assert rows["de"].published is False and rows["de"].translated == 0
    assert rows["es"].published is True


@pytest.mark.slow  # renders preview PDFs
def test_preview_of_an_unknown_handout_or_locale_is_a_clean_error(german: Project) -> None:
    handouts = Path(sys.executable).with_name("handouts")  # the virtualenv this test runs in
    for args, expected in ((["preview", "nope", "--locale", "es"], "unknown handout 'nope'"),
                           (["preview", "acdf", "--locale", "xx_Nope"], "unknown locale 'xx_Nope'"),
                           (["preview", "acdf", "--locale", "it"], "missing catalog for locale 'it'")):
        run = subprocess.run([str(handouts), "-C", str(german.root), *args], capture_output=True, text=True)
        assert run.returncode == 1 and expected in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_stats_table_has_errors_and_aligns_cjk_by_display_width() -> None:
    from handoutkit.outputs.stats import LocaleStats, Stats, display_width, format_table

    rows = [LocaleStats("es", "Español", 169, 169, 0, 0, 0, 100.0, "draft", None, 0),
            LocaleStats("zh_Hans", "中文 (简体)", 169, 160, 0, 9, 40, 94.7, "draft", None, 3),
            LocaleStats("ne", "नेपाली", 169, 169, 0, 0, 0, 100.0, "draft", None, 0, published=False)]
    lines = format_table(Stats(rows, [])).splitlines()
    assert "errors" in lines[0]
    ends = {display_width(line[: line.index("%") + 1]) for line in lines[1:4]}
    assert len(ends) == 1, lines[:4]
    assert lines[3].endswith("(not published yet)")
