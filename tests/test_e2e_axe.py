"""Accessibility and words in a real browser: axe-core (the npm package in tests/js, injected through Playwright)
finds no serious or critical WCAG 2 A/AA violation, nor headings out of order, on any page at 1280 px with a plan
loaded; an out-of-range field gets its message.
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


def test_every_page_has_no_serious_axe_violation(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
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
