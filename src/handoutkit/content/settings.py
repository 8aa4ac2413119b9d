"""The project: where things live, and the clinic settings in handouts/clinic.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError

from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import HandoutError, ProblemsError, relative

PAGE_SIZES = ("letter", "a4")
# A phone number as clinics write them: groups of digits, "(555)" groups, separated by a space,
# "-", an en dash, "." or "/" (spaces around one allowed), "+" only in front, then maybe an
# extension ("ext. 12", "x12"). Letters anywhere else are a typo (an O for a 0), and a patient
# dials what is printed.
_GROUP = r"(?:\(\d+\)|\d+)"
PHONE_FORMAT = re.compile(rf"(?P<number>\+?{_GROUP}(?: ?[-\u2013./]? ?{_GROUP})*)"
                          rf"(?: ?(?:ext\.?|x) ?(?P<extension>\d{{1,6}}))?", re.IGNORECASE)
# E.164 allows at most 15 digits; fewer than 5 is a short code or a number cut off, not a clinic's line.
PHONE_DIGITS = (5, 15)
PHONE_EXPECTED = ("a phone number: digits in groups separated by spaces, '-', '\u2013', '.' or '/', "
                  "an area code in parentheses, '+' in front, and an extension such as 'ext. 12' "
                  "(for example \"(555) 010-0142\", \"+1 555 010 0142\", \"030/1234567\")")
# Measures a clinic fills in, in its own units, printed through placeholders of the same name.
MEASURES = ("fever_threshold", "lifting_limit")


@dataclass(frozen=True)
class DeskPhone:
    """Another of the clinic's numbers, which a desk may print instead of `phone`."""

    label: str  # what the desk sees in the list, such as "Spine surgery line"
    phone: str


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    emergency_number: str
    # Chosen from a list on the print form, never typed: a typed number (the patient's, say)
    # would replace the clinic's in "Call your surgeon's office at ...".
    desk_phones: tuple[DeskPhone, ...] = ()
    # The temperature, in the clinic's unit, from which a patient calls about a fever ({fever_threshold}).
    fever_threshold: str = ""
    # The heaviest thing a patient may lift after surgery, in the clinic's unit ({lifting_limit}).
    lifting_limit: str = ""

    def placeholders(self) -> dict[str, str]:
        """The placeholders a handout text may use, filled in from these settings (a measure the
        clinic leaves out is no placeholder: `handouts lint` names a text that uses it)."""
        values = {"clinic_name": self.name, "clinic_phone": self.phone, "emergency_number": self.emergency_number}
        values.update((name, getattr(self, name)) for name in MEASURES if getattr(self, name))
        return values


@dataclass(frozen=True)
class Limits:
    """Health-literacy and layout limits (`lint:` in clinic.yaml)."""

    max_grade: float = 6.0  # reading grade of the English source (Flesch-Kincaid)
    max_smog: float = 8.0  # SMOG grade of the English source: a second formula, counting long words
    min_reading_ease_es: float = 60.0  # Fernandez-Huerta ease for Spanish ("normal" or easier)
    max_sentence_words: int = 20
    max_list_items: int = 7
    page_budget: int = 2  # pages per handout: one sheet printed on both sides
    known_abbreviations: tuple[str, ...] = ()  # acronyms patients know, never spelled out


LIMIT_KEYS = ("max_grade", "max_smog", "min_reading_ease_es", "max_sentence_words", "max_list_items",
              "page_budget", "known_abbreviations")


@dataclass(frozen=True)
class Settings:
    clinic: Clinic
    page_size: str  # "letter" or "a4"
    source_locale: str
    locales: tuple[str, ...]  # published locales, the source locale included
    limits: Limits = Limits()
    review_interval_years: int = 3  # a clinician's approval expires after this many years
    native_digits: tuple[str, ...] = ()  # locales whose translations may write numbers in native digits
    web_base_url: str | None = None  # where build/web/ is published (`web: base_url:`); PDFs get a QR code

    @property
    def translated_locales(self) -> tuple[str, ...]:
        return tuple(loc for loc in self.locales if loc != self.source_locale)


@dataclass(frozen=True)
class Project:
    """The folders of one handout project (the repository, or a test sample)."""

    root: Path

    @property
    def handouts_dir(self) -> Path:
        return self.root / "handouts"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    @property
    def pot_path(self) -> Path:
        return self.locales_dir / "handouts.pot"

    def po_path(self, locale: str) -> Path:
        return self.locales_dir / locale / "LC_MESSAGES" / "handouts.po"

    def catalog_locales(self) -> tuple[str, ...]:
        """Every language with a catalog under locales/, published or still being translated."""
        found = {path.parent.parent.name for path in self.locales_dir.glob("*/LC_MESSAGES/handouts.po")}
        return tuple(sorted(found - {self.settings.source_locale}))

    def rel(self, path: Path) -> str:
        return relative(path, self.root)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.handouts_dir / "clinic.yaml", self.root)


def find_project(start: Path | None = None) -> Project:
    """The project containing `start` (default: the current folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "handouts" / "clinic.yaml").is_file():
            return Project(folder)
    raise HandoutError(f"{here}: not inside a handout project "
                       "(expected handouts/clinic.yaml here or in a parent folder)")


def check_locale_name(name: str) -> str | None:
    """None when Babel knows the locale, else what is wrong with the name."""
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError) as exc:
        return f"unknown locale '{name}' ({exc}); use names like es, zh_Hans, pt_BR"
    return None


def phone_problem(phone: str) -> str | None:
    """What is wrong with a clinic phone number as written in clinic.yaml, or None when it reads as one."""
    match = PHONE_FORMAT.fullmatch(phone)
    if match is None:
        return f"expected {PHONE_EXPECTED}; found {phone!r}"
    if phone.count("(") > 1:
        return f"expected at most one area code in parentheses; found {phone!r}"
    digits = sum(c.isdigit() for c in match["number"])
    low, high = PHONE_DIGITS
    if not low <= digits <= high:
        return (f"expected a phone number of {low} to {high} digits (an extension not counted); "
                f"found {digits} in {phone!r}")
    return None


def read_phone(reader: NodeReader, node, what: str) -> str | None:
    """A phone number of the clinic's (`phone`, a desk phone): None, with a problem, when malformed."""
    phone = reader.string(node, what)
    if phone and (problem := phone_problem(phone)):
        reader.fail(node, f"{what}: {problem}")
        return None
    return phone


def read_desk_phones(reader: NodeReader, node) -> tuple[DeskPhone, ...]:
    """`desk_phones:` a list of `- label: ... / phone: ...`."""
    phones: list[DeskPhone] = []
    for item in reader.sequence(node, "desk_phones", 0):
        entry = reader.mapping(item, "a desk phone (label and phone)", ("label", "phone"))
        if entry and len(entry) == 2:
            label = reader.string(entry["label"], "the label")
            phone = read_phone(reader, entry["phone"], "desk_phones: the phone")
            if label and phone:
                if any(p.phone == phone for p in phones):
                    reader.fail(entry["phone"], f"the phone {phone} is listed twice")
                phones.append(DeskPhone(label, phone))
    return tuple(phones)


def load_settings(path: Path, root: Path) -> Settings:
    label = relative(path, root)
    if not path.exists():
        raise HandoutError(f"{label}: missing clinic settings file")
    node, problems = read_yaml(path, label)
    reader = NodeReader(label, problems)
    if node is None:
        raise ProblemsError(problems)
    keys = reader.mapping(node, "clinic settings",
                          ("clinic", "locales"),
                          ("page_size", "source_locale", "lint", "review_interval_years", "native_digits",
                           "web"))
    clinic = None
    if keys and "clinic" in keys:
        c = reader.mapping(keys["clinic"], "the clinic", ("name", "phone", "emergency_number"),
                           ("desk_phones", *MEASURES))
        if c and all(k in c for k in ("name", "phone", "emergency_number")):
            values = [reader.string(c["name"], "the clinic name"), read_phone(reader, c["phone"], "clinic.phone"),
                      reader.string(c["emergency_number"], "the clinic emergency number")]
            phones = read_desk_phones(reader, c["desk_phones"]) if "desk_phones" in c else ()
            # The clinic's measures (placeholders of the same name): optional, a text uses only those set.
            measures = {k: reader.string(c[k], f"the clinic {k.replace('_', ' ')}") if k in c else ""
                        for k in MEASURES}
            if all(values) and all(v is not None for v in measures.values()):
                clinic = Clinic(*values, desk_phones=phones, **measures)
    page_size = "letter"
    if keys and "page_size" in keys:
        page_size = reader.choice(keys["page_size"], "page_size", PAGE_SIZES) or page_size
    source = "en"
    if keys and "source_locale" in keys:
        source = reader.string(keys["source_locale"], "source_locale") or source
    locales: list[str] = []
    if keys and "locales" in keys:
        for item in reader.sequence(keys["locales"], "locales"):
            name = reader.string(item, "a locale")
            if name and (error := check_locale_name(name)):
                reader.fail(item, error)
            elif name in locales:
                reader.fail(item, f"locale '{name}' is listed twice")
            elif name:
                locales.append(name)
        if locales and source not in locales:
            reader.fail(keys["locales"], f"expected the source locale '{source}' among the locales")
    limits = read_limits(reader, keys["lint"]) if keys and "lint" in keys else Limits()
    interval = 3
    if keys and "review_interval_years" in keys:
        value = reader.integer(keys["review_interval_years"], "review_interval_years")
        if value is not None and value < 1:
            reader.fail(keys["review_interval_years"], f"expected review_interval_years of 1 or more, found {value}")
        elif value is not None:
            interval = value
    native: list[str] = []
    for item in reader.sequence(keys["native_digits"], "native_digits", 0) if keys and "native_digits" in keys else ():
        name = reader.string(item, "a locale")
        if name and (error := check_locale_name(name)):
            reader.fail(item, error)
        elif name:
            native.append(name)
    base_url = read_web(reader, keys["web"]) if keys and "web" in keys else None
    if reader.problems or clinic is None:
        raise ProblemsError(reader.problems)
    return Settings(clinic, page_size, source, tuple(locales), limits, interval, tuple(native), base_url)


def read_web(reader: NodeReader, node) -> str | None:
    """`web: {base_url: https://...}`: where build/web/ is published, so each PDF can link to its page."""
    keys = reader.mapping(node, "the web settings", (), ("base_url",)) or {}
    if "base_url" not in keys:
        return None
    url = reader.string(keys["base_url"], "web.base_url")
    if not url:
        return None
    parsed = urlsplit(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc or parsed.query or parsed.fragment \
            or any(c.isspace() for c in url):
        reader.fail(keys["base_url"], f"expected web.base_url as the http(s) address of the published "
                                      f"build/web/ folder, such as https://example.org/handouts/; found {url!r}")
        return None
    # Page paths are appended to it: "<locale>/<id>.html".
    return url if url.endswith("/") else url + "/"


def read_limits(reader: NodeReader, node) -> Limits:
    keys = reader.mapping(node, "lint limits", (), LIMIT_KEYS) or {}
    values: dict = {}
    for key, value in keys.items():
        if key == "known_abbreviations":
            values[key] = tuple(v for v in (reader.string(item, "an abbreviation")
                                            for item in reader.sequence(value, key, 0)) if v)
        elif key in ("max_grade", "max_smog", "min_reading_ease_es"):
            text = reader.string(value, key)
            try:
                values[key] = float(text) if text else None
            except ValueError:
                reader.fail(value, f"expected {key} as a number, found {text!r}")
        else:
            values[key] = reader.integer(value, key)
    return Limits(**{k: v for k, v in values.items() if v is not None})
