"""Reused stylesheets (render/stylesheets.py) and stopped first layouts (render/pagelimit.py) change
no output and no copyfitting decision.

The build's workers parse templates/print.css once instead of once per layout. The
whole-library test renders every handout of every locale in both PDF editions again
the way bare WeasyPrint does (every stylesheet parsed for every layout, every first layout
laid out whole) and compares
each copyfitting decision (the HTML kept, the page count) and each PDF's bytes with
what the build wrote.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest

from handoutkit.content.approval import read_approvals
from handoutkit.content.handouts import load_content
from handoutkit.errors import HandoutError
from handoutkit.outputs.build import printable_chars
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.manifest import key as manifest_key
from handoutkit.outputs.manifest import read_manifest
from handoutkit.outputs.web import web_url
from handoutkit.render.fonts import subset_plan
from handoutkit.render.renderer import PdfWriter, make_renderer
from handoutkit.translation.catalogs import translations_from
from handoutkit.translation.fontplan import load_font_plan
from handoutkit.translation.prepared import prepare_locale


@pytest.mark.slow  # renders PDFs (and builds the sample)
def test_a_worker_parses_the_print_stylesheet_once(built_sample) -> None:
    html = (built_sample.build_dir / "html" / "es").glob("*.html")
    documents = [path.read_text("utf-8") for path in sorted(html)]
    writer = PdfWriter(built_sample)
    for document in documents * 2:
        writer.layout(document)
    # print.css and each document's own <style>: parsed the first time, reused after.
    assert writer.stylesheets.hits >= len(documents) * 2 - 1
    assert writer.stylesheets.misses <= len(documents) + 1
    bare = PdfWriter(built_sample, reuse_stylesheets=False)
    assert bare.stylesheets is None
    assert [writer.pdf(d)[0] for d in documents] == [bare.pdf(d)[0] for d in documents]


@pytest.mark.slow  # renders PDFs (and builds the sample)
def test_a_stylesheet_that_warns_warns_every_time(built_sample) -> None:
    """The build fails on WeasyPrint's warnings: a reused sheet must not fall silent."""
    document = next((built_sample.build_dir / "html" / "es").glob("*.html")).read_text("utf-8")
    broken = document.replace("</head>", "<style>p { colour: red }</style></head>", 1)
    writer = PdfWriter(built_sample)
    for _ in range(2):
        with pytest.raises(HandoutError, match="colour"):
            writer.layout(broken)


@pytest.mark.slow  # renders PDFs (and builds the sample)
def test_page_rules_and_counter_styles_carry_over_to_each_document(built_sample) -> None:
    """What parsing a sheet adds to its document (@page, @counter-style) is added again on reuse."""
    document = next((built_sample.build_dir / "html" / "es").glob("*.html")).read_text("utf-8")
    styled = document.replace("</head>", "<style>@counter-style thumbs { system: cyclic; symbols: '*'; suffix: ' '; }"
                              "li { list-style-type: thumbs } @page { margin-top: 7in }</style></head>", 1)
    writer, bare = PdfWriter(built_sample), PdfWriter(built_sample, reuse_stylesheets=False)
    first, second = writer.layout(styled), writer.layout(styled)
    assert writer.stylesheets.hits >= 2
    plain = bare.layout(styled)
    assert len(first.pages) == len(second.pages) == len(plain.pages) > len(writer.layout(document).pages)
    assert writer.write(second) == bare.write(plain)


@pytest.mark.slow
def test_every_decision_and_pdf_of_the_library_is_the_same_as_bare_weasyprints(built_library) -> None:
    project = built_library
    content = load_content(project.handouts_dir, project.root)
    plan = load_font_plan(project)
    approvals = read_approvals(project, content)
    manifest = read_manifest(project)
    os.environ["FONTCONFIG_FILE"] = str(project.build_dir / "fontconfig" / "fonts.conf")  # the build's fonts
    # Bare WeasyPrint's way: every stylesheet parsed for every layout, every first layout laid out
    # whole (the build stops a first layout once it certainly overflows, render/pagelimit.py).
    writer = PdfWriter(project, reuse_stylesheets=False, stop_early=False)

    checked, differences = 0, []
    for locale in project.settings.locales:
        prepared = prepare_locale(project, locale, content, plan)
        stack, _, _ = subset_plan(project, plan, locale,
                                  partial(printable_chars, project, locale, prepared.catalog, content))
        renderer = make_renderer(project, locale, translations_from(prepared.mo), stack, prepared.draft,
                                 approvals, partial(web_url, project.settings))
        for handout in content.handouts:
            for name in ("standard", "large"):
                edition = EDITIONS[name]
                made = edition.make(renderer, writer, handout, project)
                built_html = edition.html(project, locale, handout.id).read_text("utf-8")
                built_pdf = Path(edition.pdf(project, locale, handout.id)).read_bytes()
                pages = manifest[manifest_key(locale, handout.id, name)].pages
                if (made.html, made.pages, made.data) != (built_html, pages, built_pdf):
                    differences.append(f"{name}/{locale}/{handout.id}: html {made.html == built_html}, "
                                       f"pages {made.pages} vs {pages}, pdf {made.data == built_pdf}")
                checked += 1
    assert checked == len(project.settings.locales) * len(content.handouts) * 2
    assert differences == []
