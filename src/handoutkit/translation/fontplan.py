"""The font plan: which pinned fonts each locale prints with, and whether they cover its text.

No fontconfig guessing. Every locale names its font families in order in
templates/fonts.yaml. Before anything renders, every character of every
translation is looked up in those fonts' cmaps (HarfBuzz); a character no
font covers is reported at the PO file:line that contains it. The renderer
(render.fonts) turns the same plan into a fontconfig configuration.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handoutkit.content.settings import Project
from handoutkit.content.yamlsource import NodeReader, read_yaml
from handoutkit.errors import HandoutError, Problem, ProblemsError

FONTS_FILE = "fonts.yaml"


@dataclass(frozen=True)
class Family:
    name: str
    package: str  # the Debian package that installs the files
    files: tuple[Path, ...]


@dataclass(frozen=True)
class FontPlan:
    families: dict[str, Family]
    stacks: dict[str, tuple[str, ...]]  # locale (or "default") -> family names, in order

    def stack(self, locale: str) -> tuple[str, ...]:
        return self.stacks.get(locale, self.stacks["default"])

    def files(self) -> list[Path]:
        return [path for family in self.families.values() for path in family.files]

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
            files = [reader.string(f, "a font file path") for f in reader.sequence(fam["files"], "files")]
            if package and all(files):
                families[name] = Family(name, package, tuple(Path(f) for f in files))
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


def missing_font_files(plan: FontPlan) -> dict[str, list[Path]]:
    """Debian package name -> the files of it that are not installed."""
    missing: dict[str, list[Path]] = {}
    for family in plan.families.values():
        for path in family.files:
            if not path.is_file():
                missing.setdefault(family.package, []).append(path)
    return missing


def require_font_files(plan: FontPlan) -> None:
    missing = missing_font_files(plan)
    if missing:
        files = ", ".join(str(p) for paths in missing.values() for p in paths)
        raise HandoutError(f"missing font files: {files}\n"
                           f"install them with: apt-get install {' '.join(sorted(missing))} "
                           "(or run `make setup`)")


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
