"""Stage 5, render: a Handout and a locale's Translations to HTML, then to PDF.

One Jinja environment per locale (i18n extension bound to that locale's
translations, autoescape on, StrictUndefined). Translations are text, never
HTML: every translated string is escaped, then the tiny **bold** markup and
the program's placeholders are turned into tags here, in one place.

PDF rendering is hermetic: a URL fetcher that serves only files under
templates/, fonts pinned through fontconfig (see fonts.py), PDF/UA-1 tagging,
and no document date (a date on a PDF reads as a review date; "Last reviewed"
is printed only from a recorded approval), so the same inputs give the same
bytes. Any WeasyPrint warning fails the render.
"""

from __future__ import annotations

import gettext
import logging
import mimetypes
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import unquote, urlparse

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from handoutkit.content.approval import Approval, fingerprint
from handoutkit.content.handouts import Block, Handout, Text, translate
from handoutkit.content.settings import Clinic, Project
from handoutkit.content.syntax import RENDER_TOKEN
from handoutkit.errors import HandoutError
from handoutkit.render.clock import timed
from handoutkit.render.fonts import use_fontconfig
from handoutkit.render.markers import place_rtl_markers
from handoutkit.render.pagination import Paginated, paginate
from handoutkit.render.pagination import install as install_pagination
from handoutkit.render.pdftags import LAYOUT_ONLY, recording, repair
from handoutkit.render.qr import QrCode, qr_code
from handoutkit.render.stylesheets import StylesheetCache, reusing
from handoutkit.render.stylesheets import install as install_stylesheet_reuse
from handoutkit.translation.locales import (
    character_width,
    counter_style,
    format_long_date,
    html_lang,
    is_rtl,
    keeps_words_whole,
    native_digits,
    native_language_name,
    with_native_digits,
    writes_in_latin,
)

PLACEHOLDER_OR_NUMBER = RENDER_TOKEN
# In right-to-left text, Latin words (ACDF, a drug name) are isolated like numbers, with
# their brackets when they are bracketed: "(ACDF)" looks the same either way, but only as
# one left-to-right run does it reach the PDF's text layer as "(ACDF)" and not ")ACDF(".
PLACEHOLDER_NUMBER_OR_LATIN = re.compile(
    PLACEHOLDER_OR_NUMBER.pattern
    + r"|(?P<latin>\([A-Za-z][A-Za-z0-9 .\-/]*\)|[A-Za-z][A-Za-z0-9]*(?:[ .\-/]+[A-Za-z0-9]+)*)"
)
# In text of another script (Chinese, Korean, Russian, Nepali), Latin words are the source
# language's ("ACDF", "cervical"): each gets that language's tag, so a screen reader reads it
# with the right voice and the PDF's structure says so (/Lang, pdftags.tag_languages).
PLACEHOLDER_NUMBER_OR_LATIN_WORD = re.compile(
    PLACEHOLDER_OR_NUMBER.pattern + r"|(?P<latin>[A-Za-z][A-Za-z0-9]*(?:[ .\-/]+[A-Za-z0-9]+)*)"
)

HANDOUT_TEMPLATE = "handout.html"  # the PDF editions
# Marks a handout printed without its pictures (no room within the page budget, even tight).
PICTURES_LEFT_OUT = '<meta name="handoutkit-pictures" content="left out: no room within the page budget">'
WEB_TEMPLATE = "web-handout.html"  # the web edition: the same body, a screen stylesheet

COMPACT_ITEM_CHARS = 38  # fits half a line at 12pt on Letter and A4

# Languages whose words must not break across lines (CSS `word-break: keep-all`, which
# WeasyPrint 70 lacks): Korean puts spaces between words, but Pango breaks between any two
# Hangul syllables.
WORD_JOINER = "\u2060"
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff]")
TAG_OR_TEXT = re.compile(r"(<[^>]*>)")


CSS_CONTENT_STRING = re.compile(r'(content:\s*")([^"]*)(")')


def _join_hangul(text: str) -> str:
    out, previous = [], " "
    for char in text:
        if not char.isspace() and not previous.isspace() and (HANGUL.match(char) or HANGUL.match(previous)):
            out.append(WORD_JOINER)
        out.append(char)
        previous = char
    return "".join(out)


def keep_all(html: str) -> str:
    """Korean keep-all: a WORD JOINER (U+2060, invisible, no break on either side) between every
    two characters of a word that touch a Hangul syllable, across inline tags, in <body> only.

    Lines then break only at spaces, as Korean readers expect. The joiners are layout only:
    the PDF's text layer leaves them out (see pdftags.LAYOUT_ONLY).
    """
    head, separator, body = html.partition("<body")
    if not separator:
        return html
    # Running headers and footers (the draft mark, the title) are CSS strings in the <head>.
    head = CSS_CONTENT_STRING.sub(lambda m: m[1] + _join_hangul(m[2]) + m[3], head)
    out: list[str] = []
    previous = " "  # the last visible character, across tags
    for part in TAG_OR_TEXT.split(body):
        if part.startswith("<"):
            out.append(part)
            continue
        text = []
        for char in part:
            if not char.isspace() and not previous.isspace() and (HANGUL.match(char) or HANGUL.match(previous)):
                text.append(WORD_JOINER)
            text.append(char)
            previous = char
        out.append("".join(text))
    return head + separator + "".join(out)


# The last word of a paragraph or list item, when short, and the space before it.
SHORT_LAST_WORD = re.compile(r"(?<=[^\s>])[ \t]+([^\s<>]{1,%d})(\s*</(?:p|li|h[1-6])>)" % 6)
NO_BREAK_SPACE = "\u00a0"


def bind_last_word(html: str) -> str:
    """A short last word of a paragraph, list item or heading (up to 6 characters: "ulo.", "둡니다.") joined
    to the word before it by a NO-BREAK SPACE, in <body> only, so it never stands alone on a line.

    Print only (the browser has `text-wrap: pretty`); the text layer reads the no-break space as
    a space. A word that ends in markup (a number's isolate) is left as it is.
    """
    head, separator, body = html.partition("<body")
    if not separator:
        return html
    return head + separator + SHORT_LAST_WORD.sub(lambda m: NO_BREAK_SPACE + m[1] + m[2], body)


# A hard hyphen between two letters ("Dahan-dahang", "check-up"), outside tags and <style>.
HYPHEN_IN_WORD = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
WORD_JOINER_AFTER_HYPHEN = "-\u2060"


def keep_hyphenated_words(html: str) -> str:
    """No line break after the hard hyphen inside a word ("Dahan-dahang"), in <body> only: a
    WORD JOINER (U+2060) after it. Text extractors take a hyphen at a line's end for a word
    broken by hyphenation and drop it ("Dahandahang"); the joiner is layout only, the text
    layer leaves it out (pdftags.LAYOUT_ONLY), as with Korean keep-all."""
    head, separator, body = html.partition("<body")
    if not separator:
        return html
    parts = TAG_STYLE_OR_TEXT.split(body)
    # The split's odd parts are tags and <style> elements; the first part is the rest of <body ...>.
    return head + separator + "".join(
        part if index % 2 or index == 0 else HYPHEN_IN_WORD.sub(WORD_JOINER_AFTER_HYPHEN, part)
        for index, part in enumerate(parts))


TAG_STYLE_OR_TEXT = re.compile(r"(<style\b.*?</style>|<[^>]*>)", re.DOTALL)
CSS_COUNTER = re.compile(r"counter\((page|pages)\)")
CSS_ESCAPE = re.compile(r"(\\[0-9A-Fa-f]{1,6} ?)")
HTML_REFERENCE = re.compile(r"(&#?[0-9A-Za-z]+;)")  # &#x2066; is markup, not a number


def _text_digits(text: str, digits: str) -> str:
    return "".join(part if HTML_REFERENCE.fullmatch(part) else with_native_digits(part, digits)
                   for part in HTML_REFERENCE.split(text))


def _css_text_digits(text: str, digits: str) -> str:
    """Digits of a CSS string's text, leaving its escapes (\\22 is a quote) as they are."""
    return "".join(part if CSS_ESCAPE.fullmatch(part) else with_native_digits(part, digits)
                   for part in CSS_ESCAPE.split(text))


def native_numerals(html: str, digits: str, style: str) -> str:
    """Numbers, dates and page numbers in the locale's own digits (a clinic's choice, `native_digits:`).

    Text between tags and the strings of CSS `content` change; markup, attribute values and the
    printed web address under the QR code (an address is typed in ASCII) do not.
    """
    out: list[str] = []
    in_address = False
    for part in TAG_STYLE_OR_TEXT.split(html):
        if part.startswith("<style"):
            part = CSS_CONTENT_STRING.sub(lambda m: m[1] + _css_text_digits(m[2], digits) + m[3], part)
            out.append(CSS_COUNTER.sub(rf"counter(\1, {style})", part) if style else part)
        elif part.startswith("<"):
            if 'class="qr-caption"' in part:
                in_address = True
            elif in_address and part.startswith("</p"):
                in_address = False
            out.append(part)
        else:
            out.append(part if in_address else _text_digits(part, digits))
    return "".join(out)


def isolated(text: str) -> Markup:
    """A number or phone number that keeps its left-to-right order inside any text.

    WeasyPrint does not implement `unicode-bidi: isolate` for <bdi>, so the
    isolation is also written as Unicode controls (LRI ... PDI) that the
    shaping engine (Pango with FriBidi) honours.
    """
    return Markup('<bdi dir="ltr">&#x2066;{}&#x2069;</bdi>').format(text)


def isolated_auto(text: str) -> Markup:
    """Text typed at the front desk, in any script: isolated with its own direction (first strong
    character), so "Bring your list." keeps its full stop at the end inside an Arabic handout.

    Each line is isolated on its own: a line break ends an isolate (Unicode bidi rule X8), so in
    instructions of several lines the second would otherwise take the page's direction and print
    ".No food after midnight" in an Arabic handout."""
    lines = (Markup("&#x2068;{}&#x2069;").format(line) for line in text.split("\n"))
    return Markup("<bdi>{}</bdi>").format(Markup("\n").join(lines))


def isolated_name(text: str, direction: str) -> Markup:
    """A name typed at the front desk: isolated with its own direction (`isolated_auto`), but a
    name that mixes directions ("Ali علي") in the page's direction, so its pieces read in the
    page's order. Text extractors (poppler) read a line's pieces in the page's direction: in
    an English handout an isolate taken right to left from "علي Ali" came out "Ali علي"."""
    strong = {unicodedata.bidirectional(char) for char in text} & {"L", "R", "AL"}
    if "L" not in strong or strong == {"L"}:
        return isolated_auto(text)
    controls = ("&#x2067;", "rtl") if direction == "rtl" else ("&#x2066;", "ltr")
    return Markup('<bdi dir="{}">{}{}&#x2069;</bdi>').format(controls[1], Markup(controls[0]), text)


def prose(text: str, values: dict[str, str], rtl: bool = False, latin_lang: str | None = None) -> Markup:
    """Escape a translated string, then render **bold**, {placeholders} and isolated numbers
    (and, in right-to-left text, isolated Latin words; with `latin_lang`, in text of a script
    other than Latin, Latin words tagged with that language)."""
    out: list[str] = []
    position = 0
    bold_open = False
    bold_count = text.count("**")
    pattern = PLACEHOLDER_NUMBER_OR_LATIN if rtl else \
        PLACEHOLDER_NUMBER_OR_LATIN_WORD if latin_lang else PLACEHOLDER_OR_NUMBER
    for match in pattern.finditer(text):
        out.append(escape(text[position: match.start()]))
        position = match.end()
        if match["placeholder"]:
            name = match["name"]
            if name not in values:
                raise HandoutError(f"unknown placeholder {{{name}}} in {text!r}; "
                                   f"known: {', '.join('{' + v + '}' for v in sorted(values))}")
            out.append(isolated(values[name]))
        elif match.groupdict().get("latin"):
            out.append(isolated(match["latin"]) if rtl else
                       Markup('<span lang="{}">{}</span>').format(latin_lang, match["latin"]))
        elif match["bold"]:
            if bold_count % 2:  # unbalanced: print the characters rather than guess
                out.append("**")
            else:
                out.append("</strong>" if bold_open else "<strong>")
                bold_open = not bold_open
        else:
            number = match["number"]
            # Keep trailing punctuation outside the isolate.
            core = number.rstrip(" .,:")
            out.append(isolated(core) + escape(number[len(core):]))
    out.append(escape(text[position:]))
    return Markup("".join(out))


def css_string(text: str) -> Markup:
    """A CSS string literal; `<` is escaped so it can never close the <style> element."""
    if isinstance(text, Markup):  # a translated label: CSS wants the text, not HTML entities
        text = text.unescape()
    # Quotes, backslashes, <, > and every control character (a form feed ends a CSS string).
    escaped = "".join(f"\\{ord(c):X} " if c in '"\\<>&' or ord(c) < 0x20 or ord(c) == 0x7F else c
                      for c in text)
    return Markup(f'"{escaped}"')


def css_counter_content(template: str) -> Markup:
    """A translated "Page %(page)s of %(pages)s" as a CSS `content` value with counters."""
    if isinstance(template, Markup):
        template = template.unescape()
    parts = re.split(r"%\((page|pages)\)s", template)
    tokens = []
    for index, part in enumerate(parts):
        if index % 2:
            tokens.append(f"counter({part})")
        elif part:
            tokens.append(css_string(part))
    return Markup(" ".join(tokens) or '""')


class MissingTranslation(HandoutError):
    """A published locale lacks a string the page prints (the renderer never falls back to English)."""


class StrictTranslations(gettext.NullTranslations):
    """A published locale's checked translations: a string they lack is an error, never the English.

    The checks compare each catalog with the strings the content prints now, so this
    should never fire; it is the last line if they and the renderer ever disagree.
    """

    def __init__(self, inner: Any, locale: str):
        super().__init__()
        self.inner, self.locale = inner, locale
        self.known = getattr(inner, "_catalog", {})

    def _require(self, key: Any, message: str) -> None:
        if key not in self.known:
            raise MissingTranslation(f"no {self.locale} translation of {message!r}: it would print in English")

    def gettext(self, message: str) -> str:
        self._require(message, message)
        return self.inner.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        self._require(f"{context}\x04{message}", message)
        return self.inner.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self._require((singular, 0), singular)
        return self.inner.ngettext(singular, plural, n)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        self._require((f"{context}\x04{singular}", 0), singular)
        return self.inner.npgettext(context, singular, plural, n)


@dataclass(frozen=True)
class LocaleContext:
    """Everything the templates need about one locale."""

    locale: str
    lang: str
    direction: str
    language_name: str
    font_stack: tuple[str, ...]
    draft: bool
    digits: str = ""  # the locale's native digits when the clinic opted in (`native_digits:`), else ""
    counter_style: str = ""  # the CSS counter style of those digits, for "Page x of y"

    @property
    def keep_all(self) -> bool:
        return keeps_words_whole(self.locale)


class SharedBytecode(BytecodeCache):
    """Compiled templates kept in memory for every environment `make_environment` makes.

    Those environments differ only in their translations, which a template looks up
    when it runs, so the compiled code is the same: a template is compiled once per
    process instead of once per locale (~30 ms each, 13 times in every build worker).
    A template whose source changed is compiled again (Jinja checks its checksum).
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = SharedBytecode()


def make_environment(project: Project, translations: gettext.NullTranslations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(project.templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=COMPILED_TEMPLATES,
    )
    # The translated label is escaped *before* Jinja formats it, so a
    # translation can never inject markup; variables are escaped by Jinja.
    env.install_gettext_callables(
        gettext=lambda s: escape(translations.gettext(s)),
        ngettext=lambda s, p, n: escape(translations.ngettext(s, p, n)),
        pgettext=lambda c, s: escape(translations.pgettext(c, s)),
        npgettext=lambda c, s, p, n: escape(translations.npgettext(c, s, p, n)),
        newstyle=True,
    )
    env.filters["css_string"] = css_string
    env.filters["css_counters"] = css_counter_content
    env.globals["isolated"] = isolated
    env.globals["isolated_auto"] = isolated_auto
    env.globals["isolated_name"] = isolated_name
    return env


def clinic_values(clinic: Clinic) -> dict[str, str]:
    """The placeholders a handout text may use, filled in from the clinic settings."""
    return clinic.placeholders()


@dataclass(frozen=True)
class Renderer:
    """Renders handouts of one locale to HTML."""

    project: Project
    context: LocaleContext
    translations: gettext.NullTranslations
    env: Environment
    clinic: Clinic  # the settings' clinic, or one with the front desk's phone override
    approvals: dict[str, Approval] = field(default_factory=dict)  # recorded approvals by handout id
    # (locale, handout id) -> the address of the handout's web page, or None: the PDF prints a
    # QR code to it. The outputs layer owns that address (outputs.web.web_url).
    web_url: Callable[[str, str], str | None] | None = None

    def approval(self, handout: Handout) -> Approval | None:
        """The approval that covers this handout as it prints now (with this clinic's settings), or None.

        Computed at render time, so a front-desk phone override that the
        clinician never saw prints as a draft, never as approved.
        """
        approval = self.approvals.get(handout.id)
        if approval is None or not approval.verified or approval.content_sha256 != fingerprint(handout, self.clinic):
            return None
        return approval

    def placeholder_values(self) -> dict[str, str]:
        return clinic_values(self.clinic)

    def translated(self, text: Text) -> str:
        """The text in this locale; a published locale without its translation names the YAML line."""
        try:
            return translate(self.translations, text)
        except MissingTranslation as exc:
            raise HandoutError(f"{text.path}:{text.line}: {exc}; run `handouts update`, translate it, "
                               f"and `handouts check --locale {self.context.locale}`") from None

    def text(self, text: Text) -> Markup:
        return prose(self.translated(text), self.placeholder_values(), rtl=self.context.direction == "rtl",
                     latin_lang=self.latin_lang)

    @property
    def latin_lang(self) -> str | None:
        """The language of Latin words in this locale's text: the source's, when the locale is
        written in another script; None in a Latin-script locale (its own words are Latin)."""
        if writes_in_latin(self.context.locale):
            return None
        return html_lang(self.project.settings.source_locale)

    def compact(self, block: Block) -> bool:
        """Short list items read fine in two columns, in the printed language."""
        items = [self.translated(item) for item in block.items]
        return len(items) >= 4 and max(len(i) for i in items) <= COMPACT_ITEM_CHARS * self.width_factor

    @property
    def width_factor(self) -> float:
        # A CJK character is about two Latin ones wide.
        return character_width(self.context.locale)

    def html(self, handout: Handout, extra: dict[str, Any] | None = None, tight: bool = False,
             large: bool = False, web: bool = False, pictures: bool = True) -> str:
        """The handout's HTML; `tight` is the copyfitted layout, `large` the 18 pt large-print edition,
        `web` the page of the web edition (templates/web-handout.html). `pictures=False` leaves the
        handout's pictures out (copyfitting's last resort) and says so in a <meta> (PICTURES_LEFT_OUT)."""
        left_out = not pictures and bool(handout.pictures)
        if left_out:
            handout = replace(handout, pictures=())
        try:
            with timed("html"):
                html = self._render(handout, extra, tight, large, WEB_TEMPLATE if web else HANDOUT_TEMPLATE)
                if left_out:
                    html = html.replace("<head>", "<head>\n" + PICTURES_LEFT_OUT, 1)
                if self.context.digits:
                    html = native_numerals(html, self.context.digits, self.context.counter_style)
                if not web:
                    html = keep_hyphenated_words(bind_last_word(html))
                # Browsers have `word-break: keep-all` (web.css); only WeasyPrint needs the joiners.
                return keep_all(html) if self.context.keep_all and not web else html
        except TemplateSyntaxError as exc:
            raise HandoutError(f"templates/{exc.name}:{exc.lineno}: template error: {exc.message}") from None
        except TemplateError as exc:
            raise HandoutError(f"templates: error in a template while rendering {handout.id}: {exc}") from None

    def qr(self, handout: Handout) -> QrCode | None:
        url = self.web_url(self.context.locale, handout.id) if self.web_url else None
        return qr_code(url, self.translations.gettext("Read it online:")) if url else None

    def _render(self, handout: Handout, extra: dict[str, Any] | None, tight: bool, large: bool,
                template_name: str) -> str:
        settings = self.project.settings
        template = self.env.get_template(template_name)
        approval = self.approval(handout)
        return template.render(
            running_title=self.translated(handout.title),
            handout=handout,
            t=self.text,
            compact=(lambda block: False) if large else self.compact,
            html_class=" ".join(c for c, on in (("tight", tight), ("large", large)) if on),
            large=large,
            loc=self.context,
            source_lang=html_lang(settings.source_locale),
            clinic=self.clinic,
            page_size=settings.page_size,
            approval=approval,
            reviewed=format_long_date(approval.approved_on, self.context.locale) if approval else None,
            document_date=None,
            # The PDF links to its web page (web.base_url); the web page needs no code to itself.
            qr=None if template_name == WEB_TEMPLATE else self.qr(handout),
            **{"patient": None, **(extra or {})},
        )


# ---------------------------------------------------------------- PDF


class RenderWarnings(logging.Handler):
    """Collects WeasyPrint's warnings during one render: any of them fails the build."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def make_url_fetcher(templates_dir: Path) -> Any:
    """A WeasyPrint URLFetcher that serves files under templates/ and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = templates_dir.resolve()

    class TemplatesOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise ValueError(f"refused {url!r}: handouts may only use files under templates/")
            path = Path(unquote(parsed.path)).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError(f"refused {url!r}: not a file under templates/")
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime_type})

    return TemplatesOnlyFetcher()


class PdfWriter:
    """One per process: WeasyPrint's FontConfiguration, fetcher and parsed stylesheets are reused for every PDF.

    `reuse_stylesheets=False` parses every document's stylesheets again, as bare WeasyPrint
    does (render/stylesheets.py; the tests compare the two); `stop_early=False` lays every
    document out whole in `paginate` (render/pagination.py).
    """

    def __init__(self, project: Project, reuse_stylesheets: bool = True, stop_early: bool = True):
        from weasyprint.text.fonts import FontConfiguration

        self.base_url = project.templates_dir.resolve().as_uri() + "/"
        self.fetcher = make_url_fetcher(project.templates_dir)
        self.font_config = FontConfiguration()
        self.stylesheets = StylesheetCache() if reuse_stylesheets and install_stylesheet_reuse() else None
        self.stops = stop_early and install_pagination()

    def layout(self, html: str) -> Any:
        """Lay the document out into pages (a WeasyPrint Document), without writing a PDF yet."""
        from weasyprint import HTML

        with warnings_fail(), timed("layout"), reusing(self.stylesheets):
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
            document = document.render(font_config=self.font_config, pdf_variant="pdf/ua-1")
        place_rtl_markers(document)
        return document

    def paginate(self, html: str, stop_past: int | None = None) -> Paginated | None:
        """Copyfitting's first layout: the document paginated, finished by `finish` only if it is kept;
        None once it certainly has more than `stop_past` pages (render/pagination.py). A writer made
        with `stop_early=False` lays the document out whole, as `layout` does."""
        from weasyprint import HTML

        if not self.stops:
            document = self.layout(html)
            return Paginated([page._page_box for page in document.pages], lambda: document)
        with warnings_fail(), timed("layout"), reusing(self.stylesheets):
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
            return paginate(document, self.font_config, stop_past, pdf_variant="pdf/ua-1")

    def finish(self, paginated: Paginated) -> Any:
        """The Document of a paginated layout: its margin boxes and backgrounds laid out."""
        with warnings_fail(), timed("layout"), reusing(self.stylesheets):
            document = paginated.finish()
        place_rtl_markers(document)  # as `layout` does (once per document)
        return document

    def write(self, document: Any) -> bytes:
        """The tagged PDF, its tagging repaired (pdftags.py) where WeasyPrint 70 falls short."""
        with warnings_fail(), recording() as record, timed("write_pdf"):
            raw = document.write_pdf(pdf_variant="pdf/ua-1")
        with timed("tag repair"):
            return repair(raw, record)[0]

    @staticmethod
    def last_page_fill(document: Any) -> float:
        """How much of the last page's content area the document uses (0 to 1)."""
        return PdfWriter.page_fill(document.pages[-1]._page_box)

    @staticmethod
    def page_fill(page_box: Any) -> float:
        """How much of a page's content area its flow uses (0 to 1); the same paginated or finished."""
        top, height = page_box.content_box_y(), page_box.height
        root = next((c for c in page_box.children if c.element_tag == "html"), None)
        bottoms = [child.position_y + child.margin_height()
                   for body in (root.children if root else ()) for child in body.children]
        return max(0.0, min(1.0, (max(bottoms, default=top) - top) / height)) if height else 1.0

    @staticmethod
    def label_overflows(document: Any) -> list[str]:
        """The picture labels that do not fit their room (templates/pictures/): more lines than
        the label's `data-lines`, or a line outside the label's box or outside the nearest element
        around it marked `data-room` (a box of the triage picture). Empty when all fit."""
        found: list[str] = []
        for number, page in enumerate(document.pages, 1):
            for box, room in _labels(page._page_box, None):
                element = box.element
                lines = element.get("data-lines")
                line_boxes = [c for c in box.children if type(c).__name__ == "LineBox"]
                text = " ".join("".join(element.itertext()).split()).translate(LAYOUT_ONLY)
                left, right = room or (box.content_box_x(), box.content_box_x() + box.width)
                if room:  # the label's own box must not stick out either
                    left, right = max(left, box.content_box_x()), min(right, box.content_box_x() + box.width)
                spans = [extent for extent in map(_line_extent, line_boxes) if extent]
                if len(line_boxes) > int(lines):
                    found.append(f"page {number}: picture label {text!r} needs {len(line_boxes)} lines; "
                                 f"its room holds {lines}")
                elif any(start < left - 0.5 or end > right + 0.5 for start, end in spans):
                    widest = max(end - start for start, end in spans)
                    found.append(f"page {number}: picture label {text!r} is {widest / (right - left):.0%} "
                                 f"of its room's width")
        return found

    def pdf(self, html: str) -> tuple[bytes, int]:
        """The PDF bytes and the page count."""
        document = self.layout(html)
        return self.write(document), len(document.pages)


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _boxes(child)


def _labels(box: Any, room: tuple[float, float] | None) -> Iterator[tuple[Any, tuple[float, float] | None]]:
    """(label box, the left and right edges of its room or None) for every picture label under a box:
    a block with `data-lines`, inside the nearest element with `data-room` (if any)."""
    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None)
    if element is not None and tag and not tag.startswith(("::", "html", "body")) and element.get("data-room") is not None \
            and type(box).__name__ not in ("LineBox", "TextBox", "InlineBox"):
        room = (box.content_box_x(), box.content_box_x() + box.width)
    if element is not None and tag == "span" and element.get("data-lines") is not None \
            and any(type(c).__name__ == "LineBox" for c in getattr(box, "children", ()) or ()):
        yield box, room
        return
    for child in getattr(box, "children", ()) or ():
        yield from _labels(child, room)


def _line_extent(line: Any) -> tuple[float, float] | None:
    """Where the text of one laid-out line starts and ends (its text boxes, first to last)."""
    texts = [b for b in _boxes(line) if type(b).__name__ == "TextBox"]
    if not texts:
        return None
    return min(b.position_x for b in texts), max(b.position_x + b.margin_width() for b in texts)


_PROCESS_WRITERS: dict[tuple[Path, str], PdfWriter] = {}


def process_writer(project: Project, fontconfig: str) -> PdfWriter:
    """This process's PdfWriter for the fonts one fontconfig file shows (its FontConfiguration
    stays warm): the build's workers render handouts and lay out packets with the same one."""
    key = (project.templates_dir.resolve(), fontconfig)
    if key not in _PROCESS_WRITERS:
        _PROCESS_WRITERS.clear()  # fontconfig reads its file once: one writer per process at a time
        if fontconfig:
            use_fontconfig(fontconfig)
        _PROCESS_WRITERS[key] = PdfWriter(project)
    return _PROCESS_WRITERS[key]


@contextmanager
def warnings_fail() -> Iterator[None]:
    """Any warning WeasyPrint logs (a missing resource, ignored CSS) fails the render."""
    handler = RenderWarnings()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.messages:
        raise HandoutError("WeasyPrint warned while rendering: " + "; ".join(handler.messages))


def locale_context(locale: str, font_stack: tuple[str, ...], draft: bool, native: bool = False) -> LocaleContext:
    return LocaleContext(
        locale=locale,
        lang=html_lang(locale),
        direction="rtl" if is_rtl(locale) else "ltr",
        language_name=native_language_name(locale),
        font_stack=font_stack,
        draft=draft,
        digits=native_digits(locale) if native else "",
        counter_style=counter_style(locale) if native else "",
    )


def make_renderer(project: Project, locale: str, translations: gettext.NullTranslations,
                  font_stack: tuple[str, ...], draft: bool,
                  approvals: dict[str, Approval] | None = None,
                  web_url: Callable[[str, str], str | None] | None = None, strict: bool = False) -> Renderer:
    """`strict`: a published locale's renderer (the build, the server), where a string the
    translations lack is an error naming its YAML line, never an English fallback."""
    native = locale in project.settings.native_digits
    if strict and locale != project.settings.source_locale:
        translations = StrictTranslations(translations, locale)
    return Renderer(project, locale_context(locale, font_stack, draft, native), translations,
                    make_environment(project, translations), project.settings.clinic, approvals or {}, web_url)


# ---------------------------------------------------------------- language-assistance sheet

LANGUAGE_ASSISTANCE_TITLE = "Language assistance"
NOTICE_TEMPLATE = "language-notice.html"


@dataclass(frozen=True)
class NoticeLine:
    locale: str
    lang: str
    direction: str
    language_name: str
    font_stack: tuple[str, ...]
    notice: Markup


def notice_line(project: Project, locale: str, translations: gettext.NullTranslations,
                font_stack: tuple[str, ...]) -> NoticeLine:
    """The notice in one language, from that locale's catalog (templates/language-notice.html)."""
    env = make_environment(project, translations)
    notice = env.get_template(NOTICE_TEMPLATE).render(clinic=project.settings.clinic).strip()
    if keeps_words_whole(locale):
        notice = keep_all("<body>" + notice)[len("<body>"):]
    return NoticeLine(locale, html_lang(locale), "rtl" if is_rtl(locale) else "ltr",
                      native_language_name(locale), font_stack, Markup(notice))


def language_assistance_html(project: Project, lines: list[NoticeLine], document_date: str | None = None) -> str:
    source = project.settings.source_locale
    env = make_environment(project, gettext.NullTranslations())
    return env.get_template("language-assistance.html").render(
        title=LANGUAGE_ASSISTANCE_TITLE, lines=lines, clinic=project.settings.clinic,
        source=locale_context(source, (), False), page_size=project.settings.page_size,
        document_date=document_date)
