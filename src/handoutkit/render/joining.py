"""Stage 6, after tag repair and compaction: tagged PDFs joined into one tagged PDF (a packet).

A packet used to be its handouts' HTML laid out again as one WeasyPrint document, which
cost as much as rendering the handouts themselves. Their PDFs are already laid out, tagged,
repaired and compacted, so `join_tagged` copies them with pikepdf instead and keeps what
the layout gave the packet: one structure tree (a Document holding each part's top-level
elements, so one Part per handout), the first part's /Lang, the role and class maps, an
outline entry per part, the parts' titles as the document title (Info and XMP), and
DisplayDocTitle.

Pages and structure elements are copied from each part with qpdf's foreign-object copying,
which keeps one map of copied objects per source file: the pages are copied first, so the
structure tree copied after them points at those copies (/Pg), never at new ones. A part that
appears twice in one packet must therefore be opened twice (`join_tagged` refuses one Pdf twice).
The numbers that tie content to the tree (the pages' /StructParents, annotations' /StructParent,
the /ParentTree keys) are offset by the parts before each one. A part with an odd page count is
followed by a blank page of its last page's size, with no content to tag.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterator

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, NumberTree, String

from handoutkit.render.pdftags import number_callouts


@dataclass(frozen=True)
class Joined:
    data: bytes
    pages: int  # the blank pages included


def copy_from(packet: pikepdf.Pdf, part: pikepdf.Pdf, obj: pikepdf.Object) -> pikepdf.Object:
    """`obj` of `part` copied into `packet`; qpdf copies indirect objects only, so a direct one
    (the catalog's /Names, say) is made indirect in the part first (in memory, never saved)."""
    return packet.copy_foreign(obj if obj.is_indirect else part.make_indirect(obj))


def top_elements(tree_root: Dictionary) -> list[Dictionary]:
    """A part's top-level structure elements: the kids of its Document, or its root's kids when
    they are not one Document (what a packet's Document should hold of this part)."""
    kids = tree_root.K if isinstance(tree_root.K, Array) else Array([tree_root.K])
    if len(kids) == 1 and kids[0].get("/S") == Name.Document:
        inner = kids[0].get("/K", Array())
        kids = inner if isinstance(inner, Array) else Array([inner])
    return [kid for kid in kids if isinstance(kid, Dictionary) and "/S" in kid]


def next_key(parent_tree: NumberTree, tree_root: Dictionary) -> int:
    """The first /StructParents number a part does not use."""
    used = max((key for key, _ in parent_tree.items()), default=-1) + 1
    return max(used, int(tree_root.get("/ParentTreeNextKey", 0)))


def descendants(element: Dictionary) -> Iterator[Dictionary]:
    """The structure elements under `element`, in document order."""
    kids = element.get("/K")
    for kid in (kids if isinstance(kids, Array) else [kids]):
        if isinstance(kid, Dictionary) and "/S" in kid:
            yield kid
            yield from descendants(kid)


def offset_struct_parents(page: pikepdf.Page, offset: int) -> None:
    if "/StructParents" in page.obj:
        page.obj.StructParents = int(page.obj.StructParents) + offset
    for annotation in page.obj.get("/Annots", Array()):
        if "/StructParent" in annotation:
            annotation.StructParent = int(annotation.StructParent) + offset


def siblings(first: Dictionary | None) -> list[Dictionary]:
    """An outline level: its first item and those /Next to it."""
    items = []
    while isinstance(first, Dictionary):
        items.append(first)
        first = first.get("/Next")
    return items


def visible_count(items: list[Dictionary]) -> int:
    """An outline item's /Count for these children: them and their open descendants."""
    return sum(1 + max(int(item.get("/Count", 0)), 0) for item in items)


def link_level(parent: Dictionary, items: list[Dictionary]) -> None:
    """Make `items` the children of `parent`, in order, all open."""
    for before, item in zip([None, *items], items):
        item.Parent = parent
        if before is None:
            if "/Prev" in item:
                del item.Prev
        else:
            item.Prev, before.Next = before, item
    if items:
        if "/Next" in items[-1]:
            del items[-1].Next
        parent.First, parent.Last = items[0], items[-1]
    parent.Count = visible_count(items)


def part_outline_entry(packet: pikepdf.Pdf, part: pikepdf.Pdf, title: str, first_page: pikepdf.Page) -> Dictionary:
    """The one outline entry of a part: its outline's only top-level item (a handout's title, its
    sections under it), or an entry with its title holding its outline's items."""
    outlines = part.Root.get("/Outlines")
    items = siblings(copy_from(packet, part, outlines).get("/First")) if isinstance(outlines, Dictionary) else []
    if len(items) == 1:
        return items[0]
    entry = packet.make_indirect(Dictionary(Title=String(title), Dest=Array([first_page.obj, Name.Fit])))
    link_level(entry, items)
    return entry


def packet_metadata(packet: pikepdf.Pdf, first: pikepdf.Pdf, title: str) -> None:
    """The first part's Info and XMP (its PDF/UA identification, author, creator), the packet's title."""
    info = Dictionary({key: String(str(value)) for key, value in first.docinfo.items()})
    info.Title = String(title)
    packet.trailer.Info = packet.make_indirect(info)
    if "/Metadata" in first.Root:
        packet.Root.Metadata = copy_from(packet, first, first.Root.Metadata)
        with packet.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp["dc:title"] = title


def copy_pages(packet: pikepdf.Pdf, part: pikepdf.Pdf, seen: set[tuple[int, int]]) -> list[pikepdf.Page]:
    """The part's pages appended to the packet: their copies, each a page of its own (checked:
    a page copied twice would leave the structure tree pointing at one of them only)."""
    first = len(packet.pages)
    for page in part.pages:
        packet.pages.append(page)
    copied = list(packet.pages)[first:]
    numbers = {page.objgen for page in copied}
    if len(numbers) != len(copied) or numbers & seen:
        raise ValueError("a page was copied twice")
    seen |= numbers
    return copied


def graft_tree(tree: Dictionary, document: Dictionary, parent_tree: NumberTree, pages: list[pikepdf.Page],
               offset: int) -> int:
    """A part's copied structure tree under the packet's Document: its top-level elements become
    the Document's kids, its parent tree's numbers and its pages' move up by `offset` (the numbers
    the parts before it use). The first number the next part may use."""
    for element in top_elements(tree):
        element.P = document
        document.K.append(element)
    part_tree = NumberTree(tree.ParentTree)
    for key, value in part_tree.items():
        parent_tree[key + offset] = value
    for page in pages:
        offset_struct_parents(page, offset)
    return offset + next_key(part_tree, tree)


def merge_first_wins(into: Dictionary, other: Dictionary) -> None:
    """A role or class map merged into the packet's: a name two parts map, the first part's way."""
    for name, value in other.items():
        if name not in into:
            into[name] = value


def join_tagged(parts: list[pikepdf.Pdf], title_separator: str) -> Joined:
    """One tagged PDF of `parts` (open, distinct Pdf objects), each starting on an odd page."""
    if len({id(part) for part in parts}) != len(parts):
        raise ValueError("a part given twice: open it once per copy (foreign copies are mapped per source)")
    packet = pikepdf.new()
    document = packet.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    tree_root = packet.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([document])))
    document.P = tree_root
    parent_tree = NumberTree.new(packet)
    role_map, class_map = Dictionary(), Dictionary()
    destinations: dict[str, pikepdf.Object] = {}
    entries: list[Dictionary] = []
    titles: list[str] = []
    seen_pages: set[tuple[int, int]] = set()
    offset = 0
    for part in parts:
        copied = copy_pages(packet, part, seen_pages)
        tree = copy_from(packet, part, part.Root.StructTreeRoot)  # after the pages: /Pg points at their copies
        offset = graft_tree(tree, document, parent_tree, copied, offset)
        merge_first_wins(role_map, tree.get("/RoleMap", Dictionary()))
        merge_first_wins(class_map, tree.get("/ClassMap", Dictionary()))
        if "/Names" in part.Root and "/Dests" in part.Root.Names:
            for name, value in NameTree(copy_from(packet, part, part.Root.Names.Dests)).items():
                destinations.setdefault(name, value)  # a name in two parts: the first part's place
        title = str(part.docinfo.get("/Title", ""))
        titles.append(title)
        entries.append(part_outline_entry(packet, part, title, copied[0]))
        if len(copied) % 2:
            packet.pages.append(blank_page(packet, copied[-1]))
    number_callouts(descendants(document))  # each part numbered its own from 1
    tree_root.ParentTree = parent_tree.obj
    tree_root.ParentTreeNextKey = offset
    if role_map:
        tree_root.RoleMap = role_map
    if class_map:
        tree_root.ClassMap = class_map
    first = parts[0]
    catalog = packet.Root
    catalog.StructTreeRoot = tree_root
    catalog.MarkInfo = Dictionary(Marked=True)
    if "/Lang" in first.Root:
        catalog.Lang = String(str(first.Root.Lang))
    preferences = copy_from(packet, first, first.Root.get("/ViewerPreferences", Dictionary()))
    preferences.DisplayDocTitle = True  # a reader shows the title, not the file name
    catalog.ViewerPreferences = preferences
    outlines = packet.make_indirect(Dictionary(Type=Name.Outlines))
    link_level(outlines, entries)
    catalog.Outlines = outlines
    if destinations:
        names = NameTree.new(packet)
        for name in sorted(destinations):
            names[name] = destinations[name]
        catalog.Names = Dictionary(Dests=names.obj)
    packet_metadata(packet, first, title_separator.join(titles))
    out = io.BytesIO()
    # As the tag repair saves a handout (pdftags.repair): object streams at zlib's best level,
    # the parts' streams kept as they were deflated, the XMP as written.
    pikepdf.settings.set_flate_compression_level(9)
    packet.save(out, deterministic_id=True, fix_metadata_version=False,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                min_version=max(part.pdf_version for part in parts))
    return Joined(out.getvalue(), len(packet.pages))


def blank_page(packet: pikepdf.Pdf, like: pikepdf.Page) -> pikepdf.Page:
    """A page the size of `like` with nothing on it: no content, so nothing to tag or mark."""
    return pikepdf.Page(packet.make_indirect(Dictionary(
        Type=Name.Page, MediaBox=Array(list(like.mediabox)), Resources=Dictionary(),
        Contents=packet.make_stream(b""))))
