"""Property tests over random valid profiles: a valid plan, or an Infeasible whose numbers are right."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS, Profile, profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan

SETTINGS = settings(
    max_examples=int(os.environ.get("PLANNER_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
TIMEZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Adelaide", "America/New_York", "Australia/Sydney",
             "Pacific/Auckland", "America/Sao_Paulo"]


@st.composite
def blackouts(draw: st.DrawFn, start: dt.date) -> list[str]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        offset = draw(st.integers(-30, 500))
        length = draw(st.one_of(st.integers(0, 20), st.integers(21, 400)))  # short ones and long ones
        a = start + dt.timedelta(days=offset)
        out.append(f"{a}..{a + dt.timedelta(days=length)}")
    return out


@st.composite
def profile_fields(draw: st.DrawFn, curriculum: Curriculum) -> dict[str, Any]:
    start = draw(st.dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31)))
    days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
    fields: dict[str, Any] = {
        "background": draw(st.sampled_from(curriculum.background_keys)),
        # 0.5-80 h/week, drawn half the time from 10-80 so that feasible plans of long paths are common
        "hours_per_week": draw(st.one_of(st.integers(1, 160), st.integers(20, 160))) / 2,
        "days": [WEEKDAYS[d] for d in days],
        "start": start.isoformat(),
        "timezone": draw(st.sampled_from(TIMEZONES)),
        "blackouts": draw(blackouts(start)),
        "holidays": draw(st.sampled_from([None, "DE", "US", "AU"])),
    }
    if draw(st.booleans()):
        fields["day_hours"] = {WEEKDAYS[d]: draw(st.integers(0, 24)) / 2 for d in days}
    if draw(st.booleans()):
        fields["session_start"] = draw(st.sampled_from(["06:00", "08:30", "18:30", "21:00", "23:00"]))
    if draw(st.booleans()):
        fields["max_session_hours"] = draw(st.integers(1, 8)) / 2
    optional = [t.id for t in curriculum.topics if t.elective is None]
    fields["skip"] = draw(st.lists(st.sampled_from(optional), max_size=3, unique=True))
    if curriculum.electives and draw(st.booleans()):
        fields["electives"] = [draw(st.sampled_from([e.id for e in curriculum.electives]))]
    return fields


def _profile_or_reject(fields: dict[str, Any], curriculum: Curriculum) -> Profile:
    """Profiles the planner legitimately refuses (a day past midnight, day hours below the week) are skipped."""
    try:
        return profile_from_mapping(fields, curriculum)
    except InputError:
        assume(False)
        raise AssertionError("unreachable") from None


def _plan_or_reject(curriculum: Curriculum, profile: Profile) -> Plan | Infeasible:
    try:
        return make_plan(curriculum, profile)
    except InputError as exc:  # every topic skipped: refused with a message, not planned
        assert exc.field == "skip"
        assume(False)
        raise AssertionError("unreachable") from None


def _check(curriculum: Curriculum, fields: dict[str, Any], check_tight: bool) -> None:
    profile = _profile_or_reject(fields, curriculum)
    result = _plan_or_reject(curriculum, profile)
    if isinstance(result, Plan):
        event("plan (paced)" if result.paced else "plan")
        problems = validate_plan(result)
        assert problems == [], [str(p) for p in problems]
        assert result.total_hours == result.requirements.total_hours
        assert set(fields["skip"]).isdisjoint(s.topic for s in result.sessions)
        return
    assert isinstance(result, Infeasible)
    assert "h/week" in result.message()
    if result.earliest_finish is not None:
        assert result.earliest_finish > result.latest_finish
    m = result.min_hours_per_week
    event("infeasible, no minimum" if m is None else "infeasible with a minimum")
    if m is None:
        return
    assert (m * 2) == int(m * 2)
    at_m = make_plan(curriculum, profile.with_hours_per_week(m))
    assert isinstance(at_m, Plan), f"infeasible at the reported minimum {m} h/week"
    assert validate_plan(at_m) == []
    if check_tight and m - 0.5 >= 0.5:
        below = make_plan(curriculum, profile.with_hours_per_week(m - 0.5))
        assert isinstance(below, Infeasible), f"{m - 0.5} h/week fits, below the reported minimum {m}"


@SETTINGS
@given(data=st.data())
def test_sql_random_profiles(sql, data):
    fields = data.draw(profile_fields(sql))
    _check(sql, fields, check_tight=data.draw(st.integers(0, 2)) == 0)


@SETTINGS
@given(data=st.data())
def test_ml_random_profiles(ml, data):
    fields = data.draw(profile_fields(ml))
    _check(ml, fields, check_tight=data.draw(st.integers(0, 3)) == 0)


@settings(SETTINGS, max_examples=max(10, SETTINGS.max_examples // 3))
@given(data=st.data())
def test_ml_minimum_hours_is_tight(ml, data):
    """Low weekly hours on the ML path: always infeasible-or-plan, and the minimum checked from both sides."""
    fields = data.draw(profile_fields(ml))
    fields["hours_per_week"] = data.draw(st.integers(1, 20)) / 2
    fields.pop("day_hours", None)
    _check(ml, fields, check_tight=True)
