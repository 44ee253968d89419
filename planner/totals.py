"""The plan's hour figures, defined once so the CLI, the JSON, the summary and the dashboard never disagree.

- required: study, project and checkpoint hours of the plan's topics (reviews are carved out of the topics'
  estimates and counted apart); for a topic dropped after some study, what was done of it.
- done: hours the learner studied on those topics — done sessions in full, the partial hours of missed ones,
  never more than a topic requires, so progress never passes 100 %.
- planned: topic hours still ahead (planned sessions).
- reviews: spaced-review hours planned or done (missed reviews are not counted).
- scheduled: done + planned + reviews, the plan's whole workload. A missed session's unstudied time is not part
  of it: a re-plan puts those hours back as new sessions, so the total does not grow with each miss.

The dashboard's figures are the named functions below (topic_hours, total_hours, hours_done, hours_left,
week_bars, busiest_week_hours, milestone_months...): each page shows these, never a sum of its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a plan's figures: the Plan reads them (Plan.total_hours), so only its type is needed here
    from planner.plan import Plan


@dataclass(frozen=True)
class Totals:
    required_hours: float
    done_hours: float
    planned_hours: float
    review_hours: float
    reviews_done_hours: float

    @property
    def scheduled_hours(self) -> float:
        return self.done_hours + self.planned_hours + self.review_hours

    @property
    def left_hours(self) -> float:
        return max(0.0, self.required_hours - self.done_hours)

    @property
    def percent_done(self) -> float:
        if self.required_hours <= 0:
            return 100.0
        return min(100.0, 100 * self.done_hours / self.required_hours)

    def text(self) -> str:
        return (f"{self.done_hours:g} of {self.required_hours:g} h done ({self.percent_done:.0f} %), "
                f"{self.planned_hours:g} h planned, {self.review_hours:g} h of reviews")


def plan_totals(plan: Plan) -> Totals:
    credited: dict[str, float] = defaultdict(float)
    planned = 0.0
    reviews = reviews_done = 0.0
    for s in plan.sessions:
        if s.status == "cancelled":
            continue
        if s.kind == "review":
            if s.status in ("planned", "done"):
                reviews += s.hours
            if s.status == "done":
                reviews_done += s.hours
            continue
        credited[s.topic] += s.credited_hours
        if s.status == "planned":
            planned += s.hours
    required = done = 0.0
    for t in plan.requirements.topics:
        got = credited.get(t.id, 0.0)
        if t.dropped:
            required += got
            done += got
        else:
            required += t.hours
            done += min(got, t.hours)
    return Totals(_r(required), _r(done), _r(planned), _r(reviews), _r(reviews_done))


def _r(hours: float) -> float:
    return round(hours, 4)


# ---------------------------------------------------------------- the figures every page shows
# One function per figure: the Plan, Progress and Today pages, the charts and their text equivalents call these,
# so a figure with the same label has the same value wherever it appears.


def topic_hours(plan: Plan) -> float:
    """Hours of study, projects and checkpoints the learner's topics require (reviews apart): the path's own
    figure, the same before a plan exists (the path table, a plan that does not fit) and after."""
    return plan_totals(plan).required_hours


def review_hours(plan: Plan) -> float:
    """Hours of spaced reviews this plan holds (planned or done; a missed review's time is not counted)."""
    return plan_totals(plan).review_hours


def total_hours(plan: Plan) -> float:
    """The plan's workload: topic hours plus the reviews it holds. Missed time a re-plan has not placed again
    still counts (the topics still need it), so the total neither shrinks nor grows with a miss."""
    t = plan_totals(plan)
    return _r(t.required_hours + t.review_hours)


def hours_done(plan: Plan) -> float:
    """Hours studied towards the total: done sessions in full, the studied part of missed ones, reviews done;
    never more than a topic requires."""
    t = plan_totals(plan)
    return _r(t.done_hours + t.reviews_done_hours)


def hours_left(plan: Plan) -> float:
    """Total hours not yet studied (total minus done)."""
    return _r(max(0.0, total_hours(plan) - hours_done(plan)))


def topic_hours_done(plan: Plan) -> float:
    """Topic hours studied (reviews apart): what the per-phase progress and the burn-up count."""
    return plan_totals(plan).done_hours


def phase_topic_hours(plan: Plan) -> dict[int, tuple[float, float]]:
    """Per phase: (topic hours required, topic hours done), as topic_hours and topic_hours_done count them (a
    topic dropped after some study requires what was done of it; done never more than required)."""
    credited: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.kind != "review" and s.status != "cancelled":
            credited[s.topic] += s.credited_hours
    out: dict[int, list[float]] = {}
    for t in plan.requirements.topics:
        got = credited.get(t.id, 0.0)
        need = got if t.dropped else t.hours
        row = out.setdefault(t.phase, [0.0, 0.0])
        row[0] += need
        row[1] += min(got, need)
    return {phase: (_r(need), _r(done)) for phase, (need, done) in sorted(out.items())}


def hours_behind(plan: Plan, today: dt.date) -> float:
    """Topic hours neither done nor planned from `today` on: what a re-plan has to place again."""
    t = plan_totals(plan)
    ahead = sum(s.hours for s in plan.sessions
                if s.status == "planned" and s.kind != "review" and s.day >= today)
    return _r(max(0.0, t.required_hours - t.done_hours - ahead))


def estimated_review_hours(review_count: int) -> float:
    """Review hours before a plan places them: every review the path asks for at its full length (a plan holds
    these or fewer: see review_hours)."""
    from planner.profile import REVIEW_MINUTES

    return _r(review_count * REVIEW_MINUTES / 60)


@dataclass(frozen=True)
class WeekBar:
    """One ISO week of the plan (week = its Monday): hours still planned, hours studied, hours missed (the
    unstudied part of missed sessions: shown as missed, never as studied)."""

    week: dt.date
    planned: float
    done: float
    missed: float

    @property
    def load(self) -> float:
        """What the week asks of the learner: planned plus studied (missed time is not study)."""
        return _r(self.planned + self.done)


def week_bars(plan: Plan) -> tuple[WeekBar, ...]:
    """Per ISO week, in order: planned, done and missed hours of the plan's sessions (cancelled ones left out)."""
    weeks: dict[dt.date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for s in plan.sessions:
        if s.status == "cancelled":
            continue
        bar = weeks[s.day - dt.timedelta(days=s.day.weekday())]
        for i, hours in enumerate(_parts(s)):
            bar[i] += hours
    return tuple(WeekBar(week, _r(p), _r(d), _r(m)) for week, (p, d, m) in sorted(weeks.items()))


def session_hours(plan: Plan, phases: Sequence[int] | None = None) -> tuple[float, float, float]:
    """(planned, done, missed) hours of the plan's sessions, optionally of some phases only: the session table's
    caption, counted as the weekly bars count them."""
    out = [0.0, 0.0, 0.0]
    wanted = set(phases or ())
    phase_of = {t.id: t.phase for t in plan.requirements.topics}
    for s in plan.sessions:
        if s.status == "cancelled" or (wanted and phase_of.get(s.topic) not in wanted):
            continue
        for i, hours in enumerate(_parts(s)):
            out[i] += hours
    return _r(out[0]), _r(out[1]), _r(out[2])


def _parts(s: Any) -> tuple[float, float, float]:
    """A session's hours as (planned, done, missed): a missed session's studied part is done, the rest missed."""
    if s.status == "planned":
        return s.hours, 0.0, 0.0
    if s.status == "done":
        return 0.0, s.hours, 0.0
    studied = min(s.done_hours, s.hours)
    return 0.0, studied, s.hours - studied


def busiest_week_hours(plan: Plan, bars: Sequence[WeekBar] | None = None) -> float:
    """The week cap used: the most hours any week of the plan asks for (planned plus studied). `bars`: the
    plan's week_bars when the caller has them already."""
    return max((b.load for b in (week_bars(plan) if bars is None else bars)), default=0.0)


def average_week_hours(plan: Plan) -> float:
    """Total hours over the weeks from the start to the finish (calendar weeks, partial ones as fractions),
    to a tenth of an hour."""
    weeks = ((plan.finish - plan.profile.start).days + 1) / 7
    return round(total_hours(plan) / weeks, 1) if weeks > 0 else 0.0


def week_cap_hours(plan: Plan) -> float:
    """The most a week may hold: the hours offered less the catch-up buffer kept free."""
    p = plan.profile
    return _r(p.hours_per_week * (100 - p.buffer_percent) / 100)


# ---------------------------------------------------------------- milestones against the learner's own range


def milestone_months(plan: Plan, months_min: int | None, months_max: int | None
                     ) -> tuple[float, float | None] | None:
    """When the learner should reach a checklist stage, in months from their start: the path's months for the
    stage, as a share of the checklist's whole span, laid over the learner's own range (their background's
    timeline months). The path's months describe its own schedule, not a learner who starts with the
    prerequisites or studies part time. A plan that finishes after the range (a late finish the learner accepted
    when re-planning) stretches the range's end to its own finish. None: the stage gives no months."""
    if months_min is None and months_max is None:
        return None
    span = _checklist_span(plan)
    req = plan.requirements
    lo = (months_min or 0) * req.months_min / span
    hi = None if months_max is None else months_max * max(float(req.months_max), plan.months) / span
    return round(lo, 1), (round(hi, 1) if hi is not None else None)


def milestone_verdict(plan: Plan, months_in: float, months_min: int | None, months_max: int | None) -> str:
    """'on track', 'later than your range' or 'ahead of your range' for a milestone reached `months_in` months
    after the start (judged by milestone_months)."""
    window = milestone_months(plan, months_min, months_max)
    if window is None:
        return "on track"
    lo, hi = window
    if hi is not None and months_in > hi:
        return "later than your range"
    if months_in < lo:
        return "ahead of your range"
    return "on track"


def _checklist_span(plan: Plan) -> float:
    """The months the path's checklist covers: its largest month figure (a stage's max, or an open stage's min)."""
    figures = [m.months_max if m.months_max is not None else m.months_min for m in plan.checklist]
    span = max((f for f in figures if f), default=None)
    return float(span) if span else float(plan.requirements.months_max)
