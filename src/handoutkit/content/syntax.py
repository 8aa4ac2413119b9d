"""The tiny syntax translators keep intact, defined once for checks, lint, render and exchange.

- placeholders the program fills in: `{clinic_phone}` (handout text) and
  `%(phone)s` (template labels);
- `**bold**`, the only inline markup;
- numbers, which are safety data: a run of digits, or a phone-like run such
  as (555) 010-0142 that must read as one unit.
"""

from __future__ import annotations

import re
from collections import Counter

BRACE_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")  # group 1: %(name)s, group 2: {name}
EMPHASIS = "**"
DIGITS = re.compile(r"\d+")  # any script's decimal digits; compared by value
# A number, or a phone-like run such as (555) 010-0142, read as one unit (render isolates it).
NUMBER_RUN = r"(?:\(\d+\) ?)?\d[\d\-–.:/ ]*\d|\d"
RENDER_TOKEN = re.compile(
    r"(?P<placeholder>\{(?P<name>\w+)\})"
    rf"|(?P<bold>{re.escape(EMPHASIS)})"
    rf"|(?P<number>{NUMBER_RUN})"
)


def placeholders(text: str) -> Counter:
    """Every placeholder of a text by name, with how often it occurs."""
    return Counter(a or b for a, b in PLACEHOLDER.findall(text))


def without_placeholders(text: str, replacement: str = "") -> str:
    return PLACEHOLDER.sub(replacement, text)


def numbers(text: str) -> Counter:
    """The numbers of a text by value (placeholders aside), so ٣ and 3 are the same number."""
    return Counter(int(run) for run in DIGITS.findall(without_placeholders(text)))
