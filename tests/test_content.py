"""Content stage: YAML to validated Handout objects, with file:line problems."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError

BAD_YAML = sorted((Path(__file__).parent / "data" / "bad-yaml").glob("*.yaml"))


def expectation(path: Path) -> tuple[int, str]:
    """Each bad fixture says what it expects in its first line: `# expect: LINE: message`."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
    match = re.match(r"# expect: (\d+): (.*)", first)
    assert match, f"{path.name} has no '# expect: LINE: message' first line"
    return int(match[1]), match[2]


def test_sample_loads_with_lines(sample: Project) -> None:
    content = load_content(sample.handouts_dir, sample.root)
    walking = content.get("walking")
    assert walking.title.value == "Walking after surgery"
    assert (walking.title.path, walking.title.line) == ("handouts/walking.yaml", 2)
    assert walking.revision.number == 2
    assert walking.sections[-1].shared_name == "call-us"
    paragraph = walking.sections[0].blocks[0]
    assert paragraph.text.note == "Keep the ** marks around the words that are bold."
    assert [b.kind for b in walking.sections[0].blocks] == ["paragraph", "bullets", "steps"]


@pytest.mark.parametrize("bad", BAD_YAML, ids=[p.stem for p in BAD_YAML])
def test_bad_yaml_is_reported_at_its_line(bad: Path, sample: Project) -> None:
    line, message = expectation(bad)
    shutil.copy(bad, sample.handouts_dir / bad.name)
    with pytest.raises(ProblemsError) as caught:
        load_content(sample.handouts_dir, sample.root)
    found = [str(p) for p in caught.value.problems]
    assert any(f.startswith(f"handouts/{bad.name}:{line}: {message}") for f in found), found


def test_every_problem_is_reported_at_once(sample: Project) -> None:
    bad = Path(__file__).parent / "data" / "bad-yaml"
    for name in ("unknown-key.yaml", "review-date.yaml", "not-utf8.yaml"):
        shutil.copy(bad / name, sample.handouts_dir / name)
    with pytest.raises(ProblemsError) as caught:
        load_content(sample.handouts_dir, sample.root)
    files = {p.path for p in caught.value.problems}
    assert files == {"handouts/unknown-key.yaml", "handouts/review-date.yaml", "handouts/not-utf8.yaml"}
    assert str(caught.value).endswith("3 problems found; nothing was written.")


def test_duplicate_id_names_both_files(sample: Project) -> None:
    text = (sample.handouts_dir / "walking.yaml").read_text()
    (sample.handouts_dir / "walking-copy.yaml").write_text(text)
    with pytest.raises(ProblemsError) as caught:
        load_content(sample.handouts_dir, sample.root)
    assert [str(p) for p in caught.value.problems] == [
        "handouts/walking.yaml:1: duplicate id 'walking'; already used by handouts/walking-copy.yaml"]


def test_repository_content_is_valid(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    assert {"miss-overview", "lumbar-discectomy"} <= {h.id for h in content.handouts}
