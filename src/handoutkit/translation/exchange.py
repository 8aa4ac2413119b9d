"""Exchange with translation agencies: XLIFF 1.2 out and back in, a TMX translation memory.

Everything goes through Translate Toolkit (what Weblate and many CAT tools
build on). Placeholders such as {clinic_phone} travel as `<ph>` and **bold**
as `<g>`, inline elements that CAT tools (Trados, memoQ) lock, so a translator
cannot break them by typing. An import is checked like any PO edit before a
byte is written, and each problem is reported at the XLIFF's own file:line.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from lxml import etree
from translate.storage import pypo, tmx, xliff
from translate.storage.placeables import StringElem
from translate.storage.placeables.xliff import G, Ph

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.content.syntax import EMPHASIS, PLACEHOLDER
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write, write_if_changed
from handoutkit.translation.catalogs import (
    canonical,
    for_babel,
    load_catalog,
    read_catalog_bytes,
)
from handoutkit.translation.checks import check_locale, is_not_translated
from handoutkit.translation.extract import current_template
from handoutkit.translation.prepared import prepare_locale, readable_catalog
from handoutkit.translation.provenance import read_provenance, translation_hash

XLIFF_12 = "urn:oasis:names:tc:xliff:document:1.2"
TOKEN = re.compile(rf"{PLACEHOLDER.pattern}|{re.escape(EMPHASIS)}")


class Xliff12Unit(xliff.xliffunit):
    namespace = XLIFF_12


class Xliff12File(xliff.xlifffile):
    """Translate Toolkit's XLIFF store, written as version 1.2 (it defaults to 1.1)."""

    UnitClass = Xliff12Unit

    XMLskeleton = f"""<?xml version="1.0" ?>
<xliff version='1.2' xmlns='{XLIFF_12}'>
<file original='NoName' source-language='en' datatype='po'>
<body>
</body>
</file>
</xliff>"""
    namespace = XLIFF_12


def unit_id(msgid: str, context: str | None) -> str:
    """A stable id for an entry: the same English (and context) always gives the same id."""
    return hashlib.sha256(f"{context or ''}\x04{msgid}".encode()).hexdigest()[:16]


# ---------------------------------------------------------------- text <-> inline elements


def to_inline(text: str) -> StringElem:
    """Text with {placeholders} as <ph> and **bold** as <g>.

    A <ph> is named after its placeholder (a second one gets "-2"), not its
    position, so a translation may put them in another order.
    """
    parts: list = []
    stack: list[list] = [parts]
    counter = 0
    seen: dict[str, int] = {}
    bold_balanced = text.count(EMPHASIS) % 2 == 0
    position = 0
    for match in TOKEN.finditer(text):
        if match.start() > position:
            stack[-1].append(text[position: match.start()])
        position = match.end()
        token = match.group()
        if token == EMPHASIS and bold_balanced:
            if len(stack) == 1:
                counter += 1
                group = G(id=f"b{counter}", sub=[])
                stack[-1].append(group)
                stack.append(group.sub)
            else:
                stack.pop()
        elif token == EMPHASIS:
            stack[-1].append(token)  # an unbalanced marker travels as text; the check reports it
        else:
            name = match[1] or match[2]
            seen[name] = seen.get(name, 0) + 1
            ident = name if seen[name] == 1 else f"{name}-{seen[name]}"
            stack[-1].append(Ph(id=ident, sub=[token]))
    if position < len(text):
        stack[-1].append(text[position:])
    return StringElem(parts)


# A CAT tool segments a sentence pair into <mrk mtype="seg"> elements; between two segments of
# a target it may leave no space. Scripts written without spaces end a sentence with these.
NO_SPACE_AFTER = "。！？；：」』）】〕…、，"


def from_inline(node: etree._Element, placeholders: dict[str, str],
                faults: list[tuple[int, str]] | None = None) -> str:
    """The PO text of an XLIFF <target>: <g> (or <bx/>...<ex/>) back to **...**, <ph> and <x/> back
    to their placeholders.

    A <ph> is read by its content when it has one (memoQ numbers its ids, and an
    agency may swap two contents): a content that disagrees with what its id
    names in the English is a fault, never silently taken. An empty <ph> or an
    <x/> is read by its id. Adjacent <mrk mtype="seg"> keep a space between them.
    """
    faults = faults if faults is not None else []
    parts = [node.text or ""]
    for child in node:
        tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
        line = child.sourceline or node.sourceline or 1
        if tag == "g":
            parts.append(f"{EMPHASIS}{from_inline(child, placeholders, faults)}{EMPHASIS}")
        elif tag in ("bx", "ex"):
            parts.append(EMPHASIS)
        elif tag in ("ph", "x"):
            ident = child.get("id", "")
            content = "".join(child.itertext())
            named = placeholders.get(ident)
            if content:
                if named is not None and content != named:
                    faults.append((line, f'<{tag} id="{ident}"> holds {content}, but that id is {named} in '
                                         "the English: the ids and contents disagree (move the placeholder, "
                                         "not its content)"))
                parts.append(content)
            elif named is not None:
                parts.append(named)
            else:
                faults.append((line, f'<{tag} id="{ident}"/> names no placeholder of the English '
                                     f"(expected one of: {', '.join(sorted(placeholders)) or 'none'})"))
        elif tag == "mrk" and child.get("mtype") == "seg":
            text = from_inline(child, placeholders, faults)
            before = "".join(parts)
            if before.strip() and not before[-1].isspace() and text and not text[0].isspace() \
                    and before[-1] not in NO_SPACE_AFTER:
                parts.append(" ")
            parts.append(text)
        elif tag:
            parts.append(from_inline(child, placeholders, faults))
        parts.append(child.tail or "")
    return "".join(parts)


def preserves_space(node: etree._Element) -> bool:
    """xml:space="preserve" on the element or its nearest ancestor that sets it."""
    for element in (node, *node.iterancestors()):
        value = element.get("{http://www.w3.org/XML/1998/namespace}space")
        if value is not None:
            return value == "preserve"
    return False


def placeholder_ids(source: str) -> dict[str, str]:
    """id -> placeholder text, numbered exactly as to_inline numbers them."""
    ids: dict[str, str] = {}

    def walk(element) -> None:
        if isinstance(element, str):
            return
        if isinstance(element, Ph):
            ids[element.id] = "".join(str(s) for s in element.sub)
        for child in element.sub:
            walk(child)

    walk(to_inline(source))
    return ids


# ---------------------------------------------------------------- XLIFF export


@dataclass(frozen=True)
class ExportResult:
    locale: str
    path: Path
    units: int
    translated: int


def export_xliff(project: Project, locale: str, output: Path | None = None) -> ExportResult:
    """Write a locale's strings as XLIFF 1.2 for a CAT tool (default build/xliff/<locale>.xlf).

    The units are the strings the content prints now (not only those the PO file has: a string
    nobody merged yet goes out to translate), with the file's translations. States follow
    STATES: a translated entry is state="translated", and approved="yes" only while the locale
    has a current review (a machine draft is never sent as approved); a fuzzy entry, or a
    translation made for English that has changed since (translated-from.yaml), is
    needs-review-translation with its previous English in an <alt-trans>; an empty one has no
    <target>.
    """
    prepared = prepare_locale(project, locale, load_content(project.handouts_dir, project.root))
    catalog = readable_catalog(prepared)  # a locale with open findings is exported: that is what it is for
    reviewed = prepared.status == "reviewed"  # the gate's answer: an incomplete locale is not approved
    current = {(m.context, str(m.id)): m for m in catalog if m.id}
    provenance = read_provenance(project, locale)
    changed = {key for key, record in provenance.items()
               if key in current and current[key].string and record.translated_from != key[1]
               and record.translation_sha256 == translation_hash(current[key])}
    store = Xliff12File(sourcelanguage="en", targetlanguage=locale.replace("_", "-"))
    units = translated = 0
    for entry in current_template(project):
        if not entry.id or not isinstance(entry.id, str):
            continue
        key = (entry.context, entry.id)
        message = current.get(key) or Message(entry.id, "", context=entry.context, auto_comments=entry.auto_comments)
        if key in changed:
            message = Message(message.id, message.string, context=message.context, flags=["fuzzy"],
                              auto_comments=message.auto_comments, previous_id=provenance[key].translated_from)
        unit = store.addsourceunit(message.id)
        unit.setid(unit_id(message.id, message.context))
        unit.rich_source = [to_inline(message.id)]
        if message.context:
            unit.xmlelement.set("resname", message.context)
        for comment in message.auto_comments:
            unit.addnote(comment, origin="developer")
        if message.string:
            unit.rich_target = [to_inline(str(message.string))]
            translated += not message.fuzzy
        element = unit.xmlelement
        target = element.find(f"{{{XLIFF_12}}}target")
        element.attrib.pop("approved", None)
        if target is not None:
            target.set("state", "needs-review-translation" if message.fuzzy else "translated")
            if message.fuzzy:
                element.set("approved", "no")
            elif reviewed:
                element.set("approved", "yes")
        if message.fuzzy and message.previous_id:
            previous = message.previous_id[0] if isinstance(message.previous_id, list) else message.previous_id
            alt = etree.SubElement(element, f"{{{XLIFF_12}}}alt-trans", {"origin": "previous-source"})
            # rich text into a detached unit, then moved: the same <ph>/<g> as the source
            holder = Xliff12Unit(previous)
            holder.rich_source = [to_inline(previous)]
            alt.append(holder.xmlelement.find(f"{{{XLIFF_12}}}source"))
            if message.string:
                holder.rich_target = [to_inline(str(message.string))]
                alt.append(holder.xmlelement.find(f"{{{XLIFF_12}}}target"))
        units += 1
    # The file it came from, for the agency's records; the import goes by target-language.
    store.setfilename(store.getfilenode("NoName"), project.rel(project.po_path(locale)))
    path = output or project.build_dir / "xliff" / f"{locale}.xlf"
    atomic_write(path, bytes(store))
    return ExportResult(locale, path, units, translated)


# ---------------------------------------------------------------- XLIFF import

# XLIFF 1.2 `state` of a <target> -> printed (True) or kept as fuzzy, never printed (False).
STATES = {
    "new": False, "needs-translation": False, "needs-l10n": False, "needs-adaptation": False,
    "needs-review-translation": False, "needs-review-l10n": False, "needs-review-adaptation": False,
    "translated": True, "signed-off": True, "final": True,
}
# A machine or fuzzy-memory suggestion that nobody signed off is not a translation yet.
UNCONFIRMED_QUALIFIERS = ("mt-suggestion", "leveraged-mt", "fuzzy-match")


def segment_status(unit: etree._Element, target: etree._Element | None) -> tuple[bool | None, str]:
    """(printable?, reason) of one unit by its state, state-qualifier and approved attributes.

    None means the state is not an XLIFF 1.2 state (the reason says so). See TRANSLATING.md for the table.
    """
    approved = unit.get("approved")
    if target is None:
        return False, "no target"
    state = target.get("state")
    if state is None:
        return approved != "no", "approved=\"no\"" if approved == "no" else "no state"
    if state.startswith("x-"):
        return False, f"tool-specific state {state!r}"
    if state not in STATES:
        return None, (f"state={state!r} is not an XLIFF 1.2 state (expected one of "
                      f"{', '.join(STATES)}, or x-...)")
    if STATES[state] and state == "translated" and target.get("state-qualifier") in UNCONFIRMED_QUALIFIERS:
        return False, f"state-qualifier={target.get('state-qualifier')!r}"
    return STATES[state], f"state={state!r}"


SDL = "http://sdl.com/FileTypes/SdlXliff/1.0"
SDL_UNCONFIRMED = ("Draft", "RejectedTranslation", "RejectedSignOff")
MEMOQ = "MQXliff"
MEMOQ_CONFIRMED = ("ManuallyConfirmed", "Proofread", "Reviewer1Confirmed", "Reviewer2Confirmed")


def tool_status(unit: etree._Element) -> tuple[bool, str] | None:
    """What Trados (sdl:seg conf, per segment) or memoQ (mq:status) says, where they say it.

    A unit prints only if every one of its segments is confirmed: a Trados
    Draft or rejected segment, or a memoQ segment short of ManuallyConfirmed,
    keeps it out of print whatever its standard attributes say.
    """
    confs = [seg.get("conf") for seg in unit.iter(f"{{{SDL}}}seg")]
    if confs:
        weak = [c for c in confs if c is None or c in SDL_UNCONFIRMED]
        return (not weak, f"Trados segment conf={weak[0]!r}" if weak else "Trados: confirmed")
    status = unit.get(f"{{{MEMOQ}}}status")
    if status is not None:
        return status in MEMOQ_CONFIRMED, f"memoQ mq:status={status!r}"
    return None


@dataclass(frozen=True)
class ImportResult:
    locale: str
    path: Path
    changed: int
    written: bool
    warnings: list[Problem]
    not_printed: int = 0  # units imported as fuzzy by their state (needs-*, new, approved="no")
    emptied: int = 0  # translated entries whose target came back empty (now untranslated)


def xliff_locale(project: Project, store, label: str) -> str:
    target = (store.gettargetlanguage() or "").replace("-", "_")
    if not target:
        raise HandoutError(f"{label}:1: the <file> element has no target-language; expected one of "
                           f"{', '.join(project.catalog_locales())}")
    if not project.po_path(target).exists():
        raise HandoutError(f"{label}:1: target-language {target!r} has no catalog; expected one of "
                           f"{', '.join(project.catalog_locales())}")
    return target


XLIFF_20 = "urn:oasis:names:tc:xliff:document:2.0"


def read_xliff(path: Path, label: str):
    data = path.read_bytes()
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise ProblemsError([Problem(label, line, f"not a readable XLIFF file: {exc}")], "XLIFF error") from None
    if etree.QName(root).namespace == XLIFF_20 or root.get("version", "").startswith("2"):
        raise ProblemsError([Problem(label, root.sourceline or 1, "this is XLIFF 2.0, which the import does not "
                                     "read: export XLIFF 1.2 from the CAT tool (Trados, memoQ and OmegaT all "
                                     "offer it)")], "XLIFF error")
    if etree.QName(root).localname != "xliff":
        raise ProblemsError([Problem(label, root.sourceline or 1, f"not an XLIFF file: the root element is "
                                     f"<{etree.QName(root).localname}>, expected <xliff version=\"1.2\">")],
                            "XLIFF error")
    try:
        return Xliff12File.parsestring(data)
    except (etree.XMLSyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise ProblemsError([Problem(label, line, f"not a readable XLIFF file: {exc}")], "XLIFF error") from None


def source_ids(unit: etree._Element, english: str) -> dict[str, str]:
    """id -> placeholder of a unit: ours, plus the ids the CAT tool gave the <source>'s inline codes.

    Trados writes <x id="1"/> and memoQ numbers its <ph>; an empty one in the
    source stands for the English placeholder at its position.
    """
    ids = placeholder_ids(english)
    order = [m.group() for m in PLACEHOLDER.finditer(english)]
    source = unit.find(f"{{{XLIFF_12}}}source")
    if source is None:
        source = next((c for c in unit if isinstance(c.tag, str) and etree.QName(c).localname == "source"), None)
    if source is not None:
        codes = [c for c in source.iter() if isinstance(c.tag, str) and etree.QName(c).localname in ("ph", "x")]
        for position, code in enumerate(codes):
            content = "".join(code.itertext())
            if code.get("id") and code.get("id") not in ids:
                if content:
                    ids[code.get("id")] = content
                elif position < len(order):
                    ids[code.get("id")] = order[position]
    return ids


def import_xliff(project: Project, path: Path) -> ImportResult:
    """Take an agency's XLIFF back into its PO file; nothing is written unless every check passes.

    Each unit's state decides whether it prints (STATES); an emptied <target>
    empties the entry. The result then goes through exactly the checks of
    `handouts check`, each finding reported at the XLIFF's own line.
    """
    label = project.rel(path)
    if not path.exists():
        raise HandoutError(f"{label}: no such file")
    store = read_xliff(path, label)
    locale = xliff_locale(project, store, label)
    po_path = project.po_path(locale)
    # A writer, so not through the prepared locale: the import edits the PO file itself (through
    # Translate Toolkit, which keeps what Babel would drop), and the result is checked as
    # `check` checks it (check_import). The catalog itself must be sound first.
    before = read_catalog_bytes(project, locale)
    load_catalog(project, locale, data=before)
    po = pypo.pofile.parsestring(before)
    by_id = {unit_id(u.source, u.getcontext() or None): u for u in po.units
             if not u.isheader() and not u.isobsolete()}
    problems: list[Problem] = []
    unit_lines: dict[tuple[str, str | None], int] = {}
    changed = not_printed = emptied = 0
    for unit in store.units:
        element = unit.xmlelement
        line = element.sourceline or 1
        ident = element.get("id", "")  # getid() would prefix the file's name
        entry = by_id.get(ident)
        if entry is None:
            problems.append(Problem(label, line, f"unit {ident} ({unit.source!r}) is not in "
                                                 f"{project.rel(po_path)}: the English changed since the export"))
            continue
        target = element.find(f"{{{XLIFF_12}}}target")  # a direct child: not an <alt-trans>'s
        if target is not None and target.sourceline:
            line = target.sourceline  # where the translator's text is
        unit_lines[(entry.source, entry.getcontext() or None)] = line
        printable, reason = segment_status(element, target)
        if printable is None:
            problems.append(Problem(label, line, reason))
            continue
        if printable and (tool := tool_status(element)) is not None:
            printable, reason = tool
        faults: list[tuple[int, str]] = []
        text = "" if target is None else from_inline(target, source_ids(element, entry.source), faults)
        if target is not None and not preserves_space(target):
            text = " ".join(text.split())  # xml:space="default": the layout of the XML is not text
        problems += [Problem(label, at, message) for at, message in faults]
        fuzzy = bool(text) and not printable
        not_printed += fuzzy
        emptied += not text and bool(entry.target)
        if text != (entry.target or "") or fuzzy != entry.isfuzzy():
            entry.target = text
            entry.markfuzzy(fuzzy)
            changed += 1
    if problems:
        raise ProblemsError(problems, "XLIFF error")
    data = canonical(bytes(po))
    problems, warnings = check_import(project, locale, data, label, unit_lines)
    if problems:
        raise ProblemsError(problems, "problem")
    written = write_if_changed(po_path, data)
    return ImportResult(locale, po_path, changed, written, warnings, not_printed, emptied)


def check_import(project: Project, locale: str, data: bytes, label: str,
                 unit_lines: dict[tuple[str, str | None], int]) -> tuple[list[Problem], list[Problem]]:
    """Exactly the checks of `handouts check` on the PO an import would write, each finding moved to
    its XLIFF line (fuzzy entries, which an import may rightly leave, are not errors here)."""
    # The PO file the import would write, not yet on disk: the prepared locale reads files only.
    catalog = read_po(io.BytesIO(for_babel(data)), locale=locale, charset="utf-8")
    entries = sorted((m.lineno, unit_lines.get((m.id, m.context), 1)) for m in catalog if m.id)

    def xliff_line(po_line: int) -> int:
        """The unit of the PO entry that holds `po_line` (msgfmt may point at its msgstr)."""
        at = bisect.bisect_right(entries, (po_line, float("inf"))) - 1
        return entries[at][1] if at >= 0 else 1

    report = check_locale(project, locale, data=data)
    findings = [p for p in report.problems if not is_not_translated(p)]
    moved = sorted({Problem(label, xliff_line(p.line), p.message, p.severity) for p in findings})
    return [p for p in moved if p.severity == "error"], [p for p in moved if p.severity != "error"]


# ---------------------------------------------------------------- TMX translation memory


@dataclass(frozen=True)
class TmxResult:
    path: Path
    units: int
    locales: tuple[str, ...]
    skipped: tuple[str, ...]  # locales without a current review


def export_tmx(project: Project, output: Path | None = None) -> TmxResult:
    """A TMX memory of the reviewed translations only: a draft never seeds an agency's memory."""
    memory = tmx.tmxfile(sourcelanguage="en")
    units, included, skipped = 0, [], []
    content = load_content(project.handouts_dir, project.root)
    for locale in project.catalog_locales():
        prepared = prepare_locale(project, locale, content)
        catalog = readable_catalog(prepared)
        if prepared.status != "reviewed":  # the gate's answer: an incomplete locale is not reviewed
            skipped.append(locale)
            continue
        included.append(locale)
        for message in catalog:
            if message.id and message.string and not message.fuzzy and isinstance(message.id, str):
                memory.addtranslation(message.id, "en", str(message.string), locale.replace("_", "-"))
                units += 1
    path = output or project.build_dir / "translation-memory.tmx"
    atomic_write(path, bytes(memory))
    return TmxResult(path, units, tuple(included), tuple(skipped))
