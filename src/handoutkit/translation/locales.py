"""Locale facts: direction, language names, dates and digits, from CLDR through Babel.

The renderer, the checks, the catalog page, lint and stats all ask these
questions; they live here so that none of them imports the renderer to get
an answer. Babel is the only dependency.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.dates import format_date

# The first digit (zero) of each CLDR numbering system a locale may call native.
# Babel knows a locale's numbering systems by name but does not ship their digits.
NUMBERING_SYSTEM_ZERO = {"arab": 0x0660, "arabext": 0x06F0, "deva": 0x0966, "beng": 0x09E6,
                         "guru": 0x0A66, "gujr": 0x0AE6, "orya": 0x0B66, "tamldec": 0x0BE6,
                         "telu": 0x0C66, "knda": 0x0CE6, "mlym": 0x0D66, "thai": 0x0E50,
                         "laoo": 0x0ED0, "tibt": 0x0F20, "mymr": 0x1040, "khmr": 0x17E0}


def html_lang(locale: str) -> str:
    """BCP 47 tag for HTML and PDF /Lang: zh_Hans -> zh-Hans."""
    return locale.replace("_", "-")


def is_rtl(locale: str) -> bool:
    return Locale.parse(locale).character_order == "right-to-left"


@lru_cache(maxsize=None)
def tag_direction(tag: str) -> str | None:
    """A BCP 47 tag's direction from CLDR: "rtl" (ar, ckb, ug, pa-Arab), "ltr" (zh-Hans, sd-Deva),
    or None for a tag CLDR does not know (the text's own bidi classes must decide)."""
    try:
        order = Locale.parse(tag, sep="-").character_order
    except (UnknownLocaleError, ValueError, TypeError):  # unknown to CLDR, or a malformed tag
        return None
    return "rtl" if order == "right-to-left" else "ltr"


@lru_cache(maxsize=None)
def writes_in_latin(locale: str) -> bool:
    """Whether the locale is written in the Latin script (its script, or CLDR's likely one:
    ko -> Kore, ru -> Cyrl, zh_Hans -> Hans, vi -> Latn), through Babel."""
    parsed = Locale.parse(locale)
    if parsed.script:
        return parsed.script == "Latn"
    likely = get_global("likely_subtags")
    tag = likely.get(str(parsed)) or likely.get(parsed.language)
    # parse_locale, not Locale.parse: the latter drops a language's default script
    return tag is None or parse_locale(tag)[2] == "Latn"


def direction(locale: str) -> str:
    """The HTML dir value: rtl or ltr."""
    return "rtl" if is_rtl(locale) else "ltr"


def native_language_name(locale: str) -> str:
    """The language's name in its own script: Español, 中文 (简体), العربية, Filipino."""
    parsed = Locale.parse(locale)
    # Babel expands "tl" to fil_PH; show the script where it matters (zh_Hans), never the country.
    name = (parsed.get_display_name(parsed) if parsed.script else parsed.get_language_name(parsed)) or locale
    return name[:1].upper() + name[1:]


def format_long_date(date: dt.date, locale: str) -> str:
    """A date for patients, written out by Babel in the locale's own words ("14 de marzo de 2027").

    Where CLDR has no month names for the language (Haitian Creole, for one),
    Babel would print "2026 M11 20"; the unambiguous ISO form is used instead.
    """
    months = Locale.parse(locale).months["format"]["wide"]
    if re.fullmatch(r"M\d+", months.get(date.month, "M")):
        return date.isoformat()
    return format_date(date, format="long", locale=locale)


def native_digits(locale: str) -> str:
    """The locale's native digits, such as ۰۱۲۳۴۵۶۷۸۹ for fa, or "" when it has none but 0-9."""
    parsed = Locale.parse(locale)
    name = parsed.other_numbering_systems.get("native") or parsed.default_numbering_system
    zero = NUMBERING_SYSTEM_ZERO.get(name)
    return "".join(chr(zero + i) for i in range(10)) if zero else ""


# The CSS counter styles (predefined in WeasyPrint's user-agent sheet) for page numbers in native digits.
COUNTER_STYLE = {"arab": "arabic-indic", "arabext": "persian", "deva": "devanagari"}


def counter_style(locale: str) -> str:
    """The CSS counter style that writes the locale's native digits, or "" (decimal)."""
    parsed = Locale.parse(locale)
    name = parsed.other_numbering_systems.get("native") or parsed.default_numbering_system
    return COUNTER_STYLE.get(name, "") if native_digits(locale) else ""


def with_native_digits(text: str, digits: str) -> str:
    """0-9 written with the locale's own digits (digits is "0123456789" in that script)."""
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


# Korean is written with spaces between words and breaks lines only at them (CSS `word-break:
# keep-all`, which WeasyPrint 70 lacks: the renderer joins each word's syllables instead).
KEEP_ALL_LANGUAGES = frozenset({"ko"})
# Chinese, Japanese and Korean characters are about twice as wide as Latin letters.
WIDE_SCRIPT_LANGUAGES = frozenset({"zh", "ja", "ko"})


def keeps_words_whole(locale: str) -> bool:
    """Lines break only between words, never inside one (Korean)."""
    return Locale.parse(locale).language in KEEP_ALL_LANGUAGES


def character_width(locale: str) -> float:
    """A character's width relative to a Latin letter, for estimates of what fits a line."""
    return 0.5 if Locale.parse(locale).language in WIDE_SCRIPT_LANGUAGES else 1.0

