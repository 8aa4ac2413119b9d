"""How close each document sits to copyfitting's line, and whether its first layout could be skipped.

Lays every handout of every locale out in both PDF editions, normal and tight, in
one process on a throw-away copy of the project (about 2-5 minutes), then reports:

- how many documents copyfitting lays out twice, and how much layout is thrown away;
- for the standard edition, the prediction "height in English x the translation's
  length (East Asian wide characters count 2) x a factor per script": its error
  (actual / predicted height) per script, and how many overflowing documents it would
  send straight to the tight layout with a safe margin (the script's worst error
  minus 10%) and with none at all (fitted to this library: not safe).

Usage: python tests/benchmarks/copyfit_margins.py [--json FILE]
See docs/performance.md, "Copyfitting: which layouts can be skipped".
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

from library_copy import (  # beside this script: on sys.path when it runs
    copy_project,
    open_copy,
)

from handoutkit.content.handouts import handout_texts, translate
from handoutkit.content.settings import Project
from handoutkit.outputs.editions import LARGE_COPYFIT_FILL

SCRIPT = {"zh_Hans": "Han", "zh_Hant": "Han", "ko": "Hangul", "ar": "Arabic", "fa": "Arabic", "ru": "Cyrillic",
          "ne": "Devanagari"}  # anything else: Latin


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def height(fit: dict) -> float:
    """Pages used, the last one counted by how full it is."""
    return fit["pages"] - 1 + fit["fill"]


def measure(root: Path) -> list[dict]:
    library = open_copy(root)
    writer = library.writer
    rows = []
    for locale in library.prepared:
        renderer = library.renderer(locale)
        for handout in library.content.handouts:
            texts = [translate(renderer.translations, t) for t in handout_texts(handout)]
            for large in (False, True):
                row = {"locale": locale, "handout": handout.id, "large": large, "width": sum(map(width, texts))}
                for tight in (False, True):
                    start = time.perf_counter()
                    document = writer.layout(renderer.html(handout, tight=tight, large=large))
                    row["tight" if tight else "normal"] = {"pages": len(document.pages),
                                                           "fill": writer.last_page_fill(document),
                                                           "seconds": time.perf_counter() - start}
                rows.append(row)
    return rows


def report(rows: list[dict], budget: int) -> None:
    by_key = {(r["locale"], r["handout"], r["large"]): r for r in rows}
    twice = kept = 0
    thrown = total = 0.0
    for r in rows:
        normal, tight = r["normal"], r["tight"]
        total += normal["seconds"]
        again = normal["pages"] > budget if not r["large"] else \
            normal["pages"] > 1 and normal["fill"] < LARGE_COPYFIT_FILL
        if again:
            twice += 1
            total += tight["seconds"]
            if tight["pages"] < normal["pages"]:
                kept += 1
                thrown += normal["seconds"]
            else:
                thrown += tight["seconds"]
    print(f"{len(rows)} documents; {twice} laid out twice, {kept} keep the tight layout; "
          f"{thrown:.1f} s of {total:.1f} s of layout thrown away (one process)")
    errors: dict[str, list[float]] = defaultdict(list)
    standard = [r for r in rows if not r["large"] and r["locale"] != "en"]
    for r in standard:
        english = by_key[("en", r["handout"], False)]
        r["predicted"] = height(english["normal"]) * r["width"] / english["width"]
        errors[SCRIPT.get(r["locale"], "Latin")].append(height(r["normal"]) / r["predicted"])
    over = [r for r in standard if r["normal"]["pages"] > budget]
    print(f"standard edition: {len(over)} translations over {budget} pages, heights "
          f"{min(map(lambda r: height(r['normal']), over), default=0):.2f}-"
          f"{max(map(lambda r: height(r['normal']), over), default=0):.2f} pages")
    for script, found in sorted(errors.items()):
        print(f"  {script:<11} actual / predicted height {min(found):.3f}-{max(found):.3f}")
    for label, margin in (("safe (worst error - 10%)", 0.10), ("no margin (fitted: not safe)", 0.0)):
        sure = [r for r in standard
                if r["predicted"] * min(errors[SCRIPT.get(r["locale"], "Latin")]) * (1 - margin) > budget]
        wrong = [r for r in sure if r["normal"]["pages"] <= budget]
        print(f"  first layout skipped with a {label} margin: {len(sure)} of {len(over)}, {len(wrong)} wrong")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every document's figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handoutkit-copyfit-") as tmp:
        root = copy_project(Path(tmp) / "project")
        rows = measure(root)
        budget = Project(root).settings.limits.page_budget
    os.environ.pop("FONTCONFIG_FILE", None)
    report(rows, budget)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
