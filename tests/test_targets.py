"""Declared outputs: a new edition is one entry; library targets are written only when their inputs change."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoutkit.outputs.build import build
from handoutkit.outputs.manifest import read_manifest
from handoutkit.outputs.targets import EDITIONS, Edition, make_standard

from .conftest import make_project

pytestmark = pytest.mark.slow  # renders PDFs


def test_a_new_edition_is_one_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(EDITIONS, "copy", Edition("copy", "pdf-copy", "html-copy", make_standard))
    project = make_project(tmp_path)
    result = build(project, locales=("es",), workers=1, editions=("copy",), progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    assert [o.pdf for o in result.outputs] == [project.build_dir / "pdf-copy" / "es" / "walking.pdf"]
    assert (project.build_dir / "html-copy" / "es" / "walking.html").exists()
    assert "copy:es/walking" in read_manifest(project)
    again = build(project, locales=("es",), workers=1, editions=("copy",), progress=lambda line: None)
    assert not again.outputs and len(again.unchanged) == 1


def test_library_targets_are_written_once_and_again_only_on_change(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    lines: list[str] = []
    build(project, locales=None, workers=1, progress=lines.append)
    written = [line for line in lines if "language-assistance.pdf" in line or line.startswith("catalog:")]
    assert len(written) == 2, lines
    sheet = project.build_dir / "pdf" / "language-assistance.pdf"
    before = sheet.stat().st_mtime_ns
    lines.clear()
    build(project, workers=1, progress=lines.append)
    assert not [line for line in lines if "language-assistance" in line or line.startswith("catalog:")], lines
    assert sheet.stat().st_mtime_ns == before
    # The clinic's phone changes: the sheet prints it, so it is written again.
    clinic = project.handouts_dir / "clinic.yaml"
    phone = project.settings.clinic.phone
    clinic.write_text(clinic.read_text("utf-8").replace(phone, "(555) 010-0177"), "utf-8")
    lines.clear()
    build(project, workers=1, progress=lines.append)
    assert any("language-assistance.pdf" in line for line in lines), lines


def test_the_language_sheet_is_rendered_in_the_pool_beside_the_editions(tmp_path: Path) -> None:
    """Its HTML needs only the locales: the build submits it before the handouts, and writes
    the PDF the pool made (the same bytes as a render here) without rendering it again."""
    from concurrent.futures import ThreadPoolExecutor

    from handoutkit.content.handouts import load_content
    from handoutkit.outputs.build import (
        BuildResult,
        _init_worker,
        library,
        start_library_pdfs,
        write_library_targets,
    )
    from handoutkit.outputs.manifest import common_inputs
    from handoutkit.outputs.targets import LANGUAGE_ASSISTANCE
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import PdfWriter
    from handoutkit.translation.fontplan import load_font_plan
    from handoutkit.translation.prepared import prepare_locale

    project = make_project(tmp_path)
    content, plan = load_content(project.handouts_dir, project.root), load_font_plan(project)
    ready = {loc: prepare_locale(project, loc, content, plan) for loc in ("en", "es")}
    stacks = {loc: plan.stack(loc) for loc in ready}
    fontconfig = str(activate_fontconfig(project, plan).resolve())
    _init_worker(str(project.root))  # this process stands in for a worker
    submitted: list[str] = []

    class Pool(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            submitted.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    lib = library(project, content, ready, stacks, common_inputs(project, plan), {})
    with Pool(1) as pool:
        render_pdf = start_library_pdfs(lib, {}, True, pool, fontconfig)
        assert submitted == ["render_pdf_job"]  # started before any handout
        manifest: dict = {}
        write_library_targets(library(project, content, ready, stacks, lib.common, manifest, render_pdf),
                              manifest, BuildResult(), True, lambda line: None)
    assert submitted == ["render_pdf_job"]  # written from that render, not a second one
    sheet = LANGUAGE_ASSISTANCE.path(project).read_bytes()
    assert sheet == PdfWriter(project).pdf(LANGUAGE_ASSISTANCE.html(lib))[0]
    assert manifest[LANGUAGE_ASSISTANCE.key].pages == 1
    with Pool(1) as pool:
        start_library_pdfs(lib, manifest, True, pool, fontconfig)
    assert submitted == ["render_pdf_job"]  # recorded and present: not rendered again
    assert start_library_pdfs(lib, manifest, True, None, fontconfig) is None  # no pool: rendered here
