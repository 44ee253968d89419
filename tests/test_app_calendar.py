"""The Calendar page's three ways into a calendar app, through AppTest: the subscription link (shown, rotated,
fetched for real from the feed server), CalDAV "Sync now" with its one-line errors and a password that is not
kept, and the Learners page forgetting a deleted learner's link."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from icalendar import Calendar
from streamlit.testing.v1 import AppTest

from planner.curriculum import Curriculum
from planner.export.json import plan_from_dict
from planner.feedtokens import FeedTokens
from planner.livecal import live_calendar
from planner.store import Store
from tests.servers import feed_server, radicale

pytestmark = pytest.mark.usefixtures("fresh_state")
APP = str(Path(__file__).resolve().parent.parent / "app.py")
PASSWORD = "s3cret-Pw-never-kept"


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _page(at: AppTest, name: str) -> AppTest:
    return _ok(at.switch_page(f"dashboard/{name}_page.py").run())


def _planned_calendar() -> AppTest:
    at = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "plan")
    at.number_input(key="f_hours_per_week").set_value(18)
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _page(_ok(at), "calendar")


def _links(at: AppTest) -> tuple[str, str]:
    """The webcal:// link and the http(s) address the page shows."""
    codes = [c.value for c in at.code]
    webcal = next(c for c in codes if c.startswith("webcal://"))
    http = next(c for c in codes if c.startswith(("http://", "https://")))
    return webcal, http


def _token(url: str) -> str:
    return url.rsplit("/feed/", 1)[1].removesuffix(".ics")


def _sync(at: AppTest, url: str, user: str = "ada", password: str = PASSWORD) -> str:
    at.text_input(key="caldav_url").input(url)
    at.text_input(key="caldav_user").input(user)
    at.text_input(key="caldav_password").input(password)
    at.button(key="FormSubmitter:caldav_form-Sync now").click().run()
    _ok(at)
    assert len(at.error) == 1, [e.value for e in at.error]
    return re.sub(r"\\(.)", r"\1", str(at.error[0].value))  # as the learner reads it (markdown escapes undone)


def test_feed_link_leads_the_page_and_a_new_secret_link_retires_the_old(fresh_state: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_FEED_URL", "https://plans.example.org/")
    at = _planned_calendar()
    webcal, http = _links(at)
    assert http.startswith("https://plans.example.org/feed/") and http.endswith(".ics")
    assert webcal == "webcal://" + http.removeprefix("https://")
    subheads = [s.value for s in at.header]
    assert subheads.index("Subscribe (follows every re-plan)") < subheads.index("Sync to a CalDAV calendar") \
        < subheads.index("Or import a file")
    steps = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    for app in ("Apple Calendar", "Thunderbird", "Google Calendar", "Outlook"):
        assert app in steps
    assert "reachable from the internet" in steps and "planner serve --host 0.0.0.0" in steps
    tokens = FeedTokens(fresh_state)
    assert tokens.learner_for(_token(http)) == "Me"

    at.button(key="feed_rotate").click().run()  # asks first, and nothing changes on "keep"
    assert any("Make a new secret link?" in w.value for w in _ok(at).warning)
    at.button(key="feed_rotate_cancel").click().run()
    assert _links(_ok(at))[1] == http and tokens.learner_for(_token(http)) == "Me"
    at.button(key="feed_rotate").click().run()
    at.button(key="feed_rotate_confirm").click().run()
    _ok(at)
    _, rotated = _links(at)
    assert rotated != http
    assert any("old link has stopped working" in w.value for w in at.warning)
    assert tokens.learner_for(_token(http)) is None
    assert tokens.learner_for(_token(rotated)) == "Me"
    _page(at, "today")
    assert _links(_page(at, "calendar"))[1] == rotated  # the same link on every visit


def test_no_plan_no_link() -> None:
    at = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "calendar")
    assert not at.code
    assert any("No plan yet" in i.value for i in at.info)


def test_sync_now_errors_are_one_line_and_the_password_is_not_kept(fresh_state: Path) -> None:
    at = _planned_calendar()
    refused = _sync(at, "http://127.0.0.1:1/ada/study-plan/")
    assert refused == "http://127.0.0.1:1/ada/study-plan/: cannot reach the server (connection refused)"
    assert "\n" not in refused
    assert at.session_state["caldav_password"] == ""
    assert at.text_input(key="caldav_password").value == ""
    assert at.session_state["caldav_url"] == "http://127.0.0.1:1/ada/study-plan/"  # kept: not a secret

    bad = _sync(at, "ftp://dav.example.org/cal/")
    assert bad.startswith("Calendar URL: ") and "not an http" in bad and "--caldav" not in bad
    in_url = _sync(at, "https://ada:pw@dav.example.org/cal/")
    assert "Password field" in in_url and "pw@" not in in_url

    assert at.session_state["caldav_url"] == ""  # a URL holding a password is not kept either
    assert PASSWORD not in repr(at.session_state) and "pw@" not in repr(at.session_state)
    for path in fresh_state.parent.iterdir():
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert Store(fresh_state).load("Me") is not None


def test_deleting_a_learner_forgets_its_feed_link(fresh_state: Path) -> None:
    at = _planned_calendar()
    _, old = _links(at)
    _page(at, "learners")
    assert at.button(key="delete_learner").disabled
    at.checkbox(key="delete_confirm").check().run()
    at.button(key="delete_learner").click().run()
    _ok(at)
    assert "Me" not in Store(fresh_state).names()
    assert FeedTokens(fresh_state).learner_for(_token(old)) is None
    assert any("no longer works" in s.value for s in at.success)

    at = _planned_calendar()  # a new learner of the same name
    _, new = _links(at)
    assert _token(new) != _token(old)
    assert FeedTokens(fresh_state).learner_for(_token(old)) is None


def test_the_link_the_page_shows_serves_the_plan(fresh_state: Path, monkeypatch: pytest.MonkeyPatch,
                                                 ml: Curriculum) -> None:
    """End to end: the feed server on the page's database, the address the page shows, a real HTTP fetch."""
    at = _planned_calendar()  # creates the database first, so the server opens an existing store
    with feed_server(fresh_state) as base:
        monkeypatch.setenv("PLANNER_FEED_URL", base)
        _page(at, "calendar")
        _, http = _links(at)
        assert http.startswith(base + "/feed/")
        with urllib.request.urlopen(http, timeout=60) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
            body = resp.read()
        rec = Store(fresh_state).load("Me")
        assert rec is not None and rec.plan is not None
        plan = plan_from_dict(rec.plan, ml)
        uids = {str(ev["UID"]) for ev in Calendar.from_ical(body).walk("VEVENT")}
        assert uids == {r.uid for r in live_calendar(plan).resources()}
        assert len(uids) == len(plan.active_sessions) > 100

        at.button(key="feed_rotate").click().run()
        at.button(key="feed_rotate_confirm").click().run()
        _ok(at)
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(http, timeout=60)
        assert gone.value.code == 404
        with urllib.request.urlopen(_links(at)[1], timeout=60) as resp:
            assert resp.status == 200 and Calendar.from_ical(resp.read()).walk("VEVENT")


def test_after_an_accepted_replan_the_page_says_what_follows_by_itself() -> None:
    start = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 14)  # a Monday two weeks ago
    at = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "plan")
    at.date_input(key="f_start").set_value(start)
    at.number_input(key="f_hours_per_week").set_value(20)
    next(b for b in at.button if b.label == "Make my plan").click().run()
    _page(_ok(at), "calendar")
    assert not any("Sync now" in i.value for i in at.info)
    _page(at, "today")
    at.button(key="today_replan").click().run()
    at.button(key="today_accept").click().run()
    _page(_ok(at), "calendar")
    note = next(i.value for i in at.info if "Sync now" in i.value)
    assert "subscribed calendar picks it up" in note and "password is not kept" in note


def test_sync_now_against_a_real_caldav_server(fresh_state: Path, tmp_path: Path) -> None:
    at = _planned_calendar()
    with radicale(tmp_path / "radicale", {"ada": PASSWORD}) as srv:
        url = srv.make_calendar("ada", "study-plan")
        at.text_input(key="caldav_url").input(url)
        at.text_input(key="caldav_user").input("ada")
        at.text_input(key="caldav_password").input(PASSWORD)
        at.button(key="FormSubmitter:caldav_form-Sync now").click().run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
        rec = Store(fresh_state).load("Me")
        assert rec is not None and rec.plan is not None
        n = sum(s["status"] != "cancelled" for s in rec.plan["sessions"])
        first = re.sub(r"\\(.)", r"\1", at.success[-1].value)
        assert first.startswith(f"created {n}, updated 0, deleted 0, unchanged 0 ({url}, ")
        assert at.text_input(key="caldav_password").value == ""

        wrong = _sync(at, url, password="not-the-password")  # the password has to be typed for every sync
        assert "refused the login for user 'ada'" in wrong and "check the user name and password" in wrong
        assert "PLANNER_CALDAV_PASSWORD" not in wrong and "not-the-password" not in wrong

        at.text_input(key="caldav_password").input(PASSWORD)
        at.button(key="FormSubmitter:caldav_form-Sync now").click().run()
        _ok(at)
        again = re.sub(r"\\(.)", r"\1", at.success[-1].value)
        assert again.startswith(f"created 0, updated 0, deleted 0, unchanged {n} (")
    assert PASSWORD.encode() not in fresh_state.read_bytes()
