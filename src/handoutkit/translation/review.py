"""Review status: is a locale's translation checked by a qualified medical translator?

A machine draft is not a reviewed translation. `handouts review LOCALE --by
NAME` records who reviewed it, when, and a fingerprint of the reviewed
strings in locales/<locale>/review.yaml. When any translated string changes
afterwards the fingerprint no longer matches and the locale is a draft again:
its PDFs carry the draft notice until the next review.

Safety-critical entries (marked `SAFETY-CRITICAL` in the POT) need more: each
has its own record in locales/<locale>/back-translations.yaml, with the
reviewer, the date, the translation reviewed and the reviewer's
back-translation into English. A record holds only while the English and the
translation are what was reviewed, so a change to one line reopens only that
line. The draft notice stays while any safety-critical entry is open.
`handouts back-translation-sheet LOCALE` writes the sheet the bilingual
reviewer fills in; `handouts review LOCALE --by NAME --back-translations
SHEET` records it.

The review record is signed with the reviewer's own SSH key (`--key`, see
content/signatures.py) in the namespace `handouts-review-<locale>`, and covers
the back-translation records as they stood (their hash). An unsigned record, a
key not allowed that locale in handouts/approvers, or an edit to either file
after signing leaves the locale a draft, and `problem` says why.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, replace
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog, Message

from handoutkit.content.handouts import SAFETY_MARK
from handoutkit.content.settings import Project
from handoutkit.content.signatures import (
    APPROVERS_FILE,
    SIGNATURE_FIELD,
    dump_record,
    review_namespace,
    sign,
    verify,
)
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write
from handoutkit.translation.extract import current_template, template_inputs
from handoutkit.translation.meaning import (
    COPY_MIN_WORDS,
    disagreements,
    normalized,
    not_a_back_translation,
)

REVIEW_FILE = "review.yaml"
BACK_TRANSLATIONS_FILE = "back-translations.yaml"
SHEET_COLUMNS = ("context", "english", "translation", "back_translation")
NOTE_COLUMN = "coordinator_note"  # optional: a coordinator confirms a disputed row (who and why)


@dataclass(frozen=True)
class ReviewState:
    # "source", "reviewed", "draft" (never reviewed), "stale" (changed since review) or
    # "pending" (reviewed, but a safety-critical entry has no current back-translation record)
    status: str
    reviewed_by: str | None = None
    reviewed_on: str | None = None
    safety_open: int = 0  # safety-critical entries without a current back-translation record
    disputed: tuple[Problem, ...] = ()  # rows of the sheet just recorded whose back-translation disagrees
    problem: str = ""  # a review record exists but does not count (signature): the status is "draft"


def fingerprint(catalog: Catalog) -> str:
    """A hash of every printable (translated, not fuzzy) string of a catalog."""
    digest = hashlib.sha256()
    entries = sorted((m.context or "", str(m.id), str(m.string))
                     for m in catalog if m.id and m.string and not m.fuzzy)
    for entry in entries:
        digest.update("\x1f".join(entry).encode() + b"\x1e")
    return digest.hexdigest()


def entry_key(context: str | None, msgid: str) -> str:
    return hashlib.sha256(f"{context or ''}\x04{msgid}".encode()).hexdigest()[:16]


def entry_fingerprints(catalog: Catalog) -> dict[str, str]:
    """entry -> a hash of its printable translation: what a re-reviewer compares, one entry at a time."""
    return {entry_key(m.context, str(m.id)): hashlib.sha256(str(m.string).encode()).hexdigest()[:16]
            for m in catalog if m.id and m.string and not m.fuzzy}


def _back_translations_sha256(project: Project, locale: str) -> str:
    path = back_translations_path(project, locale)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def verify_review(project: Project, locale: str, record: dict) -> str:
    """Why a review record does not count (empty when its signature holds and the back-translation
    records are the ones it signed)."""
    approvers = project.handouts_dir / APPROVERS_FILE
    checked = verify(record, review_namespace(locale), approvers, project.rel(approvers))
    if checked.ok and record.get("back_translations_sha256", "") != _back_translations_sha256(project, locale):
        return f"{project.rel(back_translations_path(project, locale))} changed after the review was signed"
    return checked.problem


def read_review_record(project: Project, locale: str) -> dict | None:
    path = review_path(project, locale)
    if not path.exists():
        return None
    try:
        record = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HandoutError(f"{project.rel(path)}: unreadable review record ({exc})") from None
    if not isinstance(record, dict):
        raise HandoutError(f"{project.rel(path)}:1: expected the review record as a mapping "
                           "(reviewed_by, reviewed_on, strings_sha256); run `handouts review` again")
    return record


def changed_since_review(project: Project, locale: str, catalog: Catalog) -> list[Message] | None:
    """The printable entries whose translation is new or changed since the recorded review, in file
    order; None when there is no review, or it predates per-entry fingerprints."""
    record = read_review_record(project, locale)
    if record is None or not isinstance(record.get("entries"), dict):
        return None
    before = record["entries"]
    now = entry_fingerprints(catalog)
    keys = {key for key, value in now.items() if before.get(key) != value}
    return [m for m in catalog if m.id and entry_key(m.context, str(m.id)) in keys]


def review_path(project: Project, locale: str) -> Path:
    return project.locales_dir / locale / REVIEW_FILE


def review_inputs(project: Project, locale: str) -> list[Path]:
    """What review_state reads: the review record, the back-translation records, the template, and
    who may sign (handouts/approvers)."""
    return [review_path(project, locale), back_translations_path(project, locale), *template_inputs(project),
            project.handouts_dir / APPROVERS_FILE]


def review_state(project: Project, locale: str, catalog: Catalog | None) -> ReviewState:
    if locale == project.settings.source_locale or catalog is None:
        return ReviewState("source")
    open_count = len(open_safety_entries(project, locale, catalog))
    record = read_review_record(project, locale)
    if record is None:
        return ReviewState("draft", safety_open=open_count)
    if problem := verify_review(project, locale, record):
        return ReviewState("draft", safety_open=open_count, problem=problem)
    status = "reviewed" if record.get("strings_sha256") == fingerprint(catalog) else "stale"
    if status == "reviewed" and open_count:
        status = "pending"
    return ReviewState(status, record.get("reviewed_by"), str(record.get("reviewed_on", "")) or None, open_count)


def record_review(project: Project, locale: str, catalog: Catalog, by: str, key: Path,
                  today: dt.date | None = None, back_translations: list["SheetRow"] = (),
                  sheet_label: str = "the sheet") -> ReviewState:
    """Record, signed with the private key `key`, that `by` reviewed the current strings of a complete
    locale, and the back-translations of safety-critical entries from a filled-in sheet. Nothing is
    written unless handouts/approvers allows that key to review this locale."""
    by = " ".join(by.split())
    if not by:
        raise HandoutError("--by needs the reviewer's name")
    on = (today or dt.date.today()).isoformat()
    record = {"reviewed_by": by, "reviewed_on": on, "strings_sha256": fingerprint(catalog),
              "entries": entry_fingerprints(catalog)}
    approvers = project.handouts_dir / APPROVERS_FILE
    # A key that may not sign this review is refused before anything is written.
    trial = {**record, SIGNATURE_FIELD: sign(record, key, review_namespace(locale))}
    if not (checked := verify(trial, review_namespace(locale), approvers, project.rel(approvers))).ok:
        raise HandoutError(f"{key}: not recorded: {checked.problem}; a clinic adds a reviewer's public key "
                           "to handouts/approvers (see docs/clinicians.md)")
    disputed: list[Problem] = []
    if back_translations:
        disputed = record_back_translations(project, locale, catalog, by, on, back_translations, sheet_label)
    record["back_translations_sha256"] = _back_translations_sha256(project, locale)
    record[SIGNATURE_FIELD] = sign(record, key, review_namespace(locale))
    header = ("# Written by `handouts review`. The hash covers every translated string;\n"
              "# when one changes, the locale's PDFs show the draft notice again. `entries` holds\n"
              "# one hash per entry, so `handouts check` can name exactly the strings changed since.\n"
              "# The signature covers every other field and the back-translation records: an edit is no review.\n")
    atomic_write(review_path(project, locale),
                 (header + dump_record(record, sort_keys=True)).encode())
    return replace(review_state(project, locale, catalog), disputed=tuple(disputed))


# ---------------------------------------------------------------- safety-critical entries


@dataclass(frozen=True)
class EntryReview:
    """One safety-critical entry reviewed by a bilingual reviewer, with their back-translation."""

    context: str | None
    english: str
    translation: str  # the translation as reviewed: the record holds only while it is unchanged
    reviewed_by: str
    reviewed_on: str
    back_translation: str
    disputed: tuple[str, ...] = ()  # why the back-translation does not say what the English says
    note: str = ""  # a coordinator's confirmation that a disputed row is right after all

    @property
    def key(self) -> tuple[str | None, str]:
        return self.context, self.english

    @property
    def holds(self) -> bool:
        """A disputed record keeps the entry open (and the draft notice) until a coordinator confirms it."""
        return not self.disputed or bool(self.note)


def is_safety_critical(message: Message) -> bool:
    return any(comment.startswith(SAFETY_MARK) for comment in message.auto_comments)


def safety_keys(project: Project) -> set[tuple[str | None, str]]:
    """(msgctxt, msgid) of every safety-critical entry, from the current content (what the English marks)."""
    return {(m.context, str(m.id)) for m in current_template(project) if m.id and is_safety_critical(m)}


def back_translations_path(project: Project, locale: str) -> Path:
    return project.locales_dir / locale / BACK_TRANSLATIONS_FILE


def read_entry_reviews(project: Project, locale: str) -> dict[tuple[str | None, str], EntryReview]:
    path = back_translations_path(project, locale)
    if not path.exists():
        return {}
    label = project.rel(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HandoutError(f"{label}:1: unreadable back-translation record ({exc})") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HandoutError(f"{label}:1: expected 'entries:' as a list of reviewed entries")
    reviews = {}
    for number, item in enumerate(entries, 1):
        fields = ("english", "translation", "reviewed_by", "reviewed_on", "back_translation")
        if not isinstance(item, dict) or any(not item.get(f) for f in fields):
            raise HandoutError(f"{label}: entry {number}: expected {', '.join(fields)}")
        disputed = item.get("disputed") or ()
        if not isinstance(disputed, list) or not all(isinstance(d, str) for d in disputed):
            disputed = (str(disputed),) if disputed else ()
        review = EntryReview(item.get("context"), *(str(item[f]) for f in fields),
                             disputed=tuple(disputed), note=str(item.get("note") or ""))
        reviews[review.key] = review
    return reviews


def open_safety_entries(project: Project, locale: str, catalog: Catalog) -> list[Message]:
    """The locale's safety-critical entries with no record for their current English and translation."""
    keys = safety_keys(project)
    reviews = read_entry_reviews(project, locale)
    open_entries = []
    for message in catalog:
        key = (message.context, str(message.id))
        if not message.id or key not in keys:
            continue
        review = reviews.get(key)
        current = review is not None and not message.fuzzy and review.translation == str(message.string) \
            and review.holds
        if not current:
            open_entries.append(message)
    # An entry the content marks and the file lacks (nobody ran `update`) is open too.
    present = {(m.context, str(m.id)) for m in catalog if m.id}
    open_entries += [Message(english, context=context) for context, english in sorted(keys - present, key=str)]
    return open_entries


def write_entry_reviews(project: Project, locale: str, reviews: dict[tuple[str | None, str], EntryReview]) -> None:
    entries = [{**({"context": r.context} if r.context else {}), "english": r.english, "translation": r.translation,
                "back_translation": r.back_translation, "reviewed_by": r.reviewed_by, "reviewed_on": r.reviewed_on,
                **({"disputed": list(r.disputed)} if r.disputed else {}), **({"note": r.note} if r.note else {})}
               for r in sorted(reviews.values(), key=lambda r: (r.english, r.context or ""))]
    header = ("# Written by `handouts review --back-translations`. One record per safety-critical entry:\n"
              "# it holds while the English and the translation are what was reviewed. A `disputed`\n"
              "# record (the back-translation disagrees with the English) keeps the entry open\n"
              "# until the translation is fixed, or a coordinator's `note` confirms it.\n")
    atomic_write(back_translations_path(project, locale),
                 (header + yaml.safe_dump({"entries": entries}, sort_keys=False, allow_unicode=True,
                                          width=100)).encode())


@dataclass(frozen=True)
class SheetRow:
    line: int
    context: str | None
    english: str
    translation: str
    back_translation: str
    note: str = ""  # optional fifth column, coordinator_note: confirms a disputed row


def back_translation_sheet(project: Project, locale: str, catalog: Catalog, every: bool = False) -> tuple[bytes, int]:
    """The CSV a bilingual reviewer fills in: context | English | translation | empty back-translation.

    Only the open safety-critical entries, unless `every`. Opens in any spreadsheet.
    """
    entries = open_safety_entries(project, locale, catalog)
    if every:
        keys = safety_keys(project)
        entries = [m for m in catalog if m.id and (m.context, str(m.id)) in keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    for message in entries:
        writer.writerow([message.context or "", str(message.id), "" if message.fuzzy else str(message.string), ""])
    return buffer.getvalue().encode("utf-8"), len(entries)


def read_sheet(path: Path, label: str) -> list[SheetRow]:
    """The rows of a filled-in sheet that have a back-translation."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise HandoutError(f"{label}: cannot read the back-translation sheet ({exc})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header[:4]) != SHEET_COLUMNS:
        raise HandoutError(f"{label}:1: expected the columns {', '.join(SHEET_COLUMNS)}; "
                           f"write a sheet with `handouts back-translation-sheet`")
    has_note_column = len(header) > 4 and header[4].strip() == NOTE_COLUMN
    rows = []
    for record in reader:
        if len(record) < 4:
            if any(cell.strip() for cell in record):
                raise ProblemsError([Problem(label, reader.line_num, "expected 4 columns: "
                                                                     f"{', '.join(SHEET_COLUMNS)}")])
            continue
        context, english, translation, back = record[:4]
        note = " ".join(record[4].split()) if len(record) > 4 and has_note_column else ""
        if back.strip():
            rows.append(SheetRow(reader.line_num, context or None, english, translation, " ".join(back.split()),
                                 note))
    return rows


def record_back_translations(project: Project, locale: str, catalog: Catalog, by: str, on: str,
                             rows: list[SheetRow], label: str = "the sheet") -> list[Problem]:
    """Verify each back-translated row against the English, then record it; returns the disputed rows.

    Refused (nothing recorded): a row of another entry or of a changed
    translation, placeholder text, the same entry twice, the same
    back-translation for different English, and a sheet whose rows are mostly
    copies of the English (the column was pasted). A row that disagrees with
    the English (meaning.disagreements) is recorded as disputed: the entry
    stays open and the draft notice stays, unless the row's coordinator_note
    confirms it. A lone copy of a longer English sentence is disputed too.
    """
    keys = safety_keys(project)
    current = {(m.context, str(m.id)): m for m in catalog if m.id}
    problems = []
    reviews = read_entry_reviews(project, locale)
    seen: dict[tuple[str | None, str], int] = {}
    texts: dict[str, SheetRow] = {}
    copies = [row for row in rows if normalized(row.back_translation) == normalized(row.english)
              and len(row.english.split()) >= COPY_MIN_WORDS]
    pasted = len(rows) >= 3 and len(copies) * 2 > len(rows)
    disputed: list[Problem] = []
    for row in rows:
        key = (row.context, row.english)
        message = current.get(key)
        junk = not_a_back_translation(row.english, row.back_translation)
        same = texts.get(row.back_translation.lower())
        if key not in keys or message is None:
            problems.append(Problem(label, row.line, f"not a safety-critical entry of {locale}: {row.english!r}"))
        elif message.fuzzy or str(message.string) != row.translation:
            problems.append(Problem(label, row.line, f"the translation changed since the sheet was written: "
                                                     f"{row.english!r}; write a new sheet"))
        elif key in seen:
            problems.append(Problem(label, row.line, f"the same entry as line {seen[key]}: {row.english!r}"))
        elif junk and not junk.startswith("the back-translation is a copy"):
            problems.append(Problem(label, row.line, f"{junk}: {row.english!r}"))
        elif same is not None and same.english != row.english:
            problems.append(Problem(label, row.line, f"the same back-translation as line {same.line} "
                                                     f"({same.english!r}), for another English: {row.english!r}"))
        elif pasted and row in copies:
            problems.append(Problem(label, row.line, f"{len(copies)} of {len(rows)} back-translations are copies "
                                                     f"of the English (was the column pasted?): {row.english!r}"))
        else:
            reasons = disagreements(row.english, row.back_translation)
            if row in copies:
                reasons.append("word for word the English: confirm it was written from the translation alone")
            if reasons:
                confirmed = f" (confirmed by the coordinator: {row.note})" if row.note else \
                    "; recorded as disputed, the entry stays open and the draft notice stays"
                disputed.append(Problem(label, row.line, f"back-translation disagrees with the English: "
                                                         f"{'; '.join(reasons)}{confirmed}: {row.english!r}",
                                        "warning"))
            reviews[key] = EntryReview(row.context, row.english, row.translation, by, on, row.back_translation,
                                       tuple(reasons), row.note if reasons else "")
        seen.setdefault(key, row.line)
        texts.setdefault(row.back_translation.lower(), row)
    if problems:
        raise ProblemsError(problems)
    write_entry_reviews(project, locale, reviews)
    return disputed
