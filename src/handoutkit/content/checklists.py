"""Clinical checklists: what every handout of a kind must cover (`handouts lint`, the review sheet).

The source article bounds what the handouts say, and it leaves out what matters
most after spine surgery. So the clinic keeps, in handouts/checklists.yaml,
the topics every handout of a kind must cover:

    items:
      chest-pain: "Chest pain: call the emergency number (a blood clot in the lungs)"
    checklists:
      procedure: [chest-pain, ...]          # every handout of kind: procedure
      anterior-cervical: [swallowing-neck]  # handouts that list it in `checklists:`

A handout must cover the checklist of its `kind:` (when there is one) and each
checklist it names in `checklists:`. A text covers an item with `covers: ITEM`.
An item a handout does not cover fails `handouts lint`, naming the item and the
handout, unless the approving clinician waived it explicitly: `handouts approve
ID --waive ITEM=REASON` puts the waiver into the signed approval record.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handoutkit.content.handouts import (
    CHECKLISTS_FILE,
    HANDOUT_ID,
    Handout,
    Text,
    handout_texts,
)
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import Problem, ProblemsError, relative


@dataclass(frozen=True)
class Checklists:
    items: dict[str, str]  # item id -> the topic, as the clinician reads it
    lists: dict[str, tuple[str, ...]]  # checklist name -> its item ids
    path: str = CHECKLISTS_FILE

    def required(self, handout: Handout) -> list[tuple[str, str]]:
        """(checklist, item) pairs the handout must cover, each item once, in checklist order."""
        names = ((handout.kind,) if handout.kind in self.lists else ()) + handout.checklists
        seen, pairs = set(), []
        for name in names:
            for item in self.lists.get(name, ()):
                if item not in seen:
                    seen.add(item)
                    pairs.append((name, item))
        return pairs


@dataclass(frozen=True)
class Coverage:
    """One checklist item of one handout: where it is covered, or the waiver that stands for it."""

    checklist: str
    item: str
    topic: str
    texts: tuple[Text, ...]  # the texts that cover it, in reading order
    waiver: str | None = None  # the approving clinician's reason, when waived

    @property
    def missing(self) -> bool:
        return not self.texts and self.waiver is None


def read_checklists(handouts_dir: Path, root: Path) -> Checklists:
    """The clinic's checklists; no file means no checklist to meet."""
    path = handouts_dir / CHECKLISTS_FILE
    label = relative(path, root)
    if not path.exists():
        return Checklists({}, {}, label)
    reader = NodeReader(label)
    node, problems = read_yaml(path, label)
    if node is None:
        raise ProblemsError(problems)
    keys = reader.mapping(node, CHECKLISTS_FILE, ("items", "checklists")) or {}
    items: dict[str, str] = {}
    for item, topic in (reader.pairs(keys["items"], "the checklist items") or {}).items() if "items" in keys else ():
        text = reader.string(topic, f"the topic of checklist item '{item}'")
        if not HANDOUT_ID.match(item):
            reader.fail(topic, f"expected a checklist item name in lowercase-with-dashes, found {item!r}")
        elif text:
            items[item] = " ".join(text.split())
    lists: dict[str, tuple[str, ...]] = {}
    for name, members in (reader.pairs(keys["checklists"], "the checklists") or {}).items() \
            if "checklists" in keys else ():
        found = []
        for member in reader.sequence(members, f"the items of checklist '{name}'"):
            item = reader.string(member, f"an item of checklist '{name}'")
            if item is not None and item not in items:
                reader.fail(member, f"unknown checklist item {item!r} in '{name}'; 'items:' defines: "
                                    f"{', '.join(sorted(items)) or 'none'}")
            elif item is not None:
                found.append(item)
        lists[name] = tuple(found)
    if reader.problems:
        raise ProblemsError(reader.problems)
    return Checklists(items, lists, label)


def coverage(handout: Handout, checklists: Checklists, waivers: dict[str, str] | None = None) -> list[Coverage]:
    """Every checklist item the handout must cover, with the texts that cover it or its waiver."""
    texts = list(handout_texts(handout))
    waivers = waivers or {}
    return [Coverage(name, item, checklists.items[item], tuple(t for t in texts if item in t.covers),
                     waivers.get(item))
            for name, item in checklists.required(handout)]


def checklist_problems(handout: Handout, checklists: Checklists, waivers: dict[str, str] | None = None
                       ) -> list[Problem]:
    """Unknown checklists or items named in the handout, and every required item it misses."""
    problems = []
    for name in handout.checklists:
        if name not in checklists.lists:
            problems.append(Problem(handout.path, handout.checklists_line,
                                    f"unknown checklist {name!r}; {checklists.path} defines: "
                                    f"{', '.join(sorted(checklists.lists)) or 'none'}"))
    seen = set()
    for text in handout_texts(handout):
        for item in text.covers:
            if item not in checklists.items and (text.path, text.line, item) not in seen:
                seen.add((text.path, text.line, item))
                problems.append(Problem(text.path, text.line, f"covers unknown checklist item {item!r}; "
                                                              f"{checklists.path} defines: "
                                                              f"{', '.join(sorted(checklists.items)) or 'none'}"))
    for entry in coverage(handout, checklists, waivers):
        if entry.missing:
            problems.append(Problem(handout.path, handout.id_line, f"{handout.id} misses checklist item "
                                    f"'{entry.item}' ({entry.checklist}: {entry.topic}); write it and mark the "
                                    f"text `covers: {entry.item}`, or a clinician waives it: `handouts approve "
                                    f"{handout.id} --waive {entry.item}=REASON`"))
    return problems


def waivable(handout: Handout, checklists: Checklists, waivers: dict[str, str]) -> list[str]:
    """Waivers that name no required item of the handout (a typo must not pass as a waiver)."""
    required = {item for _, item in checklists.required(handout)}
    return sorted(item for item in waivers if item not in required)

