"""The language-assistance sheet: one PDF with the notice "free help in your language" in every ready language."""

from __future__ import annotations

from handoutkit.files import atomic_write
from handoutkit.outputs.library import Library, LibraryTarget, inputs_hash
from handoutkit.render.renderer import (
    NOTICE_TEMPLATE,
    language_assistance_html,
    notice_line,
)
from handoutkit.translation.prepared import PreparedLocale


def _notice_strings(prepared: PreparedLocale) -> list[str]:
    return [str(m.string) for m in prepared.catalog or ()
            if any(f == f"templates/{NOTICE_TEMPLATE}" for f, _ in m.locations)]


def language_assistance_inputs(lib: Library) -> str:
    """The translations of the strings the notice prints, and the fonts of each language."""
    return inputs_hash(lib.common, *(f"{loc}:{_notice_strings(p)}:{lib.stacks[loc]}" for loc, p in lib.ready.items()))


def language_assistance_page(lib: Library) -> str:
    """The sheet's HTML: the notice in each ready language."""
    lines = [notice_line(lib.project, loc, p.translations, lib.stacks[loc]) for loc, p in lib.ready.items()]
    return language_assistance_html(lib.project, lines)


def write_language_assistance(lib: Library) -> tuple[int, str]:
    pdf, pages = lib.pdf(language_assistance_page(lib))
    path = LANGUAGE_ASSISTANCE.path(lib.project)
    atomic_write(path, pdf)
    return pages, f"{lib.project.rel(path)} ({len(lib.ready)} languages, {pages} page{'s' if pages != 1 else ''})"


LANGUAGE_ASSISTANCE = LibraryTarget("language-assistance", "pdf/language-assistance.pdf",
                                    language_assistance_inputs, write_language_assistance,
                                    html=language_assistance_page)
