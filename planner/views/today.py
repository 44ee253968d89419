"""The Today page's facts: what to study today and this week, what is overdue, the next milestone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from planner.plan import Plan, Session


@dataclass(frozen=True)
class TodayFacts:
    today: dt.date
    monday: dt.date
    today_sessions: tuple[Session, ...]  # every session of today, whatever its status
    week_sessions: tuple[Session, ...]  # the rest of this ISO week (other days), whatever their status
    overdue: tuple[Session, ...]  # still "planned" before today: neither ticked nor marked missed
    week_done_hours: float  # hours credited this week
    week_planned_hours: float  # hours this week's sessions hold (missed ones count what was studied)
    hours_offered: float
    next_milestone: tuple[str, dt.date] | None
    finish: dt.date

    @property
    def overdue_hours(self) -> float:
        return round(sum(s.hours for s in self.overdue), 2)


def today_facts(plan: Plan, today: dt.date) -> TodayFacts:
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    active = sorted(plan.active_sessions, key=lambda s: (s.start, s.uid))
    week = [s for s in active if monday <= s.day <= sunday]
    milestone = next(((m.title, m.date) for m in sorted(plan.checklist, key=lambda m: (m.date or dt.date.max))
                      if m.date is not None and m.date >= today), None)
    return TodayFacts(
        today=today, monday=monday,
        today_sessions=tuple(s for s in week if s.day == today),
        week_sessions=tuple(s for s in week if s.day != today),
        overdue=tuple(s for s in active if s.day < today and s.status == "planned"),
        week_done_hours=round(sum(s.credited_hours for s in week), 2),
        week_planned_hours=round(sum(s.credited_hours if s.status == "missed" else s.hours for s in week), 2),
        hours_offered=plan.profile.hours_per_week,
        next_milestone=milestone,
        finish=plan.finish,
    )


def session_line(plan: Plan, s: Session) -> str:
    """"Tue 19:00–21:00 · Linear algebra (study, 2 of 5)" — plain text, never markdown."""
    titles = {t.id: t.title for t in plan.requirements.topics}
    count = sum(1 for x in plan.active_sessions if x.topic == s.topic and x.kind == s.kind)
    kind = s.kind if s.kind != "study" else f"session {s.ordinal} of {count}"
    return f"{s.start:%a %H:%M}–{s.end:%H:%M} · {titles.get(s.topic, s.topic)} ({kind}, {s.hours:g} h)"
