"""Packets: named sets of handouts printed together (handouts/packets.yaml).

A lumbar discectomy patient gets four handouts: preparing, the procedure,
recovery, warning signs. A packet is one PDF of them, each handout starting
on a new sheet when printed on both sides: a handout with an odd page count
is followed by a blank page. `make pdf` writes build/packets/<locale>/<id>.pdf
from the standard edition's PDFs, already tagged and compacted, joined with pikepdf
(render/joining.py) into one tagged document: one structure tree with one Part per
handout, the parts' language, title and outline. (Laying their HTML out again as one
WeasyPrint document did the same and cost as much as rendering the handouts.) The front
desk lays personalised packets out from HTML (`assemble`): they are made one at a time.

    packets:
      - id: lumbar-discectomy
        title: Lumbar discectomy, complete packet
        handouts: [preparing-for-surgery, lumbar-discectomy, recovery-at-home, warning-signs]
"""

from __future__ import annotations

import copy
import hashlib
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pikepdf

from handoutkit.content.handouts import HANDOUT_ID, PACKETS_FILE, Content
from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import ProblemsError
from handoutkit.files import atomic_write
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.manifest import Entry
from handoutkit.outputs.manifest import key as manifest_key
from handoutkit.render.joining import join_tagged
from handoutkit.render.renderer import PdfWriter

# Changes whenever what a packet is made from or how changes: every packet is made again.
ASSEMBLY = "assemble-3: the parts' standard PDFs joined with their structure trees, odd page counts padded with a blank page"

# Between the handouts' titles in a packet's document title (what a screen reader announces).
TITLE_SEPARATOR = " · "


@dataclass(frozen=True)
class Packet:
    id: str
    title: str  # for the staff's list, in the source language
    handouts: tuple[str, ...]


def load_packets(project: Project, content: Content) -> tuple[Packet, ...]:
    """The packets, checked: known handout ids, unique packet ids. No file: no packets."""
    path = project.handouts_dir / PACKETS_FILE
    if not path.exists():
        return ()
    label = project.rel(path)
    node, problems = read_yaml(path, label)
    if node is None:
        raise ProblemsError(problems)
    reader = NodeReader(label)
    keys = reader.mapping(node, "packets.yaml", ("packets",)) or {}
    known = {h.id for h in content.handouts}
    packets: list[Packet] = []
    for item in reader.sequence(keys["packets"], "packets") if "packets" in keys else ():
        fields = reader.mapping(item, "a packet", ("id", "title", "handouts"))
        if not fields or len(fields) != 3:
            continue
        packet_id = reader.string(fields["id"], "the packet id")
        title = reader.string(fields["title"], "the packet title")
        ids = []
        for entry in reader.sequence(fields["handouts"], "the packet's handouts"):
            handout_id = reader.string(entry, "a handout id")
            if handout_id and handout_id not in known:
                reader.fail(entry, f"no handout with id '{handout_id}' (known: {', '.join(sorted(known))})")
            ids.append(handout_id)
        if packet_id and not HANDOUT_ID.match(packet_id):
            reader.fail(fields["id"], f"expected a packet id of lowercase letters, digits and dashes, found '{packet_id}'")
        elif packet_id in {p.id for p in packets}:
            reader.fail(fields["id"], f"duplicate packet id '{packet_id}'")
        elif packet_id and title and all(ids):
            packets.append(Packet(packet_id, title, tuple(ids)))
    if reader.problems:
        raise ProblemsError(reader.problems)
    return tuple(packets)


def blank_page_html(project: Project, lang: str) -> str:
    """A page with nothing on it, the size of the handouts' pages: what pads a handout with an
    odd page count, so the next one starts on a front side when printed on both sides."""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title></title>'
            f"<style>@page {{ size: {project.settings.page_size}; margin: 0 }}</style></head><body></body></html>")


def lay_out_packet(writer: PdfWriter, documents: list[Any], blank: Any) -> tuple[bytes, int]:
    """One tagged PDF of several laid-out handouts (WeasyPrint documents of one locale), each
    starting on a front side: WeasyPrint copies their pages into one document and writes one
    structure tree for all of them, so a packet is tagged like its parts (one Part per handout,
    /Lang, an outline entry per handout title). Its title is the handouts' titles in order, in
    their language.
    """
    pages: list[Any] = []
    for document in documents:
        pages += document.pages
        if len(document.pages) % 2:
            pages += blank.pages
    packet = documents[0].copy(pages)
    packet.metadata = copy.copy(documents[0].metadata)  # the first part's language; its own title
    packet.metadata.title = TITLE_SEPARATOR.join(d.metadata.title or "" for d in documents)
    return writer.write(packet), len(pages)


def assemble(writer: PdfWriter, project: Project, htmls: list[str], lang: str) -> tuple[bytes, int]:
    """The packet of these handouts' HTML (each laid out, then `lay_out_packet`); the front desk's."""
    return lay_out_packet(writer, [writer.layout(html) for html in htmls],
                          writer.layout(blank_page_html(project, lang)))


PACKETS_FOLDER = "packets"  # under build/: packets/<locale>/<packet id>.pdf


STANDARD = EDITIONS["standard"]  # packets are made of the standard PDFs


def packet_path(project: Project, locale: str, packet_id: str) -> Path:
    return project.build_dir / PACKETS_FOLDER / locale / f"{packet_id}.pdf"


@dataclass(frozen=True)
class PacketJob:
    """One packet to join: its file, its handouts' PDFs and its manifest entry."""

    locale: str
    key: str  # in the manifest
    target: Path
    parts: tuple[Path, ...]  # the standard edition's PDF of each handout
    inputs: str


class PartEdition(Protocol):
    """The edition a packet is made of (editions.EDITIONS["standard"]): where its PDFs are."""

    def pdf(self, project: Project, locale: str, handout_id: str) -> Path | None: ...


def stale_packets(project: Project, content: Content, locales: tuple[str, ...], manifest: dict[str, Entry],
                  standard: PartEdition) -> list[PacketJob]:
    """The packets to join: those whose handouts' manifest entries changed, or whose file is missing."""
    jobs = []
    for packet in load_packets(project, content):
        for locale in locales:
            keys = [manifest_key(locale, h, "standard") for h in packet.handouts]
            pdfs = [standard.pdf(project, locale, h) for h in packet.handouts]
            if not all(key in manifest for key in keys) or not all(p and p.exists() for p in pdfs):
                continue  # a sharded or partial build: a later whole build makes the packet
            inputs = hashlib.sha256("\0".join([ASSEMBLY, *(manifest[k].inputs for k in keys)]).encode()).hexdigest()
            target = packet_path(project, locale, packet.id)
            key = f"packet:{locale}/{packet.id}"
            if key not in manifest or manifest[key].inputs != inputs or not target.exists():
                jobs.append(PacketJob(locale, key, target, tuple(p for p in pdfs if p), inputs))
    return jobs


def write_packets(jobs: list[PacketJob]) -> list[int]:
    """Join and write packets, each handout's PDF opened once for all of them; their page counts."""
    opened: dict[tuple[Path, int], pikepdf.Pdf] = {}
    pages = []
    try:
        for job in jobs:
            # A handout twice in one packet is opened twice: qpdf maps the objects it copies per
            # source file, so the second copy of one Pdf would be the first one's pages again.
            copies = [(part, job.parts[:index].count(part)) for index, part in enumerate(job.parts)]
            for copy_key in copies:
                if copy_key not in opened:
                    opened[copy_key] = pikepdf.open(copy_key[0])
            joined = join_tagged([opened[c] for c in copies], TITLE_SEPARATOR)
            atomic_write(job.target, joined.data, durable=False)
            pages.append(joined.pages)
    finally:
        for pdf in opened.values():
            pdf.close()
    return pages


def build_packets(project: Project, content: Content, locales: tuple[str, ...], manifest: dict[str, Entry],
                  standard: PartEdition, pool: Executor | None = None) -> list[str]:
    """build/packets/<locale>/<packet>.pdf from the standard edition's PDFs; returns the paths written.

    A packet is made again only when one of its handouts' manifest entries changed.
    With a pool, each locale's packets are joined in a worker, the locales side by side.
    """
    jobs = stale_packets(project, content, locales, manifest, standard)
    batches = [[job for job in jobs if job.locale == locale] for locale in dict.fromkeys(j.locale for j in jobs)]
    pages = {job: count for batch, counts in zip(batches, (pool.map if pool else map)(write_packets, batches))
             for job, count in zip(batch, counts)}
    written = []
    for job in jobs:
        manifest[job.key] = Entry(job.inputs, pages[job])
        written.append(f"{project.rel(job.target)} ({len(job.parts)} handouts, {pages[job]} pages)")
    return written


@dataclass(frozen=True)
class PacketCard:
    """A packet as the catalog shows it: its handouts' titles and the built PDF per locale."""

    title: str
    handout_titles: tuple[str, ...]
    links: dict[str, str]  # locale -> path relative to build/, only where built


def packet_cards(project: Project, content: Content) -> list[PacketCard]:
    cards = []
    for packet in load_packets(project, content):
        links = {locale: f"packets/{locale}/{packet.id}.pdf" for locale in project.settings.locales
                 if packet_path(project, locale, packet.id).exists()}
        cards.append(PacketCard(packet.title, tuple(content.get(h).title.value for h in packet.handouts), links))
    return cards


def entries_from_pdfs(project: Project, content: Content) -> dict[str, Entry]:
    """Stand-in manifest entries for the standard PDFs present (a sharded build's artifacts
    bring PDFs without one manifest): each handout's identity is its PDF's bytes."""
    entries = {}
    for locale in project.settings.locales:
        for handout in content.handouts:
            path = STANDARD.product(project, locale, handout.id)
            if path.exists():
                entries[manifest_key(locale, handout.id, "standard")] = Entry(
                    hashlib.sha256(path.read_bytes()).hexdigest(), 0)
    return entries
