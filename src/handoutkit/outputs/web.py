"""The web edition: every handout in every ready locale as an accessible HTML page.

`build/web/<locale>/<id>.html` is the same handout as the PDF (the same
translations, checked the same way, the same DRAFT mark and draft-translation
notice), laid out for screens by templates/web-handout.html and web.css;
`build/web/index.html` lists every handout in every language, with a language
switcher. Every page is one self-contained file (inline CSS, system fonts) and
every link is relative, so the folder works from the file system and from any
static host. The QR code on a PDF points here (`web.base_url` in clinic.yaml).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.handouts import translate
from handoutkit.content.settings import Project, Settings
from handoutkit.files import atomic_write
from handoutkit.outputs.library import Library, LibraryTarget
from handoutkit.outputs.pages import page_environment
from handoutkit.translation.locales import html_lang, is_rtl, native_language_name

WEB_FOLDER = "web"  # under build/
# Printed on the page in each language: the same strings as the PDF's draft marks.
DRAFT_MARK = "DRAFT — not yet approved by a clinician"
DRAFT_TRANSLATION = "Draft translation: not yet reviewed by a qualified medical translator."


def web_path(locale: str, handout_id: str) -> str:
    """A handout's page, relative to build/web/ (and to `web.base_url`)."""
    return f"{locale}/{handout_id}.html"


def web_url(settings: Settings, locale: str, handout_id: str) -> str | None:
    """The handout's page in the web edition, or None when the clinic publishes none."""
    if not settings.web_base_url:
        return None
    return settings.web_base_url + web_path(locale, handout_id)


# ---------------------------------------------------------------- build/web/index.html


@dataclass(frozen=True)
class WebLanguage:
    locale: str
    lang: str
    direction: str
    name: str  # in its own language: "Español"
    draft_notice: str  # the translated draft-translation notice, or "" when reviewed
    handouts: tuple["WebLink", ...]


@dataclass(frozen=True)
class WebLink:
    href: str  # relative to build/web/
    title: str
    summary: str
    draft_mark: str  # the translated DRAFT mark, or "" when a clinician's approval covers it


def index_path(project: Project) -> Path:
    return WEB_INDEX.path(project)


def built_pages(project: Project) -> list[str]:
    """The handout pages that exist, relative to build/web/ (the index links only to these)."""
    root = project.build_dir / WEB_FOLDER
    return sorted(p.relative_to(root).as_posix() for p in root.glob("*/*.html"))


def web_languages(lib: Library) -> list[WebLanguage]:
    """Every ready locale with the handouts whose pages are built, titles in that language."""

    project, content = lib.project, lib.content
    settings = project.settings
    approvals = read_approvals(project, content)
    approved = {h.id for h in content.handouts
                if approval_state(h, settings.clinic, approvals.get(h.id), settings.review_interval_years).current}
    built = set(built_pages(project))
    languages = []
    for locale, prepared in lib.ready.items():
        translations = prepared.translations
        links = tuple(
            WebLink(web_path(locale, h.id), translate(translations, h.title), translate(translations, h.summary),
                    "" if h.id in approved else translations.gettext(DRAFT_MARK))
            for h in sorted(content.handouts, key=lambda h: translate(translations, h.title).lower())
            if web_path(locale, h.id) in built)
        if links:
            languages.append(WebLanguage(locale, html_lang(locale), "rtl" if is_rtl(locale) else "ltr",
                                         native_language_name(locale),
                                         translations.gettext(DRAFT_TRANSLATION) if prepared.draft else "",
                                         links))
    return languages


def web_index_inputs(lib: Library) -> str:
    """Each ready locale's state, each handout's revision and approval, and which pages exist."""
    parts: list[Any] = [lib.common, *(f"{loc}:{p.inputs}:{p.status}" for loc, p in lib.ready.items()),
                        *(f"{h.path}:{h.revision.number}" for h in lib.content.handouts), *lib.approvals,
                        *built_pages(lib.project)]
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()


def render_web_index(project: Project, languages: list[WebLanguage]) -> str:
    source = project.settings.source_locale
    return page_environment(project).get_template("web-index.html").render(
        clinic=project.settings.clinic, languages=languages, lang=html_lang(source),
        source_name=native_language_name(source),
        css=(project.templates_dir / "web.css").read_text("utf-8"))


def write_web_index(lib: Library) -> tuple[int, str]:
    languages = web_languages(lib)
    path = index_path(lib.project)
    atomic_write(path, render_web_index(lib.project, languages).encode("utf-8"))
    pages = sum(len(language.handouts) for language in languages)
    return 0, f"web edition: {lib.project.rel(path)} ({pages} pages in {len(languages)} languages)"


# After a partial build too: it links only to the pages that exist.
WEB_INDEX = LibraryTarget("web-index", f"{WEB_FOLDER}/index.html", web_index_inputs, write_web_index, whole_library=False)
