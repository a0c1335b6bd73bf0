"""The page in a real headless Chromium, driven by Playwright, against a real `nst serve`.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` package; Playwright's own
browser download is never used. Screenshots of every screen go to a temporary folder, or to
$NST_SCREENSHOTS (e.g. ``NST_SCREENSHOTS=docs/img``), which also makes the job larger so the
pictures in the docs look like paintings.

The server's bundled style models are tiny untrained ones made here, or the ``NAME.pt`` +
``NAME.onnx`` pairs in $NST_TEST_MODELS (e.g. ``src/nst/models/bundled``, for the docs' pictures);
its any-painting decoder likewise a tiny untrained one, or the file $NST_TEST_DECODER names (e.g.
``src/nst/universal/bundled/decoder.pt``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.web.helpers import make_decoder, make_style_models, picture_bytes, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SHARED_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"
PAINTINGS = {
    "starry-night": "Vincent van Gogh, The Starry Night (1889)",
    "the-scream": "Edvard Munch, The Scream (1893)",
    "great-wave": "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831)",
    "udnie": "Francis Picabia, Udnie (1913)",
}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs the playwright package (pip install playwright)"
)
pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ["NST_SCREENSHOTS"]) if os.environ.get("NST_SCREENSHOTS") else None
    folder = folder or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> tuple[Path, Path]:
    """Real photo and painting when ../shared/images is there, made-up ones otherwise."""
    photo, painting = SHARED_IMAGES / "tubingen.jpg", SHARED_IMAGES / "starry_night.jpg"
    if photo.is_file() and painting.is_file():
        return photo, painting
    folder = tmp_path_factory.mktemp("pictures")
    (folder / "photo.png").write_bytes(picture_bytes(160, 120, seed=0))
    (folder / "painting.png").write_bytes(picture_bytes(160, 120, seed=3))
    return folder / "photo.png", folder / "painting.png"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    if os.environ.get("NST_TEST_MODELS"):
        return Path(os.environ["NST_TEST_MODELS"]).resolve()
    return make_style_models(tmp_path_factory.mktemp("models"), PAINTINGS)


@pytest.fixture(scope="module")
def decoder(tmp_path_factory) -> Path:
    if os.environ.get("NST_TEST_DECODER"):
        return Path(os.environ["NST_TEST_DECODER"]).resolve()
    return make_decoder(tmp_path_factory.mktemp("decoder") / "decoder.pt")


@pytest.fixture(scope="module")
def server(tmp_path_factory, models_dir, decoder):
    data = tmp_path_factory.mktemp("web") / "data"
    with running_server(data, args=["--quiet"], models_dir=models_dir, decoder=decoder) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def settle(page) -> None:
    """Wait until every image on the page has loaded (screenshots show no empty frames)."""
    page.wait_for_function(
        "() => [...document.images].filter(i => i.getAttribute('src')).every(i => i.complete && i.naturalWidth > 0)"
    )


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    # The page must load nothing from anywhere but the server.
    page.on("request", lambda req: None if req.url.startswith(("http://127.0.0.1", "blob:", "data:"))
            else errors.append(f"outside request: {req.url}"))  # fmt: skip
    return errors


def test_first_time_user_paints_a_picture(server, browser, pictures, shots):
    for_docs = bool(os.environ.get("NST_SCREENSHOTS"))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = watch_errors(page)
    page.goto(server.url + "/")
    page.wait_for_selector("#server:has-text('idle')")
    assert page.locator("#start").is_disabled()
    page.screenshot(path=shots / "web-1-start.png", full_page=True)

    # Pick the two pictures: thumbnails appear with their sizes once the server has them.
    page.set_input_files("#drop-content input", str(pictures[0]))
    page.set_input_files("#drop-style input", str(pictures[1]))
    for zone in ("#drop-content", "#drop-style"):
        page.wait_for_selector(f"{zone} .drop-meta span:nth-child(2)")
        assert page.locator(f"{zone} img").evaluate("img => img.naturalWidth > 0")
    page.wait_for_selector("#start:not([disabled])")

    if for_docs:
        page.fill("#size-num", "256")
        page.dispatch_event("#size-num", "change")
    else:
        if page.locator("#preset-field").is_visible():
            page.select_option("#preset", "")
        page.fill("#size-num", "48")
        page.dispatch_event("#size-num", "change")
        page.fill("#iterations-num", "30")
        page.dispatch_event("#iterations-num", "change")
    settle(page)
    page.screenshot(path=shots / "web-2-ready.png", full_page=True)

    # Record every status line and bar value the page shows, however fast the job runs.
    page.evaluate("""() => {
        window.__seen = [];
        const status = document.querySelector('#run-status');
        const bar = document.querySelector('#progress');
        new MutationObserver(() => window.__seen.push([status.textContent, bar.getAttribute('aria-valuenow')]))
            .observe(document.querySelector('#run'), {subtree: true, childList: true, characterData: true,
                                                      attributes: true});
    }""")
    page.click("#start")
    page.wait_for_selector("#run:not([hidden])")
    page.wait_for_selector("#run-status:has-text('Iteration')", timeout=120_000)
    if for_docs:
        page.wait_for_selector("#stage-image[src]", timeout=120_000)
        page.wait_for_function(
            "() => /Iteration (\\d+)/.exec(document.querySelector('#run-status').textContent)[1] > 100",
            timeout=300_000,
        )
        page.wait_for_timeout(2500)  # a fresh preview
    page.screenshot(path=shots / "web-3-painting.png", full_page=True)

    page.wait_for_selector("#run[data-status=done]", timeout=600_000)
    seen = page.evaluate("window.__seen")
    iterations = [int(m.group(1)) for text, _ in seen if (m := re.match(r"Iteration (\d+)", text))]
    assert len(set(iterations)) >= 2, f"progress did not move: {seen[:10]}"
    assert iterations == sorted(iterations)
    bars = [int(value) for _, value in seen if value is not None]
    assert max(bars) == 100 and any(0 < b < 100 for b in bars), bars

    # The result, large, with a download link that serves the PNG.
    page.wait_for_function("() => document.querySelector('#stage-image').src.includes('/result')")
    page.wait_for_function("() => document.querySelector('#stage-image').naturalWidth > 0")
    download = page.locator("#download")
    assert download.is_visible()
    href = download.get_attribute("href")
    assert re.fullmatch(r"/api/jobs/[0-9a-f]{32}/result\?download=1", href)
    response = page.request.get(server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("attachment")
    settle(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1200, (
        "the page is wider than the window"
    )
    page.screenshot(path=shots / "web-4-result.png", full_page=True)

    # The gallery has the finished painting with its settings.
    tile = page.locator(".tile[data-status=done]")
    tile.first.wait_for()
    assert tile.count() == 1
    assert tile.first.locator(".tile-image img").evaluate("img => img.naturalWidth > 0")
    settings = tile.first.locator(".tile-settings").inner_text()
    assert "strength 1×" in settings
    settle(page)
    page.locator("#gallery-section").screenshot(path=shots / "web-5-gallery.png")

    # Re-run with changes: the form takes the job's pictures and settings back.
    page.fill("#size-num", "32")
    tile.first.locator(".rerun").click()
    page.wait_for_selector("#form-message:has-text('Settings loaded')")
    assert page.input_value("#size-num") == ("256" if for_docs else "48")
    assert page.locator("#drop-content img").get_attribute("src").startswith("/api/images/")
    assert not page.locator("#start").is_disabled()

    # On a phone: one column, nothing wider than the screen.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone_errors = watch_errors(phone)
    phone.goto(server.url + "/")
    phone.wait_for_selector(".tile[data-status=done]")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    settle(phone)
    phone.screenshot(path=shots / "web-6-phone.png", full_page=True)
    phone.locator(".tile[data-status=done] .tile-image").click()
    phone.wait_for_selector("#run[data-status=done]")
    phone.wait_for_function("() => document.querySelector('#stage-image').naturalWidth > 0")
    phone.wait_for_timeout(800)  # the smooth scroll
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=shots / "web-7-phone-result.png")
    phone.close()

    # Delete: two clicks (the first arms the button), and the tile is gone.
    delete = tile.first.locator(".delete")
    delete.click()
    delete.click()
    page.wait_for_selector(".tile", state="detached")
    assert page.locator("#gallery-empty").is_visible()
    page.close()
    assert errors == [] and phone_errors == [], errors + phone_errors


def set_range(page, selector: str, value: int) -> None:
    page.eval_on_selector(
        selector, "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", value
    )


def test_an_instant_style_paints_the_photo_at_once(server, browser, pictures, shots):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = watch_errors(page)
    page.goto(server.url + "/")
    page.wait_for_selector("#server:has-text('idle')")
    choices = page.locator(".style-choice")
    assert choices.count() >= 1 and page.locator("#instant").is_visible()
    # The docs show The Starry Night when it is there.
    starry = page.locator(".style-choice[data-model='starry-night']")
    first = starry if starry.count() else choices.first
    name = first.get_attribute("data-model")
    assert first.is_disabled()  # no photo yet
    assert "Pick a photo" in page.inner_text("#instant-message")

    # A photo only: no painting needed.
    page.set_input_files("#drop-content input", str(pictures[0]))
    page.wait_for_selector("#drop-content .drop-meta span:nth-child(2)")
    page.wait_for_selector(".style-choice:not([disabled])")
    set_range(page, "#instant-strength", 80)
    assert page.inner_text("#instant-strength-out") == "80%"
    first.click()
    page.wait_for_selector("#run[data-status=done]", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('#stage-image').src.includes('/result')"
        " && document.querySelector('#stage-image').naturalWidth > 0"
    )
    title = page.inner_text(f".style-choice[data-model='{name}'] strong")
    assert title in page.inner_text("#run-status") and "strength" not in page.inner_text("#run-status")
    assert "80%" in page.inner_text("#run-stats")
    assert page.locator("#run-model").inner_text() == title and page.locator("#run-style").is_hidden()
    assert re.fullmatch(r"/api/jobs/[0-9a-f]{32}/result\?download=1", page.get_attribute("#download", "href"))

    # It is in the gallery with its settings, like any painting.
    tile = page.locator(".tile:has(.badge.instant)")
    tile.first.wait_for()
    assert title in tile.first.locator(".tile-settings").inner_text()
    assert "strength 80%" in tile.first.locator(".tile-settings").inner_text()
    settle(page)
    page.wait_for_timeout(800)  # the smooth scroll to the result
    page.locator("#run").screenshot(path=shots / "web-8-instant.png")

    # Re-run: the photo and the strength come back, ready for another style.
    set_range(page, "#instant-strength", 30)
    tile.first.locator(".rerun").click()
    page.wait_for_selector("#instant-message:has-text('pick a style')")
    assert page.input_value("#instant-strength") == "80"

    # On a phone: the styles fit the screen, and a tap paints.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone_errors = watch_errors(phone)
    phone.goto(server.url + "/")
    phone.wait_for_selector("#server:has-text('idle')")
    phone.set_input_files("#drop-content input", str(pictures[0]))
    phone.wait_for_selector(".style-choice:not([disabled])")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.locator(f".style-choice[data-model='{name}']").click()
    phone.wait_for_selector("#run[data-status=done]", timeout=60_000)
    phone.wait_for_function("() => document.querySelector('#stage-image').naturalWidth > 0")
    phone.wait_for_timeout(800)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    settle(phone)
    phone.screenshot(path=shots / "web-9-phone-instant.png")
    phone.close()
    page.close()
    assert errors == [] and phone_errors == [], errors + phone_errors


def test_any_painting_paints_the_two_pictures_at_once(server, browser, pictures, shots):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = watch_errors(page)
    page.goto(server.url + "/")
    page.wait_for_selector("#server:has-text('idle')")
    button = page.locator("#paint-any")
    assert button.is_visible() and button.is_disabled() and page.locator("#anypainting").is_visible()
    assert "Pick a photo and a painting" in page.inner_text("#any-message")

    # The same two pictures as "Paint it", and the choice beside it.
    page.set_input_files("#drop-content input", str(pictures[0]))
    page.set_input_files("#drop-style input", str(pictures[1]))
    page.wait_for_selector("#paint-any:not([disabled])")
    assert not page.locator("#start").is_disabled()
    set_range(page, "#any-strength", 80)
    set_range(page, "#any-stroke", 1)
    assert (page.inner_text("#any-strength-out"), page.inner_text("#any-stroke-out")) == ("80%", "2×")
    button.click()
    page.wait_for_selector("#run[data-status=done]", timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('#stage-image').src.includes('/result')"
        " && document.querySelector('#stage-image').naturalWidth > 0"
    )
    assert "style of your painting" in page.inner_text("#run-status")
    stats = page.inner_text("#run-stats")
    assert "80%" in stats and "2×" in stats
    assert page.locator("#run-style").is_visible() and page.locator("#run-model").is_visible()
    assert re.fullmatch(r"/api/jobs/[0-9a-f]{32}/result\?download=1", page.get_attribute("#download", "href"))

    # It is in the gallery with its settings, like any painting.
    tile = page.locator(".tile:has(.badge.anypainting)")
    tile.first.wait_for()
    settings = tile.first.locator(".tile-settings").inner_text()
    assert "any painting" in settings and "strength 80%" in settings and "strokes 2×" in settings
    settle(page)
    page.wait_for_timeout(800)  # the smooth scroll to the result
    page.locator("#run").screenshot(path=shots / "web-10-anypainting.png")

    # Re-run: the pictures and the settings come back.
    set_range(page, "#any-strength", 30)
    tile.first.locator(".rerun").click()
    page.wait_for_selector("#any-message:has-text('loaded')")
    assert (page.input_value("#any-strength"), page.input_value("#any-stroke")) == ("80", "1")
    assert not button.is_disabled()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1200
    page.close()
    assert errors == [], errors


def test_a_server_with_a_token_asks_for_it_once(tmp_path, browser):
    with running_server(tmp_path / "data", args=["--quiet"], env={"NST_TOKEN": "open-sesame"}) as server:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        page.goto(server.url + "/")
        page.wait_for_selector("#token-panel:not([hidden])")
        page.fill("#token-input", "wrong")
        page.click("#token-form button")
        page.wait_for_selector("#token-error:has-text('not right')")
        page.fill("#token-input", "open-sesame")
        page.click("#token-form button")
        page.wait_for_selector("#token-panel", state="hidden")
        page.wait_for_selector("#server:has-text('idle')")
        # The cookie carries it from now on, also for images and event streams.
        page.reload()
        page.wait_for_selector("#server:has-text('idle')")
        assert page.locator("#token-panel").is_hidden()
        page.close()
