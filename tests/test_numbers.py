"""One set of numbers: every page's figure for the same plan comes from planner.totals and agrees with the others
(the path table, the does-not-fit panel, Plan, Progress, the weekly chart and its words, the milestones)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from planner import totals, views
from planner.curriculum import Curriculum
from planner.plan import Plan
from planner.progress import mark_done, mark_done_through, mark_missed
from planner.solve import Infeasible
from tests.conftest import plan_ok, plan_result

BEGINNER = {"background": "complete_beginner", "hours_per_week": 16.5}


@pytest.fixture(scope="module")
def beginner(ml: Curriculum) -> Plan:
    return plan_ok(ml, **BEGINNER)


def _hours(text: str) -> float:
    return float(re.search(r"([\d.]+) h", text).group(1))  # type: ignore[union-attr]


def test_every_page_shows_the_same_hours(ml: Curriculum, beginner: Plan) -> None:
    """The issue's plan showed 1,198 h (path table, does-not-fit), 1,188 h (Plan) and 1,092.5 h (Progress)."""
    topic, total = totals.topic_hours(beginner), totals.total_hours(beginner)
    assert total == pytest.approx(topic + totals.review_hours(beginner))
    metrics = {label: value for label, value, _ in views.plan_metrics(beginner)}
    assert _hours(metrics["Total hours"]) == total  # Plan
    assert views.hours_breakdown(beginner).total == pytest.approx(total)  # Plan's caption
    summary = views.progress_summary(beginner, beginner.profile.start)
    assert summary.total_hours == total and summary.required_hours == topic  # Progress
    assert views.phase_progress_frame(beginner).iloc[-1]["Required h"] == pytest.approx(topic)  # Progress table
    band = views.background_bands(ml)["complete_beginner"]
    assert band.total_hours == topic  # the path table's "Topic hours"
    table = views.bands_frame({"complete_beginner": band})
    assert table.iloc[0]["Topic hours"] == topic
    too_few = plan_result(ml, background="complete_beginner", hours_per_week=6)
    assert isinstance(too_few, Infeasible)
    assert views.infeasible_facts(too_few).headline.startswith(f"{topic:g} h of topics and about ")  # does-not-fit
    assert f"{topic:g} topic hours required" in views.burnup_alt(beginner, beginner.profile.start)


def test_week_figures_agree_with_the_caption(beginner: Plan) -> None:
    """'14.0 of 16.5' stood beside 'uses up to 14.5 h/week': the headline and the caption now name one figure."""
    busiest = totals.busiest_week_hours(beginner)
    metrics = {label: value for label, value, _ in views.plan_metrics(beginner)}
    assert metrics["Busiest week"] == f"{busiest:g} of {beginner.profile.hours_per_week:g} h"
    assert f"the busiest week holds {busiest:g} h" in views.pacing_caption(beginner)
    assert f"busiest week holds {busiest:g} h" in views.weekly_alt(beginner)
    assert busiest <= totals.week_cap_hours(beginner) + 1e-9
    assert busiest == max(views.weekly_frame(beginner).groupby("week")["hours"].sum())


def test_missed_hours_are_shown_as_missed_not_studied(beginner: Plan) -> None:
    first_week = beginner.profile.start
    study = [s for s in beginner.sessions if s.kind != "review" and s.day < first_week + dt.timedelta(days=7)]
    done, missed = study[0], study[1]
    ticked = mark_missed(mark_done(beginner, [done.uid]), [missed.uid], 0.5)
    bar = totals.week_bars(ticked)[0]
    assert bar.done == pytest.approx(done.hours + 0.5)
    assert bar.missed == pytest.approx(missed.hours - 0.5)
    assert bar.load == pytest.approx(totals.week_bars(beginner)[0].load - missed.hours + 0.5)
    frame = views.weekly_frame(ticked)
    week = frame[frame["week"] == frame["week"].min()].set_index("part")["hours"]
    assert week["Done"] == pytest.approx(bar.done) and week["Missed"] == pytest.approx(bar.missed)
    assert f"{bar.missed:g} h missed" in views.weekly_alt(ticked)
    # the studied half hour counts as done everywhere; the rest is left, not lost
    summary = views.progress_summary(ticked, first_week)
    assert summary.hours_done == totals.hours_done(ticked) == pytest.approx(done.hours + 0.5)
    assert summary.total_hours == totals.total_hours(beginner)
    assert summary.hours_left == pytest.approx(summary.total_hours - summary.hours_done)


def test_progress_figures_follow_a_sequence_of_ticks(beginner: Plan) -> None:
    """Through done-through, a miss and more ticks, done + left stays the plan's total and Progress agrees."""
    plan = beginner
    for day in (dt.date(2027, 2, 1), dt.date(2027, 3, 1), dt.date(2027, 6, 1)):
        plan = mark_done_through(plan, day)
        later = next(s for s in plan.sessions if s.status == "planned" and s.kind != "review")
        plan = mark_missed(plan, [later.uid], 0.5)
        summary = views.progress_summary(plan, day)
        assert summary.hours_done + summary.hours_left == pytest.approx(summary.total_hours)
        assert summary.total_hours == totals.total_hours(plan)
        assert summary.done_hours == pytest.approx(views.phase_progress_frame(plan).iloc[-1]["Done h"])
        assert summary.done_hours == totals.topic_hours_done(plan)


def test_fresh_beginner_milestones_are_judged_against_their_own_range(beginner: Plan) -> None:
    frame = views.milestones_frame(beginner)
    verdicts = frame["Verdict"].tolist()
    assert verdicts.count("on track") > len(verdicts) / 2, frame.to_string()
    assert "later than the path says" not in verdicts
    # the path's own months (2-3 for Foundations) laid over the beginner's 14-20 months
    first = frame.iloc[0]
    assert first["Path says (months)"] == "2–3" and first["Your range (months)"] == "2.3–5"
    assert totals.milestone_verdict(beginner, 6.0, 2, 3) == "later than your range"
    assert totals.milestone_verdict(beginner, 1.0, 2, 3) == "ahead of your range"


def test_session_table_caption_splits_hours_as_the_chart(beginner: Plan) -> None:
    """'N sessions, X h' summed a missed session at full length: the caption now says done, planned and missed."""
    first = [s for s in beginner.sessions if s.kind != "review"][:2]
    ticked = mark_missed(mark_done(beginner, [first[0].uid]), [first[1].uid], 0.5)
    planned, done, missed = totals.session_hours(ticked)
    bars = totals.week_bars(ticked)
    assert (planned, done, missed) == pytest.approx((sum(b.planned for b in bars), sum(b.done for b in bars),
                                                     sum(b.missed for b in bars)))
    caption = views.sessions_caption(ticked)
    assert caption.startswith(f"{len(views.sessions_frame(ticked))} sessions: {done:g} h done, {planned:g} h planned")
    assert caption.endswith(f"{missed:g} h missed.")
    phase = first[0].topic and beginner.requirements.topic(first[0].topic).phase
    assert totals.session_hours(ticked, [phase])[1] == pytest.approx(done)  # both sessions are in the first phase


def test_todays_week_figures_are_the_week_bar(beginner: Plan) -> None:
    """Today's "This week done X of Y h" is the weekly chart's bar for that week: done, and planned + done."""
    week = [s for s in beginner.sessions if s.kind != "review"][:3]
    ticked = mark_missed(mark_done(beginner, [week[0].uid]), [week[1].uid], 0.5)
    facts = views.today_facts(ticked, week[0].day)
    bar = next(b for b in totals.week_bars(ticked) if b.week == facts.monday)
    assert facts.week_done_hours == pytest.approx(bar.done)
    assert facts.week_planned_hours == pytest.approx(bar.load)


def test_phase_hours_agree_between_plan_and_progress(beginner: Plan) -> None:
    """Plan's phase table and Progress's per-phase table show one topic-hours figure per phase, missed or not."""
    study = [s for s in beginner.sessions if s.kind != "review"]
    ticked = mark_missed(mark_done(beginner, [study[0].uid]), [study[1].uid], 0.5)
    for plan in (beginner, ticked):
        phases = views.phases_frame(plan).set_index("Phase")["Topic hours"]
        progress = views.phase_progress_frame(plan)
        required = progress[progress["Phase"] != "All"].set_index("Phase")["Required h"]
        assert {int(k): v for k, v in required.items()} == pytest.approx(dict(phases.items()))
        assert float(phases.sum()) == pytest.approx(totals.topic_hours(plan))


def test_a_late_finish_stretches_the_learners_range(beginner: Plan) -> None:
    """A plan finishing after its range (a late finish accepted when re-planning) judges milestones against its
    own length: a stage's end moves with the finish, its start stays the range's."""
    from dataclasses import replace

    assert totals.milestone_months(beginner, 2, 3) == (2.3, 5.0)  # 14-20 months, the checklist's 12-month span
    late = replace(beginner, requirements=replace(beginner.requirements, months_min=10, months_max=12))
    assert late.months > 12
    assert totals.milestone_months(late, 2, 3) == (round(2 * 10 / 12, 1), round(3 * late.months / 12, 1))
    assert totals.milestone_months(late, 12, None) == (10.0, None)
