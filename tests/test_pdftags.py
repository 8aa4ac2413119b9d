"""The tag repair's content-stream reader: the fast pattern and pikepdf's parser give the same repair."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pytest

from handoutkit.render import pdftags
from handoutkit.render.pdftags import Op, kids_of, recording, repair, scan_tokens

from .layout import lay_out_repository_handout

STREAM = (b"q\n/Span\n<</MCID 0>>\nBDC\nBT\n1 0 0 -1 5 9 Tm\n/F1 12.5 Tf\n[<0012>-3<0014>0] TJ\nET\nEMC\n"
          b"/Artifact\nBMC\n0 0 m\nEMC\nQ")


def test_scan_finds_the_marked_content_and_font_operators_and_keeps_every_byte() -> None:
    tokens = scan_tokens(STREAM)
    assert tokens is not None
    ops = [(t.operator, t.name, t.mcid) for t in tokens if isinstance(t, Op)]
    assert ops == [(b"BDC", "/Span", 0), (b"Tf", "/F1", None), (b"EMC", "", None),
                   (b"BMC", "/Artifact", None), (b"EMC", "", None)]
    assert b"".join(t.raw if isinstance(t, Op) else t for t in tokens).strip() == STREAM


@pytest.mark.parametrize("data", [
    STREAM.replace(b"[<0012>-3<0014>0] TJ", b"(EMC) Tj"),  # a literal string may hold anything
    STREAM.replace(b"0 0 m", b"% EMC\n0 0 m"),  # so may a comment
    STREAM.replace(b"0 0 m", b"BI /W 1 /H 1 ID \x00 EI"),  # and an inline image
    STREAM.replace(b"/Artifact\nBMC", b"/Span /MC0 BDC"),  # a BDC with a named property list
    STREAM.replace(b"/F1", b"/XBDCY"),  # an operator's letters inside a name
], ids=["literal string", "comment", "inline image", "named properties", "letters in a name"])
def test_scan_leaves_what_it_cannot_read_to_the_parser(data: bytes) -> None:
    assert scan_tokens(data) is None


def instructions_and_tree(data: bytes) -> tuple[list[list[bytes]], bytes]:
    """Every page's instructions as pikepdf reads them, and the rest of the PDF without its /ID."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pages = [[pikepdf.unparse_content_stream([i]) for i in pikepdf.parse_content_stream(page)]
                 for page in pdf.pages]
        for page in pdf.pages:
            page.Contents = pdf.make_stream(b"")
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, fix_metadata_version=False, compress_streams=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return pages, re.sub(rb"/ID \[<[0-9a-f]+>", b"/ID [<>", out.getvalue())


def every_parent_points_back(element: pikepdf.Dictionary) -> bool:
    kids = [kid for kid in kids_of(element) if isinstance(kid, pikepdf.Dictionary) and "/S" in kid]
    return all(kid.P.objgen == element.objgen and every_parent_points_back(kid) for kid in kids)


@pytest.mark.slow
@pytest.mark.parametrize("locale, handout_id, large", [
    ("ar", "acdf", False),  # right-to-left runs repaired glyph by glyph, isolated numbers
    ("ne", "lumbar-fusion-tlif", True),  # Devanagari /ActualText; large print: lists across pages
    ("es", "recovery-at-home", False),  # two-column lists joined, callouts
])
def test_the_fast_reader_and_the_parser_give_the_same_repair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             locale: str, handout_id: str, large: bool) -> None:
    document = lay_out_repository_handout(tmp_path, locale, handout_id, large)
    with recording() as record:
        raw = document.write_pdf(pdf_variant="pdf/ua-1")

    fast, fast_stats = repair(raw, record)
    monkeypatch.setattr(pdftags, "scan_tokens", lambda data: None)
    parsed, parsed_stats = repair(raw, record)

    assert fast_stats == parsed_stats and fast_stats.artifacts and fast_stats.merged
    assert instructions_and_tree(fast) == instructions_and_tree(parsed)
    with pikepdf.open(io.BytesIO(fast)) as pdf:
        assert every_parent_points_back(pdf.Root.StructTreeRoot.K[0])


# ---------------------------------------------------------------- direction, per run, from CLDR


@pytest.mark.parametrize("lang, doc_lang, text, rtl", [
    ("ar", "en", "اتصل", True),  # an Arabic line in a left-to-right document (the language sheet)
    (None, "fa", "(555)", True),  # a number in a Persian handout: the document's direction
    ("ckb", "en", "یارمەتی", True), ("ug", "en", "ياردەم", True), ("dv", "en", "އެހީ", True),
    ("syr", "en", "ܥܘܕܪܢܐ", True), ("sd", "en", "مدد", True),  # RTL locales no hand list named
    ("sd-Deva", "en", "मदद", False), ("zh-Hans", "ar", "帮助", False), ("en", "ar", "ACDF", False),
    ("x-unknown", "en", "مدد", True), ("x-unknown", "en", "help", False),  # no CLDR data: the letters
    ("en", "en", "\u2068عبد الله\u2069", True),  # a name typed at the desk takes the handout's language
    ("en", "en", "Ali علي", False), ("ne", "ne", "क्षत्रिय", False),  # a left-to-right letter: as its language
])
def test_direction_of_a_run_comes_from_its_language(lang: str | None, doc_lang: str, text: str, rtl: bool) -> None:
    assert pdftags.right_to_left_run(pdftags.Mark(text, lang), doc_lang) is rtl


def test_no_hand_list_of_right_to_left_languages() -> None:
    source = Path(pdftags.__file__).read_text("utf-8")
    assert not re.search(r"\(\s*\"ar\",\s*\"fa\"", source), "direction comes from CLDR (Babel), not a list"


@pytest.mark.slow  # renders a PDF
def test_a_right_to_left_line_in_a_left_to_right_document_extracts_in_reading_order(sample) -> None:
    """The language-assistance sheet is English with one line per language: its Arabic and Persian
    taglines extracted letters backwards while the repair ran only for right-to-left documents."""
    from handoutkit.render.renderer import PdfWriter, isolated

    from .pdftext import normalise, pdf_text

    arabic = "المساعدة اللغوية متاحة مجانًا. اتصل على {}."
    persian = "خدمات کمک زبانی به صورت رایگان ارائه می‌شود. با {} تماس بگیرید."
    lines = "".join(f'<p lang="{lang}" dir="rtl" style="font-family: \'Noto Naskh Arabic\'">'
                    f"{text.format(isolated('(555) 010-0142'))}</p>"
                    for lang, text in (("ar", arabic), ("fa", persian)))
    html = f'<html lang="en"><head><title>Sheet</title></head><body><h1>Language assistance</h1>{lines}</body></html>'
    path = sample.root / "sheet.pdf"
    path.write_bytes(PdfWriter(sample).pdf(html)[0])
    text = normalise(pdf_text(path))
    # Every run of words in reading order (was letters backwards: "ىلع لصتا"). Not yet exact: the
    # full stop after the number extracts before it, as it does in the right-to-left handouts.
    for wanted in (*arabic.rstrip(".").split("{}"), *persian.split("{}"), "(555) 010-0142"):
        assert normalise(wanted) in text, text


@pytest.mark.slow  # renders a PDF
def test_a_no_break_space_in_right_to_left_text_keeps_the_repair(sample) -> None:
    """The no-break space that binds a short last word (renderer.bind_last_word) is drawn as a
    space glyph: the right-to-left repair must still match the glyphs to the text, or the
    line extracts scrambled ("ّ ّ الحمى التورم")."""
    from handoutkit.render.renderer import PdfWriter

    from .pdftext import normalise, pdf_text

    text = "علامات العدوى، مثل الاحمرار أو التورّم أو السخونة أو\u00a0الحمّى"
    html = (f'<html lang="ar" dir="rtl"><head><title>x</title></head><body><ul>'
            f'<li style="font-family: \'Noto Naskh Arabic\'">{text}</li></ul></body></html>')
    path = sample.root / "nbsp.pdf"
    path.write_bytes(PdfWriter(sample).pdf(html)[0])
    assert normalise(text) in normalise(pdf_text(path))


def test_a_right_to_left_line_broken_before_a_number_keeps_the_repair(sample) -> None:
    """A line broken at the space before an isolated number is drawn with that space as its
    leftmost glyph, which the run's text does not hold: the glyphs must still be matched to the
    text, or the line's vowel marks come loose and poppler splits it in two, out of order
    ("احمرار أو ّ" before "تورم أو سخونة، أو", Arabic large print, issue 24)."""
    from handoutkit.render.renderer import PdfWriter, isolated

    from .pdftext import normalise, pdf_text

    text = "علامات العدوى: احمرار أو تورّم أو سخونة، أو حمّى تساوي أو تزيد على"
    # Wide enough for the words, not for the number after them: the line breaks before it.
    html = (f'<html lang="ar" dir="rtl"><head><title>x</title></head><body>'
            f'<p style="font-family: \'Noto Naskh Arabic\'; font-size: 18pt; width: 6.2in">'
            f'{text} {isolated("101 °F (38.3 °C)")}</p></body></html>')
    path = sample.root / "broken.pdf"
    path.write_bytes(PdfWriter(sample).pdf(html)[0])
    lines = [normalise(line) for line in pdf_text(path).splitlines() if line.strip()]
    assert lines[:2] == [normalise(text), "101 °F (38.3 °C)"], lines


@pytest.mark.slow  # renders a PDF
@pytest.mark.parametrize("lang, sentences", [
    # a raised tanween drawn as a glyph of its own (and the same glyph again, on another letter);
    # a comma after a Latin word; a full stop after a number; one that ends the paragraph
    ("ar", ["زِد نشاطك شيئًا فشيئًا خلال الأسابيع التالية.",
            "في عملية ACDF، يزيل الجرّاح القرص التالف.",
            "وإذا شعرت بأنك مريض جدًا، فاتصل بالرقم 911. أو اذهب إلى أقرب مستشفى.",
            "إذا رأيت سائلًا أكثر، فاتصل بنا على {clinic_phone}."]),
    # the space after a number
    ("fa", ["در صورت داشتن این علائم، فوراً با 911 تماس بگیرید",
            "بیشتر افراد در 3 هفته تا 3 ماه بهبود پیدا می‌کنند."]),
])
def test_right_to_left_sentences_around_numbers_and_marks_extract_exactly(sample, lang: str,
                                                                           sentences: list[str]) -> None:
    """Issue 24: the space and the punctuation after an isolated number or Latin word stay on
    their side of it ("911تماس", "،ACDF", ".(555) 010-0142" before the repair), and a letter
    whose raised mark is a glyph of its own is not split from its word ("شي ً ا")."""
    from handoutkit.render.renderer import PdfWriter, prose

    from .pdftext import normalise, pdf_text

    values = {"clinic_phone": "(555) 010-0142"}
    paragraphs = "".join(f"<p>{prose(sentence, values, rtl=True)}</p>" for sentence in sentences)
    html = (f'<html lang="{lang}" dir="rtl"><head><title>x</title></head>'
            f'<body style="font-family: \'Noto Naskh Arabic\'">{paragraphs}</body></html>')
    path = sample.root / "rtl.pdf"
    path.write_bytes(PdfWriter(sample).pdf(html)[0])
    text = normalise(pdf_text(path))
    for sentence in sentences:
        assert normalise(sentence.format(**values)) in text, text
