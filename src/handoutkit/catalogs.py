"""Stage 3, catalogs: handouts.pot to locales/<locale>/LC_MESSAGES/handouts.po, and back out as Translations.

Everything goes through Babel (read_po, write_po, Catalog.update, write_mo),
so the files stay exactly what pybabel, msgmerge and PO editors expect.
Fuzzy entries are never used: a patient never gets a guessed translation.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po, write_po
from babel.support import Translations

from .errors import HandoutError, Problem, ProblemsError
from .extract import POT_WIDTH
from .files import atomic_write, write_if_changed
from .settings import Project, check_locale_name

MACHINE_DRAFT_COMMENT = (
    "MACHINE DRAFT: these translations were drafted by machine and are not yet\n"
    "reviewed by a qualified medical translator. Record a review with\n"
    "`handouts review LOCALE --by NAME` once one has checked every entry."
)


def read_catalog(path: Path, label: str, locale: str | None = None) -> Catalog:
    """Parse a PO/POT file; a syntax or encoding fault becomes `file:line: problem`."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ProblemsError([Problem(label, line, f"expected UTF-8 text, found byte "
                                                  f"0x{data[exc.start]:02x}")], "catalog error") from None
    try:
        return read_po(io.BytesIO(data), locale=locale, abort_invalid=True, charset="utf-8")
    except PoFileError as exc:
        problem = str(exc).rsplit(" on ", 1)[0]
        raise ProblemsError([Problem(label, exc.lineno + 1, f"PO syntax error: {problem}: "
                                                            f"{exc.line.strip()!r}")], "catalog error") from None
    except (ValueError, UnicodeError) as exc:
        raise ProblemsError([Problem(label, 0, f"unreadable catalog: {exc}")], "catalog error") from None


def serialize_po(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    # include_previous keeps `#| msgid` so translators see what the English was.
    write_po(buffer, catalog, width=POT_WIDTH, include_previous=True)
    return buffer.getvalue()


def read_template(project: Project) -> Catalog:
    if not project.pot_path.exists():
        raise HandoutError(f"{project.rel(project.pot_path)}: missing; run `handouts extract` first")
    return read_catalog(project.pot_path, project.rel(project.pot_path))


def load_catalog(project: Project, locale: str) -> Catalog:
    path = project.po_path(locale)
    if not path.exists():
        raise HandoutError(f"{project.rel(path)}: missing catalog for locale '{locale}'; "
                           f"create it with `handouts init-locale {locale}`")
    return read_catalog(path, project.rel(path), locale)


@dataclass(frozen=True)
class InitResult:
    locale: str
    path: Path
    messages: int


def init_locale(project: Project, locale: str, machine_draft: bool = False) -> InitResult:
    """Create an empty catalog for `locale` from the template."""
    if error := check_locale_name(locale):
        raise HandoutError(error)
    path = project.po_path(locale)
    if path.exists():
        raise HandoutError(f"{project.rel(path)}: already exists; use `handouts update` to merge new strings")
    template = read_template(project)
    catalog = Catalog(locale=locale, project="handoutkit", charset="utf-8",
                      creation_date=template.creation_date, fuzzy=False)
    language = Locale.parse(locale).english_name
    comment = f"{language} translations for the handoutkit patient handouts."
    if machine_draft:
        comment += "\n" + MACHINE_DRAFT_COMMENT
    catalog.header_comment = "\n".join(f"# {line}" for line in comment.splitlines())
    catalog.update(template)
    atomic_write(path, serialize_po(catalog))
    return InitResult(locale, path, len(catalog))


@dataclass(frozen=True)
class UpdateResult:
    locale: str
    path: Path
    written: bool
    fuzzy: int
    untranslated: int
    obsolete: int


def update_catalog(catalog: Catalog, template: Catalog) -> Catalog:
    """Merge the template into a catalog; keeps every translation (changed ones fuzzy, removed ones obsolete)."""
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False,
                   keep_user_comments=True, update_creation_date=False)
    return catalog


def update(project: Project, locales: tuple[str, ...] | None = None) -> list[UpdateResult]:
    """Merge handouts.pot into the catalog of every translated locale."""
    template = read_template(project)
    results = []
    for locale in locales or project.settings.translated_locales:
        catalog = update_catalog(load_catalog(project, locale), template)
        path = project.po_path(locale)
        written = write_if_changed(path, serialize_po(catalog))
        messages = [m for m in catalog if m.id]
        results.append(UpdateResult(
            locale, path, written,
            fuzzy=sum(1 for m in messages if m.fuzzy),
            untranslated=sum(1 for m in messages if not m.string),
            obsolete=len(catalog.obsolete),
        ))
    return results


def compile_translations(catalog: Catalog) -> Translations:
    """In-memory MO for rendering; fuzzy entries are left out."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="handouts")


def load_translations(project: Project, locale: str) -> gettext.NullTranslations:
    if locale == project.settings.source_locale:
        return Translations()  # the source text is the English msgid itself
    return compile_translations(load_catalog(project, locale))
