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


# ---------------------------------------------------------------- meaning checks on a translation
#
# Word lists per language for what a meaning check looks for in a translation. Where a language
# has no list, its check does not run (and TRANSLATING.md says which checks cover which languages).

NEGATION_MARKERS: dict[str, str] = {
    "es": r"\b(?:no|nunca|jamás|ni|sin|tampoco|nada|nadie|ningún|ninguna|ninguno|evite|evitar)\b",
    "pt": r"\b(?:não|nunca|nem|sem|nada|ninguém|nenhum|nenhuma|evite|evitar)\b",
    "ht": r"\b(?:pa|p|poko|janm|okenn|san|ni|evite)\b",
    "tl": r"\b(?:hindi|huwag|wala|walang|di|iwasan|iwasang)\b",
    "vi": r"(?:không|đừng|chưa|tránh|chớ|chẳng)",
    "ru": r"(?<!\w)(?:не|нет|ни|никогда|никакие|никакой|ничего|без|нельзя|избега\w*)(?!\w)",
    "ar": r"(?<!\w)[وف]?(?:لا|لم|لن|ليس|ليست|غير|بدون|دون|عدم|تجن\w*)(?!\w)",
    "fa": r"(?<!\w)(?:ن(?:می|ه|ک|ش|د|ب|ر|گ|خ|ز|پ|ت|ی|م|ا)\w*|هرگز|بدون|هیچ|اجتناب|خودداری|برخلاف)",
    "ne": r"(?:(?<!\S)न\S|छैन|दैन|न्न|एन(?!\S)|बिना|कहिल्यै|होइन|नभ)",
    "ko": r"(?:않|지 마|말아|말고|없|못|안 |피하|피해|금지|아직)",
    "zh_Hans": r"[不没别勿无未非]|禁止|避免",
    "zh_Hant": r"[不沒別勿無未非]|禁止|避免",
}

# Number words from 2 up (1 is also an article in most of these languages), as values.
TARGET_NUMBER_WORDS: dict[str, dict[str, int]] = {
    "es": {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
           "once": 11, "doce": 12, "veinte": 20},
    "pt": {"dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9,
           "dez": 10, "onze": 11, "doze": 12, "vinte": 20},
    "ht": {"twa": 3, "senk": 5, "sis": 6, "sèt": 7, "uit": 8, "dis": 10},
    "tl": {"dalawa": 2, "dalawang": 2, "tatlo": 3, "tatlong": 3, "apat": 4, "lima": 5, "limang": 5, "anim": 6,
           "pito": 7, "walo": 8, "siyam": 9, "sampu": 10, "sampung": 10},
    "vi": {"hai": 2, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "mười": 10},
    "ru": {"два": 2, "две": 2, "двух": 2, "три": 3, "трёх": 3, "трех": 3, "четыре": 4, "четырёх": 4, "пять": 5,
           "пяти": 5, "шесть": 6, "шести": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10, "десяти": 10},
    "zh_Hans": {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9},
    "zh_Hant": {"兩": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9},
}
CJK = ("zh_Hans", "zh_Hant")

# Units of time and measure: each English unit and how a translation says it.
TARGET_UNITS: dict[str, dict[str, str]] = {
    "es": {"day": r"d[ií]as?|diari\w*", "night": r"noches?", "week": r"semanas?", "month": r"mes(?:es)?",
           "hour": r"horas?", "minute": r"minutos?", "year": r"años?", "pound": r"libras?", "kilogram": r"kilos?|kg"},
    "pt": {"day": r"dias?|diári\w*", "night": r"noites?", "week": r"semanas?", "month": r"m[eê]s(?:es)?",
           "hour": r"horas?", "minute": r"minutos?", "year": r"anos?", "pound": r"libras?", "kilogram": r"quilos?|kg"},
    "ht": {"day": r"jou", "night": r"nwit|swa", "week": r"semèn", "month": r"mwa", "hour": r"èdtan|è",
           "minute": r"minit", "year": r"ane|lane|an", "pound": r"liv", "kilogram": r"kilo|kg"},
    "tl": {"day": r"araw", "night": r"gabi", "week": r"linggo", "month": r"buwan", "hour": r"oras",
           "minute": r"minuto", "year": r"taon", "pound": r"libra", "kilogram": r"kilo|kg"},
    "vi": {"day": r"ngày", "night": r"đêm|tối", "week": r"tuần", "month": r"tháng", "hour": r"giờ",
           "minute": r"phút", "year": r"năm", "pound": r"pound|cân Anh", "kilogram": r"kg|ký|cân"},
    # "повседневный" (everyday) is how Russian says "daily" in "daily life"
    "ru": {"day": r"д[ен]\w*|сут\w*|ежедневн\w*|повседневн\w*", "night": r"ноч\w*|ночь", "week": r"недел\w*",
           "month": r"месяц\w*", "hour": r"час\w*", "minute": r"минут\w*", "year": r"год\w*|лет",
           "pound": r"фунт\w*", "kilogram": r"кг|килограмм\w*"},
    "ar": {"day": r"\w*يوم\w*|\w*أيام\w*", "night": r"\w*لي\w*", "week": r"\w*أسبوع\w*|\w*أسابيع\w*",
           "month": r"\w*شهر\w*|\w*أشهر\w*|\w*شهور\w*", "hour": r"\w*ساع\w*", "minute": r"\w*دقيق\w*|\w*دقائق\w*",
           "year": r"\w*سن\w*|\w*عام\w*", "pound": r"\w*رطل\w*|\w*أرطال\w*", "kilogram": r"\w*كيلو\w*|كغ"},
    "fa": {"day": r"روز\w*", "night": r"شب\w*", "week": r"هفته\w*", "month": r"ماه\w*", "hour": r"ساعت\w*",
           "minute": r"دقیقه\w*", "year": r"سال\w*", "pound": r"پوند\w*", "kilogram": r"کیلو\w*"},
    "ne": {"day": r"दिन\S*|दैनिक\S*", "night": r"रात\S*", "week": r"हप्ता\S*", "month": r"महिना\S*", "hour": r"घण्टा\S*",
           "minute": r"मिनेट\S*", "year": r"वर्ष\S*|साल\S*", "pound": r"पाउन्ड\S*", "kilogram": r"किलो\S*"},
    "ko": {"day": r"일|날|하루|이틀|며칠", "night": r"밤|박", "week": r"주", "month": r"개월|달", "hour": r"시간",
           "minute": r"분", "year": r"년|해", "pound": r"파운드", "kilogram": r"킬로|kg"},
    "zh_Hans": {"day": r"天|日", "night": r"晚|夜", "week": r"周|星期", "month": r"月", "hour": r"小时|钟头",
                "minute": r"分钟", "year": r"年", "pound": r"磅", "kilogram": r"公斤|千克"},
    "zh_Hant": {"day": r"天|日", "night": r"晚|夜", "week": r"週|周|星期", "month": r"月", "hour": r"小時|鐘頭",
                "minute": r"分鐘", "year": r"年", "pound": r"磅", "kilogram": r"公斤|千克"},
}

DOMAIN = re.compile(r"(?<![\w@.-])(?:https?://)?((?:[a-z0-9-]+\.)+(?:com|org|net|gov|edu|info|health|care|io|co|us|"
                    r"mx|es|br|pt|ru|cn|tw|kr|vn|ph|ht|np|ir|sa|ae|eg|uk|de|fr|ca|au|in))\b", re.IGNORECASE)


def _language(locale: str) -> str:
    return locale if locale in CJK else locale.split("_")[0]


def negation_dropped(locale: str, english: str, translation: str) -> str | None:
    """The English says not (no, never, without, avoid...) and the translation has no negation at all."""
    markers = NEGATION_MARKERS.get(_language(locale))
    if markers is None or not has_negation(english):
        return None
    if re.search(markers, PLACEHOLDER.sub(" ", translation), re.IGNORECASE):
        return None
    return ("negation dropped: the English says 'not' (or no, never, without, avoid) and the translation has "
            "no negation: check that it does not say the opposite")


def number_words_added(locale: str, english: str, translation: str) -> str | None:
    """A number written in words in the translation that the English does not state ("dos" for "one")."""
    words = TARGET_NUMBER_WORDS.get(_language(locale))
    if not words:
        return None
    ours = set(number_values(english)) | {float(v) for v in re.findall(r"\d+", english)}
    text = PLACEHOLDER.sub(" ", translation.lower())
    if _language(locale) in CJK:
        found = {words[c] for c in text if c in words}
    else:
        found = {words[w] for w in re.findall(r"\w+", text) if w in words}
    extra = sorted(v for v in found if float(v) not in ours)
    if not extra:
        return None
    return (f"number in words: the translation says {', '.join(map(str, extra))}, which the English does not "
            f"(the English has {_fmt(number_values(english))})")


def units_missing(locale: str, english: str, translation: str) -> str | None:
    """A unit of time or measure of the English that the translation never names (weeks become days)."""
    units = TARGET_UNITS.get(_language(locale))
    if not units:
        return None
    text = translation.lower()
    missing = []
    for unit in sorted(unit_names(english)):
        pattern = units.get(unit)
        if pattern is None:
            continue
        bounded = pattern if _language(locale) in CJK + ("ko",) else rf"(?<!\w)(?:{pattern})(?!\w)"
        if not re.search(bounded, text):
            missing.append(unit)
    if not missing:
        return None
    return f"duration or unit: the English has {', '.join(missing)}, the translation never says it"


def domains_added(english: str, translation: str) -> str | None:
    """A web address or bare domain in the translation that the English does not have."""
    ours = {d.lower() for d in DOMAIN.findall(english)}
    extra = sorted({d.lower() for d in DOMAIN.findall(translation)} - ours)
    if not extra:
        return None
    return f"web address not in the English: {', '.join(extra)} (a patient would follow it)"


# ---------------------------------------------------------------- warning-sign lists

def length_ratios(pairs: list[tuple[str, str]]) -> float:
    """The median length of a translation over its English: how long this language runs."""
    ratios = sorted(len(t) / len(e) for e, t in pairs if e and t)
    return ratios[len(ratios) // 2] if ratios else 1.0


def _misfit(english: str, translation: str, median: float) -> float:
    import math

    return abs(math.log(max(len(translation), 1) / max(len(english), 1) / median))


SWAP_MARGIN = 0.5  # how much better (log length ratio) the swapped pair must fit; honest pairs: at most 0.08
SHORT = 0.3  # a warning sign under 30% of the length its language usually needs; honest ones: 0.38 and up


def swapped_items(items: list[tuple[str, str]], median: float) -> list[tuple[int, int]]:
    """Pairs (i, j) of list items whose translations fit each other's English far better than their own."""
    found = []
    for i, (english_i, target_i) in enumerate(items):
        for j in range(i + 1, len(items)):
            english_j, target_j = items[j]
            now = _misfit(english_i, target_i, median) + _misfit(english_j, target_j, median)
            swapped = _misfit(english_i, target_j, median) + _misfit(english_j, target_i, median)
            if now - swapped > SWAP_MARGIN:
                found.append((i, j))
    return found


def cut_short(english: str, translation: str, median: float) -> str | None:
    if len(english) < 12 or len(translation) >= SHORT * median * len(english):
        return None
    return (f"a warning sign much shorter than its English ({len(translation)} characters for {len(english)}; "
            f"this language usually needs {median:.1f}x): was it cut short?")
