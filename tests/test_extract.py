"""Extraction: the YAML extractor, the POT, and agreement with pybabel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from handoutkit.content.settings import Project
from handoutkit.translation.extract import extract


def messages(path: Path) -> dict:
    with path.open("rb") as handle:
        return {(m.context, m.id): m for m in read_po(handle) if m.id}


def test_pot_has_references_notes_and_template_labels(sample: Project) -> None:
    result = extract(sample)
    pot = messages(result.path)
    walking = pot[(None, "Walking helps **blood flow** and healing.")]
    assert walking.locations == [("handouts/walking.yaml", None)]  # file only: moving lines churns nothing
    assert walking.auto_comments == ["Keep the ** marks around the words that are bold."]
    assert (None, "Page %(page)s of %(pages)s") in pot
    assert pot[(None, "Questions? Call %(phone)s.")].locations[0][0] == "templates/handout.html"
    # The shared block is extracted once, from shared.yaml.
    call = pot[(None, "For other questions, call {clinic_phone}.")]
    assert call.locations == [("handouts/shared.yaml", None)]


def test_pot_is_not_rewritten_when_only_the_date_changes(sample: Project) -> None:
    extract(sample)  # the sample ships a POT of its own; the first run may rewrite it
    before = sample.pot_path.read_bytes()
    again = extract(sample)
    assert again.written is False
    assert sample.pot_path.read_bytes() == before


def test_pot_is_rewritten_when_the_english_changes(sample: Project) -> None:
    extract(sample)
    path = sample.handouts_dir / "walking.yaml"
    path.write_text(path.read_text().replace("Rest when you are tired.", "Rest when you feel tired."))
    assert extract(sample).written is True
    assert (None, "Rest when you feel tired.") in messages(sample.pot_path)


def test_pybabel_extract_finds_the_same_messages(sample: Project, tmp_path: Path) -> None:
    ours = extract(sample).path
    theirs = tmp_path / "pybabel.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(theirs), "."],
                   cwd=sample.root, check=True)
    ours_messages, their_messages = messages(ours), messages(theirs)
    assert ours_messages.keys() == their_messages.keys()
    for key, message in ours_messages.items():
        # pybabel writes line numbers; ours are file-only on purpose.
        assert sorted({f for f, _ in message.locations}) == \
            sorted({f for f, _ in their_messages[key].locations}), key
