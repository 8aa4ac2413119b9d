"""Clinical checklists: the red flags every handout of a kind must print, or an explicit, signed waiver."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from babel.support import Translations

from handoutkit.content.approval import read_approval, record_approval
from handoutkit.content.checklists import checklist_problems, coverage, read_checklists
from handoutkit.content.handouts import load_content
from handoutkit.content.lint import lint
from handoutkit.content.settings import Project
from handoutkit.content.sources import read_sources, review_items
from handoutkit.errors import ProblemsError
from handoutkit.outputs.review_sheet import review_sheet_html
from handoutkit.render.renderer import make_renderer
from handoutkit.translation.catalogs import load_translations

from .conftest import copy_repo, run_cli
from .signing import approver

ANTERIOR = ("acdf", "cervical-disc-replacement")
LUMBAR = ("lumbar-discectomy", "lumbar-fusion-tlif", "lumbar-laminectomy")
EVERY = ("trouble-breathing", "severe-headache", "chest-pain", "swollen-calf", "fever", "incision-fluid",
         "after-hours")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Project:
    return copy_repo(tmp_path)


def misses(project: Project) -> list[str]:
    return [str(p) for p in lint(project, {}).problems if "misses checklist item" in p.message]


def test_every_repository_handout_covers_the_red_flags_of_its_kind(repo: Project) -> None:
    content = load_content(repo.handouts_dir, repo.root)
    checklists = read_checklists(repo.handouts_dir, repo.root)
    for handout in content.handouts:
        assert checklist_problems(handout, checklists) == [], handout.id
        covered = {c.item for c in coverage(handout, checklists) if c.texts}
        assert set(EVERY) <= covered, handout.id
        assert ("swallowing-neck-swelling" in covered) == (handout.id in ANTERIOR), handout.id
        assert ("bladder-bowel" in covered) == (handout.id in LUMBAR), handout.id


def test_the_red_flags_print_in_every_locale(repo: Project) -> None:
    """The English of each covering text, rendered in all 13 locales: translated, placeholders filled."""
    content = load_content(repo.handouts_dir, repo.root)
    checklists = read_checklists(repo.handouts_dir, repo.root)
    for locale in repo.settings.locales:
        translations = Translations() if locale == "en" else load_translations(repo, locale)
        renderer = make_renderer(repo, locale, translations, ("Noto Sans",), draft=True)
        for handout in content.handouts:
            handout_id = handout.id
            html = renderer.html(handout).replace("\u2060", "").replace("\u00a0", " ")  # word joiners, bound last words
            for entry in coverage(handout, checklists):
                printed = str(renderer.text(entry.texts[0])).replace("\u2060", "")
                assert printed in html, (locale, handout_id, entry.item)
                if locale != "en":
                    assert entry.texts[0].value not in printed, (locale, entry.item, "printed in English")
            assert "101 °F (38.3 °C)" in html, (locale, handout_id, "the clinic's fever threshold")
            if handout_id == "recovery-at-home":
                assert "10 lb (4.5 kg)" in html, (locale, "the clinic's lifting limit")


def test_removing_a_red_flag_fails_lint_naming_the_item_and_the_handout(repo_copy: Project) -> None:
    assert misses(repo_copy) == []
    acdf = repo_copy.handouts_dir / "acdf.yaml"
    text = acdf.read_text()
    acdf.write_text(text.replace("        covers: swallowing-neck-swelling\n", ""))
    [problem] = misses(repo_copy)
    assert problem.startswith("handouts/acdf.yaml:1: acdf misses checklist item 'swallowing-neck-swelling' "
                              "(anterior-cervical: ")
    result = run_cli(repo_copy, "lint")
    assert result.returncode == 1 and "acdf misses checklist item 'swallowing-neck-swelling'" in result.stdout

    shared = repo_copy.handouts_dir / "shared.yaml"
    shared.write_text(shared.read_text().replace("              covers: swollen-calf\n", ""))
    found = misses(repo_copy)
    assert len(found) == 11  # the calf in all 10 handouts (they share the warning signs), and the neck
    assert any(p.startswith("handouts/lumbar-laminectomy.yaml:1: lumbar-laminectomy misses checklist item "
                            "'swollen-calf'") for p in found)


def test_unknown_items_and_checklists_are_located(repo_copy: Project) -> None:
    acdf = repo_copy.handouts_dir / "acdf.yaml"
    acdf.write_text(acdf.read_text().replace("covers: swallowing-neck-swelling", "covers: swallowing")
                    .replace("checklists: [anterior-cervical]", "checklists: [anterior-cervical, thoracic]"))
    problems = [str(p) for p in lint(repo_copy, {}).errors]
    assert any(p.startswith("handouts/acdf.yaml:") and "covers unknown checklist item 'swallowing'" in p
               for p in problems)
    assert any(p.startswith("handouts/acdf.yaml:12: unknown checklist 'thoracic'") for p in problems)

    checklists = repo_copy.handouts_dir / "checklists.yaml"
    checklists.write_text(checklists.read_text().replace("lumbar: [bladder-bowel]", "lumbar: [bladder]"))
    with pytest.raises(ProblemsError) as caught:
        read_checklists(repo_copy.handouts_dir, repo_copy.root)
    assert "handouts/checklists.yaml:" in str(caught.value) and "unknown checklist item 'bladder'" in str(caught.value)


def without_neck_sign(project: Project) -> None:
    acdf = project.handouts_dir / "acdf.yaml"
    text = acdf.read_text()
    start = text.index("    warning_items:\n")
    end = text.index("  - heading: Questions to ask your surgeon")
    acdf.write_text(text[:start] + text[end:])


def test_only_an_explicit_signed_waiver_stands_for_a_missing_item(repo_copy: Project) -> None:
    without_neck_sign(repo_copy)
    key = str(approver(repo_copy))
    refused = run_cli(repo_copy, "approve", "acdf", "--by", "Jane Doe, MD", "--key", key, "--confirm-flagged")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "misses checklist item 'swallowing-neck-swelling'" in refused.stderr
    assert read_approval(repo_copy, "acdf") is None
    typo = run_cli(repo_copy, "approve", "acdf", "--by", "Jane Doe, MD", "--key", key, "--confirm-flagged",
               "--waive", "swallowing=not needed")
    assert typo.returncode == 1 and "--waive swallowing: not an item of its checklists" in typo.stderr
    no_reason = run_cli(repo_copy, "approve", "acdf", "--by", "Jane Doe, MD", "--key", key, "--waive",
                    "swallowing-neck-swelling")
    assert no_reason.returncode == 2 and "expected ITEM=REASON" in no_reason.stderr

    waived = run_cli(repo_copy, "approve", "acdf", "--by", "Jane Doe, MD", "--key", key, "--confirm-flagged",
                 "--waive", "swallowing-neck-swelling=Covered at the discharge talk, with a printed card")
    assert waived.returncode == 0, waived.stderr
    record = yaml.safe_load((repo_copy.handouts_dir / "approvals" / "acdf.yaml").read_text())
    assert record["waived"] == {"swallowing-neck-swelling": "Covered at the discharge talk, with a printed card"}
    assert misses(repo_copy) == []

    # The waiver is part of what was signed: edit it (or anything) and it no longer stands.
    path = repo_copy.handouts_dir / "approvals" / "acdf.yaml"
    path.write_text(path.read_text().replace("with a printed card", "and by phone"))
    [problem] = misses(repo_copy)
    assert "acdf misses checklist item 'swallowing-neck-swelling'" in problem


def test_the_review_sheet_prints_the_checklist_with_where_each_item_is_covered(repo_copy: Project) -> None:
    content = load_content(repo_copy.handouts_dir, repo_copy.root)
    handout = content.get("acdf")
    items = review_items(handout, read_sources(repo_copy.handouts_dir, repo_copy.root))
    html = review_sheet_html(repo_copy, handout, items, ("Noto Sans",))
    assert "<h2>Checklist</h2>" in html
    assert "swallowing-neck-swelling" in html and "Trouble swallowing, or new swelling in your neck" in html
    assert "handouts/acdf.yaml:" in html and "handouts/shared.yaml:" in html
    assert "or a fever of <bdi" in html and "101 °F (38.3 °C)</bdi> or higher" in html.replace("&#x2069;", "")
    assert ">MISSING<" not in html and ">WAIVED<" not in html

    without_neck_sign(repo_copy)
    handout = load_content(repo_copy.handouts_dir, repo_copy.root).get("acdf")
    html = review_sheet_html(repo_copy, handout, review_items(handout, read_sources(repo_copy.handouts_dir,
                                                                                     repo_copy.root)), ("Noto Sans",))
    assert ">MISSING</span>" in html
    record_approval(repo_copy, handout, "Jane Doe, MD", approver(repo_copy),
                    waivers={"swallowing-neck-swelling": "Covered at the discharge talk"})
    html = review_sheet_html(repo_copy, handout, review_items(handout, read_sources(repo_copy.handouts_dir,
                                                                                     repo_copy.root)), ("Noto Sans",))
    assert ">WAIVED</span>" in html and "Covered at the discharge talk" in html and ">MISSING</span>" not in html


def test_the_clinic_fills_in_its_measures_and_lint_names_a_missing_one(repo_copy: Project) -> None:
    renderer = make_renderer(repo_copy, "ar", load_translations(repo_copy, "ar"), ("Noto Sans",), draft=True)
    html = renderer.html(load_content(repo_copy.handouts_dir, repo_copy.root).get("recovery-at-home"))
    assert "10 lb (4.5 kg)" in html and "{lifting_limit}" not in html
    clinic = repo_copy.handouts_dir / "clinic.yaml"
    clinic.write_text(clinic.read_text().replace('  lifting_limit: "10 lb (4.5 kg)"\n', ""))
    result = run_cli(repo_copy, "lint")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "handouts/recovery-at-home.yaml:" in result.stdout
    assert "{lifting_limit} is not set in handouts/clinic.yaml" in result.stdout
