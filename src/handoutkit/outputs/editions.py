"""Editions: the outputs made for every handout in every locale (standard print, large print, the web page).

Each edition is a small class that owns its name, folder, suffix, URL, the
inputs of its manifest hash and its writer (Sphinx's builders and MkDocs'
`File` are the models). The build loops over `EDITIONS`; the catalog page,
packets, the server and the CLI ask an edition where its files are. A new
edition is one subclass here (or in any module) and one `register` call.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from handoutkit.content.handouts import Handout
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write
from handoutkit.outputs.library import Made
from handoutkit.outputs.web import WEB_FOLDER
from handoutkit.render import clock
from handoutkit.render.pagination import Paginated
from handoutkit.render.renderer import PICTURES_LEFT_OUT, PdfWriter, Renderer

# A large-print last page filled less than this is laid out again with tighter spacing.
LARGE_COPYFIT_FILL = 0.35
# A standard last page filled less than this (the last box or two, pushed over by a picture,
# say) is laid out again with tighter spacing too: kept only when it saves the page.
STANDARD_COPYFIT_FILL = 0.2


def _paginate(writer: PdfWriter, html: str, stop_past: int | None = None) -> tuple[Paginated | None, float]:
    start = time.perf_counter()
    paginated = writer.paginate(html, stop_past=stop_past)
    return paginated, time.perf_counter() - start


def _layout(writer: PdfWriter, html: str) -> tuple[object, float]:
    start = time.perf_counter()
    document = writer.layout(html)
    return document, time.perf_counter() - start


def copyfit(renderer: Renderer, writer: PdfWriter, handout: Handout, large: bool, page_budget: int,
            extra: dict | None = None, start_tight: bool = False) -> tuple[str, object]:
    """The handout's HTML and laid-out document, copyfitted; shared by the build and the front desk.

    Tighter spacing, same type size, before calling it an overflow, and before printing a
    last page that holds little more than the closing box (in large print, or in the standard
    edition when the tight layout saves that page). A standard edition still over its budget
    when tight is laid out once more without its pictures (the text is what must print).
    A picture label that does not fit its room is an error (PdfWriter.label_overflows).
    `start_tight` skips the first layout when it is known to overflow (the front desk
    knows once the same handout without the patient's details needed the tight one).
    """
    if start_tight and not large:
        html = renderer.html(handout, extra=extra, tight=True)
        document = writer.layout(html)
    else:
        html = renderer.html(handout, extra=extra, large=large)
        # The first layout is only paginated (finished if kept), and the standard edition's stops
        # once it certainly has more pages than the budget (None): render/pagination.py.
        first, first_seconds = _paginate(writer, html, stop_past=None if large else page_budget)
        over_budget = not large and (first is None or len(first.pages) > page_budget)
        short_last_page = first is not None and len(first.pages) > 1 and \
            writer.page_fill(first.pages[-1]) < (LARGE_COPYFIT_FILL if large else STANDARD_COPYFIT_FILL)
        document = None
        if over_budget or short_last_page:
            tight_html = renderer.html(handout, extra=extra, tight=True, large=large)
            tight, tight_seconds = _layout(writer, tight_html)
            if first is None and len(tight.pages) > page_budget:
                # Tight overflows too: which layout has fewer pages needs the first one's page count.
                first, again = _paginate(writer, html)
                first_seconds += again
            # A stopped first layout has more pages than the budget, so more than a tight one within it.
            if first is None or len(tight.pages) < len(first.pages):
                html, document = tight_html, tight
                clock.add("layout thrown away", first_seconds)  # for the bench's breakdown
            else:
                clock.add("layout thrown away", tight_seconds)
        if document is None:
            document = writer.finish(first)
    if not large and len(document.pages) > page_budget and handout.pictures:
        # The last resort before an overflow: the text is what the patient must have, the
        # picture only helps. Said in the HTML (PICTURES_LEFT_OUT) and by the build.
        bare_html = renderer.html(handout, extra=extra, tight=True, pictures=False)
        bare = writer.layout(bare_html)
        if len(bare.pages) <= page_budget:
            html, document = bare_html, bare
    if overflows := writer.label_overflows(document):
        # Like a page over budget: a label cut off or spilling over its drawing is not printed.
        locale = renderer.context.locale
        raise HandoutError(f"{handout.id} in {locale}: " + "; ".join(overflows)
                           + f" (shorten the translation in locales/{locale}/LC_MESSAGES/handouts.po)")
    return html, document


class Edition:
    """One output made for every handout in every locale: it owns its name, files, URL, inputs and writer.

    The build, the catalog page, packets, the server and the CLI ask an edition
    where its files are; none of them assembles an output path. A new edition
    is a subclass with its `make` (usually one template) and one `register` call.
    """

    name: str
    folder: str  # under build/: the files readers get, <folder>/<locale>/<id><suffix>
    suffix: str = ".pdf"
    label: str = ""  # how the catalog page names it ("Large print"); "" for the main PDF
    html_folder: str | None = None  # where the HTML a PDF was laid out from is kept, for tests and debugging
    heavy: bool = False  # rendered first, so no core idles at the end of a build
    in_catalog: bool = True  # linked from each handout's card on the catalog page

    def make(self, renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
        raise NotImplementedError

    def product(self, project: Project, locale: str, handout_id: str) -> Path:
        """The file readers get, whose presence the manifest trusts."""
        return project.build_dir / self.url(locale, handout_id)

    def url(self, locale: str, handout_id: str) -> str:
        """Where the file is, relative to build/: the catalog page's link and the server's path."""
        return f"{self.folder}/{locale}/{handout_id}{self.suffix}"

    def pdf(self, project: Project, locale: str, handout_id: str) -> Path | None:
        return self.product(project, locale, handout_id) if self.suffix == ".pdf" else None

    def html(self, project: Project, locale: str, handout_id: str) -> Path | None:
        """The HTML page of the handout: the one a PDF was made from, or the product of an HTML edition."""
        if self.suffix == ".html":
            return self.product(project, locale, handout_id)
        if self.html_folder is None:
            return None
        return project.build_dir / self.html_folder / locale / f"{handout_id}.html"

    def inputs(self, handout_inputs: str) -> str:
        return hashlib.sha256(f"{handout_inputs}\0{self.name}".encode()).hexdigest()

    def write(self, project: Project, locale: str, handout_id: str, made: Made) -> None:
        """Write what `make` made, each file atomically."""
        html = self.html(project, locale, handout_id)
        if html is not None:
            atomic_write(html, made.html.encode("utf-8"), durable=False)
        if made.data is not None and self.suffix != ".html":
            atomic_write(self.product(project, locale, handout_id), made.data, durable=False)


class StandardEdition(Edition):
    """The printed handout; copyfitted (tighter spacing, same type size) before it overflows its budget."""

    name, folder, html_folder = "standard", "pdf", "html"

    def make(self, renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
        html, document = copyfit(renderer, writer, handout, False, project.settings.limits.page_budget)
        note = "pictures left out: no room within the page budget" if PICTURES_LEFT_OUT in html else ""
        return Made(html, writer.write(document), len(document.pages), note)


class LargePrintEdition(Edition):
    """Large print (18 pt); copyfitted before printing a last page that holds little more than the closing box."""

    name, folder, html_folder, label, heavy = "large", "pdf-large", "html-large", "Large print", True

    def make(self, renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
        html, document = copyfit(renderer, writer, handout, True, project.settings.limits.page_budget)
        return Made(html, writer.write(document), len(document.pages))


class WebEdition(Edition):
    """The web edition: one accessible HTML page per handout, no PDF and no pages to count."""

    name, folder, suffix, label, in_catalog = "web", WEB_FOLDER, ".html", "Web page", False

    def make(self, renderer: Renderer, writer: PdfWriter, handout: Handout, project: Project) -> Made:
        return Made(renderer.html(handout, web=True), None, 0)


EDITIONS: dict[str, Edition] = {}


def register(edition: Edition) -> Edition:
    """Add an edition to every build, the catalog page and the server (its name must be new)."""
    if edition.name in EDITIONS:
        raise ValueError(f"edition {edition.name!r} is already registered")
    EDITIONS[edition.name] = edition
    return edition


for _edition in (StandardEdition(), LargePrintEdition(), WebEdition()):
    register(_edition)
