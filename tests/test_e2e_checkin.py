"""The Today check-in in a real browser (Chromium): a session ticked with the time it really took, a review rated,
and the forecast seen. Server and browser as in tests/test_e2e_browser.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from planner import views
from planner.curriculum import default_content_path, load_curriculum
from planner.export import plan_to_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import make_plan
from planner.store import Store
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def _start() -> dt.date:
    """A Monday one to two weeks ahead of the real clock (the server's): Today shows the plan's first week."""
    today = dt.date.today()
    return today + dt.timedelta(days=14 - today.weekday())


def _sessions(db: Any) -> dict[str, Any]:
    rec = Store(db).load("Me")
    assert rec is not None and rec.plan is not None
    return {s["uid"]: s for s in rec.plan["sessions"]}


def _key(key: str) -> str:
    """The CSS class Streamlit gives a widget's container: its key, other characters than [a-zA-Z0-9_-] as "-"."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def test_check_in_with_real_hours_a_rated_review_and_the_forecast(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    ml = load_curriculum(default_content_path())
    raw = {"background": "ml_background", "hours_per_week": 20.0, "start": _start().isoformat()}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(plan, Plan)
    facts = views.today_facts(plan, plan.active_sessions[0].day)
    week = [*facts.today_sessions, *facts.week_sessions]
    session = next(s for s in week if views.check_in_kind(plan, s) == "session")
    review = next(s for s in week if s.kind == "review")
    Store(server.db).save("Me", raw, plan_to_dict(plan), tracked=True, note="seeded")

    page = browser.new_page(viewport=VIEWPORT)
    _open(page, server.url)  # Today is the main page
    _no_traceback(page)

    page.locator(f"{_key(f'w_took_{session.uid}')} button").first.click()  # the hours sit one tap away
    hours = page.locator(f"{_key(f'w_real_{session.uid}')} input")
    expect(hours).to_have_value(f"{session.hours:g}")  # prefilled with the planned hours
    hours.fill(f"{session.hours + 1.5:g}")
    hours.press("Tab")
    _idle(page)
    page.keyboard.press("Escape")  # the popover closes; the Done beside it takes the hours typed
    page.locator(f"{_key(f'w_v1_done_{session.uid}')} button").click()
    _idle(page)
    _no_traceback(page)
    stored = _sessions(server.db)[session.uid]
    assert (stored["status"], stored.get("real_hours")) == ("done", session.hours + 1.5)
    expect(page.get_by_text(f"took {session.hours + 1.5:g} h")).to_be_visible()

    rating = page.locator(f"{_key(f'w_v2_hard_{review.uid}')} button").first
    expect(rating).to_have_text("Hard")
    for name in ("again", "good", "easy"):
        expect(page.locator(f"{_key(f'w_v2_{name}_{review.uid}')} button").first).to_be_visible()
    rating.click()
    _idle(page)
    _no_traceback(page)
    assert _sessions(server.db)[review.uid]["status"] == "done"

    expect(page.get_by_text("Pace and forecast")).to_be_visible()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Likely finish")).to_be_visible()
    expect(page.get_by_text("Range ends:")).to_be_visible()  # the chart's text equivalent
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for(
        timeout=TIMEOUT)
