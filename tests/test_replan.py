"""Re-planning after falling behind: history kept, least change, calendar-safe UIDs and SEQUENCE."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from planner.cli import main
from planner.errors import InputError
from planner.export import plan_to_ics, plan_to_json
from planner.progress import mark_done, mark_done_through, mark_missed, mark_topic_done
from planner.replan import CatchUpMenu, Replanned, replan
from planner.validate import validate_plan
from tests.conftest import plan_ok


def _replanned(curriculum, plan, today, **kw) -> Replanned:
    result = replan(curriculum, plan, today, **kw)
    assert isinstance(result, Replanned), result.message()
    assert validate_plan(result.plan) == [], [str(v) for v in validate_plan(result.plan)]
    return result


def test_nothing_missed_changes_nothing(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=16, timezone="Europe/Berlin")
    today = dt.date(2027, 3, 1)
    result = _replanned(ml, mark_done_through(plan, today - dt.timedelta(days=1)), today)
    future_old = [(s.uid, s.start, s.end, s.sequence) for s in plan.sessions if s.day >= today]
    future_new = [(s.uid, s.start, s.end, s.sequence) for s in result.plan.sessions if s.day >= today]
    assert future_new == future_old
    assert result.diff.moved == result.diff.added == result.diff.removed == ()
    assert result.diff.new_finish == plan.finish


def test_missed_week_with_spare_hours_catches_up_and_keeps_most_sessions(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=30, timezone="Europe/Berlin")
    today = dt.date(2027, 3, 1)
    behind = mark_done_through(plan, dt.date(2027, 2, 21))  # the last week before today was missed
    result = _replanned(ml, behind, today)
    assert len(result.diff.kept) > len(result.diff.moved)
    assert result.diff.new_finish == plan.finish  # spare weekly hours absorb the missed week
    missed = [s for s in result.plan.sessions if s.status == "missed"]
    assert missed and all(s.day < today for s in missed)


def test_moved_sessions_bump_sequence_and_removed_ones_are_cancelled(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=16)
    today = dt.date(2027, 3, 1)
    result = _replanned(ml, mark_done_through(plan, dt.date(2027, 2, 14)), today)
    old = {s.uid: s for s in plan.sessions}
    new = {s.uid: s for s in result.plan.sessions}
    for uid in result.diff.moved:
        assert new[uid].sequence == old[uid].sequence + 1
    for uid in result.diff.removed:
        assert new[uid].status == "cancelled" and new[uid].sequence == old[uid].sequence + 1
    cal = Calendar.from_ical(plan_to_ics(result.plan))
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in cal.events}
    assert all(statuses[u] == "CANCELLED" for u in result.diff.removed)
    assert len(statuses) == len(result.plan.sessions)


def test_catch_up_menu_when_range_end_would_pass(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=16)
    today = dt.date(2027, 6, 1)  # nothing done for five months
    menu = replan(ml, plan, today)
    assert isinstance(menu, CatchUpMenu)
    assert menu.hours_per_week_needed is not None and menu.hours_per_week_needed > 16
    assert menu.late_finish is not None and menu.late_finish > menu.latest_allowed
    fixed = _replanned(ml, plan, today, hours_per_week=menu.hours_per_week_needed)
    assert fixed.diff.inside_range
    late = replan(ml, plan, today, allow_late=True)
    assert isinstance(late, Replanned) and late.plan.finish == menu.late_finish


def test_bad_progress_input(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=16)
    with pytest.raises(InputError, match="unknown session UID"):
        mark_done(plan, ["nope@x"])
    with pytest.raises(InputError, match="unknown topic"):
        mark_topic_done(plan, ["nope"])
    with pytest.raises(InputError, match="before the plan's start"):
        replan(ml, plan, dt.date(2026, 1, 1))
    with pytest.raises(InputError, match="after the plan's finish"):
        replan(ml, plan, plan.finish + dt.timedelta(days=400))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    hours=st.sampled_from([6, 8, 12, 20]),
    today_offset=st.integers(min_value=0, max_value=60),
    done_mask=st.lists(st.sampled_from(["done", "missed", "planned", "partial"]), min_size=1, max_size=80),
)
def test_random_progress_properties(sql, hours, today_offset, done_mask):
    plan = plan_ok(sql, background="beginner", hours_per_week=hours, timezone="America/New_York")
    today = plan.profile.start + dt.timedelta(days=today_offset)
    past = [s for s in plan.sessions if s.day < today]
    for s, status in zip(past, done_mask, strict=False):
        if status == "done":
            plan = mark_done(plan, [s.uid])
        elif status == "missed":
            plan = mark_missed(plan, [s.uid])
        elif status == "partial":
            plan = mark_missed(plan, [s.uid], 0.5)
    result = replan(sql, plan, today, allow_late=True)
    assert isinstance(result, Replanned)
    problems = [v for v in validate_plan(result.plan) if v.rule != "month-range"]
    assert problems == [], [str(v) for v in problems]
    new = {s.uid: s for s in result.plan.sessions}
    assert len(new) == len(result.plan.sessions)  # UIDs unique
    for s in plan.sessions:
        if s.status == "done":  # done sessions never lost or moved
            assert new[s.uid].status == "done" and new[s.uid].start == s.start
        if s.uid in new and (new[s.uid].start, new[s.uid].end) != (s.start, s.end):
            assert new[s.uid].sequence > s.sequence  # every changed event announces it
    if all(st_ == "done" for st_ in done_mask[: len(past)]) and len(done_mask) >= len(past):
        assert result.diff.moved == result.diff.added == result.diff.removed == ()


def test_cli_mark_and_replan(tmp_path, capsys):
    js = tmp_path / "p.json"
    assert main(["plan", "--background", "ml_background", "--hours-per-week", "16", "--start", "2027-01-04",
                 "--json", str(js)]) == 0
    assert main(["mark", str(js), "--done-through", "2027-02-14"]) == 0
    data = json.loads(js.read_text())
    assert any(s["status"] == "done" for s in data["sessions"])
    new_json, new_ics = tmp_path / "n.json", tmp_path / "n.ics"
    assert main(["replan", str(js), "--today", "2027-03-01", "--json", str(new_json), "--ics", str(new_ics)]) == 0
    out = capsys.readouterr().out
    assert "kept" in out and "moved" in out
    assert json.loads(new_json.read_text())["format"] == "planner.plan/1"
    before = js.read_bytes()
    assert main(["mark", str(js), "--done", "not-a-uid"]) == 2
    assert js.read_bytes() == before
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something/9"}))
    assert main(["replan", str(bad), "--today", "2027-03-01"]) == 2
    assert "format" in capsys.readouterr().err


def test_plan_json_round_trip(ml):
    from planner.export.json import plan_from_dict

    plan = plan_ok(ml, background="complete_beginner", hours_per_week=18, timezone="Australia/Sydney")
    data = json.loads(plan_to_json(plan))
    again = plan_from_dict(data, ml)
    assert again.sessions == plan.sessions
    assert json.loads(plan_to_json(again)) == data
