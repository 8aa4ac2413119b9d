"""The front desk in a real browser: Playwright driving Debian's Chromium (headless)."""

from __future__ import annotations

import io
import shutil
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from werkzeug.serving import make_server

from handoutkit.content.settings import Project
from handoutkit.desk.server import create_app

pytestmark = pytest.mark.slow  # Chromium

REPO = Path(__file__).resolve().parent.parent




@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # Headless Chromium has no print dialog (print() on a PDF frame crashes the page there):
    # record the call instead. Headed Chromium opens its print preview on the same call.
    page.add_init_script("window.handoutsPrint = function (w) { window.printCalls = (window.printCalls || 0) + 1; };")
    yield page
    page.close()


def test_catalog_search_language_and_open_pdf(page, built_sample: Project) -> None:
    page.goto((built_sample.build_dir / "index.html").as_uri())
    cards = page.locator("#handouts .card")
    assert cards.count() == 1
    page.fill("#search", "nothing-matches-this")
    assert page.locator("#empty").is_visible()
    page.fill("#search", "caminar")  # the Spanish title is searchable too
    assert page.locator("#handouts .card:visible").count() == 1
    page.select_option("#language", "es")
    variant = page.locator('.variant[data-locale="es"]')
    assert variant.is_visible()
    assert variant.locator("h2").inner_text() == "Caminar después de la cirugía"
    assert "Draft translation" in variant.inner_text()
    link = variant.locator("a.button", has_text="Open PDF")
    href = link.get_attribute("href")
    assert href == "pdf/es/walking.pdf"
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.url.endswith("/build/pdf/es/walking.pdf")
    assert (built_sample.build_dir / href).stat().st_size > 1000
    page.screenshot(path=str(built_sample.build_dir / "catalog.png"))


def test_catalog_is_usable_by_keyboard(page, built_sample: Project) -> None:
    page.goto((built_sample.build_dir / "index.html").as_uri())
    assert page.evaluate("document.activeElement.id") == "search"  # focus starts in the search box
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "language"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Open PDF")


@pytest.fixture
def server(built_sample: Project, tmp_path: Path):
    yield from run_server(create_app(built_sample, state_dir=tmp_path / "var"))


def run_server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


def fill_form(page, built_sample: Project) -> None:
    page.select_option("#language", "es")
    assert page.eval_on_selector("#f-locale", "e => e.value") == "es"  # the picker fills the form
    page.select_option("#f-handout", "walking")
    page.fill("#f-name", "María José Pérez")
    page.fill("#f-date", "2027-03-14")
    page.fill("#f-time", "07:30")
    page.fill("#f-surgeon", "Dra. Chen")


def printed_pdf(page) -> bytes:
    """The PDF the Print button put in the print frame (read back from its blob: URL)."""
    # Polled from here: wait_for_function would evaluate a string, which the page's CSP forbids.
    for _ in range(300):
        if page.evaluate("() => document.body.dataset.printed") is not None:
            break
        page.wait_for_timeout(100)
    data = page.evaluate("""async () => {
        const response = await fetch(document.body.dataset.printed);
        const bytes = new Uint8Array(await response.arrayBuffer());
        let text = ""; for (const b of bytes) text += String.fromCharCode(b);
        return btoa(text);
    }""")
    import base64
    return base64.b64decode(data)


def test_print_button_opens_the_print_dialog_on_the_personalised_pdf(page, server: str, built_sample: Project) -> None:
    page.goto(server)
    fill_form(page, built_sample)
    page.screenshot(path=str(built_sample.build_dir / "form.png"), full_page=True)
    page.click("#print-button")
    data = printed_pdf(page)
    assert page.get_attribute("#print-frame", "src").startswith("blob:")
    assert page.evaluate("() => window.printCalls") == 1  # the print dialog was asked for
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "María José Pérez" in text and "14 de marzo de 2027" in text
    assert page.locator("#print-warning").is_hidden()


def test_open_pdf_button_posts_the_form_into_a_new_tab(page, server: str, built_sample: Project) -> None:
    page.goto(server)
    fill_form(page, built_sample)
    # Chromium hands a PDF navigation to its viewer, which hides the bytes from
    # Playwright; so the test passes the browser's own POST through and keeps a copy.
    received: list[bytes] = []

    def keep_copy(route):
        response = route.fetch()
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        received.append(response.body())
        route.fulfill(response=response)

    page.context.route("**/print", keep_copy)
    with page.context.expect_event("page"):
        page.click("#open-button")
    page.wait_for_timeout(500)
    assert received, "the form did not reach /print"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(received[0])).pages)
    assert "María José Pérez" in text and "14 de marzo de 2027" in text


def test_form_error_is_shown_on_the_page(page, server: str) -> None:
    page.goto(server)
    page.fill("#f-name", "<b>bold</b>")
    page.click("#print-button")
    page.wait_for_selector("#print-warning:not([hidden])")
    assert "not allowed" in page.locator("#print-warning").inner_text()


def test_stats_dashboard_renders(page, built_sample: Project) -> None:
    from handoutkit.outputs.stats import collect, write_dashboard

    write_dashboard(built_sample, collect(built_sample))
    page.goto((built_sample.build_dir / "stats.html").as_uri())
    bars = page.locator("svg rect")
    assert bars.count() == 3 * len(built_sample.settings.locales)  # translated, fuzzy, untranslated each
    rows = page.locator("table tbody tr")
    # 6 of the 41 strings the sample prints now (the template and picture strings de lacks count too)
    assert rows.nth(2).inner_text().split("\t")[:3] == ["de", "Deutsch", "14.6%"]
    assert page.locator("svg").bounding_box()["width"] > 500  # laid out, not collapsed
    page.screenshot(path=str(built_sample.build_dir / "stats.png"), full_page=True)


@pytest.fixture(scope="module")
def repo_server(tmp_path_factory):
    """The repository's own handouts, packets and 13 locales, served (nothing needs building)."""
    from tests.conftest import copy_repo

    project = copy_repo(tmp_path_factory.mktemp("repo-desk"))
    shutil.copy(REPO / "handouts" / "packets.yaml", project.handouts_dir / "packets.yaml")
    app = create_app(project, state_dir=project.root / "var")
    for url in run_server(app):
        yield url, project


def test_spanish_symptom_search_and_a_personalised_packet(page, repo_server) -> None:
    url, project = repo_server
    page.goto(url)
    page.select_option("#language", "es")
    page.fill("#search", "ciática")  # a symptom, in the patient's language
    visible = page.locator("#handouts .card:visible")
    titles = sorted(visible.locator('.variant[data-locale="es"] h2').all_inner_texts())
    assert titles and all("lumbar" in t.lower() for t in titles), titles
    assert any("Discectomía lumbar" in t for t in titles)
    page.fill("#search", "cuello")
    assert page.locator("#handouts .card:visible").count() == 3  # ACDF, disc replacement, foraminotomy
    assert "data-id" not in page.locator("#handouts .card:visible").first.inner_text()
    page.select_option("#f-handout", "packet:lumbar-discectomy")
    page.fill("#f-name", "María José Pérez")
    page.fill("#f-surgeon", "Dra. Chen")
    page.screenshot(path=str(project.root / "packet-form.png"), full_page=False)
    page.click("#print-button")
    data = printed_pdf(page)
    reader = PdfReader(io.BytesIO(data))
    pages = [p.extract_text() or "" for p in reader.pages]
    assert len(pages) % 2 == 0
    starts = [i for i, text in enumerate(pages) if "María José Pérez" in text]
    assert len(starts) == 4, starts  # four handouts, the details on the first page of each
    assert all(i % 2 == 0 for i in starts), starts  # each begins on the front of a sheet
    for index, start in enumerate(starts):  # the sheets between are the handout's own, or blank
        end = starts[index + 1] if index + 1 < len(starts) else len(pages)
        assert end - start in (2, 4)
    rows = [r["handout"] for r in app_log(project)]
    assert rows[-4:] == ["preparing-for-surgery", "lumbar-discectomy", "recovery-at-home", "warning-signs"]


def app_log(project: Project) -> list[dict]:
    from handoutkit.desk.printlog import PrintLog

    return PrintLog.reader(project.root / "var").rows()
