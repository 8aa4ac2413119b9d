"""Which lines are safety-critical: one rule, applied to every printed text of the content.

A line is safety-critical when it states a restriction, a medicine
instruction, a duration, a number or a warning sign (or whom to call,
smoking, driving and the ride home), and every item or text of a warning
callout is. Such a line carries the SAFETY-CRITICAL note in the POT and every
PO file and goes through the back-translation sheet in every language: a
translation that drops "not" from "Do not lift heavy things" or turns "3
weeks" into "3 days" is found by a bilingual reviewer, not by a patient.
`safety: true` in the YAML can still add a line the rule misses; nothing
removes one the rule finds.
"""

from __future__ import annotations

import re

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "twenty", "thirty", "hundred", "once", "twice", "half", "dozen")
TIME_UNITS = r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|overnight|daily|weekly)"

# (what the line states, the English that shows it): checked in this order, the first match names it.
RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a warning sign or whom to call", re.compile(
        r"\{emergency_number\}|\{clinic_phone\}|%\((?:number|phone)\)s|\b(?:emergency|911|call us (?:at|if)|call your|"
        r"fever|infection|bleeding|numbness|weakness|trouble breathing|chest pain|severe|worse|warning signs?)\b",
        re.IGNORECASE)),
    ("a restriction", re.compile(
        r"\b(?:do not|don't|never|avoid|until|limit|only as|only when|must not|should not|cannot|wait|"
        r"no (?:lifting|driving|bending|baths?|swimming))\b", re.IGNORECASE)),
    ("a medicine instruction", re.compile(
        r"\b(?:medicines?|medications?|pills?|doses?|blood thinners?|aspirin|ibuprofen|opioids?|antibiotics?|"
        r"vitamins?|herbal)\b", re.IGNORECASE)),
    ("a duration", re.compile(rf"\b{TIME_UNITS}\b", re.IGNORECASE)),
    ("a number", re.compile(rf"\d|\b(?:{'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)),
    ("smoking, driving or the ride home", re.compile(
        r"\b(?:smok\w*|quit\w*|driv\w*|alcohol|ride home)\b", re.IGNORECASE)),
)


def safety_reason(text: str) -> str | None:
    """What makes an English line safety-critical, or None."""
    return next((what for what, pattern in RULES if pattern.search(text)), None)
