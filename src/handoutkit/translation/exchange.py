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
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.pofile import read_po
from lxml import etree
from translate.storage import factory, tmx, xliff
from translate.storage.placeables import StringElem
from translate.storage.placeables.xliff import G, Ph

from handoutkit.content.settings import Project
from handoutkit.content.syntax import EMPHASIS, PLACEHOLDER
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write, write_if_changed
from handoutkit.translation.catalogs import (
    canonical,
    for_babel,
    load_catalog,
    msgfmt_problems,
)
from handoutkit.translation.checks import EntryRules, check_catalog
from handoutkit.translation.extract import current_template
from handoutkit.translation.locales import native_digits
from handoutkit.translation.provenance import read_provenance, translation_hash
from handoutkit.translation.review import review_state

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


def from_inline(node: etree._Element, placeholders: dict[str, str]) -> str:
    """The PO text of an XLIFF <target>: <g> back to **...**, <ph> back to its placeholder.

    A CAT tool may empty a <ph>; its id still names the placeholder of the source.
    <mrk> (a CAT tool's own markup) keeps its text.
    """
    parts = [node.text or ""]
    for child in node:
        tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if tag == "g":
            parts.append(f"{EMPHASIS}{from_inline(child, placeholders)}{EMPHASIS}")
        elif tag in ("ph", "x"):
            parts.append(placeholders.get(child.get("id", ""), "".join(child.itertext())))
        elif tag:
            parts.append(from_inline(child, placeholders))
        parts.append(child.tail or "")
    return "".join(parts)


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
    nobody merged yet goes out to translate), with the file's translations; a translation made
    for English that has changed since (translated-from.yaml) goes out as needing review."""
    current = {(m.context, str(m.id)): m for m in load_catalog(project, locale) if m.id}
    changed = {key for key, record in read_provenance(project, locale).items()
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
                              auto_comments=message.auto_comments)
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
        unit.markfuzzy(message.fuzzy or not message.string)
        units += 1
    # The file it came from, for the agency's records; the import goes by target-language.
    store.setfilename(store.getfilenode("NoName"), project.rel(project.po_path(locale)))
    path = output or project.build_dir / "xliff" / f"{locale}.xlf"
    atomic_write(path, bytes(store))
    return ExportResult(locale, path, units, translated)


# ---------------------------------------------------------------- XLIFF import


@dataclass(frozen=True)
class ImportResult:
    locale: str
    path: Path
    changed: int
    written: bool
    warnings: list[Problem]


def xliff_locale(project: Project, store, label: str) -> str:
    target = (store.gettargetlanguage() or "").replace("-", "_")
    if not target:
        raise HandoutError(f"{label}:1: the <file> element has no target-language; expected one of "
                           f"{', '.join(project.catalog_locales())}")
    if not project.po_path(target).exists():
        raise HandoutError(f"{label}:1: target-language {target!r} has no catalog; expected one of "
                           f"{', '.join(project.catalog_locales())}")
    return target


def read_xliff(path: Path, label: str):
    try:
        return Xliff12File.parsestring(path.read_bytes())
    except (etree.XMLSyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise ProblemsError([Problem(label, line, f"not a readable XLIFF file: {exc}")], "XLIFF error") from None


def import_xliff(project: Project, path: Path) -> ImportResult:
    """Take an agency's XLIFF back into its PO file; nothing is written unless every check passes."""
    label = project.rel(path)
    if not path.exists():
        raise HandoutError(f"{label}: no such file")
    store = read_xliff(path, label)
    locale = xliff_locale(project, store, label)
    po_path = project.po_path(locale)
    po = factory.getobject(str(po_path))
    by_id = {unit_id(u.source, u.getcontext() or None): u for u in po.units
             if not u.isheader() and not u.isobsolete()}
    problems: list[Problem] = []
    unit_lines: dict[tuple[str, str | None], int] = {}
    changed = 0
    for unit in store.units:
        line = unit.xmlelement.sourceline or 1
        ident = unit.xmlelement.get("id", "")  # getid() would prefix the file's name
        entry = by_id.get(ident)
        if entry is None:
            problems.append(Problem(label, line, f"unit {ident} ({unit.source!r}) is not in "
                                                 f"{project.rel(po_path)}: the English changed since the export"))
            continue
        target = unit.target_dom
        if target is not None and target.sourceline:
            line = target.sourceline  # where the translator's text is
        unit_lines[(entry.source, entry.getcontext() or None)] = line
        if target is None or not unit.target:
            continue
        text = from_inline(target, placeholder_ids(entry.source))
        fuzzy = unit.isfuzzy()
        if text != entry.target or fuzzy != entry.isfuzzy():
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
    return ImportResult(locale, po_path, changed, written, warnings)


def check_import(project: Project, locale: str, data: bytes, label: str,
                 unit_lines: dict[tuple[str, str | None], int]) -> tuple[list[Problem], list[Problem]]:
    """The full check on the PO an import would write, each finding moved to its XLIFF line."""
    catalog = read_po(io.BytesIO(for_babel(data)), locale=locale, charset="utf-8")
    entries = sorted((m.lineno, unit_lines.get((m.id, m.context), 1)) for m in catalog if m.id)

    def xliff_line(po_line: int) -> int:
        """The unit of the PO entry that holds `po_line` (msgfmt may point at its msgstr)."""
        at = bisect.bisect_right(entries, (po_line, float("inf"))) - 1
        return entries[at][1] if at >= 0 else 1

    with tempfile.NamedTemporaryFile(suffix=".po", dir=project.po_path(locale).parent) as tmp:
        tmp.write(data)
        tmp.flush()
        findings = msgfmt_problems(Path(tmp.name), label)
    rules = EntryRules(native_digits(locale) if locale in project.settings.native_digits else "")
    findings += check_catalog(catalog, current_template(project), label, locale, rules).problems
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
    for locale in project.catalog_locales():
        catalog = load_catalog(project, locale)
        if review_state(project, locale, catalog).status != "reviewed":
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
