"""Translations are never dropped: random edits of the English, then extract and update, step after step.

After every `extract` + `update`, each translation the catalog held before is
still there: current (same msgid, same msgstr, not made fuzzy), fuzzy with its
old English as `#| msgid` (previous_id), or obsolete (`#~`). The catalog the
update writes is one GNU msgfmt --check accepts, so the next update can read it.
Between updates a translator fills in new entries and sometimes reviews the
fuzzy ones.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.translation.catalogs import load_catalog, update
from handoutkit.translation.extract import extract

from .conftest import make_project

pytestmark = pytest.mark.slow  # hypothesis runs of the whole update pipeline

POOL = [
    "Walk soon after surgery.",
    "Rest when you are tired.",
    "Stand up slowly.",
    "Walk for a short time.",
    "Drink water often.",
    "Wear shoes that fit well.",
    "Walk with a friend or family member.",
    "Stop and sit down if you feel dizzy.",
]
LISTS = ("bullets", "steps")


# ---------------------------------------------------------------- the English, as a model


@dataclass
class English:
    """The editable parts of walking.yaml."""

    title: str = "Walking after surgery"
    summary: str = "Walking helps you heal."
    heading: str = "Why walk"
    paragraph: str = "Walking helps **blood flow** and healing."
    bullets: list[str] | None = None
    steps: list[str] | None = None

    def __post_init__(self) -> None:
        self.bullets = self.bullets or ["Walk soon after surgery.", "Rest when you are tired."]
        self.steps = self.steps or ["Stand up slowly.", "Walk for a short time."]

    def yaml(self) -> str:
        return yaml.safe_dump({
            "id": "walking",
            "title": self.title,
            "summary": self.summary,
            "revision": {"number": 2},
            "sections": [
                {"heading": self.heading, "blocks": [
                    {"paragraph": {"text": self.paragraph,
                                   "note": "Keep the ** marks around the words that are bold."}},
                    {"bullets": list(self.bullets)},
                    {"steps": list(self.steps)},
                ]},
                {"include": "call-us"},
            ],
        }, sort_keys=False, allow_unicode=True).replace("'2026-11-20'", "2026-11-20")

    def apply(self, edit: tuple) -> None:
        kind = edit[0]
        if kind == "change":
            _, slot, how, pick = edit
            old = self.get(slot)
            new = {"append": f"{old.rstrip('.')} every day.",
                   "reword": f"Please {old[0].lower()}{old[1:]}",
                   "pool": POOL[pick % len(POOL)]}[how]
            self.set(slot, new)
        elif kind == "delete":
            _, name, index = edit
            items = getattr(self, name)
            if len(items) > 1:
                del items[index % len(items)]
        elif kind == "add":
            _, name, index, pick = edit
            items = getattr(self, name)
            items.insert(index % (len(items) + 1), POOL[pick % len(POOL)])

    SLOTS = ("title", "summary", "heading", "bullets.0", "bullets.1", "steps.0", "steps.1")

    def get(self, slot: str) -> str:
        name, _, index = slot.partition(".")
        if not index:
            return getattr(self, name)
        items = getattr(self, name)
        return items[int(index) % len(items)]

    def set(self, slot: str, value: str) -> None:
        name, _, index = slot.partition(".")
        if not index:
            setattr(self, name, value)
        else:
            items = getattr(self, name)
            items[int(index) % len(items)] = value


edits = st.one_of(
    st.tuples(st.just("change"), st.sampled_from(English.SLOTS), st.sampled_from(("append", "reword", "pool")),
              st.integers(0, 7)),
    st.tuples(st.just("delete"), st.sampled_from(LISTS), st.integers(0, 5)),
    st.tuples(st.just("add"), st.sampled_from(LISTS), st.integers(0, 5), st.integers(0, 7)),
)
steps = st.lists(st.tuples(edits, st.booleans()), min_size=1, max_size=4)


# ---------------------------------------------------------------- the translator


def translate_everything(project: Project, review_fuzzy: bool) -> None:
    """What a translator does between updates: translate new entries, maybe review the fuzzy ones."""
    catalog = load_catalog(project, "es")
    for message in catalog:
        if not message.id:
            continue
        if not message.string:
            message.string = f"ES {message.id}"  # keeps every placeholder of the English
        if review_fuzzy and message.fuzzy:
            message.flags.discard("fuzzy")
            message.previous_id = []
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, include_previous=True)
    project.po_path("es").write_bytes(buffer.getvalue())


# ---------------------------------------------------------------- the invariant


def translations(catalog: Catalog) -> list[tuple[str, str | None, str, bool]]:
    """(msgid, msgctxt, msgstr, fuzzy) of every translated, current entry."""
    return [(m.id, m.context, m.string, m.fuzzy) for m in catalog if m.id and m.string]


def lost_translations(before: Catalog, after: Catalog) -> list[str]:
    lost = []
    for msgid, context, string, was_fuzzy in translations(before):
        current = after.get(msgid, context)
        if current is not None and current.string == string:
            if current.fuzzy and not was_fuzzy:
                lost.append(f"{msgid!r}: English unchanged, but its translation was made fuzzy")
            continue
        if any(m.fuzzy and m.string == string and msgid in (m.previous_id or []) for m in after if m.id):
            continue
        # A fuzzy translation changed again: GNU msgmerge keeps the English it was made
        # from under #|, not the English in between, which is what the translator needs.
        earlier = before.get(msgid, context)
        if was_fuzzy and earlier is not None and earlier.previous_id and any(
                m.fuzzy and m.string == string and m.previous_id == earlier.previous_id for m in after if m.id):
            continue
        old = after.obsolete.get(msgid)
        if old is not None and old.string == string:
            continue
        lost.append(f"{msgid!r} -> {string!r}: neither current, nor fuzzy with #| msgid, nor obsolete")
    for msgid, old in before.obsolete.items():
        kept = after.obsolete.get(msgid)
        current = after.get(msgid, old.context)
        if not ((kept is not None and kept.string == old.string)
                or (current is not None and current.string == old.string)):
            lost.append(f"obsolete {msgid!r} -> {old.string!r} was dropped")
    return lost


def run_steps(project: Project, plan: list[tuple[tuple, bool]]) -> None:
    english = English()
    source = project.handouts_dir / "walking.yaml"
    for number, (edit, review) in enumerate(plan, 1):
        before = load_catalog(project, "es")
        english.apply(edit)
        source.write_text(english.yaml(), "utf-8")
        note(f"step {number}: {edit}; bullets={english.bullets} steps={english.steps}")
        extract(project)
        update(project, ("es",))
        po_text = project.po_path("es").read_text("utf-8")
        note(po_text)
        try:  # the update's own output must pass GNU msgfmt --check, or the next update cannot read it
            after = load_catalog(project, "es")
        except ProblemsError as exc:
            raise AssertionError(f"step {number} ({edit}): update wrote a catalog msgfmt --check rejects:\n"
                                 f"{exc}") from None
        lost = lost_translations(before, after)
        assert not lost, f"step {number} ({edit}) lost translations: {lost}"
        translate_everything(project, review)


@settings(max_examples=20, deadline=None, database=None,
          phases=(Phase.explicit, Phase.generate),  # no shrinking: it would re-run the pipeline hundreds of times
          suppress_health_check=(HealthCheck.too_slow,))
@given(plan=steps)
# A line cut and then put back; an item replaced by a sentence that was cut earlier.
@example(plan=[(("delete", "bullets", 1), False), (("add", "bullets", 1, 1), False)])
@example(plan=[(("delete", "steps", 0), True), (("change", "bullets.0", "pool", 2), False)])
# Found by hypothesis in CI: an obsolete entry whose English comes back as a fuzzy guess of another.
@example(plan=[(("change", "summary", "reword", 1), True), (("change", "steps.0", "reword", 5), False),
               (("delete", "bullets", 4), True), (("add", "steps", 2, 0), False)])
# Found with GNU msgmerge: a fuzzy entry changed again keeps its first English under #|.
@example(plan=[(("change", "steps.1", "append", 2), False), (("change", "steps.1", "append", 2), False)])
def test_updates_never_drop_a_translation(plan: list[tuple[tuple, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        shutil.rmtree(project.locales_dir / "de")
        run_steps(project, plan)


def test_english_removed_then_restored_gets_its_translation_back(sample: Project) -> None:
    """The commonest edit there is: a line is cut, the PO updated, and the line put back."""
    source = sample.handouts_dir / "walking.yaml"
    original = source.read_text("utf-8")
    extract(sample)
    update(sample, ("es",))
    assert load_catalog(sample, "es").get("Rest when you are tired.").string == "Descanse cuando esté cansado."

    source.write_text(original.replace("          - Rest when you are tired.\n", ""), "utf-8")
    extract(sample)
    update(sample, ("es",))
    assert "Rest when you are tired." in load_catalog(sample, "es").obsolete

    source.write_text(original, "utf-8")
    extract(sample)
    update(sample, ("es",))
    # The catalog must still pass msgfmt --check (no duplicate of the #~ entry) ...
    try:
        catalog = load_catalog(sample, "es")
    except ProblemsError as exc:
        raise AssertionError(f"update wrote a catalog msgfmt --check rejects:\n{exc}") from None
    # ... and the restored English keeps the translation it had (msgmerge brings it back too).
    restored = catalog.get("Rest when you are tired.")
    assert restored is not None and restored.string == "Descanse cuando esté cansado."
    # A second update is a no-op, not an error.
    extract(sample)
    update(sample, ("es",))
