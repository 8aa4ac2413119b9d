"""Declared outputs: a new edition is one entry; library targets are written only when their inputs change."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoutkit.content.handouts import handout_texts, translate
from handoutkit.outputs.build import build
from handoutkit.outputs.editions import EDITIONS, Edition, register
from handoutkit.outputs.library import Made
from handoutkit.outputs.manifest import read_manifest
from handoutkit.outputs.targets import published_file

from .conftest import make_project

pytestmark = pytest.mark.slow  # renders PDFs


class PlainTextEdition(Edition):
    """A stub output: the handout's text, translated, as a .txt file. One class and one template."""

    name, folder, suffix, label = "text", "text", ".txt", "Plain text"

    def make(self, renderer, writer, handout, project) -> Made:
        text = renderer.env.get_template("handout.txt").render(
            title=translate(renderer.translations, handout.title),
            lines=[translate(renderer.translations, t) for t in handout_texts(handout)])
        return Made(text, text.encode("utf-8"), 0)


TEXT_TEMPLATE = "{{ title }}\n{% for line in lines %}\n{{ line }}{% endfor %}\n"


def test_a_new_edition_is_one_class_and_one_template(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Registered, it is built, hashed in the manifest, listed on the catalog page and served."""
    from handoutkit.desk.server import create_app

    from .test_frontdesk import Desk

    register(PlainTextEdition())
    request.addfinalizer(lambda: EDITIONS.pop("text"))  # the registry is the process's: leave it as found
    project = make_project(tmp_path)
    (project.templates_dir / "handout.txt").write_text(TEXT_TEMPLATE, "utf-8")

    result = build(project, locales=("en", "es"), workers=1, editions=("standard", "text"), progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    text_file = project.build_dir / "text" / "es" / "walking.txt"
    assert text_file in [o.product for o in result.outputs]
    assert text_file.read_text("utf-8").startswith("Caminar después de la cirugía"), text_file.read_text("utf-8")
    assert "text:es/walking" in read_manifest(project)
    again = build(project, locales=("en", "es"), workers=1, editions=("standard", "text"), progress=lambda line: None)
    assert not again.outputs, "an unchanged text file is not made again"
    catalog = (project.build_dir / "index.html").read_text("utf-8")
    assert 'href="text/es/walking.txt"' in catalog and ">Plain text</a>" in catalog

    response = Desk(create_app(project, state_dir=tmp_path / "var")).client.get("/text/es/walking.txt")
    assert response.status_code == 200 and response.get_data(as_text=True) == text_file.read_text("utf-8")


def test_the_server_serves_only_what_an_output_publishes(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    assert published_file(project, "pdf/es/walking.pdf") == project.build_dir / "pdf" / "es" / "walking.pdf"
    assert published_file(project, "pdf-large/es/walking.pdf") == project.build_dir / "pdf-large" / "es" / "walking.pdf"
    assert published_file(project, "web/es/walking.html") == project.build_dir / "web" / "es" / "walking.html"
    assert published_file(project, "pdf/language-assistance.pdf") == project.build_dir / "pdf" / "language-assistance.pdf"
    assert published_file(project, "index.html") == project.build_dir / "index.html"
    for hidden in ("manifest.json", "html/es/walking.html", "pdf/xx/walking.pdf", "pdf/es/../es/walking.pdf",
                   "fonts/x.otf", "pdf/es/Walking.pdf", "text/es/walking.txt"):
        assert published_file(project, hidden) is None, hidden


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
    from handoutkit.outputs.language_sheet import LANGUAGE_ASSISTANCE
    from handoutkit.outputs.manifest import common_inputs
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
