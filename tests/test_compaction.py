"""Compaction (render/compaction.py): smaller PDFs that draw, extract and tag exactly as before."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zlib
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from handoutkit.render import compaction, pdftags
from handoutkit.render.compaction import (UNREAD_FONT_TABLES, agree, compact_shows, deflate_streams,
                                          drop_optional_element_types, share_unicode_maps, without_tables)

from .layout import lay_out_repository_handout

# ---------------------------------------------------------------- text shows


@pytest.mark.parametrize("show, expected", [
    (b"[ 0 <0174> 0 <01e9> 0 ] TJ", b"[<017401e9>] TJ"),  # WeasyPrint's form, as pikepdf writes it again
    (b"[<0003>0<020e>0] TJ", b"[<0003020e>] TJ"),  # as WeasyPrint writes it
    (b"[ <0012> -3 <0014> 0 ] TJ", b"[ <0012> -3 <0014>] TJ"),  # a real kern stays
    (b"[ 341 <0126> 0.0 <0554> ] TJ", b"[ 341 <01260554> ] TJ"),
    (b"[ <0006> <01c2> 0 ] TJ", b"[ <000601c2>] TJ"),  # strings side by side
    (b"[ 0 () 0.0 <0015> 0 () 0.0 ] TJ", b"[<0015>] TJ"),  # empty strings, as pikepdf writes them
    (b"[ <0035> -19 () -20.4755 <002c> ] TJ", b"[ <0035> -19 <> -20.4755 <002c> ] TJ"),
    (b"[ <0126> 0.000 <0554> ] TJ", b"[ <0126> 0.000 <0554> ] TJ"),  # a zero spelt otherwise stays
    (b"[ <012> 0 <0014> ] TJ", b"[ <012> 0 <0014> ] TJ"),  # an odd hex string is padded: kept apart
    (b"q\n[ 0 ] TJ\nQ", b"q\n\nQ"),  # shows and moves nothing
    (b"[3 2] 0 d\n[0 1] 0 d", b"[3 2] 0 d\n[0 1] 0 d"),  # dash arrays are not shows
    (b"/Span <</MCID 0>> BDC\n<< /A <01> >> pop", b"/Span <</MCID 0>> BDC\n<< /A <01> >> pop"),
])
def test_zero_adjustments_go_and_the_strings_they_separated_join(show: bytes, expected: bytes) -> None:
    assert compact_shows(show) == expected


def test_a_stream_is_compacted_at_its_text_shows_only() -> None:
    stream = (b"BT\n/F1 16 Tf\n[ 0 <0174> 0 <01e9> 0 ] TJ\n[ 0 ] TJ\n2.654 Ts\n[ -341.0 ] TJ\n"
              b"[3 2] 0 d\n[<0003>0<020e>0] TJ\nET")
    assert compact_shows(stream) == (b"BT\n/F1 16 Tf\n[<017401e9>] TJ\n\n2.654 Ts\n[ -341.0 ] TJ\n"
                                     b"[3 2] 0 d\n[<0003020e>] TJ\nET")


@pytest.mark.parametrize("stream", [
    b"/Span << /ActualText ([ 0 <01> 0 ] TJ) >> BDC\n[ 0 <0174> 0 ] TJ\nEMC",
    b"/Span << /ActualText (() [ 0 <01> 0 ] TJ) >> BDC\n[ 0 <0174> 0 ] TJ\nEMC",
    b"% [ 0 <01> 0 ] TJ\n[ 0 <0174> 0 ] TJ",
], ids=["literal string", "literal string opening with ()", "comment"])
def test_a_stream_with_a_literal_string_or_a_comment_is_left_alone(stream: bytes) -> None:
    """A literal string or a comment may hold anything, a TJ pattern too: no pattern is applied."""
    assert compact_shows(stream) == stream


# ---------------------------------------------------------------- ToUnicode maps


def two_font_pdf(maps: list[dict[int, str]]) -> pikepdf.Pdf:
    """A one-page PDF whose fonts carry these ToUnicode maps (no glyphs: only the maps matter here)."""
    pdf = pikepdf.new()
    fonts = Dictionary()
    for number, entries in enumerate(maps):
        cmap = compaction.cmap_bytes({b"%04x" % glyph: text.encode("utf-16-be").hex().encode()
                                      for glyph, text in entries.items()})
        fonts[f"/F{number}"] = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type0,
                                                            ToUnicode=pdf.make_stream(cmap)))
    pdf.add_blank_page()
    pdf.pages[0].obj.Resources = Dictionary(Font=fonts)
    return pdf


def font_maps(pdf: pikepdf.Pdf) -> list[dict[bytes, bytes]]:
    return [compaction.unicode_map(font.ToUnicode) for font in compaction.document_fonts(pdf)]


def test_fonts_whose_maps_agree_share_their_union() -> None:
    pdf = two_font_pdf([{3: "ا", 4: "ب"}, {4: "ب", 5: "ت"}])
    assert share_unicode_maps(pdf) == 1
    regular, bold = compaction.document_fonts(pdf)
    assert regular.ToUnicode.objgen == bold.ToUnicode.objgen
    assert font_maps(pdf)[0] == {b"0003": b"0627", b"0004": b"0628", b"0005": b"062a"}


def test_fonts_whose_maps_disagree_keep_their_own() -> None:
    """One glyph id drawn for a space in one font and a no-break space in the other: each extracts
    as it did, so the maps stay apart."""
    pdf = two_font_pdf([{3: "ا", 0x554: " "}, {3: "ا", 0x554: "\xa0"}])
    assert share_unicode_maps(pdf) == 0
    assert [m[b"0554"] for m in font_maps(pdf)] == [b"0020", b"00a0"]
    assert not agree({b"1": b"a"}, {b"1": b"b"}) and agree({b"1": b"a"}, {b"2": b"b"})


# ---------------------------------------------------------------- deflate


def test_streams_are_deflated_again_to_the_same_bytes_and_the_xmp_stays_plain() -> None:
    pdf = pikepdf.new()
    content = b"BT /F1 12 Tf [<0001>] TJ ET\n" * 200
    plain = pdf.make_stream(content)
    deflated = pdf.make_stream(zlib.compress(content, 1))
    deflated.Filter = Name.FlateDecode
    predicted = pdf.make_stream(b"")
    predicted.write(zlib.compress(b"\x00\x01"), filter=Name.FlateDecode,
                    decode_parms=Dictionary(Predictor=12, Columns=1))
    pdf.Root.Metadata = pdf.make_stream(b"<x:xmpmeta/>", Type=Name.Metadata, Subtype=Name.XML)
    before = len(deflated.read_raw_bytes())

    assert deflate_streams(pdf) == 2
    assert plain.Filter == Name.FlateDecode and plain.read_bytes() == content
    assert deflated.read_bytes() == content and len(deflated.read_raw_bytes()) < before
    assert "/Filter" not in pdf.Root.Metadata  # qpdf writes the XMP plain on purpose: so do we
    assert "/DecodeParms" in predicted  # a predictor is not ours to drop


# ---------------------------------------------------------------- font tables

# A font program as a PDF holds it: Noto Sans Arabic subset the way WeasyPrint's subsetter leaves
# it (its layout tables gone), made here with fontTools so the test needs no PDF.
NOTO = Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf")


def subset_program() -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.drop_tables += ["GSUB", "GPOS"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(NOTO)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="\u0627\u0644\u0645\u0633\u0627\u0639\u062f\u0629 0123")
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def tables(program: bytes) -> dict[bytes, bytes]:
    count = int.from_bytes(program[4:6], "big")
    records = [program[12 + 16 * i:28 + 16 * i] for i in range(count)]
    return {r[:4]: program[int.from_bytes(r[8:12], "big"):][:int.from_bytes(r[12:16], "big")] for r in records}


@pytest.mark.skipif(not NOTO.exists(), reason="needs the Noto fonts the project installs")
def test_the_unread_font_tables_go_and_every_other_table_is_kept_byte_for_byte() -> None:
    from fontTools.ttLib import TTFont

    program = subset_program()
    before = tables(program)
    assert UNREAD_FONT_TABLES & before.keys(), "the sample must hold tables to drop"

    smaller = without_tables(program)

    assert smaller is not None and len(smaller) < len(program)
    after = tables(smaller)
    assert after.keys() == before.keys() - UNREAD_FONT_TABLES
    for tag in after.keys() - {b"head"}:
        assert after[tag] == before[tag], tag
    # head differs only in its checkSumAdjustment (bytes 8-12), right again for the new font
    assert after[b"head"][:8] + after[b"head"][12:] == before[b"head"][:8] + before[b"head"][12:]
    padded = smaller + b"\0" * (-len(smaller) % 4)
    assert sum(int.from_bytes(padded[i:i + 4], "big") for i in range(0, len(padded), 4)) & 0xFFFFFFFF == 0xB1B0AFBA
    font = TTFont(io.BytesIO(smaller))  # fontTools reads it, and the glyphs are the same
    assert font.getGlyphOrder() == TTFont(io.BytesIO(program)).getGlyphOrder()
    assert without_tables(smaller) is None  # nothing left to drop: left as it is


@pytest.mark.parametrize("program", [b"", b"OTTO" + b"\0" * 40, b"ttcf" + b"\0" * 40,
                                     b"\0\1\0\0\0\x09" + b"\0" * 6])  # CFF, collection, cut short
def test_a_font_program_that_is_not_plain_truetype_is_left_alone(program: bytes) -> None:
    assert without_tables(program) is None


def test_structure_elements_lose_their_optional_type_and_references_keep_theirs() -> None:
    pdf = pikepdf.new()
    mcr = Dictionary(Type=Name.MCR, MCID=0)
    objr = Dictionary(Type=Name.OBJR)
    element = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.P, K=Array([mcr, objr])))
    root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=element))
    pdf.Root.StructTreeRoot = root

    assert drop_optional_element_types(pdf) == 1
    assert "/Type" not in element and element.S == Name.P
    assert mcr.Type == Name.MCR and objr.Type == Name.OBJR and root.Type == Name.StructTreeRoot


# ---------------------------------------------------------------- real handouts, with and without


def pixels(pdf: bytes, tmp: Path) -> list[str]:
    """Each page rendered by Poppler at 72 dpi, as a hash of its pixels."""
    path = tmp / "page.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "72", str(path), str(tmp / "px")], check=True)
    pages = sorted(tmp.glob("px*.ppm"))
    data = [hashlib.sha256(page.read_bytes()).hexdigest() for page in pages]
    for page in pages:
        page.unlink()
    return data


def extracted(pdf: bytes, tmp: Path) -> str:
    path = tmp / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def structure(pdf: bytes) -> list[tuple]:
    """The structure tree as readers walk it: types, languages, alternative and actual texts, MCIDs."""
    out: list[tuple] = []

    def visit(element: object, depth: int) -> None:
        if isinstance(element, int):
            out.append(("MCID", depth, element))
            return
        if isinstance(element, Array):
            for kid in element:
                visit(kid, depth)
            return
        assert isinstance(element, Dictionary)
        out.append((str(element.get("/S")), depth, str(element.get("/Lang", "")), str(element.get("/Alt", "")),
                    str(element.get("/ActualText", ""))))
        kids = element.get("/K")
        for kid in kids if isinstance(kids, Array) else [] if kids is None else [kids]:
            visit(kid, depth + 1)

    with pikepdf.open(io.BytesIO(pdf)) as document:
        visit(document.Root.StructTreeRoot.K, 0)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("locale, handout_id, large", [
    ("ar", "acdf", False),  # the largest Arabic PDF: (g)'s measure
    ("ne", "lumbar-fusion-tlif", True),  # Devanagari /ActualText; large print
    ("zh_Hans", "recovery-at-home", False),  # a CJK face subset per locale
])
def test_compaction_draws_extracts_and_tags_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      locale: str, handout_id: str, large: bool) -> None:
    document = lay_out_repository_handout(tmp_path, locale, handout_id, large)
    with pdftags.recording() as record:
        raw = document.write_pdf(pdf_variant="pdf/ua-1")

    compacted, stats = pdftags.repair(raw, record)
    monkeypatch.setattr(pdftags, "compact", lambda pdf: None)
    monkeypatch.setattr(pdftags, "compact_shows", lambda data: data)
    plain, plain_stats = pdftags.repair(raw, record)

    assert stats == plain_stats
    assert len(compacted) < 0.98 * len(plain), (len(compacted), len(plain))
    assert pixels(compacted, tmp_path) == pixels(plain, tmp_path)
    assert extracted(compacted, tmp_path) == extracted(plain, tmp_path)
    assert structure(compacted) == structure(plain)
