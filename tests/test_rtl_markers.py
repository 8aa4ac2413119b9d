"""List bullets beside their item's text (issue 24): in Arabic and Persian the where-drawing floats
on the right, the start side, and WeasyPrint 70 drew the bullets of the items beside it at the list's
right edge, under the drawing (render/markers.py moves them after layout)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .layout import lay_out_repository_handout, repository_handout


def boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from boxes(child)


def items(document: Any) -> Iterator[tuple[Any, Any, Any, list[Any]]]:
    """Each list item with an outside marker: the item, its marker, its first line of text and the
    floats on its page."""
    for page in document.pages:
        floats = [box for box in boxes(page._page_box) if box.is_floated()]
        for box in boxes(page._page_box):
            markers = [child for child in getattr(box, "children", None) or ()
                       if getattr(child, "is_outside_marker", False)]
            if markers:
                inside = {id(b) for b in boxes(markers[0])}
                line = next(b for b in boxes(box) if type(b).__name__ == "LineBox" and id(b) not in inside)
                yield box, markers[0], line, floats


@pytest.mark.slow  # lays out a handout
@pytest.mark.parametrize("locale, handout_id, large", [
    ("ar", "acdf", False),  # the "who it may help" list beside the drawing's foot
    ("fa", "lumbar-discectomy", False),  # two items beside the drawing
    ("ar", "lumbar-discectomy", True),  # large print: the bullet takes most of the gap beside the drawing
])
def test_right_to_left_bullets_sit_beside_their_text(tmp_path: Path, locale: str, handout_id: str,
                                                     large: bool) -> None:
    document = lay_out_repository_handout(tmp_path, locale, handout_id, large)
    found = list(items(document))
    assert found
    beside_drawing = 0
    for item, marker, line, floats in found:
        start = line.position_x + line.width  # the line's right edge: where a right-to-left line starts
        text = "".join(getattr(b, "text", "") for b in boxes(line))[:40]
        assert abs(marker.position_x - start) < 0.5, (text, marker.position_x, start)
        assert abs(marker.position_y - line.position_y) < 0.5, (text, marker.position_y, line.position_y)
        if start < item.position_x + item.width - 50:
            beside_drawing += 1
        for drawing in floats:  # the bullet clear of the drawing, 2pt at least
            if drawing.position_y < marker.position_y < drawing.position_y + drawing.margin_height():
                assert marker.position_x + marker.margin_width() <= drawing.border_box_x() - 2 / 0.75, text
    assert beside_drawing, "no list item beside the drawing: the test no longer covers the case"


@pytest.mark.slow  # lays out a handout
def test_left_to_right_bullets_stay_where_weasyprint_puts_them(tmp_path: Path) -> None:
    document = lay_out_repository_handout(tmp_path, "en", "acdf", False)
    found = list(items(document))
    assert found
    for item, marker, _line, _floats in found:
        assert abs(marker.position_x + marker.margin_width() - item.content_box_x()) < 0.5
        assert abs(marker.position_y - item.content_box_y()) < 0.5


@pytest.mark.slow  # copyfits a handout as the build does
def test_the_build_places_the_bullets_of_a_first_layout_it_keeps(tmp_path: Path) -> None:
    """Copyfitting paginates a first layout and finishes it only when it keeps it
    (render/pagination.py): the bullets of that finished document are moved too, once."""
    from handoutkit.outputs.editions import copyfit
    from handoutkit.render.markers import place_rtl_markers
    from handoutkit.render.renderer import PdfWriter

    project, renderer, handout = repository_handout(tmp_path, "ar", "acdf")
    html, document = copyfit(renderer, PdfWriter(project), handout, False, project.settings.limits.page_budget)
    assert 'class="tight' not in html[:2000], "ar/acdf now needs the tight layout: pick a first layout kept"
    for item, marker, line, _floats in items(document):
        assert abs(marker.position_x - (line.position_x + line.width)) < 0.5
        assert abs(marker.position_y - line.position_y) < 0.5
    assert place_rtl_markers(document) == 0  # once per document
