"""The prepared locale: the only way a command or the server gets a language.

A locale's PO file is read once. Everything else comes from those bytes: GNU
msgfmt's verdict (on the same bytes, not the file), the checks, the review
state, the font coverage, and the compiled translations that renderers use.
Build workers receive the compiled translations, never a path to read again,
so a file edited during a build cannot print text that was not checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from babel.messages.catalog import Catalog
from babel.support import Translations

from handoutkit.content.handouts import Content, handout_texts
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import code_files, hash_files
from handoutkit.translation.catalogs import (
    MSGFMT,
    compiled,
    load_catalog,
    read_catalog_bytes,
    translations_from,
)
from handoutkit.translation.checks import LocaleReport, check_locale, declared_inputs
from handoutkit.translation.fontplan import FontPlan, coverage_problems
from handoutkit.translation.review import review_inputs, review_state


@dataclass(frozen=True)
class PreparedLocale:
    locale: str
    catalog: Catalog | None  # None for the source language, or a catalog too broken to read
    # review state: source, reviewed, draft, stale, pending; incomplete (readable, but something
    # blocks printing: the checks or the fonts), or broken (the catalog cannot be read)
    status: str
    problems: list[Problem]  # anything here blocks the locale
    inputs: str  # hash of everything the checks read
    mo: bytes = b""  # the checked translations, compiled (empty for the source language)
    report: LocaleReport | None = None  # the full check report (None when it was cached or for the source)
    reviewed_by: str | None = None
    safety_open: int = 0
    notes: list[Problem] = field(default_factory=list)  # warnings: shown, never blocking
    review_problem: str = ""  # a review record exists but does not count (ReviewState.problem)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def draft(self) -> bool:
        """The PDFs carry the draft-translation notice."""
        return self.status in ("draft", "stale", "pending")

    @cached_property
    def translations(self) -> Translations:
        return translations_from(self.mo)

    @property
    def reason(self) -> str:
        """Why the locale cannot print, in one line (for the front desk)."""
        if not self.problems:
            return ""
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{self.problems[0]}{more}"


def check_inputs(project: Project, locale: str, po_data: bytes | None = None) -> str:
    """What a locale's checks read: its catalog, glossary, review and back-translation records,
    the template, fonts, code. `po_data` is the catalog as already read (it is not read again)."""
    digest = hashlib.sha256(locale.encode())
    if po_data is not None:
        digest.update(b"po\0" + po_data + b"\0")
    catalog = [project.po_path(locale)] if po_data is None else []
    # The checks declare what they read; the review state and the font coverage are checked too.
    declared = [*catalog, *declared_inputs(project, locale), *review_inputs(project, locale),
                project.templates_dir / "fonts.yaml", project.handouts_dir / "clinic.yaml"]
    paths = [*(p for p in dict.fromkeys(declared) if p.exists()), *code_files()]
    if locale == project.settings.source_locale:
        paths += sorted(project.handouts_dir.glob("*.yaml"))  # the source language prints the YAML itself
    hash_files(digest, paths)
    return digest.hexdigest()


def locale_texts(project: Project, locale: str, catalog: Catalog | None,
                 content: Content) -> list[tuple[str, int, str]]:
    """(file, line, text) of everything a locale prints, for the font coverage check."""
    if catalog is None:
        return [(h.path, t.line, t.value) for h in content.handouts for t in handout_texts(h)]
    label = project.rel(project.po_path(locale))
    return [(label, m.lineno, str(m.string)) for m in catalog if m.id and m.string and not m.fuzzy]


def prepare_locale(project: Project, locale: str, content: Content, plan: FontPlan | None = None,
                   passed: str | None = None) -> PreparedLocale:
    """Read, check and compile one locale.

    `plan` adds the font coverage check (the build and the server need it).
    `passed` is the input hash of the last time this locale passed every check:
    when its inputs are the same, the checks are not run again.
    """
    if locale == project.settings.source_locale:
        inputs = check_inputs(project, locale)
        problems = [] if plan is None or inputs == passed else \
            coverage_problems(plan, locale, locale_texts(project, locale, None, content))
        return PreparedLocale(locale, None, "source", problems, inputs)
    label = project.rel(project.po_path(locale))
    try:
        data = read_catalog_bytes(project, locale)
    except HandoutError as exc:
        return PreparedLocale(locale, None, "broken", [Problem(label, 1, str(exc).split(": ", 1)[-1])], "")
    inputs = check_inputs(project, locale, data)
    try:
        catalog = load_catalog(project, locale, strict=False, data=data)
    except ProblemsError as exc:
        report = check_locale(project, locale, None, data)
        return PreparedLocale(locale, None, "broken", report.errors or exc.problems, inputs, report=report)
    report = None
    problems: list[Problem] = []
    if inputs != passed:
        report = check_locale(project, locale, catalog, data)
        problems = list(report.errors)
        if plan is not None:  # the same answer in `check` and the build: fonts block printing too
            problems += coverage_problems(plan, locale, locale_texts(project, locale, catalog, content))
    # The review state even of a locale that cannot print: its safety-critical entries are still open.
    state = review_state(project, locale, catalog)
    notes = [p for p in report.problems if p.severity != "error"] if report else []
    if problems:
        return PreparedLocale(locale, catalog, "incomplete", problems, inputs, b"", report,
                              state.reviewed_by, state.safety_open, notes, state.problem)
    return PreparedLocale(locale, catalog, state.status, [], inputs, compiled(catalog), report,
                          state.reviewed_by, state.safety_open, notes, state.problem)


def readable_catalog(prepared: PreparedLocale) -> Catalog:
    """The catalog of a prepared locale, for a command that works on a locale even while it cannot
    print (the preview, the back-translation sheet, confirm-translation, the exports).

    Refused only where a strict read of the file was refused: when Babel cannot read it, or GNU
    msgfmt rejects it (the findings of `read_catalog(strict=True)`, found here on the same bytes).
    """
    if prepared.status == "source":
        raise HandoutError(f"'{prepared.locale}' is the source language: it prints the YAML, it has no catalog")
    found = prepared.report.problems if prepared.report else []
    if rejected := [p for p in found if p.severity == "error" and p.message.startswith(MSGFMT)]:
        raise ProblemsError(rejected, "catalog error")
    if prepared.catalog is None:
        raise ProblemsError(prepared.problems, "catalog error")
    return prepared.catalog


def prepare_all(project: Project, content: Content, plan: FontPlan | None = None,
                locales: tuple[str, ...] | None = None) -> dict[str, PreparedLocale]:
    """Every published locale (or the ones named), prepared."""
    return {loc: prepare_locale(project, loc, content, plan) for loc in locales or project.settings.locales}
