"""The Jinja environment of the HTML pages around the handouts (catalog, web index, review sheets)."""

from __future__ import annotations

import json

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from handoutkit.content.settings import Project


def page_environment(project: Project) -> Environment:
    env = Environment(loader=FileSystemLoader(project.templates_dir / "pages"), autoescape=True,
                      undefined=StrictUndefined)
    # JSON inside <script>: escape <, > and & so no title can close the element.
    env.filters["script_json"] = lambda value: Markup(
        json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return env
