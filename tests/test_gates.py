"""The gates check what is printed (issue 20): `check`, the build and `stats` give one answer,
computed from the content as it is now, never from a committed POT nobody re-extracted."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.outputs.build import build, gate
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.stats import collect
from handoutkit.render.renderer import make_renderer
from handoutkit.translation.catalogs import load_catalog
from handoutkit.translation.extract import current_template, pot_problems
from handoutkit.translation.review import record_review

from .conftest import copy_repo, run_cli
from .signing import approver

def change_warning_sign(project: Project) -> None:
    """The issue's first scenario: one warning sign changed in the shared 911 box, no `update` run."""
    shared = project.handouts_dir / "shared.yaml"
    text = shared.read_text("utf-8")
    assert "            - text: A severe headache\n" in text
    shared.write_text(text.replace("            - text: A severe headache\n",
                                   "            - text: A severe headache or a stiff neck\n"), "utf-8")


def test_the_repository_pot_is_a_fresh_extraction(repo: Project) -> None:
    """`make test` fails when someone changed the English and did not run `handouts update`."""
    assert pot_problems(repo) == []


def test_an_out_of_date_pot_names_each_string_and_the_fix(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    change_warning_sign(project)
    found = [str(p) for p in pot_problems(project)]
    assert any("'A severe headache or a stiff neck'" in p and "run `handouts update`" in p for p in found), found
    assert any(p.startswith("locales/handouts.pot:") and "'A severe headache' is no longer in the content" in p
               for p in found), found


def test_the_extraction_is_cached_until_the_content_changes(sample: Project) -> None:
    first = current_template(sample)
    assert current_template(sample) is first  # extracted once per process
    (sample.handouts_dir / "walking.yaml").write_text(
        (sample.handouts_dir / "walking.yaml").read_text("utf-8").replace("Rest when you are tired.",
                                                                         "Rest when you feel tired."), "utf-8")
    ids = {m.id for m in current_template(sample)}
    assert "Rest when you feel tired." in ids and "Rest when you are tired." not in ids


@pytest.mark.slow
def test_a_stale_pot_cannot_put_english_into_the_spanish_911_box(tmp_path: Path) -> None:
    """The issue's first bullet, end to end: check, build and stats all refuse the stale Spanish."""
    project = copy_repo(tmp_path)
    record_review(project, "es", load_catalog(project, "es"), "Ana Ruiz, CMI", approver(project, "ana"))
    first = build(project, locales=("es",), handout_ids=("acdf",), editions=("standard", "web"), workers=1,
                  progress=lambda line: None)
    assert first.ok, first.problems
    pdf = EDITIONS["standard"].pdf(project, "es", "acdf")
    web = EDITIONS["web"].html(project, "es", "acdf")
    assert pdf.exists() and web.exists()

    change_warning_sign(project)
    check = run_cli(project, "check", "--locale", "es")
    assert check.returncode == 1
    assert ("handouts/shared.yaml:17: no translation in locales/es/LC_MESSAGES/handouts.po" in check.stdout
            and "'A severe headache or a stiff neck'; run `handouts update`" in check.stdout), check.stdout
    assert "es: NOT complete" in check.stderr

    result = build(project, locales=("es",), handout_ids=("acdf",), editions=("standard",), workers=1,
                   progress=lambda line: None)
    assert not result.ok and result.skipped_locales == ["es"]
    assert not pdf.exists(), "the old Spanish PDF is still published"
    assert not web.exists(), "the old Spanish web page is still published"
    assert pdf in result.withdrawn
    assert run_cli(project, "build", "--locale", "es", "--handout", "acdf", "-j", "1").returncode == 1

    es = next(s for s in collect(project).locales if s.locale == "es")
    assert es.review not in ("reviewed", "source") and es.percent < 100
    assert es.untranslated == 1 and es.words == 7  # "A severe headache or a stiff neck"
    # the new warning sign is open too, as `check` counts it
    assert f"{es.safety_unreviewed} safety-critical entries not back-translated" in check.stderr


def test_check_fails_where_the_build_refuses_a_locale_for_its_fonts(sample: Project) -> None:
    """One gate: a character no pinned font can draw passes no check the build would fail."""
    po = sample.po_path("es")
    po.write_text(po.read_text("utf-8").replace('msgstr "Cuándo llamar"', 'msgstr "Cuándo llamar 電"'), "utf-8")
    result = gate(sample, ("es",))
    [es] = result.locales
    assert not es.ok and any("no pinned font for locale es" in p.message for p in es.errors), es.errors
    check = run_cli(sample, "check", "--locale", "es")
    assert check.returncode == 1 and "no pinned font for locale es" in check.stdout, check.stdout
    assert "es: NOT complete" in check.stderr


def test_a_published_renderer_never_falls_back_to_english(sample: Project) -> None:
    """Were the checks and the renderer ever to disagree, the build fails at the YAML line."""
    content = load_content(sample.handouts_dir, sample.root)
    catalog = load_catalog(sample, "es")
    del catalog["Rest when you are tired."]
    from handoutkit.translation.catalogs import compile_translations

    renderer = make_renderer(sample, "es", compile_translations(catalog), ("Noto Sans",), draft=True, strict=True)
    with pytest.raises(HandoutError, match=r"^handouts/walking.yaml:14: no es translation of "
                                           r"'Rest when you are tired.'"):
        renderer.html(content.get("walking"))
    lenient = make_renderer(sample, "es", compile_translations(catalog), ("Noto Sans",), draft=True)
    # the preview's way (a short last word is bound to the one before by a no-break space in print)
    assert "Rest when you are tired." in lenient.html(content.get("walking")).replace("\u00a0", " ")


BROKEN = Path(__file__).parent / "data" / "broken-po"


@pytest.mark.parametrize("fixture", ["fuzzy", "missing-entry", "changed-number", "latin1-bytes", None])
def test_stats_agree_with_check_figure_by_figure(fixture: str | None, sample: Project) -> None:
    """The issue's last bullet: safety open, untranslated, errors, words left and the review state
    are the same numbers in `check --format json` and `stats --format json`."""
    import json

    if fixture:
        sample.po_path("es").write_bytes((BROKEN / f"{fixture}.po").read_bytes())
    check = run_cli(sample, "check", "--format", "json")
    stats = run_cli(sample, "stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    checked = {entry["locale"]: entry for entry in json.loads(check.stdout) if entry["locale"]}
    for row in json.loads(stats.stdout)["locales"]:
        entry = checked[row["locale"]]
        assert (row["total"], row["translated"], row["fuzzy"], row["untranslated"], row["errors"], row["words"],
                row["safety_unreviewed"], row["review"]) == \
               (entry["total"], entry["translated"], entry["fuzzy"], entry["untranslated"], entry["other_errors"],
                entry["words_left"], entry["safety_unreviewed"], entry["status"]), row["locale"]
        assert (row["review"] in ("incomplete", "broken")) == (not entry["complete"]), row
    es = checked["es"]
    if fixture == "fuzzy":  # one fuzzy entry: not printable, but not a broken catalog either
        assert (es["fuzzy"], es["other_errors"], es["status"]) == (1, 0, "incomplete")
        assert es["words_left"] == 5  # "Rest when you are tired."
    if fixture == "missing-entry":  # the entry the file lacks is still a word to translate
        assert (es["untranslated"], es["words_left"], es["other_errors"]) == (1, 5, 0)
    if fixture == "changed-number":  # an error, and its safety-critical entries still counted
        assert es["other_errors"] == 1 and es["safety_unreviewed"] == 8  # by rule (content.safety), pictures too
    if fixture == "latin1-bytes":  # unreadable: nothing can be counted, and neither command pretends
        assert es["status"] == "broken" and es["safety_unreviewed"] is None


# ---------------------------------------------------------------- a translation remembers its English


def change_english_and_update(project: Project) -> None:
    from handoutkit.translation.catalogs import update
    from handoutkit.translation.extract import extract

    walking = project.handouts_dir / "walking.yaml"
    walking.write_text(walking.read_text("utf-8").replace("Rest when you are tired.",
                                                          "Rest when you are tired or dizzy."), "utf-8")
    extract(project)
    update(project, ("es",))


def strip_fuzzy(project: Project) -> None:
    """What a PO editor does when a translator unticks "Needs work" without re-translating."""
    po = project.po_path("es")
    lines = [line for line in po.read_text("utf-8").splitlines()
             if line != "#, fuzzy" and not line.startswith("#| ")]
    po.write_text("\n".join(lines) + "\n", "utf-8")


def test_a_translation_whose_english_changed_is_caught_whatever_the_editor_did(sample: Project) -> None:
    from handoutkit.translation.checks import check_locale

    record_review(sample, "es", load_catalog(sample, "es"), "Ana Ruiz, CMI", approver(sample, "ana"))  # reviewed or not
    change_english_and_update(sample)
    assert "Rest when you are tired or dizzy." in sample.po_path("es").read_text("utf-8")
    strip_fuzzy(sample)
    assert "#, fuzzy" not in sample.po_path("es").read_text("utf-8")
    report = check_locale(sample, "es")
    assert not report.complete
    assert any("translated for older English 'Rest when you are tired.'" in p.message
               and "'Rest when you are tired or dizzy.'" in p.message for p in report.errors), report.errors
    check = run_cli(sample, "check", "--locale", "es")
    assert check.returncode == 1 and "confirm-translation" in check.stdout

    # Another update (or any number) keeps the record; the stale translation never reads as current.
    from handoutkit.translation.catalogs import update

    update(sample, ("es",))
    assert not check_locale(sample, "es").complete

    # A translator re-translates it: the check passes and the next update drops the record.
    po = sample.po_path("es")
    text = po.read_text("utf-8")
    index = text.index('msgid "Rest when you are tired or dizzy."')
    end = text.index("\n\n", index) if "\n\n" in text[index:] else len(text)
    entry = text[index:end]
    retranslated = entry.split("msgstr ")[0] + 'msgstr "Descanse cuando esté cansado o mareado."'
    po.write_text(text[:index] + retranslated + text[end:], "utf-8")
    assert check_locale(sample, "es").complete, check_locale(sample, "es").errors
    update(sample, ("es",))
    assert not (sample.locales_dir / "es" / "translated-from.yaml").exists()


def test_confirm_translation_clears_only_what_a_translator_confirmed(sample: Project) -> None:
    from handoutkit.translation.checks import check_locale

    change_english_and_update(sample)
    strip_fuzzy(sample)
    assert not check_locale(sample, "es").complete
    wrong = run_cli(sample, "confirm-translation", "es", "--english", "Stand up slowly.")
    assert wrong.returncode == 1 and "no translation waiting for confirmation" in wrong.stderr
    done = run_cli(sample, "confirm-translation", "es", "--english", "Rest when you are tired or dizzy.")
    assert done.returncode == 0, done.stderr
    assert "confirmed for 'Rest when you are tired or dizzy.'" in done.stdout
    assert check_locale(sample, "es").complete


def test_a_damaged_record_of_changed_english_is_a_located_error(sample: Project) -> None:
    from handoutkit.translation.checks import check_locale

    (sample.locales_dir / "es" / "translated-from.yaml").write_text("entries: {oops", "utf-8")
    report = check_locale(sample, "es")
    assert not report.complete
    assert any(str(p).startswith("locales/es/translated-from.yaml:1: unreadable") for p in report.errors), report.errors


# ---------------------------------------------------------------- the draft notice on every page


@pytest.mark.slow
def test_every_page_of_a_draft_translation_says_so_even_when_the_english_is_approved(tmp_path: Path) -> None:
    """The issue: with the English approved, a draft translation's notice was on page 1 only, and page 2
    (the warning signs) had none."""
    from handoutkit.content.approval import record_approval

    from .pdftext import normalise, pdf_text

    project = copy_repo(tmp_path)
    content = load_content(project.handouts_dir, project.root)
    record_approval(project, content.get("acdf"), "Jane Doe, MD", approver(project, "jane"))
    result = build(project, locales=("es",), handout_ids=("acdf",), editions=("standard",), workers=1,
                   progress=lambda line: None)
    assert result.ok, result.problems
    pdf = EDITIONS["standard"].pdf(project, "es", "acdf")
    pages = pdf_text(pdf).split("\f")[:-1]
    assert len(pages) >= 2
    notice = "Traducción preliminar: aún no revisada por un traductor médico calificado."
    for number, page in enumerate(pages, 1):
        assert notice in normalise(page), f"page {number} has no draft-translation notice"
        assert "BORRADOR — todavía no aprobado por un médico" not in normalise(page)  # the English is approved


# ---------------------------------------------------------------- the approval covers the page


def test_approve_lists_the_summary_and_key_points_flags_too(tmp_path: Path) -> None:
    project = copy_repo(tmp_path)
    result = run_cli(project, "approve", "acdf", "--by", "Jane Doe, MD", "--key", str(approver(project, "jane")))
    assert result.returncode == 1
    # The summary's `confirm:` (acdf.yaml:9 flags the summary that starts on line 6).
    assert "handouts/acdf.yaml:6: no source, please confirm: 'ACDF is surgery on a damaged disc" in result.stderr


def test_the_approval_covers_the_template_wording_a_patient_reads(sample: Project) -> None:
    from handoutkit.content.approval import (
        APPROVED,
        CHANGED,
        approval_state,
        read_approval,
        record_approval,
    )

    def state() -> str:
        handout = load_content(sample.handouts_dir, sample.root).get("walking")
        return approval_state(handout, sample.settings.clinic, read_approval(sample, "walking"), 2).status

    record_approval(sample, load_content(sample.handouts_dir, sample.root).get("walking"), "Jane Doe, MD", approver(sample, "jane"))
    assert state() == APPROVED
    template = sample.templates_dir / "handout.html"
    text = template.read_text("utf-8")
    assert "Questions? Call {{ phone }}." in text
    template.write_text(text.replace("Questions? Call {{ phone }}.", "Questions? Write to {{ phone }}."), "utf-8")
    assert state() == CHANGED, "the footer a patient reads changed, and the approval still held"


# ---------------------------------------------------------------- what is withdrawn disappears


@pytest.mark.slow  # the desk app starts a render worker process
def test_the_server_does_not_serve_a_withdrawn_language_left_on_disk(sample: Project, tmp_path: Path) -> None:
    """de does not pass its checks: its old PDF and web page on disk get 404 with the reason, not 200."""
    from handoutkit.desk.server import create_app

    for path in (EDITIONS["standard"].pdf(sample, "de", "walking"), EDITIONS["web"].html(sample, "de", "walking"),
                 EDITIONS["standard"].pdf(sample, "es", "walking")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7 an old file")
    client = create_app(sample, state_dir=tmp_path / "var", workers=1).test_client()
    response = client.get("/pdf/de/walking.pdf")
    assert response.status_code == 404
    assert "This language cannot be printed now" in response.get_data(as_text=True)
    assert "untranslated" in response.get_data(as_text=True)  # the reason, from its checks
    assert client.get("/web/de/walking.html").status_code == 404
    assert client.get("/pdf/es/walking.pdf").status_code == 200  # a language that passes still serves


@pytest.mark.slow  # builds the sample and renders its PDFs
def test_the_language_menu_offers_only_languages_that_print(built_sample: Project) -> None:
    from handoutkit.outputs.catalog_page import render_catalog

    content = load_content(built_sample.handouts_dir, built_sample.root)
    page = render_catalog(built_sample, content)  # not written: the fixture is shared
    assert '<option value="es"' in page and '<option value="en"' in page
    assert '<option value="de"' not in page, "de has no PDF and does not pass its checks"


def test_the_agency_gets_the_strings_the_content_prints_now(sample: Project) -> None:
    """An XLIFF export from a stale catalog left out the changed string; now it goes out to translate,
    and a translation made for the old English goes out as needing review."""
    from translate.storage import factory

    from handoutkit.translation.exchange import export_xliff

    walking = sample.handouts_dir / "walking.yaml"
    walking.write_text(walking.read_text("utf-8").replace("Stand up slowly.", "Stand up slowly and carefully."),
                       "utf-8")  # no `update`: the PO file does not have it
    store = factory.getobject(str(export_xliff(sample, "es").path))
    units = {u.source: u for u in store.units if not u.isheader()}
    assert "Stand up slowly and carefully." in units and not units["Stand up slowly and carefully."].target
    assert "Stand up slowly." not in units

    change_english_and_update(sample)
    strip_fuzzy(sample)
    store = factory.getobject(str(export_xliff(sample, "es").path))
    unit = next(u for u in store.units if u.source == "Rest when you are tired or dizzy.")
    assert unit.target and unit.isfuzzy(), "a translation made for other English went out as final"
