"""Stage 6, after tag repair: the PDF made smaller without changing what it draws, says or tags.

Issue 26 (g) holds an Arabic handout to 40 KiB per 2 pages. Measured on
ar/acdf (docs/performance.md): the font subsets are half the file, the page
content streams a quarter, the structure tree in object streams most of the
rest. The glyphs of the font programs are left exactly as WeasyPrint's
subsetter wrote them (rewriting them risks how glyphs print); these cuts change
only how the same things are written, or drop what no reader of them reads:

- **text shows without zero adjustments**: WeasyPrint writes every glyph of a
  TJ array as its own string with a 0 between (`[ 0 <0174> 0 <01e9> 0 ] TJ`);
  a 0 moves nothing, so `[ <017401e9> ] TJ` draws the same glyphs at the same
  places, and a TJ with nothing but zeros draws nothing at all;
- **one ToUnicode map for fonts that agree**: the regular and bold subsets of
  one family number their glyphs alike, and each font's map is written whole;
  fonts whose maps give the same text for every glyph id they share get one
  map, the union (a font only ever shows its own glyphs, so each still reads
  exactly as before);
- **the font tables no PDF reader uses dropped**: WeasyPrint's subsetter
  already drops the OpenType layout tables (GSUB, GPOS, BASE, JSTF); a
  CIDFontType2 program is drawn through its glyph ids, so its `GDEF` (read
  only with GSUB/GPOS), `name`, `post` and `gasp` are dead weight, about 1.5
  KB on ar/acdf. ISO 32000-1 9.9 lists the tables a TrueType program in a PDF
  needs (head, hhea, loca, maxp, cvt, prep, glyf, hmtx, fpgm; cmap for a
  simple font), and iText has always embedded CID subsets with no more than
  those. Only the table directory is written again: every kept table is
  the subsetter's bytes (head with its checksum adjustment made right), so
  no glyph, metric or hinting instruction changes;
- **a better deflate**: libdeflate (level 9, and 10 for the font programs)
  against zlib's 9 (the pages) and WeasyPrint's default level (the fonts): the
  same bytes after decoding, any PDF reader's inflate reads it. qpdf keeps a
  stream that is already deflated as it is.

The XMP metadata stays uncompressed (qpdf writes it so on purpose, so tools
that are not PDF readers find it), and the object streams are qpdf's own.
The font programs' glyphs stay exactly as WeasyPrint's subsetter wrote them.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import deflate
import pikepdf
from pikepdf import Array, Dictionary, Name

# libdeflate's level 9 beats zlib's 9 and is faster; its levels 10-12 search harder than zlib
# can, worth it for the font programs (mostly long runs: ar/acdf 241 bytes smaller for 2 ms) but
# not for page content (400 bytes for 10 ms a PDF, against the build's time target).
DEFLATE_LEVEL = 9
FONT_PROGRAM_LEVEL = 10

# The text shows, by pattern. A hex string of whole bytes, and a zero adjustment as WeasyPrint
# ("0") and pikepdf ("0", "0.0") write it; a zero spelt otherwise stays, a few bytes more.
_HEX = rb"<(?:[0-9A-Fa-f]{2})*>"
_ZERO = rb"(?:-?0(?:\.0)?)"
# Two hex strings with nothing or only a zero between them are side by side in a TJ array: no
# other operand of a content stream holds two strings apart by a number alone, or none.
_CHAIN = re.compile(_HEX + rb"(?:\s*(?:" + _ZERO + rb"\s*)?" + _HEX + rb")+")
_CHAIN_SEPARATOR = re.compile(rb">\s*(?:" + _ZERO + rb"\s*)?<")
_OPENING_ZERO = re.compile(rb"\[\s*(?:" + _ZERO + rb"\s*)+(?=<)")
_CLOSING_ZERO = re.compile(rb">(?:\s*" + _ZERO + rb")+\s*\]\s*TJ")
_EMPTY_SHOW = re.compile(rb"\[(?:\s*" + _ZERO + rb")*\s*\]\s*TJ")
# A literal string that is not empty: it may hold anything, a TJ pattern too.
_LITERAL = re.compile(rb"\((?!\))")
# WeasyPrint's ToUnicode CMaps: bfchar entries only, one glyph id to its text.
_BFCHAR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]*)>")
_BFCHAR_SECTION = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_CMAP_HEAD = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo
<< /Registry (Adobe)
/Ordering (UCS)
/Supplement 0
>> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <ffff>
endcodespacerange
"""
_CMAP_TAIL = b"""endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


@dataclass(frozen=True)
class CompactionStats:
    """What `compact()` changed, for tests."""

    shared_maps: int  # ToUnicode streams no longer written (their fonts use another font's map)
    font_programs: int  # font programs written without the tables no reader uses
    deflated: int  # streams deflated again


# ---------------------------------------------------------------- text shows


def compact_shows(data: bytes) -> bytes:
    """A content stream with its TJ arrays compacted: strings with nothing or only a zero
    between them joined, zeros at either end of an array dropped, a TJ of zeros alone (it shows and moves
    nothing) gone. Only for streams with no comments and no literal strings but empty ones,
    where a pattern cannot sit inside a string: any other comes back unchanged. Regular
    expressions only, no Python per show: this runs on every page of every PDF."""
    if b"%" in data or _LITERAL.search(data):
        return data
    data = data.replace(b"()", b"<>")  # the empty string as pikepdf writes it, as WeasyPrint does
    data = _OPENING_ZERO.sub(b"[", data)
    data = _CHAIN.sub(lambda chain: _CHAIN_SEPARATOR.sub(b"", chain[0]), data)
    data = _OPENING_ZERO.sub(b"[", data)  # again: a chain may have begun with an empty string
    data = _CLOSING_ZERO.sub(b">] TJ", data)
    return _EMPTY_SHOW.sub(b"", data)


# ---------------------------------------------------------------- ToUnicode maps


def unicode_map(stream: pikepdf.Stream) -> dict[bytes, bytes] | None:
    """Glyph id -> text (both as hex) of a CMap WeasyPrint wrote; None for any other CMap."""
    data = stream.read_bytes()
    if b"beginbfrange" in data or b"usecmap" in data:
        return None
    # Only inside the bfchar sections: the codespace range (<0000> <ffff>) has the same form.
    sections = _BFCHAR_SECTION.findall(data)
    return {glyph.lower(): text.lower() for section in sections for glyph, text in _BFCHAR.findall(section)}


def agree(a: dict[bytes, bytes], b: dict[bytes, bytes]) -> bool:
    """Whether two maps give the same text for every glyph id both have."""
    small, large = (a, b) if len(a) < len(b) else (b, a)
    return all(large.get(glyph, text) == text for glyph, text in small.items())


def cmap_bytes(entries: dict[bytes, bytes]) -> bytes:
    """A ToUnicode CMap in WeasyPrint's form, glyph ids in order, in blocks of 100 (the limit of
    one bfchar section)."""
    glyphs = sorted(entries)
    blocks = []
    for start in range(0, len(glyphs), 100):
        block = glyphs[start:start + 100]
        lines = b"\n".join(b"<%s> <%s>" % (glyph, entries[glyph]) for glyph in block)
        blocks.append(b"%d beginbfchar\n%s\nendbfchar\n" % (len(block), lines))
    return _CMAP_HEAD + b"".join(blocks) + _CMAP_TAIL


def document_fonts(pdf: pikepdf.Pdf) -> list[Dictionary]:
    """Every font of every page, once each, in page order."""
    fonts: dict[tuple[int, int], Dictionary] = {}
    for page in pdf.pages:
        for font in page.obj.get("/Resources", Dictionary()).get("/Font", Dictionary()).values():
            fonts.setdefault(font.objgen, font)
    return list(fonts.values())


def share_unicode_maps(pdf: pikepdf.Pdf) -> int:
    """Give fonts whose ToUnicode maps agree (`agree`) one map, their union; how many maps go."""
    groups: list[tuple[dict[bytes, bytes], list[Dictionary]]] = []
    for font in document_fonts(pdf):
        stream = font.get("/ToUnicode")
        entries = unicode_map(stream) if isinstance(stream, pikepdf.Stream) else None
        if not entries:
            continue
        for union, members in groups:
            if agree(union, entries):
                union.update(entries)
                members.append(font)
                break
        else:
            groups.append((dict(entries), [font]))
    shared = 0
    for union, members in groups:
        if len(members) > 1:
            stream = pdf.make_stream(cmap_bytes(union))
            for font in members:
                font.ToUnicode = stream
            shared += len(members) - 1
    return shared


# ---------------------------------------------------------------- font tables

# Tables a CIDFontType2 program in a PDF is never read for (see the module docstring).
UNREAD_FONT_TABLES = frozenset({b"GDEF", b"name", b"post", b"gasp"})
_SFNT_CHECKSUM_MAGIC = 0xB1B0AFBA  # the OpenType spec's head.checkSumAdjustment base


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def without_tables(font: bytes, unread: frozenset[bytes] = UNREAD_FONT_TABLES) -> bytes | None:
    """The TrueType program `font` without the tables `unread`, every other table byte for byte
    (head's checkSumAdjustment made right again); None when it holds none of them or is not a
    plain TrueType program (a collection, CFF or something unreadable is left as it is)."""
    if len(font) < 12 or font[:4] not in (b"\0\1\0\0", b"true"):
        return None
    count = struct.unpack(">H", font[4:6])[0]
    if len(font) < 12 + 16 * count:
        return None
    records = [struct.unpack(">4sIII", font[12 + 16 * i:28 + 16 * i]) for i in range(count)]
    if not any(tag in unread for tag, *_ in records) or \
            any(offset + length > len(font) for _, _, offset, length in records):
        return None
    kept = [(tag, checksum, font[offset:offset + length])
            for tag, checksum, offset, length in records if tag not in unread]
    # The directory's binary-search fields, as the OpenType spec defines them.
    power = 1 << (len(kept).bit_length() - 1)
    header = font[:4] + struct.pack(">HHHH", len(kept), 16 * power, power.bit_length() - 1,
                                    16 * (len(kept) - power))
    offset, directory, body, head_at = 12 + 16 * len(kept), b"", b"", None
    for tag, checksum, data in kept:
        if tag == b"head" and len(data) >= 12:
            head_at = offset + 8  # checkSumAdjustment: zero while the whole font is summed
            data = data[:8] + b"\0\0\0\0" + data[12:]
        directory += struct.pack(">4sIII", tag, checksum, offset, len(data))
        body += data + b"\0" * (-len(data) % 4)
        offset += len(data) + (-len(data) % 4)
    result = bytearray(header + directory + body)
    if head_at is not None:
        adjustment = (_SFNT_CHECKSUM_MAGIC - _checksum(bytes(result))) & 0xFFFFFFFF
        result[head_at:head_at + 4] = struct.pack(">I", adjustment)
    return bytes(result)


def drop_unread_font_tables(pdf: pikepdf.Pdf) -> int:
    """`without_tables` on the program of every CIDFontType2 font; how many programs changed."""
    changed = 0
    for font in document_fonts(pdf):
        for descendant in font.get("/DescendantFonts", Array()):
            if descendant.get("/Subtype") != Name.CIDFontType2:
                continue
            program = descendant.get("/FontDescriptor", Dictionary()).get("/FontFile2")
            if not isinstance(program, pikepdf.Stream):
                continue
            smaller = without_tables(program.read_bytes())
            if smaller is not None:
                program.write(smaller)  # deflated by deflate_streams, next
                program.Length1 = len(smaller)
                changed += 1
    return changed


# ---------------------------------------------------------------- deflate


def deflatable(stream: pikepdf.Stream) -> bool:
    """A stream to deflate again: plain or deflated without a predictor, and not one qpdf writes
    itself (object streams, cross-reference streams) or keeps uncompressed (the XMP)."""
    if stream.get("/Type") in (Name.Metadata, Name.ObjStm, Name.XRef) or "/DecodeParms" in stream:
        return False
    filters = stream.get("/Filter")
    return filters is None or filters == Name.FlateDecode or filters == Array([Name.FlateDecode])


def deflate_streams(pdf: pikepdf.Pdf) -> int:
    """Every stream `deflatable` deflated again, a TrueType program (the one stream with /Length1)
    at FONT_PROGRAM_LEVEL and the rest at DEFLATE_LEVEL; how many."""
    count = 0
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and deflatable(obj):
            level = FONT_PROGRAM_LEVEL if "/Length1" in obj else DEFLATE_LEVEL
            obj.write(bytes(deflate.zlib_compress(obj.read_bytes(), level)), filter=Name.FlateDecode)
            count += 1
    return count


# ---------------------------------------------------------------- structure elements


def drop_optional_element_types(pdf: pikepdf.Pdf) -> int:
    """`/Type /StructElem` taken off every structure element, where ISO 32000-1 (Table 323) makes
    it optional: a reader knows an element by where it sits in the tree. About 150 bytes on a
    two-page Arabic handout. Marked-content and object references keep their /Type (required)."""
    count = 0
    for obj in pdf.objects:
        if isinstance(obj, Dictionary) and obj.get("/Type") == Name.StructElem and "/S" in obj:
            del obj["/Type"]
            count += 1
    return count


def compact(pdf: pikepdf.Pdf) -> CompactionStats:
    """Share ToUnicode maps, drop the font tables no reader uses and the optional /Type of
    structure elements, and deflate every stream again (the text shows are compacted as the tag
    repair reads each page, `compact_shows`). Call it last, just before saving."""
    shared = share_unicode_maps(pdf)
    programs = drop_unread_font_tables(pdf)
    drop_optional_element_types(pdf)
    return CompactionStats(shared, programs, deflate_streams(pdf))
