"""Work in progress: a translator's preview of one handout, whatever state the language is in.

A locale that is incomplete, or not yet published in clinic.yaml, still gets
a PDF: every string it lacks (empty or fuzzy) prints in English, highlighted,
under a banner on every page that says PREVIEW and "not for patients". The
file goes to build/preview/<locale>/<id>.pdf: never build/pdf/, never the
manifest, never the front-desk catalog.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.support import Translations

from handoutkit.content.handouts import Content
from handoutkit.content.settings import Project, check_locale_name
from handoutkit.errors import HandoutError
from handoutkit.files import atomic_write
from handoutkit.outputs.web import web_url
from handoutkit.render.fonts import activate_fontconfig, subset_plan
from handoutkit.render.ready import open_library, printable_chars
from handoutkit.render.renderer import PdfWriter, make_renderer
from handoutkit.translation.catalogs import compile_translations
from handoutkit.translation.extract import current_template
from handoutkit.translation.prepared import prepare_locale, readable_catalog

# Private-use characters bracket an English fallback through escaping and
# formatting; they become <mark> in the text and vanish where markup can't go.
OPEN, CLOSE = "\ue000", "\ue001"
TAG_OR_STYLE = re.compile(r"(<style\b.*?</style>|<title\b.*?</title>|<[^>]*>)", re.DOTALL)

BANNER = ("PREVIEW: not for patients. Text <mark class=\"untranslated\">marked like this</mark> is still in English: "
          "it has no translation yet, or only a fuzzy one.")
PREVIEW_CSS = """
<style>
  mark.untranslated { background: #ffe066; color: #000; outline: 1px dashed #8a6d00; }
  .preview-banner { position: fixed; top: -0.45in; left: 0; right: 0; padding: 2pt 6pt;
                    background: #b00020; color: #fff; font: bold 9pt sans-serif; text-align: center; }
</style>
"""


class PreviewTranslations(gettext.NullTranslations):
    """The locale's translations; a missing one is the English between OPEN and CLOSE."""

    def __init__(self, inner: Translations, missing: set[tuple[str | None, str]]):
        super().__init__()
        self.inner, self.missing = inner, missing

    def gettext(self, message: str) -> str:
        if (None, message) in self.missing:
            return f"{OPEN}{message}{CLOSE}"
        return self.inner.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        if (context, message) in self.missing:
            return f"{OPEN}{message}{CLOSE}"
        return self.inner.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.inner.ngettext(singular, plural, n)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.inner.npgettext(context, singular, plural, n)


def mark_untranslated(html: str) -> tuple[str, int]:
    """Turn the fallback brackets into <mark> in text; drop them inside tags, <title> and <style>.

    Returns the page and how many English fallbacks it prints.
    """
    out, marked = [], 0
    for part in TAG_OR_STYLE.split(html):
        if TAG_OR_STYLE.fullmatch(part):
            out.append(part.replace(OPEN, "").replace(CLOSE, ""))
        else:
            marked += part.count(OPEN)
            out.append(part.replace(OPEN, '<mark class="untranslated">').replace(CLOSE, "</mark>"))
    return "".join(out), marked


def with_banner(html: str) -> str:
    html = html.replace("</head>", PREVIEW_CSS + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", rf'\1<div class="preview-banner" lang="en" dir="ltr">{BANNER}</div>',
                  html, count=1)


@dataclass(frozen=True)
class PreviewResult:
    locale: str
    handout_id: str
    pdf: Path
    html: Path
    pages: int
    untranslated: int  # places where the page prints English instead of a translation
    overflows: tuple[str, ...] = ()  # picture labels that do not fit their room (the build refuses them)


def missing_strings(project: Project, catalog: Catalog) -> set[tuple[str | None, str]]:
    """(context, msgid) of everything the locale cannot print yet: empty, fuzzy or absent from the file,
    against the strings the content prints now."""
    done = {(m.context, m.id) for m in catalog if m.id and m.string and not m.fuzzy}
    return {(m.context, m.id) for m in current_template(project) if m.id and isinstance(m.id, str)} - done


def preview(project: Project, handout_id: str, locale: str) -> PreviewResult:
    """Render build/preview/<locale>/<id>.pdf for a translator, complete or not, published or not."""
    if error := check_locale_name(locale):
        raise HandoutError(error)
    setup = open_library(project)  # the content, its approvals, the font files, as the build opens them
    content, plan = setup.content, setup.plan
    try:
        handout = content.get(handout_id)
    except KeyError:
        known = ", ".join(h.id for h in content.handouts)
        raise HandoutError(f"unknown handout {handout_id!r}; expected one of: {known}") from None
    source = locale == project.settings.source_locale
    # The PO file is read once, through the prepared locale (GNU msgfmt must accept it, even for a
    # preview; the other checks' findings do not stop a preview), for everything below.
    catalog = None if source else readable_catalog(prepare_locale(project, locale, content))
    missing = set() if source else missing_strings(project, catalog)
    inner = Translations() if catalog is None else compile_translations(catalog)
    translations = PreviewTranslations(inner, missing)
    printable = partial(_printable, project, locale, content, catalog)
    stack, files, tasks = subset_plan(project, plan, locale, printable)
    for task in tasks:
        task.run()
    activate_fontconfig(project, plan, tuple(files), name="preview")
    renderer = make_renderer(project, locale, translations, stack, draft=not source,
                             web_url=partial(web_url, project.settings))
    writer = PdfWriter(project)
    html, marked = mark_untranslated(renderer.html(handout))
    html = with_banner(html)
    document = writer.layout(html)
    if len(document.pages) > project.settings.limits.page_budget:  # copyfit, as the build does
        tight_html = with_banner(mark_untranslated(renderer.html(handout, tight=True))[0])
        tight = writer.layout(tight_html)
        if len(tight.pages) < len(document.pages):
            html, document = tight_html, tight
    # A label too long for its picture is shown, not refused: the translator sees where it spills.
    overflows = tuple(writer.label_overflows(document))
    pdf, pages = writer.write(document), len(document.pages)
    folder = project.build_dir / "preview" / locale
    pdf_file, html_file = folder / f"{handout.id}.pdf", folder / f"{handout.id}.html"
    atomic_write(html_file, html.encode("utf-8"), durable=False)
    atomic_write(pdf_file, pdf, durable=False)
    return PreviewResult(locale, handout.id, pdf_file, html_file, pages, marked, overflows)


def _printable(project: Project, locale: str, content: Content, catalog: Catalog | None) -> frozenset[str]:
    """Everything the preview may print: the locale's strings and the English it falls back to."""
    chars = set(printable_chars(project, locale, None, content))
    if catalog is not None:
        chars |= printable_chars(project, locale, catalog, content)
    return frozenset(chars)
