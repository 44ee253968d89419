"""The dashboard in a real browser: streamlit run + Playwright driving Debian's Chromium, at 1280 px.

The flows where a learner could lose work come first: "Make my plan" on a plan with progress, two tabs on one
learner, a backup of several learners exported and imported back; then select-all topics and a markdown name.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planner.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
VIEWPORT = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}
TIMEOUT = 60_000
DONE, UNDO = re.compile(r"^Done: "), re.compile(r"^Undo: ")  # Today's buttons name their session

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, db: Path):
        self.url, self.db = url, db


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    db = tmp_path / "planner.db"
    env = {**os.environ, "PLANNER_DB": str(db), "SOURCE_DATE_EPOCH": "1800000000"}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}: {(tmp_path / 'streamlit.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not become healthy within 60 s")
            time.sleep(0.25)
        yield Server(url, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)  # a loaded 2-core machine can take longer than the 5 s default to rerun
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _idle(page: Any) -> None:
    page.wait_for_timeout(250)  # let the click's rerun start before waiting for it to end
    page.wait_for_selector(IDLE, timeout=TIMEOUT)


def _open(page: Any, url: str) -> None:
    page.goto(url)
    _idle(page)


def _click(page: Any, name: str | re.Pattern[str], *, nth: int = 0) -> None:
    page.get_by_role("button", name=name, exact=True).nth(nth).click()
    _idle(page)


def _no_traceback(page: Any) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def _nav(page: Any, title: str) -> None:
    """Go to a page through the app's own navigation (the session, and an unsaved new learner, stay)."""
    page.get_by_test_id("stTopNavLink").filter(has_text=title).first.click()
    _idle(page)


def _make_plan(page: Any, url: str, hours: float | None = None) -> None:
    if page.url.startswith(url):
        _nav(page, "Plan")
    else:
        _open(page, f"{url}/plan")
    if hours is not None:
        field = page.get_by_label("Hours per week", exact=True)
        field.fill(str(hours))
        field.press("Tab")
    _click(page, "Make my plan")
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT)
    _no_traceback(page)


def _statuses(db: Path, name: str = "Me") -> dict[str, str]:
    rec = Store(db).load(name)
    assert rec is not None and rec.plan is not None
    return {s["uid"]: s["status"] for s in rec.plan["sessions"]}


# ---------------------------------------------------------------- nothing lost


def test_make_plan_on_a_plan_with_progress_asks_and_undo_restores_it(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    _make_plan(page, server.url)
    _open(page, server.url)  # Today
    _click(page, DONE)
    expect(page.get_by_role("button", name=UNDO)).to_have_count(1)
    assert list(_statuses(server.db).values()).count("done") == 1

    _make_plan(page, server.url, hours=20)  # a new plan from the form, on a plan with progress
    expect(page.get_by_text("plan holds progress")).to_be_visible()
    assert list(_statuses(server.db).values()).count("done") == 1  # nothing replaced yet
    _click(page, "Start over with a fresh plan")
    assert list(_statuses(server.db).values()).count("done") == 0

    _open(page, f"{server.url}/learners")  # History: the plan with progress is one click away
    expect(page.get_by_text("Every saved plan of Me")).to_be_visible()
    _click(page, "Restore this version")
    expect(page.get_by_text("Restored version 2 (saved")).to_be_visible()
    assert list(_statuses(server.db).values()).count("done") == 1
    _no_traceback(page)


def test_two_tabs_on_one_learner_never_overwrite_each_other(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    a, b = context.new_page(), context.new_page()
    _make_plan(a, server.url)
    _open(a, server.url)
    _open(b, server.url)
    _click(a, DONE)  # tab A ticks the first session
    _click(b, DONE, nth=1)  # tab B, still showing the old plan, ticks the second
    expect(b.get_by_text("Changed in another tab — reload")).to_be_visible()
    statuses = list(_statuses(server.db).values())
    assert statuses.count("done") == 1  # A's tick kept, B's not applied over it
    _click(b, "Reload this learner")
    expect(b.get_by_role("button", name=UNDO)).to_have_count(1)  # B now shows A's tick
    _click(b, DONE, nth=0)  # and B's own tick, made again, is saved
    assert list(_statuses(server.db).values()).count("done") == 2
    _no_traceback(b)


def test_export_and_import_of_eight_learners_with_plans(server: Server, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from planner.curriculum import default_content_path, load_curriculum
    from planner.export import plan_to_dict
    from planner.profile import profile_from_mapping
    from planner.progress import mark_done_through
    from planner.solve import make_plan

    ml = load_curriculum(default_content_path())
    store = Store(server.db)
    raw = {"background": "ml_background", "hours_per_week": 18.0, "start": "2027-01-04"}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    ticked = mark_done_through(plan, dt.date(2027, 2, 1))  # type: ignore[arg-type]
    for i in range(7):
        store.save(f"Learner {i}", raw, plan_to_dict(ticked), tracked=True)

    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    _open(page, f"{server.url}/learners")
    page.get_by_label("Name", exact=True).fill("Newest")
    page.get_by_label("Name", exact=True).press("Tab")
    _click(page, "Create")
    _make_plan(page, server.url)  # the newest learner, saved just before the export
    _nav(page, "Learners")
    with page.expect_download(timeout=TIMEOUT) as dl:
        page.get_by_role("button", name="Export all learners (JSON)").click()
    backup = tmp_path / "backup.json"
    dl.value.save_as(backup)
    state = json.loads(backup.read_text())
    assert sorted(x["name"] for x in state["learners"]) == [*(f"Learner {i}" for i in range(7)), "Newest"]
    assert backup.stat().st_size > 1_000_000  # bigger than the old 1 MB import limit

    before = {n: Store(server.db).load(n) for n in Store(server.db).names()}
    for name in before:
        store.delete(name)  # everything lost …
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(backup))
    _idle(page)
    _click(page, "Import")
    expect(page.get_by_text("Imported 8 learner(s)")).to_be_visible()
    after = Store(server.db)
    assert after.names() == list(before)  # … and back from the backup
    for name, rec in before.items():
        again = after.load(name)
        assert again is not None and rec is not None
        assert (again.profile, again.plan, again.tracked) == (rec.profile, rec.plan, rec.tracked)

    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": "bad.json", "mimeType": "application/json", "buffer": b'{"format": "x"'}])
    _idle(page)
    _click(page, "Import")
    expect(page.get_by_text("Import failed")).to_be_visible()
    _no_traceback(page)


# ---------------------------------------------------------------- clear words


def test_select_all_known_topics_is_an_inline_message(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    _open(page, f"{server.url}/plan")
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Topics I already know").get_by_role("combobox")
    select_all = page.get_by_role("option", name="Select all").first
    for _ in range(5):  # a click that lands while the page still settles may not open the list: try again
        box.click()
        try:
            select_all.wait_for(timeout=15_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    select_all.click()
    page.keyboard.press("Escape")
    _click(page, "Make my plan")
    expect(page.get_by_text("Topics I already know: nothing left to study").first).to_be_visible()
    _no_traceback(page)


def test_a_markdown_name_is_shown_as_text(server: Server, browser: Any) -> None:
    from playwright.sync_api import expect

    name = "**bold** [link](http://127.0.0.1:1/x)"
    page = browser.new_page(viewport=VIEWPORT)
    _open(page, f"{server.url}/learners")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Name", exact=True).press("Tab")
    _click(page, "Create")
    _make_plan(page, server.url)
    for title in ("Plan", "Today", "Calendar", "Learners"):
        _nav(page, title)
        assert page.locator("a[href^='http://127.0.0.1:1']").count() == 0, title
        assert page.locator("strong", has_text="bold").count() == 0, title
        expect(page.get_by_text(name, exact=False).first).to_be_visible()
    _no_traceback(page)


def test_plan_and_download_calendar_in_a_browser(server: Server, browser: Any, tmp_path: Path) -> None:
    icalendar = pytest.importorskip("icalendar")
    from playwright.sync_api import expect

    from planner.curriculum import default_content_path, load_curriculum
    from planner.plan import Plan
    from planner.profile import next_monday, profile_from_mapping
    from planner.solve import make_plan

    hours = 22
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True, timezone_id="America/New_York")
    _make_plan(page, server.url, hours=hours)
    expect(page.get_by_test_id("stMetric").filter(has_text="Busiest week")).to_contain_text(f"of {hours}")
    finish = page.get_by_test_id("stMetricValue").first.inner_text().strip()
    _open(page, f"{server.url}/calendar")
    with page.expect_download(timeout=30_000) as dl:
        page.get_by_role("button", name="Calendar (.ics)").click()
    ics_path = tmp_path / "plan.ics"
    dl.value.save_as(ics_path)

    curriculum = load_curriculum(default_content_path())
    raw = {"background": "ml_background", "hours_per_week": float(hours), "days": list(
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")), "start": next_monday(dt.date.today()).isoformat(),
        "timezone": "America/New_York"}  # the browser's timezone is the default
    plan = make_plan(curriculum, profile_from_mapping(raw, curriculum))
    assert isinstance(plan, Plan)
    assert finish == plan.finish.isoformat()
    cal = icalendar.Calendar.from_ical(ics_path.read_bytes())
    got = [(str(e["UID"]), e.decoded("DTSTART")) for e in cal.walk("VEVENT")]
    want = [(s.uid, s.start) for s in plan.active_sessions]
    assert [uid for uid, _ in got] == [uid for uid, _ in want]
    assert all(a == b for (_, a), (_, b) in zip(got, want, strict=True))


def test_a_new_tab_draws_the_whole_plan_page_once(server: Server, browser: Any) -> None:
    """A new tab on a saved plan: the figures, both charts and the form with the learner's own inputs come in one
    run (no first view followed by a timed second drawing of the page)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _make_plan(page, server.url, hours=21)
    tab = context.new_page()  # a new session in the same browser, as when the learner opens the page again
    tab.goto(f"{server.url}/plan")
    tab.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for(
        timeout=TIMEOUT)
    expect(tab.get_by_role("button", name="Make my plan", exact=True)).to_be_visible()
    expect(tab.get_by_label("Hours per week", exact=True)).to_have_value("21.0")
    expect(tab.get_by_test_id("stVegaLiteChart")).to_have_count(2)  # the weekly chart once, and the topics chart
    expect(tab.get_by_text("Milestones", exact=True)).to_be_visible()
    _idle(tab)
    tab.wait_for_timeout(1500)  # and stays as it is: no timer asks for the page again
    expect(tab.locator(IDLE)).to_have_count(1)
    expect(tab.get_by_test_id("stVegaLiteChart")).to_have_count(2)
    _no_traceback(tab)


def test_on_a_phone_the_form_and_the_pages_are_words_one_tap_away(server: Server, browser: Any) -> None:
    """390 x 844: a new learner lands on the form itself (no "form on the left" behind an unlabelled »), plans,
    and reaches every page through a row of page names; nothing is wider than the screen."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    _open(page, server.url)  # no plan yet: sent to the Plan page's form
    heading = page.get_by_role("heading", name="Your situation")
    expect(heading).to_be_in_viewport()  # on the first screen
    expect(page.get_by_text("Fill in the form on the left")).to_have_count(0)
    _click(page, "Make my plan")
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=TIMEOUT)
    nav = page.locator(".st-key-phone_nav")
    for title, landmark in (("Today", "Pace and forecast"), ("Progress", "Per phase"), ("Calendar", "Sync now"),
                            ("Learners", "Backup and restore"), ("Plan", "Your situation")):
        nav.get_by_role("link", name=title, exact=True).tap()
        _idle(page)
        expect(page.get_by_text(landmark, exact=True).first).to_be_attached(timeout=TIMEOUT)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], title
    expect(heading).to_be_in_viewport()
    _no_traceback(page)


@pytest.fixture
def feed_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The feed server on the database the `server` fixture uses; its address exported for the dashboard (request
    this fixture before `server`)."""
    from tests.servers import feed_server

    with feed_server(tmp_path / "planner.db") as base:
        monkeypatch.setenv("PLANNER_FEED_URL", base)
        yield base


def test_the_calendar_page_link_fetches_the_plan(feed_base: str, server: Server, browser: Any) -> None:
    """The subscription link as the learner sees it on the Calendar page, fetched as a calendar app would."""
    icalendar = pytest.importorskip("icalendar")
    from playwright.sync_api import expect

    from planner.curriculum import default_content_path, load_curriculum
    from planner.export import plan_to_dict
    from planner.plan import Plan
    from planner.profile import profile_from_mapping
    from planner.solve import make_plan

    ml = load_curriculum(default_content_path())
    raw = {"background": "ml_background", "hours_per_week": 18.0, "start": "2027-01-04"}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(plan, Plan)
    Store(server.db).save("Ada", raw, plan_to_dict(plan))

    page = browser.new_page(viewport=VIEWPORT)
    _open(page, f"{server.url}/calendar")
    expect(page.get_by_text("Subscribe (follows every re-plan)")).to_be_visible()
    expect(page.get_by_test_id("stCode").filter(has_text="webcal://")).to_be_visible()  # drawn after the heading
    shown = [t.strip() for t in page.get_by_test_id("stCode").all_inner_texts()]
    http = next(t for t in shown if t.startswith(feed_base + "/feed/"))
    assert "webcal://" + http.removeprefix("http://") in shown
    link = page.get_by_role("link", name="Subscribe in your calendar app")
    assert link.get_attribute("href") == "webcal://" + http.removeprefix("http://")
    with urllib.request.urlopen(http, timeout=60) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
        cal = icalendar.Calendar.from_ical(resp.read())
    assert {str(e["UID"]) for e in cal.walk("VEVENT")} == {s.uid for s in plan.active_sessions}
    _no_traceback(page)
