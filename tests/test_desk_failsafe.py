"""Fail safe, never blank: damaged fonts are refused by name, by the server and by the build.

A font with a zeroed byte range still loads: the PDFs made with it have a full
text layer (text checks pass) and blank words on paper. Fonts are pinned by
content in fonts.yaml, cached CJK subsets by the hash recorded when they were
made, and every warm-up render (and each worker's first PDF of a locale in the
build) is rasterised and must have ink where its words are.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoutkit.content.settings import Project
from tests.conftest import make_project


NOTO = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
HANDOUTS = str(Path(sys.executable).with_name("handouts"))


def zero(path: Path, offset: int, length: int) -> None:
    """Zero a byte range in place, as a bad disk block or a botched copy would."""
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(b"\0" * length)


def pin(project: Project, original: Path, copy: Path, digest: str) -> None:
    """Point fonts.yaml's entry for `original` at `copy`, pinned to `digest`."""
    fonts = project.templates_dir / "fonts.yaml"
    text, count = re.subn(rf"path: {re.escape(str(original))}\n(\s+)sha256: [0-9a-f]+",
                          f"path: {copy}\\n\\1sha256: {digest}", fonts.read_text())
    assert count == 1
    fonts.write_text(text)


def run(project: Project, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([HANDOUTS, *args], cwd=project.root, capture_output=True, text=True, timeout=timeout)


def serve_refuses(project: Project, tmp: Path) -> str:
    """Start `handouts serve`: it must exit non-zero without saying ready; returns what it said."""
    from tests.test_desk_server import free_port

    done = run(project, "serve", "--port", str(free_port()), "--workers", "1", timeout=240)
    assert done.returncode != 0, done.stderr
    assert "ready on" not in done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.fixture
def copied_font(tmp_path: Path) -> tuple[Project, Path]:
    """The sample project printing its Latin text with a copy of Noto Sans Regular, correctly pinned."""
    project = make_project(tmp_path)
    copy = tmp_path / "fonts" / NOTO.name
    copy.parent.mkdir()
    shutil.copy(NOTO, copy)
    pin(project, NOTO, copy, hashlib.sha256(copy.read_bytes()).hexdigest())
    return project, copy


def test_fonts_yaml_pins_every_file_by_content(repo: Project) -> None:
    from handoutkit.translation.fontplan import load_font_plan, verify_font_files

    plan = load_font_plan(repo)
    assert set(plan.pins()) == set(plan.files()) and all(len(d) == 64 for d in plan.pins().values())
    verify_font_files(plan)  # the installed fonts are the pinned ones


def test_a_pin_that_is_not_a_hash_is_refused_at_its_line(sample: Project) -> None:
    from handoutkit.errors import ProblemsError
    from handoutkit.translation.fontplan import load_font_plan

    fonts = sample.templates_dir / "fonts.yaml"
    text = fonts.read_text()
    line = text[:text.index("sha256:")].count("\n") + 1
    fonts.write_text(re.sub(r"sha256: [0-9a-f]+", "sha256: abc", text, count=1))
    with pytest.raises(ProblemsError) as caught:
        load_font_plan(sample)
    assert f"templates/fonts.yaml:{line}: expected the file's sha256 as 64 hex digits" in str(caught.value)


@pytest.mark.slow  # a build or a server refusing damaged fonts
def test_a_zeroed_range_in_a_font_stops_the_build_and_the_server_naming_the_file(
        copied_font, tmp_path: Path) -> None:
    project, copy = copied_font
    assert run(project, "build", "--locale", "es", "--handout", "walking").returncode == 0
    zero(copy, 40_000, 300_000)  # inside the glyph outlines
    done = run(project, "build", "--locale", "es", "--handout", "walking")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{copy}: the font file does not match its pin in templates/fonts.yaml" in done.stderr
    said = serve_refuses(project, tmp_path)
    assert f"{copy}: the font file does not match its pin" in said


@pytest.mark.slow  # a build or a server refusing damaged fonts
def test_a_damaged_font_that_passed_its_pin_is_caught_on_paper(copied_font, tmp_path: Path) -> None:
    """Defence in depth: even a damaged file pinned as it is (or damaged after the check) prints no
    blank handout: the build's first PDF and every warm-up render are rasterised."""
    project, copy = copied_font
    zero(copy, 40_000, 300_000)
    pin(project, copy, copy, hashlib.sha256(copy.read_bytes()).hexdigest())
    done = run(project, "build", "--locale", "es", "--handout", "walking")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert re.search(r"build/pdf/es/walking\.pdf: \d+ of the \d+ words on its first page print no ink", done.stderr)
    assert not (project.build_dir / "pdf" / "es" / "walking.pdf").exists()  # nothing half-good was written
    said = serve_refuses(project, tmp_path)
    assert re.search(r"the warm-up render in (en|es): \d+ of the \d+ words on its first page print no ink", said)


@pytest.mark.slow  # a build or a server refusing damaged fonts
def test_a_good_page_has_ink_on_every_word(built_sample: Project) -> None:
    from handoutkit.render.ink import ink_problem, page_ink

    pdf = (built_sample.build_dir / "pdf" / "es" / "walking.pdf").read_bytes()
    ink = page_ink(pdf)
    assert ink.words > 50 and ink.ok and ink_problem(pdf, "x") is None


@pytest.mark.slow  # a build or a server refusing damaged fonts
def test_a_damaged_cached_cjk_subset_is_refused_by_name(tmp_path: Path) -> None:
    """Spanish printed through a CJK collection (so it gets a cached subset, as Chinese does)."""
    project = make_project(tmp_path)
    fonts = project.templates_dir / "fonts.yaml"
    fonts.write_text(fonts.read_text().replace("  default: [Noto Sans]", "  default: [Noto Sans]\n"
                                               "  es: [Noto Sans CJK SC, Noto Sans]"))
    assert run(project, "build", "--locale", "es", "--handout", "walking").returncode == 0
    subsets = sorted((project.build_dir / "fonts").glob("*.otf"))
    assert subsets and all(Path(f"{s}.sha256").exists() for s in subsets)
    damaged = subsets[0]
    zero(damaged, damaged.stat().st_size // 3, 4096)
    done = run(project, "build", "--locale", "es", "--handout", "walking", "--force")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{damaged}: this cached font subset was damaged after it was made" in done.stderr
    assert f"{damaged}: this cached font subset was damaged" in serve_refuses(project, tmp_path)
    # The remedy the message gives works: deleted, it is made again from the pinned font.
    damaged.unlink()
    assert run(project, "build", "--locale", "es", "--handout", "walking").returncode == 0
    assert damaged.exists()


@pytest.mark.slow  # a build or a server refusing damaged fonts
def test_a_subset_without_a_record_is_made_again(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    fonts = project.templates_dir / "fonts.yaml"
    fonts.write_text(fonts.read_text().replace("  default: [Noto Sans]", "  default: [Noto Sans]\n"
                                               "  es: [Noto Sans CJK SC, Noto Sans]"))
    assert run(project, "build", "--locale", "es", "--handout", "walking").returncode == 0
    subset = sorted((project.build_dir / "fonts").glob("*.otf"))[0]
    Path(f"{subset}.sha256").unlink()
    before = time.time()
    subset.write_bytes(b"not a font")
    assert run(project, "build", "--locale", "es", "--handout", "walking", "--force").returncode == 0
    assert subset.stat().st_mtime >= before and subset.read_bytes()[:4] != b"not "
