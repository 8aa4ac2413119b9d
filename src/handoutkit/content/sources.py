"""Clinical sources: what each statement of a handout stands on.

handouts/sources.yaml lists the sources (an id, title, publisher, date and
named sections; cited, never copied). Every statement in a handout either
cites one as `source: <id>#<section>` or is flagged `confirm:` for the
approving clinician. `citation_problems` is the check `handouts lint` runs;
`review_items` is what `handouts review-sheet` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handoutkit.content.handouts import SOURCES_FILE, Handout, Text, statements
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import Problem, ProblemsError, relative


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    date: str  # as the source gives it; "not stated" when it has none
    sections: dict[str, str]  # section id -> the section's heading in the source


def read_sources(handouts_dir: Path, root: Path) -> dict[str, Source]:
    """The sources by id; a missing file means no sources (every statement must then be flagged)."""
    path = handouts_dir / SOURCES_FILE
    if not path.exists():
        return {}
    reader = NodeReader(relative(path, root))
    node, problems = read_yaml(path, reader.path)
    if node is None:
        raise ProblemsError(problems)
    keys = reader.mapping(node, "sources.yaml", ("sources",)) or {}
    sources: dict[str, Source] = {}
    for item in reader.sequence(keys["sources"], "sources") if "sources" in keys else ():
        fields = reader.mapping(item, "a source", ("id", "title", "publisher", "date", "sections"))
        if not fields or len(fields) != 5:
            continue
        values = {k: reader.string(fields[k], f"the source {k}") for k in ("id", "title", "publisher", "date")}
        sections = {name: reader.string(heading, f"the heading of section '{name}'")
                    for name, heading in (reader.pairs(fields["sections"], "the sections") or {}).items()}
        if values["id"] in sources:
            reader.fail(fields["id"], f"duplicate source id '{values['id']}'")
        elif all(values.values()) and all(sections.values()):
            sources[values["id"]] = Source(values["id"], values["title"], values["publisher"], values["date"],
                                           sections)
    if reader.problems:
        raise ProblemsError(reader.problems)
    return sources


def handout_statements(handout: Handout) -> list[Text]:
    """What a clinician confirms: the summary, the key points and every text in the blocks."""
    return [handout.summary, *handout.key_points, *statements(handout.sections)]


def citation_problem(text: Text, sources: dict[str, Source]) -> Problem | None:
    """A statement that cites nothing and is not flagged, or cites what sources.yaml does not have."""
    if text.confirm is not None:
        return None
    if text.source is None:
        return Problem(text.path, text.line, "statement without a source: cite one as `source: <id>#<section>` "
                                             f"or flag it `confirm: true`: {text.value!r}")
    source_id, _, section = text.source.partition("#")
    if source_id not in sources:
        return Problem(text.path, text.line, f"unknown source '{source_id}' in {text.source!r}; "
                                             f"{SOURCES_FILE} lists: {', '.join(sorted(sources)) or 'none'}")
    if section not in sources[source_id].sections:
        return Problem(text.path, text.line, f"unknown section '{section}' of source '{source_id}'; it has: "
                                             f"{', '.join(sources[source_id].sections)}")
    return None


def citation_problems(handout: Handout, sources: dict[str, Source]) -> list[Problem]:
    found = (citation_problem(text, sources) for text in handout_statements(handout))
    return [problem for problem in found if problem is not None]


@dataclass(frozen=True)
class ReviewItem:
    """One statement on the approving clinician's review sheet."""

    section: str  # the heading it is under ("Summary" for the summary)
    text: Text
    citation: str | None  # "<source id>, section: <heading>", or None: please confirm
    reason: str | None  # why it needs confirming

    @property
    def where(self) -> str:
        return f"{self.text.path}:{self.text.line}"


def cite(citation: str, sources: dict[str, Source]) -> str:
    source_id, _, section = citation.partition("#")
    source = sources[source_id]
    # Short, since it repeats on every row; the sheet lists each source in full once.
    return f"{source.id}, section: {source.sections[section]}"


def review_item(section: str, text: Text, sources: dict[str, Source]) -> ReviewItem:
    if text.source is not None and citation_problem(text, sources) is None:
        return ReviewItem(section, text, cite(text.source, sources), None)
    if text.source is not None:  # cites something sources.yaml does not have: no citation at all
        return ReviewItem(section, text, None, f"cites {text.source}, which {SOURCES_FILE} does not have")
    return ReviewItem(section, text, None, text.confirm or "no source given")


def review_items(handout: Handout, sources: dict[str, Source]) -> list[ReviewItem]:
    """Every statement of a handout, in reading order, with its citation or why a clinician must confirm it."""
    items = [review_item("Summary", handout.summary, sources)]
    items += [review_item("Key points", text, sources) for text in handout.key_points]
    for section in handout.sections:
        items += [review_item(section.heading.value, text, sources) for text in statements((section,))]
    return items
