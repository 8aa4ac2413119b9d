"""Packets: named sets of handouts printed together (handouts/packets.yaml).

A lumbar discectomy patient gets four handouts: preparing, the procedure,
recovery, warning signs. A packet is one PDF of them, each handout starting
on a new sheet when printed on both sides: a handout with an odd page count
is followed by a blank page. `make pdf` writes build/packets/<locale>/<id>.pdf
from the built PDFs; the front desk assembles personalised packets the same way.

    packets:
      - id: lumbar-discectomy
        title: Lumbar discectomy, complete packet
        handouts: [preparing-for-surgery, lumbar-discectomy, recovery-at-home, warning-signs]
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoutkit.content.handouts import HANDOUT_ID, PACKETS_FILE, Content
from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import ProblemsError
from handoutkit.files import atomic_write
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.manifest import Entry
from handoutkit.outputs.manifest import key as manifest_key

# Changes whenever assemble() changes what it writes: every packet is assembled again.
ASSEMBLY = "assemble-1: odd page count padded with one blank page"


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


def assemble(pdfs: list[bytes]) -> tuple[bytes, int]:
    """One PDF of several, each starting on a front side: an odd page count gets a blank page.

    The packet is for printing; the single handouts remain the accessible (tagged) PDFs.
    """
    import pikepdf

    with ExitStack() as stack:
        return assemble_opened([stack.enter_context(pikepdf.open(io.BytesIO(data))) for data in pdfs])


def assemble_opened(parts: list[Any]) -> tuple[bytes, int]:
    """`assemble` from PDFs already open with pikepdf (a locale's packets share their handouts)."""
    import pikepdf

    out = pikepdf.Pdf.new()
    for part in parts:
        out.pages.extend(part.pages)
        if len(part.pages) % 2:
            box = part.pages[-1].mediabox
            out.add_blank_page(page_size=(float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
    buffer = io.BytesIO()
    # Fixed document id and no dates: the same handouts give the same bytes.
    out.save(buffer, static_id=True, deterministic_id=False)
    return buffer.getvalue(), len(out.pages)


PACKETS_FOLDER = "packets"  # under build/: packets/<locale>/<packet id>.pdf


STANDARD = EDITIONS["standard"]  # packets are made of the standard PDFs


def packet_path(project: Project, locale: str, packet_id: str) -> Path:
    return project.build_dir / PACKETS_FOLDER / locale / f"{packet_id}.pdf"


@dataclass(frozen=True)
class PacketJob:
    """One packet to assemble: its file, its handouts' PDFs and its manifest entry."""

    locale: str
    key: str  # in the manifest
    target: Path
    parts: tuple[Path, ...]
    inputs: str


def stale_packets(project: Project, content: Content, locales: tuple[str, ...],
                  manifest: dict[str, Entry]) -> list[PacketJob]:
    """The packets to assemble: those whose handouts' manifest entries changed, or whose file is missing."""
    jobs = []
    for packet in load_packets(project, content):
        for locale in locales:
            keys = [manifest_key(locale, h, "standard") for h in packet.handouts]
            parts = tuple(STANDARD.product(project, locale, h) for h in packet.handouts)
            if not all(key in manifest for key in keys) or not all(p.exists() for p in parts):
                continue  # a sharded or partial build: a later whole build makes the packet
            inputs = hashlib.sha256("\0".join([ASSEMBLY, *(manifest[k].inputs for k in keys)]).encode()).hexdigest()
            target = packet_path(project, locale, packet.id)
            key = f"packet:{locale}/{packet.id}"
            if key not in manifest or manifest[key].inputs != inputs or not target.exists():
                jobs.append(PacketJob(locale, key, target, parts, inputs))
    return jobs


def write_packets(jobs: list[PacketJob]) -> list[int]:
    """Assemble and write packets, each handout's PDF read once for all of them; their page counts."""
    import pikepdf

    pages = []
    with ExitStack() as stack:
        # A handout twice in one packet is opened twice, as `assemble` does: one open file
        # added twice would share its objects, and the packet would not be the same bytes.
        opened: dict[tuple[Path, int], Any] = {}
        for job in jobs:
            copies = [(part, job.parts[:index].count(part)) for index, part in enumerate(job.parts)]
            for copy in copies:
                if copy not in opened:
                    opened[copy] = stack.enter_context(pikepdf.open(copy[0]))
            data, count = assemble_opened([opened[copy] for copy in copies])
            atomic_write(job.target, data, durable=False)
            pages.append(count)
    return pages


def build_packets(project: Project, content: Content, locales: tuple[str, ...],
                  manifest: dict[str, Entry], pool: Executor | None = None) -> list[str]:
    """build/packets/<locale>/<packet>.pdf from the standard PDFs; returns the paths written.

    A packet is assembled again only when one of its handouts' manifest entries changed.
    With a pool, each locale's packets are assembled in a worker, the locales side by side.
    """
    jobs = stale_packets(project, content, locales, manifest)
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
