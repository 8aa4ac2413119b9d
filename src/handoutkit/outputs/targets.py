"""Declared outputs: every file the build makes is a target with a path, its inputs and a writer.

Two kinds:

- an **edition** is made for each handout in each locale (the standard PDF,
  large print, the web edition). It names its folders and how a handout becomes
  its files (an HTML-only edition has no PDF folder and makes no PDF);
  the inputs are the handout's (manifest.handout_inputs) plus its own name.
- a **library target** is made once from everything that is ready (the
  language-assistance sheet, the front-desk catalog page, the web edition's
  index). It names its
  manifest key, its path, the hash of its inputs and its writer.

`build` loops over these lists. A new output (packets, say) is one
new entry here and its template; nothing else in the build changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from handoutkit.content.handouts import Handout
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write
from handoutkit.outputs.catalog_page import write_catalog
from handoutkit.outputs.library import Library, Made
from handoutkit.outputs.web import (
    WEB_FOLDER,
    index_path,
    web_index_inputs,
    write_web_index,
)
from handoutkit.render.renderer import (
    NOTICE_TEMPLATE,
    PdfWriter,
    Renderer,
    language_assistance_html,
    notice_line,
)
from handoutkit.translation.prepared import PreparedLocale

# A large-print last page filled less than this is laid out again with tighter spacing.
LARGE_COPYFIT_FILL = 0.35
# A standard last page filled less than this (the contact box alone) is too.
STANDARD_COPYFIT_FILL = 0.15


def copyfit(renderer: Renderer, writer: PdfWriter, handout: Handout, large: bool, page_budget: int,
            extra: dict | None = None, start_tight: bool = False) -> tuple[str, object]:
    """The handout's HTML and laid-out document, copyfitted; shared by the build and the front desk.

    Tighter spacing, same type size, before calling it an overflow; in large print,
    before printing a last page that holds little more than the closing box.
    `start_tight` skips the first layout when it is known to overflow (the front desk
    knows once the same handout without the patient's details needed the tight one).
    """
    if start_tight and not large:
        html = renderer.html(handout, extra=extra, tight=True)
        return html, writer.layout(html)
    html = renderer.html(handout, extra=extra, large=large)
    document = writer.layout(html)
    over_budget = not large and len(document.pages) > page_budget
    fill = LARGE_COPYFIT_FILL if large else STANDARD_COPYFIT_FILL
    short_last_page = len(document.pages) > 1 and writer.last_page_fill(document) < fill
    if over_budget or short_last_page:
        tight_html = renderer.html(handout, extra=extra, tight=True, large=large)
        tight = writer.layout(tight_html)
        if len(tight.pages) < len(document.pages):
            html, document = tight_html, tight
    return html, document


def make_standard(renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
    """The standard edition; copyfitted (tighter spacing, same type size) before it overflows its budget."""
    html, document = copyfit(renderer, writer, handout, False, project.settings.limits.page_budget)
    return Made(html, writer.write(document), len(document.pages))


def make_large(renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
    """Large print (18 pt); copyfitted before printing a last page that holds little more than the closing box."""
    html, document = copyfit(renderer, writer, handout, True, project.settings.limits.page_budget)
    return Made(html, writer.write(document), len(document.pages))


def make_web(renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
    """The web edition of one handout: HTML only, no PDF and no pages to count."""
    return Made(renderer.html(handout, web=True), None, 0)


@dataclass(frozen=True)
class Edition:
    name: str
    pdf_folder: str | None  # under build/; None: the edition writes HTML only (the web edition)
    html_folder: str
    make: Callable[[Renderer, PdfWriter, Handout, Project], Made]
    heavy: bool = False  # rendered first, so no core idles at the end of a build

    def pdf(self, project: Project, locale: str, handout_id: str) -> Path | None:
        if self.pdf_folder is None:
            return None
        return project.build_dir / self.pdf_folder / locale / f"{handout_id}.pdf"

    def product(self, project: Project, locale: str, handout_id: str) -> Path:
        """The file readers get, whose presence the manifest trusts: the PDF, or the page of an HTML-only edition."""
        return self.pdf(project, locale, handout_id) or self.html(project, locale, handout_id)

    def html(self, project: Project, locale: str, handout_id: str) -> Path:
        return project.build_dir / self.html_folder / locale / f"{handout_id}.html"

    def inputs(self, handout_inputs: str) -> str:
        return hashlib.sha256(f"{handout_inputs}\0{self.name}".encode()).hexdigest()


EDITIONS: dict[str, Edition] = {
    "standard": Edition("standard", "pdf", "html", make_standard),
    "large": Edition("large", "pdf-large", "html-large", make_large, heavy=True),
    "web": Edition("web", None, WEB_FOLDER, make_web),  # build/web/<locale>/<id>.html
}


# ---------------------------------------------------------------- library targets


@dataclass(frozen=True)
class LibraryTarget:
    key: str  # in the manifest
    path: Callable[[Project], Path]
    inputs: Callable[[Library], str]
    write: Callable[[Library], tuple[int, str]]  # -> (pages, a progress line)
    whole_library: bool = True  # only a build of every locale and handout writes it
    # A PDF target's HTML, made from the locales alone (never from `Library.pdfs`): the build
    # renders it in its pool beside the editions instead of after them, and `write` gets it
    # through `Library.pdf`.
    html: Callable[[Library], str] | None = None


def _hash(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()


def _notice_strings(prepared: PreparedLocale) -> list[str]:
    return [str(m.string) for m in prepared.catalog or ()
            if any(f == f"templates/{NOTICE_TEMPLATE}" for f, _ in m.locations)]


def language_assistance_inputs(lib: Library) -> str:
    """The translations of the strings the notice prints, and the fonts of each language."""
    return _hash(lib.common, *(f"{loc}:{_notice_strings(p)}:{lib.stacks[loc]}" for loc, p in lib.ready.items()))


def language_assistance_page(lib: Library) -> str:
    """The sheet's HTML: the notice in each ready language."""
    lines = [notice_line(lib.project, loc, p.translations, lib.stacks[loc]) for loc, p in lib.ready.items()]
    return language_assistance_html(lib.project, lines)


def write_language_assistance(lib: Library) -> tuple[int, str]:
    pdf, pages = lib.pdf(language_assistance_page(lib))
    path = LANGUAGE_ASSISTANCE.path(lib.project)
    atomic_write(path, pdf)
    return pages, f"{lib.project.rel(path)} ({len(lib.ready)} languages, {pages} page{'s' if pages != 1 else ''})"


def catalog_inputs(lib: Library) -> str:
    """Each ready locale's state, each handout's revision and approval, and which PDFs exist."""
    return _hash(lib.common, *(f"{loc}:{p.inputs}:{p.status}" for loc, p in lib.ready.items()),
                 *(f"{h.path}:{h.revision.number}" for h in lib.content.handouts), *lib.approvals, *lib.pdfs)


def write_catalog_page(lib: Library) -> tuple[int, str]:
    languages = {loc: (p.translations, p.status) for loc, p in lib.ready.items()}
    return 0, f"catalog: {write_catalog(lib.project, lib.content, languages)}"


LANGUAGE_ASSISTANCE = LibraryTarget("language-assistance", lambda p: p.build_dir / "pdf" / "language-assistance.pdf",
                                    language_assistance_inputs, write_language_assistance,
                                    html=language_assistance_page)
CATALOG_PAGE = LibraryTarget("catalog", lambda p: p.build_dir / "index.html", catalog_inputs, write_catalog_page,
                             whole_library=False)

# After a partial build too: it links only to the pages that exist.
WEB_INDEX = LibraryTarget("web-index", index_path, web_index_inputs, write_web_index, whole_library=False)

LIBRARY_TARGETS: tuple[LibraryTarget, ...] = (LANGUAGE_ASSISTANCE, CATALOG_PAGE, WEB_INDEX)


def stale(target: LibraryTarget, lib: Library, recorded: str | None) -> str | None:
    """The target's new input hash when it must be written again, else None."""
    inputs = target.inputs(lib)
    return None if recorded == inputs and target.path(lib.project).exists() else inputs


def write_target(target: LibraryTarget, lib: Library) -> tuple[int, str]:
    try:
        return target.write(lib)
    except HandoutError as exc:
        raise HandoutError(f"{lib.project.rel(target.path(lib.project))}: render failed: {exc}") from None
