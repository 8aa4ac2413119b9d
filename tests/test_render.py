"""Render stage: escaping, the tiny markup, number isolation, RTL, golden HTML."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from babel.support import Translations

from handoutkit.content.handouts import load_content
from handoutkit.content.settings import Project
from handoutkit.outputs.build import html_path
from handoutkit.render.renderer import (
    css_counter_content,
    css_string,
    make_renderer,
    prose,
)
from handoutkit.translation.catalogs import load_translations

GOLDEN = Path(__file__).parent / "data" / "golden"
VALUES = {"clinic_phone": "(555) 010-0199", "emergency_number": "911"}


def test_prose_escapes_markup_from_translations() -> None:
    html = prose('<img src="file:///etc/passwd"> & <link rel=attachment href="/etc/hosts">', VALUES)
    assert "<img" not in html and "<link" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt; &amp; &lt;link" in html


def test_prose_renders_bold_placeholders_and_isolated_numbers() -> None:
    html = prose("Call **{emergency_number}** now, or {clinic_phone} in 3 weeks.", VALUES)
    assert html == ('Call <strong><bdi dir="ltr">&#x2066;911&#x2069;</bdi></strong> now, or '
                    '<bdi dir="ltr">&#x2066;(555) 010-0199&#x2069;</bdi> in '
                    '<bdi dir="ltr">&#x2066;3&#x2069;</bdi> weeks.')


def test_latin_words_in_text_of_another_script_carry_the_source_language() -> None:
    """English words inside Chinese text carried no language tag (issue 24): a screen reader read
    "ACDF" and "cervical" with the Chinese voice. Numbers and placeholders stay isolated."""
    html = prose('在ACDF手术中，"cervical"一词的意思是颈部。请拨打{clinic_phone}。', VALUES, latin_lang="en")
    assert html == ('在<span lang="en">ACDF</span>手术中，&#34;<span lang="en">cervical</span>&#34;一词的意思是'
                    '颈部。请拨打<bdi dir="ltr">&#x2066;(555) 010-0199&#x2069;</bdi>。')
    assert "lang" not in prose("In an ACDF, see 3 weeks.", VALUES)  # a Latin-script locale: no tags


@pytest.mark.parametrize("locale, latin", [("en", True), ("vi", True), ("tl", True), ("zh_Hans", False),
                                           ("zh_Hant", False), ("ko", False), ("ru", False), ("ne", False),
                                           ("ar", False), ("sr_Latn", True), ("sr_Cyrl", False), ("uz", True)])
def test_which_locales_write_in_latin_comes_from_cldr(locale: str, latin: bool) -> None:
    from handoutkit.translation.locales import writes_in_latin

    assert writes_in_latin(locale) is latin


@pytest.mark.slow  # lays out and tags a Chinese handout
def test_latin_words_in_a_chinese_pdf_are_tagged_english(tmp_path: Path) -> None:
    import pikepdf

    from handoutkit.render import pdftags

    from .layout import lay_out_repository_handout

    document = lay_out_repository_handout(tmp_path, "zh_Hans", "acdf", False)
    with pdftags.recording() as record:
        raw = document.write_pdf(pdf_variant="pdf/ua-1")
    repaired, _ = pdftags.repair(raw, record)
    languages = []

    def visit(element: object) -> None:
        if isinstance(element, pikepdf.Array):
            for kid in element:
                visit(kid)
        elif isinstance(element, pikepdf.Dictionary):
            languages.append((str(element.get("/S")), str(element.get("/Lang", ""))))
            kids = element.get("/K")
            for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                visit(kid)

    with pikepdf.open(io.BytesIO(repaired)) as pdf:
        assert str(pdf.Root.Lang) == "zh-Hans"
        visit(pdf.Root.StructTreeRoot.K)
    # "ACDF" in the title's paragraph, the key points and the body; never the whole document
    assert languages.count(("/Span", "en")) >= 3, languages


def test_unbalanced_bold_is_printed_not_guessed() -> None:
    assert prose("a ** b", VALUES) == "a ** b"


def test_css_strings_cannot_escape_their_context() -> None:
    assert css_string('a"b</style>') == '"a\\22 b\\3C /style\\3E "'
    assert css_counter_content("Página %(page)s de %(pages)s") == \
        '"Página " counter(page) " de " counter(pages)'


def renderer_for(project: Project, locale: str, translations=None):
    translations = translations or load_translations(project, locale)
    return make_renderer(project, locale, translations, ("Noto Sans",), draft=True)


def test_translated_label_cannot_inject_html(sample: Project) -> None:
    catalog_path = sample.po_path("es")
    text = catalog_path.read_text()
    catalog_path.write_text(text.replace('"¿Preguntas? Llame al %(phone)s."',
                                         '"<script>x</script> %(phone)s."'))
    content = load_content(sample.handouts_dir, sample.root)
    html = renderer_for(sample, "es").html(content.get("walking"))
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_rtl_locale_gets_dir_and_mirrored_page_furniture(sample: Project) -> None:
    content = load_content(sample.handouts_dir, sample.root)
    html = renderer_for(sample, "ar", Translations()).html(content.get("walking"))
    assert '<html lang="ar" dir="rtl">' in html
    assert "Right-to-left" in html  # the mirrored @page block is present


@pytest.mark.slow  # reads the built sample (a build that renders)
def test_golden_html(built_sample: Project) -> None:
    """The es HTML of the sample handout, byte for byte. Regenerate with UPDATE_GOLDEN=1."""
    actual = html_path(built_sample, "es", "walking").read_text("utf-8")
    golden = GOLDEN / "walking.es.html"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, "utf-8")
    assert actual == golden.read_text("utf-8"), "HTML changed; review it, then UPDATE_GOLDEN=1 pytest"


def test_front_desk_text_keeps_its_own_direction() -> None:
    from handoutkit.render.renderer import isolated_auto

    # First-strong isolation: Latin typed into an Arabic handout stays left-to-right, escaped.
    assert isolated_auto("Bring <b>list</b>.") == "<bdi>&#x2068;Bring &lt;b&gt;list&lt;/b&gt;.&#x2069;</bdi>"
    # A line break ends an isolate (bidi rule X8): each line of the instructions has its own.
    assert isolated_auto("Bring your list.\nNo food.") == \
        "<bdi>&#x2068;Bring your list.&#x2069;\n&#x2068;No food.&#x2069;</bdi>"


def test_a_template_is_compiled_once_for_every_locale_and_again_when_it_changes(sample: Project, monkeypatch) -> None:
    """The environments share compiled templates; each still prints its own translations."""
    import gettext

    from jinja2 import Environment

    from handoutkit.render.renderer import make_environment

    class Shouting(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return message.upper()

    compiled: list[str] = []
    compile_template = Environment.compile
    monkeypatch.setattr(Environment, "compile", lambda env, source, name=None, *args, **kwargs: (
        compiled.append(name), compile_template(env, source, name, *args, **kwargs))[1])
    probe = sample.templates_dir / "probe.html"
    probe.write_text("{{ _('Call us') }}", "utf-8")

    def render(translations: gettext.NullTranslations) -> str:
        return make_environment(sample, translations).get_template("probe.html").render()

    assert render(gettext.NullTranslations()) == "Call us"
    assert render(Shouting()) == "CALL US"
    assert compiled == ["probe.html"]
    probe.write_text("{{ _('Call us today') }}", "utf-8")
    assert render(Shouting()) == "CALL US TODAY"
    assert compiled == ["probe.html", "probe.html"]


def test_a_short_last_word_is_bound_to_the_word_before_it() -> None:
    """71 paragraphs ended with one short word alone on their last line ("ng / ulo."): the last
    word, when short, is joined to the one before by a no-break space (print only)."""
    from handoutkit.render.renderer import bind_last_word

    html = ("<head><title>a b</title></head><body><p>matinding sakit ng ulo.</p><li>Call <bdi>911</bdi>.</li>"
            "<h2>Dấu hiệu cột sống</h2><p>a wordiest\n  </p><p>x</p></body>")
    assert bind_last_word(html) == (
        "<head><title>a b</title></head><body><p>matinding sakit ng\u00a0ulo.</p><li>Call <bdi>911</bdi>.</li>"
        "<h2>Dấu hiệu cột\u00a0sống</h2><p>a wordiest\n  </p><p>x</p></body>")


def test_no_line_break_after_a_hard_hyphen_inside_a_word() -> None:
    """pdftotext read "Dahan-" at a line's end as a hyphenated break and gave "Dahandahang" (7
    Tagalog and English sentences): a word joiner after a hyphen between two letters, in the
    body's text only; numbers, attributes, <style> and the <head> are left as they are."""
    from handoutkit.render.renderer import keep_hyphenated_words

    html = ('<head><title>check-up</title></head><body lang="zh-Hant" class="a-b">'
            '<style>.x-y { }</style><p data-x="a-b">Dahan-dahang, check-up, 010-0142, well- known,'
            ' -x, Тест-драйв, ACDF-</p></body>')
    assert keep_hyphenated_words(html) == (
        '<head><title>check-up</title></head><body lang="zh-Hant" class="a-b">'
        '<style>.x-y { }</style><p data-x="a-b">Dahan-\u2060dahang, check-\u2060up, 010-0142, well- known,'
        ' -x, Тест-\u2060драйв, ACDF-</p></body>')


def test_the_binding_is_for_print_only(sample: Project) -> None:
    content = load_content(sample.handouts_dir, sample.root)
    renderer = renderer_for(sample, "en", Translations())
    printed, web = renderer.html(content.get("walking")), renderer.html(content.get("walking"), web=True)
    assert "\u00a0" in printed.split("<body", 1)[1] and "\u00a0" not in web.split("<body", 1)[1]
