"""Calendar and spreadsheet files as other programs read them: cancellations carried only from the latest
re-plan (so files stay small over a year of re-plans), calendar names escaped, no METHOD without ORGANIZER,
and CSV cells that a spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import replace

import pandas as pd
import pytest
import vobject
from icalendar import Calendar

from planner.export import plan_to_csv, plan_to_ics, plan_to_json
from planner.export.json import plan_from_dict
from planner.plan import Plan
from planner.progress import mark_done_through
from planner.replan import Replanned, replan
from tests.calendar_readers import icaljs_available, libical_available, read_all, run_icaljs, run_libical
from tests.conftest import plan_ok

REPLANS = 10


def _roundtrip(plan: Plan, curriculum) -> Plan:
    return plan_from_dict(json.loads(plan_to_json(plan)), curriculum)


@pytest.fixture(scope="module")
def year_of_replans(ml) -> list[Plan]:
    """A beginner at 17 h/week who falls a week behind and re-plans every three weeks, ten times, each plan
    saved and read back as the CLI does."""
    plan = plan_ok(ml, background="complete_beginner", hours_per_week=17, start="2027-01-04")
    plans = [plan]
    today = plan.profile.start
    for _ in range(REPLANS):
        today += dt.timedelta(days=21)
        marked = mark_done_through(plans[-1], today - dt.timedelta(days=8))
        result = replan(ml, marked, today)
        if not isinstance(result, Replanned):
            result = replan(ml, marked, today, allow_late=True)
        assert isinstance(result, Replanned)
        plans.append(_roundtrip(result.plan, ml))
    return plans


def test_a_year_of_replans_stays_under_a_megabyte(year_of_replans):
    last = year_of_replans[-1]
    assert last.replanned_on is not None
    data = plan_to_ics(last)
    assert len(data) <= 1_000_000, len(data)
    cancelled = [s for s in last.sessions if s.status == "cancelled"]
    latest = [s for s in cancelled if s.cancelled_on == last.replanned_on]
    # Older cancellations are in the JSON, not in the calendar. (The last re-plans of this year catch up in the
    # room the old plan left, so they may cancel nothing: every missed block is placed, none removed.)
    assert len(cancelled) > len(latest) >= 0
    cal = Calendar.from_ical(data)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {s.uid for s in last.active_sessions} | {s.uid for s in latest}
    for s in latest:
        assert str(events[s.uid]["STATUS"]) == "CANCELLED"
        assert int(events[s.uid]["SEQUENCE"]) == s.sequence >= 1
        assert "VALARM" not in [c.name for c in events[s.uid].subcomponents]


def test_each_replan_cancels_what_the_one_before_showed(year_of_replans):
    """A calendar that took every file in turn ends with exactly the last plan's active events: every event
    the last file leaves out was either never in a file or cancelled by a file the calendar took."""
    shown: dict[str, str] = {}
    for plan in year_of_replans:
        for ev in Calendar.from_ical(plan_to_ics(plan)).walk("VEVENT"):
            shown[str(ev["UID"])] = str(ev["STATUS"])
    final = {uid for uid, status in shown.items() if status == "CONFIRMED"}
    assert final == {s.uid for s in year_of_replans[-1].active_sessions}


def test_cancelled_on_round_trips_and_old_files_default_to_their_replan(year_of_replans, ml):
    last = year_of_replans[-1]
    doc = json.loads(plan_to_json(last))
    marked = [s for s in doc["sessions"] if "cancelled_on" in s]
    assert marked and all(s["status"] == "cancelled" for s in marked)
    assert len(marked) == sum(s["status"] == "cancelled" for s in doc["sessions"])
    assert len({s["cancelled_on"] for s in marked}) > 1
    assert plan_to_json(plan_from_dict(doc, ml)) == plan_to_json(last)
    # A file written before the field existed: its cancellations date from its own re-plan, so its calendar
    # carries them all once more, and the next re-plan's file only its own.
    for s in doc["sessions"]:
        s.pop("cancelled_on", None)
    old = plan_from_dict(doc, ml)
    assert all(s.cancelled_on == old.replanned_on for s in old.sessions if s.status == "cancelled")
    cancelled_events = Calendar.from_ical(plan_to_ics(old)).walk("VEVENT")
    assert sum(str(e["STATUS"]) == "CANCELLED" for e in cancelled_events) == \
        sum(s.status == "cancelled" for s in old.sessions)
    assert old.replanned_on is not None
    today = old.replanned_on + dt.timedelta(days=14)
    nxt = replan(ml, old, today, allow_late=True)
    assert isinstance(nxt, Replanned)
    again = _roundtrip(nxt.plan, ml)
    carried = {str(e["UID"]) for e in Calendar.from_ical(plan_to_ics(again)).walk("VEVENT")
               if str(e["STATUS"]) == "CANCELLED"}
    assert carried == {s.uid for s in again.sessions if s.status == "cancelled" and s.cancelled_on == today}


def test_first_plan_has_no_cancellations(year_of_replans):
    first = year_of_replans[0]
    assert first.replanned_on is None
    assert b"STATUS:CANCELLED" not in plan_to_ics(first)


ODD_NAMES = [
    ('Plan, part 1; "A\\B"', 'Plan, part 1; "A\\B"'),
    ("Two\nlines\r\nand\ra bell\x07 and\ttab", "Two lines and a bell  and tab"),
    ("ÉTÉ 2027 · ML 学习 — résumé ✓", "ÉTÉ 2027 · ML 学习 — résumé ✓"),
    ("\n\x00\t", None),  # nothing left: the default name
]


def _unescape(text: str) -> str:
    """RFC 5545 TEXT unescaping, for the parsers that hand back NAME and X-WR-CALNAME as written."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


@pytest.mark.parametrize(("given", "expected"), ODD_NAMES)
def test_calendar_name_escaped(sql, tmp_path, given, expected):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, timezone="Europe/Berlin")
    data = plan_to_ics(plan, calendar_name=given)
    want = expected or "Study plan · " + plan.path_title.split(" — ")[0]
    raw = data.replace(b"\r\n ", b"")
    assert not any(ch < 0x20 for line in raw.split(b"\r\n") for ch in line)  # no control character survives
    escaped = want.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    assert f"\r\nNAME:{escaped}\r\n".encode() in raw
    assert f"\r\nX-WR-CALNAME:{escaped}\r\n".encode() in raw
    # vobject and libical unescape the name; icalendar and ical.js hand it back as written (both properties
    # are unknown to them), which unescapes to the same name.
    cal = Calendar.from_ical(data)
    assert _unescape(str(cal["NAME"])) == want
    assert _unescape(str(cal["X-WR-CALNAME"])) == want
    assert vobject.readOne(data.decode("utf-8")).contents["x-wr-calname"][0].value == want
    if icaljs_available():
        events = run_icaljs(data, tmp_path)
        assert len(events) == len(plan.sessions)
        assert _unescape(events[0]["name"]) == want
    if libical_available():
        assert run_libical(data, tmp_path)["name"] == want


def test_no_method_and_libical_restrictions_pass(sql, tmp_path):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, timezone="America/New_York")
    data = plan_to_ics(plan, calendar_name="Evening study; SQL, part 1")
    assert b"METHOD:" not in data
    checked = run_libical(data, tmp_path)
    assert checked["restrictions_ok"], checked["errors"]
    assert checked["errors"] == []
    expected = {s.uid: (s.start.astimezone(dt.UTC), s.end.astimezone(dt.UTC)) for s in plan.sessions}
    for name, got in read_all(data, tmp_path).items():
        assert got == expected, name


FORMULAS = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+SUM(1,2)", "-2+3", "@cmd", "\tTabbed", "\rCR"]


def test_csv_cells_that_start_like_formulas_are_neutralised(sql):
    plan = plan_ok(sql, background="beginner", hours_per_week=6)
    topics = list(plan.requirements.topics)
    titles = {t.id: FORMULAS[i % len(FORMULAS)] + f" {i}" for i, t in enumerate(topics)}
    topics = [replace(t, title=titles[t.id]) for t in topics]
    phases = tuple(replace(p, title="=1+1") if i == 0 else p for i, p in enumerate(plan.phases))
    odd = replace(plan, requirements=replace(plan.requirements, topics=tuple(topics)), phases=phases)
    data = plan_to_csv(odd)

    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(rows) == len(plan.sessions)
    for row, s in zip(rows, odd.sessions, strict=True):
        assert row["title"] == "'" + titles[s.topic].replace("\r", "\n")  # a bare CR would split the row
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
        assert row["uid"] == s.uid and float(row["hours"]) == s.hours  # ordinary cells are untouched
    assert any(row["phase_title"] == "'=1+1" for row in rows)
    frame = pd.read_csv(io.BytesIO(data), keep_default_na=False)
    assert frame["title"].str.startswith("'").all()
    assert frame["hours"].dtype.kind == "f"


def test_csv_keeps_ordinary_text(sql):
    plan = plan_ok(sql, background="beginner", hours_per_week=6)
    rows = list(csv.DictReader(io.StringIO(plan_to_csv(plan).decode("utf-8"), newline="")))
    titles = {t.id: t.title for t in plan.requirements.topics}
    assert [r["title"] for r in rows] == [titles[s.topic] for s in plan.sessions]
