"""The template wording a patient reads on a handout's page, in English.

The footer lines ("Questions? Call ...", "In an emergency, call ..."), the
"Key points" heading and the other labels come from the Jinja templates, not
the YAML. A clinician's approval covers them too (approval.fingerprint): a
change to the wording of the page reopens the approval like a change to the
YAML does. Found with Jinja's own Babel extractor, from templates/handout.html
and the templates it extends and includes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS
from jinja2.ext import babel_extract

HANDOUT_TEMPLATE = "handout.html"
REFERENCES = re.compile(r"""{%-?\s*(?:extends|include)\s+["']([^"']+)["']""")

_cache: dict[tuple[str, str], tuple[str, ...]] = {}


def _templates(templates_dir: Path, name: str, seen: dict[str, bytes]) -> None:
    path = templates_dir / name
    if name in seen or not path.is_file():
        return
    seen[name] = path.read_bytes()
    for reference in REFERENCES.findall(seen[name].decode("utf-8", "replace")):
        _templates(templates_dir, reference, seen)


def template_wording(templates_dir: Path) -> tuple[str, ...]:
    """Every English string the handout templates print (sorted, without duplicates)."""
    sources: dict[str, bytes] = {}
    _templates(templates_dir, HANDOUT_TEMPLATE, sources)
    key = (str(templates_dir), hashlib.sha256(b"\0".join(sources[n] for n in sorted(sources))).hexdigest())
    if key not in _cache:
        found: set[str] = set()
        for name in sorted(sources):
            with (templates_dir / name).open("rb") as handle:
                for _, _, message, _ in babel_extract(handle, DEFAULT_KEYWORDS, (), {"extensions": "jinja2.ext.i18n"}):
                    for part in (message if isinstance(message, tuple) else (message,)):
                        if part:
                            found.add(part)
        _cache[key] = tuple(sorted(found))
    return _cache[key]
