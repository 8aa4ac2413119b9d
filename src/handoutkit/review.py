"""Review status: is a locale's translation checked by a qualified medical translator?

A machine draft is not a reviewed translation. `handouts review LOCALE --by
NAME` records who reviewed it, when, and a fingerprint of the reviewed
strings in locales/<locale>/review.yaml. When any translated string changes
afterwards the fingerprint no longer matches and the locale is a draft again:
its PDFs carry the draft notice until the next review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog

from .errors import HandoutError
from .files import atomic_write
from .settings import Project

REVIEW_FILE = "review.yaml"


@dataclass(frozen=True)
class ReviewState:
    status: str  # "source", "reviewed", "draft" (never reviewed) or "stale" (changed since review)
    reviewed_by: str | None = None
    reviewed_on: str | None = None


def fingerprint(catalog: Catalog) -> str:
    """A hash of every printable (translated, not fuzzy) string of a catalog."""
    digest = hashlib.sha256()
    entries = sorted((m.context or "", str(m.id), str(m.string))
                     for m in catalog if m.id and m.string and not m.fuzzy)
    for entry in entries:
        digest.update("\x1f".join(entry).encode() + b"\x1e")
    return digest.hexdigest()


def review_path(project: Project, locale: str) -> Path:
    return project.locales_dir / locale / REVIEW_FILE


def review_state(project: Project, locale: str, catalog: Catalog | None) -> ReviewState:
    if locale == project.settings.source_locale or catalog is None:
        return ReviewState("source")
    path = review_path(project, locale)
    if not path.exists():
        return ReviewState("draft")
    try:
        record = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HandoutError(f"{project.rel(path)}: unreadable review record ({exc})") from None
    status = "reviewed" if record.get("strings_sha256") == fingerprint(catalog) else "stale"
    return ReviewState(status, record.get("reviewed_by"), str(record.get("reviewed_on", "")) or None)


def record_review(project: Project, locale: str, catalog: Catalog, by: str,
                  today: dt.date | None = None) -> ReviewState:
    """Record that `by` reviewed the current strings of a complete locale."""
    if not by.strip():
        raise HandoutError("--by needs the reviewer's name")
    on = (today or dt.date.today()).isoformat()
    record = {"reviewed_by": by.strip(), "reviewed_on": on, "strings_sha256": fingerprint(catalog)}
    header = ("# Written by `handouts review`. The hash covers every translated string;\n"
              "# when one changes, the locale's PDFs show the draft notice again.\n")
    atomic_write(review_path(project, locale),
                 (header + yaml.safe_dump(record, sort_keys=True, allow_unicode=True)).encode())
    return ReviewState("reviewed", by.strip(), on)
