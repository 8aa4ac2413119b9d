"""PDF/UA-1: the machine-checkable conditions of the Matterhorn Protocol, on every built PDF.

Every handout in every locale and both editions, the packets, the language-assistance
sheet and the clinical review sheets (every PDF under build/ in `built_library`). Each check names its Matterhorn checkpoints; docs/accessibility.md lists what is
and is not checked (the human checkpoints, such as "the alternative text is
appropriate" or "the reading order is logical", are not).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from handoutkit.content.settings import Project
from handoutkit.outputs.language_sheet import LANGUAGE_ASSISTANCE

pytestmark = pytest.mark.slow

# PDF 1.7 (ISO 32000-1, 14.8.4) standard structure types.
STANDARD_TYPES = {
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index",
    "NonStruct", "Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl", "LBody",
    "Table", "TR", "TH", "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note", "Reference",
    "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu", "WT", "WP", "Figure",
    "Formula", "Form",
}
TEXT_OPERATORS = {"Tj", "TJ", "'", '"'}
PAINT_OPERATORS = {"f", "F", "f*", "S", "s", "B", "B*", "b", "b*", "sh", "Do", "BI"}


def all_pdfs(project: Project) -> list[Path]:
    """Every PDF under build/: handouts, large print, packets, the language-assistance sheet, and
    in `built_library` the clinical review sheets."""
    return sorted(project.build_dir.rglob("*.pdf"))


class Tree:
    """A PDF's structure tree, walked once."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.root = pdf.Root.StructTreeRoot
        self.role_map = {str(k)[1:]: str(v)[1:] for k, v in self.root.get("/RoleMap", Dictionary()).items()}
        self.elements: list[tuple[Dictionary, int]] = []  # (element, depth), document order
        self.reachable_mcids: set[tuple[tuple[int, int], int]] = set()  # (page objgen, MCID)
        self._walk(self.root.K, None, 0)

    def _walk(self, kids, page, depth: int) -> None:
        for kid in (kids if isinstance(kids, Array) else [kids]):
            if isinstance(kid, int):
                self.reachable_mcids.add((page, int(kid)))
            elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
                self.reachable_mcids.add((kid.Pg.objgen, int(kid.MCID)))
            elif isinstance(kid, Dictionary) and "/S" in kid:
                self.elements.append((kid, depth))
                if "/K" in kid:
                    self._walk(kid.K, kid.Pg.objgen if "/Pg" in kid else page, depth + 1)

    def standard_type(self, element: Dictionary) -> str:
        kind = str(element.S)[1:]
        seen = set()
        while kind not in STANDARD_TYPES and kind in self.role_map and kind not in seen:
            seen.add(kind)
            kind = self.role_map[kind]
        return kind


def marked_content(page: pikepdf.Page) -> Iterator[tuple[str, list[Dictionary | str]]]:
    """(operator, the open marked-content stack) for every operator of a page's content stream."""
    stack: list = []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BMC":
            stack.append(str(operands[0]))
        elif op == "BDC":
            stack.append((str(operands[0]), operands[1]))
        elif op == "EMC":
            stack.pop()
        else:
            yield op, list(stack)


def content_problems(pdf: pikepdf.Pdf, tree: Tree) -> list[str]:
    """01-004, 01-005: every text and painting operator is an artifact or tagged content whose
    structure element is reachable from the root; no tagged content inside an artifact."""
    problems = []
    for number, page in enumerate(pdf.pages, 1):
        if "/XObject" in page.Resources:
            assert not [x for x in page.Resources.XObject.values() if x.get("/Subtype") == Name.Form], \
                "form XObjects are not checked"
        for op, stack in marked_content(page):
            if op not in TEXT_OPERATORS | PAINT_OPERATORS:
                continue
            artifact = any(entry == "/Artifact" or (isinstance(entry, tuple) and entry[0] == "/Artifact")
                           for entry in stack)
            mcids = [int(entry[1].MCID) for entry in stack if isinstance(entry, tuple)
                     and isinstance(entry[1], Dictionary) and "/MCID" in entry[1]]
            if artifact and mcids:
                problems.append(f"page {number}: 01-004 tagged content (MCID {mcids}) inside an artifact")
            elif not artifact and not mcids:
                problems.append(f"page {number}: 01-005 {op} neither artifact nor tagged")
            elif mcids and (page.objgen, mcids[-1]) not in tree.reachable_mcids:
                problems.append(f"page {number}: 01-005 MCID {mcids[-1]} ({op}) not reachable from the structure root")
    return problems


def structure_problems(tree: Tree) -> list[str]:
    """01-006 (types map to standard ones), 02-001..004 (role map), 09-004..009 (lists),
    13-004 (figures have alternative text), 14-002..003 (headings), 19-003/19-004 (notes)."""
    problems = []
    for standard in tree.role_map:
        if standard in STANDARD_TYPES:
            problems.append(f"02-004 standard type /{standard} is remapped")
    ids = Counter()
    headings = []
    for element, _ in tree.elements:
        kind = tree.standard_type(element)
        if kind not in STANDARD_TYPES:
            problems.append(f"01-006 /{element.S} does not map to a standard type")
        kids = [k for k in (element.K if isinstance(element.get("/K"), Array) else [element.get("/K")])
                if isinstance(k, Dictionary) and "/S" in k]
        kid_types = [tree.standard_type(k) for k in kids]
        if kind == "L" and set(kid_types) - {"LI", "Caption"}:
            problems.append(f"09-005 L holds {sorted(set(kid_types) - {'LI', 'Caption'})}")
        if kind == "LI" and set(kid_types) - {"Lbl", "LBody"}:
            problems.append(f"09-006 LI holds {sorted(set(kid_types) - {'Lbl', 'LBody'})}")
        if kind in ("LI", "Lbl", "LBody") and tree.standard_type(element.P) != ("L" if kind == "LI" else "LI"):
            problems.append(f"09-004/09-007 {kind} inside {tree.standard_type(element.P)}")
        if kind == "Figure" and not str(element.get("/Alt", "")).strip():
            problems.append("13-004 Figure without /Alt")
        if kind == "Note":
            if "/ID" not in element:
                problems.append("19-003 Note without /ID")
            else:
                ids[str(element.ID)] += 1
        if re.fullmatch(r"H\d", kind):
            headings.append(int(kind[1]))
        if kind == "H":
            problems.append("14-001 numbered and unnumbered headings mixed (H)")
    problems += [f"19-004 /ID {i} is not unique" for i, n in ids.items() if n > 1]
    if headings and headings[0] != 1:
        problems.append(f"14-002 the first heading is H{headings[0]}")
    for before, after in zip(headings, headings[1:]):
        if after > before + 1:
            problems.append(f"14-003 H{before} is followed by H{after}")
    return problems


def document_problems(pdf: pikepdf.Pdf) -> list[str]:
    """06-001..003 (metadata, PDF/UA identifier, dc:title), 07-001 (DisplayDocTitle),
    01-001/01-002 (marked), 11-001..006 (a language everywhere), 28-xxx (annotations),
    31-xxx (fonts embedded, with Unicode mappings), 21-001 (no encryption that blocks AT)."""
    problems = []
    root = pdf.Root
    if root.get("/MarkInfo", {}).get("/Marked") is not True:
        problems.append("01-002 /MarkInfo /Marked is not true")
    if root.get("/MarkInfo", {}).get("/Suspects") is True:
        problems.append("01-003 /Suspects is true")
    if "/StructTreeRoot" not in root:
        problems.append("01-001 no structure tree")
    if "/Metadata" not in root:
        problems.append("06-001 no XMP metadata")
    else:
        xmp = root.Metadata.read_bytes().decode("utf-8", "replace")
        if not re.search(r"pdfuaid:part(>|=\"|=')\s*1", xmp):
            problems.append("06-002 no pdfuaid:part 1 in the XMP")
        if "dc:title" not in xmp:
            problems.append("06-003 no dc:title in the XMP")
    if root.get("/ViewerPreferences", {}).get("/DisplayDocTitle") is not True:
        problems.append("07-001 /DisplayDocTitle is not true")
    if not str(root.get("/Lang", "")).strip():
        problems.append("11-006 no document /Lang")
    if pdf.is_encrypted:
        problems.append("21-001 encrypted")
    for number, page in enumerate(pdf.pages, 1):
        if page.get("/Tabs") != Name.S and page.get("/Annots"):
            problems.append(f"page {number}: 28-011 annotations without /Tabs /S")
        for annotation in page.get("/Annots", []):
            if "/StructParent" not in annotation and annotation.get("/Subtype") != Name.Popup:
                problems.append(f"page {number}: 28-002 annotation not tagged")
        for name, font in page.Resources.get("/Font", {}).items():
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor", {})
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"31-001 font {name} is not embedded")
            if "/ToUnicode" not in font:
                problems.append(f"31-027 font {name} has no ToUnicode")
    return problems


def language_problems(tree: Tree) -> list[str]:
    """11-004: every /Lang is a well-formed BCP 47 tag."""
    return [f"11-004 /Lang {element.Lang!r}" for element, _ in tree.elements
            if "/Lang" in element and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", str(element.Lang))]


def test_every_built_pdf_meets_the_checked_matterhorn_conditions(built_library: Project) -> None:
    paths = all_pdfs(built_library)
    assert len(paths) >= 2 * 10 * 13 + 1
    failures = []
    for path in paths:
        with pikepdf.open(path) as pdf:
            tree = Tree(pdf)
            problems = (document_problems(pdf) + content_problems(pdf, tree)
                        + structure_problems(tree) + language_problems(tree))
        failures += [f"{path.relative_to(built_library.build_dir)}: {p}" for p in problems]
    assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures[:40])


def element_texts(tree: Tree) -> list[tuple[str, str]]:
    return [(tree.standard_type(e), str(e.Lang)) for e, _ in tree.elements if "/Lang" in e]


def test_the_english_clinic_name_is_tagged_english_in_every_translation(built_library: Project) -> None:
    for locale in built_library.settings.translated_locales:
        for edition in ("pdf", "pdf-large"):
            with pikepdf.open(built_library.build_dir / edition / locale / "acdf.pdf") as pdf:
                tree = Tree(pdf)
                first_paragraph = next(e for e, _ in tree.elements if tree.standard_type(e) == "P")
                assert str(first_paragraph.get("/Lang")) == "en", (locale, edition)


def test_the_language_assistance_sheet_tags_each_language(built_library: Project) -> None:
    with pikepdf.open(LANGUAGE_ASSISTANCE.path(built_library)) as pdf:
        langs = {lang for _, lang in element_texts(Tree(pdf))}
    wanted = {locale.replace("_", "-") for locale in built_library.settings.locales}
    assert wanted <= langs, sorted(wanted - langs)


def test_running_headers_and_footers_are_pagination_artifacts(built_library: Project) -> None:
    with pikepdf.open(built_library.build_dir / "pdf" / "ru" / "acdf.pdf") as pdf:
        subtypes = Counter()
        for page in pdf.pages:
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "BDC" and str(operands[0]) == "/Artifact" \
                        and operands[1].get("/Type") == Name.Pagination:
                    subtypes[str(operands[1].Subtype)] += 1
    # clinic and title on top, revision and "Page x of y" at the bottom, of each page
    assert subtypes["/Header"] >= 2 * len(pdf.pages) and subtypes["/Footer"] >= 2 * len(pdf.pages), subtypes


def test_one_list_element_per_list_and_callouts_are_notes(built_library: Project) -> None:
    """A two-column list is one L of LIs; a list that crosses a page is one L; callouts are
    notes (Aside, role-mapped to Note) that start with their heading."""
    with pikepdf.open(built_library.build_dir / "pdf" / "en" / "preparing-for-surgery.pdf") as pdf:
        tree = Tree(pdf)
        kinds = [tree.standard_type(e) for e, _ in tree.elements]
        notes = [e for e, _ in tree.elements if str(e.S) == "/Aside"]
    assert notes and all(tree.standard_type(n) == "Note" for n in notes)
    assert all(tree.standard_type(n.K[0]).startswith("H") for n in notes)
    assert "L" in kinds


def test_an_element_that_crosses_a_page_is_one_element(built_library: Project) -> None:
    """WeasyPrint builds the tree page by page: <main> and a <section> that cross a page would
    be two elements each. Every handout has one Part and one Sect per H2, in every PDF."""
    split = []
    for path in all_pdfs(built_library):
        with pikepdf.open(path) as pdf:
            tree = Tree(pdf)
            kinds = Counter(tree.standard_type(e) for e, _ in tree.elements)
            parts = kinds["H1"] if path.parent.parent.name == "packets" else 1  # a packet: one Part per handout
            # A rule for handouts and packets: the language and review sheets have no sections.
            sheet = path.name == "language-assistance.pdf" or path.parent.name == "review"
            if not sheet and (kinds["Part"] != parts or kinds["Sect"] != kinds["H2"]):
                split.append(f"{path.relative_to(built_library.build_dir)}: {kinds['Part']} Part, "
                             f"{kinds['Sect']} Sect for {kinds['H2']} H2")
    assert not split, "\n".join(split[:20])


BIDI_ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))


def test_every_document_title_is_plain_text(built_library: Project) -> None:
    """The title a screen reader announces (DisplayDocTitle), the XMP dc:title and the web page's
    <title> are the translated title itself: a Latin word in a right-to-left title keeps its
    isolation as Unicode controls, never as markup read aloud as "bdi dir equals ltr"."""
    from handoutkit.content.handouts import load_content
    from handoutkit.translation.catalogs import load_catalog

    content = load_content(built_library.handouts_dir, built_library.root)
    for locale in built_library.settings.translated_locales:
        catalog = load_catalog(built_library, locale)
        for handout in content.handouts:
            wanted = catalog.get(handout.title.value).string
            with pikepdf.open(built_library.build_dir / "pdf" / locale / f"{handout.id}.pdf") as pdf:
                title = str(pdf.docinfo["/Title"])
                xmp = pdf.open_metadata().get("dc:title")
            assert title.translate(BIDI_ISOLATES) == wanted, (locale, handout.id, title)
            assert xmp == title, (locale, handout.id, xmp)
            page = (built_library.build_dir / "web" / locale / f"{handout.id}.html").read_text("utf-8")
            web_title = re.search(r"<title>(.*?)</title>", page).group(1)
            assert web_title.translate(BIDI_ISOLATES) == html.escape(wanted, quote=False), (locale, handout.id)
