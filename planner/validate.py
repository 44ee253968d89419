"""Solver-independent checks of a plan against the learner's profile and requirements.

Tests, the CLI and the dashboard all run this, so a plan that breaks a rule the learner set is caught no
matter how it was made (solver, re-plan, a hand-edited file).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from planner.availability import calendar_problems
from planner.focus import focus_problems
from planner.plan import SESSION_KINDS, SESSION_STATUSES, Plan, Session, local_instant
from planner.profile import BLOCK_MINUTES
from planner.requirements import add_months, study_calendar

EPS = 1e-6


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    uid: str | None = None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}" + (f" [{self.uid}]" if self.uid else "")


def _is_history(status: str) -> bool:
    """Done and missed sessions are what the learner did (or did not do): facts, not decisions."""
    return status in ("done", "missed")


def _review_due_problems(plan: Plan, active: list[Session], reviews: list[Session]) -> list[Violation]:
    """No planned review comes before its topic's card is due (planner.recall): the card replayed from the
    completion through every review before it, done ones with their ratings, planned ones as good recalls.
    Sessions missed since the plan was made still count as planned until a re-plan (which places the reviews
    again), as they do for the hours."""
    from planner.recall import card_from
    from planner.reviews import card_history

    decided_from = plan.replanned_on or plan.profile.start
    active = [replace(s, status="planned") if s.status == "missed" and s.day >= decided_from else s
              for s in active]
    reviews = [s for s in active if s.kind == "review"]
    out = []
    for topic in sorted({s.topic for s in reviews if s.status == "planned"}):
        history = card_history(active, topic)
        if not history:
            continue
        card = card_from(history[:1], plan.profile.review_retention)
        ordered = sorted((s for s in reviews if s.topic == topic and s.status in ("done", "planned")
                          and s.day > history[0].day), key=lambda s: (s.start.timestamp(), s.ordinal))
        for s, event in zip(ordered, history[1:], strict=True):
            if s.status == "planned" and s.day < card.due:
                out.append(Violation("review-due", f"review of {topic} on {s.day}, before its recall is due on "
                                                   f"{card.due}", s.uid))
            card = card.recalled(event.day, event.rating)
    return out


def validate_plan(plan: Plan) -> list[Violation]:
    """Every rule a plan must obey; an empty list means the plan is valid.

    Rules govern what the planner decides: the planned sessions. History (done and missed sessions, whatever rules
    were in force when they were planned) is only checked for consistency, and what it used of a day or a week is
    taken out of that day's or week's limit before the planned sessions are measured against it.
    """
    p, req = plan.profile, plan.requirements
    out: list[Violation] = []
    active = [s for s in plan.sessions if s.status != "cancelled"]
    tz = p.tz

    uids = [s.uid for s in plan.sessions]
    if len(set(uids)) != len(uids):
        dup = next(u for u, n in Counter(uids).items() if n > 1)
        out.append(Violation("unique-uids", "a UID appears more than once", dup))

    planned_day: dict[dt.date, float] = defaultdict(float)
    history_day: dict[dt.date, float] = defaultdict(float)
    planned_week: dict[tuple[int, int], float] = defaultdict(float)
    history_week: dict[tuple[int, int], float] = defaultdict(float)
    horizon = max((s.day for s in active), default=p.start)
    cal = study_calendar(p, max(1, (horizon - p.start).days + 1))
    for s in active:
        if s.kind not in SESSION_KINDS:
            out.append(Violation("kind", f"unknown kind '{s.kind}'", s.uid))
        if s.status not in SESSION_STATUSES:
            out.append(Violation("status", f"unknown status '{s.status}'", s.uid))
        if s.hours <= 0:  # elapsed time: a wall-clock difference is off by the shift on a DST night
            out.append(Violation("session-length", "session ends before it starts", s.uid))
            continue
        local_start = s.start.astimezone(tz)
        day = local_start.date()
        iso = day.isocalendar()
        if _is_history(s.status):
            # A missed session's time was not used (only its partial hours were).
            used = s.credited_hours if s.status == "missed" else s.hours
            history_day[day] += used
            history_week[(iso.year, iso.week)] += used
            continue
        if local_start.replace(tzinfo=None) != s.start.replace(tzinfo=None):
            out.append(Violation("timezone", f"session is not in the learner's timezone {p.timezone}", s.uid))
        minutes = (s.end.timestamp() - s.start.timestamp()) / 60  # elapsed: same-zone subtraction is wall time
        if minutes % BLOCK_MINUTES or minutes < BLOCK_MINUTES or minutes > p.max_session_minutes:
            out.append(Violation("session-length", f"{minutes:g} min is outside {BLOCK_MINUTES}-"
                                                   f"{p.max_session_minutes} min in {BLOCK_MINUTES}-min steps",
                                 s.uid))
        if s.end.timestamp() > local_instant(day + dt.timedelta(days=1), dt.time(0, 0), tz).timestamp():
            out.append(Violation("midnight", "session crosses midnight", s.uid))
        if day < p.start:
            out.append(Violation("start", f"session on {day} is before the plan's start {p.start}", s.uid))
        if local_start.time() < p.session_starts[day.weekday()]:
            out.append(Violation("day-window", f"starts {local_start:%H:%M}, before the day's start time "
                                               f"{p.session_starts[day.weekday()]:%H:%M}", s.uid))
        if p.is_blackout(day):
            out.append(Violation("blackout", f"session on {day}, a blackout or public holiday", s.uid))
        planned_day[day] += s.hours
        planned_week[(iso.year, iso.week)] += s.hours

    for day, hours in sorted(planned_day.items()):
        cap = p.weekday_hours[day.weekday()]
        if hours + history_day[day] > cap + EPS:
            out.append(Violation("day-cap", f"{day}: {hours:g} h planned (and {history_day[day]:g} h already "
                                            f"studied), the limit for {day:%A}s is {cap:g} h"))
    buffer_until = plan.replanned_on.isocalendar()[:2] if plan.replanned_on else None
    study_week = p.study_week_blocks * BLOCK_MINUTES / 60
    for (year, week), hours in sorted(planned_week.items()):
        total = hours + history_week[(year, week)]
        if total > study_week + EPS and (buffer_until is None or (year, week) < buffer_until):
            out.append(Violation("buffer", f"{year}-W{week:02d}: {total:g} h planned leaves less than the "
                                           f"{p.buffer_percent} % catch-up buffer free ({study_week:g} h/week)"))
        if total > p.weekly_blocks * BLOCK_MINUTES / 60 + EPS:
            out.append(Violation("week-cap", f"{year}-W{week:02d}: {total:g} h planned, the limit is "
                                             f"{p.hours_per_week:g} h/week"))

    # Planned sessions never overlap each other or what the learner did; a missed session's slot is free.
    # Compared as instants: on the night clocks go back, wall times repeat.
    timeline = sorted((s for s in active if s.status != "missed"),
                      key=lambda s: (s.start.timestamp(), s.end.timestamp()))
    latest_end: Session | None = None
    for s in timeline:
        if (latest_end is not None and s.start.timestamp() < latest_end.end.timestamp()
                and "planned" in (s.status, latest_end.status)):
            out.append(Violation("overlap", f"overlaps the session ending {latest_end.end:%Y-%m-%d %H:%M}", s.uid))
        if latest_end is None or s.end.timestamp() > latest_end.end.timestamp():
            latest_end = s

    # Hours accounted: what the learner did (in any amount) plus what is planned covers each topic, rounded up to
    # whole 30-minute blocks and never more; missed sessions of the current plan still count until a re-plan.
    credited: dict[str, float] = defaultdict(float)
    planned_hours: dict[str, float] = defaultdict(float)
    pending: dict[str, float] = defaultdict(float)
    decided_from = plan.replanned_on or p.start
    first: dict[str, dt.datetime] = {}
    last: dict[str, dt.datetime] = {}
    reviews = [s for s in active if s.kind == "review"]
    for s in active:
        if s.kind == "review":
            continue
        credited[s.topic] += s.credited_hours
        if s.status == "missed" and s.day >= decided_from:
            pending[s.topic] += s.hours - s.credited_hours
        if s.status == "planned":  # what the learner already did, in whatever order, is history
            planned_hours[s.topic] += s.hours
            first[s.topic] = min(first.get(s.topic, s.start), s.start)
            last[s.topic] = max(last.get(s.topic, s.end), s.end)
    known = {t.id for t in req.topics}
    for topic in {*credited, *planned_hours}:
        if topic not in known:
            out.append(Violation("unknown-topic", f"session for '{topic}', which is not in the requirements"))
    block = BLOCK_MINUTES / 60
    for t in req.topics:
        done, planned = credited.get(t.id, 0.0), planned_hours.get(t.id, 0.0)
        if t.dropped:
            if planned > EPS:
                out.append(Violation("dropped", f"{t.id}: {planned:g} h planned for a dropped topic"))
            continue
        needed = math.ceil(max(0.0, t.hours - done) / block - EPS) * block
        if done + planned + pending.get(t.id, 0.0) < t.hours - EPS or planned > needed + EPS:
            out.append(Violation("hours-covered", f"{t.id}: {done:g} h done and {planned:g} h planned, "
                                                  f"{t.hours:g} h required"))
        for q in t.requires:
            if t.id in first and q in last and first[t.id] < last[q]:
                out.append(Violation("prerequisite", f"{t.id} starts {first[t.id]:%Y-%m-%d %H:%M} before its "
                                                     f"prerequisite {q} ends {last[q]:%Y-%m-%d %H:%M}"))

    review_weeks: dict[tuple[int, int], float] = defaultdict(float)
    review_planned: set[tuple[int, int]] = set()
    for s in reviews:
        iso = s.day.isocalendar()
        if s.status != "missed":
            review_weeks[(iso.year, iso.week)] += s.hours
        if s.status != "planned":
            continue
        review_planned.add((iso.year, iso.week))
        if s.topic in last and s.start < last[s.topic]:
            out.append(Violation("review", f"review of {s.topic} before its last study session ends", s.uid))
        if not p.reviews:
            out.append(Violation("review", "reviews are switched off for this learner", s.uid))
    out += _review_due_problems(plan, active, reviews)
    for (year, week), hours in sorted(review_weeks.items()):
        if (year, week) in review_planned and hours > p.review_cap_blocks * BLOCK_MINUTES / 60 + EPS:
            out.append(Violation("review-cap", f"{year}-W{week:02d}: {hours:g} h of reviews, more than "
                                               f"{p.review_cap_percent} % of the week"))

    # Focus: a day's piece of a topic is at least 45 minutes unless the day's window is shorter (or the topic
    # has less than that left), and no day holds more than two topics. Reviews are not topics here.
    for day, rule, detail in focus_problems(plan):
        out.append(Violation(rule, f"{day}: {detail}"))
    out += [Violation(rule, message, uid) for rule, message, uid in calendar_problems(plan)]  # windows, busy

    if active:
        finish = plan.finish
        latest = add_months(p.start, req.months_max) - dt.timedelta(days=1)
        if finish > latest:
            out.append(Violation("month-range", f"finishes {finish}, after {latest} "
                                                f"({req.months_max} months from {p.start})"))
        lo_day = (add_months(p.start, req.months_min) - p.start).days - 1
        earliest_idx = cal.last_study_day_on_or_before(lo_day) if lo_day < len(cal.day_caps) else None
        if lo_day >= len(cal.day_caps):
            full = study_calendar(p, lo_day + 1)
            earliest_idx = full.last_study_day_on_or_before(lo_day)
            earliest = full.day(earliest_idx) if earliest_idx is not None else None
        else:
            earliest = cal.day(earliest_idx) if earliest_idx is not None else None
        # Pacing to the range's minimum is a rule of a first plan; after a re-plan, finishing early because
        # the learner worked ahead is their success, not a broken rule.
        if earliest is not None and finish < earliest and plan.replanned_on is None:
            out.append(Violation("month-range", f"finishes {finish}, before {earliest}, the last study day "
                                                f"within the range's minimum of {req.months_min} months"))
    return out
