"""Pictures (issue 23): handouts/pictures.yaml, the drawings in templates/pictures/, their
translated labels, the label fit check, the tagged Figure with /Alt, right-to-left order, and
the approval fingerprint that covers them."""

from __future__ import annotations

import html
from pathlib import Path

import pikepdf
import pytest
from babel.messages.pofile import read_po

from handoutkit.content.approval import fingerprint
from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.translation.extract import build_template

from .conftest import copy_repo
from .pdftext import BIDI_AND_JOINERS as BIDI
from .pdftext import normalise, pdf_text, words

PROCEDURES = {
    "acdf": "where-neck-front",
    "cervical-disc-replacement": "where-neck-front",
    "posterior-cervical-foraminotomy": "where-neck-back",
    "lumbar-discectomy": "where-lower-back",
    "lumbar-fusion-tlif": "where-lower-back",
    "lumbar-laminectomy": "where-lower-back",
}
LABEL_CONTEXT = "picture label, room: "
LABELS = ["Seen from the front", "Seen from the back", "Neck", "Spine", "Lower back", "Surgery area",
          "Incision (cut)", "Call %(number)s"]
HEADINGS = ["Emergency", "Surgeon's office"]
TRIAGE_ALT = ("Two boxes. For an emergency, call %(emergency)s. For the surgeon's office, call %(office)s. "
              "The lists below say which signs go with each number.")
TRANSLATED = ("ar", "es", "fa", "ht", "ko", "ne", "pt", "ru", "tl", "vi", "zh_Hans", "zh_Hant")


def picture_messages(catalog) -> list:
    return [m for m in catalog if m.id and any(f.startswith("templates/pictures/") for f, _ in m.locations)]


# ---------------------------------------------------------------- content and governance


def test_every_procedure_handout_and_warning_signs_carry_their_picture(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    for handout_id, picture in PROCEDURES.items():
        handout = content.get(handout_id)
        assert [p.name for p in handout.pictures] == [picture], handout_id
        assert handout.pictures[0].confirm.startswith("Not in the source"), "anatomy is flagged for a clinician"
    assert [p.name for p in content.get("warning-signs").pictures] == ["triage"]


@pytest.mark.parametrize("text, line, message", [
    ("pictures:\n  nowhere:\n    confirm: x\nhandouts: {}\n", 2, "unknown picture 'nowhere': expected a drawing in "
                                                                  "templates/pictures/nowhere.html"),
    ("pictures:\n  triage:\n    confirm: x\nhandouts:\n  no-such-handout: [triage]\n", 5,
     "unknown handout 'no-such-handout'"),
    ("pictures:\n  triage:\n    confirm: x\nhandouts:\n  walking:\n    - where-neck-front\n", 6,
     "unknown picture 'where-neck-front'; expected one declared under `pictures:` (triage)"),
    ("pictures:\n  triage:\n    confirm: x\n    colour: red\nhandouts: {}\n", 4, "unknown key 'colour'"),
])
def test_a_bad_pictures_file_is_a_located_error(sample: Project, text: str, line: int, message: str) -> None:
    (sample.handouts_dir / "pictures.yaml").write_text(text, "utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_content(sample.handouts_dir, sample.root)
    assert f"handouts/pictures.yaml:{line}: {message}" in str(caught.value)


def test_the_approval_fingerprint_covers_the_pictures(sample: Project) -> None:
    """Adding a picture, or redrawing it, changes what a clinician approved; a handout without
    pictures keeps the fingerprint it had before pictures existed."""
    def walking_fingerprint() -> str:
        return fingerprint(load_content(sample.handouts_dir, sample.root).get("walking"), sample.settings.clinic)

    before = walking_fingerprint()
    (sample.handouts_dir / "pictures.yaml").write_text(
        "pictures:\n  where-lower-back:\n    confirm: anatomy\nhandouts: {}\n", "utf-8")
    assert walking_fingerprint() == before
    (sample.handouts_dir / "pictures.yaml").write_text(
        "pictures:\n  where-lower-back:\n    confirm: anatomy\nhandouts:\n  walking: [where-lower-back]\n", "utf-8")
    with_picture = walking_fingerprint()
    assert with_picture != before
    drawing = sample.templates_dir / "pictures" / "_where.html"
    drawing.write_text(drawing.read_text("utf-8").replace('stroke-width="2.6"', 'stroke-width="3"'), "utf-8")
    assert walking_fingerprint() != with_picture


# ---------------------------------------------------------------- strings


def test_the_pot_carries_each_label_with_its_context_and_room(repo: Project) -> None:
    template = build_template(repo)
    messages = picture_messages(template)
    for label in LABELS:
        [message] = [m for m in messages if m.id == label]
        assert message.context.startswith(LABEL_CONTEXT) and "line" in message.context, message.context
        assert message.auto_comments, f"{label!r} has no note for translators"
    for heading in HEADINGS:
        [message] = [m for m in messages if m.id == heading]
        assert message.context.startswith("picture heading, room: 2 lines")
    descriptions = [m for m in messages if not m.context]
    assert len(descriptions) == 4  # one per drawing: three "where" and the triage
    assert all("screen readers" in " ".join(m.auto_comments) for m in descriptions)


def test_the_pot_on_disk_has_the_picture_strings(repo: Project) -> None:
    with repo.pot_path.open("rb") as handle:
        pot = read_po(handle)
    assert {(m.context, m.id) for m in picture_messages(pot)} == \
        {(m.context, m.id) for m in picture_messages(build_template(repo))}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_locale_translates_the_picture_strings_as_marked_machine_drafts(repo: Project, locale: str) -> None:
    with repo.po_path(locale).open("rb") as handle:
        catalog = read_po(handle)
    assert "MACHINE DRAFT" in catalog.header_comment
    messages = picture_messages(catalog)
    assert len(messages) == 14
    for message in messages:
        assert message.string and not message.fuzzy, (locale, message.id)
        if any("SAFETY-CRITICAL" in c for c in message.auto_comments):
            assert any(c.startswith("back-translation (machine draft, not a human review): ")
                       for c in message.user_comments), (locale, message.id)


# ---------------------------------------------------------------- rendering


def render_acdf(project: Project, locale: str):
    """The laid-out standard edition of acdf in one locale, through the build's copyfitting."""
    from handoutkit.outputs.editions import copyfit
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import PdfWriter, make_renderer
    from handoutkit.translation.catalogs import load_translations
    from handoutkit.translation.fontplan import load_font_plan

    plan = load_font_plan(project)
    activate_fontconfig(project, plan)
    renderer = make_renderer(project, locale, load_translations(project, locale), plan.stack(locale), False)
    handout = load_content(project.handouts_dir, project.root).get("acdf")
    return renderer, PdfWriter(project), handout, copyfit


def lengthen(project: Project, locale: str, msgid: str, translation: str) -> None:
    po = project.po_path(locale)
    text = po.read_text("utf-8")
    start = text.index(f'msgid "{msgid}"')
    end = text.index("\n\n", start)
    entry = text[start:end]
    po.write_text(text.replace(entry, entry[:entry.index("msgstr")] + f'msgstr "{translation}"'), "utf-8")


@pytest.mark.slow
def test_a_label_too_long_for_its_room_fails_the_build_and_the_preview_names_it(tmp_path: Path) -> None:
    from handoutkit.outputs.build import build, pdf_path
    from handoutkit.outputs.preview import preview

    project = copy_repo(tmp_path)
    result = build(project, locales=("es",), handout_ids=("acdf",), editions=("standard",), workers=1,
                   progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    lengthen(project, "es", "Neck", "Cuello (la parte de arriba de la columna, debajo de la cabeza)")
    result = build(project, locales=("es",), handout_ids=("acdf",), editions=("standard",), workers=1,
                   progress=lambda line: None, force=True)
    messages = [str(p) for p in result.problems]
    assert any("acdf in es: page 1: picture label 'Cuello (la parte de arriba" in m and "its room holds 2" in m
               and "locales/es/LC_MESSAGES/handouts.po" in m for m in messages), messages
    # Nothing half-written: the PDF of the good translation stays as it was.
    assert pdf_path(project, "es", "acdf").exists()
    shown = preview(project, "acdf", "es")
    assert shown.pdf.exists() and len(shown.overflows) == 1 and "Cuello (la parte" in shown.overflows[0]


@pytest.mark.slow
def test_a_word_wider_than_its_room_is_an_overflow_too(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    lengthen(project, "es", "Spine", "Columnavertebralmuymuymuylarga")
    renderer, writer, handout, copyfit = render_acdf(project, "es")
    document = writer.layout(renderer.html(handout))
    [overflow] = writer.label_overflows(document)
    assert "'Columnavertebralmuymuymuylarga' is" in overflow and "of its room's width" in overflow


def figures(path: Path) -> list[pikepdf.Dictionary]:
    found = []

    def walk(element) -> None:
        kids = element.get("/K")
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                # The QR code is a Figure too (its /Alt names the web page it opens): not a picture.
                if kid.S == pikepdf.Name.Figure and not str(kid.get("/Alt", "")).endswith(".html"):
                    found.append(kid)
                walk(kid)

    with pikepdf.open(path) as pdf:
        walk(pdf.Root.StructTreeRoot)
        return [(str(f.Alt) if "/Alt" in f else None, f.P.get("/S")) for f in found]


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_the_triage_picture_is_one_figure_with_alt_in_the_documents_language(built_repo: Project,
                                                                            locale: str) -> None:
    from handoutkit.outputs.build import pdf_path
    from handoutkit.translation.catalogs import load_translations

    translations = load_translations(built_repo, locale)
    clinic = built_repo.settings.clinic
    path = pdf_path(built_repo, locale, "warning-signs")
    expected = translations.gettext(TRIAGE_ALT) % {"emergency": clinic.emergency_number, "office": clinic.phone}
    assert [alt for alt, _ in figures(path)] == [expected]  # one Figure, the SVG inside it is not another
    text = normalise(pdf_text(path))
    for heading in HEADINGS:  # the labels print, and extract, in the locale's script
        label = normalise(html.unescape(translations.pgettext(
            "picture heading, room: 2 lines of about 18 letters", heading)))
        assert label in text, (locale, label)


@pytest.mark.slow
@pytest.mark.parametrize("locale, emergency_first_on", [("en", "left"), ("es", "left"), ("ar", "right"),
                                                        ("fa", "right")])
def test_the_triage_boxes_follow_the_reading_direction(built_repo: Project, locale: str,
                                                       emergency_first_on: str) -> None:
    """Direction carries meaning here (the emergency box is read first): mirrored right to left."""
    from handoutkit.outputs.build import pdf_path

    clinic = built_repo.settings.clinic
    found = words(pdf_path(built_repo, locale, "warning-signs"))

    def x_of(number: str) -> float:
        """Where the number is printed first on the page: in the picture, above the lists."""
        hits = [w for w in found if number in w.text.translate(BIDI)]
        return min(hits, key=lambda w: (w.page, w.y_min)).x_min

    emergency, office = x_of(clinic.emergency_number), x_of(clinic.phone.split()[-1])
    assert (emergency < office) == (emergency_first_on == "left")


@pytest.mark.slow
def test_the_where_picture_is_not_mirrored_right_to_left(tmp_path: Path) -> None:
    """Anatomy is the same body in every language: the picture's drawing is the same in ar as in en."""
    project = copy_repo(tmp_path)
    drawings = {}
    for locale in ("en", "ar"):
        renderer, _, handout, _ = render_acdf(project, locale)
        page = renderer.html(handout)
        drawings[locale] = page[page.index("<svg class=\"picture-art\""):page.index("</svg>", page.index("picture-art"))]
    assert drawings["en"] == drawings["ar"]
    assert "scale(-1" not in drawings["ar"]



def figure_text(path: Path) -> str:
    """The text poppler extracts inside the Figure's bounding box (points from the page's bottom
    left): the picture's labels, without the text beside the picture."""
    with pikepdf.open(path) as pdf:
        [figure] = [element for element in _elements(pdf.Root.StructTreeRoot) if element.S == pikepdf.Name.Figure
                    and not str(element.get("/Alt", "")).endswith(".html")]  # the QR code is a Figure too
        page = next(i for i, p in enumerate(pdf.pages, 1) if p.obj.objgen == figure.Pg.objgen)
        x0, y0, x1, y1 = (float(v) for v in figure.A.BBox)
        height = float(figure.Pg.MediaBox[3])
    box = [str(round(v)) for v in (x0, height - y1, x1 - x0, y1 - y0)]
    return pdf_text(path, "-f", str(page), "-l", str(page), "-r", "72", "-x", box[0], "-y", box[1],
                    "-W", box[2], "-H", box[3])


def _elements(element):
    kids = element.get("/K")
    for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _elements(kid)


WHERE_ALTS = {
    "where-neck-front": "Drawing of a body seen from the front, with the spine down the middle of the back. The "
                        "surgery is on the spine in the neck. The incision (cut) is on the front of the neck.",
    "where-neck-back": "Drawing of a body seen from the back, with the spine down the middle. The surgery is on "
                       "the spine in the neck. The incision (cut) is on the back of the neck.",
    "where-lower-back": "Drawing of a body seen from the back, with the spine down the middle. The surgery is on "
                        "the spine in the lower back. The incision (cut) is on the lower back.",
}


@pytest.mark.slow
def test_every_procedure_pdf_in_every_locale_and_both_editions_has_its_where_figure(built_library: Project) -> None:
    """Standard and large print, all 13 locales: one Figure whose /Alt is the locale's description,
    and every label of the drawing in the text layer, in the locale's script. A standard PDF that
    only fits its page budget without the picture says so in its HTML (copyfitting's last resort);
    large print, which has no budget, always has it."""
    from handoutkit.outputs.build import html_path, pdf_path
    from handoutkit.render.renderer import PICTURES_LEFT_OUT
    from handoutkit.translation.catalogs import load_translations

    missing, left_out = [], []
    for locale in built_library.settings.locales:
        translations = load_translations(built_library, locale)
        for handout_id, picture in PROCEDURES.items():
            view = "Seen from the front" if picture.endswith("front") else "Seen from the back"
            labels = [translations.pgettext(f"{LABEL_CONTEXT}2 lines of about 14 letters", view)]
            labels += [translations.pgettext(f"{LABEL_CONTEXT}2 lines of about 13 letters", word)
                       for word in ("Neck", "Spine", "Lower back")]
            labels += [translations.pgettext(f"{LABEL_CONTEXT}2 lines of about 11 letters", word)
                       for word in ("Surgery area", "Incision (cut)")]
            for edition in ("standard", "large"):
                path = pdf_path(built_library, locale, handout_id, edition)
                if PICTURES_LEFT_OUT in html_path(built_library, locale, handout_id, edition).read_text("utf-8"):
                    left_out.append(f"{locale}/{handout_id} ({edition})")
                    assert edition == "standard" and figures(path) == [], left_out[-1]
                    continue
                if [alt for alt, _ in figures(path)] != [translations.gettext(WHERE_ALTS[picture])]:
                    missing.append(f"{locale}/{handout_id} ({edition}): {figures(path)}")
                text = normalise(figure_text(path)).replace(" ", "")
                missing += [f"{locale}/{handout_id} ({edition}): label {label!r} not in the text layer"
                            for label in labels if normalise(label).replace(" ", "") not in text]
    assert missing == []
    # Measured with the QR code on every PDF (built_library): the Tagalog and Russian handouts that
    # were within a few points of their 2 pages before the pictures. Any other is a regression.
    assert len(left_out) <= 6, left_out


def test_the_clinicians_review_sheet_lists_each_picture_to_confirm(repo: Project) -> None:
    from handoutkit.content.sources import read_sources, review_items
    from handoutkit.outputs.review_sheet import review_sheet_html

    handout = load_content(repo.handouts_dir, repo.root).get("lumbar-discectomy")
    page = review_sheet_html(repo, handout, review_items(handout, read_sources(repo.handouts_dir, repo.root)),
                             ("Noto Sans",))
    pictures = page[page.index("<h2>Pictures</h2>"):page.index("<h2>Sources cited</h2>")]
    assert "where-lower-back" in pictures and "handouts/pictures.yaml:" in pictures
    assert html.escape(handout.pictures[0].confirm, quote=False) in pictures
    assert "PICTURE: please confirm the drawing" in pictures


@pytest.mark.slow
def test_a_picture_that_breaks_the_page_budget_is_left_out_and_the_build_says_so(tmp_path: Path) -> None:
    """Tagalog foraminotomy with the QR code is 2 full pages without its picture and 3 with it, even
    tight: it prints without the picture, within budget, and the build names it."""
    from handoutkit.outputs.build import build, html_path, pdf_path
    from handoutkit.render.renderer import PICTURES_LEFT_OUT

    project = copy_repo(tmp_path)
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nweb:\n  base_url: https://handouts.example.org/spine/\n", "utf-8")
    project = Project(project.root)
    lines: list[str] = []
    result = build(project, locales=("tl",), handout_ids=("posterior-cervical-foraminotomy",),
                   editions=("standard", "large"), workers=1, progress=lines.append)
    assert result.ok, [str(p) for p in result.problems]
    standard = [o for o in result.outputs if o.edition == "standard"][0]
    assert standard.pages == 2 and standard.note == "pictures left out: no room within the page budget"
    assert any("tl/posterior-cervical-foraminotomy.pdf (2 pages; pictures left out" in line for line in lines), lines
    assert PICTURES_LEFT_OUT in html_path(project, "tl", "posterior-cervical-foraminotomy").read_text("utf-8")
    assert figures(pdf_path(project, "tl", "posterior-cervical-foraminotomy")) == []
    assert len(figures(pdf_path(project, "tl", "posterior-cervical-foraminotomy", "large"))) == 1


@pytest.mark.slow
def test_a_label_that_pushes_out_of_its_box_is_an_overflow(tmp_path: Path) -> None:
    """A label may fit its own line box and still stick out of the picture's box around it (a flex
    item grows to its text): the box marked `data-room` is the room. Here the triage's text may not
    wrap, so in large print the office's number runs past the right edge of its box."""
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import PdfWriter, make_renderer
    from handoutkit.translation.catalogs import load_translations
    from handoutkit.translation.fontplan import load_font_plan

    project = copy_repo(tmp_path)
    css = project.templates_dir / "print.css"
    css.write_text(css.read_text("utf-8").replace(".triage-text { flex: 1 1 auto; min-width: 0; }",
                                                  ".triage-text { flex: 1 1 auto; white-space: nowrap; }"), "utf-8")
    plan = load_font_plan(project)
    activate_fontconfig(project, plan)
    renderer = make_renderer(project, "pt", load_translations(project, "pt"), plan.stack("pt"), False)
    writer = PdfWriter(project)
    handout = load_content(project.handouts_dir, project.root).get("warning-signs")
    overflows = writer.label_overflows(writer.layout(renderer.html(handout, large=True)))
    assert any("Ligue para o (555) 010-0142" in o and "of its room's width" in o for o in overflows), overflows
