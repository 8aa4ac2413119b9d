"""Parsed stylesheets, reused: a render worker parses templates/print.css once, not once per layout.

WeasyPrint 70 parses every `<link rel="stylesheet">` and `<style>` of every
document it lays out (`weasyprint.css.find_stylesheets`); for a handout that
is about a fifth of the layout, and copyfitting lays some documents out twice.
A `StylesheetCache` (one per PdfWriter, so per FontConfiguration) keeps each
parsed stylesheet by its text and address, and hands later documents a copy
wired to their own page rules, exactly as a fresh parse would have left them:

- what parsing a sheet adds to the document (its @page rules, counter styles,
  colour profiles) is recorded on the first parse and added again on each reuse;
- a sheet is never reused when reusing it could differ from parsing it again:
  it uses @import, @font-face or @layer (their effects reach beyond the sheet),
  or its first parse logged a warning (the build fails on WeasyPrint warnings,
  and a reused sheet would not warn again).

With no cache active (`reusing` not entered) WeasyPrint runs unchanged. Only
WeasyPrint 70.x is patched; any other version runs unchanged too. The test
that every PDF of the library is the same with and without it is
tests/test_stylesheets.py.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

# Sheets with these are parsed every time: their effects reach beyond the sheet's own rules.
NEVER_REUSED = ("@import", "@font-face", "@layer")


@dataclass
class _Parsed:
    css: Any  # weasyprint.CSS, its page_rules and layers to be rewired per document
    page_rules: list
    counter_style: dict
    color_profiles: dict


@dataclass
class StylesheetCache:
    """Parsed stylesheets by (address or text); counts how often one was reused (for the tests)."""

    sheets: dict[tuple, _Parsed] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


_active: ContextVar[StylesheetCache | None] = ContextVar("stylesheet_cache", default=None)


@contextmanager
def reusing(cache: StylesheetCache | None) -> Iterator[None]:
    """Within the block, documents laid out in this thread reuse the sheets `cache` holds."""
    token = _active.set(cache)
    try:
        yield
    finally:
        _active.reset(token)


class _Warned(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.warned = False

    def emit(self, record: logging.LogRecord) -> None:
        self.warned = True


def _parse(cache: StylesheetCache, key: tuple | None, make: Any, page_rules: list, counter_style: dict,
           color_profiles: dict, layers: list) -> Any:
    """A sheet for this document: reused from `cache`, or parsed (and kept when it may be reused)."""
    if key is None:  # never reused: parsed into the document's own lists, as WeasyPrint does
        cache.misses += 1
        return make(counter_style, color_profiles, page_rules, layers)
    parsed = cache.sheets.get(key)
    if parsed is None:
        cache.misses += 1
        own_rules: list = []
        own_counters: dict = {}
        own_profiles: dict = {}
        own_layers: list = []
        watcher = _Warned()
        logger = logging.getLogger("weasyprint")
        logger.addHandler(watcher)
        try:
            css = make(own_counters, own_profiles, own_rules, own_layers)
        finally:
            logger.removeHandler(watcher)
        if own_layers:  # not reached (NEVER_REUSED keeps @layer out): parse it the document's way
            return make(counter_style, color_profiles, page_rules, layers)
        parsed = _Parsed(css, own_rules, own_counters, own_profiles)
        # A warning reached the document's own handlers too (the logger passes it on); such a
        # sheet is parsed again next time, so that it warns again.
        if not watcher.warned:
            cache.sheets[key] = parsed
    else:
        cache.hits += 1
    page_rules.extend(parsed.page_rules)
    counter_style.update(parsed.counter_style)
    color_profiles.update(parsed.color_profiles)
    css = copy.copy(parsed.css)
    css.page_rules, css.layers = page_rules, layers
    return css


def _find_stylesheets(original: Any) -> Any:
    """WeasyPrint 70's `find_stylesheets`, reusing parsed sheets while a cache is active."""

    def find_stylesheets(wrapper_element: Any, device_media_type: str, url_fetcher: Any, base_url: str,
                         font_config: Any, counter_style: dict, color_profiles: dict, page_rules: list,
                         layers: list) -> Iterator[Any]:
        cache = _active.get()
        if cache is None or page_rules is None or layers is None or color_profiles is None:
            yield from original(wrapper_element, device_media_type, url_fetcher, base_url, font_config,
                                counter_style, color_profiles, page_rules, layers)
            return
        from weasyprint import CSS
        from weasyprint.css import get_child_text, media_queries
        from weasyprint.html import element_has_link_type, parse_url
        from weasyprint.logger import LOGGER
        from weasyprint.urls import URLFetchingError

        # The same walk as WeasyPrint's own, element by element.
        for wrapper in wrapper_element.query_all("style", "link"):
            element = wrapper.etree_element
            mime_type = element.get("type", "text/css").split(";", 1)[0].strip()
            if mime_type != "text/css":
                continue
            media_attr = element.get("media", "").strip() or "all"
            media = [media_type.strip() for media_type in media_attr.split(",")]
            if not media_queries.evaluate_media_query(media, device_media_type):
                continue
            if element.tag == "style":
                content = get_child_text(element)
                key = None if any(word in content for word in NEVER_REUSED) else \
                    ("style", base_url, device_media_type, content)

                def make(counters: dict, profiles: dict, rules: list, own_layers: list, content: str = content) -> Any:
                    return CSS(string=content, base_url=base_url, url_fetcher=url_fetcher,
                               media_type=device_media_type, font_config=font_config, counter_style=counters,
                               page_rules=rules, color_profiles=profiles, layers=own_layers)

                yield _parse(cache, key, make, page_rules, counter_style, color_profiles, layers)
            elif element.tag == "link" and element.get("href"):
                if not element_has_link_type(element, "stylesheet") or \
                        element_has_link_type(element, "alternate"):
                    continue
                href = parse_url(element.get("href"), base_url)
                if href is None:
                    continue
                key = _link_key(url_fetcher, href, device_media_type)

                def make(counters: dict, profiles: dict, rules: list, own_layers: list, href: str = href) -> Any:
                    return CSS(url=href, url_fetcher=url_fetcher, media_type=device_media_type,
                               font_config=font_config, counter_style=counters, color_profiles=profiles,
                               page_rules=rules, layers=own_layers, _check_mime_type=True)

                try:
                    yield _parse(cache, key, make, page_rules, counter_style, color_profiles, layers)
                except URLFetchingError as exception:
                    LOGGER.error("Failed to load stylesheet at %s: %s", href, exception)

    return find_stylesheets


def _link_key(url_fetcher: Any, href: str, media_type: str) -> tuple | None:
    """A linked sheet's key: its address and the hash of what it holds now (None: parse it every time)."""
    try:
        response = url_fetcher(href)
        try:
            data = response.read()
        finally:
            response.close()
    except Exception:  # not reused: WeasyPrint's own parse reports the failure
        return None
    if not isinstance(data, bytes):
        return None
    if any(word.encode() in data for word in NEVER_REUSED):
        return None
    return ("link", href, media_type, hashlib.sha256(data).hexdigest())


def install() -> bool:
    """Patch WeasyPrint 70's stylesheet finder (idempotent). False: another version, left unchanged."""
    import weasyprint
    import weasyprint.css as css

    if not weasyprint.__version__.startswith("70.") or getattr(css.find_stylesheets, "_reuses", False):
        return getattr(css.find_stylesheets, "_reuses", False)
    patched = _find_stylesheets(css.find_stylesheets)
    patched._reuses = True  # type: ignore[attr-defined]
    css.find_stylesheets = patched
    return True
