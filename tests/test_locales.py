"""The repository's thirteen locales: pinned fonts per script, coverage, right-to-left, review notice."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import build, pdf_path
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.fontplan import coverage_problems, load_font_plan

from .conftest import copy_repo
from .test_pdf import embedded_fonts


# The face each locale must embed for its own script (as pdffonts names it).
EXPECTED_FACE = {
    "zh_Hans": "Noto-Sans-CJK-SC", "zh_Hant": "Noto-Sans-CJK-TC", "ko": "Noto-Sans-CJK-KR",
    "ar": "Noto-Naskh-Arabic", "fa": "Noto-Naskh-Arabic", "ne": "Noto-Sans-Devanagari",
}
LATIN = ("en", "es", "vi", "tl", "ru", "ht", "pt")
PINNED_PREFIXES = ("Noto-Sans", "Noto-Naskh-Arabic")


@pytest.mark.slow  # a build of the repository in every locale
def test_every_published_locale_is_built(built_repo: Project) -> None:
    assert len(built_repo.settings.locales) == 13
    for locale in built_repo.settings.locales:
        assert pdf_path(built_repo, locale, "warning-signs").stat().st_size > 5000


@pytest.mark.slow  # a build of the repository in every locale
@pytest.mark.parametrize("locale", sorted(EXPECTED_FACE))
def test_script_locales_embed_their_pinned_face(built_repo: Project, locale: str) -> None:
    fonts = embedded_fonts(pdf_path(built_repo, locale, "warning-signs"))
    assert any(f.startswith(EXPECTED_FACE[locale]) for f in fonts), fonts
    assert all(f.startswith(PINNED_PREFIXES) for f in fonts), fonts  # no DejaVu, no Liberation
    other_cjk = {"Noto-Sans-CJK-JP", "Noto-Sans-CJK-SC", "Noto-Sans-CJK-TC", "Noto-Sans-CJK-KR"} - {EXPECTED_FACE[locale]}
    assert not any(f.startswith(tuple(other_cjk)) for f in fonts), fonts  # zh_Hans never gets a Japanese face


@pytest.mark.slow  # a build of the repository in every locale
@pytest.mark.parametrize("locale", LATIN)
def test_latin_and_cyrillic_locales_embed_only_noto_sans(built_repo: Project, locale: str) -> None:
    fonts = embedded_fonts(pdf_path(built_repo, locale, "warning-signs"))
    assert fonts and all(f.startswith("Noto-Sans") and "CJK" not in f for f in fonts), fonts


def plain_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(c for c in out if unicodedata.category(c) != "Cf")


@pytest.mark.slow  # a build of the repository in every locale
@pytest.mark.parametrize("locale", ["ar", "fa"])
def test_rtl_text_extracts_in_logical_order_with_numbers_intact(built_repo: Project, locale: str) -> None:
    catalog = load_catalog(built_repo, locale)
    title = catalog.get("Warning signs after spine surgery").string
    text = plain_text(pdf_path(built_repo, locale, "warning-signs"))
    assert title in text
    assert "(555) 010-0142" in text and "911" in text


@pytest.mark.slow  # a build of the repository in every locale
def test_html_of_rtl_locale_is_mirrored(built_repo: Project) -> None:
    html = (built_repo.build_dir / "html" / "fa" / "warning-signs.html").read_text("utf-8")
    assert '<html lang="fa" dir="rtl">' in html
    assert '<bdi dir="ltr">&#x2066;(555) 010-0142&#x2069;</bdi>' in html


def test_every_character_of_every_translation_has_a_pinned_font(repo: Project) -> None:
    plan = load_font_plan(repo)
    for locale in repo.settings.translated_locales:
        label = repo.rel(repo.po_path(locale))
        texts = [(label, m.lineno, str(m.string)) for m in load_catalog(repo, locale) if m.id]
        assert coverage_problems(plan, locale, texts) == [], locale


@pytest.mark.slow  # a build of the repository in every locale
def test_uncovered_character_stops_the_locale_before_rendering(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    po = project.po_path("es")
    po.write_text(po.read_text().replace('msgstr "Dificultad para respirar o dolor en el pecho"',
                                        'msgstr "Dificultad para respirar o dolor en el pecho ☤"'))
    line = next(n for n, l in enumerate(po.read_text().splitlines(), 1) if "☤" in l)
    result = build(project, locales=("es",), handout_ids=("warning-signs",), progress=lambda line: None)
    assert result.skipped_locales == ["es"] and not result.outputs
    [problem] = result.problems
    assert problem.path == "locales/es/LC_MESSAGES/handouts.po"
    assert "U+2624" in problem.message
    assert line - 1 <= problem.line <= line  # the entry (msgid line) holding the character
    assert not pdf_path(project, "es", "warning-signs").exists()


@pytest.mark.slow  # a build of the repository in every locale
def test_repository_locales_are_machine_drafts_marked_in_po_and_pdf(built_repo: Project) -> None:
    for locale in built_repo.settings.translated_locales:
        assert "MACHINE DRAFT" in built_repo.po_path(locale).read_text("utf-8").split("msgid", 1)[0]
    notice = load_catalog(built_repo, "ko").get(
        "Draft translation: not yet reviewed by a qualified medical translator.").string
    assert notice.replace(" ", "") in plain_text(pdf_path(built_repo, "ko", "warning-signs")).replace(" ", "")


@pytest.mark.slow  # a build of the repository in every locale
@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "ko"])
def test_cjk_lines_never_start_with_closing_punctuation(built_repo: Project, locale: str) -> None:
    lines = subprocess.run(["pdftotext", "-layout", str(pdf_path(built_repo, locale, "warning-signs")), "-"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    text_lines = [line.strip() for line in lines if line.strip()]
    assert len(text_lines) > 10
    assert not [line for line in text_lines if line[0] in "，。、：；？！）」』,.:;?!)"], text_lines


@pytest.mark.slow  # the console script in its own process
def test_blanking_one_repository_msgstr_fails_make_check(tmp_path: Path) -> None:
    """The CI gate on the real catalogs: `handouts check` exits 1 and names the entry's line."""
    import sys

    project = copy_repo(tmp_path)
    po = project.po_path("es")
    lines = po.read_text("utf-8").splitlines()
    index = lines.index('msgid "Trouble breathing or chest pain"')
    lines[index + 1] = 'msgstr ""'
    po.write_text("\n".join(lines) + "\n", "utf-8")
    run = subprocess.run([str(Path(sys.executable).with_name("handouts")), "check"], cwd=project.root,
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert f"locales/es/LC_MESSAGES/handouts.po:{index + 1}: untranslated: 'Trouble breathing or chest pain'" in run.stdout
