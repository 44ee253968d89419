"""Property tests over random valid profiles and random small paths: a valid plan, or an Infeasible whose
numbers are right.

Every plan must pass `validate_plan`. Every Infeasible that names a minimum weekly figure must be tight at the
planner's resolution of 0.5 h/week (weekly hours are whole 30-minute blocks): the plan fits at exactly that
figure (and the plan made there passes the validator) and does not fit 0.5 h/week below it.

Hypothesis profiles, registered here and chosen with HYPOTHESIS_PROFILE:
  ci   (default) 200 examples per test (50 for the ML path), derandomized, so CI runs the same examples;
  slow           5,000 examples per test (1,250 for the ML path), random exploration:
                 HYPOTHESIS_PROFILE=slow .venv/bin/python -m pytest tests/test_properties.py
PLANNER_PROPERTY_EXAMPLES=N overrides the example count of either profile (quick local runs).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from planner.curriculum import Curriculum, parse_curriculum
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS, Profile, profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan

HOURS_RESOLUTION = 0.5  # the minimum weekly hours are reported, and checked, to the half hour
_COMMON: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much,
                              HealthCheck.function_scoped_fixture],
}
settings.register_profile("ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("slow", max_examples=5_000, derandomize=False, **_COMMON)
SETTINGS = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# A whole ML-path plan, and for Infeasible answers the solves that confirm the minimum on both sides, take about
# 2 s an example: that test runs a quarter of the profile's examples (50 in ci).
ML_SETTINGS = settings(SETTINGS, max_examples=max(1, SETTINGS.max_examples // 4))
if os.environ.get("PLANNER_PROPERTY_EXAMPLES"):
    SETTINGS = settings(SETTINGS, max_examples=int(os.environ["PLANNER_PROPERTY_EXAMPLES"]))
    ML_SETTINGS = SETTINGS

TIMEZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "Australia/Adelaide", "America/New_York", "Australia/Sydney",
             "Pacific/Auckland", "America/Sao_Paulo"]
BROAD_HOURS = st.one_of(st.integers(1, 160), st.integers(20, 160)).map(lambda b: b / 2)  # 0.5-80 h/week
LOW_HOURS = st.integers(1, 12).map(lambda b: b / 2)  # 0.5-6 h/week: mostly infeasible, minimum checked both sides
ML_HOURS = st.integers(20, 80).map(lambda b: b / 2)  # 10-40 h/week: most ML-path examples produce plans


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
def profile_fields(draw: st.DrawFn, curriculum: Curriculum, hours: st.SearchStrategy[float] = BROAD_HOURS
                   ) -> dict[str, Any]:
    start = draw(st.dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31)))
    days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
    fields: dict[str, Any] = {
        "background": draw(st.sampled_from(curriculum.background_keys)),
        "hours_per_week": draw(hours),
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


@st.composite
def small_curricula(draw: st.DrawFn) -> Curriculum:
    """A random small learning path, written as YAML and read by the real loader: 1-3 phases of 1-4 topics,
    a random prerequisite DAG (not necessarily in file order), random half-hour hours, optional sink topics,
    maybe an elective, 1-2 backgrounds with random month ranges."""
    n_phases = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 4)) for _ in range(n_phases)]
    n = sum(sizes)
    ids = [f"t{i}" for i in range(n)]
    rank = draw(st.permutations(list(range(n))))  # the DAG's order; the file lists topics in index order
    requires = {i: sorted(draw(st.sets(st.sampled_from([j for j in range(n) if rank[j] < rank[i]]), max_size=3))
                          if rank[i] > 0 else []) for i in range(n)}
    required_by_someone = {j for r in requires.values() for j in r}
    bgs = ["alpha"] + (["beta"] if draw(st.booleans()) else [])
    lines = ["schema: 1", "id: random-path", "title: Random path", "backgrounds:"]
    for b in bgs:
        lo = draw(st.integers(1, 6))
        hi = draw(st.integers(lo, lo + 6))
        lines += [f"  {b}:", f"    timeline_months: {{min: {lo}, max: {hi}}}"]
    lines.append("phases:")
    i = 0
    for p, size in enumerate(sizes, start=1):
        lines += [f"  - number: {p}", f"    title: Phase {p}", "    topics:"]
        for _ in range(size):
            hours = draw(st.integers(1, 40)) / 2
            lines += [f"      - id: {ids[i]}", f"        title: Topic {i}", f"        hours: {hours:g}",
                      f"        requires: [{', '.join(ids[j] for j in requires[i])}]"]
            if "beta" in bgs and draw(st.booleans()):
                lines.append(f"        hours_by_background: {{beta: {draw(st.integers(1, 40)) / 2:g}}}")
            if draw(st.booleans()):
                lines.append(f"        kind: {draw(st.sampled_from(['study', 'project']))}")
            if i not in required_by_someone and draw(st.integers(0, 3)) == 0:
                lines.append("        optional: true")
            i += 1
    if draw(st.booleans()):
        base = draw(st.sampled_from(ids))
        lines += ["electives:", "  - id: extra", "    title: Extra", "    topics:",
                  "      - id: e0", "        title: Elective topic", f"        hours: {draw(st.integers(1, 20)) / 2:g}",
                  f"        requires: [{base}]"]
    return parse_curriculum("\n".join(lines) + "\n", "<random path>")


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
        assert exc.field == "skip", str(exc)
        assume(False)
        raise AssertionError("unreachable") from None


def _valid(plan: Plan, fields: dict[str, Any]) -> None:
    problems = validate_plan(plan)
    assert problems == [], [str(p) for p in problems]
    assert set(fields.get("skip", ())).isdisjoint(s.topic for s in plan.sessions)


def _check(curriculum: Curriculum, fields: dict[str, Any]) -> None:
    profile = _profile_or_reject(fields, curriculum)
    result = _plan_or_reject(curriculum, profile)
    if isinstance(result, Plan):
        event("plan (paced)" if result.paced else "plan")
        _valid(result, fields)
        return
    assert isinstance(result, Infeasible)
    message = result.message()
    assert "h/week" in message
    if result.earliest_finish is not None:
        assert result.earliest_finish > result.latest_finish
    m = result.min_hours_per_week
    event("infeasible, no minimum" if m is None else "infeasible with a minimum")
    if m is None:
        return
    assert f"{m:g} h/week" in message
    assert (m / HOURS_RESOLUTION) == int(m / HOURS_RESOLUTION)
    assert m > profile.hours_per_week
    at_m = _plan_or_reject(curriculum, profile.with_hours_per_week(m))
    assert isinstance(at_m, Plan), f"infeasible at the reported minimum {m} h/week"
    _valid(at_m, fields)
    if m - HOURS_RESOLUTION >= HOURS_RESOLUTION:
        below = _plan_or_reject(curriculum, profile.with_hours_per_week(m - HOURS_RESOLUTION))
        assert isinstance(below, Infeasible), f"{m - HOURS_RESOLUTION} h/week fits, below the reported minimum {m}"


@SETTINGS
@given(data=st.data())
def test_sql_random_profiles(sql, data):
    """The small shipped path with broad random profiles (0.5-80 h/week, any days, blackouts, holidays)."""
    _check(sql, data.draw(profile_fields(sql)))


@ML_SETTINGS
@given(data=st.data())
def test_ml_random_profiles(ml, data):
    """The ML path at 10-40 h/week, where most profiles fit and the rest are just short of fitting."""
    _check(ml, data.draw(profile_fields(ml, ML_HOURS)))


@SETTINGS
@given(data=st.data())
def test_random_small_paths(data):
    """Random small paths (random prerequisite DAGs and hours) with broad random profiles, half of them at low
    weekly hours so the minimum is often checked from both sides."""
    curriculum = data.draw(small_curricula())
    _check(curriculum, data.draw(profile_fields(curriculum, st.one_of(BROAD_HOURS, LOW_HOURS))))


def test_paced_finish_on_a_short_day(sql):
    """Found by test_sql_random_profiles: pacing to a finish day of one block (Sunday 0.5 h) made the lowest peak
    percentage round that day to nothing, so the model was infeasible and reported as a timeout. The peak bound
    now keeps the finish day usable, and the focus pass never ends the plan before the range's minimum."""
    fields = {"background": "beginner", "hours_per_week": 6.0, "start": "2026-01-02", "timezone": "UTC",
              "day_hours": {"mon": 0, "tue": 0, "wed": 0, "thu": 0, "fri": 0, "sat": 5.5, "sun": 0.5}}
    profile = profile_from_mapping(fields, sql)
    result = make_plan(sql, profile)
    assert isinstance(result, Plan) and validate_plan(result) == []
