"""Stage 3, catalogs: handouts.pot to locales/<locale>/LC_MESSAGES/handouts.po, and back out as Translations.

Reading goes through Babel (read_po, write_mo): it gives the checks and the
renderer their Catalog. Writing is left to GNU gettext, the reference for the
format: `msgmerge --previous` merges the template into a catalog and `msgcat`
puts any other file we produce into the same canonical form (GNU's wrapping,
escapes, `#|` previous strings of any length, file-only `#:` references).
A file saved by msgcat, msgmerge, Poedit, Weblate or Translate Toolkit and
then run through `handouts update` therefore comes back byte-identical, and
an update of an unchanged tree writes nothing. Fuzzy entries are never used:
a patient never gets a guessed translation.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, denormalize, read_po, write_po
from babel.support import Translations

from handoutkit import __version__
from handoutkit.content.settings import Project, check_locale_name
from handoutkit.errors import HandoutError, Problem, ProblemsError
from handoutkit.files import atomic_write, write_if_changed
from handoutkit.translation.provenance import (
    read_provenance,
    refreshed,
    write_provenance,
)

MACHINE_DRAFT_COMMENT = (
    "MACHINE DRAFT: these translations were drafted by machine and are not yet\n"
    "reviewed by a qualified medical translator. Record a review with\n"
    "`handouts review LOCALE --by NAME` once one has checked every entry."
)


MSGFMT_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?:\d+:)? (?P<message>.*)$")


MSGFMT = "msgfmt: "  # how a finding of GNU msgfmt --check begins


def msgfmt_problems(path: Path, label: str, data: bytes | None = None) -> list[Problem]:
    """What GNU msgfmt --check rejects (the reference implementation of the PO format).

    Babel's reader is lenient (it accepts an unterminated string, for one), so
    gettext's own checker runs first; Babel then reads what msgfmt accepted.
    With `data`, msgfmt checks those bytes (on its standard input), so what was
    checked is exactly what the caller read, even if the file changes meanwhile.
    """
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        raise HandoutError("msgfmt not found: install the Debian package 'gettext' (or run `make setup`)")
    run = subprocess.run([msgfmt, "--check", "-o", os.devnull, "-" if data is not None else str(path)],
                         input=data, capture_output=True, env={**os.environ, "LC_ALL": "C"})
    run.stderr = run.stderr.decode("utf-8", "replace")
    if run.returncode == 0:
        return []
    problems = []
    for line in run.stderr.splitlines():
        match = MSGFMT_LINE.match(line)
        if match and not match["file"].startswith("msgfmt"):
            message = match["message"]
            severity = "warning" if message.startswith("warning: ") else "error"
            line = int(match["line"])
            if "within string" in message:  # msgfmt counts the newline that ended the string
                line = max(1, line - 1)
            problems.append(Problem(label, line,
                                    f"{MSGFMT}{message.removeprefix('warning: ')}", severity))
    return problems or [Problem(label, 0, f"{MSGFMT}{run.stderr.strip()}")]


def byte_order_mark_problem(path: Path, label: str, data: bytes | None = None) -> Problem | None:
    """Some Windows editors start UTF-8 files with a byte-order mark; gettext calls it a syntax error."""
    if data is None:
        data = path.read_bytes() if path.exists() else b""
    if data.startswith(b"\xef\xbb\xbf"):
        return Problem(label, 1, "the file starts with an invisible byte-order mark (BOM), which gettext "
                                 "cannot read: save it as \"UTF-8\", not \"UTF-8 with BOM\" (Notepad's "
                                 "Save As > Encoding), or re-save it in Poedit")
    return None


UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
CONFLICT_MARKER = re.compile(rb"^(<<<<<<<|=======|>>>>>>>|\|\|\|\|\|\|\|)(?: |\r?$)", re.MULTILINE)
CHARSET = re.compile(rb'^"Content-Type:[^"\n]*?charset=([^"\\\s;]*)', re.MULTILINE | re.IGNORECASE)


def normalized_newlines(data: bytes) -> bytes:
    """CRLF (a Windows editor's save) as LF: what every tool downstream reads and what we write.

    GNU msgmerge keeps a CR at the end of each comment line for good, so the
    line ends are normalised before any tool sees the file.
    """
    return data.replace(b"\r\n", b"\n")


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def encoding_problems(data: bytes, label: str) -> list[Problem]:
    """What must be true of a PO file's bytes before any tool reads it, each with the exact fix.

    UTF-8 without a byte-order mark, a header that says UTF-8 (a header that
    says ISO-8859-1 over UTF-8 bytes makes msgmerge double-encode every
    accented line: "RefÃ¨" in the PDF), and no git merge-conflict markers.
    """
    if data.startswith(UTF16_MARKS) or (len(data) > 1 and b"\x00" in data[:200]):
        return [Problem(label, 1, "the file is UTF-16 (\"Unicode\" in Windows editors), which gettext cannot "
                                  "read: save it as UTF-8 (Poedit does; in Notepad: Save As > Encoding > "
                                  "UTF-8), or convert it with `iconv -f UTF-16 -t UTF-8`")]
    if bom := byte_order_mark_problem(Path(label), label, data):
        return [bom]
    problems = [Problem(label, _line_of(data, m.start()),
                        f"git merge-conflict marker {m[1].decode()!r}: the file was saved in the middle of a "
                        "merge; keep one version of each entry and delete the <<<<<<< ======= >>>>>>> lines")
                for m in CONFLICT_MARKER.finditer(data)]
    declared = CHARSET.search(data)
    charset = declared[1].decode("ascii", "replace") if declared else ""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = (f"; the header says charset={charset}: convert the file with "
                f"`msgconv --to-code=UTF-8 -o FILE FILE`" if charset and charset.lower() not in ("utf-8", "utf8")
                else "; save the file as UTF-8")
        problems.append(Problem(label, _line_of(data, exc.start),
                                f"expected UTF-8 text, found byte 0x{data[exc.start]:02x}{hint}"))
        return problems
    if declared and charset.lower() not in ("utf-8", "utf8"):
        problems.append(Problem(label, _line_of(data, declared.start()),
                                f"the header says charset={charset} but the text is UTF-8: change this line to "
                                f"\"Content-Type: text/plain; charset=UTF-8\\n\" (tools would re-encode every "
                                "accented letter)"))
    return problems


def gettext_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        raise HandoutError(f"{name} not found: install the Debian package 'gettext' (or run `make setup`)")
    return tool


def run_gettext(args: list[str], data: bytes | None = None) -> bytes:
    """Run a GNU gettext tool and return what it wrote to standard output.

    LC_ALL=C keeps its messages in English for our error lines; the output
    itself depends only on the input (the file's own charset decides wrapping).
    """
    run = subprocess.run([gettext_tool(args[0]), *args[1:]], input=data, capture_output=True,
                         env={**os.environ, "LC_ALL": "C"})
    if run.returncode != 0:
        raise HandoutError(f"{args[0]} failed: {run.stderr.decode('utf-8', 'replace').strip()}")
    return run.stdout


def canonical(data: bytes) -> bytes:
    """A PO or POT file in GNU gettext's canonical form: what `msgcat` writes."""
    return run_gettext(["msgcat", "--output-file=-", "-"], data)


BABEL_PREVIOUS = "# | "
QUOTED_LINE = re.compile(r'^(?:msgctxt |msgid )?"(?:[^"\\]|\\.)*"$')


def babel_previous_repaired(data: bytes) -> bytes:
    """The file with Babel's mangled previous msgids (`# | msgid "..."`) as GNU's `#|` lines again.

    Babel writes an entry's old English as a translator comment and wraps it like prose, breaking
    inside the quotes (`# | "... can bulge` then `# "`); every reader, Babel's own included, then
    takes it for a comment, and a file saved by a Babel-based tool would carry that garbage
    forever. A wrapped piece is joined back with the single space the wrap removed, and the
    lines move to where GNU wants them: after the other comments, just before the msgid.
    """
    if BABEL_PREVIOUS.encode() not in data:
        return data
    out: list[str] = []
    block: list[str] = []   # the pieces of one mangled previous msgid, as Babel split them
    previous: list[str] = []  # repaired `#|` lines waiting for their entry's msgid
    has_gnu_previous = False  # the entry already has `#|` lines of its own
    for line in data.decode("utf-8").split("\n"):
        if line.startswith(BABEL_PREVIOUS):
            block.append(line[len(BABEL_PREVIOUS):])
            continue
        if block and line.startswith("# ") and not QUOTED_LINE.match(block[-1]):
            block[-1] += " " + line[2:]
            continue
        if block:
            if all(map(QUOTED_LINE.match, block)):
                previous += [f"#| {piece}" for piece in block]
            else:  # not a previous msgid after all: leave the comment as it was
                out += [BABEL_PREVIOUS + piece for piece in block]
            block = []
        if line.startswith("#| "):
            has_gnu_previous = True
        elif not line.startswith("#"):
            # Babel also writes the previous msgid it knows as a real `#|` line: then the repaired
            # copy of the comment is a duplicate, which msgmerge refuses.
            if previous and not has_gnu_previous:
                out += previous
            previous, has_gnu_previous = [], False
        out.append(line)
    return "\n".join(out).encode("utf-8")


def merged(po_path: Path, pot_path: Path, data: bytes | None = None) -> bytes:
    """The catalog at `po_path` merged with the template, as `msgmerge --previous` writes it.

    msgmerge keeps every translation: a changed English string keeps its old
    translation marked fuzzy with the old English under `#|`, a removed one
    becomes obsolete (`#~`), and an obsolete one whose English comes back is
    revived. Headers it does not own (X-Generator, X-Poedit-*) are kept.
    """
    if data is None:
        data = po_path.read_bytes()
    return run_gettext(["msgmerge", "--quiet", "--previous", "--output-file=-", "-", str(pot_path)],
                       babel_previous_repaired(normalized_newlines(data)))


def restore_previous_ids(catalog: Catalog, text: str) -> None:
    """Babel's reader drops `#| msgid` lines; put them back so updates never lose them."""
    by_line: dict[int, str] = {}
    pending: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#| msgid "):
            pending = [line[len("#| msgid "):]]
        elif line.startswith('#| "') and pending:
            pending.append(line[3:])
        elif line.startswith(("msgctxt", "msgid")) and pending:
            by_line[number] = denormalize("\n".join(pending))
            if line.startswith("msgid"):
                pending = []
    for message in catalog:
        if message.lineno in by_line:
            message.previous_id = [by_line[message.lineno]]


OBSOLETE_PREVIOUS = re.compile(rb"^#~\|[^\n]*$", re.MULTILINE)


def for_babel(data: bytes) -> bytes:
    """The file as Babel's reader can take it: without `#~|` lines.

    GNU msgmerge keeps the previous msgid of an obsolete fuzzy entry as `#~|`;
    Babel aborts on it. Nothing here needs it, so each such line becomes an
    empty comment (line numbers stay those of the file).
    """
    return OBSOLETE_PREVIOUS.sub(b"#", data)


def read_catalog(path: Path, label: str, locale: str | None = None, strict: bool = True,
                 data: bytes | None = None) -> Catalog:
    """Parse a PO/POT file (or `data`, its bytes as read); a fault becomes `file:line: problem`."""
    if data is None:
        data = path.read_bytes()
    if problems := encoding_problems(data, label):
        raise ProblemsError(problems, "catalog error")
    data = normalized_newlines(data)
    if strict and (errors := [p for p in msgfmt_problems(path, label, data) if p.severity == "error"]):
        raise ProblemsError(errors, "catalog error")
    try:
        catalog = read_po(io.BytesIO(for_babel(data)), locale=locale, abort_invalid=True, charset="utf-8")
    except PoFileError as exc:
        problem = str(exc).rsplit(" on ", 1)[0]
        raise ProblemsError([Problem(label, exc.lineno + 1, f"PO syntax error: {problem}: "
                                                            f"{exc.line.strip()!r}")], "catalog error") from None
    except (ValueError, UnicodeError, LookupError) as exc:  # LookupError: an unknown charset
        raise ProblemsError([Problem(label, 1, f"unreadable catalog: {exc}")], "catalog error") from None
    restore_previous_ids(catalog, data.decode("utf-8"))
    return catalog


def serialize_po(catalog: Catalog) -> bytes:
    """A Babel catalog as GNU gettext writes it (for new catalogs: Babel writes `#|` wrongly)."""
    if any(m.previous_id for m in catalog):
        raise ValueError("serialize_po cannot keep previous msgids; merge with msgmerge instead")
    buffer = io.BytesIO()
    write_po(buffer, catalog, include_lineno=False)
    return canonical(buffer.getvalue())


_templates: dict[tuple[str, bytes], Catalog] = {}


def read_template(project: Project) -> Catalog:
    """handouts.pot, checked by msgfmt and parsed once per content: every locale's checks and
    review state read it, so a build or the server would otherwise parse it twice per locale.
    Callers only read the template."""
    path = project.pot_path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HandoutError(f"{project.rel(path)}: missing; run `handouts extract` first") from None
    key = (str(path), hashlib.sha256(data).digest())
    if key not in _templates:
        _templates.clear()  # one template at a time: a changed POT replaces the old one
        _templates[key] = read_catalog(path, project.rel(path), data=data)
    return _templates[key]


def load_catalog(project: Project, locale: str, strict: bool = True, data: bytes | None = None) -> Catalog:
    """A locale's catalog; `strict` first refuses anything GNU msgfmt --check rejects."""
    path = project.po_path(locale)
    if data is None and not path.exists():
        raise HandoutError(f"{project.rel(path)}: missing catalog for locale '{locale}'; "
                           f"create it with `handouts init-locale {locale}`")
    return read_catalog(path, project.rel(path), locale, strict, data)


def read_catalog_bytes(project: Project, locale: str) -> bytes:
    """The one read of a locale's PO file that a prepared locale is made from."""
    path = project.po_path(locale)
    try:
        return normalized_newlines(path.read_bytes())
    except FileNotFoundError:
        raise HandoutError(f"{project.rel(path)}: missing catalog for locale '{locale}'; "
                           f"create it with `handouts init-locale {locale}`") from None


def compiled(catalog: Catalog) -> bytes:
    """The catalog as an MO file in memory (fuzzy entries left out): what renderers load."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def translations_from(mo: bytes) -> Translations:
    """Translations for rendering; empty MO data means the source language (msgid is the text)."""
    return Translations(fp=io.BytesIO(mo), domain="handouts") if mo else Translations()


@dataclass(frozen=True)
class InitResult:
    locale: str
    path: Path
    messages: int


def init_locale(project: Project, locale: str, machine_draft: bool = False) -> InitResult:
    """Create an empty catalog for `locale` from the template."""
    if error := check_locale_name(locale):
        raise HandoutError(error)
    path = project.po_path(locale)
    if path.exists():
        raise HandoutError(f"{project.rel(path)}: already exists; use `handouts update` to merge new strings")
    template = read_template(project)
    language = Locale.parse(locale).english_name
    catalog = Catalog(locale=locale, project="handoutkit", version=__version__, charset="utf-8",
                      creation_date=template.creation_date, revision_date=template.creation_date, fuzzy=False,
                      language_team=f"{language} <medical-translation@clinic.invalid>",
                      last_translator=("machine draft, not reviewed <medical-translation@clinic.invalid>"
                                       if machine_draft else "translator <medical-translation@clinic.invalid>"),
                      msgid_bugs_address="clinical-content@clinic.invalid")
    comment = f"{language} translations for the handoutkit patient handouts."
    if machine_draft:
        comment += "\n" + MACHINE_DRAFT_COMMENT
    catalog.header_comment = "\n".join(f"# {line}" for line in comment.splitlines())
    catalog.update(template)
    atomic_write(path, serialize_po(catalog))
    return InitResult(locale, path, len(catalog))


@dataclass(frozen=True)
class UpdateResult:
    locale: str
    path: Path
    written: bool
    fuzzy: int
    untranslated: int
    obsolete: int


def load_catalogs(project: Project, locales: tuple[str, ...],
                  data: dict[str, bytes] | None = None) -> dict[str, Catalog]:
    """Every named catalog, or one error listing every broken one (so nothing is half-updated).

    `data` holds catalogs as already read (locale -> bytes), so what was checked is what is merged."""
    catalogs, problems = {}, []
    for locale in locales:
        try:
            catalogs[locale] = load_catalog(project, locale, data=(data or {}).get(locale))
        except ProblemsError as exc:
            problems += exc.problems
        except HandoutError as exc:
            problems.append(Problem(project.rel(project.po_path(locale)), 1, str(exc).split(": ", 1)[-1]))
    if problems:
        raise ProblemsError(problems, "catalog error")
    return catalogs


def update(project: Project, locales: tuple[str, ...] | None = None) -> list[UpdateResult]:
    """Merge handouts.pot into the catalog of every locale under locales/ (or the ones named).

    Unpublished languages are merged too, so one being translated never goes
    stale. Every catalog is read first: if any is broken, none is written.
    """
    read_template(project)  # a broken template stops the update before any catalog is touched
    results = []
    read = {locale: read_catalog_bytes(project, locale) for locale in locales or project.catalog_locales()}
    load_catalogs(project, tuple(read), read)
    old = {locale: read_provenance(project, locale) for locale in read}  # a damaged record stops it here
    for locale, before in read.items():
        path = project.po_path(locale)
        data = merged(path, project.pot_path, before)
        catalog = read_catalog(path, project.rel(path), locale, strict=False, data=data)
        # The English each translation was made for, in a file PO editors leave alone: written
        # before the catalog, so a killed update never leaves a fuzzy entry without its record.
        write_provenance(project, locale, refreshed(old[locale], catalog))
        written = write_if_changed(path, data)
        messages = [m for m in catalog if m.id]
        results.append(UpdateResult(
            locale, path, written,
            fuzzy=sum(1 for m in messages if m.fuzzy),
            untranslated=sum(1 for m in messages if not m.string),
            obsolete=len(catalog.obsolete),
        ))
    return results


def compile_translations(catalog: Catalog) -> Translations:
    """In-memory MO for rendering; fuzzy entries are left out."""
    return translations_from(compiled(catalog))



def load_translations(project: Project, locale: str) -> gettext.NullTranslations:
    """A locale's translations straight from its PO file (tests and one-off renders; the build
    and the server use the prepared locale)."""
    if locale == project.settings.source_locale:
        return Translations()  # the source text is the English msgid itself
    return compile_translations(load_catalog(project, locale))
