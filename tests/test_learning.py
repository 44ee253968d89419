"""Learning-quality rules: spaced reviews, checkpoints, portfolio projects, focus, buffer, fidelity."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

import pytest
from icalendar import Calendar

from planner.export import plan_to_ics, plan_to_json
from planner.fidelity import milestone_fits, phase_shares
from planner.focus import focus_report
from planner.requirements import checkpoint_id
from planner.validate import validate_plan
from tests.conftest import plan_ok


@pytest.fixture(scope="module")
def beginner(ml):
    return plan_ok(ml, background="complete_beginner", hours_per_week=22, timezone="Europe/Berlin")


def _last_study(plan, topic):
    return max(s.end for s in plan.sessions if s.topic == topic and s.kind != "review")


def test_reviews_follow_their_topic_at_expanding_intervals(beginner):
    reviews = [s for s in beginner.sessions if s.kind == "review"]
    assert len(reviews) > 100
    offsets = beginner.profile.review_days
    by_topic = defaultdict(list)
    for r in reviews:
        by_topic[r.topic].append(r)
        due = _last_study(beginner, r.topic).date() + dt.timedelta(days=offsets[r.ordinal - 1])
        assert due <= r.day <= due + dt.timedelta(days=max(6, offsets[r.ordinal - 1] // 3))
        assert r.hours == 0.5
    for rs in by_topic.values():
        days = [r.day for r in sorted(rs, key=lambda r: r.ordinal)]
        assert days == sorted(days)  # review 2 after review 1, and so on


def test_reviews_stay_under_the_weekly_cap(beginner):
    cap = beginner.profile.review_cap_blocks * 0.5
    weeks = defaultdict(float)
    for s in beginner.sessions:
        if s.kind == "review":
            weeks[s.day.isocalendar()[:2]] += s.hours
    assert weeks and max(weeks.values()) <= cap


def test_reviews_can_be_switched_off(ml):
    plan = plan_ok(ml, background="complete_beginner", hours_per_week=22, reviews=False)
    assert not [s for s in plan.sessions if s.kind == "review"]
    assert all(t.reviews == 0 for t in plan.requirements.topics)


def test_reviews_come_out_of_the_topic_estimate(ml, beginner):
    for t in beginner.requirements.topics:
        if t.kind == "study" and t.elective is None:
            source = ml.topic(t.id)
            assert t.hours + t.reviews * 0.5 == pytest.approx(source.hours_for("complete_beginner"))


def test_every_phase_ends_with_a_checkpoint_after_its_topics_and_project(beginner):
    for ph in beginner.phases:
        cp = [s for s in beginner.sessions if s.topic == checkpoint_id(ph.number)]
        assert cp and all(s.kind == "checkpoint" for s in cp)
        members = beginner.requirements.topic(checkpoint_id(ph.number)).requires
        assert any(beginner.requirements.topic(m).kind == "project" for m in members)
        for m in members:
            assert min(s.start for s in cp) >= _last_study(beginner, m)


def test_checkpoint_event_lists_self_check_questions(beginner):
    cal = Calendar.from_ical(plan_to_ics(beginner))
    checkpoint = next(e for e in cal.events if str(e["SUMMARY"]).endswith("Checkpoint"))
    text = str(checkpoint["DESCRIPTION"])
    assert "Self-check questions" in text and "Can you explain" in text and "Review your project" in text


def test_projects_come_after_the_topics_they_need(beginner, ml):
    projects = [t for t in beginner.requirements.topics if t.kind == "project"]
    assert len(projects) == 8  # one per phase, foundations included
    for t in projects:
        start = min(s.start for s in beginner.sessions if s.topic == t.id)
        for q in t.requires:
            assert start >= _last_study(beginner, q)
        assert t.deliverable


def test_chosen_specialization_adds_a_capstone(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=24, electives=["llm-engineer"])
    capstone = [s for s in plan.sessions if plan.requirements.topic(s.topic).elective == "llm-engineer"]
    assert capstone and all(s.kind == "project" for s in capstone)
    data = plan_to_json(plan).decode()
    assert '"kind": "project"' in data and '"kind": "review"' in data and '"kind": "checkpoint"' in data


def test_buffer_keeps_part_of_every_week_free(beginner):
    limit = beginner.profile.study_week_blocks * 0.5
    weeks = defaultdict(float)
    for s in beginner.sessions:
        weeks[s.day.isocalendar()[:2]] += s.hours
    assert max(weeks.values()) <= limit < beginner.profile.hours_per_week
    # the validator notices a week that eats into the buffer
    first_week = beginner.sessions[0].day.isocalendar()[:2]
    busy = max((s for s in beginner.sessions if s.day.isocalendar()[:2] == first_week), key=lambda s: s.start)
    extra = replace(busy, uid="extra@x", start=busy.end, end=busy.end + dt.timedelta(hours=3))
    tampered = replace(beginner, sessions=(*beginner.sessions, extra))
    assert "buffer" in {v.rule for v in validate_plan(tampered)}


def test_rest_day_has_no_sessions(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=24, rest_day="sun")
    assert all(s.day.weekday() != 6 for s in plan.sessions)
    assert plan.profile.weekday_hours[6] == 0


def test_focus_sessions_are_long_enough_when_there_is_slack(ml):
    plan = plan_ok(ml, background="ml_background", hours_per_week=30)
    report = focus_report(plan)
    assert report.short_sessions <= 2
    assert report.crowded_days <= 3
    # topics are studied one after another: switches are about one per topic, not one per session
    assert report.switches <= len(plan.requirements.topics)


def test_fidelity_of_a_complete_beginner_plan(beginner):
    shares = phase_shares(beginner)
    assert [s.phase for s in shares] == [1, 2, 3, 4, 5, 6, 7]
    assert all(s.within for s in shares), [(s.phase, round(s.share, 1), s.weeks_share) for s in shares]
    fits = milestone_fits(beginner)
    assert len(fits) == 15 and all(f.months is not None for f in fits)


@pytest.mark.parametrize("background,hours", [("complete_beginner", 18), ("ml_background", 16),
                                              ("full_time_accelerated", 33)])
def test_plans_still_end_inside_each_range(ml, background, hours):
    plan = plan_ok(ml, background=background, hours_per_week=hours)
    assert plan.latest_allowed_finish is not None and plan.finish <= plan.latest_allowed_finish
