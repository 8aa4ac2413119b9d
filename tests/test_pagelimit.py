"""A first layout stopped past its page budget (render/pagelimit.py): only when it certainly overflows.

The whole-library test that every copyfitting decision and PDF stays the same is
tests/test_stylesheets.py (its reference writer lays every first layout out whole).
"""

from __future__ import annotations

import pytest

from handoutkit.content.settings import Project
from handoutkit.render.fonts import activate_fontconfig
from handoutkit.render.renderer import PdfWriter
from handoutkit.translation.fontplan import load_font_plan


def pages_of(paragraphs: int) -> str:
    """A small-page document; each paragraph is one line, `PER_PAGE` of them fill a page."""
    body = "".join(f"<p>Line {n}</p>" for n in range(paragraphs))
    return ("<!DOCTYPE html><html lang='en'><head><style>@page { size: 100pt 100pt; margin: 10pt }"
            " @page { @bottom-center { content: 'footer' } }"
            " html { font: 10pt/20pt 'Noto Sans' } body, p { margin: 0 }</style></head>"
            f"<body>{body}</body></html>")


PER_PAGE = 4  # 80 pt of content area, lines of 20 pt


@pytest.fixture
def writer(sample: Project) -> PdfWriter:
    activate_fontconfig(sample, load_font_plan(sample))
    return PdfWriter(sample)


@pytest.mark.parametrize("paragraphs, budget, pages", [
    (PER_PAGE * 2, 2, 2),       # exactly fills the budget: laid out whole
    (PER_PAGE * 2 - 1, 2, 2),
    (PER_PAGE, 2, 1),
    (PER_PAGE * 2 + 1, 3, 3),   # over 2 pages, within 3
])
def test_a_document_within_its_budget_is_laid_out_whole(writer: PdfWriter, paragraphs: int, budget: int,
                                                         pages: int) -> None:
    document = writer.layout(pages_of(paragraphs), stop_past=budget)
    assert document is not None and len(document.pages) == pages
    assert writer.write(document) == writer.write(writer.layout(pages_of(paragraphs)))


@pytest.mark.parametrize("paragraphs", [PER_PAGE * 2 + 1, PER_PAGE * 5])
def test_a_document_over_its_budget_stops(writer: PdfWriter, paragraphs: int) -> None:
    assert len(writer.layout(pages_of(paragraphs)).pages) > 2
    assert writer.layout(pages_of(paragraphs), stop_past=2) is None


def test_a_writer_told_not_to_stop_lays_out_whole(sample: Project) -> None:
    activate_fontconfig(sample, load_font_plan(sample))
    document = PdfWriter(sample, stop_early=False).layout(pages_of(PER_PAGE * 3), stop_past=2)
    assert document is not None and len(document.pages) == 3


def test_a_stopped_layout_leaves_the_next_one_as_it_was(writer: PdfWriter, sample: Project) -> None:
    assert writer.layout(pages_of(PER_PAGE * 3), stop_past=1) is None
    after = writer.write(writer.layout(pages_of(PER_PAGE * 3)))
    fresh = PdfWriter(sample)
    assert after == fresh.write(fresh.layout(pages_of(PER_PAGE * 3)))
