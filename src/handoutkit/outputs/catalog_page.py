"""Front desk: build/index.html, the offline catalog of every handout in every language.

Staff open it straight from a shared folder (no server, no external assets),
type a procedure name in English or in the patient's language, pick the
language by its own name, and open the PDF. The page works without
JavaScript too: every link is in the HTML; the script only filters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.handouts import Content, Handout, translate
from handoutkit.content.settings import Project
from handoutkit.files import atomic_write
from handoutkit.outputs.packets import packet_cards
from handoutkit.translation.locales import html_lang, is_rtl, native_language_name
from handoutkit.translation.prepared import prepare_all


@dataclass(frozen=True)
class LanguageEntry:
    locale: str
    lang: str
    direction: str
    native_name: str  # "Español", "中文 (简体)", "العربية"
    english_name: str
    status: str  # "source", "reviewed", "draft", "stale", or "unavailable"


@dataclass(frozen=True)
class HandoutLink:
    locale: str
    title: str
    summary: str
    pdf: str | None  # relative to build/, None when not built
    large_print: str | None


@dataclass(frozen=True)
class CatalogEntry:
    handout_id: str
    english_title: str
    revision: int
    links: tuple[HandoutLink, ...]
    approval: str = "draft"  # the English's clinical approval: draft, changed, approved or overdue
    approved_by: str | None = None  # only from a recorded, current approval
    approved_on: str | None = None
    keywords: tuple[str, ...] = ()  # symptoms and synonyms, in English and every language

    @property
    def search_text(self) -> str:
        return " ".join([self.handout_id, self.english_title, *(link.title for link in self.links),
                         *self.keywords]).lower()


def language_entry(project: Project, locale: str, known: tuple) -> tuple[LanguageEntry, object | None]:
    """A language as the catalog shows it; `known` is its (translations, review status) from the prepared locale."""
    from babel import Locale

    english = Locale.parse(locale).get_display_name("en") or locale
    translations, status = known
    entry = LanguageEntry(locale, html_lang(locale), "rtl" if is_rtl(locale) else "ltr",
                          native_language_name(locale), english, status)
    return entry, translations


def catalog_entries(project: Project, content: Content, loaded: dict | None = None
                    ) -> tuple[list[LanguageEntry], list[CatalogEntry]]:
    """The catalog's languages and handouts. `loaded` maps the locales that passed their checks
    to (translations, review status); other locales are shown as unavailable."""
    if loaded is None:  # the catalog page on its own (`handouts catalog`): prepare every locale once
        loaded = {loc: (p.translations, p.status) if p.ok else (None, "unavailable")
                  for loc, p in prepare_all(project, content).items()}
    languages, translations = [], {}
    for locale in project.settings.locales:
        entry, catalog = language_entry(project, locale, loaded.get(locale, (None, "unavailable")))
        languages.append(entry)
        translations[locale] = catalog
    entries = []
    settings = project.settings
    approvals = read_approvals(project, content)
    for handout in sorted(content.handouts, key=lambda h: h.title.value.lower()):
        state = approval_state(handout, settings.clinic, approvals.get(handout.id), settings.review_interval_years)
        entries.append(CatalogEntry(handout.id, handout.title.value, handout.revision.number,
                                    tuple(_link(project, handout, loc, translations[loc])
                                          for loc in settings.locales),
                                    state.status,
                                    state.approval.approved_by if state.approval else None,
                                    state.approval.approved_on.isoformat() if state.approval else None,
                                    _keywords(handout, translations.values())))
    return languages, entries


def _keywords(handout: Handout, translations) -> tuple[str, ...]:
    words = {k.value for k in handout.keywords}
    for catalog in translations:
        if catalog is not None:
            words |= {translate(catalog, k) for k in handout.keywords}
    return tuple(sorted(words))


def _link(project: Project, handout: Handout, locale: str, translations) -> HandoutLink:
    def relative_if_built(folder: str) -> str | None:
        path = project.build_dir / folder / locale / f"{handout.id}.pdf"
        return f"{folder}/{locale}/{handout.id}.pdf" if path.exists() else None

    if translations is None:
        return HandoutLink(locale, handout.title.value, handout.summary.value, None, None)
    return HandoutLink(locale, translate(translations, handout.title), translate(translations, handout.summary),
                       relative_if_built("pdf"), relative_if_built("pdf-large"))


def page_environment(project: Project) -> Environment:
    env = Environment(loader=FileSystemLoader(project.templates_dir / "pages"), autoescape=True,
                      undefined=StrictUndefined)
    # JSON inside <script>: escape <, > and & so no title can close the element.
    env.filters["script_json"] = lambda value: Markup(
        json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return env


def render_catalog(project: Project, content: Content, form: bool = False, loaded: dict | None = None,
                   **extra: object) -> str:
    languages, entries = catalog_entries(project, content, loaded)
    extra.setdefault("packet_cards", packet_cards(project, content))
    return render_catalog_page(project, languages, entries, form=form, **extra)


def render_catalog_page(project: Project, languages: list[LanguageEntry], entries: list[CatalogEntry],
                        form: bool = False, **extra: object) -> str:
    """The catalog from entries already collected (the server collects them once, at start)."""
    titles = {e.handout_id: {link.locale: link.title for link in e.links} for e in entries}
    # The language menu offers only languages that print: at the front desk the ones that passed
    # their checks (it renders on demand), on the static page the ones with a PDF built (the build
    # removes the PDFs of a language that stops passing).
    offered = {lang.locale for lang in languages if lang.status != "unavailable"} if form else \
        {link.locale for e in entries for link in e.links if link.pdf}
    assistance = project.build_dir / "pdf" / "language-assistance.pdf"
    return page_environment(project).get_template("catalog.html").render(
        clinic=project.settings.clinic, languages=languages, entries=entries, titles=titles,
        source_locale=project.settings.source_locale, form=form, offered=offered,
        language_assistance="pdf/language-assistance.pdf" if assistance.exists() else None, **extra)


def write_catalog(project: Project, content: Content, loaded: dict | None = None) -> str:
    """Write build/index.html; returns its path relative to the project."""
    path = project.build_dir / "index.html"
    atomic_write(path, render_catalog(project, content, loaded=loaded).encode("utf-8"))
    return project.rel(path)
