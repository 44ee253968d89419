"""Property test: random study windows and random busy calendars (written as .ics files and read by the real
reader) give a plan in which no session lies outside a window or on a busy instant and every rule holds, or an
Infeasible answer that speaks of the free time.

The busy instants are worked out here independently of the reader (one-off events, weekly series with COUNT
and EXDATE in the learner's zone or in UTC, all-day events, transparent and cancelled ones), so the check does
not trust the code it checks. PLANNER_PROPERTY_EXAMPLES=N sets the number of examples (default 40).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from planner.busy import with_busy
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS, profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan
from tests.test_properties import small_curricula

EXAMPLES = int(os.environ.get("PLANNER_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"]
UTC = dt.UTC


@st.composite
def windows(draw: st.DrawFn) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in range(7):
        spans = []
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(0, 94)) * 15
            length = draw(st.integers(2, 24)) * 15
            end = min(start + length, 24 * 60)
            if end - start >= 30:
                spans.append(f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
        if spans:
            out[WEEKDAYS[d]] = spans
    assume(out)
    return out


@st.composite
def busy_events(draw: st.DrawFn, start: dt.date) -> list[dict[str, Any]]:
    events = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["one", "one", "weekly", "allday"]))
        day = start + dt.timedelta(days=draw(st.integers(-3, 120)))
        status = draw(st.sampled_from(["busy", "busy", "busy", "tentative", "transparent", "cancelled"]))
        if kind == "allday":
            events.append({"kind": kind, "day": day, "days": draw(st.integers(1, 3)), "status": status})
            continue
        minute = draw(st.sampled_from([*range(0, 60, 5), 7, 13]))
        hour = draw(st.sampled_from([0, 5, 6, 7, 8, 9, 10, 12, 14, 16, 17, 18, 19, 20, 21, 22, 23]))  # not 1-4:
        # the clock-change hours, where a wall-clock series start is read differently by different libraries
        events.append({"kind": kind, "day": day, "time": dt.time(hour, minute),
                       "minutes": draw(st.integers(5, 300)), "zone": draw(st.sampled_from(["tzid", "utc", "floating"])),
                       "count": draw(st.integers(1, 20)), "exdate": draw(st.integers(-1, 5)), "status": status})
    return events


def _stamp(t: dt.datetime, zone: str) -> str:
    if zone == "utc":
        return ":" + t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if zone == "floating":
        return ":" + t.strftime("%Y%m%dT%H%M%S")
    return f";TZID={t.tzinfo}:" + t.strftime("%Y%m%dT%H%M%S")


def _ics(events: list[dict[str, Any]], tz: ZoneInfo) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//random//EN"]
    for i, e in enumerate(events):
        lines += ["BEGIN:VEVENT", f"UID:e{i}@test", "DTSTAMP:20270101T000000Z", f"SUMMARY:Event {i}"]
        if e["status"] == "transparent":
            lines.append("TRANSP:TRANSPARENT")
        elif e["status"] in ("cancelled", "tentative"):
            lines.append(f"STATUS:{e['status'].upper()}")
        if e["kind"] == "allday":
            lines += [f"DTSTART;VALUE=DATE:{e['day']:%Y%m%d}",
                      f"DTEND;VALUE=DATE:{e['day'] + dt.timedelta(days=e['days']):%Y%m%d}"]
        else:
            begin = dt.datetime.combine(e["day"], e["time"], tzinfo=tz)
            end = begin.astimezone(UTC) + dt.timedelta(minutes=e["minutes"])
            lines += [f"DTSTART{_stamp(begin, e['zone'])}", f"DURATION:PT{e['minutes']}M"]
            del end
            if e["kind"] == "weekly":
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={e['count']}")
                if 0 <= e["exdate"] < e["count"]:
                    lines.append(f"EXDATE{_stamp(_nth(begin, e, e['exdate'], tz), e['zone'])}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _nth(begin: dt.datetime, e: dict[str, Any], k: int, tz: ZoneInfo) -> dt.datetime:
    """The k-th start of a weekly series: UTC series keep their UTC time, others their wall-clock time."""
    if e["zone"] == "utc":
        return (begin.astimezone(UTC) + dt.timedelta(weeks=k)).astimezone(tz)
    return dt.datetime.combine(e["day"] + dt.timedelta(weeks=k), e["time"], tzinfo=tz)


def _expected_busy(events: list[dict[str, Any]], tz: ZoneInfo) -> tuple[list[tuple[dt.datetime, dt.datetime]],
                                                                          set[dt.date]]:
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    days: set[dt.date] = set()
    for e in events:
        if e["status"] in ("transparent", "cancelled"):
            continue
        if e["kind"] == "allday":
            days |= {e["day"] + dt.timedelta(days=k) for k in range(e["days"])}
            continue
        begin = dt.datetime.combine(e["day"], e["time"], tzinfo=tz)
        count = e["count"] if e["kind"] == "weekly" else 1
        for k in range(count):
            if e["kind"] == "weekly" and k == e["exdate"]:
                continue
            a = _nth(begin, e, k, tz).astimezone(UTC)
            spans.append((a, a + dt.timedelta(minutes=e["minutes"])))
    return spans, days


def _inside_window(s_start: dt.datetime, s_end: dt.datetime, wins: dict[str, list[str]], tz: ZoneInfo) -> bool:
    """Inside the day's windows (overlapping windows of a day are one), in elapsed time."""
    day = s_start.astimezone(tz).date()
    spans = []
    for text in wins.get(WEEKDAYS[day.weekday()], []):
        a_text, b_text = text.split("-")
        a = dt.datetime.combine(day, dt.time.fromisoformat(a_text), tzinfo=tz)
        b = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz) if b_text == "24:00"
             else dt.datetime.combine(day, dt.time.fromisoformat(b_text), tzinfo=tz))
        spans.append((a.astimezone(UTC), b.astimezone(UTC)))
    joined: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in sorted(spans):
        if joined and a <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(b, joined[-1][1]))
        else:
            joined.append((a, b))
    return any(a <= s_start.astimezone(UTC) and s_end.astimezone(UTC) <= b for a, b in joined)


def _check(curriculum: Any, data: st.DataObject) -> None:
    start = data.draw(st.dates(dt.date(2027, 1, 1), dt.date(2027, 12, 31)), label="start")
    zone = data.draw(st.sampled_from(TIMEZONES), label="timezone")
    tz = ZoneInfo(zone)
    wins = data.draw(windows(), label="windows")
    events = data.draw(busy_events(start), label="busy")
    all_day = data.draw(st.sampled_from(["busy", "free"]), label="all_day_events")
    window_hours = sum((int(b[:2]) * 60 + int(b[3:]) - int(a[:2]) * 60 - int(a[3:])) // 30 / 2
                       for spans in wins.values() for a, b in (t.split("-") for t in spans))
    hours = data.draw(st.integers(1, max(1, int(window_hours * 2))), label="half hours") / 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "busy.ics"
        path.write_text(_ics(events, tz))
        fields = {"background": curriculum.background_keys[0], "hours_per_week": hours, "start": start.isoformat(),
                  "timezone": zone, "windows": wins, "busy": [str(path)], "all_day_events": all_day}
        try:
            profile = profile_from_mapping(fields, curriculum)
        except InputError as exc:  # e.g. windows holding fewer whole sessions than the weekly hours
            assert exc.field in ("windows", "day_hours"), str(exc)
            assume(False)
            raise
        profile = with_busy(profile, curriculum)  # the calendar is read once the fields are good
        try:
            result = make_plan(curriculum, profile)
        except InputError as exc:
            assert exc.field == "skip", str(exc)
            assume(False)
            raise
    if isinstance(result, Infeasible):
        event("infeasible")
        assert "free in your windows" in result.message()
        return
    assert isinstance(result, Plan)
    event("plan")
    problems = validate_plan(result)
    assert problems == [], [str(p) for p in problems]
    spans, blocked = _expected_busy(events, tz)
    for s in result.active_sessions:
        assert _inside_window(s.start, s.end, wins, tz), (s.start, s.end, wins)
        a, b = s.start.astimezone(UTC), s.end.astimezone(UTC)
        hit = [(x, y) for x, y in spans if x < b and a < y]
        assert not hit, (s.start, s.end, hit)
        if all_day == "busy":
            assert s.start.astimezone(tz).date() not in blocked, s.start


@SETTINGS
@given(data=st.data())
def test_sql_path_random_windows_and_calendars(sql, data):
    _check(sql, data)


@SETTINGS
@given(data=st.data())
def test_random_paths_random_windows_and_calendars(data):
    _check(data.draw(small_curricula(), label="path"), data)
