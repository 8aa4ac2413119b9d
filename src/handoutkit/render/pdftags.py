"""Stage 6, tag repair: WeasyPrint's tagged PDF, corrected with pikepdf.

WeasyPrint 70 writes a PDF/UA-1 structure tree with known gaps (measured, see
DESIGN.md): running headers and footers are marked content whose structure
elements are unreachable from the root; `lang` on inner elements is dropped;
Devanagari text extracts with pre-base vowel signs out of order and Arabic
phone numbers with their brackets mirrored; a list or section that crosses a
page, or a two-column list, becomes several elements; an <aside> becomes
NonStruct; aria-hidden separators are tagged as content.

The fix has two halves. While WeasyPrint writes the PDF, `recording()` notes
what it knows and the PDF no longer says: for every marked-content sequence
(page, MCID) the logical text of its run, its language and whether it sits
in a page margin; for every structure element (by object number) the HTML
element it was made from. `repair()` then rewrites the PDF with pikepdf from
that record: page furniture and separators become artifacts, every structure
element whose HTML says another language gets /Lang, runs whose glyph order
is not their logical order get /ActualText, split elements are joined again,
callouts become notes, pictures become one Figure with /Alt. Object numbers and MCIDs are WeasyPrint's own, so the
record matches the PDF exactly; nothing is guessed from glyphs.

The output keeps the PDF/UA-1 identification (the XMP metadata is not
touched) and is byte-identical for identical input (qpdf writes
deterministically; the trailer /ID is derived from the content). It is also
compacted on the way (render/compaction.py): the same drawing, text and tags
in fewer bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, NamedTuple

import pikepdf
from bidi import get_display
from pikepdf import Array, Dictionary, Name, Operator, String

from handoutkit.render.compaction import compact, compact_shows
from handoutkit.translation.locales import tag_direction

ObjGen = tuple[int, int]  # a PDF object's (number, generation)

# ---------------------------------------------------------------- what WeasyPrint knew


@dataclass(frozen=True)
class Mark:
    """One marked-content sequence (a text run on one line) as WeasyPrint drew it."""

    text: str  # the logical text of the run, from the HTML
    lang: str | None  # its language (the nearest lang attribute)
    furniture: str | None = None  # "Header" or "Footer" when it is in a page margin
    decorative: bool = False  # aria-hidden in the HTML: not content


@dataclass(frozen=True)
class Node:
    """The HTML element a structure element was made from."""

    key: int  # the same for every fragment of one element (across pages and columns)
    tag: str  # HTML tag, with a pseudo-element suffix such as "li::marker"
    lang: str | None  # the element's own lang attribute, if it has one
    classes: tuple[str, ...] = ()
    alt: str | None = None  # a picture's description: the aria-label of an element with role="img"
    box: tuple[float, float, float, float] | None = None  # a picture's border box (CSS px from the top left)


@dataclass
class TagRecord:
    """What `recording()` saw while one PDF was written."""

    marks: dict[tuple[int, int], Mark] = field(default_factory=dict)  # (page, MCID) -> mark
    nodes: dict[int, Node] = field(default_factory=dict)  # structure element object number -> node


def _descendants(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _descendants(child)


def _page_marks(page_number: int, page: Any, tags: dict) -> dict[tuple[int, int], Mark]:
    """The marks of one page from WeasyPrint's box -> MCID table, before it is consumed."""
    from weasyprint.formatting_structure.boxes import MarginBox

    furniture: dict[int, str] = {}
    for child in page._page_box.children:
        if isinstance(child, MarginBox):
            where = "Header" if child.at_keyword.startswith("@top") else "Footer"
            for box in _descendants(child):
                furniture[id(box)] = where
    marks = {}
    for box, kid in tags.items():
        element = box.element
        hidden = element is not None and element.get("aria-hidden") == "true"
        marks[(page_number, kid["mcid"])] = Mark(
            text=getattr(box, "text", "") or "", lang=box.style["lang"],
            furniture=furniture.get(id(box)), decorative=hidden)
    return marks


def _node(box: Any, keys: dict[int, int]) -> Node:
    element = box.element
    if element is None:
        return Node(-1, "", None)
    key = keys.setdefault(id(element), len(keys))
    alt = element.get("aria-label") if element.get("role") == "img" else None
    border = (box.border_box_x(), box.border_box_y(), box.border_width(), box.border_height()) if alt else None
    return Node(key, box.element_tag or "", element.get("lang"), tuple((element.get("class") or "").split()),
                alt, border)


@contextmanager
def recording() -> Iterator[TagRecord]:
    """Record marks and nodes while WeasyPrint writes a tagged PDF in this block.

    WeasyPrint drops this information once the PDF is written, so two of its
    functions are wrapped for the duration (WeasyPrint is pinned to 70.0; the
    tests fail if the record no longer matches the PDF).
    """
    import weasyprint.pdf as weasy_pdf
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf import tags as weasy_tags

    record = TagRecord()
    element_keys: dict[int, int] = {}
    add_tags, build_box_tree = weasy_pdf.add_tags, weasy_tags._build_box_tree

    def recording_add_tags(pdf, document, pdf_version, page_streams):
        for number, (page, stream) in enumerate(zip(document.pages, page_streams)):
            record.marks.update(_page_marks(number, page, stream._tags))
        return add_tags(pdf, document, pdf_version, page_streams)

    def recording_build_box_tree(box, *args):
        for element in build_box_tree(box, *args):
            source = box._box if isinstance(box, AbsolutePlaceholder) else box
            # The page, <html> and <body> pass their children's elements up: the innermost call,
            # the one that made the element, is the one that knows its HTML element.
            record.nodes.setdefault(element.number, _node(source, element_keys))
            yield element

    weasy_pdf.add_tags, weasy_tags._build_box_tree = recording_add_tags, recording_build_box_tree
    try:
        yield record
    finally:
        weasy_pdf.add_tags, weasy_tags._build_box_tree = add_tags, build_box_tree


# ---------------------------------------------------------------- text runs

# Characters the renderer adds for layout only (word joiners for Korean keep-all,
# soft hyphens, the bidi isolates around numbers): not part of the text a reader wants.
LAYOUT_ONLY = {**dict.fromkeys(map(ord, "\u2060\u00ad\u2066\u2067\u2068\u2069")),
               # the no-break space that keeps a short last word on its line (renderer.bind_last_word)
               0xA0: " "}
# Scripts whose glyph order differs from the character order (reordering vowel
# signs, conjuncts, right-to-left shaping), and the characters a shaper removes
# (ZWNJ, ZWJ, bidi isolates): a run holding any of them gets /ActualText.
REORDERED = re.compile(
    "[\u0590-\u08ff\u0900-\u0dff\u0f00-\u109f\u1780-\u17ff\ufb1d-\ufdff\ufe70-\ufeff"
    "\u200c\u200d\u2066-\u2069]")

RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def logical_text(mark: Mark) -> str:
    """The text a reader should get for a run: its HTML text without layout-only characters."""
    return mark.text.translate(LAYOUT_ONLY)


def actual_text(mark: Mark, rtl: bool) -> str:
    """The /ActualText of a run. In right-to-left text the left-to-right run (a number, a
    Latin word) is fenced with LEFT-TO-RIGHT MARKs, so extractors that reorder the line by
    the bidi algorithm keep a closing bracket at its end: "(ACDF)", not ")(ACDF"."""
    text = logical_text(mark)
    if rtl and text == text.strip() and not any(unicodedata.bidirectional(c) in ("L", "EN", "AN") for c in text):
        # Punctuation alone (the full stop after a number that ends a paragraph) reads in the
        # line's direction: fenced with LEFT-TO-RIGHT MARKs it would extract before the number.
        return f"{RLM}{text}{RLM}"
    return f"\u200e{text}\u200e" if rtl else text


def needs_actual_text(mark: Mark, rtl: bool) -> bool:
    """True when the whole run gets /ActualText: a run in a reordering script (Devanagari), or
    one holding characters the shaper drops; in a right-to-left page, a run with no
    right-to-left letter (an isolated number or Latin word), which extractors mirror.
    Right-to-left runs themselves are repaired glyph by glyph (`glyph_spans`): poppler
    reverses a whole-run /ActualText that mixes letters with spaces or punctuation."""
    text = logical_text(mark)
    if rtl:
        return bool(text.strip()) and not RTL_LETTER.search(text)
    if not text.strip() or not REORDERED.search(text):
        return False
    # A name such as "Ali علي" is repaired glyph by glyph instead (`needs_glyph_repair`), unless
    # it also holds a script that reorders left to right (Devanagari).
    reorders_apart_from_rtl = bool(REORDERED.search(RTL_LETTER.sub("", text).replace(ZWNJ, "")))
    return reorders_apart_from_rtl or not mixes_directions(text)


def mixes_directions(text: str) -> bool:
    """Holds both left-to-right letters and right-to-left ones: a name typed at the desk such as
    "Ali علي" (the library's own text isolates such runs from each other)."""
    return right_to_left(text) and any(unicodedata.bidirectional(char) == "L" for char in text)


ZWNJ = "\u200c"
RLM = "\u200f"
LRM = "\u200e"
MIRRORED = str.maketrans("()[]{}<>«»", ")(][}{><»«")


def needs_glyph_repair(mark: Mark, rtl: bool) -> bool:
    """A right-to-left run with letters and something else than letters and spaces (a comma,
    a full stop, a bracket, a zero-width non-joiner, a mark), or that starts with a space (after
    an isolated number): see `glyph_spans`."""
    text = logical_text(mark)
    if not rtl:
        # In left-to-right text, the right-to-left pieces of a mixed run: a whole-run
        # /ActualText in logical order came out with those pieces backwards ("Ali يلع").
        return bool(RTL_LETTER.search(text)) and mixes_directions(text) and not needs_actual_text(mark, rtl)
    return bool(RTL_LETTER.search(text)) and (
        bool(re.search(r"[^\s\u0621-\u064a\u0671-\u06d3]", text)) or text.startswith(" "))


def to_unicode(font: Dictionary, cache: dict[ObjGen, dict[int, str]]) -> dict[int, str]:
    """Glyph id -> text, from the font's ToUnicode CMap (WeasyPrint writes bfchar entries only)."""
    if font.objgen not in cache:
        data = font.ToUnicode.read_bytes().decode("latin-1") if "/ToUnicode" in font else ""
        # A no-break space is matched as a space, as the run's text has it (see LAYOUT_ONLY).
        cache[font.objgen] = {int(glyph, 16): bytes.fromhex(text).decode("utf-16-be", "replace").replace("\xa0", " ")
                              for glyph, text in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", data)}
    return cache[font.objgen]


def drawing_orders(text: str) -> tuple[str, str]:
    """A right-to-left text in the orders its glyphs may be drawn, left to right: reversed
    (HarfBuzz usually draws a combining mark before its letter), or reversed by letter with
    the marks kept after their letter."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char) in ("Mn", "Me"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return text[::-1], "".join(reversed(clusters))


def edge_spaces(glyphs: list[str], text: str) -> str:
    """The run's text with the spaces its line draws at either end and the run's text does not
    hold: a line broken at the space before an isolated number ("... تزيد على" / "101 °F") is
    drawn with that space as its leftmost glyph (drawing order is the reverse of the text's)."""
    leading = " " if glyphs and glyphs[-1] == " " and not text.startswith(" ") else ""
    trailing = " " if glyphs and glyphs[0] == " " and not text.endswith(" ") else ""
    return leading + text + trailing


def align_glyphs(glyphs: list[str], text: str) -> list[str] | None:
    """`align_drawn` against either drawing order of the text."""
    for candidate in dict.fromkeys((text, edge_spaces(glyphs, text))):
        for marks_first, drawn in zip((True, False), drawing_orders(logical_text(Mark(candidate, None)))):
            chars = align_drawn(glyphs, drawn)
            if chars is not None:
                return attach_marks(on_base_glyph(chars) if marks_first else chars, marks_first)
    return None


def on_base_glyph(chars: list[str]) -> list[str]:
    """Split the text of a cluster drawn as several glyphs between its glyphs, with marks drawn
    before their letter (the first drawing order).

    Such a cluster (a letter with a raised mark, "ئً") has its whole text on the first glyph
    drawn, the mark, and none on the others; the letter is its last glyph. The letter is given
    the cluster's letters and the first glyph its marks, which `attach_marks` then gives to the
    glyph drawn before, as for a mark that is a cluster of its own: poppler reads a raised glyph
    as a separate word ("شي ً ا" for "شيئًا").
    """
    out = list(chars)
    for index, text in enumerate(chars):
        last = index
        while text and last + 1 < len(chars) and chars[last + 1] == "":
            last += 1
        if last > index:
            marks = "".join(c for c in text if unicodedata.category(c) in ("Mn", "Me"))
            out[index], out[last] = marks, "".join(c for c in text if c not in marks)
            if is_rtl_ligature(out[last]):
                # A ligature under its marks ("اللّٰه": shadda and dagger alef over lam-lam-ha):
                # the whole cluster on the ligature, in drawing order (`glyph_spans`), as which
                # letter a mark sits on is not known here.
                out[index], out[last] = "", text[::-1]
    return out


def is_mark(text: str) -> bool:
    return bool(text) and unicodedata.category(text[0]) in ("Mn", "Me")


def attach_marks(chars: list[str], marks_first: bool) -> list[str]:
    """Give each combining mark's character to the glyph drawn before it, the mark's own glyph
    none: poppler reads a raised mark as a separate word ("سوءا ً" for "سوءًا"). The pair is
    written in drawing order, as extractors reverse right-to-left text."""
    out = list(chars)
    for index, text in enumerate(chars):
        if index and text and unicodedata.category(text[0]) in ("Mn", "Me"):
            out[index - 1] = out[index - 1] + text if marks_first else text + out[index - 1]
            out[index] = ""
    # A mark drawn first on the line (no glyph before it) goes to its letter, drawn after it.
    if marks_first and len(chars) > 1 and is_mark(chars[0]) and chars[1] and not is_mark(chars[1]):
        out[0], out[1] = "", chars[0] + out[1]
    return out


def align_drawn(glyphs: list[str], drawn: str) -> list[str] | None:
    """The logical characters of each glyph of a right-to-left run, glyphs in drawing order.

    The glyphs spell the run's text in drawing order (brackets mirrored, a
    ligature's ToUnicode text in logical order); a ZWNJ, which has no glyph, is
    given to the glyph on its left. ToUnicode has one entry per glyph for the
    whole document, the text of the cluster the glyph was first drawn in, and
    WeasyPrint gives a cluster's text to its first glyph: so a letter drawn with
    a raised mark may have no text (it is given the characters up to where the
    next glyph's text is found, at most two), and a mark's glyph may have its
    first letter's too (it is matched by its marks). None when the glyphs do not
    spell the text: then the run is left as it is.
    """
    position, chars = 0, []
    for index, glyph in enumerate(glyphs):
        while drawn.startswith(ZWNJ, position):
            if not chars:
                return None
            chars[-1] += ZWNJ  # drawn left of the gap: read after the glyph on the right
            position += 1
        if chars and glyph and glyph == without_marks(chars[-1]) != chars[-1] \
                and not spells(drawn[position:position + len(glyph)], glyph):
            # The letter (or ligature) of the cluster the glyph before held whole ("اللّٰه"), whose
            # ToUnicode is the text of another cluster it was first drawn in ("الله"): textless here.
            glyph = ""
        if not glyph:
            following = glyphs[index + 1] if index + 1 < len(glyphs) else None
            skip = next((k for k in range(3) if following is None and position + k == len(drawn)
                         or following and spells(drawn[position + k:position + k + len(following)], following)),
                        None)
            if skip is None:
                # A ligature glyph first drawn under marks ("اللّٰه": textless there), drawn bare
                # here ("الله"): its letters, in logical order like a ligature's own text.
                letters = drawn[position:position + 3]
                if is_rtl_ligature(letters) and (following is None and position + 3 == len(drawn) or following
                                                 and spells(drawn[position + 3:position + 3 + len(following)], following)):
                    chars.append(letters[::-1])
                    position += 3
                    continue
                return None
            chars.append(drawn[position:position + skip])
            position += skip
            continue
        found = drawn[position:position + len(glyph)]
        if not spells(found, glyph):
            # A mark's glyph whose ToUnicode is the text of the cluster it was first drawn in
            # ("ئً"), drawn here on another letter: it stands for its marks alone.
            glyph = "".join(c for c in glyph if unicodedata.category(c) in ("Mn", "Me"))
            found = drawn[position:position + len(glyph)]
            if not glyph or not spells(found, glyph):
                return None
        chars.append(found[::-1] if len(found) > 1 and found == glyph[::-1] else found)
        position += len(glyph)
    return chars if position == len(drawn) else None


def without_marks(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Me"))


def spells(found: str, glyph: str) -> bool:
    """The drawn text matches a glyph's ToUnicode text (a mirrored bracket; a ligature in logical order)."""
    return found.translate(MIRRORED) in (glyph, glyph[::-1]) or found in (glyph, glyph[::-1])


def right_to_left(text: str) -> bool:
    """Holds a strong right-to-left character (bidi class R or AL; not the Arabic comma, CS)."""
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


def glyph_spans(chars: list[str]) -> list[tuple[int, int, str]]:
    """(first glyph, last glyph + 1, /ActualText) for the glyphs of an RTL run that extractors
    would otherwise misplace or lose.

    Extractors such as poppler rebuild a right-to-left line by reversing its
    right-to-left letters and keeping every run of other characters (a comma,
    a full stop, with the spaces beside them) in drawing order: "عفونت، مانند"
    comes out as "عفونت ،مانند". A punctuation glyph is given its logical
    character preceded by a RIGHT-TO-LEFT MARK, which fences the run in to the
    one character; a mirrored bracket is given the bracket it stands for. A
    glyph a ZWNJ follows is given "<letter><ZWNJ>": the shaper draws no glyph
    for the joiner, so it would otherwise be lost. A ligature ("الله" is drawn
    as alef and one lam-lam-ha glyph, whose ToUnicode is "لله") is given its
    letters in drawing order, as a mark and its letter are: poppler spreads a
    glyph's text over its width left to right and reverses the line, so its
    logical ToUnicode came out backwards ("اهلل").

    The run's first character, drawn rightmost, follows an isolated number or
    Latin word when the run starts with a space or punctuation: poppler puts
    such a space or mark inside the left-to-right piece ("با 911تماس",
    "،ACDF"). A RIGHT-TO-LEFT MARK after the space, or on both sides of the
    punctuation, keeps it on its side ("با 911 تماس", "ACDF، يزيل").
    """
    spans: list[tuple[int, int, str]] = []
    for index, text in enumerate(chars):
        if ZWNJ in text or not text or any(unicodedata.category(c) in ("Mn", "Me") for c in text):
            spans.append((index, index + 1, text))
        elif is_rtl_ligature(text):
            spans.append((index, index + 1, text[::-1]))
        elif text.strip() and not right_to_left(text):
            spans.append((index, index + 1, RLM + text))
    first = len(chars) - 1
    if chars and chars[first] == " ":
        spans.append((first, first + 1, " " + RLM))
    elif chars and chars[first].strip() and not right_to_left(chars[first]):
        spans.append((first, first + 1, RLM + chars[first] + RLM))
    return spans


# ---------------------------------------------------------------- runs that mix directions
#
# A name typed at the desk may mix directions ("Ali علي", "عبد الله Smith"). Its glyphs are drawn
# in the Unicode bidi algorithm's visual order, each piece in its own direction. poppler reads a
# line in its page's direction, reverses the right-to-left pieces, and gives the spaces and
# punctuation between pieces to whichever piece its own rule picks: "علي Ali" came out "عليAli"
# in an English handout, "علي Dr." as "علي .Dr" in an Arabic one.


def bidi_levels(text: str, rtl: bool) -> list[int] | None:
    """Each character's embedding level by the Unicode bidi algorithm (python-bidi, the Rust
    unicode-bidi crate; its debug report lists one level per UTF-8 byte). None if unreadable."""
    report = str(get_display(text, base_dir="R" if rtl else "L", debug=True))
    # The report quotes the text first: read only its levels field, the last one.
    start, end = report.rfind("levels: ["), report.rfind("paragraphs: [")
    byte_levels = [int(n) for n in re.findall(r"Level\(\s*(\d+),\s*\)", report[start:end])] if 0 <= start < end else []
    if len(byte_levels) != len(text.encode()):
        return None
    levels, offset = [], 0
    for char in text:
        # A joiner (ZWNJ, class BN) is set aside by the algorithm (rule X9); it goes with the
        # letter before it, as a shaper draws it.
        levels.append(levels[-1] if levels and unicodedata.bidirectional(char) == "BN" else byte_levels[offset])
        offset += len(char.encode())
    return levels


def visual_order(levels: list[int]) -> list[int]:
    """The characters' indexes in drawing order, left to right (rule L2: from the highest level
    down to the lowest odd one, reverse every run at that level or higher)."""
    order = list(range(len(levels)))
    for level in range(max(levels, default=0), 0, -1):
        start = None
        for position in range(len(order) + 1):
            inside = position < len(order) and levels[order[position]] >= level
            if inside and start is None:
                start = position
            elif not inside and start is not None:
                order[start:position] = reversed(order[start:position])
                start = None
    return order


def is_left_to_right(chars: list[str]) -> bool:
    return any(unicodedata.bidirectional(c) == "L" for text in chars for c in text)


def pieces(chars: list[str]) -> list[tuple[list[str], bool]]:
    """The glyphs of a mixed run cut into its left-to-right pieces (glyphs with a left-to-right
    letter, and the textless or mark glyphs drawn after them) and the rest, each with whether it
    is left to right. A left-to-right letter is drawn before its marks and holds the cluster's
    text (WeasyPrint gives it to the first glyph): the right-to-left repair of marks would move it."""
    out: list[tuple[list[str], bool]] = []
    for text in chars:
        ltr = is_left_to_right([text]) or bool(out and out[-1][1] and (not text or is_mark(text)))
        if out and out[-1][1] == ltr:
            out[-1][0].append(text)
        else:
            out.append(([text], ltr))
    return out


def mixed_run_spans(glyphs: list[str], text: str, rtl: bool) -> dict[int, str]:
    """Glyph index -> /ActualText for a run that mixes directions, in a line of direction `rtl`.

    Its right-to-left pieces get what `glyph_spans` gives (a ligature its letters in drawing
    order, a mark to the glyph before it); a Latin letter drawn with a combining mark its
    composed form (poppler reads a mark, not a left-to-right letter to it, out of its word in a
    right-to-left line); a space or punctuation glyph at a piece's edge is fenced with the
    direction mark of its own level (LEFT-TO-RIGHT or RIGHT-TO-LEFT MARK on both sides), so
    poppler keeps it with the piece the bidi algorithm put it in."""
    levels = bidi_levels(text, rtl)
    if levels is None:
        return {}
    order = visual_order(levels)
    drawn = "".join(text[index] for index in order)
    drawn_chars = align_drawn(glyphs, drawn)
    if drawn_chars is None:
        return {}
    glyph_levels, position = [], 0
    for chars in drawn_chars:
        glyph_levels.append(levels[order[min(position, len(order) - 1)]])
        position += len(chars)
    chars = [c for piece, ltr in pieces(drawn_chars) for c in (piece if ltr else attach_marks(on_base_glyph(piece), True))]
    strong = ["R" if right_to_left(c) else "L" if is_left_to_right([c]) else "" for c in chars]

    def at_a_pieces_edge(index: int) -> bool:
        own = "R" if glyph_levels[index] % 2 else "L"
        before = next((k for k in reversed(strong[:index]) if k), "")
        after = next((k for k in strong[index + 1:] if k), "")
        return before != own or after != own

    spans: dict[int, str] = {}
    for index, glyph in enumerate(chars):
        if is_left_to_right([glyph]):
            if glyph != unicodedata.normalize("NFC", glyph):
                spans[index] = unicodedata.normalize("NFC", glyph)
        elif ZWNJ in glyph or not glyph or any(unicodedata.category(c) in ("Mn", "Me") for c in glyph):
            spans[index] = glyph
        elif is_rtl_ligature(glyph):
            spans[index] = glyph[::-1]
        elif not right_to_left(glyph) and at_a_pieces_edge(index):
            fence = RLM if glyph_levels[index] % 2 else LRM
            spans[index] = fence + glyph + fence
        elif not glyphs[index]:  # a letter drawn under its mark, its text on the mark's glyph
            spans[index] = glyph
    return spans


def is_rtl_ligature(text: str) -> bool:
    """The text of one glyph that stands for two or more right-to-left letters (lam-lam-ha)."""
    return len(text) > 1 and all(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def draws_rtl_ligatures(fonts: Dictionary, unicode_maps: dict[ObjGen, dict[int, str]]) -> bool:
    """Whether a page's fonts have a right-to-left ligature glyph (`is_rtl_ligature`). The
    fonts are subsets of the glyphs the document draws: so far only a name typed at the desk
    makes one ("عبد الله"), and the library's runs are left as they were. A ligature first drawn
    under its marks ("اللّٰه") has no text of its own: the marks' glyph holds the cluster's."""
    return any(is_rtl_ligature(without_marks(text)) for font in fonts.values() if isinstance(font, Dictionary)
               for text in to_unicode(font, unicode_maps).values())


def glyph_items(array: Array) -> list[Any]:
    """A TJ array with one glyph per string (two bytes each: WeasyPrint's Identity-H fonts)."""
    items: list[Any] = []
    for item in array:
        if isinstance(item, String):
            raw = bytes(item)
            items.extend(String(raw[i:i + 2]) for i in range(0, len(raw), 2))
        else:
            items.append(item)
    return items


def repair_run(run: list[pikepdf.ContentStreamInstruction], fonts: Dictionary, font: dict[int, str],
               unicode_maps: dict[ObjGen, dict[int, str]], text: str,
               rtl: bool = True) -> list[pikepdf.ContentStreamInstruction]:
    """The instructions of one right-to-left run (or of a run mixing directions in a line of
    direction `rtl`: `mixed_run_spans`), with the glyphs of `glyph_spans` in /ActualText spans.
    A run may hold several TJ (combining marks are raised with Ts between them)."""
    tj, bdc, emc = Operator("TJ"), Operator("BDC"), Operator("EMC")
    shows: list[tuple[int, list[Any], list[int]]] = []  # (instruction, items, indexes of glyph items)
    glyphs: list[str] = []
    for position, instruction in enumerate(run):
        if instruction.operator == Operator("Tf") and instruction.operands[0] in fonts:
            font = to_unicode(fonts[instruction.operands[0]], unicode_maps)
        elif instruction.operator == tj:
            items = glyph_items(instruction.operands[0])
            indexes = [i for i, item in enumerate(items) if isinstance(item, String) and len(bytes(item)) == 2]
            glyphs += [font.get(int.from_bytes(bytes(items[i]), "big"), "") for i in indexes]
            shows.append((position, items, indexes))
    logical = logical_text(Mark(text, None))
    if mixes_directions(logical):
        chars, spans = None, mixed_run_spans(glyphs, logical, rtl)
    else:
        chars = align_glyphs(glyphs, text)
        spans = {first: actual for first, _, actual in glyph_spans(chars)} if chars else {}
    if chars:  # a glyph with no ToUnicode text that stands for some (`align_drawn`, `on_base_glyph`)
        spans.update({index: text for index, text in enumerate(chars) if text and not glyphs[index] and index not in spans})
    if not spans:
        return run
    replaced: dict[int, list[pikepdf.ContentStreamInstruction]] = {}
    glyph = 0
    for position, items, indexes in shows:
        out: list[pikepdf.ContentStreamInstruction] = []
        start = 0
        for index in indexes:
            if glyph in spans:
                if index > start:
                    out.append(pikepdf.ContentStreamInstruction([Array(items[start:index])], tj))
                out.append(pikepdf.ContentStreamInstruction([Name.Span, Dictionary(ActualText=String(spans[glyph]))], bdc))
                out.append(pikepdf.ContentStreamInstruction([Array([items[index]])], tj))
                out.append(pikepdf.ContentStreamInstruction([], emc))
                start = index + 1
            glyph += 1
        if start < len(items):
            out.append(pikepdf.ContentStreamInstruction([Array(items[start:])], tj))
        replaced[position] = out
    return [new for position, instruction in enumerate(run) for new in replaced.get(position, [instruction])]


# ---------------------------------------------------------------- the repair


@dataclass(frozen=True)
class RepairStats:
    """What `repair()` changed, for tests and the build log."""

    artifacts: int  # marked-content sequences turned into artifacts
    actual_texts: int  # runs given /ActualText
    languages: int  # structure elements given /Lang
    merged: int  # structure elements joined into their other fragment


def repair(pdf_bytes: bytes, record: TagRecord) -> tuple[bytes, RepairStats]:
    """The corrected PDF: artifacts, /Lang, /ActualText and joined elements (see the module docstring)."""
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        root = pdf.Root
        doc_lang = str(root.get("/Lang", ""))
        tree = root.StructTreeRoot
        parent_tree = tree.ParentTree.Nums
        artifacts = actual_texts = 0
        removed: list[Dictionary] = []  # structure elements whose content became artifacts
        span_langs: dict[ObjGen, str | None] = {}  # structure element of a run -> its language
        unicode_maps: dict[ObjGen, dict[int, str]] = {}  # font -> its ToUnicode map
        for index, page in enumerate(pdf.pages):
            page_array = parent_tree[2 * index + 1]
            elements = list(page_array)
            rewritten, renumber, counts = rewrite_page(pdf, page, index, record, doc_lang, unicode_maps)
            artifacts += counts[0]
            actual_texts += counts[1]
            new_array = Array()
            for old, element in enumerate(elements):
                if old in renumber:
                    new_array.append(element)
                    span_langs[element.objgen] = record.marks[(index, old)].lang
                else:
                    removed.append(element)
            for element in new_array:
                renumber_kids(element, renumber)
            parent_tree[2 * index + 1] = new_array
            page.Contents = pdf.make_stream(rewritten)
        for element in removed:
            detach(element)
        document = tree.K[0]
        merged = join_fragments(document, record)
        elements = StructTree.read(document)
        languages = tag_languages(elements, record, span_langs, doc_lang)
        mark_callouts(tree, elements, record)
        mark_figures(elements, record)
        compact(pdf)  # smaller, drawing and saying the same (render/compaction.py)
        out = io.BytesIO()
        # The object streams qpdf writes (the structure tree) at zlib's best level; every other
        # stream is already deflated by `compact`, and qpdf keeps it as it is.
        pikepdf.settings.set_flate_compression_level(9)
        # fix_metadata_version off: the XMP (with its PDF/UA identification) stays as WeasyPrint wrote it.
        pdf.save(out, deterministic_id=True, fix_metadata_version=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue(), RepairStats(artifacts, actual_texts, languages, merged)


def right_to_left_run(mark: Mark, doc_lang: str) -> bool:
    """Whether a run sits in right-to-left text: its language's direction from CLDR (through
    Babel), the document's when the run names none; for a language CLDR does not know, the
    run's own letters (Unicode bidi classes R and AL). Decided per run, so the Arabic line of
    a left-to-right sheet is repaired like a right-to-left handout.

    A run of right-to-left letters with no left-to-right letter is right-to-left whatever its
    language says: a name typed at the desk ("عبد الله") takes the handout's language, and
    an English handout's whole-run /ActualText of it extracted backwards."""
    known = tag_direction(mark.lang or doc_lang) if mark.lang or doc_lang else None
    if known == "ltr" and right_to_left(mark.text):
        return not any(unicodedata.bidirectional(char) == "L" for char in mark.text)
    return known == "rtl" if known else right_to_left(mark.text)


# ---------------------------------------------------------------- content streams
#
# A page's content stream is rewritten as tokens: the operators the repair acts on
# (BDC, BMC, EMC, and Tf for the font of a right-to-left run) and the bytes between
# them, copied as they are. Parsing every operator with pikepdf and writing them all
# again cost more than half of the repair; WeasyPrint's streams are regular enough
# to find those operators with one pattern (`scan_tokens`), and anything else goes
# through pikepdf's parser (`parse_tokens`): the same tokens, the same rewrite.


class Op(NamedTuple):
    """An operator the repair acts on, as written in the content stream."""

    operator: bytes  # b"BDC", b"BMC", b"EMC" or b"Tf"
    raw: bytes  # the operator with its operands
    name: str = ""  # the tag (BDC, BMC) or the font resource (Tf), such as "/Span"
    mcid: int | None = None  # a BDC's marked-content id


Token = bytes | Op

OPERATORS = (b"BDC", b"BMC", b"EMC", b"Tf")
_NAME = rb"(/[^\s/<>\[\]()%{}#]+)"
# Exactly the forms WeasyPrint 70 writes: "/Span <</MCID 3>> BDC", "/Artifact BMC", "EMC", "/F1 12 Tf",
# each between whitespace (the stream is searched with a newline added at either end).
KNOWN_OPERATOR = re.compile(
    rb"\s(" + _NAME + rb"\s+<<\s*/MCID\s+(\d+)\s*>>\s+BDC|" + _NAME + rb"\s+BMC|EMC|"
    + _NAME + rb"\s+[-+]?[\d.]+\s+Tf)(?=\s)")
INLINE_IMAGE = re.compile(rb"(?<!\S)BI(?!\S)")


def scan_tokens(data: bytes) -> list[Token] | None:
    """The tokens of a content stream found by pattern, or None when the stream holds anything
    the pattern does not cover (then `parse_tokens` reads it): a literal string or a comment
    (which may hold anything), an inline image, or an operator in another form."""
    if b"(" in data or b"%" in data or (b"BI" in data and INLINE_IMAGE.search(data)):
        return None
    padded = b"\n" + data + b"\n"
    tokens: list[Token] = []
    position = 0
    for match in KNOWN_OPERATOR.finditer(padded):
        raw, tag, mcid, bmc_tag, font = match.groups()
        tokens.append(padded[position:match.start(1)])
        if tag is not None:
            tokens.append(Op(b"BDC", raw, tag.decode(), int(mcid)))
        elif bmc_tag is not None:
            tokens.append(Op(b"BMC", raw, bmc_tag.decode()))
        elif font is not None:
            tokens.append(Op(b"Tf", raw, font.decode()))
        else:
            tokens.append(Op(b"EMC", raw))
        position = match.end()
    tokens.append(padded[position:])
    # Every occurrence of the operators' letters must be one of the operators found (counting
    # substrings over-counts, never under-counts: a mismatch only means the slower parser).
    if len(tokens) // 2 != sum(data.count(operator) for operator in OPERATORS):
        return None
    return tokens


def unparse(operands: list[Any], operator: str) -> bytes:
    return pikepdf.unparse_content_stream([pikepdf.ContentStreamInstruction(operands, Operator(operator))])


def parse_tokens(page: pikepdf.Page) -> list[Token]:
    """The tokens of any content stream, through pikepdf's parser."""
    tokens: list[Token] = []
    for instruction in pikepdf.parse_content_stream(page):
        operands, name = instruction.operands, str(instruction.operator).encode()
        raw = pikepdf.unparse_content_stream([instruction])
        if name == b"BDC" and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]:
            tokens.append(Op(name, raw, str(operands[0]), int(operands[1].MCID)))
        elif name in OPERATORS:
            tokens.append(Op(name, raw, str(operands[0]) if name in (b"BMC", b"Tf") else ""))
        else:
            tokens.append(compact_shows(raw) if name == b"TJ" else raw)
        tokens.append(b"\n")
    return tokens


def page_tokens(page: pikepdf.Page) -> list[Token]:
    # The text shows compacted first (render/compaction.py): once per page, where the pattern reads it.
    contents = page.obj.get("/Contents")
    tokens = scan_tokens(compact_shows(contents.read_bytes())) if isinstance(contents, pikepdf.Stream) else None
    return tokens if tokens is not None else parse_tokens(page)


def marked_content(mark: Mark, tag: str, mcid: int, actual: bool, rtl: bool) -> bytes:
    """The BDC that opens a content run: its new MCID, and /ActualText when it needs one."""
    if actual:
        return unparse([Name(tag), Dictionary(MCID=mcid, ActualText=String(actual_text(mark, rtl)))], "BDC")
    return tag.encode() + b" <</MCID %d>> BDC" % mcid


def artifact(mark: Mark, actual: bool, rtl: bool) -> tuple[bytes, int]:
    """The BDC that opens page furniture or a decorative run as an artifact, and how many EMC close it."""
    if not mark.furniture:
        return unparse([Name.Artifact, Dictionary(Type=Name.Layout)], "BDC"), 1
    opened = unparse([Name.Artifact, Dictionary(Type=Name.Pagination, Subtype=Name("/" + mark.furniture))], "BDC")
    if not actual:
        return opened, 1
    # Readers and extractors honour /ActualText on a /Span, inside the artifact too.
    span = unparse([Name.Span, Dictionary(ActualText=String(actual_text(mark, rtl)))], "BDC")
    return opened + b"\n" + span, 2


def rewrite_page(pdf: pikepdf.Pdf, page: pikepdf.Page, index: int, record: TagRecord, doc_lang: str,
                 unicode_maps: dict[ObjGen, dict[int, str]]) -> tuple[bytes, dict[int, int], tuple[int, int]]:
    """A page's content stream with furniture and separators as artifacts, MCIDs renumbered
    from 0 in order, and /ActualText where needed; also old MCID -> new MCID."""
    out: list[bytes] = []
    renumber: dict[int, int] = {}
    artifacts = actual_texts = 0
    open_sequences: list[int] = []  # per open marked-content sequence: how many EMC close it
    fonts = page.Resources.get("/Font", Dictionary())
    font: dict[int, str] = {}
    run: list[bytes] | None = None  # an open RTL run to repair (glyph_spans)
    run_text, run_font, run_depth, run_rtl = "", font, 0, True
    ligatures: bool | None = None  # draws_rtl_ligatures, once a run may need it
    for token in page_tokens(page):
        if isinstance(token, bytes):
            (out if run is None else run).append(token)
            continue
        operator = token.operator
        if operator == b"Tf" and token.name in fonts:
            font = to_unicode(fonts[token.name], unicode_maps)
        if run is not None and operator != b"EMC":
            run.append(token.raw)
            if operator in (b"BDC", b"BMC"):
                open_sequences.append(1)
            continue
        if operator == b"EMC":
            if run is not None and len(open_sequences) == run_depth:
                out.append(b"\n" + repaired_run(pdf, b"".join(run), fonts, run_font, unicode_maps, run_text, run_rtl) + b"\n")
                run = None
            elif run is not None:
                run.append(token.raw)
                open_sequences.pop()
                continue
            out.append(b"\n".join([token.raw] * (open_sequences.pop() if open_sequences else 1)))
            continue
        if operator in (b"BDC", b"BMC"):
            open_sequences.append(1)
        if token.mcid is None:
            out.append(token.raw)
            continue
        mark = record.marks.get((index, token.mcid))
        if mark is None:
            raise ValueError(f"page {index + 1}: MCID {token.mcid} was not recorded while WeasyPrint wrote it")
        rtl = right_to_left_run(mark, doc_lang)
        actual = needs_actual_text(mark, rtl)
        if mark.furniture or mark.decorative:
            artifacts += 1
            opened, open_sequences[-1] = artifact(mark, actual, rtl)
        else:
            renumber[token.mcid] = len(renumber)
            opened = marked_content(mark, token.name, renumber[token.mcid], actual, rtl)
            if actual:
                actual_texts += 1
            elif needs_glyph_repair(mark, rtl) or rtl and RTL_LETTER.search(mark.text) and (
                    ligatures := draws_rtl_ligatures(fonts, unicode_maps) if ligatures is None else ligatures):
                run, run_text, run_font, run_depth, run_rtl = [], mark.text, font, len(open_sequences), rtl
        out.append(opened)
    return b"".join(out), renumber, (artifacts, actual_texts)


def repaired_run(pdf: pikepdf.Pdf, data: bytes, fonts: Dictionary, font: dict[int, str],
                 unicode_maps: dict[ObjGen, dict[int, str]], text: str, rtl: bool = True) -> bytes:
    """The content of one right-to-left run with its glyphs given /ActualText (`repair_run`)."""
    run = list(pikepdf.parse_content_stream(pikepdf.Stream(pdf, data)))
    return compact_shows(pikepdf.unparse_content_stream(repair_run(run, fonts, font, unicode_maps, text, rtl)))


def renumber_kids(element: Dictionary, renumber: dict[int, int]) -> None:
    """Point an element's MCID kids at their new numbers."""
    kids = element.K
    if isinstance(kids, Array):
        element.K = Array([renumber[int(k)] if isinstance(k, int) else k for k in kids])
    elif isinstance(kids, int):
        element.K = renumber[int(kids)]


def detach(element: Dictionary) -> None:
    """Remove a structure element from its parent; an emptied parent goes too."""
    parent = element.get("/P")
    if parent is None or "/K" not in parent or not isinstance(parent.K, Array):
        return
    kids = [k for k in parent.K if not (isinstance(k, Dictionary) and k.objgen == element.objgen)]
    if len(kids) == len(parent.K):
        return  # not reachable from the tree (page furniture): nothing links to it
    parent.K = Array(kids)
    if not kids and parent.get("/S") != Name.Document:
        detach(parent)


def node_of(element: Dictionary, record: TagRecord) -> Node | None:
    return record.nodes.get(element.objgen[0])


def kids_of(element: Dictionary) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def is_element(kid: Any) -> bool:
    return isinstance(kid, Dictionary) and "/S" in kid


def join_fragments(element: Dictionary, record: TagRecord, adopted: bool = False) -> int:
    """Join the fragments of one HTML element into one structure element, recursively.

    WeasyPrint builds the tree page by page, so a section that crosses a page is
    two siblings; a multi-column list puts an L per column inside the list's L.
    Both are undone here: a child made from the same element with the same type
    as its parent is dissolved into it, and neighbouring siblings made from the
    same element with the same type are joined into the first. `adopted`: the
    element was given kids of another (their /P must point here now).
    """
    merged = 0
    node = node_of(element, record)
    tag = element.get("/S")
    kids: list[Any] = []
    grown: set[int] = set()  # indexes in kids of the elements given their next fragment's kids
    for kid in kids_of(element):
        kid_node = node_of(kid, record) if isinstance(kid, Dictionary) else None
        if kid_node is not None and kid_node.key >= 0:
            kid_tag = kid.get("/S")
            if node and kid_node.key == node.key and kid_tag == tag:
                kids.extend(kids_of(kid))  # a column of this list: its items are this list's
                merged += 1
                adopted = True
                continue
            last = node_of(kids[-1], record) if kids and isinstance(kids[-1], Dictionary) else None
            if last and last.key == kid_node.key and kids[-1].get("/S") == kid_tag:
                kids[-1].K = Array(kids_of(kids[-1]) + kids_of(kid))  # the same element, next page
                grown.add(len(kids) - 1)
                merged += 1
                continue
        kids.append(kid)
    if merged and "/K" in element and isinstance(element.K, Array):
        element.K = Array(kids)
    for index, kid in enumerate(kids):
        if is_element(kid):
            if adopted:
                kid.P = element
            merged += join_fragments(kid, record, adopted=index in grown)
    return merged


@dataclass(frozen=True)
class StructTree:
    """The structure elements under the document, read once after the fragments are joined."""

    elements: dict[ObjGen, Dictionary]  # every element by its object, the document first
    kids: dict[ObjGen, tuple[ObjGen, ...]]  # each element's element kids, in order

    @classmethod
    def read(cls, document: Dictionary) -> "StructTree":
        elements: dict[ObjGen, Dictionary] = {}
        kids: dict[ObjGen, tuple[ObjGen, ...]] = {}

        def visit(element: Dictionary) -> None:
            key = element.objgen
            elements[key] = element
            children = [kid for kid in kids_of(element) if is_element(kid)]
            kids[key] = tuple(kid.objgen for kid in children)
            for kid in children:
                visit(kid)

        visit(document)
        return cls(elements, kids)


def text_languages(key: ObjGen, tree: StructTree, span_langs: dict[ObjGen, str | None],
                   cache: dict[ObjGen, frozenset]) -> frozenset:
    """The languages of all text under a structure element (None: the document's)."""
    if key not in cache:
        if key in span_langs:
            cache[key] = frozenset([span_langs[key]])
        else:
            found: frozenset = frozenset()
            for kid in tree.kids[key]:
                found |= text_languages(kid, tree, span_langs, cache)
            cache[key] = found
    return cache[key]


def tag_languages(tree: StructTree, record: TagRecord, span_langs: dict[ObjGen, str | None],
                  doc_lang: str) -> int:
    """Give /Lang to every element whose HTML element names its language, and to every element
    whose text is all in one language other than its parent's; returns how many got one."""
    count = 0
    cache: dict[ObjGen, frozenset] = {}

    def visit(key: ObjGen, inherited: str) -> None:
        nonlocal count
        node = record.nodes.get(key[0])
        lang = node.lang if node else None
        if lang is None:
            langs = text_languages(key, tree, span_langs, cache) - {None}
            if len(langs) == 1 and (only := next(iter(langs))) != inherited:
                lang = only
        element = tree.elements[key]
        if lang is not None and element.get("/S") != Name.Document:
            element.Lang = String(lang)
            count += 1
            inherited = lang
        for kid in tree.kids[key]:
            visit(kid, inherited)

    visit(next(iter(tree.elements)), doc_lang)
    return count


def mark_callouts(root: Dictionary, tree: StructTree, record: TagRecord) -> None:
    """<aside> callouts become notes: /Aside, role-mapped to the standard /Note, with an /ID
    (PDF/UA-1 requires one on every Note) and their heading as their first kid."""
    for key, element in tree.elements.items():
        node = record.nodes.get(key[0])
        if node and node.tag == "aside":
            element.S = Name("/Aside")
    if number_callouts(tree.elements.values()):  # in document order
        role_map = root.get("/RoleMap") or Dictionary()
        role_map.Aside = Name.Note
        root.RoleMap = role_map


def number_callouts(elements: Iterable[Dictionary]) -> int:
    """Give the callouts (/Aside) among `elements`, in document order, their /ID: callout-1 on,
    unique in the document as PDF/UA-1 requires of notes (a packet numbers its parts' again,
    render/joining.py). How many."""
    count = 0
    for element in elements:
        if element.get("/S") == Name("/Aside"):
            count += 1
            element.ID = String(f"callout-{count}")
    return count


def mark_figures(tree: StructTree, record: TagRecord) -> int:
    """Pictures (an HTML element with role="img", see templates/pictures/) become one /Figure
    with their description as /Alt, holding the drawing and its labels.

    WeasyPrint tags the <figure> as NonStruct and the inline SVG inside it as a Figure without
    /Alt; the labels are text beside it. The picture is one thing to a reader: the outer element
    is the Figure (with the drawing's bounding box), the SVG inside it a plain grouping.
    """
    count = 0
    for key, element in tree.elements.items():
        node = record.nodes.get(key[0])
        if not node or not node.alt:
            continue
        count += 1
        element.S = Name.Figure
        element.Alt = String(node.alt)
        if node.box and "/Pg" in element:
            # The whole picture's box, in PDF user space (points from the bottom left): WeasyPrint
            # draws CSS pixels at 0.75 pt each from the top.
            x, y, width, height = (value * 0.75 for value in node.box)
            page_height = float(element.Pg.MediaBox[3])
            element.A = Dictionary(O=Name.Layout, BBox=Array([round(v, 2) for v in (
                x, page_height - y - height, x + width, page_height - y)]))
        for inner in _element_descendants(key, tree):
            if inner.get("/S") == Name.Figure:
                inner.S = Name.NonStruct
                if "/A" in inner:
                    del inner["/A"]
    return count


def _element_descendants(key: ObjGen, tree: StructTree) -> Iterator[Dictionary]:
    for kid in tree.kids[key]:
        yield tree.elements[kid]
        yield from _element_descendants(kid, tree)
