"""Front desk: build/index.html, the offline catalog of every handout in every language.

Staff open it straight from a shared folder (no server, no external assets),
type a procedure name in English or in the patient's language, pick the
language by its own name, and open the PDF. The page works without
JavaScript too: every link is in the HTML; the script only filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.handouts import Content, Handout, translate
from handoutkit.content.settings import Project
from handoutkit.files import atomic_write
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.language_sheet import LANGUAGE_ASSISTANCE
from handoutkit.outputs.library import Library, LibraryTarget, inputs_hash
from handoutkit.outputs.packets import packet_cards
from handoutkit.outputs.pages import page_environment
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
class EditionLink:
    label: str  # "Large print"
    href: str  # relative to build/


@dataclass(frozen=True)
class HandoutLink:
    locale: str
    title: str
    summary: str
    pdf: str | None  # the standard PDF, relative to build/; None when not built
    more: tuple[EditionLink, ...] = ()  # the other editions that are built and listed in the catalog


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
    if translations is None:
        return HandoutLink(locale, handout.title.value, handout.summary.value, None)
    built = [e for e in EDITIONS.values() if e.in_catalog and e.product(project, locale, handout.id).exists()]
    main = EDITIONS["standard"]
    return HandoutLink(locale, translate(translations, handout.title), translate(translations, handout.summary),
                       main.url(locale, handout.id) if main in built else None,
                       tuple(EditionLink(e.label, e.url(locale, handout.id)) for e in built if e is not main))


def render_catalog(project: Project, content: Content, form: bool = False, loaded: dict | None = None,
                   **extra: object) -> str:
    languages, entries = catalog_entries(project, content, loaded)
    extra.setdefault("packet_cards", packet_cards(project, content))
    return render_catalog_page(project, languages, entries, form=form,
                               language_assistance=LANGUAGE_ASSISTANCE.built_url(project), **extra)


def render_catalog_page(project: Project, languages: list[LanguageEntry], entries: list[CatalogEntry],
                        form: bool = False, language_assistance: str | None = None, **extra: object) -> str:
    """The catalog from entries already collected (the server collects them once, at start).

    `language_assistance` is the language sheet's URL relative to build/, when it is built."""
    titles = {e.handout_id: {link.locale: link.title for link in e.links} for e in entries}
    # The language menu offers only languages that print: at the front desk the ones that passed
    # their checks (it renders on demand), on the static page the ones with a PDF built (the build
    # removes the PDFs of a language that stops passing).
    offered = {lang.locale for lang in languages if lang.status != "unavailable"} if form else \
        {link.locale for e in entries for link in e.links if link.pdf}
    return page_environment(project).get_template("catalog.html").render(
        clinic=project.settings.clinic, languages=languages, entries=entries, titles=titles,
        source_locale=project.settings.source_locale, form=form, offered=offered,
        language_assistance=language_assistance, **extra)


def write_catalog(project: Project, content: Content, loaded: dict | None = None) -> str:
    """Write build/index.html; returns its path relative to the project."""
    path = CATALOG_PAGE.path(project)
    atomic_write(path, render_catalog(project, content, loaded=loaded).encode("utf-8"))
    return project.rel(path)

def catalog_inputs(lib: Library) -> str:
    """Each ready locale's state, each handout's revision and approval, and which PDFs exist."""
    return inputs_hash(lib.common, *(f"{loc}:{p.inputs}:{p.status}" for loc, p in lib.ready.items()),
                       *(f"{h.path}:{h.revision.number}" for h in lib.content.handouts), *lib.approvals, *lib.pdfs)


def write_catalog_page(lib: Library) -> tuple[int, str]:
    languages = {loc: (p.translations, p.status) for loc, p in lib.ready.items()}
    return 0, f"catalog: {write_catalog(lib.project, lib.content, languages)}"


CATALOG_PAGE = LibraryTarget("catalog", "index.html", catalog_inputs, write_catalog_page, whole_library=False)
