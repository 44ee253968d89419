"""A click survives a server restart (issue 22 item 1), in Chromium: a tab opened before `streamlit run` was
stopped and started again (same port, same database) reaches a new server session that has none of the old
session's callbacks. Its Done is saved, and its Accept (the proposal made again from the tab's address); a Done or
an Accept drawn for a plan that changed meanwhile is not saved and the tab says so. Also the As of re-plan."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.state import LOST_ACCEPT, LOST_CLICK
from planner import views
from planner.curriculum import default_content_path, load_curriculum
from planner.export import plan_to_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.progress import mark_missed
from planner.solve import make_plan
from planner.store import Store
from tests.test_e2e_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    ROOT,
    TIMEOUT,
    VIEWPORT,
    _free_port,
    _idle,
    _no_traceback,
    browser,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM}"),
]


class Restartable:
    """`streamlit run app.py` on one port and database that can be stopped and started again."""

    def __init__(self, tmp_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp_path / "planner.db"
        self.log_path = tmp_path / "streamlit.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PLANNER_DB": str(self.db), "SOURCE_DATE_EPOCH": "1800000000"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                 "--server.address", "127.0.0.1", "--server.port", str(self.port),
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with {self.proc.returncode}: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("streamlit did not become healthy within 60 s")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, between: Any = None) -> None:
        self.stop()
        if between is not None:
            between()
        self.start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Restartable]:
    srv = Restartable(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


PROFILE = {"background": "ml_background", "hours_per_week": 20.0}


def _seed(db: Path, start: dt.date) -> Plan:
    ml = load_curriculum(default_content_path())
    raw = {**PROFILE, "start": start.isoformat()}
    plan = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(plan, Plan)
    Store(db).save("Me", raw, plan_to_dict(plan), tracked=True, note="seeded")
    return plan


def _key(key: str) -> str:
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def _statuses(db: Path) -> dict[str, str]:
    rec = Store(db).load("Me")
    assert rec is not None and rec.plan is not None
    return {s["uid"]: s["status"] for s in rec.plan["sessions"]}


def _todays_session(plan: Plan) -> Any:
    today = views.today_in(plan)
    return next(s for s in plan.active_sessions if s.day == today and views.check_in_kind(plan, s) == "session")


def _reconnected(page: Any) -> None:
    """The old tab has found the new server (its websocket is open again): Streamlit's status says nothing."""
    page.wait_for_timeout(1500)
    page.wait_for_function("() => !document.body.innerText.includes('Connecting')", timeout=TIMEOUT)
    page.wait_for_timeout(500)


def test_done_in_a_tab_opened_before_a_restart_is_saved(server: Restartable, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    plan = _seed(server.db, dt.date.today())
    s = _todays_session(plan)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(server.url)
    _idle(page)
    done = page.locator(f"{_key(f't_v1_done_{s.uid}')} button")
    expect(done).to_be_visible()

    server.restart()
    _reconnected(page)
    done.click()  # the old page's button: the new session has no callback for it, only its key
    _idle(page)
    _no_traceback(page)
    assert _statuses(server.db)[s.uid] == "done"
    expect(page.get_by_text(f"Saved — {views.check_in_note(plan, s.uid, 'done')}.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Undo: "))).to_have_count(1)


def test_done_drawn_for_a_plan_that_changed_meanwhile_is_refused_out_loud(server: Restartable,
                                                                           browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    plan = _seed(server.db, dt.date.today())
    s = _todays_session(plan)
    other = next(x for x in plan.active_sessions if x.day > s.day)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(server.url)
    _idle(page)
    done = page.locator(f"{_key(f't_v1_done_{s.uid}')} button")
    expect(done).to_be_visible()

    def elsewhere() -> None:  # another tab or the CLI changed the plan while the server was down
        raw = {**PROFILE, "start": plan.profile.start.isoformat()}
        Store(server.db).save("Me", raw, plan_to_dict(mark_missed(plan, [other.uid])), tracked=True,
                              expected_version=1, note="missed elsewhere")

    server.restart(elsewhere)
    _reconnected(page)
    done.click()
    _idle(page)
    _no_traceback(page)
    expect(page.get_by_text(LOST_CLICK)).to_be_visible()
    statuses = _statuses(server.db)
    assert (statuses[s.uid], statuses[other.uid]) == ("planned", "missed")
    page.locator(f"{_key(f't_v2_done_{s.uid}')} button").click()  # ticked again: saved
    _idle(page)
    assert _statuses(server.db)[s.uid] == "done"


def _proposal_shown(server: Restartable, browser: Any) -> tuple[Any, Any]:  # noqa: F811
    today = dt.date.today()
    plan = _seed(server.db, today - dt.timedelta(days=today.weekday() + 14))  # two weeks of overdue sessions
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(server.url)
    _idle(page)
    page.get_by_role("button", name="Re-plan from today").click()
    _idle(page)
    return plan, page


def test_accept_in_a_tab_opened_before_a_restart_is_saved(server: Restartable, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    _, page = _proposal_shown(server, browser)
    accept = page.get_by_role("button", name="Accept new plan")
    expect(accept).to_be_visible()

    server.restart()  # the proposal lived in the old server's session
    _reconnected(page)
    accept.click()  # made again from the tab's address (a plain re-plan from a day), then saved
    _idle(page)
    _no_traceback(page)
    expect(page.get_by_text("New plan saved.")).to_be_visible()
    expect(page.get_by_text(LOST_ACCEPT)).to_have_count(0)
    assert Store(server.db).load("Me").version == 2  # type: ignore[union-attr]
    assert Store(server.db).versions("Me")[0].note.startswith("re-planned from ")


def test_accept_of_a_plan_that_changed_meanwhile_says_not_saved(server: Restartable,
                                                                browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    plan, page = _proposal_shown(server, browser)
    accept = page.get_by_role("button", name="Accept new plan")
    expect(accept).to_be_visible()

    def elsewhere() -> None:
        first = plan.active_sessions[0]
        raw = {**PROFILE, "start": plan.profile.start.isoformat()}
        Store(server.db).save("Me", raw, plan_to_dict(mark_missed(plan, [first.uid])), tracked=True,
                              expected_version=1, note="missed elsewhere")

    server.restart(elsewhere)
    _reconnected(page)
    accept.click()
    _idle(page)
    _no_traceback(page)
    expect(page.get_by_text(LOST_ACCEPT)).to_be_visible()
    assert Store(server.db).load("Me").version == 2  # type: ignore[union-attr]
    page.get_by_role("button", name="Re-plan from today").click()  # the way out it names works
    _idle(page)
    page.get_by_role("button", name="Accept new plan").click()
    _idle(page)
    expect(page.get_by_text("New plan saved.")).to_be_visible()
    assert Store(server.db).load("Me").version == 3  # type: ignore[union-attr]


def test_as_of_date_typed_then_regenerate_uses_that_date(server: Restartable, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    today = dt.date.today()
    _seed(server.db, today - dt.timedelta(days=today.weekday() + 7))
    day = today + dt.timedelta(days=10)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server.url}/progress")
    _idle(page)
    page.get_by_role("spinbutton", name="year, As of (optional)").click()
    page.keyboard.type(f"{day:%Y%m%d}")  # the field moves on from year to month to day by itself
    page.get_by_role("button", name="I'm behind — regenerate from today").click()  # straight from the field
    _idle(page)
    _no_traceback(page)
    expect(page.get_by_text(f"from {day}").first).to_be_visible()
