"""Every clinical statement traceable: sources.yaml, citations checked by lint, the review sheet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape

from handoutkit.content.handouts import load_content
from handoutkit.content.lint import lint
from handoutkit.content.settings import Project
from handoutkit.content.sources import handout_statements, read_sources, review_items
from handoutkit.errors import ProblemsError
from handoutkit.outputs.review_sheet import review_sheet_html, write_review_sheet


SOURCES = """sources:
  - id: article
    title: A patient article
    publisher: A publisher
    date: not stated
    sections:
      recovery: What Recovery Looks Like
"""


def citations(project: Project) -> list[str]:
    return [str(p) for p in lint(project, {}).errors if "source" in p.message]


def with_walking(sample: Project, old: str, new: str) -> None:
    path = sample.handouts_dir / "walking.yaml"
    path.write_text(path.read_text().replace(old, new))


def test_lint_verifies_every_citation(sample: Project) -> None:
    (sample.handouts_dir / "sources.yaml").write_text(SOURCES)
    found = citations(sample)
    assert "handouts/walking.yaml:10: statement without a source: cite one as `source: <id>#<section>` " \
           "or flag it `confirm: true`: 'Walking helps **blood flow** and healing.'" in found
    with_walking(sample, '          note: "Keep the ** marks around the words that are bold."\n',
                 '          note: "Keep the ** marks around the words that are bold."\n          source: article#walking\n')
    assert any(p.startswith("handouts/walking.yaml:10: unknown section 'walking' of source 'article'; it has: recovery")
               for p in citations(sample))
    with_walking(sample, "source: article#walking", "source: book#recovery")
    assert any("handouts/walking.yaml:10: unknown source 'book'" in p for p in citations(sample))
    with_walking(sample, "source: book#recovery", "source: article#recovery")
    assert not any(":10:" in p for p in citations(sample))
    with_walking(sample, "- Rest when you are tired.", "- {text: Rest when you are tired., confirm: true}")
    assert not any("Rest when you are tired" in p for p in citations(sample))


def test_a_section_cites_once_for_its_statements_and_bad_marks_are_refused(sample: Project) -> None:
    (sample.handouts_dir / "sources.yaml").write_text(SOURCES)
    with_walking(sample, "  - heading: Why walk\n", "  - heading: Why walk\n    source: article#recovery\n")
    handout = load_content(sample.handouts_dir, sample.root).get("walking")
    own = [t for t in handout_statements(handout) if t.path == "handouts/walking.yaml"]
    assert [t.source for t in own[1:]] == ["article#recovery"] * (len(own) - 1)
    with_walking(sample, "    source: article#recovery\n", "    source: article#recovery\n    confirm: yes\n")
    with pytest.raises(ProblemsError, match=r"walking.yaml:\d+: expected either a source or confirm"):
        load_content(sample.handouts_dir, sample.root)
    with_walking(sample, "    confirm: yes\n", "")
    with_walking(sample, "source: article#recovery", "source: recovery")
    with pytest.raises(ProblemsError, match=r"walking.yaml:8: expected the source of a section as <source id>#<section>"):
        load_content(sample.handouts_dir, sample.root)


@pytest.mark.slow  # the console script in its own process
def test_a_broken_sources_file_is_a_clean_error(sample: Project) -> None:
    (sample.handouts_dir / "sources.yaml").write_text(SOURCES.replace("    publisher: A publisher\n", ""))
    with pytest.raises(ProblemsError, match=r"handouts/sources.yaml:2: missing required key 'publisher'"):
        read_sources(sample.handouts_dir, sample.root)
    result = subprocess.run([str(Path(sys.executable).with_name("handouts")), "lint"], cwd=sample.root,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr


# ---------------------------------------------------------------- the repository


def test_repository_sources_start_with_the_article(repo: Project) -> None:
    sources = read_sources(repo.handouts_dir, repo.root)
    first = next(iter(sources.values()))
    assert first.id == "article" and "OLSS" in first.publisher
    assert {"recovery", "risks", "how-it-works", "candidates"} <= set(first.sections)


def test_every_repository_statement_cites_or_is_flagged(repo: Project) -> None:
    assert [p for p in lint(repo, {}).errors if "source" in p.message] == []


def test_statements_beyond_the_article_are_flagged_or_gone(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    sources = read_sources(repo.handouts_dir, repo.root)
    for front_of_neck in ("acdf", "cervical-disc-replacement"):
        texts = [t.value for t in handout_statements(content.get(front_of_neck))]
        assert not any("tubular retractor" in t for t in texts), front_of_neck
    for fusion in ("acdf", "lumbar-fusion-tlif"):
        [awake] = [t for t in handout_statements(content.get(fusion)) if "numbing medicine" in t.value]
        assert awake.confirm and awake.source is None, fusion
    # The added warning sign goes the more urgent way and is flagged.
    warning = next(b for s in content.shared.values() for b in s.blocks if b.callout == "warning")
    [weakness] = [t for t in warning.items if t.value.startswith("New weakness or numbness")]
    assert weakness.confirm and weakness.safety
    items = {i.text.value: i for i in review_items(content.get("acdf"), sources)}
    assert items["A severe headache"].citation == "article, section: Understanding Risks and Setting Realistic Expectations"
    # The red flags the clinical checklist added (issue 22) are standard guidance the article lacks: flagged.
    for added in ("Trouble breathing or chest pain", "Pain and swelling in one calf (the back of your lower leg)",
                  "Trouble swallowing, or new swelling in your neck"):
        assert items[added].citation is None and "not in the source" in items[added].reason, added


@pytest.mark.slow  # renders the review sheet PDF
def test_review_sheet_lists_every_statement_with_its_citation_or_a_flag(repo: Project, tmp_path: Path) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    acdf = content.get("acdf")
    items = review_items(acdf, read_sources(repo.handouts_dir, repo.root))
    assert len(items) == len(handout_statements(acdf)) >= 30
    flagged = [i for i in items if i.citation is None]
    assert flagged and all(i.reason for i in flagged)

    html = review_sheet_html(repo, acdf, items, ("Noto Sans",))
    rows = html.split("<h2>Checklist</h2>")[0].split("<tr>")[2:]  # the statements, after the header row
    assert len(rows) == len(items)
    for row, item in zip(rows, items):
        assert item.where in row
        assert (item.citation in row) if item.citation else ("NO SOURCE: please confirm" in row
                                                             and str(escape(item.reason)) in row)
    assert "(555) 010-0142" in html and "{clinic_phone}" not in html, "the sheet shows the text as printed"

    sheet = write_review_sheet(repo, "acdf", tmp_path / "acdf.pdf")
    assert sheet.statements == len(items) and sheet.unsourced == len(flagged)
    text = subprocess.run(["pdftotext", str(sheet.path), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("NO SOURCE: please confirm") == len(flagged)
    assert "Not approved by a clinician" in text and "Signature" in text
    assert text.count("Correct") >= len(items)


@pytest.mark.slow  # renders the review sheet PDF
def test_review_sheet_command(repo: Project, tmp_path: Path) -> None:
    handouts = Path(sys.executable).with_name("handouts")
    out = tmp_path / "sheet.pdf"
    done = subprocess.run([str(handouts), "-C", str(repo.root), "review-sheet", "warning-signs", "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and out.exists() and "without a source" in done.stdout, done.stderr
    unknown = subprocess.run([str(handouts), "-C", str(repo.root), "review-sheet", "nope"],
                             capture_output=True, text=True)
    assert unknown.returncode == 1 and "no handout with id 'nope'" in unknown.stderr


@pytest.mark.slow  # renders the review sheet PDF
def test_review_sheet_shows_the_codes_the_approval_covers(tmp_path: Path) -> None:
    """The approval fingerprint covers a handout's codes, so the clinician must see them to approve them."""
    from .conftest import DATA, make_project

    project = make_project(tmp_path)
    walking = project.handouts_dir / "walking.yaml"
    walking.write_text(walking.read_text("utf-8") + (DATA / "codes" / "codes.yaml").read_text("utf-8"), "utf-8")
    content = load_content(project.handouts_dir, project.root)
    handout = content.get("walking")
    html = review_sheet_html(project, handout, review_items(handout, read_sources(project.handouts_dir, project.root)),
                             ("Noto Sans",))
    for code in handout.codes:
        assert f"<td>{code.system}</td><td>{code.code}</td>" in html


@pytest.mark.slow  # renders the review sheet PDF
def test_a_review_sheet_leaves_the_librarys_fontconfig_alone(tmp_path: Path) -> None:
    """The review sheet sees the English fonts only; it wrote them over the build's `fonts.conf`,
    which names the CJK subsets a running server's replaced worker or the next packet reads."""
    from .conftest import make_project

    project = make_project(tmp_path)
    library_conf = project.build_dir / "fontconfig" / "fonts.conf"
    library_conf.parent.mkdir(parents=True)
    library_conf.write_text("<!-- the build's, with its subsets -->")
    sheet = write_review_sheet(project, "walking", tmp_path / "walking.pdf")
    assert sheet.path.exists()
    assert library_conf.read_text() == "<!-- the build's, with its subsets -->"
    assert (project.build_dir / "fontconfig" / "review-sheet.conf").exists()
