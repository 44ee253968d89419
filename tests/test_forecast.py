"""The forecast: pace, hours left and finish dates with their odds, through the planner's own calendar rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from planner.export.json import load_plan, plan_to_json
from planner.forecast import as_of, forecast
from planner.progress import mark_done_through, mark_missed, mark_topic_done
from planner.totals import plan_totals
from tests.conftest import plan_ok


@pytest.fixture(scope="module")
def plan(ml):
    return plan_ok(ml, background="ml_background", hours_per_week=18, timezone="Europe/Berlin")


def _finished(plan, n, factor):
    topics = [t for t in plan.requirements.topics if t.kind != "review"][:n]
    return mark_topic_done(plan, [t.id for t in topics], {t.id: t.hours * factor for t in topics})


def _day(text):
    return dt.date.fromisoformat(text)


def test_the_forecast_object(plan):
    d = forecast(plan).to_dict()
    assert set(d["pace"]) >= {"multiplier", "low", "high", "topics_measured"}
    assert d["pace"]["low"] <= d["pace"]["multiplier"] <= d["pace"]["high"]
    hours = d["remaining_hours"]
    assert list(hours) == ["p10", "p50", "p90"] and hours["p10"] <= hours["p50"] <= hours["p90"]
    finish = [_day(d["finish"][k]) for k in ("p10", "p50", "p80", "p90")]
    assert finish == sorted(finish)
    assert 0 <= d["on_time_probability"] <= 1
    assert d["as_of"] == plan.profile.start.isoformat()


def test_same_plan_same_forecast(plan):
    assert forecast(plan).to_dict() == forecast(plan).to_dict()


def test_hours_left_are_topic_hours_without_reviews(plan):
    f = forecast(plan)
    assert f.remaining_plan_hours == plan_totals(plan).planned_hours
    assert f.remaining_hours[0] < f.remaining_plan_hours < f.remaining_hours[2]


def test_a_slow_learner_finishes_later_and_less_surely_than_a_fast_one(plan):
    slow, fast = forecast(_finished(plan, 20, 1.5)), forecast(_finished(plan, 20, 0.8))
    assert slow.pace.multiplier > 1.3 > 0.9 > fast.pace.multiplier
    assert slow.finish[1] > plan.finish > fast.finish[1]
    assert slow.on_time_probability < 0.5 < fast.on_time_probability


def test_a_learner_at_the_estimate_is_forecast_near_the_planned_finish(plan):
    f = forecast(_finished(plan, 30, 1.0))
    assert abs((f.finish[1] - plan.finish).days) <= 21
    assert f.finish[0] <= plan.finish <= f.finish[3]


def test_measured_weekly_hours_move_the_finish(plan):
    """Four weeks with half the hours missed: fewer real weekly hours, a later finish for the same work."""
    today = plan.profile.start + dt.timedelta(weeks=4)
    past = [s for s in plan.sessions if s.day < today]
    done = mark_done_through(plan, today - dt.timedelta(days=1))
    half = mark_missed(done, [s.uid for s in past[::2]], 0.0)
    a, b = forecast(done, today), forecast(half, today)
    assert b.weekly_hours.measured < a.weekly_hours.measured == plan.profile.hours_per_week
    assert b.finish[1] > a.finish[1]


def test_blackouts_push_the_finish(ml):
    """The forecast walks the learner's calendar: two months off move every quantile by about as much."""
    base = plan_ok(ml, background="ml_background", hours_per_week=18)
    away = plan_ok(ml, background="ml_background", hours_per_week=18, blackouts=["2027-03-01..2027-04-30"])
    a, b = forecast(base), forecast(away)
    for x, y in zip(a.finish, b.finish, strict=True):
        assert 50 <= (y - x).days <= 70


def test_a_finished_plan_is_forecast_finished(plan):
    done = mark_done_through(plan, plan.finish)
    f = forecast(done)
    assert f.remaining_hours == (0.0, 0.0, 0.0)
    assert set(f.finish) == {plan.finish}
    assert f.on_time_probability == 1.0


def test_paced_plans_finish_no_earlier_than_the_range_allows(ml):
    paced = plan_ok(ml, background="ml_background", hours_per_week=40)
    assert paced.paced
    f = forecast(paced)
    assert f.finish[0] >= paced.earliest_allowed_finish


def test_a_forecast_before_the_start_begins_at_the_start(plan):
    early = forecast(plan, plan.profile.start - dt.timedelta(days=30))
    assert early.finish == forecast(plan).finish


def test_every_plan_file_carries_its_forecast(plan, ml, tmp_path):
    done = _finished(plan, 10, 1.2)
    data = json.loads(plan_to_json(done))
    assert data["summary"]["forecast"] == forecast(done, as_of(done)).to_dict()
    path = tmp_path / "plan.json"
    path.write_bytes(plan_to_json(done))
    again = load_plan(path, ml)
    assert plan_to_json(again) == plan_to_json(done)  # real hours and estimates read back: the same forecast
