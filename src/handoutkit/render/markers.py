"""Stage 5, render: right-to-left list bullets moved beside their item's first line.

WeasyPrint 70 puts an outside `::marker` at its list item's start edge (layout/block.py: the
item's padding edge, on the right in a right-to-left item), wherever that item's first line
begins. Beside the right float of a where-drawing (templates/print.css `.picture-where`: on the
right in every direction, so the start side in Arabic and Persian) a line begins at the float's
left edge, and the bullet was drawn under the drawing, a drawing's width away from its text.

Here, after layout, each right-to-left outside marker is moved to the start (right) edge of its
item's first line, where a reader looks for it. An outside marker is out of the flow: moving it
changes no line, no page and no text, only where the bullet is drawn. Left-to-right items are
left alone (their floats are on the end side, so their lines begin at the item's edge).
"""

from __future__ import annotations

from typing import Any, Iterator


def _boxes(box: Any, skip: Any = None) -> Iterator[Any]:
    """`box` and every box under it, but not `skip` or the boxes under it."""
    yield box
    for child in getattr(box, "children", None) or ():
        if child is not skip:
            yield from _boxes(child, skip)


def _first_line(item: Any, marker: Any) -> Any | None:
    """The item's first line box of its own text (not the marker's)."""
    return next((box for box in _boxes(item, marker) if type(box).__name__ == "LineBox"), None)


def place_rtl_markers(document: Any) -> int:
    """Move every right-to-left outside marker beside its item's first line; how many moved.
    Once per document: a document already placed is left as it is (the move is relative)."""
    if getattr(document, "_rtl_markers_placed", False):
        return 0
    document._rtl_markers_placed = True
    moved = 0
    for page in document.pages:
        for box in _boxes(page._page_box):
            for child in getattr(box, "children", None) or ():
                if not getattr(child, "is_outside_marker", False) or child.style["direction"] != "rtl":
                    continue
                line = _first_line(box, child)
                if line is None:
                    continue
                # The marker's left edge at the line's right edge (its start), as WeasyPrint puts
                # it at the item's edge when nothing narrows the line; its top at the line's top.
                dx = line.position_x + line.width - child.position_x
                dy = line.position_y - box.content_box_y()
                if abs(dx) > 0.01 or abs(dy) > 0.01:
                    child.translate(dx, dy)
                    moved += 1
    return moved
