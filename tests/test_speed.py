"""The fast paths change no answer: grid plans pinned by digest, the focus rules' arithmetic against a brute
force, and the infeasible answer's figures against real plans (also over a 30-36-month range)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.curriculum import Curriculum, load_curriculum
from planner.focus import (
    FOCUS_DAY_BLOCKS,
    MIN_PIECE_BLOCKS,
    Stream,
    day_breaks_rules,
    earliest_obeying,
    obeying_loads,
    shape_for_focus,
)
from planner.profile import profile_from_mapping
from planner.requirements import StudyCalendar
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan
from tests.conftest import ML_PATH
from tests.grid_digest import BACKGROUNDS, HOURS, case_key, digest

DIGESTS = json.loads((Path(__file__).parent / "data" / "grid_plans.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("background", BACKGROUNDS)
def test_grid_answers_are_the_pinned_ones(ml, background):
    """Every benchmark-grid case gives the answer the engine gave before the fast paths: the same sessions
    (uid, topic, times) for each plan, the same figures for each infeasible answer."""
    for hours in HOURS:
        key = case_key(background, hours)
        assert digest(ml, background, hours) == DIGESTS[key], key


# ---------------------------------------------------------------- the rules' arithmetic, against a brute force


def _load_ok(stream: Stream, before: int, load: int, cap: int, window: int | None = None) -> bool:
    window = cap if window is None else window
    if load == 0:
        return True
    if window >= FOCUS_DAY_BLOCKS and load < MIN_PIECE_BLOCKS:
        return False
    return load <= cap and not day_breaks_rules(stream, before, before + load, window)


def _brute_earliest(cal: StudyCalendar, stream: Stream, days: int, not_before: int | None) -> int | None:
    """Every reachable (running total, used of the week) state, day by day, straight from the rule's wording."""
    last_before = None
    if not_before is not None:
        last_before = max((d for d in range(min(not_before, days)) if cal.day_caps[d] > 0), default=None)
    states = {(0, 0)}
    week = None
    for d in range(days):
        cap = cal.day_caps[d]
        if cap == 0:
            continue
        w = cal.week_of(d)
        if w != week:
            states = {(r, 0) for r, _ in states}
            week = w
        states = {(r + x, u + x) for r, u in states for x in range(cap + 1)
                  if r + x <= stream.total and u + x <= cal.week_cap(w)
                  and _load_ok(stream, r, x, cap, cal.focus_cap(d))}
        if d == last_before:
            states = {(r, u) for r, u in states if r < stream.total}
        if any(r == stream.total for r, _ in states) and (last_before is None or d > last_before):
            return d
    return None


@st.composite
def _cases(draw: st.DrawFn) -> tuple[StudyCalendar, Stream, int, int | None]:
    lengths = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=6)))
    days = draw(st.integers(3, 21))
    caps = tuple(draw(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5]), min_size=days, max_size=days)))
    start = dt.date(2027, 1, 4) + dt.timedelta(days=draw(st.integers(0, 6)))
    windows = tuple(c + draw(st.sampled_from([0, 0, 1, 3])) for c in caps) if draw(st.booleans()) else ()
    cal = StudyCalendar(start, caps, weekly_cap=draw(st.integers(3, 24)), first_week_used=draw(st.integers(0, 3)),
                        window_caps=windows)
    not_before = draw(st.none() | st.integers(0, days))
    return cal, Stream(lengths), days, not_before


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_earliest_obeying_agrees_with_a_brute_force(case):
    cal, stream, days, not_before = case
    expected = _brute_earliest(cal, stream, days, not_before)
    assert earliest_obeying(cal, stream, days, not_before) == expected
    loads = obeying_loads(cal, stream, days, not_before)
    if expected is None:
        assert loads is None
        return
    assert loads is not None and len(loads) == days and sum(loads) == stream.total
    assert max(d for d, x in enumerate(loads) if x > 0) == expected
    run, used, week = 0, 0, None
    for d, x in enumerate(loads):
        if cal.week_of(d) != week:
            week, used = cal.week_of(d), 0
        assert _load_ok(stream, run, x, cal.day_caps[d], cal.focus_cap(d)), (d, run, x)
        run, used = run + x, used + x
        assert used <= cal.week_cap(cal.week_of(d))
    if not_before is not None:  # the last study day before `not_before` has not finished the stream
        assert all(sum(loads[: d + 1]) < stream.total for d in range(min(not_before, days)) if cal.day_caps[d] > 0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.integers(0, 6))
def test_focus_pass_finds_loads_whenever_any_obey_the_rules(case, spare):
    """The focus pass never gives up while a schedule that obeys the rules exists: the caller's answer (plan
    or does-not-fit) then rests on the arithmetic alone."""
    cal, stream, days, _ = case
    # a pace curve that only respects day capacity: each day as full as it can be, then `spare` days more
    pace, run = [], 0
    for d in range(days):
        x = min(cal.day_caps[d], stream.total - run)
        pace.append(x)
        run += x
    if run < stream.total:
        return
    n = min(days, max(d for d, x in enumerate(pace) if x > 0) + 1 + spare)
    pace = pace[:n]
    shape = shape_for_focus(cal, pace, list(cal.day_caps[:n]), stream)
    week_ok = all(sum(pace[d] for d in range(n) if cal.week_of(d) == w) <= cal.week_cap(w)
                  for w in {cal.week_of(d) for d in range(n)})
    if week_ok:
        assert (shape is not None) == (_brute_earliest(cal, stream, n, None) is not None)


# ---------------------------------------------------------------- infeasible answers, without a solve


def _long_range(tmp_path: Path) -> Curriculum:
    """The path with the complete beginner's range stretched to 30-36 months."""
    text = ML_PATH.read_text(encoding="utf-8")
    old = "timeline_months: {min: 14, max: 20}"
    assert old in text
    copy = tmp_path / "long.yaml"
    copy.write_text(text.replace(old, "timeline_months: {min: 30, max: 36}"), encoding="utf-8")
    return load_curriculum(copy)


def _answer(curriculum: Curriculum, background: str, hours: float):  # type: ignore[no-untyped-def]
    profile = profile_from_mapping({"background": background, "hours_per_week": hours, "start": "2027-01-04",
                                    "timezone": "Europe/Berlin", "holidays": "DE"}, curriculum)
    return make_plan(curriculum, profile)


def test_minimum_hours_over_a_long_range_is_the_least_that_plans(tmp_path):
    long = _long_range(tmp_path)
    answer = _answer(long, "complete_beginner", 9)
    assert isinstance(answer, Infeasible)
    assert answer.min_hours_per_week is not None and answer.min_hours_per_week > 9
    plan = _answer(long, "complete_beginner", answer.min_hours_per_week)
    assert not isinstance(plan, Infeasible), plan.message()
    assert validate_plan(plan) == []
    below = answer.min_hours_per_week - 0.5
    if below > 9:
        assert isinstance(_answer(long, "complete_beginner", below), Infeasible)
    # the earliest finish at 9 h/week lies past the range's end, as "does not fit" says
    assert answer.earliest_finish is not None and answer.earliest_finish > answer.latest_finish


@pytest.mark.parametrize(("background", "hours"), [("complete_beginner", 15), ("ml_background", 15),
                                                  ("full_time_accelerated", 30)])
def test_minimum_hours_on_the_grid_plan_and_obey_the_rules(ml, background, hours):
    answer = _answer(ml, background, hours)
    assert isinstance(answer, Infeasible)
    assert answer.min_hours_per_week is not None
    plan = _answer(ml, background, answer.min_hours_per_week)
    assert not isinstance(plan, Infeasible), plan.message()
    assert validate_plan(plan) == []
