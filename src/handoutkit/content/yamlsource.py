"""Reading YAML so that every value keeps its file and line.

The content stage validates YAML *nodes* (PyYAML's composer keeps a start
mark on each one) rather than plain Python objects, so every problem can be
reported as `handouts/<file>.yaml:<line>: what was expected, what was found`.

Guards that apply to any YAML the project reads: a size limit, strict UTF-8,
no tab indentation, no anchors or aliases (an "alias bomb" cannot expand),
no duplicate keys.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
import yaml.reader
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from handoutkit.errors import Problem

MAX_YAML_BYTES = 1024 * 1024  # a handout is a few KiB; anything near this is a mistake
MAX_DEPTH = 40  # handouts nest a few levels; deep nesting is a mistake (or an attack on the parser)
# libyaml's parser when PyYAML has it (it keeps the same line marks), else the pure-Python one.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DECIMAL = re.compile(r"^[-+]?[0-9][0-9_]*$")

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
NULL_TAG = "tag:yaml.org,2002:null"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def describe(node: Node) -> str:
    """How a node reads to a person, for 'found ...' in messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "nothing"
    value = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{value!r}"


@dataclass
class NodeReader:
    """Validates the nodes of one YAML file, collecting every problem."""

    path: str
    problems: list[Problem] = field(default_factory=list)

    def fail(self, node: Node | int, message: str) -> None:
        line = node if isinstance(node, int) else line_of(node)
        self.problems.append(Problem(self.path, line, message))

    def pairs(self, node: Node, what: str) -> dict[str, Node] | None:
        """The entries of a mapping node by key, refusing duplicate keys."""
        if not isinstance(node, MappingNode):
            self.fail(node, f"expected {what} as a mapping of keys, found {describe(node)}")
            return None
        values: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.fail(key_node, f"expected a plain key in {what}, found {describe(key_node)}")
            elif key in values:
                self.fail(key_node, f"duplicate key '{key}' in {what} "
                                    f"(first at line {line_of(values[key])})")
            else:
                values[key] = value_node
        return values

    def mapping(self, node: Node, what: str, required: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> dict[str, Node] | None:
        """The entries of a mapping node, checked against the keys allowed."""
        values = self.pairs(node, what)
        if values is None:
            return None
        allowed = required + optional
        for key in [k for k in values if k not in allowed]:
            node_of_key = next(k for k, _ in node.value if getattr(k, "value", None) == key)
            self.fail(node_of_key, f"unknown key '{key}' in {what}; expected one of: "
                                   f"{', '.join(allowed)}")
            del values[key]
        for key in required:
            if key not in values:
                self.fail(node, f"missing required key '{key}' in {what}")
        return values

    def sequence(self, node: Node, what: str, min_items: int = 1) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"expected {what} as a list, found {describe(node)}")
            return []
        if len(node.value) < min_items:
            self.fail(node, f"expected at least {min_items} item(s) in {what}, found none")
        return list(node.value)

    def string(self, node: Node, what: str) -> str | None:
        """A non-empty scalar, taken as the author typed it (no YAML type guessing)."""
        if not isinstance(node, ScalarNode) or node.tag == NULL_TAG:
            self.fail(node, f"expected {what} as text, found {describe(node)}")
            return None
        text = " ".join(node.value.split()) if node.style in (None, ">") else node.value.strip()
        if not text:
            self.fail(node, f"expected {what} as text, found an empty string")
            return None
        bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t"), None)
        if bad is not None:
            self.fail(node, f"{what} contains the control character U+{ord(bad):04X}; remove it")
            return None
        return text

    def integer(self, node: Node, what: str) -> int | None:
        # YAML 1.1 also reads 1:30 (base 60), 0x1F and 0b11 as integers: a revision is plain digits.
        if not isinstance(node, ScalarNode) or node.tag != INT_TAG or not DECIMAL.match(node.value):
            self.fail(node, f"expected {what} as a whole number, found {describe(node)}")
            return None
        return int(node.value.replace("_", ""))

    def date(self, node: Node, what: str) -> dt.date | None:
        if isinstance(node, ScalarNode) and node.tag in (TIMESTAMP_TAG, STR_TAG):
            try:
                return dt.date.fromisoformat(node.value.strip())
            except ValueError:
                pass
        self.fail(node, f"expected {what} as a date YYYY-MM-DD, found {describe(node)}")
        return None

    def choice(self, node: Node, what: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(node, what)
        if value is not None and value not in choices:
            self.fail(node, f"expected {what} to be one of {', '.join(choices)}; found '{value}'")
            return None
        return value


def yaml_error_problem(label: str, exc: yaml.MarkedYAMLError) -> Problem:
    """Point at where the broken construct starts (an unclosed quote), not where parsing gave up."""
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark else 0
    if exc.context_mark and exc.context:
        context_line = exc.context_mark.line + 1
        return Problem(label, context_line, f"invalid YAML {exc.context} starting here: "
                                            f"{exc.problem} (line {problem_line})")
    return Problem(label, problem_line, f"invalid YAML: {exc.problem}")


def read_yaml(path: Path, label: str) -> tuple[Node | None, list[Problem]]:
    """Parse one YAML file into its root node; problems instead of exceptions."""
    data = path.read_bytes()
    if len(data) > MAX_YAML_BYTES:
        return None, [Problem(label, 1, f"file is {len(data)} bytes; expected at most "
                                        f"{MAX_YAML_BYTES} bytes for a handout source")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [Problem(label, line, f"expected UTF-8 text, found byte "
                                           f"0x{data[exc.start]:02x} (save the file as UTF-8)")]
    text = text.removeprefix("\ufeff")
    problems = [
        Problem(label, number, "tab in indentation; indent YAML with spaces")
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]
    ]
    if problems:
        return None, problems
    try:
        # One pass over the events (no recursion) refuses aliases and deep nesting
        # before the composer, which recurses, ever sees the document.
        depth = 0
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, yaml.AliasEvent):
                problems.append(Problem(label, event.start_mark.line + 1,
                                        "anchors and aliases (*name) are not allowed; "
                                        "write the text out, or use a shared block"))
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return None, [Problem(label, event.start_mark.line + 1,
                                          f"nesting deeper than {MAX_DEPTH} levels; expected a handout's few levels")]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        if problems:
            return None, problems
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as fast_error:
        if LOADER is yaml.SafeLoader:
            return None, [located_yaml_error(label, text, fast_error)]
        # libyaml words its errors differently: report what the reference parser says.
        try:
            for _ in yaml.parse(text, Loader=yaml.SafeLoader):  # events only: no recursion
                pass
        except yaml.YAMLError as exc:
            return None, [located_yaml_error(label, text, exc)]
        return None, [located_yaml_error(label, text, fast_error)]
    if root is None:
        return None, [Problem(label, 1, "expected a mapping of keys, found an empty file")]
    return root, []


def located_yaml_error(label: str, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML error as `file:line: problem`."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return Problem(label, line, f"invalid YAML: unacceptable character #x{code:04x} "
                                    "(a control character); remove it")
    if isinstance(exc, yaml.MarkedYAMLError):
        return yaml_error_problem(label, exc)
    return Problem(label, 1, f"invalid YAML: {exc}")
