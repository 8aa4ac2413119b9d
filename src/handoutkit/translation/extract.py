"""Stage 2, extract: handout YAML and templates to locales/handouts.pot.

`extract_handout_yaml` is a Babel extraction method (registered under the
`babel.extractors` entry point as `handouts_yaml` and mapped in babel.cfg),
so `pybabel extract -F babel.cfg` sees exactly the messages `handouts
extract` writes. Jinja's own extractor handles the template labels.
"""

from __future__ import annotations

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
from handoutkit.errors import HandoutError, ProblemsError
from handoutkit.files import write_if_changed
from handoutkit.translation.catalogs import canonical


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


def extract(project: Project) -> ExtractResult:
    """Write locales/handouts.pot from the content and templates."""
    load_content(project.handouts_dir, project.root)  # report every YAML problem at once first
    template = build_template(project)
    written = write_if_changed(project.pot_path, serialize(template), ignore_creation_date=True)
    return ExtractResult(project.pot_path, len(template), written)
