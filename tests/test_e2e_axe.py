"""Accessibility and words in a real browser: axe-core (the npm package in tests/js, injected through Playwright)
finds no serious or critical WCAG 2 A/AA violation, nor headings out of order, on any page at 1280 px and on a
390 px phone with a plan loaded; every chart has a text equivalent; on the phone no page is wider than the screen
and the pages are words one tap away; an out-of-range field gets its message.
Server and browser as in tests/test_e2e_browser.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DONE,
    TIMEOUT,
    VIEWPORT,
    Server,
    _click,
    _idle,
    _make_plan,
    _no_traceback,
    _open,
    browser,
    server,
)

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
PAGES = {"today": "Pace and forecast", "plan": "Make my plan", "progress": "Per phase", "calendar": "Sync now",
         "learners": "Backup and restore"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: npm install in tests/js (scripts/test.sh does)"),
]


def _serious(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2 A/AA violations on the page as it is now, and headings out of order."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                           'wcag21aa']}});
        const bad = v => v.impact === 'serious' || v.impact === 'critical' || v.id === 'heading-order';
        return r.violations.filter(bad).map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))}));
    }""")
    return list(result)


def _charts_without_words(page: Any) -> int:
    """Charts a screen reader cannot read: no text equivalent (aria-label) of a sentence or more."""
    return int(page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))
        .filter(c => (c.getAttribute('aria-label') || '').length < 40).length"""))


@pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["1280px", "390px"])
def test_every_page_has_no_serious_axe_violation(server: Server, browser: Any,  # noqa: F811
                                                 viewport: dict[str, int]) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport)
    _make_plan(page, server.url)
    _open(page, server.url)
    _click(page, DONE)  # a ticked session too, so its row and Undo are checked
    found: dict[str, list[dict[str, Any]]] = {}
    for path, landmark in PAGES.items():
        _open(page, f"{server.url}/{path}")
        expect(page.get_by_text(landmark, exact=True).first).to_be_attached(timeout=TIMEOUT)  # the whole page
        _idle(page)
        _no_traceback(page)
        violations = _serious(page)
        unread = _charts_without_words(page)
        if unread:
            violations.append({"id": "chart-without-text", "count": unread})
        if viewport == PHONE:
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                violations.append({"id": "wider-than-the-phone", "scrollWidth": width})
            nav = page.locator(".st-key-phone_nav")
            for title in ("Today", "Plan", "Progress", "Calendar", "Learners"):
                expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
        if violations:
            found[path] = violations
    assert not found, json.dumps(found, indent=1)[:6000]


def test_hours_out_of_range_get_a_message_in_the_browser(server: Server, browser: Any) -> None:  # noqa: F811
    """The browser itself refused 150 h/week without a word, and Make my plan planned with the old value."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    _open(page, f"{server.url}/plan")
    field = page.get_by_label("Hours per week", exact=True)
    field.fill("150")
    field.press("Tab")
    _idle(page)
    _click(page, "Make my plan")
    expect(page.get_by_text("Check your input — Hours per week: must be at most 100 h, got 150")).to_be_visible()
    _no_traceback(page)
