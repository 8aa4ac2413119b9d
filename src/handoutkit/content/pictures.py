"""Stage 1, content: which pictures each handout carries (handouts/pictures.yaml).

A picture is line art drawn in templates/pictures/<name>.html (inline SVG for
the drawing, HTML text for its labels, so every label is a gettext string and
prints in the patient's script). This file says which handouts carry which
picture and why a clinician must confirm it: the source article has no
pictures, so every drawing's anatomy is flagged `confirm:`.

The pictures are part of what a clinician approves: `approval.fingerprint`
covers each picture's name and the bytes of its template, so a redrawn picture
reopens the approval of every handout that prints it.

Where a picture goes follows from its name: a `where-*` picture (where the
surgery is) floats beside the first section's text, after its first block;
`triage` (whom to call) opens the warning-signs section.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import Problem, relative

PICTURES_FILE = "pictures.yaml"
PICTURES_DIR = "pictures"  # under templates/
PICTURE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TRIAGE_SECTION = "warning-signs"  # the shared section the triage picture opens


@dataclass(frozen=True)
class Picture:
    """One picture a handout prints."""

    name: str  # templates/pictures/<name>.html
    line: int  # where handouts/pictures.yaml names it for this handout
    confirm: str  # why a clinician must confirm the drawing
    sha256: str  # of the picture's template and the shared parts it draws with (_*.html)

    @property
    def template(self) -> str:
        return f"{PICTURES_DIR}/{self.name}.html"

    def placed_in(self, index: int, shared_name: str | None, position: int, blocks: int,
                  large: bool = False) -> bool:
        """Does this picture go before block `position` (of `blocks`; `blocks` is after the last one)
        of the section at `index` (its shared block's name, if any)?

        `triage` opens the warning-signs section, above the lists it sums up. A `where-*` picture
        opens the first section, so every line beside it is a line of that section: after a
        full-width first paragraph, text extractors (poppler) took the labels for lines of that
        paragraph's column and read them between the words beside the drawing. In large print
        it goes after the section's first block: a float that opens a section and does not fit
        on the page takes the section's text with it to the next one (WeasyPrint 70), which left
        large-print first pages half empty.
        """
        if self.name == "triage":
            return shared_name == TRIAGE_SECTION and position == 0
        return index == 0 and position == (min(1, blocks) if large else 0)


def picture_sha256(templates_dir: Path, name: str) -> str:
    """The bytes a picture is drawn from: its template and the shared drawing parts."""
    folder = templates_dir / PICTURES_DIR
    digest = hashlib.sha256(name.encode())
    for path in [folder / f"{name}.html", *sorted(folder.glob("_*.html"))]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_pictures(handouts_dir: Path, root: Path, templates_dir: Path,
                  handout_ids: tuple[str, ...]) -> tuple[dict[str, tuple[Picture, ...]], list[Problem]]:
    """Each handout's pictures by handout id, and every problem in handouts/pictures.yaml."""
    path = handouts_dir / PICTURES_FILE
    if not path.exists():
        return {}, []
    reader = NodeReader(relative(path, root))
    node, problems = read_yaml(path, reader.path)
    if node is None:
        return {}, problems
    found: dict[str, tuple[Picture, ...]] = {}
    top = reader.mapping(node, "the pictures file", ("pictures", "handouts"))
    if top is None:
        return {}, problems + reader.problems
    confirms: dict[str, str] = {}
    for name, value in (reader.pairs(top["pictures"], "pictures") or {}).items() if "pictures" in top else ():
        if not PICTURE_NAME.match(name) or not (templates_dir / PICTURES_DIR / f"{name}.html").is_file():
            reader.fail(_key_line(top["pictures"], name), f"unknown picture '{name}': expected a drawing in "
                               f"templates/{PICTURES_DIR}/{name}.html")
            continue
        fields = reader.mapping(value, f"picture '{name}'", ("confirm",))
        confirm = reader.string(fields["confirm"], "confirm") if fields and "confirm" in fields else None
        if confirm:
            confirms[name] = confirm
    for handout_id, value in (reader.pairs(top["handouts"], "handouts") or {}).items() if "handouts" in top else ():
        if handout_id not in handout_ids:
            reader.fail(_key_line(top["handouts"], handout_id), f"unknown handout '{handout_id}'; expected one of: {', '.join(sorted(handout_ids))}")
            continue
        pictures = []
        for item in reader.sequence(value, f"the pictures of {handout_id}"):
            name = reader.string(item, "a picture name")
            if name is None:
                continue
            if name not in confirms:
                reader.fail(item, f"unknown picture '{name}'; expected one declared under `pictures:` "
                                  f"({', '.join(sorted(confirms)) or 'none'})")
                continue
            pictures.append(Picture(name, item.start_mark.line + 1, confirms[name],
                                    picture_sha256(templates_dir, name)))
        found[handout_id] = tuple(pictures)
    return found, problems + reader.problems


def _key_line(mapping, key: str) -> int:
    """The line of a key in a mapping node (a problem about the key points at it, not its value)."""
    return next(k.start_mark.line + 1 for k, _ in mapping.value if getattr(k, "value", None) == key)
