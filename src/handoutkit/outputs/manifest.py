"""Incremental builds: what each PDF was made from, in build/manifest.json.

Each PDF's entry holds a hash of every input that can change its bytes: its
YAML and the shared sections it includes, the locale's translations of the
strings it prints (found through the PO `#:` references), the templates, CSS
and font plan, the font files, the clinic settings, the review state, and the
code of handoutkit itself. A PDF whose hash is unchanged and whose file is
still there is not rendered again, so a second `make pdf` renders nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from babel.messages.catalog import Catalog

from handoutkit.content.handouts import APPROVALS_DIR, SHARED_FILE, Handout
from handoutkit.content.settings import Project
from handoutkit.files import atomic_write, code_files, hash_files
from handoutkit.translation.fontplan import FontPlan

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Entry:
    inputs: str  # sha256 of every input
    pages: int


def common_inputs(project: Project, plan: FontPlan) -> str:
    """What every PDF depends on: templates, clinic settings, fonts, and the tool's code."""
    digest = hashlib.sha256()
    hash_files(digest, [p for p in project.templates_dir.rglob("*") if p.is_file()])
    hash_files(digest, [project.handouts_dir / "clinic.yaml"])
    hash_files(digest, code_files())
    for path, pinned in sorted(plan.pins().items()):
        # Pinned by content in fonts.yaml and verified before any render (fontplan.verify_font_files).
        digest.update(f"{path}:{pinned}\0".encode())
    return digest.hexdigest()


def strings_by_source(catalog: Catalog | None) -> dict[str, list[str]]:
    """A locale's printable strings grouped by the file that uses them (from the PO `#:` references)."""
    index: dict[str, list[str]] = {}
    for message in catalog or ():
        if message.id:
            string = "" if message.fuzzy else str(message.string)
            for filename in {f for f, _ in message.locations}:
                index.setdefault(filename, []).append(f"{message.context}\0{message.id}\0{string}")
    return index


def handout_inputs(project: Project, common: str, handout: Handout, locale: str,
                   strings: dict[str, list[str]], draft: bool, font_stack: tuple[str, ...]) -> str:
    """The inputs of one PDF: the common ones, its sources, the translations it prints, its fonts.

    `strings` is strings_by_source() of the locale's catalog. A CJK font stack
    names a subset by the hash of its characters, so a new character in the
    locale renders its PDFs again.
    """
    digest = hashlib.sha256(f"{common}\0{locale}\0{draft}\0{font_stack}\0".encode())
    sources = {handout.path} | ({f"handouts/{SHARED_FILE}"} if handout.shared_names else set())
    for source in sorted(sources):
        digest.update((project.root / source).read_bytes() + b"\0")
    # Its pictures (handouts/pictures.yaml; their drawings are templates, in `common`).
    digest.update(" ".join(p.name for p in handout.pictures).encode() + b"\0")
    # A recorded approval changes what the PDF says (the draft mark, "Last reviewed").
    approval = project.handouts_dir / APPROVALS_DIR / f"{handout.id}.yaml"
    digest.update((approval.read_bytes() if approval.exists() else b"unapproved") + b"\0")
    for filename in sorted(f for f in strings if f in sources or f.startswith("templates/")):
        digest.update("\0".join(strings[filename]).encode() + b"\0")
    return digest.hexdigest()


def check_key(locale: str) -> str:
    return f"check:{locale}"


def read_manifest(project: Project) -> dict[str, Entry]:
    path = project.build_dir / MANIFEST_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
        return {key: Entry(value["inputs"], int(value["pages"])) for key, value in data.items()}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}  # no manifest, or an unreadable one: everything is rebuilt


def read_page_counts(project: Project) -> dict[tuple[str, str], int]:
    """Page counts the last build recorded, keyed by (handout id, locale)."""
    return {tuple(key.split("/", 1)[::-1]): entry.pages for key, entry in read_manifest(project).items()
            if "/" in key and ":" not in key}  # standard edition only


def write_manifest(project: Project, entries: dict[str, Entry]) -> None:
    data = {key: {"inputs": e.inputs, "pages": e.pages} for key, e in sorted(entries.items())}
    atomic_write(project.build_dir / MANIFEST_FILE, (json.dumps(data, indent=1) + "\n").encode())


def key(locale: str, handout_id: str, edition: str = "standard") -> str:
    return f"{locale}/{handout_id}" if edition == "standard" else f"{edition}:{locale}/{handout_id}"
