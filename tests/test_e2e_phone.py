"""Today on a phone (issue 22 item 5), in Chromium at 390 × 844: the first Done is on the first screen, at least
44 px tall and named after its session for a screen reader; a tap shows it done and saves it; overdue sessions say
so in words; nothing is wider than the screen."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from planner import views
from planner.store import Store
from planner.views.today import short_name
from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    Server,
    _idle,
    _no_traceback,
    browser,
    server,
)
from tests.test_e2e_restart import _seed, _statuses

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]
PHONE = {"width": 390, "height": 844}


def _phone(browser: Any) -> Any:  # noqa: F811
    return browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_check_in_from_the_first_screen(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    plan = _seed(server.db, dt.date.today())
    today = views.today_in(plan)
    first = next(s for s in plan.active_sessions if s.day == today)
    page = _phone(browser)
    page.goto(server.url)
    _idle(page)
    _no_traceback(page)
    done = page.get_by_role("button", name=f"Done: {short_name(plan, first)}")  # its accessible name
    expect(done).to_be_visible()
    box = done.bounding_box()
    assert box is not None and box["height"] >= 44
    assert box["y"] + box["height"] <= PHONE["height"], box  # on the first screen, no scrolling
    for word in ("Missed", "Partial"):
        expect(page.get_by_role("button", name=f"{word}: {short_name(plan, first)}")).to_be_visible()
    _fits(page)

    done.tap()
    _idle(page)
    _no_traceback(page)
    assert _statuses(server.db)[first.uid] == "done"
    expect(page.get_by_text(f"Saved — {views.check_in_note(plan, first.uid, 'done')}.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Undo: {short_name(plan, first)}")).to_be_visible()
    _fits(page)


def test_phone_overdue_first_in_words_and_everything_up_to_today(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    today = dt.date.today()
    plan = _seed(server.db, today - dt.timedelta(days=10))
    page = _phone(browser)
    page.goto(server.url)
    _idle(page)
    expect(page.get_by_text("Overdue:", exact=True).first).to_be_visible()  # a word beside the icon
    first_done = page.get_by_role("button", name=re.compile(r"^Done: ")).first
    box = first_done.bounding_box()
    assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= PHONE["height"], box
    everything = page.get_by_role("button", name="I did everything up to today")
    box = everything.bounding_box()
    assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= PHONE["height"], box
    _fits(page)

    everything.tap()
    _idle(page)
    _no_traceback(page)
    statuses = _statuses(server.db)
    assert all(statuses[s.uid] == "done" for s in plan.active_sessions if s.day < today)
    assert all(statuses[s.uid] == "planned" for s in plan.active_sessions if s.day >= today)
    expect(page.get_by_text(re.compile(r"^Saved — \d+ overdue sessions done\.$"))).to_be_visible()
    assert Store(server.db).load("Me").version == 2  # type: ignore[union-attr]
    _fits(page)
