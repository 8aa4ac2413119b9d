"""The `handouts` command: every --help, exit codes, no tracebacks for user mistakes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handoutkit.cli import make_parser
from handoutkit.content.settings import Project

from .conftest import run_cli

COMMANDS = sorted(make_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001


def run(project: Project, *args: str) -> subprocess.CompletedProcess:
    return run_cli(project, *args)


def test_the_installed_command_runs_and_exits_like_main(sample: Project) -> None:
    """One real process: the console script is installed and reports the same exit code."""
    handouts = Path(sys.executable).with_name("handouts")
    real = subprocess.run([str(handouts), "check"], cwd=sample.root, capture_output=True, text=True)
    assert real.returncode == run(sample, "check").returncode == 1
    assert "Traceback" not in real.stderr


def test_main_help(sample: Project) -> None:
    result = run(sample, "--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, sample: Project) -> None:
    result = run(sample, command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example: handouts" in result.stdout


def test_check_exits_1_and_names_file_and_line(sample: Project) -> None:
    result = run(sample, "check")
    assert result.returncode == 1
    assert "locales/de/LC_MESSAGES/handouts.po:20: untranslated: 'When to call'" in result.stdout
    assert "es: complete" in result.stderr


def test_check_of_a_complete_locale_exits_0(sample: Project) -> None:
    assert run(sample, "check", "--locale", "es").returncode == 0


def test_bad_yaml_gives_a_clean_error_and_writes_nothing(sample: Project) -> None:
    bad = Path(__file__).parent / "data" / "bad-yaml" / "unknown-key.yaml"
    shutil.copy(bad, sample.handouts_dir / bad.name)
    pot_before = sample.pot_path.read_bytes()
    result = run(sample, "build")
    assert result.returncode == 1
    assert "handouts/unknown-key.yaml:4: unknown key 'subtitle'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (sample.root / "build" / "pdf").exists()
    assert run(sample, "extract").returncode == 1
    assert sample.pot_path.read_bytes() == pot_before


def test_outside_a_project_is_a_clean_error(tmp_path: Path) -> None:
    result = run(Project(tmp_path), "check")  # a folder with no handouts/ or clinic.yaml
    assert result.returncode == 1
    assert "not inside a handout project" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_locale_or_handout_is_a_clean_error(sample: Project) -> None:
    result = run(sample, "build", "--locale", "fr", "--handout", "nope")
    assert result.returncode == 1
    assert "locale 'fr' is not published" in result.stderr
    assert "no handout with id 'nope'" in result.stderr
