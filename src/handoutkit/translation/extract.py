"""Stage 2, extract: handout YAML and templates to locales/handouts.pot.

`extract_handout_yaml` is a Babel extraction method (registered under the
`babel.extractors` entry point as `handouts_yaml` and mapped in babel.cfg),
so `pybabel extract -F babel.cfg` sees exactly the messages `handouts
extract` writes. Jinja's own extractor handles the template labels.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

from handoutkit import __version__
from handoutkit.content.handouts import (
    SAFETY_NOTE,
    SHARED_FILE,
    Text,
    iter_texts,
    load_content,
    parse_handout,
    parse_shared,
    read_shared,
)
from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import hash_files, same_but_creation_date, write_if_changed
from handoutkit.translation.catalogs import canonical, read_catalog


def _message(text: Text) -> tuple[int, str, Any, list[str]]:
    comments = [text.note] if text.note else []
    if text.safety:
        comments.append(SAFETY_NOTE)
    if text.context:
        return text.line, "pgettext", (text.context, text.value), comments
    return text.line, "gettext", text.value, comments


def extract_handout_yaml(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                         options: dict) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Babel extraction method for handout and shared-block YAML files."""
    path = Path(getattr(fileobj, "name", "handout.yaml"))
    label = str(path)
    # read_yaml wants a path: Babel hands us an open file of that path.
    node, problems = read_yaml(path, label)
    reader = NodeReader(label, problems)
    if node is not None:
        if path.name == SHARED_FILE:
            texts = list(iter_texts(tuple(parse_shared(node, reader).values())))
        else:
            shared, shared_problems = read_shared(path.parent, path.parent)
            reader.problems.extend(shared_problems)
            handout = parse_handout(node, reader, shared)
            own = [s for s in handout.sections if not s.shared_name] if handout else []
            added = [t for s in handout.sections if s.shared_name for t in s.added] if handout else []
            texts = ([handout.title, handout.summary, *handout.key_points, *iter_texts(tuple(own)), *added,
                      *handout.keywords] if handout else [])
    if reader.problems:
        raise ProblemsError(reader.problems)
    for text in texts:
        yield _message(text)


@dataclass(frozen=True)
class ExtractResult:
    path: Path
    messages: int
    written: bool  # False when only the creation date would have changed


def build_template(project: Project) -> Catalog:
    """Run every extractor that babel.cfg maps and collect one template catalog."""
    cfg = project.root / "babel.cfg"
    if not cfg.is_file():
        raise HandoutError(f"{project.rel(cfg)}: missing extraction map")
    method_map, options_map = parse_mapping_cfg(io.StringIO(cfg.read_text("utf-8")), str(cfg))
    catalog = Catalog(project="handoutkit", version=__version__, charset="utf-8",
                      msgid_bugs_address="clinical-content@clinic.invalid", copyright_holder="handoutkit",
                      fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(project.root), method_map, options_map, keywords=DEFAULT_KEYWORDS,
            comment_tags=("NOTE:", "Translators:"), strip_comment_tags=True):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def serialize(catalog: Catalog) -> bytes:
    """The template in GNU gettext's canonical form, with file-only `#:` references.

    References name the file, not the line: a line added or moved in a YAML
    file then changes no PO file (the checks point translators at PO lines).
    """
    buffer = io.BytesIO()
    write_po(buffer, catalog, include_lineno=False)
    return canonical(buffer.getvalue())


def template_inputs(project: Project) -> list[Path]:
    """Every file an extraction can read: the map, the content and the templates."""
    files = [project.root / "babel.cfg"]
    for folder in (project.handouts_dir, project.templates_dir):
        files += [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".html")]
    return [p for p in files if p.is_file()]


def template_key(project: Project) -> str:
    """A hash of what the current template is extracted from (part of every locale's check inputs)."""
    digest = hashlib.sha256()
    # Names relative to the project: the template of a copy of the project (a test's, a CI
    # checkout's) is the same template, and extracting it again is most of a check's time.
    hash_files(digest, template_inputs(project), project.root)
    return digest.hexdigest()


_current: dict[str, Catalog] = {}


def current_template(project: Project) -> Catalog:
    """The strings the content and templates print *now*, extracted in memory (never the committed POT).

    Every check, the review state, the build and the stats compare a catalog
    with this, so a POT nobody re-extracted cannot hide a changed string.
    Cached per process on the hash of the extraction's inputs (an extraction
    takes ~0.1 s; hashing its inputs ~2 ms). Callers only read the catalog.
    """
    key = template_key(project)
    if key not in _current:
        load_content(project.handouts_dir, project.root)  # every YAML problem at once, with file:line
        template = build_template(project)
        _current.clear()  # one content at a time
        _current[key] = template
    return _current[key]


def _message_keys(catalog: Catalog) -> dict[tuple[str | None, str], object]:
    return {(m.context, str(m.id)): m for m in catalog if m.id}


def pot_problems(project: Project) -> list[Problem]:
    """What differs between locales/handouts.pot and a fresh extraction, string by string.

    Translators and their tools read the POT: one that is out of date is an
    error of `handouts check`, naming each string and the command that fixes it.
    """
    label = project.rel(project.pot_path)
    fix = "run `handouts update`"
    if not project.pot_path.is_file():
        return [Problem(label, 0, f"missing; {fix}")]
    fresh_bytes = serialize(current_template(project))
    data = project.pot_path.read_bytes()
    if same_but_creation_date(data, fresh_bytes):
        return []
    try:
        committed = read_catalog(project.pot_path, label, data=data)
    except ProblemsError as exc:
        return [*exc.problems, Problem(label, 0, f"unreadable; {fix}")]
    # Both sides as read back from a file, so only real differences count.
    fresh = read_catalog(project.pot_path, label, data=fresh_bytes)
    old, new = _message_keys(committed), _message_keys(fresh)
    problems = []
    for key in sorted(new.keys() - old.keys(), key=str):
        problems.append(Problem(label, 0, f"out of date: the content prints {key[1]!r}, which handouts.pot "
                                          f"lacks; {fix}"))
    for key in sorted(old.keys() - new.keys(), key=str):
        problems.append(Problem(label, old[key].lineno, f"out of date: {key[1]!r} is no longer in the content; "
                                                        f"{fix}"))
    for key in sorted(old.keys() & new.keys(), key=str):
        if old[key].auto_comments != new[key].auto_comments or old[key].flags != new[key].flags:
            problems.append(Problem(label, old[key].lineno, f"out of date: the notes or flags of {key[1]!r} "
                                                            f"changed; {fix}"))
    return problems or [Problem(label, 0, f"out of date: it differs from a fresh extraction; {fix}")]


def extract(project: Project) -> ExtractResult:
    """Write locales/handouts.pot from the content and templates."""
    template = current_template(project)
    written = write_if_changed(project.pot_path, serialize(template), ignore_creation_date=True)
    return ExtractResult(project.pot_path, len(template), written)
