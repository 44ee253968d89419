"""The measured pace: real ÷ estimated hours over finished topics, shrunk toward the background's prior; the real
weekly hours; planning open topics at the learner's pace."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from planner.pace import (
    PRIORS,
    at_pace,
    finished_topics,
    measure_pace,
    measure_weekly_hours,
    scaled_blocks,
)
from planner.progress import mark_done, mark_missed, mark_more_hours, mark_topic_done
from tests.conftest import plan_ok


@pytest.fixture(scope="module")
def plan(ml):
    return plan_ok(ml, background="ml_background", hours_per_week=18, timezone="Europe/Berlin")


def _study_topics(plan, n):
    return [t for t in plan.requirements.topics if t.kind == "study"][:n]


def test_no_finished_topic_gives_the_prior(plan):
    pace = measure_pace(plan)
    median, _ = PRIORS["ml_background"]
    assert pace.topics_measured == 0
    assert pace.low < median < pace.high
    assert abs(pace.multiplier - median) < 0.1  # the prior names the mean multiplier; its draws scatter a little


def test_pace_is_deterministic(plan):
    done = mark_topic_done(plan, [t.id for t in _study_topics(plan, 3)],
                           {t.id: t.hours * 1.5 for t in _study_topics(plan, 3)})
    assert measure_pace(done) == measure_pace(done)


def test_first_topics_do_not_swing_the_pace_and_many_topics_find_it(plan):
    """One topic at twice its estimate moves the multiplier part of the way; twenty settle near 2."""
    one = _study_topics(plan, 1)
    after_one = measure_pace(mark_topic_done(plan, [one[0].id], {one[0].id: one[0].hours * 2}))
    many = _study_topics(plan, 20)
    after_many = measure_pace(mark_topic_done(plan, [t.id for t in many], {t.id: t.hours * 2 for t in many}))
    prior = measure_pace(plan).multiplier
    assert prior < after_one.multiplier < 1.6
    assert after_one.topics_measured == 1
    assert 1.8 < after_many.multiplier < 2.2
    assert after_many.low < 2 < after_many.high
    assert after_many.high - after_many.low < after_one.high - after_one.low  # more topics, surer


def test_a_slow_learner_and_a_fast_one(plan):
    topics = _study_topics(plan, 15)
    slow = measure_pace(mark_topic_done(plan, [t.id for t in topics], {t.id: t.hours * 1.4 for t in topics}))
    fast = measure_pace(mark_topic_done(plan, [t.id for t in topics], {t.id: t.hours * 0.7 for t in topics}))
    assert 1.25 < slow.multiplier < 1.45 and slow.low > 1.1
    assert 0.65 < fast.multiplier < 0.85 and fast.high < 0.95


def test_a_kind_gets_its_own_multiplier_as_the_data_supports_it(plan):
    """Projects at 2× while study topics run at the estimate: the project multiplier moves, the study one not."""
    projects = [t for t in plan.requirements.topics if t.kind == "project"]
    studies = _study_topics(plan, 20)
    hours = {t.id: t.hours for t in studies} | {t.id: t.hours * 2 for t in projects}
    pace = measure_pace(mark_topic_done(plan, list(hours), hours))
    assert pace.kind_multiplier("project") > 1.4
    assert pace.multiplier < 1.15
    few = {t.id: t.hours for t in studies} | {t.id: t.hours * 2 for t in projects[:2]}
    two = measure_pace(mark_topic_done(plan, list(few), few))
    assert two.kind_multiplier("project") == round(two.multiplier, 3)  # two projects are not enough to re-plan by


def test_sessions_real_hours_measure_a_finished_topic(plan):
    """A topic whose sessions were all done with their real times is measured by their sum."""
    topic = _study_topics(plan, 1)[0]
    uids = [s.uid for s in plan.sessions if s.topic == topic.id and s.kind == "study"]
    done = plan
    for uid in uids:
        s = next(x for x in plan.sessions if x.uid == uid)
        done = mark_done(done, [uid], s.hours * 1.5)
    measured = finished_topics(done)
    assert [m.topic for m in measured] == [topic.id]
    assert math.isclose(measured[0].ratio, 1.5)


def test_a_topic_marked_known_says_nothing_about_pace(plan):
    topic = _study_topics(plan, 1)[0]
    assert finished_topics(mark_topic_done(plan, [topic.id])) == []


def test_a_topic_with_more_hours_is_measured_once_finished_against_its_estimate(plan):
    topic = _study_topics(plan, 1)[0]
    more = mark_more_hours(plan, {topic.id: 2})
    assert finished_topics(more) == []  # not finished: it needs two more hours
    finished = mark_topic_done(more, [topic.id], {topic.id: topic.hours + 2})
    [m] = finished_topics(finished)
    assert m.estimate_hours == topic.hours
    assert math.isclose(m.ratio, (topic.hours + 2) / topic.hours)


def test_weekly_hours_follow_the_history_shrunk_toward_the_plan(plan):
    start = plan.profile.start
    today = start + dt.timedelta(weeks=4)
    past = [s for s in plan.sessions if s.day < today and s.status == "planned"]
    as_planned = mark_done(plan, [s.uid for s in past])
    assert measure_weekly_hours(as_planned, today).measured == plan.profile.hours_per_week
    half = mark_missed(plan, [s.uid for s in past], 0.0)
    w = measure_weekly_hours(half, today)
    assert w.weeks_measured == 4
    assert 0.35 < w.attendance < 0.7  # nothing studied in four weeks, shrunk toward the plan by three weeks of it
    assert w.measured < plan.profile.hours_per_week
    assert measure_weekly_hours(plan, start).weeks_measured == 0


def test_sessions_that_took_longer_raise_the_real_weekly_hours(plan):
    """A learner whose sessions each took 1.5× their time studied more a week than planned, and is measured so."""
    today = plan.profile.start + dt.timedelta(weeks=8)
    done = plan
    for s in plan.sessions:
        if s.day < today and s.status == "planned":
            done = mark_done(done, [s.uid], s.hours * 1.5)
    w = measure_weekly_hours(done, today)
    assert w.weeks_measured == 8
    assert 1.3 < w.attendance < 1.5  # eight weeks at 1.5, three of the plan's at 1
    assert w.measured > plan.profile.hours_per_week


def test_at_pace_scales_open_topics_from_the_estimate_and_never_compounds(plan):
    topics = _study_topics(plan, 10)
    slow = mark_topic_done(plan, [t.id for t in topics], {t.id: t.hours * 1.5 for t in topics})
    pace = measure_pace(slow)
    scaled = at_pace(slow, pace)
    for t in scaled.requirements.topics:
        before = slow.requirements.topic(t.id)
        if t.id in {x.id for x in topics}:
            assert t.blocks == before.blocks  # finished topics stay as they were
        elif t.kind in ("study", "project", "checkpoint"):
            assert t.blocks == scaled_blocks(before.blocks, pace.kind_multiplier(t.kind))
            assert scaled.progress_of(t.id).estimate_blocks == before.blocks
    again = at_pace(scaled, pace)
    assert again.requirements == scaled.requirements  # measured against the estimate, not the scaled hours


def test_at_pace_keeps_the_time_a_learner_asked_for(plan):
    """A topic with `--more-hours` needs what the learner said, not that times their multiplier."""
    topics = _study_topics(plan, 11)
    slow = mark_topic_done(plan, [t.id for t in topics[:10]], {t.id: t.hours * 1.5 for t in topics[:10]})
    more = mark_more_hours(slow, {topics[10].id: 2})
    scaled = at_pace(more, measure_pace(more))
    assert scaled.requirements.topic(topics[10].id) == more.requirements.topic(topics[10].id)


def test_scaled_blocks_round_up_to_half_hours():
    assert scaled_blocks(9, 1.5) == 14  # 4.5 h × 1.5 = 6.75 h -> 7 h
    assert scaled_blocks(10, 1.0) == 10
    assert scaled_blocks(1, 0.2) == 1
