"""PDF output: text, fonts, metadata, reproducibility, the draft notice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import build, pdf_path
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.review import SheetRow, open_safety_entries, record_review

from .signing import approver

pytestmark = pytest.mark.slow  # renders PDFs


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def embedded_fonts(path: Path) -> set[str]:
    """Font names as pdffonts lists them, without the subset prefix (ABCDEF+)."""
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]) for line in lines if line.strip()}


def test_each_locale_pdf_has_its_translated_title(built_sample: Project) -> None:
    assert "Walking after surgery" in pdf_text(pdf_path(built_sample, "en", "walking"))
    spanish = pdf_text(pdf_path(built_sample, "es", "walking"))
    assert "Caminar después de la cirugía" in spanish
    assert "Página 1 de 1" in spanish
    assert "BORRADOR — todavía no aprobado por un médico" in spanish  # not approved: no review date
    assert "Última revisión" not in spanish


def test_pdf_embeds_only_pinned_fonts(built_sample: Project) -> None:
    fonts = embedded_fonts(pdf_path(built_sample, "es", "walking"))
    assert fonts and fonts <= {"Noto-Sans", "Noto-Sans-Bold", "NotoSans-Regular", "NotoSans-Bold"}, fonts


def test_pdf_is_tagged_with_language_and_title(built_sample: Project) -> None:
    from pypdf import PdfReader

    reader = PdfReader(pdf_path(built_sample, "es", "walking"))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "es"
    assert "/StructTreeRoot" in root
    assert reader.metadata.title == "Caminar después de la cirugía"


def test_builds_are_byte_identical(built_sample: Project, sample: Project) -> None:
    build(sample, locales=("es",), workers=1, progress=lambda line: None)
    assert pdf_path(sample, "es", "walking").read_bytes() == \
        pdf_path(built_sample, "es", "walking").read_bytes()


def test_broken_locale_is_skipped_and_others_build(sample: Project) -> None:
    result = build(sample, workers=1, progress=lambda line: None)
    assert not result.ok
    assert result.skipped_locales == ["de"]
    assert {(o.locale, o.handout_id) for o in result.outputs} == {("en", "walking"), ("es", "walking")}
    assert not pdf_path(sample, "de", "walking").exists()
    assert any(str(p).startswith("locales/de/LC_MESSAGES/handouts.po:20: untranslated") for p in result.problems)


# What a bilingual reviewer writes back from the sample's Spanish safety-critical lines (the review
# verifies each against the English: placeholders such as "(back-translated)" are refused).
HONEST_BACK_TRANSLATIONS = {
    "Call {emergency_number} right away if you have trouble breathing.":
        "Call {emergency_number} immediately if you have difficulty breathing.",
    "For other questions, call {clinic_phone}.": "For any other questions, phone {clinic_phone}.",
    "Questions? Call %(phone)s.": "Questions? Phone %(phone)s.",
    "In an emergency, call %(number)s.": "In an emergency, phone %(number)s.",
    "Two boxes. For an emergency, call %(emergency)s. For the surgeon's office, call %(office)s. "
    "The lists below say which signs go with each number.":
        "Two boxes. In an emergency, call %(emergency)s. For the surgeon's practice, call %(office)s. "
        "The lists below say which signs go with each number.",
    "Emergency": "Emergency",
    "Call %(number)s": "Call %(number)s",
    "Surgeon's office": "The surgeon's practice",
}


def test_draft_notice_until_review_and_again_after_a_change(sample: Project) -> None:
    notice = "Traducción preliminar"
    quiet = dict(locales=("es",), workers=1, progress=lambda line: None)
    build(sample, **quiet)
    assert notice in pdf_text(pdf_path(sample, "es", "walking"))

    # The review, and the back-translations of the safety-critical entries the content marks now
    # (the sample's old POT had lost their marks: checked against it, they needed none).
    catalog = load_catalog(sample, "es")
    rows = [SheetRow(0, m.context, str(m.id), str(m.string), HONEST_BACK_TRANSLATIONS[str(m.id)])
            for m in open_safety_entries(sample, "es", catalog)]
    assert len(rows) == len(HONEST_BACK_TRANSLATIONS)
    record_review(sample, "es", catalog, "Ana Ruiz, CMI", approver(sample, "ana"), back_translations=rows)
    build(sample, **quiet)
    assert notice not in pdf_text(pdf_path(sample, "es", "walking"))

    po = sample.po_path("es")
    po.write_text(po.read_text().replace("Levántese despacio.", "Levántese con cuidado."))
    build(sample, **quiet)
    assert notice in pdf_text(pdf_path(sample, "es", "walking"))


def test_second_build_renders_nothing(sample: Project) -> None:
    quiet = dict(locales=("en", "es"), workers=1, progress=lambda line: None)
    first = build(sample, **quiet)
    assert len(first.outputs) == 6  # 2 locales x (standard + large print + web edition)
    again = build(sample, **quiet)
    assert again.outputs == [] and len(again.unchanged) == 6


def test_changing_one_msgstr_renders_only_that_locale(sample: Project) -> None:
    quiet = dict(workers=1, progress=lambda line: None)
    build(sample, locales=("en", "es"), **quiet)
    po = sample.po_path("es")
    po.write_text(po.read_text().replace("Levántese despacio.", "Levántese con calma."))
    result = build(sample, locales=("en", "es"), **quiet)
    assert {(o.locale, o.edition) for o in result.outputs} == {("es", "standard"), ("es", "large"), ("es", "web")}


def test_deleted_pdf_is_rebuilt(sample: Project) -> None:
    quiet = dict(locales=("es",), workers=1, progress=lambda line: None)
    build(sample, **quiet)
    pdf_path(sample, "es", "walking").unlink()
    assert [o.edition for o in build(sample, **quiet).outputs] == ["standard"]


def test_large_print_edition_has_18pt_body(built_sample: Project) -> None:
    from handoutkit.outputs.build import html_path

    large = html_path(built_sample, "es", "walking", "large").read_text("utf-8")
    assert '<html lang="es" dir="ltr" class="large">' in large
    assert "html.large { font-size: 18pt;" in (Path(__file__).parent.parent / "templates" / "print.css").read_text()
    assert pdf_path(built_sample, "es", "walking", "large").exists()


@pytest.mark.slow
def test_copyfit_tightens_spacing_before_overflowing(sample: Project) -> None:
    from handoutkit.content.handouts import load_content
    from handoutkit.outputs.build import html_path
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import PdfWriter, make_renderer
    from handoutkit.translation.catalogs import load_translations
    from handoutkit.translation.extract import extract
    from handoutkit.translation.fontplan import load_font_plan

    clinic = sample.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text() + "lint:\n  page_budget: 1\n")
    source = sample.handouts_dir / "walking.yaml"
    original = source.read_text()
    activate_fontconfig(sample, load_font_plan(sample))
    writer = PdfWriter(sample)

    def pages(paragraphs: int) -> tuple[int, int]:
        """(normal, tight) page counts of the sample lengthened by some paragraphs."""
        extra = "".join(f"      - paragraph: Walking helps you heal, part {i}.\n" for i in range(paragraphs))
        source.write_text(original.replace("      - bullets:\n", extra + "      - bullets:\n", 1))
        handout = load_content(sample.handouts_dir, sample.root).get("walking")
        renderer = make_renderer(sample, "en", load_translations(sample, "en"), ("Noto Sans",), False)
        return writer.pdf(renderer.html(handout))[1], writer.pdf(renderer.html(handout, tight=True))[1]

    # Find a length where the normal layout needs 2 pages but the tight one fits on 1.
    count = next(n for n in range(4, 40) if pages(n) == (2, 1))
    pages(count)
    extract(sample)
    result = build(sample, locales=("en",), editions=("standard",), workers=1, progress=lambda line: None)
    assert result.ok, result.problems
    assert result.outputs[0].pages == 1
    assert 'class="tight"' in html_path(sample, "en", "walking").read_text("utf-8")

    pages(count + 15)  # far too long even when tight: the overflow is reported
    extract(sample)
    result = build(sample, locales=("en",), editions=("standard",), workers=1, progress=lambda line: None)
    assert any("walking in en is 2 pages; the budget is 1" in p.message for p in result.problems)
