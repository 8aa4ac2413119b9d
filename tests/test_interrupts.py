"""Interrupted work loses nothing: real SIGKILLs in the middle of `handouts build` and `handouts update`.

A killed build leaves only complete PDFs (the temporary `.<name>.*.tmp` files
it may leave behind are never taken for PDFs), and the next build finishes the
job. A killed update leaves each PO file either exactly as it was or exactly
as the update writes it, never in between.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoutkit.content.settings import Project

from .conftest import DATA, REPO

pytestmark = pytest.mark.slow  # real builds killed with SIGKILL

HANDOUTS = Path(sys.executable).with_name("handouts")
TEMP_FILE = re.compile(r"^\.(?P<name>.+)\.[^.]+\.tmp$")  # files.atomic_write's temporary files
COPIES = 2  # walking.yaml under 2 more ids: 3 handouts x 2 locales x 2 editions = 12 PDFs


def many_handouts_project(tmp_path: Path) -> Project:
    """The sample with only complete locales (en, es) and the walking handout under several ids."""
    root = tmp_path / "project"
    shutil.copytree(DATA / "sample", root)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "babel.cfg", root / "babel.cfg")
    shutil.rmtree(root / "locales" / "de")
    clinic = root / "handouts" / "clinic.yaml"
    clinic.write_text(re.sub(r"(?m)^locales: .*$", "locales: [en, es]", clinic.read_text("utf-8")), "utf-8")
    walking = (root / "handouts" / "walking.yaml").read_text("utf-8")
    for number in range(1, COPIES + 1):
        (root / "handouts" / f"walking-{number}.yaml").write_text(
            walking.replace("id: walking\n", f"id: walking-{number}\n"), "utf-8")
    return Project(root)


def start(project: Project, *args: str) -> subprocess.Popen:
    # A session of its own, so the kill reaches the build's worker processes too (and nothing else).
    return subprocess.Popen([str(HANDOUTS), *args], cwd=project.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.communicate(timeout=30)


def pdfs(project: Project) -> list[Path]:
    return sorted(p for p in project.build_dir.rglob("*.pdf")) if project.build_dir.exists() else []


def assert_complete_pdf(path: Path) -> None:
    from pypdf import PdfReader

    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), f"{path}: does not start with %PDF-"
    assert data.rstrip().endswith(b"%%EOF"), f"{path}: truncated, no %%EOF at the end"
    reader = PdfReader(path, strict=True)
    assert len(reader.pages) >= 1, path
    reader.pages[0].extract_text()


def assert_build_folder_is_sound(project: Project) -> None:
    """Every file that looks like an output is complete; leftovers are only recognisable temp files."""
    for path in project.build_dir.rglob("*"):
        if not path.is_file():
            continue
        temp = TEMP_FILE.match(path.name)
        if temp:
            assert not path.name.endswith((".pdf", ".html", ".json")), path
            continue
        assert not path.name.startswith("."), f"{path}: a hidden file that is not a temp file"
        if path.suffix == ".pdf":
            assert_complete_pdf(path)
        elif path.suffix == ".html":
            assert path.read_text("utf-8").rstrip().endswith("</html>"), f"{path}: truncated HTML"
    index = project.build_dir / "index.html"
    if index.exists():
        assert ".tmp" not in index.read_text("utf-8"), "the front-desk catalog links a temporary file"


def wait_for(condition, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the build ended before the kill: {process.communicate()}"
        assert time.monotonic() < deadline, "timed out waiting for the build"
        time.sleep(0.005)


def test_killed_build_leaves_only_complete_pdfs_and_the_next_build_finishes(tmp_path: Path) -> None:
    project = many_handouts_project(tmp_path)
    ids = ["walking", *(f"walking-{n}" for n in range(1, COPIES + 1))]
    expected = {project.build_dir / folder / locale / f"{handout_id}.pdf"
                for folder in ("pdf", "pdf-large") for locale in ("en", "es") for handout_id in ids}

    # Killed as soon as the first PDF appears (the other worker is mid-render or mid-write).
    build = start(project, "build", "-j", "2")
    wait_for(lambda: len(pdfs(project)) >= 1, build)
    kill(build)
    assert build.returncode == -signal.SIGKILL
    assert_build_folder_is_sound(project)
    first = len(pdfs(project))
    assert first < len(expected), "the build finished before it was killed: give it more work"

    # The next build completes and every PDF is whole.
    build = subprocess.run([str(HANDOUTS), "build", "-j", "2"], cwd=project.root, capture_output=True, check=False,
                           text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    assert "Traceback" not in build.stderr
    assert expected <= set(pdfs(project)), sorted(str(p) for p in expected - set(pdfs(project)))
    assert_build_folder_is_sound(project)
    for path in pdfs(project):
        assert_complete_pdf(path)

    # And a build after that has nothing left to do.
    again = subprocess.run([str(HANDOUTS), "build", "-j", "2"], cwd=project.root, capture_output=True, check=False,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert re.search(r": 0 rendered, \d+ unchanged", again.stdout), again.stdout


def test_killed_update_leaves_each_po_file_old_or_new(tmp_path: Path) -> None:
    """The sample's catalogs lack the templates' newest labels, so `update` rewrites them."""
    reference = many_handouts_project(tmp_path / "reference")
    project = many_handouts_project(tmp_path / "killed")
    po, pot = project.po_path("es"), project.pot_path
    old_po, old_pot = po.read_bytes(), pot.read_bytes()

    done = start(reference, "update")
    while done.poll() is None and reference.pot_path.read_bytes() == old_pot:
        time.sleep(0.001)
    began = time.monotonic()
    _, err = done.communicate(timeout=60)
    tail = time.monotonic() - began  # from the POT written to the end of the run
    assert done.returncode == 0, err
    new_po = reference.po_path("es").read_bytes()
    new_pot = reference.pot_path.read_bytes()
    assert new_po != old_po and new_pot != old_pot, "update changes nothing: the kill would prove nothing"

    def undated(data: bytes) -> bytes:
        # The POT's creation date is the time of the run (to the minute), and msgmerge copies it
        # into every PO file: a run in the next minute writes the same file with another date.
        return re.sub(rb'"POT-Creation-Date: [^"]*"', b"", data)

    def same_pot(data: bytes) -> bool:
        return data == old_pot or undated(data) == undated(new_pot)

    # Kills spread over the window in which the PO files are written, from "before any"
    # (0) to "after all" (1.5x the reference run's tail): each attempt asserts its own outcome.
    outcomes = {"old": 0, "new": 0}
    for attempt, fraction in enumerate([0.0, 0.25, 0.5, 0.75, 1.0, 1.5]):
        po.write_bytes(old_po)
        pot.write_bytes(old_pot)
        update = start(project, "update")
        # Once the POT is written, the PO files are next: kill somewhere in that window.
        while update.poll() is None and pot.read_bytes() == old_pot:
            time.sleep(0.001)
        time.sleep(fraction * tail)
        kill(update)
        data = po.read_bytes()
        assert data == old_po or undated(data) == undated(new_po), \
            f"attempt {attempt}: the PO file is half-written ({len(data)} bytes)"
        assert same_pot(pot.read_bytes()), f"attempt {attempt}: the POT is half-written"
        outcomes["old" if data == old_po else "new"] += 1
        for leftover in po.parent.iterdir():
            assert leftover == po or TEMP_FILE.match(leftover.name), leftover
    # A kill after the whole run leaves the new file: the window really was covered.
    assert outcomes["new"] >= 1, outcomes
