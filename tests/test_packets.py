"""Packets: handouts printed together, each starting on a new sheet."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.outputs.packets import assemble, load_packets
from handoutkit.render.renderer import PdfWriter


def html_of(pages: int) -> str:
    """A document of `pages` pages, each with a paragraph."""
    body = '<p style="break-after: page">Page.</p>' * (pages - 1) + "<p>Last page.</p>"
    return (f'<html lang="en"><head><title>Part of {pages}</title><style>@page {{ size: letter }}</style></head>'
            f"<body><main><h1>Part of {pages}</h1>{body}</main></body></html>")


@pytest.mark.slow  # renders the sample's PDFs
@pytest.mark.parametrize("parts, total", [([1], 2), ([2], 2), ([1, 3], 6), ([2, 2, 1], 6), ([3, 3, 2], 10)])
def test_each_handout_starts_on_a_front_side(sample: Project, parts: list[int], total: int) -> None:
    writer = PdfWriter(sample)
    data, pages = assemble(writer, sample, [html_of(n) for n in parts], "en")
    reader = PdfReader(io.BytesIO(data))
    assert pages == total and len(reader.pages) == total
    starts = [i for i, page in enumerate(reader.pages) if "Part of" in (page.extract_text() or "")]
    assert len(starts) == len(parts) and all(i % 2 == 0 for i in starts)
    assert assemble(writer, sample, [html_of(n) for n in parts], "en")[0] == data  # same handouts, same bytes


def write_packets(project: Project, text: str) -> None:
    (project.handouts_dir / "packets.yaml").write_text(text, "utf-8")


def test_unknown_handout_in_a_packet_is_reported_at_its_line(sample: Project) -> None:
    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, nope]\n")
    with pytest.raises(ProblemsError) as caught:
        load_packets(sample, load_content(sample.handouts_dir, sample.root))
    assert "handouts/packets.yaml:4: no handout with id 'nope'" in str(caught.value)


def test_packets_yaml_is_not_read_as_a_handout(sample: Project) -> None:
    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, walking]\n")
    content = load_content(sample.handouts_dir, sample.root)
    assert [h.id for h in content.handouts] == ["walking"]
    assert load_packets(sample, content)[0].handouts == ("walking", "walking")


@pytest.mark.slow  # renders the sample's PDFs
def test_build_writes_packets_and_a_rebuild_keeps_them(sample: Project) -> None:
    from handoutkit.outputs.build import build

    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, walking]\n")
    lines: list[str] = []
    build(sample, locales=None, workers=1, progress=lines.append)
    packet = sample.build_dir / "packets" / "es" / "walk.pdf"
    single = len(PdfReader(sample.build_dir / "pdf" / "es" / "walking.pdf").pages)
    padded = single + single % 2
    assert len(PdfReader(packet).pages) == 2 * padded
    assert any("build/packets/es/walk.pdf" in line for line in lines)
    page = (sample.build_dir / "index.html").read_text("utf-8")  # the offline catalog lists it
    assert 'href="packets/es/walk.pdf"' in page and 'data-href="packets/es/walk.pdf"' in page
    assert 'href="pdf/language-assistance.pdf"' in page  # the interpreter notice, linked
    lines.clear()
    build(sample, locales=None, workers=1, progress=lines.append)
    assert not any("packets" in line for line in lines)  # nothing changed: not assembled again


@pytest.mark.slow  # renders the sample's PDFs
def test_a_packet_is_tagged_like_its_handouts(sample: Project) -> None:
    """Packets were pikepdf page copies: no structure tree, no /Lang, no title (issue 24). Joined
    from its parts' PDFs with their structure trees (render/joining.py), a packet passes the
    Matterhorn checks of a handout (the parts' callouts numbered again: note IDs unique), has
    the language of its parts, a title made of their titles in that language, one Part and one
    outline entry each, and every page's /StructParents leads to elements on that page."""
    from handoutkit.outputs.build import build
    from tests.test_matterhorn import (
        Tree,
        content_problems,
        document_problems,
        structure_problems,
    )

    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, walking]\n")
    build(sample, locales=None, workers=1, progress=lambda line: None)
    with pikepdf.open(sample.build_dir / "pdf" / "es" / "walking.pdf") as single:
        title = str(single.docinfo["/Title"])
    with pikepdf.open(sample.build_dir / "packets" / "es" / "walk.pdf") as pdf:
        tree = Tree(pdf)
        assert document_problems(pdf) + content_problems(pdf, tree) + structure_problems(tree) == []
        assert str(pdf.Root.Lang) == "es"
        assert str(pdf.docinfo["/Title"]) == f"{title} · {title}" == pdf.open_metadata().get("dc:title")
        with pdf.open_outline() as outline:
            assert [item.title for item in outline.root] == [title, title]
        assert [tree.standard_type(e) for e, _ in tree.elements].count("Part") == 2
        parent_tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        numbers = [int(page.StructParents) for page in pdf.pages if "/StructParents" in page]
        assert len(set(numbers)) == len(numbers) and max(numbers) < pdf.Root.StructTreeRoot.ParentTreeNextKey
        for page in pdf.pages:
            if "/StructParents" in page:
                elements = parent_tree[int(page.StructParents)]
                assert elements and all(e.Pg.objgen == page.objgen for e in elements if "/Pg" in e)
            else:  # the blank page after an odd page count: nothing on it to tag
                assert not page.Contents.read_bytes().strip()


def test_one_open_pdf_is_not_joined_twice() -> None:
    """qpdf maps what it copies per source file: one Pdf twice would be the same pages twice."""
    from handoutkit.render.joining import join_tagged

    with pikepdf.new() as pdf, pytest.raises(ValueError, match="open it once per copy"):
        join_tagged([pdf, pdf], " · ")


@pytest.mark.slow  # renders the sample's PDFs
def test_personalised_packet_from_the_form(sample: Project, tmp_path) -> None:
    from handoutkit.desk.server import create_app
    from tests.test_frontdesk import FORM, Desk

    write_packets(sample, "packets:\n  - id: walk\n    title: Walking twice\n    handouts: [walking, walking]\n")
    desk = Desk(create_app(sample, state_dir=tmp_path / "var"))
    assert 'value="packet:walk"' in desk.get("/").get_data(as_text=True)
    response = desk.post({**FORM, "handout": "packet:walk"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) % 2 == 0
    starts = [i for i, page in enumerate(reader.pages) if "María José Pérez" in (page.extract_text() or "")]
    assert len(starts) == 2 and all(i % 2 == 0 for i in starts)  # each copy starts on a front side
    with pikepdf.open(io.BytesIO(response.data)) as pdf:  # tagged like the build's packets (was untagged)
        assert "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == "es"
        with pdf.open_outline() as outline:
            assert len(outline.root) == 2
    rows = desk.app.config["desk"].log.rows()
    assert [(r["packet"], r["handout"]) for r in rows] == [("walk", "walking"), ("walk", "walking")]


@pytest.mark.slow  # renders the sample's PDFs
def test_catalog_command_assembles_packets_from_sharded_artifacts(sample: Project) -> None:
    import shutil
    import subprocess
    import sys

    from handoutkit.outputs.build import build

    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, walking]\n")
    build(sample, locales=("es",), workers=1, progress=lambda line: None)  # not the whole library: no packets
    assert not (sample.build_dir / "packets").exists()
    (sample.build_dir / "manifest.json").unlink()  # artifacts bring PDFs and their HTML, not one manifest
    shutil.rmtree(sample.build_dir / "fontconfig")  # nor the build's fontconfig file: made again
    handouts = Path(sys.executable).with_name("handouts")
    done = subprocess.run([str(handouts), "catalog"], cwd=sample.root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (sample.build_dir / "packets" / "es" / "walk.pdf").exists()
    assert 'href="packets/es/walk.pdf"' in (sample.build_dir / "index.html").read_text("utf-8")


@pytest.mark.slow  # renders the sample's PDFs
def test_packets_assembled_in_a_pool_are_the_packets_assembled_here(sample: Project, tmp_path: Path) -> None:
    """A locale's packets share their handouts: each PDF is read once, in a worker, with the same bytes."""
    from concurrent.futures import ProcessPoolExecutor

    from handoutkit.outputs.build import build
    from handoutkit.outputs.editions import EDITIONS
    from handoutkit.outputs.manifest import read_manifest
    from handoutkit.outputs.packets import build_packets, packet_path

    write_packets(sample, "packets:\n  - id: walk\n    title: Walking\n    handouts: [walking, walking]\n"
                          "  - id: once\n    title: Once\n    handouts: [walking]\n")
    build(sample, locales=("en", "es"), workers=1, progress=lambda line: None)  # no packets: not the whole library
    content = load_content(sample.handouts_dir, sample.root)
    here = build_packets(sample, content, ("en", "es"), read_manifest(sample), EDITIONS["standard"])
    made_here = {p: p.read_bytes() for p in (sample.build_dir / "packets").rglob("*.pdf")}
    assert {packet_path(sample, "es", "walk"), packet_path(sample, "en", "once")} <= set(made_here)

    for path in made_here:
        path.unlink()
    with ProcessPoolExecutor(2) as pool:
        pooled = build_packets(sample, content, ("en", "es"), read_manifest(sample), EDITIONS["standard"], pool)
    assert pooled == here and len(here) == 4  # the same lines, in the same order
    assert {p: p.read_bytes() for p in (sample.build_dir / "packets").rglob("*.pdf")} == made_here
