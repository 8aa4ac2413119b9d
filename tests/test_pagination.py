"""Copyfitting's first layouts (render/pagination.py): paginated before they are finished, and stopped
past the page budget only when they certainly overflow.

The whole-library test that every copyfitting decision and PDF stays the same is
tests/test_stylesheets.py (its reference writer lays every first layout out whole).
"""

from __future__ import annotations

import pytest

from handoutkit.content.settings import Project
from handoutkit.render.fonts import activate_fontconfig
from handoutkit.render.renderer import PdfWriter
from handoutkit.translation.fontplan import load_font_plan

PER_PAGE = 4  # lines of 20 pt in a content area of 80 pt


def pages_of(lines: int) -> str:
    """A small-page document with a footer on every page; `PER_PAGE` one-line paragraphs fill a page."""
    body = "".join(f"<p>Line {n}</p>" for n in range(lines))
    return ("<!DOCTYPE html><html lang='en'><head><style>@page { size: 100pt 100pt; margin: 10pt;"
            " @bottom-center { content: 'Page ' counter(page) } }"
            " html { font: 10pt/20pt 'Noto Sans' } body, p { margin: 0 }</style></head>"
            f"<body>{body}</body></html>")


@pytest.fixture
def writer(sample: Project) -> PdfWriter:
    activate_fontconfig(sample, load_font_plan(sample))
    return PdfWriter(sample)


@pytest.mark.parametrize("lines, budget, pages", [
    (PER_PAGE * 2, 2, 2),       # exactly fills the budget: not stopped
    (PER_PAGE * 2 - 1, 2, 2),
    (PER_PAGE, 2, 1),
    (PER_PAGE * 2 + 1, 3, 3),   # over 2 pages, within 3
    (PER_PAGE * 3 + 1, None, 4),
])
def test_a_paginated_document_finishes_as_the_whole_layout(writer: PdfWriter, lines: int, budget: int | None,
                                                           pages: int) -> None:
    paginated = writer.paginate(pages_of(lines), stop_past=budget)
    assert paginated is not None and len(paginated.pages) == pages
    fill = writer.page_fill(paginated.pages[-1])
    whole = writer.layout(pages_of(lines))
    document = writer.finish(paginated)
    assert len(document.pages) == pages and writer.last_page_fill(document) == fill == writer.last_page_fill(whole)
    assert writer.write(document) == writer.write(whole)


@pytest.mark.parametrize("lines", [PER_PAGE * 2 + 1, PER_PAGE * 5])
def test_a_document_over_its_budget_stops(writer: PdfWriter, lines: int) -> None:
    assert len(writer.layout(pages_of(lines)).pages) > 2
    assert writer.paginate(pages_of(lines), stop_past=2) is None


def test_a_writer_told_not_to_stop_lays_out_whole(sample: Project) -> None:
    activate_fontconfig(sample, load_font_plan(sample))
    paginated = PdfWriter(sample, stop_early=False).paginate(pages_of(PER_PAGE * 3), stop_past=2)
    assert paginated is not None and len(paginated.pages) == 3


def test_layouts_between_pagination_and_finishing_change_nothing(writer: PdfWriter, sample: Project) -> None:
    paginated = writer.paginate(pages_of(PER_PAGE * 3))
    assert writer.paginate(pages_of(PER_PAGE * 4), stop_past=1) is None
    writer.layout(pages_of(PER_PAGE * 2))
    fresh = PdfWriter(sample)
    assert writer.write(writer.finish(paginated)) == fresh.write(fresh.layout(pages_of(PER_PAGE * 3)))
