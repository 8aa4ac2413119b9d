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
from pathlib import Path

from babel.messages.catalog import Catalog

from .content import APPROVALS_DIR, SHARED_FILE, Handout
from .files import atomic_write
from .fonts import FontPlan
from .settings import Project

MANIFEST_FILE = "manifest.json"
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Entry:
    inputs: str  # sha256 of every input
    pages: int


def _hash_files(digest: "hashlib._Hash", paths: list[Path]) -> None:
    for path in sorted(paths):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")


def common_inputs(project: Project, plan: FontPlan) -> str:
    """What every PDF depends on: templates, clinic settings, fonts, and the tool's code."""
    digest = hashlib.sha256()
    _hash_files(digest, [p for p in project.templates_dir.rglob("*") if p.is_file()])
    _hash_files(digest, [project.handouts_dir / "clinic.yaml"])
    _hash_files(digest, list(PACKAGE_DIR.glob("*.py")))
    for path in sorted(set(plan.files())):
        stat = path.stat()  # font files are large: their identity is enough
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
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
    # A recorded approval changes what the PDF says (the draft mark, "Last reviewed").
    approval = project.handouts_dir / APPROVALS_DIR / f"{handout.id}.yaml"
    digest.update((approval.read_bytes() if approval.exists() else b"unapproved") + b"\0")
    for filename in sorted(f for f in strings if f in sources or f.startswith("templates/")):
        digest.update("\0".join(strings[filename]).encode() + b"\0")
    return digest.hexdigest()


def check_key(locale: str) -> str:
    return f"check:{locale}"


def check_inputs(project: Project, locale: str, po_data: bytes | None = None) -> str:
    """What a locale's checks read: its catalog, glossary, review and back-translation records,
    the template, fonts, code. `po_data` is the catalog as already read (it is not read again)."""
    digest = hashlib.sha256(locale.encode())
    if po_data is not None:
        digest.update(b"po\0" + po_data + b"\0")
    from .checks import declared_inputs
    from .review import review_inputs

    catalog = [project.po_path(locale)] if po_data is None else []
    # The checks declare what they read; the review state and the font coverage are checked too.
    declared = [*catalog, *declared_inputs(project, locale), *review_inputs(project, locale),
                project.templates_dir / "fonts.yaml", project.handouts_dir / "clinic.yaml"]
    paths = [*(p for p in dict.fromkeys(declared) if p.exists()), *PACKAGE_DIR.glob("*.py")]
    if locale == project.settings.source_locale:
        paths += sorted(project.handouts_dir.glob("*.yaml"))  # the source language prints the YAML itself
    _hash_files(digest, paths)
    return digest.hexdigest()


def read_manifest(project: Project) -> dict[str, Entry]:
    path = project.build_dir / MANIFEST_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
        return {key: Entry(value["inputs"], int(value["pages"])) for key, value in data.items()}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}  # no manifest, or an unreadable one: everything is rebuilt


def write_manifest(project: Project, entries: dict[str, Entry]) -> None:
    data = {key: {"inputs": e.inputs, "pages": e.pages} for key, e in sorted(entries.items())}
    atomic_write(project.build_dir / MANIFEST_FILE, (json.dumps(data, indent=1) + "\n").encode())


def key(locale: str, handout_id: str, edition: str = "standard") -> str:
    return f"{locale}/{handout_id}" if edition == "standard" else f"{edition}:{locale}/{handout_id}"
