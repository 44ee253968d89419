"""The Today page's facts: what to study today and this week, what is overdue, the next milestone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from planner.errors import InputError
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


def short_name(plan: Plan, s: Session, limit: int = 24) -> str:
    """A session in a few words for a button ("Linear algebra 2/5", "Linear algebra review"): the button's label is
    its accessible name, so a screen reader hears which session a Done or Missed button is for."""
    title = topic_title(plan, s.topic)
    if len(title) > limit:
        title = title[:limit - 1].rstrip() + "…"
    if s.kind == "study":
        count = sum(1 for x in plan.active_sessions if x.topic == s.topic and x.kind == s.kind)
        return f"{title} {s.ordinal}/{count}"
    return f"{title} {s.kind}"


def figures_line(facts: TodayFacts) -> str:
    """Today's figures in one line (plain text): they come after the sessions, so they should not take a screen."""
    parts = [f"This week {facts.week_done_hours:g} of {facts.week_planned_hours:g} h done",
             f"{len(facts.overdue)} overdue ({facts.overdue_hours:g} h)"]
    if facts.next_milestone:
        parts.append(f"next milestone {facts.next_milestone[1]}: {facts.next_milestone[0]}")
    parts.append(f"planned finish {facts.finish}")
    return " · ".join(parts)


def done_before(plan: Plan, today: dt.date) -> Plan:
    """"I did everything up to today": every session still planned before today is done as planned; today's stay
    open, and sessions already ticked or missed keep what was said about them."""
    from planner.progress import mark_done_through

    return mark_done_through(plan, today - dt.timedelta(days=1))


# ---------------------------------------------------------------- the check-in

RATINGS = ("again", "hard", "good", "easy")  # a review's recall, as the fsrs package rates it; "good" is plain Done


def topic_title(plan: Plan, topic: str) -> str:
    return next((t.title for t in plan.requirements.topics if t.id == topic), topic)


# One word and one symbol per state, on every page: a session studied in part is "partly done", never "missed".
STATE_WORDS = {"planned": "planned", "overdue": "overdue", "done": "done", "partial": "partly done",
               "missed": "missed", "cancelled": "cancelled"}
STATE_ICONS = {"planned": ":material/schedule:", "overdue": ":material/history:", "done": ":material/check_circle:",
               "partial": ":material/timelapse:", "missed": ":material/cancel:", "cancelled": ":material/block:"}


def session_state(s: Session, today: dt.date) -> str:
    """The learner's word for a session: overdue is a planned session before today, partial a missed one with hours."""
    if s.status == "missed":
        return "partial" if s.done_hours else "missed"
    if s.status == "planned" and s.day < today:
        return "overdue"
    return s.status


def check_in_note(plan: Plan, uid: str, what: str) -> str:
    """A history note that names the session the way the learner saw it ("done: Linear algebra, Tue 05 Jan 19:00")."""
    s = next((x for x in plan.sessions if x.uid == uid), None)
    return what if s is None else f"{what}: {topic_title(plan, s.topic)}, {s.start:%a %d %b %H:%M}"


def history_note(note: str) -> str:
    """Notes written before they named the session ended in its id ("done 921878ec"): show "a session" instead."""
    return re.sub(r"\s[0-9a-f]{8}$", ": a session", note)


def check_in_kind(plan: Plan, s: Session) -> str:
    """How a planned session is ticked: "review" (rated), "last" (the topic's last study session: finished, or
    need more time?) or "session" (done with its real hours)."""
    if s.kind == "review":
        return "review"
    last = max((x for x in plan.active_sessions if x.topic == s.topic and x.kind != "review"),
               key=lambda x: (x.start, x.uid), default=None)
    return "last" if last is not None and last.uid == s.uid else "session"


def _takes_rating() -> bool:
    import inspect

    from planner.progress import mark_done

    return "rating" in inspect.signature(mark_done).parameters


def done(plan: Plan, uid: str, hours: float | None = None, rating: str | None = None) -> Plan:
    """A session done with the time it took; a review with how well it was recalled (where the engine records
    ratings: until then a rating other than good is recorded as plain done)."""
    from planner.progress import mark_done

    if rating is not None and rating not in RATINGS:
        raise InputError("rating", f"'{rating}' is not one of {', '.join(RATINGS)}")
    if rating is not None and TAKES_RATING:
        return mark_done(plan, [uid], hours, rating=rating)  # type: ignore[call-arg,unused-ignore]
    return mark_done(plan, [uid], hours)


def topic_finished(plan: Plan, uid: str, hours: float | None) -> Plan:
    """The topic's last session done, and the topic finished: its real hours are all the time recorded on it.
    Its earlier sessions still unticked count as done as planned (what a Done click without a figure says), so
    the pace is not measured from the last session alone; missed ones keep what was studied."""
    from planner.progress import mark_done, mark_topic_done

    topic = next(s.topic for s in plan.sessions if s.uid == uid)
    earlier = [s.uid for s in plan.sessions if s.topic == topic and s.uid != uid and s.kind != "review"
               and s.status == "planned"]
    if earlier:
        plan = mark_done(plan, earlier)
    plan = done(plan, uid, hours)
    return mark_topic_done(plan, [topic])


def topic_needs_more(plan: Plan, uid: str, hours: float | None, more: float) -> Plan:
    """The topic's last session done, and the topic needs `more` hours: the next re-plan schedules them."""
    from planner.progress import mark_more_hours

    plan = done(plan, uid, hours)
    topic = next(s.topic for s in plan.sessions if s.uid == uid)
    return mark_more_hours(plan, {topic: more})


TAKES_RATING = _takes_rating()
