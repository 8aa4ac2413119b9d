"""Every output the build publishes, in one registry: the editions and the library targets.

Editions (outputs.editions) are made for each handout in each locale; library
targets are made once from everything that is ready: the language-assistance
sheet (outputs.language_sheet), the front-desk catalog page
(outputs.catalog_page) and the web edition's index (outputs.web). Each owns its
manifest key, its URL under build/, the hash of its inputs and its writer;
`build` loops over them, and the front-desk server serves only what is listed
here (`published_file`).
"""

from __future__ import annotations

import re
from pathlib import Path

from handoutkit.content.handouts import HANDOUT_ID
from handoutkit.content.settings import Project
from handoutkit.errors import HandoutError
from handoutkit.outputs.catalog_page import CATALOG_PAGE
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.language_sheet import LANGUAGE_ASSISTANCE
from handoutkit.outputs.library import Library, LibraryTarget
from handoutkit.outputs.packets import PACKETS_FOLDER
from handoutkit.outputs.web import WEB_INDEX

LIBRARY_TARGETS: tuple[LibraryTarget, ...] = (LANGUAGE_ASSISTANCE, CATALOG_PAGE, WEB_INDEX)

_PER_LOCALE = re.compile(r"(?P<folder>[a-z0-9-]+)/(?P<locale>[A-Za-z_]+)/(?P<name>[^/]+)")


def published_file(project: Project, url: str) -> Path | None:
    """The file behind a URL relative to build/, if the build publishes one there (else None).

    Only what an edition, a packet or a library target writes is published: never the
    manifest, the HTML a PDF was laid out from, fonts or anything else under build/.
    """
    for target in LIBRARY_TARGETS:
        if url == target.url:
            return target.path(project)
    match = _PER_LOCALE.fullmatch(url)
    if not match or match["locale"] not in project.settings.locales:
        return None
    folder, locale, name = match["folder"], match["locale"], match["name"]
    for edition in EDITIONS.values():
        stem = name.removesuffix(edition.suffix)
        if edition.folder == folder and name.endswith(edition.suffix) and HANDOUT_ID.fullmatch(stem):
            return edition.product(project, locale, stem)
    if folder == PACKETS_FOLDER and name.endswith(".pdf") and HANDOUT_ID.fullmatch(name[:-4]):
        return project.build_dir / url
    return None


def stale(target: LibraryTarget, lib: Library, recorded: str | None) -> str | None:
    """The target's new input hash when it must be written again, else None."""
    inputs = target.inputs(lib)
    return None if recorded == inputs and target.path(lib.project).exists() else inputs


def write_target(target: LibraryTarget, lib: Library) -> tuple[int, str]:
    try:
        return target.write(lib)
    except HandoutError as exc:
        raise HandoutError(f"{lib.project.rel(target.path(lib.project))}: render failed: {exc}") from None
