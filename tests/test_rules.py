"""One test per scheduling rule: each checks the rule on the sessions directly, and that the validator agrees."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

import pytest

from planner.errors import InputError
from planner.export import plan_to_ics, plan_to_json
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.requirements import add_months
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan
from tests.conftest import plan_ok, plan_result

SQL_START = dt.date(2027, 1, 4)  # a Monday


def _per_day(plan: Plan) -> dict[dt.date, float]:
    out: dict[dt.date, float] = defaultdict(float)
    for s in plan.sessions:
        out[s.day] += s.hours
    return out


def _per_iso_week(plan: Plan) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = defaultdict(float)
    for s in plan.sessions:
        iso = s.day.isocalendar()
        out[(iso.year, iso.week)] += s.hours
    return out


def _rules(plan: Plan) -> set[str]:
    return {v.rule for v in validate_plan(plan)}


# ---------------------------------------------------------------- rules on valid plans


def test_day_cap_explicit_day_hours(sql):
    caps = {"mon": 1.0, "wed": 1.5, "sat": 2.5}  # 5 h a week: 43 h need more than the 2-month minimum
    # the bare caps, without the catch-up buffer and reviews that keep part of each week free
    plan = plan_ok(sql, background="beginner", hours_per_week=5, day_hours=caps, buffer_percent=0, reviews=False)
    assert plan.profile.weekday_hours == (1.0, 0.0, 1.5, 0.0, 0.0, 2.5, 0.0)
    assert not plan.paced
    per_day = _per_day(plan)
    assert per_day
    for day, hours in per_day.items():
        assert day.strftime("%a").lower() in caps
        assert hours <= caps[day.strftime("%a").lower()] + 1e-9
    # the caps bind: Saturdays get their full 2.5 h
    assert any(h == pytest.approx(2.5) for d, h in per_day.items() if d.weekday() == 5)


def test_weekly_cap_below_sum_of_day_hours(sql):
    day_hours = {"mon": 2, "tue": 2, "wed": 2, "thu": 2, "sat": 4}  # 12 h of days, 6 h a week allowed
    plan = plan_ok(sql, background="beginner", hours_per_week=6, day_hours=day_hours)
    weeks = _per_iso_week(plan)
    assert weeks
    assert max(weeks.values()) <= 6 + 1e-9
    study = sum(s.hours for s in plan.sessions if s.kind != "review")
    assert study == pytest.approx(plan.requirements.total_hours)


def test_blackout_range_has_no_sessions(sql):
    a, b = dt.date(2027, 1, 18), dt.date(2027, 1, 31)
    plan = plan_ok(sql, background="beginner", hours_per_week=6, blackouts=[f"{a}..{b}"])
    days = {s.day for s in plan.sessions}
    assert not any(a <= d <= b for d in days)
    assert min(days) < a and max(days) > b  # the plan really spans the blackout
    assert (a, b) in plan.blackout_ranges


def test_public_holiday_has_no_sessions(sql):
    # 2027-10-03 (German Unity Day) is a Sunday; the learner studies every day
    plan = plan_ok(sql, background="beginner", hours_per_week=6, start="2027-09-06", holidays="DE")
    days = {s.day for s in plan.sessions}
    assert dt.date(2027, 10, 3) not in days
    assert min(days) < dt.date(2027, 10, 3) < max(days)
    sundays = {d for d in days if d.weekday() == 6}
    assert len(sundays) >= 3  # Sundays are study days otherwise
    assert any(a <= dt.date(2027, 10, 3) <= b for a, b in plan.blackout_ranges)
    # without the holiday calendar that Sunday is used
    plain = plan_ok(sql, background="beginner", hours_per_week=6, start="2027-09-06")
    assert not plain.profile.is_blackout(dt.date(2027, 10, 3))
    assert not any(a <= dt.date(2027, 10, 3) <= b for a, b in plain.blackout_ranges)


@pytest.mark.parametrize("which", ["sql", "ml"])
def test_prerequisites_finish_before_dependents_start(which, sql, ml):
    if which == "sql":
        plan = plan_ok(sql, background="beginner", hours_per_week=6)
    else:
        plan = plan_ok(ml, background="ml_background", hours_per_week=16)
    checked = 0
    for t in plan.requirements.topics:
        span = plan.topic_span(t.id)
        assert span is not None
        for q in t.requires:
            q_span = plan.topic_span(q)
            assert q_span is not None
            assert span[0] >= q_span[1], f"{t.id} starts before {q} ends"
            checked += 1
    assert checked > 3


def test_session_length_bounds(sql):
    plan = plan_ok(sql, background="beginner", hours_per_week=8, days="mon,sat", day_hours={"mon": 2, "sat": 6},
                   max_session_hours=1.5, session_start="09:00")
    for s in plan.sessions:
        minutes = (s.end - s.start).total_seconds() / 60
        assert minutes % 30 == 0
        assert 30 <= minutes <= 90
    per_day_count: dict[dt.date, int] = defaultdict(int)
    for s in plan.sessions:
        per_day_count[s.day] += 1
    assert max(per_day_count.values()) >= 4  # 6 h Saturdays are split into back-to-back sessions


def test_no_session_crosses_midnight(sql):
    # 3 h from 21:00 ends exactly at midnight, the latest allowed
    plan = plan_ok(sql, background="beginner", hours_per_week=6, days="tue,sat", day_hours={"tue": 3, "sat": 3},
                   session_start="21:00")
    for s in plan.sessions:
        midnight = dt.datetime.combine(s.day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=s.start.tzinfo)
        assert s.end <= midnight
        assert s.start.date() == s.day
    assert any(s.end.time() == dt.time(0, 0) for s in plan.sessions)
    # one more half hour would run past midnight: refused, naming the field
    with pytest.raises(InputError) as exc:
        profile_from_mapping({"background": "beginner", "hours_per_week": 6, "days": "tue,sat",
                              "day_hours": {"tue": 3, "sat": 3}, "session_start": "21:30",
                              "start": "2027-01-04"}, sql)
    assert exc.value.field.startswith("day_hours")


@pytest.mark.parametrize("background,hours", [("developer", 6), ("beginner", 4.5)])
def test_finish_inside_month_range(sql, background, hours):
    plan = plan_ok(sql, background=background, hours_per_week=hours)
    req = plan.requirements
    latest = add_months(SQL_START, req.months_max) - dt.timedelta(days=1)
    assert plan.finish <= latest
    assert plan.latest_allowed_finish == latest
    assert plan.finish >= add_months(SQL_START, req.months_min) - dt.timedelta(days=7)


def test_pacing_finishes_at_range_minimum(sql):
    plan = plan_ok(sql, background="beginner", hours_per_week=40)
    lo_end = add_months(SQL_START, plan.requirements.months_min) - dt.timedelta(days=1)  # 2027-03-03
    # every day is a study day here, so the last study day within the minimum is that day itself
    assert plan.earliest_allowed_finish == lo_end
    assert plan.finish == lo_end
    assert plan.paced
    assert plan.peak_week_hours < 40
    study = sum(s.hours for s in plan.sessions if s.kind != "review")
    assert study == pytest.approx(plan.requirements.total_hours)
    # at modest hours the plan is not paced
    normal = plan_ok(sql, background="beginner", hours_per_week=4.5)
    assert not normal.paced


def test_pacing_last_study_day_respects_weekdays(sql):
    # study only on Saturdays: the range minimum ends Wed 2027-03-03, the last Saturday before it is 2027-02-27
    plan = plan_ok(sql, background="beginner", hours_per_week=10, days="sat", day_hours={"sat": 10},
                   session_start="08:00")
    assert plan.finish == dt.date(2027, 2, 27)
    assert plan.paced


def test_determinism(sql, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    fields = {"background": "beginner", "hours_per_week": 5, "start": "2027-01-04", "timezone": "Europe/Berlin",
              "holidays": "DE", "blackouts": ["2027-02-01..2027-02-07"]}
    a = make_plan(sql, profile_from_mapping(fields, sql))
    b = make_plan(sql, profile_from_mapping(fields, sql))
    assert isinstance(a, Plan) and isinstance(b, Plan)
    assert a.sessions == b.sessions
    assert [s.uid for s in a.sessions] == [s.uid for s in b.sessions]
    import json

    ja, jb = json.loads(plan_to_json(a)), json.loads(plan_to_json(b))
    for j in (ja, jb):
        for k in ("seconds", "build_seconds", "focus_seconds"):
            j["summary"]["solver"].pop(k)
    assert ja == jb
    assert plan_to_ics(a) == plan_to_ics(b)


def test_infeasible_numbers(ml):
    r = plan_result(ml, background="ml_background", hours_per_week=8)
    assert isinstance(r, Infeasible)
    m = r.min_hours_per_week
    assert m is not None and m > 8
    assert (m * 2) == int(m * 2)  # half hours
    assert r.latest_finish == dt.date(2028, 1, 3)  # 12 months from 2027-01-04, minus a day
    assert r.earliest_finish is not None and r.earliest_finish > r.latest_finish
    assert "h/week" in r.message()
    assert f"{m:g} h/week" in r.message()
    ok = plan_result(ml, background="ml_background", hours_per_week=m)
    assert isinstance(ok, Plan)
    assert validate_plan(ok) == []
    assert isinstance(plan_result(ml, background="ml_background", hours_per_week=m - 0.5), Infeasible)


def test_skip_removes_topic_and_contracts_prerequisites(sql):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, skip=["sql-joins"])
    assert "sql-joins" not in {s.topic for s in plan.sessions}
    assert "sql-joins" not in {t.id for t in plan.requirements.topics}
    # sql-normalisation required sql-joins, which required sql-select: the edge is contracted
    assert plan.requirements.topic("sql-normalisation").requires == ("sql-select",)
    norm, sel = plan.topic_span("sql-normalisation"), plan.topic_span("sql-select")
    assert norm is not None and sel is not None and norm[0] >= sel[1]
    full = plan_ok(sql, background="beginner", hours_per_week=6)
    joins = full.requirements.topic("sql-joins")
    assert plan.requirements.total_hours == pytest.approx(full.requirements.total_hours - joins.hours)
    assert joins.hours + joins.reviews * 0.5 == pytest.approx(8)  # the path's 8 h, reviews included


def test_electives_add_their_topics(sql):
    base = plan_ok(sql, background="beginner", hours_per_week=6)
    assert "el-sql-warehouse" not in {s.topic for s in base.sessions}
    plan = plan_ok(sql, background="beginner", hours_per_week=6, electives=["analytics"])
    warehouse = plan.requirements.topic("el-sql-warehouse")
    hours = sum(s.hours for s in plan.sessions if s.topic == "el-sql-warehouse" and s.kind != "review")
    assert hours == pytest.approx(warehouse.hours)
    assert warehouse.hours + warehouse.reviews * 0.5 == pytest.approx(8)  # reviews come out of the estimate
    assert plan.requirements.topic("el-sql-warehouse").elective == "analytics"
    wh, norm = plan.topic_span("el-sql-warehouse"), plan.topic_span("sql-normalisation")
    assert wh is not None and norm is not None and wh[0] >= norm[1]
    assert plan.requirements.total_hours == pytest.approx(base.requirements.total_hours + warehouse.hours)


@pytest.mark.parametrize("tz,start,change", [
    ("Europe/Berlin", "2027-03-15", dt.date(2027, 3, 28)),
    ("America/New_York", "2027-03-01", dt.date(2027, 3, 14)),
    ("America/New_York", "2027-10-18", dt.date(2027, 11, 7)),
])
def test_dst_change_keeps_local_start_time(sql, tz, start, change):
    plan = plan_ok(sql, background="beginner", hours_per_week=6, start=start, timezone=tz, session_start="18:30")
    first_of_day: dict[dt.date, dt.datetime] = {}
    for s in plan.sessions:
        assert str(s.start.tzinfo) == tz
        first_of_day[s.day] = min(first_of_day.get(s.day, s.start), s.start)
    assert min(first_of_day) < change < max(first_of_day)
    for start_dt in first_of_day.values():
        assert (start_dt.hour, start_dt.minute) == (18, 30)
    offsets = {s.start.utcoffset() for s in plan.sessions}
    assert len(offsets) == 2  # the UTC offset changed while the wall-clock time stayed


# ---------------------------------------------------------------- the validator catches tampering


@pytest.fixture(scope="module")
def valid_sql_plan(sql) -> Plan:
    return plan_ok(sql, background="beginner", hours_per_week=6, blackouts=["2027-01-18..2027-01-24"])


def test_validator_blackout(valid_sql_plan):
    plan = valid_sql_plan
    s = plan.sessions[0]
    shift = dt.timedelta(days=(dt.date(2027, 1, 18) - s.day).days)
    moved = replace(s, start=s.start + shift, end=s.end + shift)
    tampered = replace(plan, sessions=(moved, *plan.sessions[1:]))
    assert "blackout" in _rules(tampered)


def test_validator_day_cap(valid_sql_plan):
    plan = valid_sql_plan
    cap = plan.profile.weekday_hours
    # a day filled to its cap: lengthen its last session by 30 minutes
    per_day = _per_day(plan)
    day = next(d for d, h in per_day.items() if h == pytest.approx(cap[d.weekday()]))
    last = max((s for s in plan.sessions if s.day == day), key=lambda s: s.end)
    longer = replace(last, end=last.end + dt.timedelta(minutes=30))
    tampered = replace(plan, sessions=tuple(longer if s is last else s for s in plan.sessions))
    assert "day-cap" in _rules(tampered)


def test_validator_dropped_session(valid_sql_plan):
    plan = valid_sql_plan
    tampered = replace(plan, sessions=plan.sessions[:5] + plan.sessions[6:])
    violations = validate_plan(tampered)
    assert [v.rule for v in violations] == ["hours-covered"]
    assert plan.sessions[5].topic in violations[0].message


def test_validator_prerequisite_order(valid_sql_plan):
    plan = valid_sql_plan
    # swap the times of the first session of sql-select and the first of sql-joins (which requires it)
    a = next(s for s in plan.sessions if s.topic == "sql-select")
    b = next(s for s in plan.sessions if s.topic == "sql-joins")
    a2, b2 = replace(a, start=b.start, end=b.end), replace(b, start=a.start, end=a.end)
    swapped = tuple(a2 if s is a else b2 if s is b else s for s in plan.sessions)
    violations = validate_plan(replace(plan, sessions=swapped))
    assert "prerequisite" in {v.rule for v in violations}
    assert any("sql-joins" in v.message for v in violations if v.rule == "prerequisite")


def test_validator_passes_untouched(valid_sql_plan):
    assert validate_plan(valid_sql_plan) == []
