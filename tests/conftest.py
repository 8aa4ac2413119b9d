"""Shared fixtures: a small sample project (tests/data/sample) using the real templates."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

from handoutkit.content.settings import Project

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def make_project(tmp_path: Path, source: Path = DATA / "sample") -> Project:
    """A copy of a project folder with the repository's templates and babel.cfg."""
    root = tmp_path / "project"
    shutil.copytree(source, root)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "babel.cfg", root / "babel.cfg")
    return Project(root)


@pytest.fixture
def sample(tmp_path: Path) -> Project:
    """The sample project: en source, es complete, de deliberately broken."""
    return make_project(tmp_path)


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The sample project after one build (shared by read-only tests)."""
    from handoutkit.outputs.build import build

    project = make_project(tmp_path_factory.mktemp("built"))
    build(project, locales=("en", "es"), workers=1, progress=lambda line: None)
    return project


@pytest.fixture(scope="session")
def repo() -> Project:
    return Project(REPO)


def copy_repo(tmp: Path) -> Project:
    """A copy of the repository's handouts, templates and locales (without build/)."""
    root = tmp / "repo"
    for name in ("handouts", "templates", "locales"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "babel.cfg", root / "babel.cfg")
    return Project(root)


@pytest.fixture(scope="session")
def built_repo(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One short handout (warning-signs) in every locale, built from a copy of the repository."""
    from handoutkit.outputs.build import build

    project = copy_repo(tmp_path_factory.mktemp("repo-built"))
    result = build(project, handout_ids=("warning-signs",), editions=("standard",), progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    return project


@pytest.fixture(scope="session")
def built_library(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Every handout in every locale, both editions, the packets, the language-assistance sheet and
    every handout's clinical review sheet (`handouts review-sheet`, build/review/), built once from a
    copy of the repository (several minutes on 2 cores; read-only for the tests)."""
    from handoutkit.content.handouts import load_content
    from handoutkit.outputs.build import build
    from handoutkit.outputs.review_sheet import write_review_sheet

    project = copy_repo(tmp_path_factory.mktemp("library-built"))
    # With the web edition's address set, so every PDF carries its QR code and the checks on the
    # whole library (page budget, Matterhorn, text layer) cover it.
    clinic = project.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text("utf-8") + "\nweb:\n  base_url: https://handouts.example.org/spine/\n", "utf-8")
    project = Project(project.root)
    # The review sheets are PDFs the project writes too: the accessibility and print gate covers them.
    # Written first: a review sheet writes build/fontconfig/fonts.conf for the English fonts alone,
    # and the build's own (with each locale's CJK subsets) must be the one left for the tests.
    for handout in load_content(project.handouts_dir, project.root).handouts:
        write_review_sheet(project, handout.id)
    result = build(project, progress=lambda line: None)
    assert result.ok, [str(p) for p in result.problems]
    return project


# CI gets the same hypothesis examples on every run (no flaky landings); a developer's
# run draws new ones, and any failure found is pinned with @example.
if os.environ.get("CI"):
    settings.register_profile("ci", derandomize=True)
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _fontconfig_stays_with_its_test():
    """A render in the test process points FONTCONFIG_FILE at its project's fonts; the next
    test must not inherit that file (it may be deleted with its tmp_path)."""
    before = os.environ.get("FONTCONFIG_FILE")
    yield
    if before is None:
        os.environ.pop("FONTCONFIG_FILE", None)
    else:
        os.environ["FONTCONFIG_FILE"] = before


# Debian's Chromium, driven by Playwright (its own browser download does not work here).
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is needed: `make test-deps` installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


def run_cli(project: Project, *args: str) -> subprocess.CompletedProcess:
    """`handouts ARGS` in this process (through cli.main), in the project's folder: the exit code and
    what it printed, as a subprocess would give them, without a second Python start-up per call."""
    import contextlib
    import io
    import os

    from handoutkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd, environ = os.getcwd(), dict(os.environ)
    os.chdir(project.root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help, a usage error
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)  # commands point FONTCONFIG_FILE at the project they ran in
    return subprocess.CompletedProcess(["handouts", *args], code, out.getvalue(), err.getvalue())
