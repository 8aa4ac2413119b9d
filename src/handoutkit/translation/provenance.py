"""What English a translation was made for: locales/<locale>/translated-from.yaml.

GNU gettext records a changed English string as `#, fuzzy` with the old English
under `#|`, but both live in the PO file, and PO editors drop them: Poedit clears
`#|` when a translator unticks "Needs work", and a translator who unticks it
without re-translating prints the old safety line as if it were current.

So `handouts update` keeps its own record beside the catalog, in a file no PO
editor opens: for each translation whose English changed since it was written,
the English it was made for and a hash of the translation as it stood. The
record holds while the translation is unchanged; a translator who edits the
translation has re-translated it (the next `update` drops the record), and
`handouts confirm-translation` drops it when a translator checked that the
translation still says what the new English says. Until then `handouts check`
reports the entry as an error in every locale, reviewed or not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog, Message

from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write

PROVENANCE_FILE = "translated-from.yaml"
HEADER = ("# Written by `handouts update`: translations made for English that has changed since.\n"
          "# Each holds while its translation is unchanged. Re-translate the entry in the PO file, or, once a\n"
          "# translator has checked that it says what the new English says, `handouts confirm-translation`.\n")


@dataclass(frozen=True)
class Provenance:
    context: str | None
    english: str  # the msgid now
    translated_from: str  # the English the translation was made for
    translation_sha256: str  # the translation as it stood when the English changed

    @property
    def key(self) -> tuple[str | None, str]:
        return self.context, self.english


def translation_hash(message: Message) -> str:
    return hashlib.sha256(str(message.string).encode("utf-8")).hexdigest()


def provenance_path(project: Project, locale: str) -> Path:
    return project.locales_dir / locale / PROVENANCE_FILE


def read_provenance(project: Project, locale: str) -> dict[tuple[str | None, str], Provenance]:
    path = provenance_path(project, locale)
    if not path.exists():
        return {}
    label = project.rel(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProblemsError([Problem(label, mark.line + 1 if mark else 1,
                                     "unreadable record of changed English: "
                                     f"{getattr(exc, 'problem', None) or exc}; restore it from version control")]) from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ProblemsError([Problem(label, 1, "expected 'entries:' as a list")])
    records = {}
    for number, item in enumerate(entries, 1):
        fields = ("english", "translated_from", "translation_sha256")
        if not isinstance(item, dict) or any(not isinstance(item.get(f), str) for f in fields):
            raise ProblemsError([Problem(label, 1, f"entry {number}: expected {', '.join(fields)}")])
        record = Provenance(item.get("context"), item["english"], item["translated_from"], item["translation_sha256"])
        records[record.key] = record
    return records


def write_provenance(project: Project, locale: str, records: dict[tuple[str | None, str], Provenance]) -> bool:
    """Write the record (or remove it when empty); True if the file changed."""
    path = provenance_path(project, locale)
    if not records:
        if path.exists():
            path.unlink()
            return True
        return False
    entries = [{**({"context": r.context} if r.context else {}), "english": r.english,
                "translated_from": r.translated_from, "translation_sha256": r.translation_sha256}
               for r in sorted(records.values(), key=lambda r: (r.english, r.context or ""))]
    data = (HEADER + yaml.safe_dump({"entries": entries}, sort_keys=False, allow_unicode=True, width=100)).encode()
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
    return True


def refreshed(old: dict[tuple[str | None, str], Provenance], merged: Catalog) -> dict[tuple[str | None, str], Provenance]:
    """The records after a merge: `merged` is the catalog msgmerge wrote (its `#|` previous msgids read).

    A record is kept while its translation is unchanged; a fuzzy entry whose English changed
    gets one, naming the English its translation was made for (the oldest, when it changed twice).
    """
    records = {}
    for message in merged:
        if not message.id or not message.string:
            continue
        key = (message.context, str(message.id))
        digest = translation_hash(message)
        record = old.get(key)
        if record is not None and record.translation_sha256 == digest:
            records[key] = record
            continue
        previous = message.previous_id[0] if message.previous_id else None
        if message.fuzzy and previous and previous != message.id:
            earlier = old.get((message.context, previous))
            made_for = earlier.translated_from if earlier and earlier.translation_sha256 == digest else previous
            records[key] = Provenance(message.context, str(message.id), made_for, digest)
    return records


def changed_english(catalog: Catalog, records: dict[tuple[str | None, str], Provenance],
                    label: str) -> list[Problem]:
    """Translations printed for English that has changed since they were made (fuzzy ones are errors already)."""
    problems = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        record = records.get((message.context, str(message.id)))
        if record and record.translated_from != message.id and record.translation_sha256 == translation_hash(message):
            problems.append(Problem(label, message.lineno, f"translated for older English {record.translated_from!r}, "
                                                           f"the English is now {str(message.id)!r}: re-translate it, "
                                                           "or confirm it with `handouts confirm-translation`"))
    return problems


def confirm(project: Project, locale: str, catalog: Catalog, english: tuple[str, ...] = ()) -> list[Provenance]:
    """Drop the records of the named English strings (all of them when none is named): a translator
    checked that each translation says what the English says now. Returns what was confirmed."""
    records = read_provenance(project, locale)
    current = {(m.context, str(m.id)): m for m in catalog if m.id}
    open_records = {key: r for key, r in records.items()
                    if key in current and translation_hash(current[key]) == r.translation_sha256}
    if english:
        unknown = [text for text in english if not any(r.english == text for r in open_records.values())]
        if unknown:
            raise HandoutError("; ".join(f"{locale}: no translation waiting for confirmation has the English {t!r}"
                                         for t in unknown))
    chosen = [r for r in open_records.values() if not english or r.english in english]
    write_provenance(project, locale, {key: r for key, r in records.items() if r not in chosen})
    return chosen
