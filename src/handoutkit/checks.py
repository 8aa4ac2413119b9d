"""Stage 4, checks: is a locale complete and safe to print?

Each check is a small function over one catalog entry that returns the
problems it finds; `check_locale` runs them all and locates each finding at
`locales/<locale>/LC_MESSAGES/handouts.po:<line>`. Errors block printing;
warnings are shown to translators.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Callable

from babel.messages.catalog import Catalog, Message

from .catalogs import load_catalog, msgfmt_problems, read_template
from .errors import HandoutError, Problem, ProblemsError
from .settings import Project

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
NUMBER = re.compile(r"\d+")
EMPHASIS = "**"

EntryCheck = Callable[[Message], list[str]]


def _text(message: Message) -> tuple[str, str]:
    source = message.id if isinstance(message.id, str) else message.id[0]
    target = message.string if isinstance(message.string, str) else message.string[0]
    return source, target or ""


def placeholders(text: str) -> Counter:
    return Counter(a or b for a, b in PLACEHOLDER.findall(text))


def check_placeholders(message: Message) -> list[str]:
    """Placeholders ({clinic_phone}, %(phone)s) are filled in by the program: keep every one."""
    source, target = _text(message)
    expected, found = placeholders(source), placeholders(target)
    if expected == found:
        return []
    missing = sorted((expected - found).elements())
    extra = sorted((found - expected).elements())
    parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
            ([f"unknown {', '.join(extra)}"] if extra else [])
    return [f"placeholder mismatch: {'; '.join(parts)} (keep them exactly as in the English)"]


def check_numbers(message: Message) -> list[str]:
    """Numbers are safety data: every number in the English appears unchanged."""
    source, target = _text(message)
    source = PLACEHOLDER.sub("", source)
    target = PLACEHOLDER.sub("", target)
    expected, found = Counter(NUMBER.findall(source)), Counter(NUMBER.findall(target))
    if expected == found:
        return []
    return [f"numbers differ: English has {sorted(expected.elements()) or 'none'}, "
            f"translation has {sorted(found.elements()) or 'none'} "
            "(write the same numbers with the digits 0-9)"]


def check_emphasis(message: Message) -> list[str]:
    """**bold** markers come in pairs and as many as in the English."""
    source, target = _text(message)
    if target.count(EMPHASIS) % 2:
        return ["unbalanced ** emphasis marker: every ** needs a closing **"]
    if target.count(EMPHASIS) != source.count(EMPHASIS):
        return [f"emphasis differs: English has {source.count(EMPHASIS) // 2} **bold** "
                f"part(s), translation has {target.count(EMPHASIS) // 2}"]
    return []


ENTRY_CHECKS: tuple[EntryCheck, ...] = (check_placeholders, check_numbers, check_emphasis)


@dataclass(frozen=True)
class LocaleReport:
    locale: str
    path: str
    total: int
    translated: int
    fuzzy: int
    untranslated: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def complete(self) -> bool:
        return not self.errors


def check_catalog(catalog: Catalog, template: Catalog, label: str, locale: str) -> LocaleReport:
    problems: list[Problem] = []
    template_keys = {(t.id, t.context): t for t in template if t.id}
    catalog_keys = {(m.id, m.context) for m in catalog if m.id}
    messages = [m for m in catalog if m.id]
    translated = fuzzy = untranslated = 0
    for message in messages:
        if (message.id, message.context) not in template_keys:
            problems.append(Problem(label, message.lineno, f"stale entry not in handouts.pot: "
                                    f"{_text(message)[0]!r}; run `handouts update`", "warning"))
            continue
        source = _text(message)[0]
        if message.fuzzy:
            fuzzy += 1
            problems.append(Problem(label, message.lineno, f"fuzzy (needs review, not printed): {source!r}"))
            continue
        if not _text(message)[1]:
            untranslated += 1
            problems.append(Problem(label, message.lineno, f"untranslated: {source!r}"))
            continue
        translated += 1
        for check in ENTRY_CHECKS:
            problems += [Problem(label, message.lineno, f"{text}: {source!r}") for text in check(message)]
    # Babel's own checkers (python-format placeholders, plural forms).
    for message, errors in catalog.check():
        for error in errors:
            problems.append(Problem(label, message.lineno, f"{error}"))
    for key in template_keys.keys() - catalog_keys:
        untranslated += 1
        problems.append(Problem(label, 0, f"missing entry {key[0]!r}; run `handouts update`"))
    total = translated + fuzzy + untranslated
    return LocaleReport(locale, label, total, translated, fuzzy, untranslated, sorted(set(problems)))


def check_locale(project: Project, locale: str) -> LocaleReport:
    """Check one translated locale: GNU msgfmt's verdict, then every entry check.

    A file Babel cannot read at all becomes a report holding only its errors.
    """
    path = project.po_path(locale)
    label = project.rel(path)
    try:
        syntax = msgfmt_problems(path, label) if path.exists() else []
        report = check_catalog(load_catalog(project, locale, strict=False), read_template(project),
                               label, locale)
    except ProblemsError as exc:
        return LocaleReport(locale, label, 0, 0, 0, 0, sorted(set(syntax + exc.problems)))
    except HandoutError as exc:
        return LocaleReport(locale, label, 0, 0, 0, 0, [Problem(label, 0, str(exc).split(": ", 1)[-1])])
    return replace(report, problems=sorted(set(syntax + report.problems)))


def check_project(project: Project, locales: tuple[str, ...] | None = None) -> list[LocaleReport]:
    """Check every published translated locale (or the ones named)."""
    return [check_locale(project, loc) for loc in locales or project.settings.translated_locales]
