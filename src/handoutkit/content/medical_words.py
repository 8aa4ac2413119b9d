"""Medical words explained where a patient first meets them (`handouts lint`).

handouts/medical-words.yaml lists the medical words the handouts use (incision,
anesthesia, spirometer ...) and the plain words that explain each one. A
notes-for-translators explanation does not count: the patient must read it.
So, in each handout, the first text that uses a term must explain it:

- in the same text ("a small incision (cut)", "... This is called fusion."), or
- when the first use is a heading ("What is a lumbar laminectomy?"), anywhere
  in the section under it: the section is the explanation.

Texts are taken in the order a reader meets them: the key points, then the
sections. The title and summary are exempt: they name the surgery, and the
handout's first section says what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from handoutkit.content.handouts import MEDICAL_WORDS_FILE, Handout, Text
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import Problem, ProblemsError, relative


@dataclass(frozen=True)
class Term:
    term: str
    forms: re.Pattern  # the term as it is written in a text: whole words, any case
    explanations: tuple[str, ...]  # plain words, any of which explains it
    explained_by: re.Pattern  # any explanation, at the start of a word ("cut" finds "cuts")


def term_pattern(words: list[str], whole: bool) -> re.Pattern:
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})" + (r"\b" if whole else ""), re.IGNORECASE)


def read_medical_words(handouts_dir: Path, root: Path) -> list[Term]:
    """The listed medical words; no file means none to check."""
    path = handouts_dir / MEDICAL_WORDS_FILE
    if not path.exists():
        return []
    reader = NodeReader(relative(path, root))
    node, problems = read_yaml(path, reader.path)
    if node is None:
        raise ProblemsError(problems)
    keys = reader.mapping(node, MEDICAL_WORDS_FILE, ("terms",)) or {}
    terms = []
    for item in reader.sequence(keys["terms"], "terms") if "terms" in keys else ():
        fields = reader.mapping(item, "a term", ("term", "explained_by"), ("forms",))
        if not fields or "term" not in fields or "explained_by" not in fields:
            continue
        term = reader.string(fields["term"], "the term")
        forms = ([reader.string(n, "a form of the term") for n in reader.sequence(fields["forms"], "the forms")]
                 if "forms" in fields else [term])
        explanations = [reader.string(n, "an explanation")
                        for n in reader.sequence(fields["explained_by"], "the explanations")]
        if term and all(forms) and all(explanations):
            terms.append(Term(term, term_pattern(forms, whole=True), tuple(explanations),
                              term_pattern(explanations, whole=False)))
    if reader.problems:
        raise ProblemsError(reader.problems)
    return terms


def reader_order(handout: Handout) -> Iterator[tuple[Text, tuple[Text, ...]]]:
    """Each text a patient reads below the masthead, with the texts that may explain a term in it:
    the text itself, or for a heading, its whole section."""
    for point in handout.key_points:
        yield point, (point,)
    for section in handout.sections:
        body = tuple(t for block in section.blocks for t in (block.title, block.text, *block.items) if t)
        yield section.heading, (section.heading, *body)
        for text in body:
            yield text, (text,)


def unexplained(handout: Handout, term: Term) -> Text | None:
    """Where the handout first uses the term without explaining it, or None."""
    for text, explaining in reader_order(handout):
        if term.forms.search(text.value):
            return None if any(term.explained_by.search(t.value) for t in explaining) else text
    return None


def unexplained_word_problems(handout: Handout, terms: list[Term]) -> list[Problem]:
    problems = []
    for term in terms:
        text = unexplained(handout, term)
        if text is not None:
            plain = " or ".join(repr(e) for e in term.explanations)
            problems.append(Problem(text.path, text.line, f"'{term.term}' is used here for the first time "
                                    f"without an explanation a patient can read; explain it right here "
                                    f"(handouts/medical-words.yaml accepts {plain})"))
    return problems
