"""The fast .ics writer gives exactly the bytes of the icalendar-object writer, on plans of every shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.export.ics import _fold, plan_to_ics, plan_to_ics_objects
from planner.plan import Plan
from planner.progress import mark_done_through
from planner.replan import Replanned, replan
from tests.conftest import plan_ok

try:  # icalendar's own folding, the reference for _fold
    from icalendar.parser.string import _foldline as icalendar_fold
except ImportError:  # pragma: no cover - older icalendar
    from icalendar.parser import foldline as icalendar_fold

GRID = [
    ("complete_beginner", 17, "UTC"),
    ("complete_beginner", 25, "Europe/Berlin"),
    ("ml_background", 18, "America/New_York"),
    ("ml_background", 30, "Australia/Sydney"),
    ("full_time_accelerated", 36, "Australia/Lord_Howe"),
    ("full_time_accelerated", 40, "Asia/Kolkata"),
]


@pytest.fixture(autouse=True)
def _fixed_stamp(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")


def _same(plan: Plan, **kw) -> bytes:
    fast = plan_to_ics(plan, **kw)
    assert fast == plan_to_ics_objects(plan, **kw)
    return fast


@pytest.mark.parametrize(("background", "hours", "tz"), GRID)
def test_grid_plans(ml, background, hours, tz):
    plan = plan_ok(ml, background=background, hours_per_week=hours, timezone=tz)
    data = _same(plan)
    assert data.count(b"BEGIN:VEVENT") == len(plan.sessions)
    _same(plan, utc=True)


def _three_replans(ml) -> Iterator[tuple[Plan, Replanned, dt.date]]:
    """A plan re-planned three times, 17 days apart, nine days of each missed: (before, re-planned, today)."""
    plan = plan_ok(ml, background="ml_background", hours_per_week=18, timezone="Europe/Berlin")
    today = plan.profile.start
    for _ in range(3):
        today += dt.timedelta(days=17)
        result = replan(ml, mark_done_through(plan, today - dt.timedelta(days=9)), today, allow_late=True)
        assert isinstance(result, Replanned)
        yield plan, result, today
        plan = result.plan


def test_replanned_plan_with_cancellations(ml):
    *_, (_, last, _) = _three_replans(ml)
    plan = last.plan
    assert any(s.status == "cancelled" for s in plan.sessions)
    data = _same(plan)
    assert b"STATUS:CANCELLED" in data


def test_a_replan_changes_only_the_events_that_moved(ml):
    """Three re-plans in a row (weeks missed, sessions moved, added and cancelled): an event whose session kept
    its time and status keeps every byte (DTSTAMP aside), and no description counts sessions ("Session 8 of 7"
    came from counting cancelled ones)."""
    from icalendar import Calendar

    def events(p: Plan) -> dict[str, bytes]:
        return {str(ev["UID"]): ev.to_ical() for ev in Calendar.from_ical(plan_to_ics(p)).walk("VEVENT")}

    for plan, result, today in _three_replans(ml):
        before, after = events(plan), events(result.plan)
        old = {s.uid: s for s in plan.sessions}
        same = [s.uid for s in result.plan.active_sessions
                if s.uid in old and (old[s.uid].start, old[s.uid].end, old[s.uid].status, old[s.uid].sequence)
                == (s.start, s.end, s.status, s.sequence)]
        assert same and all(after[uid] == before[uid] for uid in same)
        changed = [uid for uid in after if uid in before and after[uid] != before[uid]]
        assert set(changed) == set(result.diff.moved) | {s.uid for s in result.plan.sessions
                                                         if s.cancelled_on == today}
        assert b"Session " not in b"".join(after.values())


@pytest.mark.parametrize("reminder", ["off", 5, 90, 1440])
def test_reminders(sql, reminder):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, timezone="America/New_York",
                   reminder_minutes=reminder)
    data = _same(plan)
    assert (b"BEGIN:VALARM" in data) is (reminder != "off")


@pytest.mark.parametrize(("tz", "day", "at"), [("America/New_York", "2027-11-07", "01:30"),
                                               ("America/New_York", "2027-03-14", "02:30"),
                                               ("Australia/Lord_Howe", "2027-04-04", "01:30")])
def test_daylight_saving_edges(sql, tz, day, at):
    plan = plan_ok(sql, background="beginner", hours_per_week=5, day_hours="sun=5", start=day, timezone=tz,
                   session_start=at)
    _same(plan)


@pytest.mark.parametrize("name", ["Plan, part 1; \"A\\B\"", "Two\nlines\x07", "ÉTÉ 学习 " * 12 + "\\end", ""])
def test_calendar_names(sql, name):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, timezone="Europe/Berlin")
    _same(plan, calendar_name=name)


def test_odd_titles_fold_alike(sql):
    """Long non-ASCII titles and a backslash escape at the fold boundary."""
    plan = plan_ok(sql, background="beginner", hours_per_week=6, timezone="Europe/Berlin")
    titles = ["x" * 61 + "\\a,b;c" * 10, "Ünïcödé — 数据库 " * 9, "a" * 64 + "\\\\" + "^" * 40, "=1+1\r\ttab"]
    topics = tuple(replace(t, title=titles[i % len(titles)], resources=(titles[(i + 1) % len(titles)],))
                   for i, t in enumerate(plan.requirements.topics))
    _same(replace(plan, requirements=replace(plan.requirements, topics=topics)))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab\\^;,:é学😀 \t")), max_size=400), st.integers(0, 80))
def test_fold_matches_icalendar(text, pad):
    line = "DESCRIPTION:" + "p" * pad + text
    assert _fold(line) == icalendar_fold(line)
