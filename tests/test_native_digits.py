"""Native digits where a clinic opts in (`native_digits:` in clinic.yaml): numbers, dates and page numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.outputs.build import build, html_path, pdf_path
from handoutkit.translation.locales import (
    counter_style,
    native_digits,
    with_native_digits,
)

from .conftest import copy_repo

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"


def test_locale_facts() -> None:
    assert native_digits("fa") == PERSIAN and counter_style("fa") == "persian"
    assert counter_style("ne") == "devanagari" and counter_style("es") == ""
    assert with_native_digits("(555) 010-0142", PERSIAN) == "(۵۵۵) ۰۱۰-۰۱۴۲"


@pytest.mark.slow  # renders PDFs
def test_an_opted_in_locale_prints_its_own_digits_and_others_do_not(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nnative_digits: [fa]\n", "utf-8")
    project = Project(project.root)
    result = build(project, locales=("fa", "ar"), handout_ids=("warning-signs",), editions=("standard",),
                   workers=1, progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    html = html_path(project, "fa", "warning-signs").read_text("utf-8")
    body = re.sub(r"<[^>]+>|&#?\w+;", " ", html.split("<body", 1)[1])
    assert "۹۱۱" in body and not re.search(r"[0-9]", body), "every number in the Persian text in Persian digits"
    assert "counter(page, persian)" in html
    fa = subprocess.run(["pdftotext", str(pdf_path(project, "fa", "warning-signs")), "-"], capture_output=True,
                        text=True, check=True).stdout
    assert "۹۱۱" in fa and "۵۵۵" in fa
    ar = subprocess.run(["pdftotext", str(pdf_path(project, "ar", "warning-signs")), "-"], capture_output=True,
                        text=True, check=True).stdout
    assert "911" in ar and "٩١١" not in ar, "ar did not opt in: it keeps 0-9"


@pytest.mark.slow  # renders a PDF
def test_ordered_list_numbers_in_native_digits(tmp_path: Path) -> None:
    """The steps of a procedure (an <ol>) were numbered 1, 2, 3 in a Persian handout whose every
    other number printed in Persian digits."""
    project = copy_repo(tmp_path)
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nnative_digits: [fa]\n", "utf-8")
    project = Project(project.root)
    result = build(project, locales=("fa",), handout_ids=("miss-overview",), editions=("standard",),
                   workers=1, progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    from handoutkit.render.pdftags import _descendants
    from handoutkit.render.renderer import PdfWriter

    html = html_path(project, "fa", "miss-overview").read_text("utf-8")
    assert "<ol>" in html
    # The list numbers as laid out (poppler leaves right-to-left list markers out of its text).
    document = PdfWriter(project).layout(html)
    markers = [box.text.strip() for page in document.pages for marker in _descendants(page._page_box)
               if marker.element_tag == "li::marker" for box in _descendants(marker) if getattr(box, "text", "")]
    numbers = [m for m in markers if m != "•"]
    assert {"۱.", "۲.", "۳."} <= set(numbers) and not any(re.search(r"[0-9]", m) for m in numbers), numbers
