"""No reach beyond the project: markup in a translation or in the English never fetches or embeds anything.

Hostile strings (an <img> of /etc/passwd, a <link rel=attachment>, CSS url()
and @import inside a <style>, <object>, `../` paths, http:// URLs, a CSS
string break-out) are planted in the sample's es catalog and in walking.yaml.
Whatever happens, the PDF holds no embedded file and none of the
target files' text; where the string is printed at all, it is printed as the
literal characters the translator typed.
"""

from __future__ import annotations

import http.server
import io
import subprocess
import threading
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from babel.messages.pofile import read_po, write_po
from hypothesis import given, settings
from hypothesis import strategies as st

from handoutkit.content.settings import Project
from handoutkit.errors import ProblemsError
from handoutkit.outputs.build import build, html_path, pdf_path

SECRET = "HANDOUTKIT-SECRET-TOKEN-zqxjv"  # content of a file the PDFs must never show
PASSWD_FIRST = Path("/etc/passwd").read_text().splitlines()[0].split(":", 4)
PASSWD_MARK = ":".join(PASSWD_FIRST[:4])  # "root:x:0:0"
HOSTNAME = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""

# No digits: the number check would (rightly) refuse a translation that adds numbers.
ATTACKS = [
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/hostname">',
    '<style>@import url(file:///etc/passwd); body { background: url(file:///etc/passwd) }</style>',
    '<object data="file:///etc/passwd" type="text/plain"></object>',
    '<img src="../secret.txt"><img src="../../../../../../etc/passwd">',
    '<a rel="attachment" href="../secret.txt">attached</a>',
    '<img src="http://localhost/pixel.png"><link rel=stylesheet href="https://example.invalid/x.css">',
    '<embed src="file:///etc/passwd"><iframe src="file:///etc/passwd"></iframe>',
    '<svg><image href="file:///etc/passwd"/></svg>',
    '"); } @import url(file:///etc/passwd); @page { background: url(../secret.txt) } x { content: ("',
]


# ---------------------------------------------------------------- helpers


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def squeeze(text: str) -> str:
    """Text without whitespace or hyphens: a long path wraps, and may be hyphenated, wherever
    the line happens to end (its length depends on the temporary folder's name)."""
    return "".join(text.split()).replace("-", "").replace("\u00ad", "").replace("\u2010", "")


def all_pdf_bytes(path: Path) -> bytes:
    """The raw file plus every stream, decompressed: where a leaked file could hide."""
    from pypdf import PdfReader
    from pypdf.generic import StreamObject

    raw = path.read_bytes()
    reader = PdfReader(path)
    chunks = [raw]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - a free slot: nothing to read there
            obj = None
        if isinstance(obj, StreamObject):
            chunks.append(obj.get_data())
    return b"\n".join(chunks)


def assert_nothing_embedded_or_leaked(path: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(path)
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object(), "the PDF embeds a file"
    assert "/AF" not in root, "the PDF has associated files"
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment", "file attachment annotation"
    text = pdf_text(path)
    everything = all_pdf_bytes(path)
    for secret in (SECRET, PASSWD_MARK, *([HOSTNAME] if len(HOSTNAME) >= 6 else [])):
        assert secret not in text, f"{secret!r} leaked into the PDF text"
        assert secret.encode() not in everything, f"{secret!r} leaked into the PDF bytes"


def assert_style_has_no_fetches(html: str) -> None:
    """The <style> of the page parses cleanly and has no @import and no url()."""
    import re

    import tinycss2

    styles = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    assert len(styles) == 1, styles

    def walk(nodes) -> None:
        for node in nodes:
            assert node.type != "error", f"CSS parse error: {node.message}"
            assert node.type != "url", node.serialize()
            assert not (node.type == "function" and node.lower_name == "url"), node.serialize()
            if node.type == "at-rule":
                assert node.lower_at_keyword != "import", node.serialize()
            walk(getattr(node, "prelude", None) or [])
            walk(getattr(node, "content", None) or [])
            walk(getattr(node, "arguments", None) or [])

    walk(tinycss2.parse_stylesheet(styles[0]))


def plant_secret(project: Project) -> None:
    (project.root / "secret.txt").write_text(SECRET + "\n")


def rewrite_catalog(path: Path, strings: dict[str, str]) -> None:
    """Set some msgstrs of a PO file through Babel (which escapes quotes correctly)."""
    catalog = read_po(io.BytesIO(path.read_bytes()), abort_invalid=True)
    for msgid, value in strings.items():
        assert msgid in catalog, msgid
        catalog[msgid].string = value
    out = io.BytesIO()
    write_po(out, catalog, width=76)
    path.write_bytes(out.getvalue())


def hostile_es_strings() -> dict[str, str]:
    """Markup in the entries of the sample's es catalog (every one ends up in walking.pdf)."""
    return {
        "Walking after surgery": f"Caminar {ATTACKS[0]} {ATTACKS[1]}",  # <title>, <h1>, CSS, /Title
        "Walking helps you heal.": f"Caminar le ayuda. {ATTACKS[2]}",
        "Why walk": f"Por qué {ATTACKS[3]}",
        "Walk soon after surgery.": f"Camine pronto. {ATTACKS[4]}",
        "Rest when you are tired.": f"Descanse. {ATTACKS[5]}",
        "Stand up slowly.": f"Levántese. {ATTACKS[6]}",
        "Walk for a short time.": f"Camine. {ATTACKS[7]} {ATTACKS[8]}",
        "When to call": f"Cuándo llamar {ATTACKS[9]}",
        # Both go into the page margins as CSS strings.
        "Page %(page)s of %(pages)s": f"Página %(page)s {ATTACKS[9]} de %(pages)s",
        "Revision %(number)s": f"Revisión %(number)s {ATTACKS[9]}",
    }


CSS_BREAK_OUT = '"); } @import url(../secret.txt); html { background: url(../secret.txt) } x { content: ("'

# No tags and no absolute URLs: only an attempt to close the CSS strings of the page margins.
CSS_ES_STRINGS = {
    "Walking after surgery": f"Caminar {CSS_BREAK_OUT}",
    "Page %(page)s of %(pages)s": f"Página %(page)s {CSS_BREAK_OUT} de %(pages)s",
    "Revision %(number)s": f"Revisión %(number)s {CSS_BREAK_OUT}",
}


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(SECRET.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server():
    """A local HTTP server that answers with the secret and records every request."""
    Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------- translations


@pytest.mark.parametrize("attack", ["tags", "css"])
def test_markup_in_translations_is_text_or_refused(sample: Project, attack: str) -> None:
    plant_secret(sample)
    po = sample.po_path("es")
    strings = hostile_es_strings() if attack == "tags" else CSS_ES_STRINGS
    rewrite_catalog(po, strings)

    result = build(sample, locales=("es",), handout_ids=("walking",), editions=("standard",),
                   workers=1, progress=lambda line: None)
    pdf = pdf_path(sample, "es", "walking")
    if "es" in result.skipped_locales:
        # Refused by the check: named at the catalog's file:line, and nothing printed.
        label = sample.rel(po)
        assert any(p.path == label and p.line > 0 for p in result.problems), \
            [str(p) for p in result.problems]
        assert not pdf.exists()
        return
    assert result.ok, [str(p) for p in result.problems]
    assert_nothing_embedded_or_leaked(pdf)
    # Printed as the literal characters of the translation.
    text = squeeze(pdf_text(pdf))
    for value in strings.values():
        if "%(" not in value:
            assert squeeze(value) in text, value
    html = html_path(sample, "es", "walking").read_text("utf-8")
    for tag in ("<img", "<link rel=attachment", "<object", "<embed", "<iframe", "<svg", "<a rel"):
        assert tag not in html, tag
    assert_style_has_no_fetches(html)


@pytest.mark.slow  # renders a PDF
def test_rendering_is_safe_even_if_the_check_is_bypassed(sample: Project) -> None:
    """Escaping and the fetcher, not the check, are what keep a hostile catalog harmless."""
    from babel.messages.catalog import Catalog

    from handoutkit.content.handouts import load_content
    from handoutkit.render.fonts import activate_fontconfig
    from handoutkit.render.renderer import PdfWriter, make_renderer
    from handoutkit.translation.catalogs import compile_translations
    from handoutkit.translation.fontplan import load_font_plan

    plant_secret(sample)
    catalog = Catalog(locale="es")
    for msgid, value in hostile_es_strings().items():
        catalog.add(msgid, value)
    handout = load_content(sample.handouts_dir, sample.root).get("walking")
    activate_fontconfig(sample, load_font_plan(sample))
    renderer = make_renderer(sample, "es", compile_translations(catalog), ("Noto Sans",), False)
    html = renderer.html(handout)
    # Every hostile tag is escaped text; the <link> and <style> of the template are the only ones.
    assert html.count("<img") == html.count("<object") == html.count("<embed") == 0
    assert html.count("<iframe") == html.count("<svg") == html.count('<a rel="attachment"') == 0
    assert html.count("<link") == 1 and html.count("<style>") == 1
    # A refused fetch is a WeasyPrint warning, which fails the render: this must render cleanly.
    data, _ = PdfWriter(sample).pdf(html)
    out = sample.root / "bypassed.pdf"
    out.write_bytes(data)
    assert_nothing_embedded_or_leaked(out)
    text = squeeze(pdf_text(out))
    assert squeeze(f"Por qué {ATTACKS[3]}") in text
    assert squeeze(f"Camine pronto. {ATTACKS[4]}") in text


# ---------------------------------------------------------------- the English source


@pytest.mark.slow  # renders a PDF
def test_markup_in_the_english_yaml_is_printed_as_text(sample: Project, http_server) -> None:
    plant_secret(sample)
    port = http_server.server_address[1]
    secret_url = (sample.root / "secret.txt").as_uri()
    path = sample.handouts_dir / "walking.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["title"] = f'Walking <img src="{secret_url}"> <link rel=attachment href="file:///etc/hostname">'
    data["summary"] = (f'Walk. <style>@import url(http://127.0.0.1:{port}/import.css); '
                       f'html {{ background: url({secret_url}) }}</style>')
    section = data["sections"][0]
    section["heading"] = f'Why <object data="http://127.0.0.1:{port}/object"></object>'
    section["blocks"][1]["bullets"] = [
        f'Walk <img src="http://127.0.0.1:{port}/pixel.png">.',
        '<a rel="attachment" href="../secret.txt">Rest</a> <img src="../../../../../../../etc/passwd">',
    ]
    section["blocks"][2]["steps"] = [
        f'<iframe src="{secret_url}"></iframe> <embed src="file:///etc/passwd">',
        f'"); }} @import url(http://127.0.0.1:{port}/css); x {{ content: ("',
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")

    result = build(sample, locales=("en",), handout_ids=("walking",), editions=("standard",),
                   workers=1, progress=lambda line: None)
    pdf = pdf_path(sample, "en", "walking")
    assert Recorder.requests == [], f"the build fetched {Recorder.requests}"
    if not pdf.exists():  # refused: then at the YAML's file:line
        assert any(p.path == "handouts/walking.yaml" and p.line > 0 for p in result.problems), \
            [str(p) for p in result.problems]
        return
    assert result.ok, [str(p) for p in result.problems]
    assert_nothing_embedded_or_leaked(pdf)
    text = squeeze(pdf_text(pdf))
    for expected in (section["heading"], *section["blocks"][1]["bullets"], *section["blocks"][2]["steps"]):
        assert squeeze(expected) in text, expected


def test_css_break_out_in_the_title_is_text_or_refused_at_its_line(sample: Project) -> None:
    """A form feed ends a CSS string; the title goes into the page margin as a CSS string."""
    plant_secret(sample)
    path = sample.handouts_dir / "walking.yaml"
    source = path.read_text("utf-8")
    title = '"Walking\\f} @page { background: url(../secret.txt) } x { content: \\""'
    path.write_text(source.replace("title: Walking after surgery", f"title: {title}"), "utf-8")
    try:
        result = build(sample, locales=("en",), handout_ids=("walking",), editions=("standard",),
                       workers=1, progress=lambda line: None)
    except ProblemsError as refused:  # content problems stop the build before anything is written
        problems = refused.problems
    else:
        problems = result.problems
    pdf = pdf_path(sample, "en", "walking")
    if pdf.exists():
        assert not problems, [str(p) for p in problems]
        assert_nothing_embedded_or_leaked(pdf)
    else:
        # Refused: the problem must point at the title's line in the YAML, not at a render failure.
        assert any(p.path == "handouts/walking.yaml" and p.line == 2 for p in problems), \
            [str(p) for p in problems]


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_css_string_round_trips_through_a_css_parser(text: str) -> None:
    """css_string(s) is one CSS string token whose value is exactly s: nothing can break out."""
    import tinycss2

    from handoutkit.render.renderer import css_string

    tokens = [t for t in tinycss2.parse_component_value_list(str(css_string(text)))
              if t.type != "whitespace"]
    assert [t.type for t in tokens] == ["string"], tokens
    assert tokens[0].value == text


# ---------------------------------------------------------------- the URL fetcher


@pytest.fixture
def fetcher(sample: Project):
    from handoutkit.render.renderer import make_url_fetcher

    return make_url_fetcher(sample.templates_dir)


def test_fetcher_serves_a_file_under_templates(sample: Project, fetcher) -> None:
    css = sample.templates_dir / "print.css"
    response = fetcher.fetch(css.resolve().as_uri())
    assert response.read() == css.read_bytes()


def refused_urls(project: Project, port: int) -> list[str]:
    templates = project.templates_dir.resolve()
    (project.root / "secret.txt").write_text(SECRET)
    (templates / "link.css").symlink_to("/etc/passwd")
    (templates / "link-secret.css").symlink_to(project.root / "secret.txt")
    return [
        "file:///etc/passwd",
        "file:///etc/hostname",
        (project.root / "secret.txt").as_uri(),
        (project.handouts_dir / "clinic.yaml").as_uri(),
        f"{templates.as_uri()}/../secret.txt",
        f"{templates.as_uri()}/../../../../../../../../etc/passwd",
        f"{templates.as_uri()}/%2e%2e/secret.txt",
        f"{templates.as_uri()}/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        f"{templates.as_uri()}/pages/../../secret.txt",
        f"{templates.as_uri()}/link.css",  # a symlink out of templates/
        f"{templates.as_uri()}/link-secret.css",
        f"file://localhost{project.root / 'secret.txt'}",
        f"http://127.0.0.1:{port}/print.css",
        f"https://127.0.0.1:{port}/print.css",
        "http://example.invalid/print.css",
        "https://example.invalid/print.css",
        "data:text/css,html%7Bbackground:red%7D",
        "data:text/plain;base64,cm9vdDp4OjA6MA==",
        f"ftp://127.0.0.1:{port}/print.css",
    ]


def test_fetcher_refuses_everything_outside_templates(sample: Project, fetcher, http_server) -> None:
    served = []
    for url in refused_urls(sample, http_server.server_address[1]):
        try:
            response = fetcher.fetch(url)
        except Exception:  # noqa: BLE001, S112 - a refusal, whatever its type, is what we want
            continue
        served.append(f"{url} -> {response.read()[:40]!r}")
    assert served == [], "served from outside templates/:\n" + "\n".join(served)
    assert Recorder.requests == [], f"the fetcher made requests: {Recorder.requests}"
