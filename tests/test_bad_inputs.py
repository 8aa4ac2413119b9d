"""A corpus of malformed inputs: every one is a clean `file:line: message` and exit status 1, never a traceback.

Fixtures live in tests/data/bad/, named after their fault. The first line of
each says what it expects:

    # expect: LINE: message fragment      the problem, at exactly that line
    # expect: FIRST-LAST: fragment        at a line in that range (header faults)
    # expect: LINE: *                     any problem at that line (no message is prescribed)
    # expect: msgfmt                      accepted by GNU msgfmt --check: handoutkit agrees with it

YAML fixtures go into the sample's handouts/ and run through `handouts
extract` or `handouts build`; PO fixtures replace the sample's es catalog and
run through `handouts check --locale es`. A few inputs that cannot carry a
readable first line (UTF-16, a file over the size limit) are in TABLE.

Then hypothesis throws random bytes and mutations of real files at the YAML
and PO readers: nothing may escape but HandoutError.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from handoutkit.cli import main
from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import MAX_YAML_BYTES, read_yaml
from handoutkit.errors import HandoutError
from handoutkit.translation.catalogs import read_catalog

from .conftest import DATA, make_project

BAD = DATA / "bad"
HANDOUTS = Path(sys.executable).with_name("handouts")
ES_PO = "locales/es/LC_MESSAGES/handouts.po"
ANY_LINE = range(1, 10**9)


@dataclass(frozen=True)
class Expect:
    lines: range | None  # None: do what GNU msgfmt --check does
    fragment: str | None  # None: any message


def huge_yaml() -> bytes:
    """A well-formed handout just over the size limit (generated, not committed)."""
    item = "      - Walk a little further each day, and rest when you are tired.\n"
    head = ("id: huge\ntitle: A title\nsummary: A summary.\nrevision: {number: 1}\n"
            "sections:\n  - heading: A heading\n    blocks:\n      - bullets:\n")
    count = (MAX_YAML_BYTES - len(head)) // len(item) + 2
    return (head + item * count).encode()


GENERATED = {"huge.yaml": huge_yaml}

# Inputs whose first line cannot hold the expectation.
TABLE = {
    "utf16.yaml": Expect(range(1, 2), "expected UTF-8 text, found byte 0xff"),
    "utf16.po": Expect(range(1, 2), "the file is UTF-16"),  # iconv -f UTF-8 -t UTF-16 (with its BOM)
    "huge.yaml": Expect(ANY_LINE, f"expected at most {MAX_YAML_BYTES} bytes"),
}


def expectation(name: str, data: bytes) -> Expect:
    if name in TABLE:
        return TABLE[name]
    first = data.split(b"\n", 1)[0].decode("utf-8").removeprefix("\ufeff").rstrip("\r")
    if first.startswith("# expect: msgfmt"):
        return Expect(None, None)
    match = re.match(r"# expect: (\d+)(?:-(\d+))?: (.*)$", first)
    assert match, f"{name}: no '# expect: LINE: message' first line"
    low = int(match[1])
    high = int(match[2] or low)
    fragment = None if match[3].startswith("*") else match[3]
    return Expect(range(low, high + 1), fragment)


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "yaml" or "po"
    data: bytes


def cases() -> list[Case]:
    found = [Case(p.name, "yaml", p.read_bytes()) for p in sorted((BAD / "yaml").glob("*.yaml"))]
    found += [Case(p.name, "po", p.read_bytes()) for p in sorted((BAD / "po").glob("*.po"))]
    return found


CASES = cases()
CASE_NAMES = [c.name for c in CASES] + list(GENERATED)


@dataclass
class Run:
    project: Project
    command: list[str]
    returncode: int
    output: str  # stdout and stderr
    pot_before: bytes


def place(root: Path, index: int, case: Case) -> tuple[Project, list[str]]:
    project = make_project(root)
    if case.kind == "yaml":
        (project.handouts_dir / case.name).write_bytes(case.data)
        command = ["extract"] if index % 2 == 0 else ["build", "--locale", "en", "-j", "1"]
    else:
        project.po_path("es").write_bytes(case.data)
        command = ["check", "--locale", "es"]
    return project, command


def run_console_script(project: Project, command: list[str]) -> Run:
    """The installed `handouts` command, in its own process."""
    pot_before = project.pot_path.read_bytes()
    result = subprocess.run([str(HANDOUTS), *command], cwd=project.root, capture_output=True, check=False,
                            text=True, errors="replace", timeout=120)
    return Run(project, command, result.returncode, result.stdout + result.stderr, pot_before)


def run_main(project: Project, command: list[str]) -> Run:
    """`handouts -C PROJECT ...` through handoutkit.cli.main in this process (the console script's body).

    A crash is recorded the way the console script would show it: a traceback and status 1.
    """
    pot_before = project.pot_path.read_bytes()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["-C", str(project.root), *command])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - exactly what the test is looking for
            err.write(traceback.format_exc())
            code = 1
    return Run(project, command, code, out.getvalue() + err.getvalue(), pot_before)


def all_cases() -> list[Case]:
    return CASES + [Case(name, "yaml", make()) for name, make in GENERATED.items()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every fixture through the command line's entry point (in process: 60 interpreters would be slow)."""
    results = {}
    for index, case in enumerate(all_cases()):
        project, command = place(tmp_path_factory.mktemp("bad"), index, case)
        results[case.name] = run_main(project, command)
    return results


def located(output: str, label: str) -> list[tuple[int, str]]:
    """(line, message) of every `label:line: message` line of the output."""
    pattern = re.compile(rf"^{re.escape(label)}:(\d+): (.*)$", re.MULTILINE)
    return [(int(m[1]), m[2]) for m in pattern.finditer(output)]


def check_run(run: Run, name: str) -> None:
    output = run.output
    assert "Traceback" not in output, f"`handouts {' '.join(run.command)}` crashed:\n{output[-3000:]}"
    data = next(c.data for c in all_cases() if c.name == name)
    expect = expectation(name, data)
    label = f"handouts/{name}" if name.endswith(".yaml") else ES_PO

    if expect.lines is None:  # GNU gettext decides
        path = run.project.root / "msgfmt-input.po"
        path.write_bytes(data)
        msgfmt = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True, check=False)
        if msgfmt.returncode == 0:
            assert run.returncode == 0, f"msgfmt --check accepts {name}; handoutkit does not:\n{output}"
        else:
            assert run.returncode == 1, f"msgfmt --check rejects {name}; handoutkit does not:\n{output}"
            assert located(output, label), f"no `{label}:LINE:` message:\n{output}"
        return

    assert run.returncode == 1, f"exit status {run.returncode}, expected 1:\n{output}"
    found = located(output, label)
    assert found, f"no `{label}:LINE: message` in the output:\n{output[-3000:]}"
    matches = [(line, message) for line, message in found
               if line in expect.lines and (expect.fragment is None or expect.fragment in message)]
    want = f"{expect.lines.start}" + (f"-{expect.lines.stop - 1}" if len(expect.lines) > 1 else "")
    assert matches, (f"expected `{label}:{want}: ...{expect.fragment or ''}...`; found:\n"
                     + "\n".join(f"{label}:{line}: {message}" for line, message in found))
    if name.endswith(".yaml"):  # a broken source writes nothing
        assert run.project.pot_path.read_bytes() == run.pot_before, "the POT was rewritten"
        assert not (run.project.build_dir / "pdf").exists(), "PDFs were written"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_input_is_a_clean_located_error(runs: dict[str, Run], name: str) -> None:
    check_run(runs[name], name)


@pytest.mark.slow  # the console script in its own process
@pytest.mark.parametrize("name", ["not-utf8.yaml", "unknown-key-in-callout.yaml", "bad-escape.po",
                                  "deep-nesting.yaml", "bom.po"])
def test_the_installed_command_behaves_the_same(tmp_path: Path, name: str) -> None:
    """A few of the corpus through the real `handouts` console script, in its own process."""
    index, case = next((i, c) for i, c in enumerate(all_cases()) if c.name == name)
    project, command = place(tmp_path, index, case)
    check_run(run_console_script(project, command), name)


@pytest.mark.slow  # the console script in its own process
def test_update_with_a_broken_catalog_does_what_it_says(sample: Project) -> None:
    """es is fine, de is broken: update must not half-apply and then say nothing was written."""
    sample.po_path("de").write_bytes((BAD / "po" / "unterminated-string.po").read_bytes())
    pot, es = sample.pot_path.read_bytes(), sample.po_path("es").read_bytes()
    run = run_console_script(sample, ["update"])
    output = run.output
    assert run.returncode == 1, output
    assert "Traceback" not in output
    assert located(output, "locales/de/LC_MESSAGES/handouts.po"), output
    if "nothing was written" in output:
        assert sample.pot_path.read_bytes() == pot, "says 'nothing was written' but rewrote handouts.pot"
        assert sample.po_path("es").read_bytes() == es, "says 'nothing was written' but rewrote the es catalog"


# ---------------------------------------------------------------- fuzzing the readers


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


SAMPLE_YAML = (DATA / "sample" / "handouts" / "walking.yaml").read_bytes()
SAMPLE_PO = (DATA / "sample" / "locales" / "es" / "LC_MESSAGES" / "handouts.po").read_bytes()

YAML_TOKENS = ["id:", "title:", "summary:", "revision:", "number:", "reviewed:", "sections:", "heading:",
               "blocks:", "paragraph:", "bullets:", "steps:", "callout:", "kind:", "include:", "text:",
               " ", "  ", "\n", "\t", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", '"', "'",
               "|", ">", "#", "---\n", "...\n", "%YAML 1.1\n", "!!int ", "!!str ", "!!binary ", "!foo ",
               "0x1F", "0b101", "1:30", "1_000", "2026-11-20", "2026-13-45", "~", "null", "yes", ".inf",
               "\\ud800", "\\x07", "\x07", "\x00", "\ufeff", "é", "warning", "call-us", "walking"]


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (position, kind, payload) edits: 0 replaces a byte, 1 inserts, 2 deletes a span."""
    out = bytearray(data)
    for position, kind, payload in edits:
        at = position % (len(out) + 1)
        if kind == 0 and out:
            out[at % len(out)] = payload[0] if payload else 0
        elif kind == 1:
            out[at:at] = payload
        else:
            del out[at: at + 1 + len(payload)]
    return bytes(out)


mutations = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 2), st.binary(max_size=8)),
                     min_size=1, max_size=8)
# No shrinking or explaining: both re-run the readers many times over; a failing input is shown as is.
FUZZ = settings(max_examples=150, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
                suppress_health_check=(HealthCheck.function_scoped_fixture, HealthCheck.too_slow))


def load_handout_bytes(folder: Path, data: bytes) -> None:
    """read_yaml, then the whole content stage, on one handout file: only HandoutError may escape."""
    handouts = folder / "handouts"
    shutil.rmtree(handouts, ignore_errors=True)
    handouts.mkdir(parents=True)
    path = handouts / "fuzz.yaml"
    path.write_bytes(data)
    try:
        read_yaml(path, "handouts/fuzz.yaml")
        load_content(handouts, folder)
    except HandoutError:
        pass


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=3000))
@example(data=b"id: x\ntitle: " + b"[" * 800 + b"]" * 800 + b"\n")
@example(data=b"id: x\ntitle: " + b"{a: " * 800 + b"b" + b"}" * 800 + b"\n")
@example(data=SAMPLE_YAML.replace(b"number: 2", b"number: 0x1F"))
@example(data=SAMPLE_YAML.replace(b"number: 2", b"number: 1:30"))
@example(data=SAMPLE_YAML.replace(b"number: 2", b"number: 0b11"))
@example(data=SAMPLE_YAML.replace(b"title: Walking after surgery", b'title: "Walking \\ud800"'))
@example(data=SAMPLE_YAML.replace(b"title: Walking after surgery", b"title: Walking\x07"))
def test_yaml_reader_survives_random_bytes(scratch: Path, data: bytes) -> None:
    load_handout_bytes(scratch, data)


@pytest.mark.slow
@FUZZ
@given(edits=mutations)
def test_yaml_reader_survives_mutations_of_a_real_handout(scratch: Path, edits) -> None:
    load_handout_bytes(scratch, mutate(SAMPLE_YAML, edits))


@pytest.mark.slow
@FUZZ
@given(tokens=st.lists(st.sampled_from(YAML_TOKENS), max_size=60))
def test_yaml_reader_survives_yaml_shaped_noise(scratch: Path, tokens: list[str]) -> None:
    load_handout_bytes(scratch, "".join(tokens).encode("utf-8", "surrogatepass"))


def read_po_bytes(folder: Path, data: bytes) -> None:
    path = folder / "fuzz.po"
    path.write_bytes(data)
    for strict in (True, False):
        try:
            read_catalog(path, "fuzz.po", "es", strict=strict)
        except HandoutError:
            pass


@pytest.mark.slow
@FUZZ
@given(data=st.binary(max_size=2000))
@example(data=b'msgid "a"\nmsgstr[x] "b"\n')
@example(data=b'#| msgid "a\nmsgid "a"\nmsgstr "b"\n')
@example(data=b'msgid ""\nmsgstr "Plural-Forms: nplurals=x; plural=n;\\n"\n')
def test_po_reader_survives_random_bytes(scratch: Path, data: bytes) -> None:
    read_po_bytes(scratch, data)


@pytest.mark.slow
@FUZZ
@given(edits=mutations)
@example(edits=[(521, 2, b"\xb7)\x89,C\xeb\xbe4"), (521, 2, b"\xb7)\x89,C\xeb\xbe4")])  # an unknown charset
def test_po_reader_survives_mutations_of_a_real_catalog(scratch: Path, edits) -> None:
    read_po_bytes(scratch, mutate(SAMPLE_PO, edits))
