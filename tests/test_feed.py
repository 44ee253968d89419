"""The subscription feed under uvicorn: 200/304/gzip/404, rotation, re-plans reaching the feed, and the CLI."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

from planner.curriculum import Curriculum
from planner.export import plan_to_dict, plan_to_json
from planner.feedtokens import feed_path, feed_url, rotate_token, webcal_url
from planner.plan import Plan
from planner.progress import mark_done_through
from planner.replan import Replanned, replan
from planner.store import Store
from tests.conftest import ROOT, plan_ok
from tests.servers import feed_server, fetch

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def small_plan(sql: Curriculum) -> Plan:
    return plan_ok(sql, background="beginner", hours_per_week=6, timezone="America/New_York")


@pytest.fixture(scope="module")
def replanned(sql: Curriculum, small_plan: Plan) -> Replanned:
    result = replan(sql, mark_done_through(small_plan, dt.date(2027, 1, 17)), dt.date(2027, 1, 25))
    assert isinstance(result, Replanned) and result.diff.removed
    return result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, small_plan: Plan):
    """A database with two learners and the feed app on it: (store, base URL)."""
    db = tmp_path_factory.mktemp("feed") / "planner.db"
    store = Store(db)
    raw = {"background": "beginner", "hours_per_week": 6, "timezone": "America/New_York", "start": "2027-01-04"}
    store.save("Ada", raw, plan_to_dict(small_plan), tracked=True)
    store.save("Bob", raw, plan_to_dict(small_plan), tracked=True)
    with feed_server(db) as base:
        yield store, base


def _feed(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def test_feed_serves_the_live_plan_with_caching_headers(served, small_plan):
    store, base = served
    url = feed_url(store, "Ada", base)
    status, headers, body = fetch(url)
    assert status == 200
    assert headers["content-type"] == "text/calendar; charset=utf-8"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")
    assert "accept-encoding" in headers["vary"].lower()
    assert "private" in headers["cache-control"]
    cal = _feed(body)
    events = cal.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {s.uid for s in small_plan.active_sessions}
    assert "METHOD" not in cal
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body and b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body
    stamps = {e["DTSTAMP"].dt for e in events}
    assert stamps == {email.utils.parsedate_to_datetime(headers["last-modified"])}  # from the save, not "now"
    # the same bytes on the next fetch: nothing in it depends on the time of the request
    assert fetch(url)[2] == body
    assert fetch(webcal_url(url).replace("webcal://", "http://"))[0] == 200


def test_conditional_requests_answer_304(served):
    store, base = served
    url = feed_url(store, "Ada", base)
    _, headers, _ = fetch(url)
    etag, modified = headers["etag"], headers["last-modified"]
    status, h304, body = fetch(url, headers={"If-None-Match": etag})
    assert (status, body) == (304, b"") and h304["etag"] == etag
    assert fetch(url, headers={"If-None-Match": f'"other", W/{etag}'})[0] == 304
    assert fetch(url, headers={"If-None-Match": '"something-else"'})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": modified})[0] == 304
    earlier = email.utils.format_datetime(email.utils.parsedate_to_datetime(modified) - dt.timedelta(seconds=1),
                                          usegmt=True)
    assert fetch(url, headers={"If-Modified-Since": earlier})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
    assert fetch(url, headers={"If-None-Match": '"x"', "If-Modified-Since": modified})[0] == 200
    assert fetch(url, headers={"If-Modified-Since": "not a date"})[0] == 200


def test_gzip_when_asked(served):
    store, base = served
    url = feed_url(store, "Ada", base)
    _, plain_headers, plain = fetch(url)
    status, headers, body = fetch(url, headers=GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain
    assert len(body) * 5 < len(plain)
    assert headers["etag"] != plain_headers["etag"]  # another representation, another tag
    assert fetch(url, headers={**GZIP, "If-None-Match": headers["etag"]})[0] == 304
    assert fetch(url, headers={**GZIP, "If-None-Match": plain_headers["etag"]})[0] == 304
    assert "content-encoding" not in fetch(url, headers={"Accept-Encoding": "gzip;q=0, identity"})[1]
    head_status, head_headers, head_body = fetch(url, method="HEAD")
    assert head_status == 200 and head_body == b"" and head_headers["etag"] == plain_headers["etag"]


def test_no_learner_data_without_its_token(served):
    store, base = served
    ada, bob = feed_path(store, "Ada"), feed_path(store, "Bob")
    assert ada != bob
    token = ada.removeprefix("/feed/").removesuffix(".ics")
    assert len(token) >= 43
    wrong = ("x" if token[0] != "x" else "y") + token[1:]
    for path in (f"/feed/{wrong}.ics", f"/feed/{token[:-1]}.ics", f"/feed/{token}", "/feed/.ics", "/feed/Ada.ics",
                 f"/feed/{token}.ics/", f"/feed/{token.upper()}.ics", "/", "/feed/", "/learners"):
        status, headers, body = fetch(base + path)
        assert status == 404, path
        assert b"VCALENDAR" not in body and b"Ada" not in body and headers.get("etag") is None
    assert fetch(base + ada, method="POST")[0] in (404, 405)


def test_rotated_token_answers_404(served):
    store, base = served
    old = feed_url(store, "Bob", base)
    _, headers, body = fetch(old)
    new_path = rotate_token(store, "Bob")
    assert fetch(old)[0] == 404
    status, new_headers, new_body = fetch(base + new_path)
    assert status == 200 and new_body == body and new_headers["etag"] == headers["etag"]
    assert feed_path(store, "Bob") == new_path


def test_accepted_replan_is_in_the_feed_at_the_next_fetch(tmp_path, small_plan, replanned):
    db = tmp_path / "planner.db"
    store = Store(db)
    raw = {"background": "beginner", "hours_per_week": 6, "timezone": "America/New_York", "start": "2027-01-04"}
    store.save("Cy", raw, plan_to_dict(small_plan), tracked=True)
    with feed_server(db) as base:
        url = feed_url(store, "Cy", base)
        _, first, _ = fetch(url)
        store.save("Cy", raw, plan_to_dict(small_plan), tracked=True)  # the same plan saved again
        _, again, body = fetch(url)
        assert again["etag"] == first["etag"] and again["last-modified"] == first["last-modified"]
        assert fetch(url, headers={"If-None-Match": first["etag"]})[0] == 304

        store.save("Cy", raw, plan_to_dict(replanned.plan), tracked=True)  # an accepted re-plan
        status, headers, body = fetch(url, headers={"If-None-Match": first["etag"]})
        assert status == 200 and headers["etag"] != first["etag"]
        events = {str(e["UID"]): e for e in _feed(body).walk("VEVENT")}
        assert set(events) == {s.uid for s in replanned.plan.active_sessions}
        assert not set(events) & set(replanned.diff.removed)  # cancelled sessions are simply gone
        for s in replanned.plan.active_sessions:
            assert events[s.uid]["DTSTART"].dt == s.start and int(events[s.uid]["SEQUENCE"]) == s.sequence

        store.save("Cy", raw, plan_to_dict(small_plan), tracked=True)  # back to the first plan (a restore)
        status, back, body = fetch(url, headers={"If-None-Match": headers["etag"]})
        assert status == 200 and back["etag"] not in (first["etag"], headers["etag"])
        assert email.utils.parsedate_to_datetime(back["last-modified"]) >= email.utils.parsedate_to_datetime(
            headers["last-modified"])
        assert {str(e["UID"]) for e in _feed(body).walk("VEVENT")} == {s.uid for s in small_plan.active_sessions}

        store.save("Cy", raw, None)  # the learner's new inputs did not fit: no plan, an empty calendar
        status, _, body = fetch(url)
        assert status == 200 and _feed(body).walk("VEVENT") == []

        store.delete("Cy")
        assert fetch(url)[0] == 404
        store.save("Cy", raw, plan_to_dict(small_plan), tracked=True)  # a new learner of the same name
        assert fetch(url)[0] == 404
        assert feed_url(store, "Cy", base) != url


def _cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLANNER_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "planner", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_cli_learners_feed_and_rotate(tmp_path, small_plan):
    db = tmp_path / "planner.db"
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    listed = _cli("learners", db=db)
    assert listed.returncode == 0 and "no saved learners" in listed.stdout
    added = _cli("learners", "add", "Dee", "--plan", str(plan_file), db=db)
    assert added.returncode == 0, added.stderr
    listed = _cli("learners", "--db", str(db), db=tmp_path / "other.db")
    assert listed.stdout.startswith("Dee") and f"{len(small_plan.active_sessions)} sessions" in listed.stdout
    restored = Store(db).load("Dee")
    assert restored is not None and restored.tracked and restored.plan == plan_to_dict(small_plan)

    first = _cli("feed", "Dee", db=db)
    assert first.returncode == 0 and first.stdout.startswith("/feed/") and first.stdout.strip().endswith(".ics")
    assert _cli("feed", "Dee", db=db).stdout == first.stdout
    rotated = _cli("feed", "Dee", "--rotate", db=db)
    assert rotated.returncode == 0 and rotated.stdout != first.stdout
    with feed_server(db) as base:
        assert fetch(base + first.stdout.strip())[0] == 404
        assert fetch(base + rotated.stdout.strip())[0] == 200
        full = _cli("feed", "Dee", "--base", base, db=db)
        assert full.stdout.strip() == base + rotated.stdout.strip()
        busy = _cli("serve", "--port", base.rsplit(":", 1)[1], db=db)  # the port is taken
        assert busy.returncode == 2 and "--port: cannot listen" in busy.stderr and "Traceback" not in busy.stderr

    for args, words in ((("feed", "Nobody"), "no saved learner"),
                        (("learners", "add", "Eve", "--plan", str(tmp_path / "missing.json")), "not found"),
                        (("learners", "add", "  ", "--plan", str(plan_file)), "learner"),
                        (("serve", "--port", "http"), "--port")):
        bad = _cli(*args, db=db)
        assert bad.returncode == 2 and words in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)


def _props(ev) -> dict[str, bytes]:
    return {k: ev[k].to_ical() if hasattr(ev[k], "to_ical") else str(ev[k]).encode() for k in ev if k != "DTSTAMP"}


def test_live_calendar_is_the_export_without_cancelled_events(replanned):
    """Cutting the export's bytes keeps every live event exactly as icalendar reads it in the export."""
    from planner.export import plan_to_ics
    from planner.livecal import PLACEHOLDER_LINE, live_calendar

    plan = replanned.plan
    exported = {str(e["UID"]): e for e in Calendar.from_ical(plan_to_ics(plan)).walk("VEVENT")}
    live = live_calendar(plan)
    feed = Calendar.from_ical(live.to_ical())
    events = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    assert set(events) == {s.uid for s in plan.active_sessions}
    assert "METHOD" not in feed and [str(z["TZID"]) for z in feed.walk("VTIMEZONE")] == ["America/New_York"]
    for uid, ev in events.items():
        assert _props(ev) == _props(exported[uid])
        assert [a.to_ical() for a in ev.subcomponents] == [a.to_ical() for a in exported[uid].subcomponents]
    for res in live.resources():
        cal = Calendar.from_ical(res.body)
        assert "METHOD" not in cal and len(cal.walk("VEVENT")) == 1 and str(cal.walk("VEVENT")[0]["UID"]) == res.uid
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["America/New_York"]
        assert res.body.count(PLACEHOLDER_LINE) == 1


def test_live_calendar_reads_folded_lines_and_leaves_alarms_alone():
    from planner.livecal import split_calendar

    data = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:PUBLISH\r\n"
            b"BEGIN:VEVENT\r\nUID:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
            b" bbb@study-planner\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=\"Europe/Berlin\":20270101T100000\r\n"
            b"DTEND;VALUE=DATE-TIME;TZID=Europe/Berlin:20270101T110000\r\nSUMMARY:A\r\n"
            b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nSTATUS:CANCELLED\r\nEND:VALARM\r\nEND:VEVENT\r\n"
            b"BEGIN:VEVENT\r\nUID:c@study-planner\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270102T100000Z\r\n"
            b"STATUS:\r\n CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    cal = split_calendar(data)
    assert split_calendar(data.replace(b"\r\n", b"\n")) == cal
    assert [e.uid for e in cal.events] == ["a" * 70 + "bbb@study-planner"]
    assert cal.events[0].tzids == ("Europe/Berlin",)
    assert all(not p.startswith(b"METHOD") for p in cal.properties)
    assert Calendar.from_ical(cal.to_ical()).walk("VALARM")[0]["TRIGGER"].to_ical() == b"-PT15M"
