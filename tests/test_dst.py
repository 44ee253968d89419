"""Daylight-saving nights: sessions keep their real length, and every calendar parser reads the plan's instants.

Sessions start at 01:30, 02:00 or 02:30 on the nights the clocks change, in zones with one-hour shifts in both
hemispheres and Lord Howe Island's 30-minute shift: starts inside the spring-forward gap, inside the repeated
hour, and sessions that run across the change.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zoneinfo

import pytest
from icalendar import Calendar

from planner.export import plan_to_ics, plan_to_json
from planner.export.ics import edge_time
from planner.export.json import plan_from_dict
from planner.plan import Plan, local_instant
from planner.validate import validate_plan
from tests.calendar_readers import read_all
from tests.conftest import plan_ok

NIGHTS = [
    # zone, the Sunday the clocks change, which way
    ("America/New_York", "2027-03-14", "forward"),
    ("America/New_York", "2027-11-07", "back"),
    ("Europe/Berlin", "2027-03-28", "forward"),
    ("Europe/Berlin", "2027-10-31", "back"),
    ("Australia/Sydney", "2027-04-04", "back"),
    ("Australia/Sydney", "2027-10-03", "forward"),
    ("Australia/Lord_Howe", "2027-04-04", "back"),
    ("Australia/Lord_Howe", "2027-10-03", "forward"),
]
STARTS = ["01:30", "02:00", "02:30"]
CASES = [(tz, day, way, at) for tz, day, way in NIGHTS for at in STARTS]


def _sunday_plan(sql, tz: str, day: str, at: str) -> Plan:
    """Five hours every Sunday from the night of the change: the first day is always that night."""
    return plan_ok(sql, background="beginner", hours_per_week=5, day_hours="sun=5", start=day, timezone=tz,
                   session_start=at)


@pytest.fixture(scope="module")
def utc_lengths(sql) -> dict[str, float]:
    """The same plan in UTC, where the wall clock never jumps: each session's planned length."""
    plan = _sunday_plan(sql, "UTC", "2027-03-14", "01:30")
    return {s.uid: (s.end - s.start).total_seconds() for s in plan.sessions}


@pytest.mark.parametrize("way", ["forward", "back"])
def test_the_nights_are_real_changes(way):
    for tz, day, w in NIGHTS:
        if w != way:
            continue
        zone, d = zoneinfo.ZoneInfo(tz), dt.date.fromisoformat(day)
        before = dt.datetime.combine(d, dt.time(0, 0), zone).utcoffset()
        after = dt.datetime.combine(d, dt.time(12, 0), zone).utcoffset()
        assert before is not None and after is not None
        assert (after > before) == (way == "forward"), tz


@pytest.mark.parametrize(("tz", "day", "way", "at"), CASES)
def test_sessions_keep_their_length_and_every_parser_reads_the_json(sql, utc_lengths, tmp_path, tz, day, way, at):
    plan = _sunday_plan(sql, tz, day, at)
    zone, night = zoneinfo.ZoneInfo(tz), dt.date.fromisoformat(day)
    first_night = sorted((s for s in plan.sessions if s.day == night), key=lambda s: s.start.timestamp())
    assert first_night, "the plan has no session on the night of the change"
    # The day starts at the instant its start time stands for (a skipped 02:30 is 03:30) and runs back to back.
    assert first_night[0].start == local_instant(night, dt.time.fromisoformat(at), zone)
    for a, b in itertools.pairwise(first_night):
        assert a.end.timestamp() == b.start.timestamp()

    # The plan JSON holds true instants: its elapsed lengths are the planned ones, as in UTC.
    doc = json.loads(plan_to_json(plan))
    json_instants = {}
    assert {s["uid"] for s in doc["sessions"]} == set(utc_lengths)
    for s in doc["sessions"]:
        start, end = dt.datetime.fromisoformat(s["start"]), dt.datetime.fromisoformat(s["end"])
        assert (end - start).total_seconds() == utc_lengths[s["uid"]], s
        assert s["hours"] * 3600 == utc_lengths[s["uid"]]
        json_instants[s["uid"]] = (start.astimezone(dt.UTC), end.astimezone(dt.UTC))
    # ... and reads back to the same plan, which the validator still accepts.
    again = plan_from_dict(doc, sql)
    assert validate_plan(again) == []
    assert {s.uid: (s.start.timestamp(), s.end.timestamp()) for s in again.sessions} == \
        {u: (a.timestamp(), b.timestamp()) for u, (a, b) in json_instants.items()}

    data = plan_to_ics(plan)
    readers = read_all(data, tmp_path)
    for name, got in readers.items():
        assert got == json_instants, name
        assert all(start != end for start, end in got.values()), name

    # Only events at a repeated or skipped wall time are in UTC; the rest keep local times with TZID.
    cal = Calendar.from_ical(data)
    edges = 0
    for ev in cal.walk("VEVENT"):
        start, end = json_instants[str(ev["UID"])]
        at_edge = edge_time(start, zone) or edge_time(end, zone)
        edges += at_edge
        for prop in ("DTSTART", "DTEND"):
            assert ("TZID" in ev[prop].params) is not at_edge, (prop, str(ev["UID"]))
            assert ev[prop].to_ical().endswith(b"Z") is at_edge
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == [tz]


def test_edge_times():
    ny = zoneinfo.ZoneInfo("America/New_York")
    lhi = zoneinfo.ZoneInfo("Australia/Lord_Howe")
    assert edge_time(local_instant(dt.date(2027, 11, 7), dt.time(1, 30), ny), ny)  # repeated hour
    assert not edge_time(local_instant(dt.date(2027, 11, 7), dt.time(2, 30), ny), ny)
    assert not edge_time(local_instant(dt.date(2027, 3, 14), dt.time(2, 30), ny), ny)  # moved to 03:30
    assert edge_time(local_instant(dt.date(2027, 4, 4), dt.time(1, 45), lhi), lhi)  # 30-minute repeat
    assert not edge_time(local_instant(dt.date(2027, 4, 4), dt.time(2, 0), lhi), lhi)


def test_local_instant_counts_elapsed_time():
    ny = zoneinfo.ZoneInfo("America/New_York")
    # 02:30 does not exist on 2027-03-14: the start is the instant 02:30 EST stands for, 03:30 EDT.
    start = local_instant(dt.date(2027, 3, 14), dt.time(2, 30), ny)
    assert start.isoformat() == "2027-03-14T03:30:00-04:00"
    # 01:30 happens twice on 2027-11-07: the first one, and 2.5 h later is 03:00 EST (wall clock: 1.5 h).
    start = local_instant(dt.date(2027, 11, 7), dt.time(1, 30), ny)
    end = local_instant(dt.date(2027, 11, 7), dt.time(1, 30), ny, 150)
    assert (start.isoformat(), end.isoformat()) == ("2027-11-07T01:30:00-04:00", "2027-11-07T03:00:00-05:00")
