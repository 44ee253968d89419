"""Honest re-plans in a real browser (Chromium, 1280 px): a learner months behind regenerates, sees each catch-up
choice's price before picking (the one that cuts reviews says how many), picks it and sees the price again in
the proposal; the plain "study more hours" choice keeps the reviews and the free buffer. Server and browser as in
tests/test_e2e_browser.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from planner.curriculum import default_content_path, load_curriculum
from planner.export import plan_to_dict
from planner.export.json import plan_from_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import make_plan
from planner.store import Store
from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
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
MENU_TIMEOUT = 240_000  # every choice is planned before the menu shows: generous on a loaded 2-core machine


def _key(key: str) -> str:
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def _wait_idle(page: Any) -> None:
    page.wait_for_timeout(250)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=MENU_TIMEOUT)


def _reviews_from(plan: dict[str, Any], today: dt.date) -> int:
    return sum(1 for s in plan["sessions"] if s["kind"] == "review" and s["status"] == "planned"
               and s["start"][:10] >= today.isoformat())


def test_behind_menu_shows_the_price_then_the_proposal_shows_it_too(server: Server, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    ml = load_curriculum(default_content_path())
    today = dt.date.today()
    start = today - dt.timedelta(days=today.weekday() + 17 * 7)  # a Monday 17 weeks ago, nothing done since
    raw = {"background": "complete_beginner", "hours_per_week": 16.5, "start": start.isoformat(), "timezone": "UTC"}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(plan, Plan)
    Store(server.db).save("Me", raw, plan_to_dict(plan), tracked=True, note="seeded")

    page = browser.new_page(viewport=VIEWPORT)
    _open(page, f"{server.url}/progress")
    page.get_by_role("button", name="I'm behind — regenerate from today").click()
    _wait_idle(page)
    _no_traceback(page)

    # The menu: each button says what it gains, the line under it what it gives up and keeps — before picking.
    hours = page.locator(f"{_key('progress_catch_up_hours')} button")
    expect(hours).to_contain_text(re.compile(r"Study \d+(\.5)? h/week from now — finish \d{4}-\d\d-\d\d"))
    expect(page.get_by_text(re.compile(r"Needs [\d.]+ h more each week\. Keeps your reviews \(\d+ → \d+\) and "
                                       r"the free 10 % of each week\."))).to_be_visible()
    cut = page.locator(f"{_key('progress_catch_up_cut')} button")
    expect(cut).to_contain_text(re.compile(r"Keep 16\.5 h/week, cut reviews to \d+ \(of \d+\)"))
    label = cut.inner_text()
    after, before = (int(x) for x in re.search(r"cut reviews to (\d+) \(of (\d+)\)", label).groups())  # type: ignore[union-attr]
    assert after < before
    expect(page.get_by_text(f"Gives up: cuts reviews: {before} → {after} spaced reviews").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"fills the free 10 % of the week in \d+ of \d+ weeks")).first).to_be_visible()

    # Picked: the proposal shows the same price (reviews before → after, the buffer), nothing saved yet.
    cut.click()
    _wait_idle(page)
    _no_traceback(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="New finish")).to_be_visible()
    expect(page.get_by_text("What this plan gives up")).to_be_visible()
    expect(page.get_by_text(f"{before} → {after} spaced reviews").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"— cut"))).to_be_visible()
    stored = Store(server.db).load("Me")
    assert stored is not None and stored.version == 1  # nothing saved before Accept

    # Discard, regenerate (the menu is kept for this plan and day), take the hours: reviews and buffer kept.
    page.get_by_role("button", name="Discard", exact=True).first.click()
    _wait_idle(page)
    page.get_by_role("button", name="I'm behind — regenerate from today").click()
    _wait_idle(page)
    hours = page.locator(f"{_key('progress_catch_up_hours')} button")
    needed = float(re.search(r"Study ([\d.]+) h/week", hours.inner_text())[1])  # type: ignore[index]
    hours.click()
    _wait_idle(page)
    _no_traceback(page)
    expect(page.get_by_text("What this plan gives up")).to_have_count(0)
    expect(page.get_by_text("10 % of each week stays free").first).to_be_visible()
    expect(page.get_by_text(f"16.5 → {needed:g} h").first).to_be_visible()
    page.locator(f"{_key('progress_accept')} button").click()
    _wait_idle(page)
    _no_traceback(page)
    rec = Store(server.db).load("Me")
    assert rec is not None and rec.plan is not None and rec.profile["hours_per_week"] == needed
    new = plan_from_dict(rec.plan, ml)
    assert new.profile.hours_per_week == needed
    assert _reviews_from(rec.plan, today) >= before  # the reviews the plan had from today on, all kept
