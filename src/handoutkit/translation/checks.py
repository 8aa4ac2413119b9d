"""Stage 4, checks: is a locale complete and safe to print?

One registry, `CHECKS`: every check of the project in one shape (content/checking.py),
Babel-checker style. Entry checks look at one translated entry, file checks at the
whole catalog as read once (and declare any file they read besides the PO file
and the template, so a check's inputs are part of the cache key the moment it is
registered); the handout and library checks of `handouts lint` (content/lint.py)
are registered here too. `check_locale` runs the entry and file checks and
locates each finding at `locales/<locale>/LC_MESSAGES/handouts.po:<line>`.
Errors block printing; warnings are shown to translators.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from yaml.nodes import SequenceNode

from handoutkit.content.checking import Check, of_scope, run_checks
from handoutkit.content.lint import LINT_CHECKS
from handoutkit.content.settings import Project
from handoutkit.content.syntax import (
    DIGITS,
    EMPHASIS,
    PLACEHOLDER,
    numbers,
    placeholders,
    without_placeholders,
)
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.translation.catalogs import (
    encoding_problems,
    load_catalog,
    msgfmt_problems,
)
from handoutkit.translation.extract import current_template, template_inputs, template_key
from handoutkit.translation.locales import native_digits
from handoutkit.translation.provenance import (
    PROVENANCE_FILE,
    changed_english,
    read_provenance,
)

# Characters that change what is printed without being seen: a single U+202E
# prints a warning sign backwards. Zero-width (non-)joiners are spelling in
# Persian, Nepali and other scripts, so U+200C/U+200D pass inside a word (between
# letters or the marks of a letter, such as the virama in Devanagari र्‍य).
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
JOINERS = "\u200c\u200d"
HTML_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
TOO_LONG = 3  # a translation more than 3x the English is probably not a translation of it

@dataclass(frozen=True)
class EntryRules:
    """What a locale allows beyond the defaults (from clinic.yaml)."""

    native_digits: str = ""  # digits allowed besides 0-9, compared by value


EntryCheck = Callable[[Message, EntryRules], list[str]]


def _text(message: Message) -> tuple[str, str]:
    source = message.id if isinstance(message.id, str) else message.id[0]
    target = message.string if isinstance(message.string, str) else message.string[0]
    return source, target or ""


def check_placeholders(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
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


def check_numbers(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """Numbers are safety data: every number in the English appears with the same value.

    Digits are 0-9 unless the locale opted in to its native digits in
    clinic.yaml (`native_digits:`); even then 3 -> ٨ is always an error.
    """
    source, target = _text(message)
    digits = "".join(DIGITS.findall(without_placeholders(target)))
    foreign = sorted({c for c in digits if not "0" <= c <= "9" and c not in rules.native_digits})
    if foreign:
        allowed = "0-9" + (f" or {rules.native_digits}" if rules.native_digits else "")
        return [f"digits {' '.join(foreign)} are not allowed here: write numbers with {allowed}"]
    expected, found = numbers(source), numbers(target)
    if expected == found:
        return []
    return [f"numbers differ: English has {sorted(expected.elements()) or 'none'}, "
            f"translation has {sorted(found.elements()) or 'none'} "
            "(write the same numbers, with the same value)"]


def check_emphasis(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """**bold** markers come in pairs and as many as in the English."""
    source, target = _text(message)
    if target.count(EMPHASIS) % 2:
        return ["unbalanced ** emphasis marker: every ** needs a closing **"]
    if target.count(EMPHASIS) != source.count(EMPHASIS):
        return [f"emphasis differs: English has {source.count(EMPHASIS) // 2} **bold** "
                f"part(s), translation has {target.count(EMPHASIS) // 2}"]
    return []


def check_invisible(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """Bidi controls and invisible characters print text backwards or hide it."""
    _, target = _text(message)
    found = []
    for match in INVISIBLE.finditer(target):
        char, at = match.group(), match.start()
        if char in JOINERS and 0 < at < len(target) - 1 and \
                all(unicodedata.category(c)[0] in "LM" for c in (target[at - 1], target[at + 1])):
            continue  # a joiner inside a word is spelling, not a trick
        found.append(f"U+{ord(char):04X} {unicodedata.name(char, 'control')}")
    if not found:
        return []
    return [f"invisible or direction-changing character(s) {', '.join(dict.fromkeys(found))}: delete them "
            "(the renderer sets the direction of numbers and phone numbers itself)"]


def check_markup_syntax(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """HTML entities print as typed (&nbsp; is not a space here), and braces belong to placeholders."""
    _, target = _text(message)
    problems = []
    if entities := HTML_ENTITY.findall(target):
        problems.append(f"HTML entity {', '.join(dict.fromkeys(entities))} would be printed as typed: "
                        "type the character itself")
    stray = PLACEHOLDER.sub("", target)
    if "{" in stray or "}" in stray:
        problems.append("unbalanced { or }: braces only go around a placeholder, such as {clinic_phone}")
    return problems


def check_length(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """A translation more than 3x the English is probably the translation of another entry."""
    source, target = _text(message)
    if len(source) >= 10 and len(target) > TOO_LONG * len(source):
        return [f"translation is {len(target) / len(source):.1f}x as long as the English: "
                "is it the translation of this entry?"]
    return []


def check_mojibake(message: Message, rules: EntryRules = EntryRules()) -> list[str]:
    """UTF-8 read as ISO-8859-1 or Windows-1252 ("RefÃ¨" for "Refè"), and the control characters it leaves.

    A file saved as UTF-8 under a header that said ISO-8859-1 comes back from a
    merge with every accented letter double-encoded; where that yields C1
    controls (U+0080-U+009F) the renderer has no glyph for them.
    """
    _, target = _text(message)
    found = []
    controls = sorted({c for c in target if unicodedata.category(c) == "Cc" and c not in "\n\t"})
    if controls:
        found.append(f"control character(s) {', '.join(f'U+{ord(c):04X}' for c in controls)} cannot be printed")
    if any(ord(c) > 127 for c in target):
        for codec in ("latin-1", "cp1252"):
            try:
                repaired = target.encode(codec).decode("utf-8")
            except UnicodeError:
                continue
            if repaired != target:
                found.append(f"the text is double-encoded (UTF-8 read as {codec.upper()}): it should read "
                             f"{repaired[:60]!r}; restore the file from before the faulty save, or convert it with "
                             "`iconv -f UTF-8 -t ISO-8859-1` and check each entry")
                break
    return found


@dataclass(frozen=True)
class EntryContext:
    """What an entry check looks at: one translated, current entry of a catalog."""

    message: Message
    rules: EntryRules
    label: str  # the PO file, as problems name it


def on_entry(name: str, severity: str, check: EntryCheck) -> Check:
    """An entry check written as `(message, rules) -> findings`, in the registry's shape: each
    finding is located at the entry's line and followed by its English."""
    def run(context: EntryContext) -> list[Problem]:
        source = _text(context.message)[0]
        return [Problem(context.label, context.message.lineno, f"{text}: {source!r}", severity)
                for text in check(context.message, context.rules)]
    return Check(name, severity, "entry", run)


# The findings that say a string is not translated yet (counted as fuzzy or untranslated, not
# as "other errors": `check` and `stats` count them the same way).
NOT_TRANSLATED = ("untranslated: ", "fuzzy (needs review, not printed): ", "no translation in ")


def is_not_translated(problem: Problem) -> bool:
    return problem.message.startswith(NOT_TRANSLATED)


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


def check_catalog(catalog: Catalog, template: Catalog, label: str, locale: str,
                  rules: EntryRules = EntryRules()) -> LocaleReport:
    """Count what is translated against the current template (stale, fuzzy, untranslated and
    missing entries are findings too), and run the entry checks on every translated entry."""
    problems: list[Problem] = []
    template_keys = {(t.id, t.context): t for t in template if t.id}
    catalog_keys = {(m.id, m.context) for m in catalog if m.id}
    messages = [m for m in catalog if m.id]
    translated = fuzzy = untranslated = 0
    for message in messages:
        if (message.id, message.context) not in template_keys:
            problems.append(Problem(label, message.lineno, f"stale entry, no longer in the content: "
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
        problems += run_checks(CHECKS, "entry", EntryContext(message, rules, label))
    for key in template_keys.keys() - catalog_keys:
        untranslated += 1
        where, line = template_keys[key].locations[0] if template_keys[key].locations else (label, 0)
        problems.append(Problem(where, line, f"no translation in {label} (the English changed or is new, "
                                             f"and would print in English): {key[0]!r}; run `handouts update`, "
                                             f"then translate it"))
    total = translated + fuzzy + untranslated
    return LocaleReport(locale, label, total, translated, fuzzy, untranslated, sorted(set(problems)))


# ---------------------------------------------------------------- whole-file checks


def check_header(catalog: Catalog, label: str, locale: str) -> list[Problem]:
    """The Language and Plural-Forms headers must match the locale (CLDR, through Babel).

    A Plural-Forms that differs from CLDR only matters once the catalog has a
    plural entry: GNU msginit writes nplurals=2 for es and pt, which is harmless
    without one, so then it is a warning.
    """
    problems = []
    if str(catalog.locale) != str(Locale.parse(locale)) and catalog.locale_identifier != locale:
        problems.append(Problem(label, 1, f"header Language is {catalog.locale_identifier!r}, "
                                          f"expected {locale!r}"))
    expected = get_plural(locale)
    if catalog.num_plurals != expected.num_plurals:
        has_plurals = any(m.id and m.pluralizable for m in catalog)
        problems.append(Problem(label, 1, f"header Plural-Forms has nplurals={catalog.num_plurals}; "
                                          f"{locale} needs nplurals={expected.num_plurals} ({expected.plural_expr})",
                                "error" if has_plurals else "warning"))
    return problems


def check_obsolete(catalog: Catalog, label: str) -> list[Problem]:
    """Obsolete (#~) entries are kept for reference only; they are never printed."""
    return [Problem(label, m.lineno, f"obsolete entry kept for reference: {_text(m)[0]!r}", "warning")
            for m in catalog.obsolete.values()]


# Translate Toolkit's maintained pofilter checks: (name, severity).
TRANSLATE_TOOLKIT_FILTERS = {
    "urls": "error", "emails": "error", "xmltags": "error", "escapes": "error", "newlines": "error",
    "tabs": "error", "unchanged": "warning", "long": "warning", "short": "warning",
    "doublespacing": "warning", "startwhitespace": "warning", "endwhitespace": "warning",
}


def translate_toolkit_problems(label: str, locale: str, catalog: Catalog, data: bytes) -> list[Problem]:
    """Run Translate Toolkit's filters (as `pofilter` does) on every translated, current entry of the
    PO file's bytes as read (Translate Toolkit parses them itself: its units are what pofilter sees)."""
    from translate.filters import checks
    from translate.storage import pypo

    lines = {(m.context, _text(m)[0]): m.lineno for m in catalog if m.id}
    checker = checks.StandardChecker(checks.CheckerConfig(targetlanguage=locale.split("_")[0]),
                                     limitfilters=list(TRANSLATE_TOOLKIT_FILTERS))
    problems = []
    store = pypo.pofile.parsestring(data)
    for unit in store.units:
        if unit.isheader() or unit.isobsolete() or unit.isfuzzy() or not unit.istranslated():
            continue
        context = unit.getcontext() or None
        for name, detail in checker.run_filters(unit).items():
            message = detail.get("message", detail) if isinstance(detail, dict) else detail
            problems.append(Problem(label, lines.get((context, unit.source), 0),
                                    f"{name}: {str(message).strip()}: {unit.source!r}",
                                    TRANSLATE_TOOLKIT_FILTERS[name]))
    return problems


GLOSSARY_FILE = "glossary.yaml"


def load_glossary(project: Project, locale: str) -> dict[str, tuple[str, ...]]:
    """locales/<locale>/glossary.yaml: English term -> the translation(s) it must use."""
    path = project.locales_dir / locale / GLOSSARY_FILE
    if not path.exists():
        return {}
    label = project.rel(path)
    node, problems = read_yaml(path, label)
    reader = NodeReader(label, problems)
    terms: dict[str, tuple[str, ...]] = {}
    if node is not None:
        keys = reader.mapping(node, "the glossary", ("terms",)) or {}
        for term, value in (reader.pairs(keys["terms"], "terms") or {}).items() if "terms" in keys else ():
            if isinstance(value, SequenceNode):
                forms = tuple(f for f in (reader.string(v, "a translation") for v in value.value) if f)
            else:
                forms = tuple(f for f in [reader.string(value, "a translation")] if f)
            terms[term] = forms
    if reader.problems:
        raise ProblemsError(reader.problems)
    return terms


def check_glossary(catalog: Catalog, glossary: dict[str, tuple[str, ...]], label: str) -> list[Problem]:
    """Where the English uses a glossary term, the translation uses the agreed translation."""
    problems = []
    for message in catalog:
        source, target = _text(message)
        if not message.id or not target or message.fuzzy:
            continue
        for term, forms in glossary.items():
            if re.search(rf"\b{re.escape(term)}\b", source, re.IGNORECASE) and \
                    not any(form.lower() in target.lower() for form in forms):
                problems.append(Problem(label, message.lineno, f"glossary: {term!r} must be translated as "
                                        f"{' or '.join(repr(f) for f in forms)}: {source!r}"))
    return problems


def committed_version(root: Path, path: Path) -> bytes | None:
    """The file as last committed to git (HEAD), or None outside a repository or for a new file."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None:
        return None
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return None
    run = subprocess.run([git, "-C", str(root), "show", f"HEAD:./{rel.as_posix()}"], capture_output=True,
                         env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "")})
    return run.stdout if run.returncode == 0 else None


def check_dropped_comments(context: "Context") -> list[Problem]:
    """A save that dropped what the committed file had: the MACHINE DRAFT header, translator comments.

    Some editors discard `#` comments on save. The machine-draft header is what
    tells a reader the file is unreviewed, and the `# back-translation ...`
    comments are what a reviewer works from: losing them silently is a loss
    nobody notices until the review. Compared with git's HEAD (no repository,
    no check).
    """
    from babel.messages.pofile import read_po

    from handoutkit.translation.catalogs import (
        MACHINE_DRAFT_COMMENT,
        for_babel,
        normalized_newlines,
    )

    before = committed_version(context.project.root, context.path)
    if before is None:
        return []
    # git's copy of the file, not the locale: the prepared locale reads what is on disk, once.
    try:
        old = read_po(io.BytesIO(for_babel(normalized_newlines(before))), charset="utf-8")
    except Exception:  # noqa: BLE001 - a broken committed file is nothing to compare with
        return []
    problems = []
    marker = MACHINE_DRAFT_COMMENT.split(":", 1)[0]
    review = context.project.locales_dir / context.locale / "review.yaml"
    if marker in (old.header_comment or "") and marker not in (context.catalog.header_comment or "") \
            and not review.exists():
        problems.append(Problem(context.label, 1, f"the {marker} header comment of the committed file is gone, "
                                "and no review is recorded: put it back (only `handouts review` ends a draft)",
                                "warning"))
    now = {(m.context, str(m.id)): m for m in context.catalog if m.id}
    dropped = [now[key] for key in ((m.context, str(m.id)) for m in old if m.id and m.user_comments)
               if key in now and not now[key].user_comments]
    if dropped:
        first = min(dropped, key=lambda m: m.lineno)
        notes = sum(1 for m in old if m.id and (m.context, str(m.id)) in {(d.context, str(d.id)) for d in dropped}
                    and any(c.startswith("back-translation") for c in m.user_comments))
        problems.append(Problem(context.label, first.lineno,
                                f"the translator comments of {len(dropped)} entries of the committed file are gone "
                                f"({notes} of them back-translation notes; this is the first): your editor may "
                                f"discard `#` comments on save; restore them from git: {str(first.id)!r}",
                                "warning"))
    return problems


def check_review_changes(context: "Context") -> list[Problem]:
    """Name every entry whose translation changed since the recorded review (per-entry fingerprints),
    so a re-reviewer looks at exactly those."""
    from handoutkit.translation.review import changed_since_review, read_review_record

    try:
        changed = changed_since_review(context.project, context.locale, context.catalog)
        record = read_review_record(context.project, context.locale) or {}
    except HandoutError:
        return []  # an unreadable review record is reported by the review state, where it belongs
    if not changed:
        return []
    by, on = record.get("reviewed_by", "?"), record.get("reviewed_on", "?")
    return [Problem(context.label, m.lineno, f"changed since the review by {by} on {on} (review it again): "
                                             f"{_text(m)[0]!r}", "warning") for m in changed]


_warning_lists: dict[str, list[tuple[str, ...]]] = {}


def warning_lists(project: Project) -> list[tuple[str, ...]]:
    """The English of the warning-sign lists, pooled per section (the 911 list and the office list
    together: a sign moved from one to the other is the swap that matters).

    Kept per process on the hash of the content's files (`template_key`, about 2 ms), as the
    current template is: the build checks every locale, and reading every handout again for
    each one was a fifth of the checks' time."""
    from handoutkit.content.handouts import load_content

    key = template_key(project)
    if key not in _warning_lists:
        pools: dict[tuple[str, ...], None] = {}
        for handout in load_content(project.handouts_dir, project.root).handouts:
            for section in handout.sections:
                items = tuple(t.value for b in section.blocks if b.callout for t in b.items if t.safety)
                if len(items) > 1:
                    pools[items] = None
        _warning_lists.clear()  # one content at a time
        _warning_lists[key] = list(pools)
    return _warning_lists[key]


def check_meaning(context: "Context") -> list[Problem]:
    """Meaning checks that need no reviewer (see translation/meaning.py and TRANSLATING.md for their
    measured false alarms): negation dropped, numbers in words, durations and units, web addresses,
    and in the warning-sign lists, items swapped between lists or cut short."""
    from handoutkit.translation import meaning

    label = context.label
    entries = {(m.context, str(m.id)): m for m in context.catalog if m.id and m.string and not m.fuzzy}
    problems = []
    for message in entries.values():
        english, target = _text(message)
        for finding, severity in ((meaning.negation_dropped(context.locale, english, target), "warning"),
                                  (meaning.number_words_added(context.locale, english, target), "warning"),
                                  (meaning.units_missing(context.locale, english, target), "error"),
                                  (meaning.domains_added(english, target), "error")):
            if finding:
                problems.append(Problem(label, message.lineno, f"{finding}: {english!r}", severity))
    median = meaning.length_ratios([_text(m) for m in entries.values()])
    for pool in warning_lists(context.project):
        present = [entries[(None, english)] for english in pool if (None, english) in entries]
        items = [_text(m) for m in present]
        for i, j in meaning.swapped_items(items, median):
            problems.append(Problem(label, present[i].lineno, f"warning signs swapped? the translation of "
                                    f"{items[i][0]!r} fits {items[j][0]!r} (line {present[j].lineno}) far better, "
                                    "and the other way round: check both", "error"))
        for message, (english, target) in zip(present, items):
            if short := meaning.cut_short(english, target, median):
                problems.append(Problem(label, message.lineno, f"{short}: {english!r}", "error"))
    return problems


@dataclass(frozen=True)
class Context:
    """What a whole-catalog check looks at: the catalog as read, never the file again."""

    project: Project
    locale: str
    label: str
    path: Path
    data: bytes | None
    catalog: Catalog


def babel_problems(context: Context) -> list[Problem]:
    """Babel's own checkers (python-format placeholders, plural forms)."""
    return [Problem(context.label, message.lineno, f"{error}")
            for message, errors in context.catalog.check() for error in errors]


# The one registry of checks, in the shape of content/checking.py: each runner takes its scope
# (`check_catalog` the entry checks, `check_locale` the file checks, `handouts lint` the handout
# and library checks). A file a check reads is part of its locale's cache key (`declared_inputs`).
CHECKS: tuple[Check, ...] = (
    on_entry("placeholders", "error", check_placeholders),
    on_entry("numbers", "error", check_numbers),
    on_entry("emphasis", "error", check_emphasis),
    on_entry("invisible", "error", check_invisible),
    on_entry("markup-syntax", "error", check_markup_syntax),
    on_entry("length", "warning", check_length),
    on_entry("mojibake", "error", check_mojibake),
    Check("header", "error", "file", lambda c: check_header(c.catalog, c.label, c.locale)),
    Check("obsolete", "warning", "file", lambda c: check_obsolete(c.catalog, c.label)),
    Check("translate-toolkit", "warning", "file",
          lambda c: translate_toolkit_problems(c.label, c.locale, c.catalog, c.data),
          needs_clean_syntax=True),
    Check("glossary", "error", "file",
          lambda c: check_glossary(c.catalog, load_glossary(c.project, c.locale), c.label),
          reads=(f"locales/{{locale}}/{GLOSSARY_FILE}",)),
    Check("dropped-comments", "warning", "file", check_dropped_comments, needs_clean_syntax=True),
    Check("review-changes", "warning", "file", check_review_changes, reads=("locales/{locale}/review.yaml",)),
    Check("meaning", "warning", "file", check_meaning, reads=("handouts/shared.yaml", "handouts/warning-signs.yaml")),
    # A translation whose English changed since it was made, whatever an editor did to `#, fuzzy`.
    Check("translated-from", "error", "file",
          lambda c: changed_english(c.catalog, read_provenance(c.project, c.locale), c.label),
          reads=(f"locales/{{locale}}/{PROVENANCE_FILE}",)),
    # Last: while a check above stops the locale with a ProblemsError (an unreadable glossary),
    # Babel's findings are left out of the report, as they always were.
    Check("babel", "error", "file", babel_problems),
    *LINT_CHECKS,
)


def declared_inputs(project: Project, locale: str) -> list[Path]:
    """Every file the checks of a locale read besides its PO file: what the current template is
    extracted from (content, templates) and what checks declare."""
    return [*template_inputs(project), *(project.root / read.format(locale=locale)
                                for check in of_scope(CHECKS, "file") for read in check.reads)]


def check_locale(project: Project, locale: str, catalog: Catalog | None = None,
                 data: bytes | None = None) -> LocaleReport:
    """Check one translated locale: GNU msgfmt's verdict, then every registered check.

    `data` is the PO file as the caller read it: every check then looks at
    those bytes, never at a file that may have changed since. A file Babel
    cannot read at all becomes a report holding only its errors.
    """
    path = project.po_path(locale)
    label = project.rel(path)
    syntax: list[Problem] = []
    if data is None and path.exists():
        data = path.read_bytes()  # read once, as it is: GNU msgfmt, Babel and Translate Toolkit get these bytes
    if early := encoding_problems(data if data is not None else b"", label):
        return LocaleReport(locale, label, 0, 0, 0, 0, early)  # UTF-16, BOM, charset, merge conflict
    rules = EntryRules(native_digits(locale) if locale in project.settings.native_digits else "")
    try:
        syntax = msgfmt_problems(path, label, data) if data is not None else []
        if catalog is None:
            catalog = load_catalog(project, locale, strict=False, data=data)
        report = check_catalog(catalog, current_template(project), label, locale, rules)
        context = Context(project, locale, label, path, data, catalog)
        clean = not any(p.severity == "error" for p in syntax)  # the finer checks need a well-formed file
        for check in of_scope(CHECKS, "file"):
            if clean or not check.needs_clean_syntax:
                syntax += check.run(context)
    except ProblemsError as exc:
        return LocaleReport(locale, label, 0, 0, 0, 0, sorted(set(syntax + exc.problems)))
    except HandoutError as exc:
        return LocaleReport(locale, label, 0, 0, 0, 0, [Problem(label, 0, str(exc).split(": ", 1)[-1])])
    return replace(report, problems=sorted(set(syntax + report.problems)))


def check_project(project: Project, locales: tuple[str, ...] | None = None) -> list[LocaleReport]:
    """Check every published translated locale (or the ones named)."""
    return [check_locale(project, loc) for loc in locales or project.settings.translated_locales]
