"""Could the tight layout certify that the normal one overflows? The measurement behind the answer "too rarely".

Lays every handout of every locale out in the standard edition, normal and tight, in one
process on a throw-away copy of the project (about a minute), and reports for the documents
whose normal layout is over the page budget:

- how many an optimistic lower bound would send straight to the tight layout: the tight
  layout's flow height (its pages, the last one by how full it is) times the line-height
  ratio normal / tight (1.28 / 1.15), against the budget's pages of the normal page area.
  It is not even rigorous (a line box with mixed fonts grows by a constant, not a ratio;
  page breaks discard margins), so a certified bound fires on fewer;
- how many of those have no floated picture (`handouts/pictures.yaml`: a where-* picture
  floats beside the first section), the only ones where "the wider tight column never needs
  more lines" can hold;
- the documents whose tight layout has more line boxes than the normal one (the premise failing).

Usage: python tests/benchmarks/copyfit_bound.py
See docs/performance.md, "Copyfitting: which layouts can be skipped".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from library_copy import (  # beside this script: on sys.path when it runs
    copy_project,
    open_copy,
)

LINE_HEIGHT_RATIO = 1.28 / 1.15  # templates/print.css: html, html.tight


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _boxes(child)


def figures(writer, document) -> dict:
    pages = document.pages
    roots = [child for page in pages for child in page._page_box.children if child.element_tag == "html"]
    lines = sum(1 for root in roots for box in _boxes(root) if type(box).__name__ == "LineBox")  # no margin boxes
    return {"pages": len(pages), "height": len(pages) - 1 + writer.last_page_fill(document),
            "area": pages[0]._page_box.height, "lines": lines}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="handoutkit-bound-") as tmp:
        library = open_copy(copy_project(Path(tmp) / "project"))
        project, content, writer = library.project, library.content, library.writer
        budget = project.settings.limits.page_budget
        floated = {handout for handout, pictures in
                   yaml.safe_load((project.handouts_dir / "pictures.yaml").read_text("utf-8"))["handouts"].items()
                   if any(picture.startswith("where-") for picture in pictures)}
        over, fired, fired_unfloated, more_lines = [], [], [], []
        for locale in library.prepared:
            renderer = library.renderer(locale)
            for handout in content.handouts:
                normal = figures(writer, writer.layout(renderer.html(handout)))
                tight = figures(writer, writer.layout(renderer.html(handout, tight=True)))
                name = f"{locale}/{handout.id}"
                if tight["lines"] > normal["lines"]:
                    more_lines.append(f"{name} ({tight['lines']} against {normal['lines']})")
                if normal["pages"] <= budget:
                    continue
                over.append(name)
                if tight["height"] * tight["area"] * LINE_HEIGHT_RATIO > budget * normal["area"]:
                    fired.append(name)
                    if handout.id not in floated:
                        fired_unfloated.append(name)
    print(f"{len(over)} standard documents over {budget} pages; the optimistic bound fires on {len(fired)}, "
          f"{len(fired_unfloated)} of them without a floated picture: {', '.join(fired_unfloated)}")
    print(f"tight layouts with more line boxes than the normal one: {len(more_lines)}: {', '.join(more_lines)}")


if __name__ == "__main__":
    main()
