"""The font plan: which pinned fonts each locale prints with, and whether they cover its text.

No fontconfig guessing. Every locale names its font families in order in
templates/fonts.yaml, and every font file is pinned there by its content
(sha256): a damaged or replaced file draws blank or wrong glyphs while the PDF's
text layer still reads right, so nothing renders from a file that does not
match (verify_font_files). Before anything renders, every character of every
translation is looked up in those fonts' cmaps (HarfBuzz); a character no
font covers is reported at the PO file:line that contains it. The renderer
(render.fonts) turns the same plan into a fontconfig configuration.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import HandoutError, Problem, ProblemsError

FONTS_FILE = "fonts.yaml"
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Family:
    name: str
    package: str  # the Debian package that installs the files
    files: tuple[Path, ...]
    sha256: tuple[str, ...] = ()  # each file's pinned content hash, in the order of `files`


@dataclass(frozen=True)
class FontPlan:
    families: dict[str, Family]
    stacks: dict[str, tuple[str, ...]]  # locale (or "default") -> family names, in order

    def stack(self, locale: str) -> tuple[str, ...]:
        return self.stacks.get(locale, self.stacks["default"])

    def files(self) -> list[Path]:
        return [path for family in self.families.values() for path in family.files]

    def pins(self) -> dict[Path, str]:
        """Each font file -> its pinned sha256."""
        return {path: digest for family in self.families.values()
                for path, digest in zip(family.files, family.sha256)}

    def packages(self) -> list[str]:
        return sorted({family.package for family in self.families.values()})


def load_font_plan(project: Project) -> FontPlan:
    path = project.templates_dir / FONTS_FILE
    label = project.rel(path)
    if not path.exists():
        raise HandoutError(f"{label}: missing font plan")
    node, problems = read_yaml(path, label)
    if node is None:
        raise ProblemsError(problems)
    reader = NodeReader(label)
    keys = reader.mapping(node, "the font plan", ("families", "locales")) or {}
    families: dict[str, Family] = {}
    for name, family_node in (reader.pairs(keys["families"], "families") or {}).items() if "families" in keys else ():
        fam = reader.mapping(family_node, f"family '{name}'", ("package", "files"))
        if fam and len(fam) == 2:
            package = reader.string(fam["package"], "the package name")
            files: list[tuple[str | None, str | None]] = []
            for item in reader.sequence(fam["files"], "files"):
                files.append(_pinned_file(reader, item))
            if package and files and all(path and digest for path, digest in files):
                families[name] = Family(name, package, tuple(Path(str(p)) for p, _ in files),
                                        tuple(str(d) for _, d in files))
    stacks: dict[str, tuple[str, ...]] = {}
    for locale, stack_node in (reader.pairs(keys["locales"], "locales") or {}).items() if "locales" in keys else ():
        names = [reader.string(n, "a family name") for n in reader.sequence(stack_node, f"the fonts of {locale}")]
        for item, name in zip(stack_node.value, names):
            if name and name not in families:
                reader.fail(item, f"unknown font family '{name}'; families: {', '.join(families)}")
        stacks[locale] = tuple(n for n in names if n)
    if "default" not in stacks:
        reader.fail(node, "expected a 'default' entry under locales")
    if reader.problems:
        raise ProblemsError(reader.problems)
    return FontPlan(families, stacks)


def _pinned_file(reader: NodeReader, node) -> tuple[str | None, str | None]:
    """One `- path: ... / sha256: ...` entry of a family's files."""
    entry = reader.mapping(node, "a font file (path and sha256)", ("path", "sha256"))
    if not entry or len(entry) != 2:
        return None, None
    path = reader.string(entry["path"], "a font file path")
    digest = reader.string(entry["sha256"], "the file's sha256")
    if digest is not None and not SHA256.fullmatch(digest):
        reader.fail(entry["sha256"], f"expected the file's sha256 as 64 hex digits (`sha256sum {path}`), "
                                     f"found {digest!r}")
        digest = None
    return path, digest


def missing_font_files(plan: FontPlan) -> dict[str, list[Path]]:
    """Debian package name -> the files of it that are not installed."""
    missing: dict[str, list[Path]] = {}
    for family in plan.families.values():
        for path in family.files:
            if not path.is_file():
                missing.setdefault(family.package, []).append(path)
    return missing


def require_font_files(plan: FontPlan) -> None:
    """Every pinned font is installed and is the file that was pinned; else HandoutError naming it."""
    missing = missing_font_files(plan)
    if missing:
        files = ", ".join(str(p) for paths in missing.values() for p in paths)
        raise HandoutError(f"missing font files: {files}\n"
                           f"install them with: apt-get install {' '.join(sorted(missing))} "
                           "(or run `make setup`)")
    verify_font_files(plan)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (a CJK collection is ~20 MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# (path, size, mtime, ctime, inode) -> sha256: a file is read once per process unless it changes.
# ctime cannot be set back by a program, so a file rewritten in place is read again.
_checked: dict[tuple, str] = {}


def current_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    if key not in _checked:
        _checked[key] = file_sha256(path)
    return _checked[key]


def verify_font_files(plan: FontPlan) -> None:
    """Each font file's content against its pin in fonts.yaml: HandoutError naming every mismatch.

    A font with a damaged byte range still loads, and the PDF made with it has a
    complete text layer (so text checks pass) but blank or wrong glyphs on paper.
    """
    damaged = []
    for path, pinned in plan.pins().items():
        found = current_sha256(path)
        if found != pinned:
            damaged.append(f"{path}: the font file does not match its pin in templates/{FONTS_FILE} "
                           f"(sha256 {found[:16]}..., pinned {pinned[:16]}...): it is damaged or was replaced")
    if damaged:
        packages = sorted({f.package for f in plan.families.values() for p in f.files
                           if any(line.startswith(f"{p}:") for line in damaged)})
        raise HandoutError("\n".join(damaged) + "\nNothing was rendered. Reinstall the font "
                           f"(apt-get install --reinstall {' '.join(packages)}); if a new version was installed "
                           f"on purpose, check its PDFs and pin its sha256 in templates/{FONTS_FILE}.")


# ---------------------------------------------------------------- coverage


@lru_cache(maxsize=None)
def face_index(path: Path, family: str) -> int:
    """The index of the face named `family` in a font file (0 unless it is a collection)."""
    import uharfbuzz as hb

    if path.suffix.lower() != ".ttc":
        return 0
    blob = hb.Blob.from_file_path(str(path))
    for index in range(256):
        face = hb.Face(blob, index)
        if face.glyph_count == 0:  # past the last face of the collection
            break
        names = {face.get_name(name_id) for name_id in (hb.OTNameIdPredefined.TYPOGRAPHIC_FAMILY,
                                                         hb.OTNameIdPredefined.FONT_FAMILY)}
        if family in names:
            return index
    raise HandoutError(f"{path}: no face named '{family}' in this font collection")


@lru_cache(maxsize=None)
def family_codepoints(path: Path, family: str) -> frozenset[int]:
    """The characters one face covers (read by HarfBuzz from the face's cmap)."""
    import uharfbuzz as hb

    return frozenset(hb.Face(hb.Blob.from_file_path(str(path)), face_index(path, family)).unicodes)


def stack_codepoints(plan: FontPlan, locale: str) -> frozenset[int]:
    covered: set[int] = set()
    for name in plan.stack(locale):
        family = plan.families[name]
        for path in family.files:
            covered |= family_codepoints(path, name)
    return frozenset(covered)


def needs_glyph(char: str) -> bool:
    # Spaces, joiners and direction marks are layout controls, not glyphs to draw.
    return not (char.isspace() or unicodedata.category(char) in ("Cc", "Cf"))


def uncovered(text: str, covered: frozenset[int]) -> list[str]:
    return sorted({c for c in text if needs_glyph(c) and ord(c) not in covered})


def coverage_problems(plan: FontPlan, locale: str, texts: list[tuple[str, int, str]]) -> list[Problem]:
    """Problems for each (file, line, text) that has a character the locale's fonts lack."""
    covered = stack_codepoints(plan, locale)
    problems = []
    for label, line, text in texts:
        missing = uncovered(text, covered)
        if missing:
            shown = ", ".join(f"'{c}' U+{ord(c):04X}" for c in missing)
            problems.append(Problem(label, line, f"no pinned font for locale {locale} "
                                                 f"({', '.join(plan.stack(locale))}) has {shown}"))
    return problems
