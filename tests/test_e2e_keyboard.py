"""Planning with the keyboard alone, in a real browser at 1280 px and on a 390 px phone: Tab reaches the form
before the results (the form is the page's first column), the hours are typed, Tab reaches Make my plan within
a sane number of presses (45 did not before: the form came after the plan), Space presses it, the plan appears.
Server and browser as in tests/test_e2e_browser.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    TIMEOUT,
    VIEWPORT,
    Server,
    _idle,
    _no_traceback,
    _open,
    browser,
    server,
)

PHONE = {"width": 390, "height": 844}
MAX_TABS = 40  # the page's links and the form's 14 fields, each with its help button, come first

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]

FOCUSED = """() => { const e = document.activeElement;
    return {tag: e.tagName, label: e.getAttribute('aria-label') || '', text: (e.innerText || '').trim()}; }"""


def _tab_to(page: Any, wanted: Any, limit: int) -> int:
    """Press Tab until `wanted(focused)` holds; the number of presses (fails past `limit`)."""
    seen = []
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if wanted(focused):
            return presses
        seen.append(f"{focused['tag']} {focused['label'] or focused['text'][:30]}")
    pytest.fail(f"not reached within {limit} Tabs: " + " | ".join(seen))


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
def test_plan_with_the_keyboard_alone(server: Server, browser: Any, viewport: dict[str, int]) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport)
    _open(page, f"{server.url}/plan")
    expect(page.get_by_role("button", name="Make my plan", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_label("Hours per week", exact=True)).to_be_visible(timeout=TIMEOUT)  # the form drawn
    page.locator("body").focus()

    to_hours = _tab_to(page, lambda f: f["tag"] == "INPUT" and f["label"] == "Hours per week", MAX_TABS)
    page.keyboard.press("Control+A")
    page.keyboard.type("21")
    rest = _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Make my plan", MAX_TABS - to_hours)
    assert to_hours + rest <= MAX_TABS
    page.keyboard.press("Space")
    _idle(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="Busiest week")).to_contain_text("of 21", timeout=TIMEOUT)
    _no_traceback(page)
