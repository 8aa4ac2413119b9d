"""A first layout stopped once it certainly has more pages than its budget (copyfitting's first layout).

Copyfitting lays a standard-edition handout out, and when it has more pages than
its budget lays it out again with tighter spacing; the first layout is then
thrown away whenever the tight one is shorter. All the decision needs from the
first layout is that it overflows, so `stopping_past(budget)` lets WeasyPrint lay
the pages out one by one, as it does, and stops it (raising `PastBudget`) as soon
as page `budget` is laid out and content is left for another page. What is not
done then: the pages after the budget, the running headers and footers of every
page (WeasyPrint lays those out after the last page), backgrounds, bookmarks.

This is certain, not a prediction: WeasyPrint 70 lays pages out in order, and a
page whose layout leaves content over (its `resume_at`) is followed by another;
the later passes WeasyPrint makes only for page-based counters and changed
running content (the handouts have neither in their flow) re-make a page from
the same place, so they do not take a page away. The whole-library decisions
test (tests/test_stylesheets.py) checks that every copyfitting decision and every
PDF byte is the same as with every first layout done whole.

Outside `stopping_past` WeasyPrint runs unchanged. Only WeasyPrint 70.x is
patched; any other version runs unchanged (`install` returns False and the first
layout is laid out whole).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator


class PastBudget(Exception):
    """The document being laid out has more pages than the budget given to `stopping_past`."""


_budget: ContextVar[int | None] = ContextVar("page_budget", default=None)


@contextmanager
def stopping_past(budget: int | None) -> Iterator[None]:
    """Within the block, a layout in this thread raises PastBudget once it certainly has more than `budget` pages."""
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)


def _make_all_pages(original: Any) -> Any:
    def make_all_pages(context: Any, root_box: Any, html: Any, pages: list) -> Iterator[Any]:
        budget = _budget.get()
        for index, page in enumerate(original(context, root_box, html, pages)):
            # page_maker[i + 1][0] is where page i left off: None when it holds the rest.
            if budget is not None and index + 1 == budget and context.page_maker[index + 1][0] is not None:
                raise PastBudget(budget)
            yield page
    return make_all_pages


def install() -> bool:
    """Patch WeasyPrint 70's page maker as layout_document calls it (idempotent). False: another version."""
    import weasyprint
    import weasyprint.layout as layout

    if getattr(layout.make_all_pages, "_stops", False):
        return True
    if not weasyprint.__version__.startswith("70."):
        return False
    patched = _make_all_pages(layout.make_all_pages)
    patched._stops = True  # type: ignore[attr-defined]
    layout.make_all_pages = patched
    return True
