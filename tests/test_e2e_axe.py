"""Accessibility in a real browser: axe-core (the npm package in tests/js, injected through Playwright) finds no
serious or critical WCAG 2 A/AA violation on any page, at 1280 px with a plan loaded.
Server and browser as in tests/test_e2e_browser.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
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
PAGES = {"today": "Next milestone", "plan": "Make my plan", "progress": "Per phase", "calendar": "Sync now",
         "learners": "Backup and restore"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: npm install in tests/js (scripts/test.sh does)"),
]


def _serious(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2 A/AA violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                           'wcag21aa']}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target, summary: n.failureSummary}))}));
    }""")
    return list(result)


def test_every_page_has_no_serious_axe_violation(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    _make_plan(page, server.url)
    _open(page, server.url)
    _click(page, "Done")  # a ticked session too, so its row and Undo are checked
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
