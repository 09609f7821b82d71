"""For the book's readers, in a real browser (Debian's chromium driven by Playwright): the app in Chinese, links
that open a tab in a state, and drawing with a finger on a phone.

Screenshots go to test-artifacts/. Under CI=true a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import tempfile

import pytest

from bench.app_process import ROOT, RunningApp
from demos.i18n_text import EN, ZH

from conftest import CHROMIUM, require_chromium

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """One app and one browser for the module; each test opens its own context (locale, phone)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    env = {"DLFS_ZOO_FLAGS": tempfile.mkdtemp(prefix="dlfs-flags-")}
    env["DLFS_ZOO_RESULTS"] = tempfile.mkdtemp(prefix="dlfs-browser-results-")
    app = RunningApp(env=env)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        chromium.app_url = app.url
        yield chromium
        chromium.close()
    app.stop()


def _seven(x: float, y: float, w: float, h: float) -> list[list[tuple[float, float]]]:
    """A person's 7 in the box: a bar, then a slightly slanted stem."""
    cx, top, s = x + w / 2, y + h * 0.2, h * 0.6
    return [
        [(cx - s * 0.3, top), (cx + s * 0.3, top)],
        [(cx + s * 0.3, top), (cx + s * 0.1, top + s * 0.5), (cx - s * 0.05, top + s)],
    ]


def _draw_with_mouse(page, strokes) -> None:
    for stroke in strokes:
        page.mouse.move(*stroke[0])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(x, y, steps=4)
        page.mouse.up()


def _draw_with_finger(page, strokes) -> None:
    """Touch events as a phone sends them (CDP Input.dispatchTouchEvent), a few points per segment."""
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = [stroke[0]]
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            points += [(x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8) for i in range(1, 9)]
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]}
        )
        for x, y in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            page.wait_for_timeout(15)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _label(page) -> str:
    value = page.locator("#digit-label [data-testid=label-output-value]")
    value.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # predictions update while drawing: let the last stroke's answer land
    return value.inner_text().strip()


def test_in_chinese_labels_a_read_digit_and_an_error(browser):
    """A zh-CN browser reads the page in Chinese, gets its drawing read, and a refusal in Chinese."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    page.goto(browser.app_url)
    page.wait_for_selector("#digit-pad canvas", timeout=60_000)
    assert page.get_by_role("tab", name=ZH["tab_digits"]).is_visible()
    assert page.get_by_role("tab", name=ZH["tab_leaderboard"]).is_visible()
    assert ZH["digits_pad"] in page.locator("#digit-pad").inner_text()
    assert EN["digits_pad"] not in page.locator("#digit-pad").inner_text()
    box = page.locator("#digit-pad canvas").first.bounding_box()
    _draw_with_mouse(page, _seven(box["x"], box["y"], box["width"], box["height"]))
    assert _label(page) == "7", page.locator("#digit-label").inner_text()
    page.get_by_text(ZH["digits_flag_title"]).click()
    page.locator("#digit-flag-save").click()  # no digit chosen: refused, in Chinese
    page.get_by_text(ZH["digits_flag_pick"]).first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "browser-zh-CN.png"))
    context.close()


LINKS = {  # a link per tab and what it must show
    "digits": ("?tab=digits&model=mnist-mlp", "#digits-model input", "mnist-mlp"),
    "text": ("?tab=text&model=char-gru-2layer&prompt=JULIET%3A", "#text-prompt textarea", "JULIET:"),
    "latent": ("?tab=latent&model=vae-28&code=" + ",".join(["0.5"] * 28), "#z27 input[type=number]", "0.5"),
    "leaderboard": ("?tab=leaderboard&task=latent", "#board-task input", "latent"),
    "figures": ("?tab=figures", None, None),
    "houses": ("?tab=houses", None, None),
    "submit": ("?tab=submit", None, None),
}


@pytest.mark.parametrize("tab", list(LINKS))
def test_a_link_opens_its_tab_in_its_state(browser, tab):
    link, selector, expected = LINKS[tab]
    context = browser.new_context(locale="en-US", viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    page.goto(browser.app_url + link)
    page.get_by_role("tab", name=EN[f"tab_{tab}"], selected=True).wait_for(timeout=60_000)
    if selector is not None:
        page.wait_for_function(
            "([sel, want]) => document.querySelector(sel)?.value === want", arg=[selector, expected], timeout=30_000
        )
    assert not page.locator("#link-note").is_visible()
    if tab == "latent":
        page.locator("#link-button").click()  # Link to this writes the state it opened in
        page.wait_for_function(
            "() => document.querySelector('#link-box textarea, #link-box input')?.value.includes('code=')"
        )
        written = page.locator("#link-box textarea, #link-box input").first.input_value()
        assert written.startswith(browser.app_url) and "tab=latent" in written and "model=vae-28" in written
        page.screenshot(path=str(ARTIFACTS / "browser-link-latent.png"))
    context.close()


def test_a_bad_link_falls_back_with_a_note(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1300, "height": 1100})
    page = context.new_page()
    page.goto(browser.app_url + "?tab=latent&model=no-such-model&code=1,2,3")
    page.get_by_role("tab", name=EN["tab_latent"], selected=True).wait_for(timeout=60_000)
    note = page.locator("#link-note")
    note.wait_for(timeout=30_000)
    assert "no-such-model" in note.inner_text() and "28 numbers" in note.inner_text(), note.inner_text()
    assert page.locator("#z0 input[type=number]").input_value() == "0"  # the default code
    page.screenshot(path=str(ARTIFACTS / "browser-link-bad.png"))
    context.close()


def test_drawing_with_a_finger_on_a_phone(browser):
    """At 390x844 with touch: the pad is drawn on by finger, the page does not scroll, and the answer is in view."""
    context = browser.new_context(
        locale="en-US", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(browser.app_url)
    canvas = page.locator("#digit-pad canvas").first
    canvas.wait_for(timeout=60_000)
    page.evaluate("() => document.querySelector('#digit-pad').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    before = page.evaluate("() => window.scrollY")
    box = canvas.bounding_box()
    assert box["width"] >= 300 and abs(box["width"] - box["height"]) < 0.15 * box["width"], box  # square, large
    _draw_with_finger(page, _seven(box["x"], box["y"], box["width"], box["height"]))
    assert _label(page) == "7", page.locator("#digit-label").inner_text()
    assert page.evaluate("() => window.scrollY") == before  # the finger drew, it did not scroll
    answer = page.locator("#digit-label").bounding_box()
    assert answer["y"] >= 0 and answer["y"] + 60 <= 844, answer  # the answer's top lines in view, no scrolling
    page.screenshot(path=str(ARTIFACTS / "browser-phone-touch.png"))
    context.close()
