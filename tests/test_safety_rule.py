"""Safety-critical by rule: every restriction, medicine instruction, duration, number and warning sign.

The rule lives in handoutkit.content.safety; these tests hold it to the content
itself: every printed line it finds is marked SAFETY-CRITICAL in the POT (so
it reaches the back-translation sheet of every language), search keywords
never are, and the lines the old hand-marking missed are in.
"""

from __future__ import annotations

import pytest

from handoutkit.content.handouts import SAFETY_MARK, handout_texts, load_content
from handoutkit.content.safety import safety_reason
from handoutkit.content.settings import Project
from handoutkit.translation.catalogs import load_catalog, read_template
from handoutkit.translation.review import back_translation_sheet, is_safety_critical

LIFTING = "Do not lift heavy things. Limit bending. Your surgeon will tell you your limits."
RECOVERY = "Most people recover in 3 weeks to 3 months."


@pytest.mark.parametrize("text, reason", [
    (LIFTING, "a restriction"),
    ("Avoid hard exercise until your surgeon says you can.", "a restriction"),
    ("Take pain medicine only as your care team tells you.", "a restriction"),
    ("Make a list of all the medicines you take.", "a medicine instruction"),
    ("Look at your incision each day.", "a duration"),
    ("Some stay in the hospital for one or more nights.", "a duration"),
    ("The two bones are joined so they grow into one bone.", "a number"),
    ("Call {emergency_number} right away if you have", "a warning sign or whom to call"),
    ("New weakness or numbness in your arms or legs", "a warning sign or whom to call"),
    ("Ask your surgeon when you can drive.", "smoking, driving or the ride home"),
])
def test_the_rule_names_what_makes_a_line_safety_critical(text: str, reason: str) -> None:
    assert safety_reason(text) == reason


@pytest.mark.parametrize("text", ["Walk soon after surgery. Walking helps blood flow and healing.",
                                  "What is a lumbar laminectomy?", "Comfortable, loose clothes"])
def test_a_plain_line_is_not(text: str) -> None:
    assert safety_reason(text) is None


def test_every_line_the_rule_finds_is_marked_in_the_pot(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    marked = {str(m.id) for m in read_template(repo) if m.id and is_safety_critical(m)}
    printed = {t.value for h in content.handouts for t in handout_texts(h)}
    keywords = {k.value for h in content.handouts for k in h.keywords}
    found = {text for text in printed - keywords if safety_reason(text)}
    assert len(found) > 40
    assert not found - marked, sorted(found - marked)
    assert not keywords & marked - printed, "a search keyword is never printed, so never safety-critical"
    assert any(t.startswith(LIFTING) for t in marked), "the lifting restriction"
    assert any(RECOVERY in t for t in marked), "the recovery time"
    for handout in content.handouts:
        for text in handout_texts(handout):
            if text.value in found:
                assert text.safety, f"{text.path}:{text.line}: {text.value!r}"


def test_every_warning_callout_line_is_safety_critical(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    lines = [t for h in content.handouts for s in h.sections for b in s.blocks if b.callout == "warning"
             for t in (b.title, b.text, *b.items) if t is not None]
    assert lines and all(t.safety for t in lines), [t.value for t in lines if not t.safety]


def test_the_lifting_restriction_reaches_every_back_translation_sheet(repo: Project) -> None:
    for locale in repo.catalog_locales():
        catalog = load_catalog(repo, locale)
        assert SAFETY_MARK in " ".join(next(m for m in catalog if str(m.id) == LIFTING).auto_comments), locale
        sheet, count = back_translation_sheet(repo, locale, catalog, every=True)
        assert LIFTING in sheet.decode("utf-8") and count >= 50, locale
