"""Stage 1, content: handouts/*.yaml to validated Handout objects.

Every text keeps the line it came from, so the extractor can write `#:`
references and every check can point at `handouts/<file>.yaml:<line>`.
All problems in all files are collected, then reported at once.

File roles in handouts/:
  clinic.yaml   clinic settings (see settings.py)
  shared.yaml   sections written once and reused by many handouts (`- include: NAME`)
  sources.yaml  the clinical sources that statements cite (`source: article#recovery`)
  medical-words.yaml  medical words a patient meets and the plain words that explain them
  pictures.yaml the pictures each handout carries (see pictures.py)
  checklists.yaml  the topics every handout of a kind must cover (see checklists.py)
  approvers     who may sign approvals and reviews (see signatures.py)
  approvals/    one approval record per handout, written by `handouts approve`
  *.yaml        one handout each

Clinical governance lives on each text: `source: <id>#<section>` cites where a
statement comes from, `confirm: true` (or a reason) flags a statement no source
supports, and `safety: true` marks a safety-critical line (warning signs, whom
to call, medicines, smoking, driving and the ride home). A section or callout
may set them once for all its statements. Most safety-critical lines need no
mark: the rule in safety.py finds every restriction, medicine instruction,
duration, number and warning sign, and every line of a warning callout.
`covers: ITEM` (or a list) says which item of the clinic's checklists a text
covers (checklists.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode

from handoutkit.content.codes import check_code, system_uri
from handoutkit.content.pictures import PICTURES_FILE, Picture, read_pictures
from handoutkit.content.safety import safety_reason
from handoutkit.content.wording import template_wording
from handoutkit.content.yamlsource import NodeReader, line_of, read_yaml
from handoutkit.errors import Problem, ProblemsError, relative

CLINIC_FILE = "clinic.yaml"
SHARED_FILE = "shared.yaml"
SOURCES_FILE = "sources.yaml"  # the clinical sources statements cite (see sources.py)
APPROVALS_DIR = "approvals"  # clinicians' approval records (see approval.py)
PACKETS_FILE = "packets.yaml"  # named sets of handouts printed together (see packets.py)
MEDICAL_WORDS_FILE = "medical-words.yaml"  # medical words and the plain words that explain them (medical_words.py)
# PICTURES_FILE, "pictures.yaml": the pictures each handout carries (pictures.py)
CHECKLISTS_FILE = "checklists.yaml"  # the topics every handout of a kind must cover (checklists.py)
HANDOUT_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BLOCK_KINDS = ("paragraph", "bullets", "steps", "callout")
# The `#.` comment every safety-critical entry carries in the POT and every PO file,
# so Poedit, Lokalize and Weblate show it next to the string.
SAFETY_MARK = "SAFETY-CRITICAL"
SAFETY_NOTE = (f"{SAFETY_MARK}: a warning sign, whom to call, a medicine or a safety instruction. "
               "Translate the exact meaning; a bilingual reviewer back-translates it.")
CALLOUT_KINDS = ("warning", "info")
# A procedure handout describes one surgery and opens with "Key points"; a general one
# (getting ready, recovery, warning signs) does not need them.
HANDOUT_KINDS = ("procedure", "general")
KEY_POINTS = (3, 5)  # the fewest and most bullets in a "Key points" box


@dataclass(frozen=True)
class Text:
    """One translatable string: the English source and where it was written."""

    value: str
    path: str
    line: int
    note: str | None = None  # for translators, becomes a `#.` comment
    context: str | None = None  # msgctxt, only where the same English needs two translations
    source: str | None = None  # "<source id>#<section>" in sources.yaml
    confirm: str | None = None  # why a clinician must confirm it (no source supports it)
    safety: bool = False  # safety-critical: back-translated in every language
    covers: tuple[str, ...] = ()  # the checklist items this text covers (checklists.yaml)


@dataclass(frozen=True)
class Governance:
    """The citation, confirm flag and safety mark a section or callout gives its statements."""

    source: str | None = None
    confirm: str | None = None
    safety: bool = False

    def apply(self, text: Text | None) -> Text | None:
        """A text with these marks where it has none of its own."""
        if text is None:
            return None
        cited = text.source is not None or text.confirm is not None
        return replace(text, source=text.source if cited else self.source,
                       confirm=text.confirm if cited else self.confirm,
                       safety=text.safety or self.safety)


@dataclass(frozen=True)
class Block:
    kind: str  # one of BLOCK_KINDS
    line: int
    text: Text | None = None  # paragraph, or the body of a callout
    items: tuple[Text, ...] = ()  # bullets, steps, or a callout's list
    callout: str | None = None  # "warning" or "info"
    title: Text | None = None  # a callout's title


@dataclass(frozen=True)
class Section:
    heading: Text
    blocks: tuple[Block, ...]
    shared_name: str | None = None  # set when the section came from shared.yaml
    added: tuple[Text, ...] = ()  # items this handout added to the shared section's warning callout


@dataclass(frozen=True)
class Revision:
    """The revision number printed on every page. Review dates come only from approvals."""

    number: int


@dataclass(frozen=True)
class Code:
    """A code that identifies the handout (`codes:`), checked for its system's format (codes.py)."""

    system: str  # a URI, such as http://snomed.info/sct
    code: str
    line: int


@dataclass(frozen=True)
class Handout:
    id: str
    path: str
    title: Text
    summary: Text
    revision: Revision
    sections: tuple[Section, ...]
    id_line: int = 1
    codes: tuple[Code, ...] = ()  # unverified until a clinician's approval covers them
    # Search words for the catalog (symptoms, synonyms), translated like the rest, never printed.
    keywords: tuple[Text, ...] = ()
    kind: str = "general"  # one of HANDOUT_KINDS
    key_points_line: int = 0  # where `key_points:` starts, for problems about the whole box
    # The "Key points" box under the masthead: what a patient must take away, in 3-5 bullets.
    key_points: tuple[Text, ...] = ()
    # Line art the handout prints (handouts/pictures.yaml, drawn in templates/pictures/).
    pictures: tuple["Picture", ...] = ()
    # The English wording of the page around the content (footer lines, headings), from the
    # templates: part of what a clinician approves (content/wording.py).
    wording: tuple[str, ...] = ()
    checklists: tuple[str, ...] = ()  # the clinic's checklists it must cover, besides the one of its kind
    checklists_line: int = 0

    @property
    def shared_names(self) -> tuple[str, ...]:
        return tuple(s.shared_name for s in self.sections if s.shared_name)


def iter_texts(sections: tuple[Section, ...]) -> Iterator[Text]:
    """Every translatable text of some sections, in reading order."""
    for section in sections:
        yield section.heading
        for block in section.blocks:
            for text in (block.title, block.text, *block.items):
                if text is not None:
                    yield text


def statements(sections: tuple[Section, ...]) -> Iterator[Text]:
    """The texts that say something clinical: everything in the blocks (not the headings)."""
    for section in sections:
        for block in section.blocks:
            for text in (block.title, block.text, *block.items):
                if text is not None:
                    yield text


def handout_texts(handout: Handout) -> Iterator[Text]:
    """Every translatable text of a handout, in the order a reader meets it on the page."""
    yield handout.title
    yield handout.summary
    yield from handout.key_points
    yield from iter_texts(handout.sections)


# ---------------------------------------------------------------- parsing


GOVERNANCE_KEYS = ("source", "confirm", "safety")
TRUE, FALSE = ("true", "yes"), ("false", "no")


def _flag(reader: NodeReader, node: Node, what: str) -> bool:
    value = reader.string(node, what)
    if value is not None and value.lower() not in TRUE + FALSE:
        reader.fail(node, f"expected {what} as true or false, found {value!r}")
    return value is not None and value.lower() in TRUE


def _governance(reader: NodeReader, keys: dict[str, Node], what: str) -> Governance:
    """`source`, `confirm` and `safety` of a text, section or callout."""
    source = reader.string(keys["source"], f"the source of {what}") if "source" in keys else None
    if source is not None and "#" not in source:
        reader.fail(keys["source"], f"expected the source of {what} as <source id>#<section>, "
                                    f"such as article#recovery; found {source!r}")
    confirm = None
    if "confirm" in keys:
        value = reader.string(keys["confirm"], f"the confirm flag of {what}")
        if value is not None and value.lower() not in FALSE:
            # `confirm: true`, or the reason a clinician must confirm it.
            confirm = "not in the sources" if value.lower() in TRUE else value
    if source is not None and confirm is not None:
        reader.fail(keys["confirm"], f"expected either a source or confirm on {what}, found both")
    safety = _flag(reader, keys["safety"], f"the safety mark of {what}") if "safety" in keys else False
    return Governance(source, confirm, safety)


def _text(reader: NodeReader, node: Node, what: str) -> Text | None:
    """A text is a plain string, or a mapping {text, note, context, source, confirm, safety, covers}."""
    if isinstance(node, MappingNode):
        keys = reader.mapping(node, what, ("text",), ("note", "context", "covers", *GOVERNANCE_KEYS))
        if keys is None or "text" not in keys:
            return None
        value = reader.string(keys["text"], what)
        note = reader.string(keys["note"], f"the translator note of {what}") if "note" in keys else None
        context = reader.string(keys["context"], f"the context of {what}") if "context" in keys else None
        marks = _governance(reader, keys, what)
        covers = _names(reader, keys["covers"], f"the checklist items {what} covers") if "covers" in keys else ()
        return Text(value, reader.path, line_of(keys["text"]), note, context,
                    marks.source, marks.confirm, marks.safety or safety_reason(value) is not None, covers) if value else None
    value = reader.string(node, what)
    return Text(value, reader.path, line_of(node), safety=safety_reason(value) is not None) if value else None


def _names(reader: NodeReader, node: Node, what: str) -> tuple[str, ...]:
    """One name in lowercase-with-dashes, or a list of them."""
    nodes = [node] if isinstance(node, ScalarNode) else reader.sequence(node, what)
    names = []
    for item in nodes:
        name = reader.string(item, what)
        if name is not None and not HANDOUT_ID.match(name):
            reader.fail(item, f"expected {what} as names in lowercase-with-dashes, found {name!r}")
        elif name is not None:
            names.append(name)
    return tuple(names)


def _items(reader: NodeReader, node: Node, what: str) -> tuple[Text, ...]:
    texts = (_text(reader, item, f"an item of {what}") for item in reader.sequence(node, what))
    return tuple(t for t in texts if t is not None)


def _callout(reader: NodeReader, node: Node, line: int) -> Block | None:
    keys = reader.mapping(node, "a callout", ("kind",), ("title", "text", "items", *GOVERNANCE_KEYS))
    if keys is None:
        return None
    if "text" not in keys and "items" not in keys:
        reader.fail(node, "expected a callout to have 'text' or 'items', found neither")
    kind = reader.choice(keys["kind"], "the callout kind", CALLOUT_KINDS) if "kind" in keys else None
    marks = _governance(reader, keys, "a callout")
    if kind == "warning":  # every line of a warning callout is a warning sign
        marks = replace(marks, safety=True)
    return Block(
        kind="callout",
        line=line,
        callout=kind,
        title=marks.apply(_text(reader, keys["title"], "the callout title")) if "title" in keys else None,
        text=marks.apply(_text(reader, keys["text"], "the callout text")) if "text" in keys else None,
        items=tuple(marks.apply(t) for t in _items(reader, keys["items"], "the callout items"))
        if "items" in keys else (),
    )


def _block(reader: NodeReader, node: Node) -> Block | None:
    if not isinstance(node, MappingNode) or len(node.value) != 1:
        found = f"{len(node.value)} keys" if isinstance(node, MappingNode) else "something else"
        reader.fail(node, f"expected a block with exactly one of: {', '.join(BLOCK_KINDS)}; "
                          f"found {found}")
        return None
    key_node, value = node.value[0]
    kind = key_node.value if isinstance(key_node, ScalarNode) else None
    line = line_of(key_node)
    if kind == "paragraph":
        text = _text(reader, value, "a paragraph")
        return Block("paragraph", line, text=text) if text else None
    if kind in ("bullets", "steps"):
        return Block(kind, line, items=_items(reader, value, f"a '{kind}' list"))
    if kind == "callout":
        return _callout(reader, value, line)
    reader.fail(key_node, f"unknown block '{kind}'; expected one of: {', '.join(BLOCK_KINDS)}")
    return None


def _section(reader: NodeReader, node: Node, shared: dict[str, Section] | None) -> Section | None:
    if shared is not None and isinstance(node, MappingNode) and any(
            isinstance(k, ScalarNode) and k.value == "include" for k, _ in node.value):
        keys = reader.mapping(node, "an include", ("include",), ("warning_items",))
        name = reader.string(keys["include"], "the shared section name") if keys else None
        if name is None:
            return None
        if name not in shared:
            reader.fail(keys["include"], f"unknown shared section '{name}'; shared.yaml defines: "
                                         f"{', '.join(sorted(shared)) or 'none'}")
            return None
        if "warning_items" in keys:
            return _with_warning_items(reader, shared[name], keys["warning_items"])
        return shared[name]
    keys = reader.mapping(node, "a section", ("heading", "blocks"), GOVERNANCE_KEYS)
    if keys is None or "heading" not in keys or "blocks" not in keys:
        return None
    heading = _text(reader, keys["heading"], "the section heading")
    marks = _governance(reader, keys, "a section")
    blocks = tuple(_marked(b, marks) for b in (_block(reader, n)
                                               for n in reader.sequence(keys["blocks"], "blocks"))
                   if b is not None)
    return Section(heading, blocks) if heading else None


def _with_warning_items(reader: NodeReader, section: Section, node: Node) -> Section | None:
    """A shared section with this handout's own warning signs added to its first warning callout
    (`warning_items:` under an include): the signs of one kind of surgery, in the same box."""
    items = tuple(replace(t, safety=True) for t in _items(reader, node, "the warning items"))
    for number, block in enumerate(section.blocks):
        if block.kind == "callout" and block.callout == "warning" and block.items:
            blocks = (*section.blocks[:number], replace(block, items=block.items + items),
                      *section.blocks[number + 1:])
            return replace(section, blocks=blocks, added=items)
    reader.fail(node, f"the shared section '{section.shared_name}' has no warning callout with items "
                      "to add 'warning_items' to")
    return None


def _marked(block: Block, marks: Governance) -> Block:
    """A block whose statements carry the section's citation and marks where they have none."""
    return replace(block, title=marks.apply(block.title), text=marks.apply(block.text),
                   items=tuple(marks.apply(t) for t in block.items))


def parse_shared(root: Node, reader: NodeReader) -> dict[str, Section]:
    keys = reader.mapping(root, "shared.yaml", ("sections",))
    if not keys or "sections" not in keys:
        return {}
    names = reader.pairs(keys["sections"], "the shared sections")
    shared = {}
    for name, node in (names or {}).items():
        if not HANDOUT_ID.match(name):
            reader.fail(node, f"expected a shared section name in lowercase-with-dashes, found '{name}'")
        section = _section(reader, node, None)
        if section is not None:
            shared[name] = Section(section.heading, section.blocks, shared_name=name)
    return shared


def parse_handout(root: Node, reader: NodeReader, shared: dict[str, Section]) -> Handout | None:
    keys = reader.mapping(root, "a handout", ("id", "title", "summary", "revision", "sections"),
                          ("kind", "key_points", "codes", "keywords", "checklists"))
    if keys is None:
        return None
    handout_id = reader.string(keys["id"], "the handout id") if "id" in keys else None
    if handout_id and not HANDOUT_ID.match(handout_id):
        reader.fail(keys["id"], f"expected the id in lowercase letters, digits and dashes "
                                f"(like 'lumbar-discectomy'), found '{handout_id}'")
        handout_id = None
    revision = None
    if "revision" in keys:
        rev = reader.mapping(keys["revision"], "the revision", ("number",), ("reviewed",))
        if rev and "reviewed" in rev:
            # A date typed into the YAML is not a review: only `handouts approve` records one.
            reader.fail(rev["reviewed"], "a review date is not written here; a clinician's approval "
                                         "is recorded with `handouts approve ID --by NAME`: remove 'reviewed'")
        if rev and "number" in rev:
            number = reader.integer(rev["number"], "the revision number")
            if number is not None:
                revision = Revision(number)
    title = _text(reader, keys["title"], "the title") if "title" in keys else None
    summary = _text(reader, keys["summary"], "the summary") if "summary" in keys else None
    sections = tuple(s for s in (_section(reader, n, shared)
                                 for n in reader.sequence(keys.get("sections"), "sections"))
                     if s is not None) if "sections" in keys else ()
    codes = _codes(reader, keys["codes"]) if "codes" in keys else ()
    # Search words are never printed: not safety-critical, whatever they say.
    keywords = tuple(replace(k, safety=False) for k in _items(reader, keys["keywords"], "keywords")) \
        if "keywords" in keys else ()
    kind = reader.choice(keys["kind"], "the handout kind", HANDOUT_KINDS) if "kind" in keys else "general"
    key_points = _items(reader, keys["key_points"], "the key points") if "key_points" in keys else ()
    checklists = _names(reader, keys["checklists"], "the checklists") if "checklists" in keys else ()
    if reader.problems or not (handout_id and title and summary and revision):
        return None
    return Handout(handout_id, reader.path, title, summary, revision, sections,
                   id_line=line_of(keys["id"]), codes=codes, keywords=keywords, kind=kind or "general",
                   key_points=key_points,
                   key_points_line=line_of(keys["key_points"]) if "key_points" in keys else 0,
                   checklists=checklists,
                   checklists_line=line_of(keys["checklists"]) if "checklists" in keys else 0)


def _codes(reader: NodeReader, node: Node) -> tuple[Code, ...]:
    """`codes:` a list of {system: URI, code: ...}, each well formed for its system."""
    codes: list[Code] = []
    for item in reader.sequence(node, "codes", 0):
        keys = reader.mapping(item, "a code", ("system", "code"))
        if not keys or "system" not in keys or "code" not in keys:
            continue
        system = reader.string(keys["system"], "the code system")
        code = reader.string(keys["code"], "the code")
        if not system or not code:
            continue
        if (problem := check_code(system, code)) is not None:
            reader.fail(keys["system"] if system_uri(system) is None else keys["code"], problem)
            continue
        uri = system_uri(system) or system
        if any(c.system == uri and c.code == code for c in codes):
            reader.fail(keys["code"], f"code {code!r} of {uri} is listed twice")
            continue
        codes.append(Code(uri, code, line_of(keys["code"])))
    return tuple(codes)


# ---------------------------------------------------------------- loading


@dataclass(frozen=True)
class Content:
    handouts: tuple[Handout, ...]
    shared: dict[str, Section]

    def get(self, handout_id: str) -> Handout:
        for handout in self.handouts:
            if handout.id == handout_id:
                return handout
        raise KeyError(handout_id)


def handout_files(handouts_dir: Path) -> list[Path]:
    """The handout YAML files: every `*.yaml` directly under handouts/ that is not one of the project's
    other files (clinic settings, shared blocks, sources, packets, medical words, pictures, checklists).
    The one rule every reader uses (the loader, the bench's synthetic libraries)."""
    not_handouts = (CLINIC_FILE, SHARED_FILE, SOURCES_FILE, PACKETS_FILE, MEDICAL_WORDS_FILE, PICTURES_FILE,
                    CHECKLISTS_FILE)
    return sorted(p for p in handouts_dir.glob("*.yaml") if p.name not in not_handouts)


def read_shared(handouts_dir: Path, root: Path) -> tuple[dict[str, Section], list[Problem]]:
    path = handouts_dir / SHARED_FILE
    if not path.exists():
        return {}, []
    reader = NodeReader(relative(path, root))
    node, problems = read_yaml(path, reader.path)
    if node is None:
        return {}, problems
    shared = parse_shared(node, reader)
    return shared, reader.problems


def read_handout(path: Path, root: Path, shared: dict[str, Section]) -> tuple[Handout | None, list[Problem]]:
    reader = NodeReader(relative(path, root))
    node, problems = read_yaml(path, reader.path)
    if node is None:
        return None, problems
    handout = parse_handout(node, reader, shared)
    return handout, reader.problems


def load_content(handouts_dir: Path, root: Path) -> Content:
    """Load and validate every handout; raise ProblemsError listing every problem."""
    shared, problems = read_shared(handouts_dir, root)
    handouts: list[Handout] = []
    seen: dict[str, Handout] = {}
    for path in handout_files(handouts_dir):
        handout, found = read_handout(path, root, shared)
        problems += found
        if handout is None:
            continue
        if handout.id in seen:
            first = seen[handout.id]
            problems.append(Problem(handout.path, handout.id_line,
                                    f"duplicate id '{handout.id}'; already used by {first.path}"))
            continue
        seen[handout.id] = handout
        handouts.append(handout)
    pictures, found = read_pictures(handouts_dir, root, root / "templates", tuple(seen))
    problems += found
    handouts = [replace(h, pictures=pictures.get(h.id, ())) for h in handouts]
    if problems:
        raise ProblemsError(problems)
    if not handouts:
        raise ProblemsError([Problem(relative(handouts_dir, root), 0,
                                     "expected at least one handout YAML file, found none")])
    wording = template_wording(root / "templates")
    return Content(tuple(replace(h, wording=wording) for h in handouts), shared)


def translate(translations, text: Text) -> str:
    """A text in the language of `translations` (any gettext.NullTranslations): its context decides the entry."""
    if text.context:
        return translations.pgettext(text.context, text.value)
    return translations.gettext(text.value)
