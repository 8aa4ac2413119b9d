"""Meaning: does an English back-translation say what the English says?

A bilingual reviewer writes in English what a translation says, without
looking at the English. These functions compare that back-translation with the
English source, the way a careful coordinator would: a negation in one and not
the other, numbers (digits and number words), the emergency and phone
placeholders, durations and units, and the share of content words they have in
common. They are deliberately simple and explain every disagreement in words;
`handouts review` records a disagreeing row as disputed (the draft notice
stays) and refuses rows that are not back-translations at all.
"""

from __future__ import annotations

import re
from collections import Counter

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

# English negation: a back-translation agrees when both or neither say "not" in some form.
# ("Do not stop or change any medicine" against "Stop or change any medicine" disagrees.)
NEGATION = re.compile(r"\b(?:not|no|never|nothing|none|nobody|neither|nor|without|cannot|avoid)\b|n't\b",
                      re.IGNORECASE)
NOT_A_NEGATION = re.compile(r"\b(?:at no (?:cost|charge)|free of charge|no matter|not only|no one|not long|"
                            r"without (?:missing|fail))\b",
                            re.IGNORECASE)
SYNONYMS = {
    "doctor": "surgeon", "physician": "surgeon", "wound": "incision", "cut": "incision", "operation": "surgery",
    "leaflet": "handout", "sheet": "handout", "medication": "medicine", "drug": "medicine", "strenuous": "hard",
    "vigorous": "hard", "strong": "severe", "intense": "severe", "physio": "therapy", "telephone": "phone",
    "tablet": "pill", "dressing": "bandage", "phone": "call", "contact": "call", "immediately": "now",
}
PHRASES = re.compile(r"\b(?:right away|at once|straight away|right now)\b")

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "hundred": 100, "once": 1, "twice": 2, "single": 1, "both": 2,
    "first": 1, "third": 3, "fourth": 4, "half": 0.5, "dozen": 12,
}
# "one" is as often a pronoun ("an artificial one", "in one list") as a count: it only counts
# where the other text states another number ("one or more nights" / "two or more nights").
SOFT = {"one"}
# "one" that is not a count: "no one", "someone", "anyone" are single words or pronoun phrases.
NOT_A_COUNT = re.compile(r"\b(?:no|any|every|some|each|the)[ -]one\b|\bone of\b|\bone another\b", re.IGNORECASE)
DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
PHONE_NUMBER = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")

UNITS = {
    "second": "second", "seconds": "second", "minute": "minute", "minutes": "minute", "min": "minute",
    "hour": "hour", "hours": "hour", "hrs": "hour", "day": "day", "days": "day", "daily": "day",
    "night": "night", "nights": "night", "overnight": "night", "week": "week", "weeks": "week",
    "weekly": "week", "month": "month", "months": "month", "year": "year", "years": "year",
    "pound": "pound", "pounds": "pound", "lb": "pound", "lbs": "pound", "kilogram": "kilogram",
    "kilograms": "kilogram", "kg": "kilogram", "kilo": "kilogram", "kilos": "kilogram",
    "mile": "mile", "miles": "mile", "kilometer": "kilometer", "kilometers": "kilometer", "km": "kilometer",
    "mg": "milligram", "milligram": "milligram", "milligrams": "milligram", "degree": "degree",
    "degrees": "degree", "°f": "degree", "°c": "degree", "fahrenheit": "degree", "celsius": "degree",
}

# What a back-translation says where the English has a placeholder the program fills in.
PLACEHOLDER_WORDS = {
    "emergency_number": ("{emergency_number}", "911", "112", "999", "emergency", "ambulance"),
    "number": ("%(number)s", "911", "112", "999", "emergency", "ambulance"),
    "clinic_phone": ("{clinic_phone}", "phone", "telephone", "call", "clinic", "office", "number"),
    "phone": ("%(phone)s", "phone", "telephone", "call", "clinic", "office", "number"),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}|%\(([a-z_]+)\)s")

STOPWORDS = set("""
a an the and or but if of to in on at for from by with as is are was were be been being it its this that these
those you your yours yourself we us our i me my he she they them their his her there here than then so such
do does did done have has had will would can could should may might must shall about into over under up down
out off again very too also just only more most some any all each other what which who whom when where why how
please let get gets got make makes made go goes went tell tells told ask asks asked s t
""".split())


def _stem(word: str) -> str:
    word = SYNONYMS.get(word, word)
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return SYNONYMS.get(word, word.removesuffix("e") if len(word) > 4 else word)


def content_words(text: str) -> set[str]:
    plain = PHRASES.sub(" now ", PLACEHOLDER.sub(" ", text.lower().replace("**", " ").replace("’", "'")))
    return {_stem(w) for w in WORD.findall(plain)
            if w not in STOPWORDS and w not in NUMBER_WORDS and len(w) > 1 and not NEGATION.fullmatch(w)}


def negations(text: str) -> int:
    return len(NEGATION.findall(NOT_A_NEGATION.sub(" ", text.replace("’", "'"))))


def has_negation(text: str) -> bool:
    return negations(text) > 0


def number_values(text: str, soft: bool = True) -> Counter:
    """Every number an English text states, digits and words alike, as values (`soft`: with "one")."""
    plain = PLACEHOLDER.sub(" ", text.lower().replace("’", "'"))
    plain = NOT_A_COUNT.sub(" ", plain)
    values: Counter = Counter()
    for match in DIGITS.finditer(plain):
        values[float(match.group().replace(",", "."))] += 1
    for word in WORD.findall(plain):
        if word in NUMBER_WORDS and (soft or word not in SOFT):
            values[float(NUMBER_WORDS[word])] += 1
    return values


def numbers_agree(english: str, other: str) -> bool:
    """The same numbers by value; a lone "one" on one side only is not a number (see SOFT)."""
    if number_values(english) == number_values(other):
        return True
    return number_values(english, soft=False) == number_values(other, soft=False) and \
        not (set(number_values(english)) ^ set(number_values(other))) - {1.0}


def unit_names(text: str) -> set[str]:
    plain = text.lower().replace("’", "'")
    return {UNITS[w] for w in re.findall(r"°[fc]|[a-z]+", plain) if w in UNITS}


def overlap(english: str, back: str) -> float:
    """The share of the English's content words that the back-translation also has (1.0 for no content words)."""
    ours = content_words(english)
    return len(ours & content_words(back)) / len(ours) if ours else 1.0


MIN_OVERLAP = 0.2  # measured on the machine back-translations of the 12 locales (TRANSLATING.md)


def _fmt(values: Counter) -> str:
    return ", ".join(f"{v:g}" for v in sorted(values.elements())) or "none"


def disagreements(english: str, back: str) -> list[str]:
    """Why a back-translation does not say what the English says; empty when it agrees."""
    reasons = []
    if has_negation(english) != has_negation(back):
        where = "the English" if has_negation(english) else "the back-translation"
        reasons.append(f"negation: only {where} says not, no, never, without or avoid")
    # The program fills in the emergency and phone numbers: a reviewer who writes "911" or the
    # clinic's number where the English has the placeholder wrote what the patient reads.
    named = {m[1] or m[2] for m in PLACEHOLDER.finditer(english)}
    counted = back
    if named & {"emergency_number", "number"}:
        counted = re.sub(r"\b(?:911|112|999)\b", " ", counted)
    if named & {"clinic_phone", "phone"}:
        counted = PHONE_NUMBER.sub(" ", counted)
    if not numbers_agree(english, counted):
        ours, theirs = number_values(english), number_values(counted)
        reasons.append(f"numbers: the English has {_fmt(ours)}, the back-translation {_fmt(theirs)}")
    for match in PLACEHOLDER.finditer(english):
        name = match[1] or match[2]
        words = PLACEHOLDER_WORDS.get(name)
        if words and not any(w.lower() in back.lower() for w in words):
            reasons.append(f"placeholder: the English has {match.group()}; the back-translation never mentions it "
                           f"({' / '.join(words[1:4])}...)")
    if (units := unit_names(english)) != (back_units := unit_names(back)):
        reasons.append(f"durations and units: the English has {', '.join(sorted(units)) or 'none'}, "
                       f"the back-translation {', '.join(sorted(back_units)) or 'none'}")
    if (share := overlap(english, back)) < MIN_OVERLAP:
        reasons.append(f"content: only {share:.0%} of the English's content words are in the back-translation")
    return reasons


JUNK = re.compile(r"^(?:todo|tbd|tba|fixme|n/?a|none|nil|null|same|same as (?:above|english|source)|ok|okay|yes|"
                  r"no|x+|\.+|-+|_+|\?+|!+|\*+|lorem ipsum.*|\W*back[- ]?translation\W*|translation|translated|"
                  r"see above|as above|idem|ditto|correct|fine|good|checked|reviewed|\(.*\))$", re.IGNORECASE)
COPY_MIN_WORDS = 5  # a short phrase may come back word for word; a sentence that does was not back-translated


def normalized(text: str) -> str:
    return " ".join(WORD.findall(PLACEHOLDER.sub(lambda m: m.group(), text.lower())))


def not_a_back_translation(english: str, back: str) -> str | None:
    """Why a sheet cell is not a back-translation at all (placeholder text, a copy of the English), or None."""
    text = back.strip()
    if JUNK.match(text) or not WORD.search(text.lower()):
        return f"{text!r} is placeholder text, not a back-translation"
    if normalized(text) == normalized(english) and len(WORD.findall(english.lower())) >= COPY_MIN_WORDS:
        return "the back-translation is a copy of the English: write what the translation says, without the English"
    return None
