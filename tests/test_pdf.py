"""PDF output: text, fonts, metadata, reproducibility, the draft notice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from handoutkit.build import build, pdf_path
from handoutkit.catalogs import load_catalog
from handoutkit.review import record_review
from handoutkit.settings import Project


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
    assert "20 de noviembre de 2026" in spanish  # the date, formatted by Babel for es


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


def test_draft_notice_until_review_and_again_after_a_change(sample: Project) -> None:
    notice = "Traducción preliminar"
    quiet = dict(locales=("es",), workers=1, progress=lambda line: None)
    build(sample, **quiet)
    assert notice in pdf_text(pdf_path(sample, "es", "walking"))

    record_review(sample, "es", load_catalog(sample, "es"), "Ana Ruiz, CMI")
    build(sample, **quiet)
    assert notice not in pdf_text(pdf_path(sample, "es", "walking"))

    po = sample.po_path("es")
    po.write_text(po.read_text().replace("Levántese despacio.", "Levántese con cuidado."))
    build(sample, **quiet)
    assert notice in pdf_text(pdf_path(sample, "es", "walking"))
