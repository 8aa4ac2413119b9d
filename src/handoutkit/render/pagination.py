"""Copyfitting's first layouts: paginated before they are finished, or stopped once they overflow.

Copyfitting lays a handout out, looks at its page count and how full its last page
is, and may lay it out again with tighter spacing, keeping the tight layout when it
has fewer pages; the first layout is then thrown away. The decision needs only the
pages' flow, not the rest of a layout, so `paginate` stops WeasyPrint 70's
`Document._render` (the same steps, in the same order) where it can:

- once every page is paginated, after the first page is finished: WeasyPrint lays
  out every page's running headers and footers (margin boxes) and backgrounds only
  after the last page (`layout_document`), one page at a time as the document's
  pages are taken. `Paginated.finish()` takes the rest and returns the Document a
  whole `HTML.render` returns; a layout thrown away never pays for the rest.
- with `stop_past=N`, as soon as page N is laid out and content is left for another
  page (`PastBudget`; `paginate` returns None): the pages after N are not laid out
  either. Certain, not a prediction: WeasyPrint lays pages out in order, a page that
  leaves content over is followed by another, and the later passes it makes only for
  page-based counters and changed running content (the handouts have neither in
  their flow) re-make a page from the same place.

The whole-library decisions test (tests/test_stylesheets.py) checks that every
copyfitting decision and every PDF byte is the same as with every layout done
whole. Only WeasyPrint 70.x is patched (`install`); with any other version
`paginate` renders the document whole and never stops early.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator


class PastBudget(Exception):
    """The document being laid out has more pages than the budget given to `paginate`."""


_budget: ContextVar[int | None] = ContextVar("page_budget", default=None)


@contextmanager
def _stopping_past(budget: int | None) -> Iterator[None]:
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)


class Paginated:
    """A document whose pages are laid out, all but the first not finished (no margin boxes yet).

    `pages` are the page boxes as pagination left them: each holds the flow of its page
    (its `html` root box), which is all copyfitting reads. `finish()` is the Document.
    """

    def __init__(self, pages: list, finish: Any):
        self.pages = pages
        self._finish = finish
        self._document: Any = None

    def finish(self) -> Any:
        if self._document is None:
            self._document = self._finish()
        return self._document


def paginate(html: Any, font_config: Any, stop_past: int | None = None, **options: Any) -> Paginated | None:
    """`html.render(font_config=font_config, **options)` paginated, not finished; None past `stop_past` pages.

    Without the patch (another WeasyPrint) the document is rendered whole and never stopped.
    """
    if not install():
        document = html.render(font_config=font_config, **options)
        return Paginated([page._page_box for page in document.pages], lambda: document)
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.document import (Document, DocumentMetadata, Page, build_formatting_structure,
                                     get_html_metadata, layout_document)
    from weasyprint.logger import LOGGER
    from weasyprint.pdf import VARIANTS

    # weasyprint.HTML.render and Document._render (WeasyPrint 70), step by step.
    for unknown in sorted(set(options) - set(DEFAULT_OPTIONS)):
        LOGGER.error('Unknown rendering option: %s.', unknown)
    new_options = DEFAULT_OPTIONS.copy()
    new_options.update(options)
    options = new_options
    counter_style, color_profiles = CounterStyle(), {}
    if variant := options['pdf_variant']:
        _, properties = VARIANTS[variant]
        for key, value in tuple(options.items()):
            if value is None and key in properties:
                options[key] = properties[key]
    context = Document._build_layout_context(html, font_config, counter_style, color_profiles, options)
    root_box = build_formatting_structure(
        html.etree_element, context.style_for, context.get_image_from_uri, html.base_url,
        context.target_collector, counter_style, context.footnotes)
    page_boxes = layout_document(html, root_box, context)
    with _stopping_past(stop_past):
        try:
            first = [Page(next(page_boxes))]  # every page paginated; the first one finished
        except PastBudget:
            return None

    def finish() -> Any:
        rendering = Document(first + [Page(page_box) for page_box in page_boxes],
                             DocumentMetadata(**get_html_metadata(html)), html.url_fetcher, font_config,
                             color_profiles, options['output_intent'])
        rendering._html = html
        return rendering

    return Paginated(list(context.paginated), finish)


def _make_all_pages(original: Any) -> Any:
    def make_all_pages(context: Any, root_box: Any, html: Any, pages: list) -> Iterator[Any]:
        budget = _budget.get()
        context.paginated = made = []  # the last pass's pages are the document's
        for index, page in enumerate(original(context, root_box, html, pages)):
            # page_maker[i + 1][0] is where page i left off: None when it holds the rest.
            if budget is not None and index + 1 == budget and context.page_maker[index + 1][0] is not None:
                raise PastBudget(budget)
            made.append(page)
            yield page
    return make_all_pages


def install() -> bool:
    """Patch WeasyPrint 70's page maker as layout_document calls it (idempotent). False: another version."""
    import weasyprint
    import weasyprint.layout as layout

    if getattr(layout.make_all_pages, "_records", False):
        return True
    if not weasyprint.__version__.startswith("70."):
        return False
    patched = _make_all_pages(layout.make_all_pages)
    patched._records = True  # type: ignore[attr-defined]
    layout.make_all_pages = patched
    return True
