"""QR codes on the PDFs: only with web.base_url, decoding (zbar) to the handout's web page in the same language."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.outputs.build import build, html_path, pdf_path
from handoutkit.outputs.web import web_url
from handoutkit.render.qr import qr_code

from .conftest import make_project
from .pdftext import pdf_text

BASE = "https://handouts.example.org/spine/"


def with_base_url(project: Project, url: str) -> Project:
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + f"web:\n  base_url: {url}\n", "utf-8")
    return Project(project.root)  # settings are cached per Project


def test_base_url_is_unset_by_default(sample: Project) -> None:
    assert sample.settings.web_base_url is None
    assert web_url(sample.settings, "es", "walking") is None


def test_base_url_gets_its_trailing_slash(sample: Project) -> None:
    project = with_base_url(sample, "https://handouts.example.org/spine")
    assert web_url(project.settings, "es", "walking") == "https://handouts.example.org/spine/es/walking.html"


@pytest.mark.parametrize("bad", ["handouts.example.org/spine/", "ftp://example.org/", "https://example.org/?a=1",
                                 "https://"])
def test_a_bad_base_url_is_a_clean_error(sample: Project, bad: str) -> None:
    project = with_base_url(sample, bad)
    with pytest.raises(ProblemsError) as error:
        project.settings
    line = len((project.handouts_dir / "clinic.yaml").read_text("utf-8").splitlines())
    assert str(error.value.problems[0]).startswith(f"handouts/clinic.yaml:{line}: expected web.base_url")


def test_the_code_is_svg_made_here() -> None:
    code = qr_code(BASE + "es/walking.html", "Léalo en línea:")
    assert code.svg.startswith('<svg role="img"') and "http" not in code.svg.split(">", 1)[0]
    assert code.printed == "handouts.example.org/spine/es/walking.html"


@pytest.mark.slow  # renders PDFs
def test_the_code_has_alternative_text_in_the_documents_language(sample: Project) -> None:
    """It was aria-hidden (an artifact): a screen reader heard nothing of what it opens. Now a
    Figure whose /Alt says, in the handout's language, where it leads; the printed address
    under it is a link."""
    import pikepdf

    from handoutkit.translation.catalogs import load_catalog
    from tests.test_matterhorn import Tree

    project = with_base_url(sample, BASE)
    build(project, locales=("es",), workers=1, progress=lambda line: None)
    with pikepdf.open(pdf_path(project, "es", "walking")) as pdf:
        tree = Tree(pdf)
        alts = [str(e.Alt) for e, _ in tree.elements if tree.standard_type(e) == "Figure"]
        # The printed address is a link to the same page (was plain text).
        uris = [str(a.A.URI) for page in pdf.pages for a in page.get("/Annots", []) if "/A" in a]
        assert uris and set(uris) == {BASE + "es/walking.html"}
    message = load_catalog(project, "es").get("Read it online:")
    label = message.string if message and message.string else "Read it online:"  # as the caption prints it
    assert alts == [f"{label} handouts.example.org/spine/es/walking.html"]


def decode(pdf: Path, tmp_path: Path) -> list[str]:
    """Every QR code zbar finds on the PDF's pages rendered at 150 dpi."""
    found = []
    pages = Path(tempfile.mkdtemp(dir=tmp_path))  # a folder per PDF: no page of an earlier one is read
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(pages / "page")], check=True)
    for png in sorted(pages.glob("page-*.png")):
        result = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        found += result.stdout.split()
    return found


@pytest.mark.slow  # renders PDFs
def test_each_pdf_carries_a_code_to_its_own_page(tmp_path: Path) -> None:
    assert shutil.which("zbarimg"), "zbar-tools is needed: `make test-deps` installs it"
    project = with_base_url(make_project(tmp_path), BASE)
    result = build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    assert all(p.path.startswith("locales/de/") for p in result.problems)
    for locale in ("en", "es"):
        for edition in ("standard", "large"):
            pdf = pdf_path(project, locale, "walking", edition)
            assert decode(pdf, tmp_path) == [f"{BASE}{locale}/walking.html"], (locale, edition)
            assert f"handouts.example.org/spine/{locale}/walking.html" in pdf_text(pdf)
        # The web page itself carries no code.
        assert "qr-code" not in (project.build_dir / "web" / locale / "walking.html").read_text("utf-8")


@pytest.mark.slow  # renders PDFs
def test_no_code_without_a_base_url(built_sample: Project, tmp_path: Path) -> None:
    for locale in ("en", "es"):
        assert "qr-code" not in html_path(built_sample, locale, "walking").read_text("utf-8")
        assert decode(pdf_path(built_sample, locale, "walking"), tmp_path) == []


@pytest.mark.slow  # reads the whole built library
def test_every_locale_and_edition_decodes_to_its_own_page(built_library: Project, tmp_path: Path) -> None:
    """The library is built with web.base_url set: in every locale, standard and large print, the code
    on the PDF is exactly the address of that handout's web page in the same language."""
    base = built_library.settings.web_base_url
    for locale in built_library.settings.locales:
        for edition in ("standard", "large"):
            pdf = pdf_path(built_library, locale, "warning-signs", edition)
            assert decode(pdf, tmp_path) == [f"{base}{locale}/warning-signs.html"], (locale, edition)
