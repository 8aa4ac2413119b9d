"""Infobutton: the EHR asks for the handouts of a code, in the patient's language.

HL7 Context-Aware Knowledge Retrieval (Infobutton), URL-based requests, the
way MedlinePlus Connect answers them:

    ?mainSearchCriteria.v.c=CODE
    &mainSearchCriteria.v.cs=SYSTEM            (an OID such as 2.16.840.1.113883.6.96, or a URI)
    &informationRecipient.languageCode.c=es    (optional; default: the source language)
    &knowledgeResponseType=application/json    (optional; JSON is the only response type)

`infobutton()` is a pure function of the project and the parameters; it
returns an HTTP status and the JSON body (an Atom feed written as JSON, as
MedlinePlus Connect does): one entry per matching handout, with its title and
summary in the requested language and links to its PDF and web page. A
language the clinic does not publish (or cannot print today) gets English and
a note saying so. An unknown code gives an empty feed; a malformed request a
400 with a message. Nothing reads as more than it is: every entry says whether
a clinician approved the handout (and so its codes) and whether its
translation was reviewed.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from typing import Mapping

from babel import Locale, UnknownLocaleError

from handoutkit.content.approval import approval_state, read_approvals
from handoutkit.content.codes import NAMES, VALIDATORS, system_uri
from handoutkit.content.handouts import Content, Handout, load_content, translate
from handoutkit.content.settings import Project
from handoutkit.outputs.editions import EDITIONS
from handoutkit.outputs.web import web_path
from handoutkit.translation.locales import html_lang, native_language_name
from handoutkit.translation.prepared import prepare_locale

CODE = "mainSearchCriteria.v.c"
SYSTEM = "mainSearchCriteria.v.cs"
LANGUAGE = "informationRecipient.languageCode.c"
RESPONSE_TYPE = "knowledgeResponseType"
JSON = "application/json"


@dataclass(frozen=True)
class Language:
    """A ready locale: its translations and whether they are still a draft."""

    translations: gettext.NullTranslations
    draft: bool


class BadRequest(Exception):
    pass


def _param(params: Mapping[str, str], name: str, required: bool = True) -> str:
    value = params.get(name)
    if isinstance(value, (list, tuple)):  # a parsed query string may hold lists
        if len(value) > 1:
            raise BadRequest(f"{name} is given {len(value)} times; expected it once")
        value = value[0] if value else None
    value = (value or "").strip()
    if required and not value:
        raise BadRequest(f"missing {name}; expected for example {CODE}=...&{SYSTEM}=2.16.840.1.113883.6.96")
    return value


def _is_system_name(text: str) -> bool:
    """An OID (digits and dots) or a URI: a well-formed name of some code system."""
    oid = text.removeprefix("urn:oid:")
    return bool(oid) and all(part.isdigit() for part in oid.split(".")) or "://" in text


def resolve_language(project: Project, requested: str) -> str | None:
    """The published locale for a language code (es, es-MX, zh-TW, zh_Hant...), or None."""
    try:
        wanted = Locale.parse(requested.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise BadRequest(f"{LANGUAGE}={requested!r} is not a language code; expected one such as es or zh-Hant") \
            from None
    published = {loc: Locale.parse(loc) for loc in project.settings.locales}
    for loc, locale in published.items():  # same language and, where the locale names one, same script
        if locale.language == wanted.language and (locale.script is None or locale.script == wanted.script):
            return loc
    for loc, locale in published.items():
        if locale.language == wanted.language and wanted.script is None and wanted.territory is None:
            return loc
    return None


def _links(project: Project, locale: str, handout: Handout, server_url: str) -> list[dict]:
    base = project.settings.web_base_url or f"{server_url}web/"
    lang = html_lang(locale)
    return [
        {"rel": "alternate", "type": "text/html", "hreflang": lang, "title": "Web page",
         "href": base + web_path(locale, handout.id)},
        {"rel": "alternate", "type": "application/pdf", "hreflang": lang, "title": "PDF",
         "href": server_url + EDITIONS["standard"].url(locale, handout.id)},
    ]


def infobutton(project: Project, params: Mapping[str, str], *, content: Content | None = None,
               languages: Mapping[str, Language] | None = None, server_url: str = "") -> tuple[int, dict]:
    """Answer one Infobutton request: (HTTP status, JSON body).

    `languages` are the locales ready to print (the server has them prepared);
    by default the requested one is prepared here. `server_url` (ending in /)
    makes the PDF links absolute; without it they are relative to build/.
    """
    try:
        return 200, _answer(project, params, content, languages, server_url)
    except BadRequest as exc:
        return 400, {"error": {"status": 400, "message": str(exc)}}


def _answer(project: Project, params: Mapping[str, str], content: Content | None,
            languages: Mapping[str, Language] | None, server_url: str) -> dict:
    response_type = _param(params, RESPONSE_TYPE, required=False) or JSON
    if response_type != JSON:
        raise BadRequest(f"{RESPONSE_TYPE}={response_type!r} is not supported; expected {JSON}")
    code = _param(params, CODE)
    system_name = _param(params, SYSTEM)
    system = system_uri(system_name)
    if system is None and not _is_system_name(system_name):
        raise BadRequest(f"{SYSTEM}={system_name!r} is not a code system; expected an OID such as "
                         "2.16.840.1.113883.6.96 (SNOMED CT) or a URI such as http://snomed.info/sct")
    if system is not None and (problem := VALIDATORS[system](code)):
        raise BadRequest(f"{CODE}={code!r}: {problem} ({NAMES[system]})")
    source = project.settings.source_locale
    requested = _param(params, LANGUAGE, required=False) or source
    locale = resolve_language(project, requested)

    content = content or load_content(project.handouts_dir, project.root)
    if languages is None:
        languages = _prepare(project, content, locale)
    note = None
    if locale is None or locale not in languages:
        why = "is not published" if locale is None else "cannot be printed right now"
        note = f"Handouts in {requested} are not available ({why}); shown in English."
        locale = source
    language = languages.get(locale) or Language(gettext.NullTranslations(), False)

    settings = project.settings
    approvals = read_approvals(project, content)
    matches = [h for h in content.handouts if system is not None
               and any(c.system == system and c.code == code for c in h.codes)]
    entries = []
    for handout in matches:
        state = approval_state(handout, settings.clinic, approvals.get(handout.id), settings.review_interval_years)
        entries.append({
            "id": {"_value": handout.id},
            "lang": html_lang(locale),
            "title": {"_value": translate(language.translations, handout.title), "type": "text"},
            "summary": {"_value": translate(language.translations, handout.summary), "type": "text"},
            "link": _links(project, locale, handout, server_url),
            "revision": handout.revision.number,
            # A clinician's approval covers the text and the codes together (approval.py).
            "clinicalApproval": state.status,
            "codesVerified": state.current,
            "translationReviewed": not language.draft,
        })
    feed = {
        "lang": html_lang(locale),
        "title": {"_value": f"{settings.clinic.name}: patient handouts", "type": "text"},
        "subtitle": {"_value": f"Handouts for {NAMES.get(system or '', system_name)} code {code} "
                               f"in {native_language_name(locale)}", "type": "text"},
        "author": {"name": {"_value": settings.clinic.name}},
        "category": [{"scheme": CODE, "term": code}, {"scheme": SYSTEM, "term": system_name},
                     {"scheme": LANGUAGE, "term": requested}],
        "entry": entries,
    }
    if note:
        feed["note"] = {"_value": note, "type": "text"}
    return {"feed": feed}


def _prepare(project: Project, content: Content, locale: str | None) -> dict[str, Language]:
    """The requested locale (and the source), through the prepared locale like every command."""
    ready = {}
    for loc in dict.fromkeys(filter(None, (locale, project.settings.source_locale))):
        prepared = prepare_locale(project, loc, content)
        if prepared.ok:
            ready[loc] = Language(prepared.translations, prepared.draft)
    return ready
