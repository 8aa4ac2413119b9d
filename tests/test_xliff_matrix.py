"""XLIFF as CAT tools write it: a matrix of variants, each imported correctly or refused at its line.

Every variant starts from our own export of the Spanish catalog and changes
what a CAT tool, an agency or a mistake changes (states, approved, emptied
targets, inline codes, segmentation, whitespace, a file that fails each check
of `handouts check`); three are shaped like the exports of OmegaT, Trados
Studio (sdl: segment definitions, <x/> codes, <mrk mtype="seg">) and memoQ
(mq:status, numbered <ph> ids). A refusal is one line at the XLIFF's own line,
and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from lxml import etree

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.exchange import (
    XLIFF_12,
    export_xliff,
    import_xliff,
    unit_id,
)

from .conftest import copy_repo
from .signing import approver

NS = f"{{{XLIFF_12}}}"
PAGE = "Page %(page)s of %(pages)s"
TWO = ("ACDF is surgery on a damaged disc in your neck. This handout explains the surgery, your recovery "
       "and when to call us.")
TROUBLE = "Trouble breathing or chest pain"
BOLD = "Before surgery, ask which medicines to stop. **Stop them only as your surgeon tells you.**"
ACDF = "Anterior cervical discectomy and fusion (ACDF)"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return copy_repo(tmp_path_factory.mktemp("xliff-matrix"))


@pytest.fixture(scope="module")
def exported(project: Project) -> bytes:
    return export_xliff(project, "es", project.root / "exported.xlf").path.read_bytes()


def english(project: Project, start: str) -> str:
    return next(str(m.id) for m in load_catalog(project, "es") if m.id and str(m.id).startswith(start))


def unit(tree: etree._ElementTree, msgid: str) -> etree._Element:
    return tree.find(f".//{NS}trans-unit[@id='{unit_id(msgid, None)}']")


def set_target(tree: etree._ElementTree, msgid: str, inner: str | None, unit_attrs: dict | None = None,
               **attrs: str) -> None:
    """Replace a unit's <target> with `inner` (XML), or remove it (None); attributes as given."""
    element = unit(tree, msgid)
    old = element.find(f"{NS}target")
    index = list(element).index(old) if old is not None else 1
    if old is not None:
        element.remove(old)
    for key, value in (unit_attrs or {}).items():
        if value is None:
            element.attrib.pop(key, None)
        else:
            element.set(key, value)
    if inner is not None:
        attributes = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        new = etree.fromstring(f'<target xmlns="{XLIFF_12}" {attributes}>{inner}</target>')
        new.tail = old.tail if old is not None else "\n"
        element.insert(index, new)


@dataclass(frozen=True)
class Variant:
    name: str
    change: Callable[[etree._ElementTree, Project], None] | None  # None: the file is `raw`
    msgid: str | None  # the entry to look at
    expect: str  # "printed", "not printed", "empty", or "refused"
    text: str | None = None  # the entry's translation after an import
    fragment: str = ""  # a refusal's message
    raw: str = ""  # a whole file, for the CAT-tool-shaped variants


def retarget(msgid: str, inner: str | None, unit_attrs: dict | None = None, **attrs: str):
    return lambda tree, project: set_target(tree, english(project, msgid) if msgid.endswith("…") is False
                                            and msgid not in (PAGE, TWO, TROUBLE, BOLD, ACDF) else msgid,
                                            inner, unit_attrs, **attrs)


NEW = "Dificultad para respirar o dolor de pecho"
VARIANTS = [
    # --- states and approved (the table in TRANSLATING.md)
    Variant("translated-without-approved", retarget(TROUBLE, NEW, {"approved": None}, state="translated"),
            TROUBLE, "printed", NEW),
    Variant("signed-off", retarget(TROUBLE, NEW, state="signed-off"), TROUBLE, "printed", NEW),
    Variant("final-approved", retarget(TROUBLE, NEW, {"approved": "yes"}, state="final"), TROUBLE, "printed", NEW),
    Variant("no-state-no-approved", retarget(TROUBLE, NEW, {"approved": None}), TROUBLE, "printed", NEW),
    Variant("needs-review-translation", retarget(TROUBLE, NEW, state="needs-review-translation"),
            TROUBLE, "not printed", NEW),
    Variant("new", retarget(TROUBLE, NEW, state="new"), TROUBLE, "not printed", NEW),
    Variant("needs-translation", retarget(TROUBLE, NEW, state="needs-translation"), TROUBLE, "not printed", NEW),
    Variant("needs-review-approved-yes", retarget(TROUBLE, NEW, {"approved": "yes"}, state="needs-review-l10n"),
            TROUBLE, "not printed", NEW),
    Variant("no-state-approved-no", retarget(TROUBLE, NEW, {"approved": "no"}), TROUBLE, "not printed", NEW),
    Variant("machine-suggestion", retarget(TROUBLE, NEW, state="translated", state_qualifier="mt-suggestion"),
            TROUBLE, "not printed", NEW),
    Variant("tool-specific-state", retarget(TROUBLE, NEW, state="x-locked"), TROUBLE, "not printed", NEW),
    Variant("unknown-state", retarget(TROUBLE, NEW, state="done"), TROUBLE, "refused",
            fragment="state='done' is not an XLIFF 1.2 state"),
    # --- emptied targets
    Variant("emptied-target", retarget(TROUBLE, "", state="translated"), TROUBLE, "empty", ""),
    Variant("removed-target", retarget(TROUBLE, None), TROUBLE, "empty", ""),
    # --- inline codes
    Variant("reordered-ph", retarget(PAGE, '<ph id="pages">%(pages)s</ph> páginas, esta es la '
                                            '<ph id="page">%(page)s</ph>', state="translated"),
            PAGE, "printed", "%(pages)s páginas, esta es la %(page)s"),
    Variant("ph-ids-swapped-contents-kept", retarget(PAGE, 'Página <ph id="pages">%(page)s</ph> de '
                                                            '<ph id="page">%(pages)s</ph>', state="translated"),
            PAGE, "refused", fragment='<ph id="pages"> holds %(page)s, but that id is %(pages)s in the English'),
    Variant("ph-emptied", retarget(PAGE, 'Página <ph id="page"/> de <ph id="pages"></ph>', state="translated"),
            PAGE, "printed", "Página %(page)s de %(pages)s"),
    Variant("ph-unknown-id", retarget(PAGE, 'Página <ph id="page"/> de <ph id="total"/>', state="translated"),
            PAGE, "refused", fragment='<ph id="total"/> names no placeholder of the English'),
    Variant("ph-deleted", retarget(PAGE, 'Página <ph id="page"/>', state="translated"),
            PAGE, "refused", fragment="placeholder mismatch: missing pages"),
    Variant("bold-lost", retarget(BOLD, "Antes de la cirugía, pregunte qué medicamentos debe dejar. Déjelos solo "
                                        "como le indique su cirujano.", state="translated"),
            BOLD, "refused", fragment="emphasis differs"),
    # --- segmentation and whitespace
    Variant("mrk-segments", retarget(TWO, '<mrk mtype="seg" mid="1">La ACDF es una cirugía de un disco dañado del '
                                          'cuello.</mrk><mrk mtype="seg" mid="2">Esta hoja explica la cirugía, su '
                                          'recuperación y cuándo llamarnos.</mrk>', state="translated"),
            TWO, "printed", "La ACDF es una cirugía de un disco dañado del cuello. Esta hoja explica la cirugía, "
                            "su recuperación y cuándo llamarnos."),
    Variant("xml-space-default-pretty-printed",
            retarget(TROUBLE, f"\n            {NEW}\n          ", {"{http://www.w3.org/XML/1998/namespace}space":
                                                                   "default"}, state="translated"),
            TROUBLE, "printed", NEW),
    Variant("xml-space-preserve-newline", retarget(TROUBLE, f"{NEW}\n", state="translated"),
            TROUBLE, "refused", fragment="do not both end with"),
    # --- each check of `handouts check`
    Variant("glossary", retarget("Do deep breathing with a spirometer",
                                 "Haga respiraciones profundas con un inhalador si se lo indican.",
                                 state="translated"),
            None, "refused", fragment="glossary: 'spirometer' must be translated as 'espirómetro'"),
    Variant("url-added", retarget(TROUBLE, f"{NEW} (ver www.example.com)", state="translated"),
            TROUBLE, "refused", fragment="urls"),
    Variant("markup-typed", retarget(TROUBLE, f"&lt;b&gt;{NEW}&lt;/b&gt;", state="translated"),
            TROUBLE, "refused", fragment="xmltags"),
    Variant("number-changed", retarget("Most people recover in 3 weeks",
                                       "La mayoría se recupera en 4 semanas a 3 meses.", state="translated"),
            None, "refused", fragment="numbers differ"),
    Variant("invisible-character", retarget(TROUBLE, f"Dificultad\u202e para respirar", state="translated"),
            TROUBLE, "refused", fragment="U+202E"),
    Variant("english-left-in-a-warning-sign", retarget(TROUBLE, TROUBLE, state="translated"),
            TROUBLE, "printed", TROUBLE, fragment="unchanged"),  # a warning, as in `handouts check`
    Variant("unit-not-in-catalog", lambda tree, project: unit(tree, TROUBLE).set("id", "0000000000000000"),
            None, "refused", fragment="the English changed since the export"),
]


def shaped(kind: str) -> str:
    """Partial files shaped like what each tool writes back (units keep the ids of our export)."""
    trouble, page, two = unit_id(TROUBLE, None), unit_id(PAGE, None), unit_id(TWO, None)
    if kind == "omegat":
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="{XLIFF_12}">
 <file original="locales/es/LC_MESSAGES/handouts.po" source-language="en" target-language="es" datatype="po">
  <header><tool tool-id="omegat" tool-name="OmegaT"/></header>
  <body>
   <trans-unit id="{trouble}" xml:space="preserve">
    <source>{TROUBLE}</source>
    <target xml:lang="es" state="translated">{NEW}</target>
   </trans-unit>
   <trans-unit id="{page}">
    <source>Page <ph id="page">%(page)s</ph> of <ph id="pages">%(pages)s</ph></source>
    <target xml:lang="es" state="needs-translation">Page <ph id="page">%(page)s</ph> of <ph id="pages">%(pages)s</ph></target>
   </trans-unit>
  </body>
 </file>
</xliff>
"""
    if kind == "trados":
        return f"""<?xml version="1.0" encoding="utf-8"?>
<xliff xmlns:sdl="http://sdl.com/FileTypes/SdlXliff/1.0" xmlns="{XLIFF_12}" version="1.2" sdl:version="1.0">
<file original="locales/es/LC_MESSAGES/handouts.po" datatype="x-sdlfilterframework2" source-language="en-US" target-language="es">
<body>
<trans-unit id="{two}"><source>{TWO}</source><seg-source><mrk mtype="seg" mid="1">ACDF is surgery on a damaged disc in your neck.</mrk> <mrk mtype="seg" mid="2">This handout explains the surgery, your recovery and when to call us.</mrk></seg-source><target><mrk mtype="seg" mid="1">La ACDF es una operación de un disco dañado del cuello.</mrk><mrk mtype="seg" mid="2">Esta hoja explica la cirugía, su recuperación y cuándo llamarnos.</mrk></target><sdl:seg-defs><sdl:seg id="1" conf="Translated"/><sdl:seg id="2" conf="ApprovedTranslation"/></sdl:seg-defs></trans-unit>
<trans-unit id="{page}"><source>Page <x id="1"/> of <x id="2"/></source><target><mrk mtype="seg" mid="1">Pág. <x id="1"/> de <x id="2"/></mrk></target><sdl:seg-defs><sdl:seg id="1" conf="Translated"/></sdl:seg-defs></trans-unit>
<trans-unit id="{trouble}"><source>{TROUBLE}</source><target><mrk mtype="seg" mid="1">{NEW}</mrk></target><sdl:seg-defs><sdl:seg id="1" conf="Draft"/></sdl:seg-defs></trans-unit>
</body>
</file>
</xliff>
"""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<xliff version="1.2" xmlns="{XLIFF_12}" xmlns:mq="MQXliff">
  <file original="locales/es/LC_MESSAGES/handouts.po" source-language="en-us" target-language="es" datatype="plaintext">
    <body>
      <trans-unit id="{page}" mq:status="ManuallyConfirmed" xml:space="preserve">
        <source xml:space="preserve">Page <ph id="1">%(page)s</ph> of <ph id="2">%(pages)s</ph></source>
        <target xml:space="preserve">Hoja <ph id="1">%(page)s</ph> de <ph id="2">%(pages)s</ph></target>
      </trans-unit>
      <trans-unit id="{trouble}" mq:status="PartiallyEdited" xml:space="preserve">
        <source xml:space="preserve">{TROUBLE}</source>
        <target xml:space="preserve">{NEW}</target>
      </trans-unit>
    </body>
  </file>
</xliff>
"""


SHAPED = [
    # (tool, {msgid: (expect, text)})
    ("omegat", {TROUBLE: ("printed", NEW), PAGE: ("not printed", "Page %(page)s of %(pages)s")}),
    ("trados", {TWO: ("printed", "La ACDF es una operación de un disco dañado del cuello. Esta hoja explica la "
                                 "cirugía, su recuperación y cuándo llamarnos."),
                PAGE: ("printed", "Pág. %(page)s de %(pages)s"), TROUBLE: ("not printed", NEW)}),
    ("memoq", {PAGE: ("printed", "Hoja %(page)s de %(pages)s"), TROUBLE: ("not printed", NEW)}),
]

XLIFF_20 = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="es">
 <file id="f1">
  <unit id="u1"><segment state="translated"><source>Trouble breathing or chest pain</source>
   <target>Dificultad para respirar</target></segment></unit>
 </file>
</xliff>
"""


def entry(project: Project, msgid: str):
    return next(m for m in load_catalog(project, "es", strict=False) if str(m.id) == msgid)


def expected_line(exported: bytes, path: Path) -> int:
    """The line of the one unit this variant changed: its <target>, or the unit itself."""
    ours = etree.fromstring(exported).iter(f"{NS}trans-unit")
    theirs = etree.parse(str(path)).getroot().iter(f"{NS}trans-unit")
    for old, new in zip(ours, theirs):
        if etree.tostring(old) != etree.tostring(new):
            target = new.find(f"{NS}target")
            return (target if target is not None and old.get("id") == new.get("id") else new).sourceline
    raise AssertionError("the variant changed nothing")


def test_the_matrix_has_at_least_20_variants() -> None:
    assert len(VARIANTS) + len(SHAPED) + 1 >= 20
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_variant(variant: Variant, project: Project, exported: bytes, tmp_path: Path) -> None:
    po = project.po_path("es")
    before = po.read_bytes()
    tree = etree.ElementTree(etree.fromstring(exported))
    variant.change(tree, project)
    path = tmp_path / f"{variant.name}.xlf"
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    try:
        if variant.expect == "refused":
            with pytest.raises(ProblemsError) as caught:
                import_xliff(project, path)
            problems = [p for p in caught.value.problems if variant.fragment in p.message]
            assert problems, [str(p) for p in caught.value.problems]
            for problem in problems:
                assert "\n" not in str(problem) and problem.path.endswith(f"{variant.name}.xlf")
                assert problem.line == expected_line(exported, path), str(problem)
            assert po.read_bytes() == before, "nothing may be written on a refusal"
            return
        result = import_xliff(project, path)
        message = entry(project, variant.msgid)
        assert str(message.string or "") == variant.text
        if variant.expect == "printed":
            assert not message.fuzzy
        elif variant.expect == "not printed":
            assert message.fuzzy and result.not_printed == 1
        else:
            assert not message.string and result.emptied == 1
        if variant.fragment:
            assert any(variant.fragment in w.message for w in result.warnings), result.warnings
    finally:
        po.write_bytes(before)


@pytest.mark.parametrize("tool, expected", SHAPED, ids=[s[0] for s in SHAPED])
def test_files_shaped_like_cat_tool_exports(tool: str, expected: dict, project: Project, tmp_path: Path) -> None:
    po = project.po_path("es")
    before = po.read_bytes()
    path = tmp_path / f"{tool}.xlf"
    path.write_text(shaped(tool), "utf-8")
    try:
        import_xliff(project, path)
        for msgid, (expect, text) in expected.items():
            message = entry(project, msgid)
            assert (str(message.string), message.fuzzy) == (text, expect == "not printed"), (tool, msgid)
    finally:
        po.write_bytes(before)


def test_xliff_20_is_refused_in_one_sentence(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "v2.xlf"
    path.write_text(XLIFF_20, "utf-8")
    before = project.po_path("es").read_bytes()
    with pytest.raises(ProblemsError) as caught:
        import_xliff(project, path)
    [problem] = caught.value.problems
    assert problem.line == 2 and "XLIFF 2.0" in problem.message and "export XLIFF 1.2" in problem.message
    assert project.po_path("es").read_bytes() == before


def test_export_states_never_approve_a_machine_draft(project: Project, exported: bytes) -> None:
    tree = etree.fromstring(exported)
    units = tree.findall(f".//{NS}trans-unit")
    assert units and not [u for u in units if u.get("approved") == "yes"], "es is an unreviewed machine draft"
    assert {u.find(f"{NS}target").get("state") for u in units} == {"translated"}


def test_export_of_a_fuzzy_entry_carries_its_previous_english(project: Project, tmp_path: Path) -> None:
    po = project.po_path("es")
    before = po.read_bytes()
    text = before.decode("utf-8").replace(
        f'msgid "{TROUBLE}"', f'#, fuzzy\n#| msgid "Breathing trouble"\nmsgid "{TROUBLE}"', 1)
    po.write_text(text, "utf-8")
    try:
        path = export_xliff(project, "es", tmp_path / "fuzzy.xlf").path
        element = etree.parse(str(path)).find(f".//{NS}trans-unit[@id='{unit_id(TROUBLE, None)}']")
        assert element.get("approved") == "no"
        assert element.find(f"{NS}target").get("state") == "needs-review-translation"
        alt = element.find(f"{NS}alt-trans")
        assert alt is not None and alt.get("origin") == "previous-source"
        assert alt.find(f"{NS}source").text == "Breathing trouble"
        # and it comes back as it went out: fuzzy, the previous English kept by the PO file
        assert import_xliff(project, path).written is False
    finally:
        po.write_bytes(before)


def test_export_approves_only_a_reviewed_language(tmp_path: Path) -> None:
    from handoutkit.translation.review import (
        SheetRow,
        open_safety_entries,
        record_review,
    )

    project = copy_repo(tmp_path)
    catalog = load_catalog(project, "es")
    prefix = "back-translation (machine draft, not a human review):"
    rows = [SheetRow(line, m.context, str(m.id), str(m.string),
                     " ".join(m.user_comments).split(prefix, 1)[1].split(" fixed: ")[0].strip(), "checked, B. Coord")
            for line, m in enumerate(open_safety_entries(project, "es", catalog), 2)]
    assert record_review(project, "es", catalog, "Ana Ruiz, CMI", approver(project, "ana"), back_translations=rows).status == "reviewed"
    units = etree.parse(str(export_xliff(project, "es", tmp_path / "es.xlf").path)).getroot().iter(f"{NS}trans-unit")
    assert {u.get("approved") for u in units} == {"yes"}
