"""The app in a real browser (Debian's chromium driven by Playwright): draw, slide, generate.

Screenshots go to test-artifacts/. Under CI=true a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import pytest

from bench.app_process import ROOT, RunningApp

from conftest import CHROMIUM, require_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def page():
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    import tempfile

    env = {"DLFS_ZOO_FLAGS": tempfile.mkdtemp(prefix="dlfs-flags-")}  # flags stay out of the data
    env["DLFS_ZOO_RESULTS"] = tempfile.mkdtemp(prefix="dlfs-browser-results-")  # and submissions
    app = RunningApp(env=env)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1300, "height": 1100})
        pg.goto(app.url)
        pg.wait_for_selector("#digit-pad canvas", timeout=60_000)
        yield pg
        browser.close()
    app.stop()


def _stroke(pg, points):
    pg.mouse.move(*points[0])
    pg.mouse.down()
    for x, y in points[1:]:
        pg.mouse.move(x, y, steps=4)
    pg.mouse.up()


def test_draw_a_seven_and_read_the_label(page):
    canvas = page.locator("#digit-pad canvas").first
    box = canvas.bounding_box()
    cx, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    h = box["height"] * 0.6
    # a person's 7: a bar, then a slightly slanted stem
    _stroke(page, [(cx - h * 0.3, top), (cx + h * 0.3, top)])
    _stroke(page, [(cx + h * 0.3, top), (cx + h * 0.1, top + h * 0.5), (cx - h * 0.05, top + h)])
    value = page.locator("#digit-label [data-testid=label-output-value]")
    value.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # predictions update while drawing: let the last stroke's answer land
    page.screenshot(path=str(ARTIFACTS / "browser-digits.png"))
    assert value.inner_text().strip() == "7", page.locator("#digit-label").inner_text()


def test_move_a_latent_slider_and_the_image_changes(page):
    page.get_by_role("tab", name="Latent").click()
    page.wait_for_selector("#z0 input[type=range]", timeout=30_000)
    page.locator("#z1 input[type=number]").fill("0.3")
    page.locator("#z1 input[type=number]").press("Enter")
    page.wait_for_selector("#latent-image img", timeout=30_000)
    first = page.locator("#latent-image img").get_attribute("src")
    page.locator("#z0 input[type=number]").fill("-0.9")
    page.locator("#z0 input[type=number]").press("Enter")
    page.wait_for_function(
        "(src) => document.querySelector('#latent-image img')?.getAttribute('src') !== src",
        arg=first,
        timeout=30_000,
    )
    page.screenshot(path=str(ARTIFACTS / "browser-latent.png"))
    assert page.locator("#latent-image img").get_attribute("src") != first


def test_generate_text_and_see_it_stream(page):
    page.get_by_role("tab", name="Text").click()
    page.wait_for_selector("#text-go", timeout=30_000)
    page.locator("#text-length input[type=number]").fill("2000")
    page.locator("#text-length input[type=number]").press("Enter")
    # sample the box's length inside the page every few ms: Playwright round trips during the re-renders
    # took up to a second each and could miss every step of the stream
    page.evaluate("""() => {
        const box = () => document.querySelector('#text-out textarea');
        window.textLengths = [];
        window.textSampler = setInterval(() => window.textLengths.push(box().value.length), 5);
    }""")
    page.locator("#text-go").click()
    page.wait_for_function("() => document.querySelector('#text-out textarea').value.length >= 2000", timeout=15_000)
    lengths = page.evaluate("() => { clearInterval(window.textSampler); return window.textLengths; }")
    lengths.append(len(page.locator("#text-out textarea").input_value()))
    page.screenshot(path=str(ARTIFACTS / "browser-text.png"))
    grew = sorted(set(lengths))
    assert lengths[-1] >= 2000, lengths[-5:]
    assert len([n for n in grew if 0 < n < lengths[-1]]) >= 1, "the text arrived in one piece, not streamed"


def _draw_seven(pg, selector: str = "#digit-pad canvas") -> None:
    canvas = pg.locator(selector).first
    box = canvas.bounding_box()
    cx, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    h = box["height"] * 0.6
    _stroke(pg, [(cx - h * 0.3, top), (cx + h * 0.3, top)])
    _stroke(pg, [(cx + h * 0.3, top), (cx + h * 0.1, top + h * 0.5), (cx - h * 0.05, top + h)])


def test_compare_two_models_on_one_drawing_and_flag_it(page):
    page.get_by_role("tab", name="Digits").click()
    page.locator("#digit-compare input").click()
    page.get_by_role("option", name="mnist-mlp").click()
    second = page.locator("#digit-label-b [data-testid=label-output-value]")
    second.wait_for(timeout=30_000)  # both read the drawing already on the pad
    assert second.inner_text().strip() in [str(d) for d in range(10)]  # the second model's reading
    page.screenshot(path=str(ARTIFACTS / "browser-compare.png"))
    page.locator("#digit-flag").get_by_text("The model got it wrong?").click()
    page.locator("#digit-flag input").first.click()
    page.get_by_role("option", name="7", exact=True).click()
    page.locator("#digit-flag-save").click()
    page.wait_for_function(
        "() => document.querySelector('#digit-flag-note')?.innerText.includes('Saved')", timeout=30_000
    )
    page.screenshot(path=str(ARTIFACTS / "browser-flag.png"))


def test_leaderboard_sort_filter_card_and_try_it(page):
    page.get_by_role("tab", name="Leaderboard").click()
    table = page.locator("#leaderboard-table")
    table.get_by_text("mnist-cnn-robust").first.wait_for(timeout=30_000)
    page.locator("#leaderboard-plot").wait_for(timeout=30_000)
    page.locator("#board-filter textarea, #board-filter input").first.fill("convnet")
    page.wait_for_function(
        "() => !document.querySelector('#leaderboard-table').innerText.includes('mnist-cnn-robust')", timeout=30_000
    )
    assert "mnist-convnet-book" in table.inner_text()
    table.get_by_role("columnheader").filter(has_text="params").first.click()  # sort by a column
    page.screenshot(path=str(ARTIFACTS / "browser-leaderboard.png"))
    cell = table.get_by_text("mnist-convnet-notebook", exact=True).filter(visible=True).first
    cell.scroll_into_view_if_needed()  # the sort may have scrolled the wide table sideways
    cell.click()
    page.wait_for_function(
        "() => document.querySelector('#board-card')?.innerText.includes('notebook')", timeout=30_000
    )
    page.locator("#board-try-it").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#digit-pad')].some((e) => e.offsetParent !== null)", timeout=30_000
    )
    picked = page.locator("#digits-model input, [data-testid=dropdown] input").first.input_value()
    page.screenshot(path=str(ARTIFACTS / "browser-try-it.png"))
    assert picked == "mnist-convnet-notebook", picked


def test_submit_a_variant_and_see_its_row_and_card(page, houses_variant):
    page.get_by_role("tab", name="Submit").click()
    files = [str(houses_variant / n) for n in ("config.json", "model.safetensors", "README.md")]
    page.locator("#submit-files input[type=file]").set_input_files(files)
    page.locator("#submit-files").get_by_text("model.safetensors").first.wait_for(timeout=30_000)
    page.locator("#submit-name textarea, #submit-name input").first.fill("browser-houses")
    page.locator("#submit-button").click()
    page.wait_for_function(
        "() => document.querySelector('#submit-verdict')?.innerText.includes('passed the gates')", timeout=30_000
    )
    page.wait_for_function(
        "() => /browser-houses[\\s\\S]*finished/.test(document.querySelector('#submissions-table')?.innerText)",
        timeout=120_000,
    )
    page.screenshot(path=str(ARTIFACTS / "browser-submit.png"))
    page.get_by_role("tab", name="Leaderboard").click()
    page.locator("#board-filter textarea, #board-filter input").first.fill("")  # an earlier test's filter
    page.locator("#board-task input").click()
    page.get_by_role("option", name="houses", exact=True).click()
    table = page.locator("#leaderboard-table")
    row = table.get_by_text("browser-houses", exact=True).filter(visible=True).first
    row.wait_for(timeout=30_000)
    row.click()
    page.wait_for_function(
        "() => document.querySelector('#board-card')?.innerText.includes('Submitted (upload)')", timeout=30_000
    )
    page.screenshot(path=str(ARTIFACTS / "browser-submitted-row.png"))


def test_fits_a_phone_390_wide(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name="Digits").click()
    page.wait_for_selector("#digit-pad canvas", timeout=30_000)
    page.wait_for_timeout(500)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    pad = page.locator("#digit-pad").bounding_box()
    picker = page.locator("#digits-model").bounding_box()
    page.screenshot(path=str(ARTIFACTS / "browser-mobile-390.png"), full_page=True)
    page.set_viewport_size({"width": 1300, "height": 1100})
    assert overflow <= 390, f"the page is {overflow} px wide at 390"
    assert pad["x"] >= 0 and pad["x"] + pad["width"] <= 390 and picker["x"] + picker["width"] <= 390
