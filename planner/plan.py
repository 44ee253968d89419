"""The Plan value: dated sessions cut from the day loads, plus the summary every view and export reads."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.availability import stretch_slots
from planner.profile import BLOCK_MINUTES, Profile
from planner.requirements import Requirements, months_between
from planner.totals import plan_totals

if TYPE_CHECKING:
    import pandas as pd

SESSION_KINDS = ("study", "review", "checkpoint", "project")
SESSION_STATUSES = ("planned", "done", "missed", "cancelled")
UID_NAMESPACE = uuid.UUID("6f1c3a52-8e1d-4f0b-9a57-2d4c8e0b7a11")
UID_DOMAIN = "study-planner"


def session_uid(path_id: str, topic_id: str, ordinal: int) -> str:
    """Derived from (path, topic, ordinal): stable across runs and re-plans, no personal data."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{path_id}/{topic_id}/{ordinal}')}@{UID_DOMAIN}"


@dataclass(frozen=True)
class Session:
    uid: str
    topic: str
    kind: str
    start: dt.datetime  # timezone-aware, in the learner's timezone
    end: dt.datetime
    ordinal: int  # 1-based position within the topic
    status: str = "planned"
    sequence: int = 0
    done_hours: float = 0.0  # for partial progress on a missed session
    cancelled_on: dt.date | None = None  # the re-plan that cancelled it (None: the plan's latest re-plan)
    real_hours: float | None = None  # a done session: the time it really took, when the learner said (planner.pace)
    rating: str | None = None  # a done review or topic's last session: how well the learner recalled (planner.recall)

    @property
    def credited_hours(self) -> float:
        """Hours of study this session counts for: all when done, the partial hours when missed."""
        if self.status == "done":
            return self.hours
        if self.status == "missed":
            return min(self.done_hours, self.hours)
        return 0.0

    @property
    def hours(self) -> float:
        return (self.end.timestamp() - self.start.timestamp()) / 3600  # elapsed, also across a clock change

    @property
    def blocks(self) -> int:
        return round((self.end.timestamp() - self.start.timestamp()) / 60 / BLOCK_MINUTES)

    @property
    def day(self) -> dt.date:
        return self.start.date()


@dataclass(frozen=True)
class SolverInfo:
    status: str
    seconds: float
    objective: float
    bound: float
    build_seconds: float = 0.0
    peak_percent: int = 100
    focus_seconds: float = 0.0  # the focus pass after the pace model (planner/focus.py)
    focus_changed_days: int = 0  # days whose load the focus pass changed
    focus_days_later: int = 0  # days the finish moved past the capacity's earliest so the focus rules fit


@dataclass(frozen=True)
class PhaseInfo:
    number: int
    title: str
    objective: str
    weeks: tuple[int, int] | None


@dataclass(frozen=True)
class Milestone:
    stage: str
    title: str
    date: dt.date | None  # None: the topics it needs are not in this plan
    months_min: int | None
    months_max: int | None
    requires: tuple[str, ...]


@dataclass(frozen=True)
class TopicProgress:
    """What the learner told us about a topic beyond its sessions (planner.progress, planner.pace)."""

    topic: str
    estimate_blocks: int | None = None  # the path's estimate, when the plan's hours for it differ (pace, more)
    more_blocks: int = 0  # time the learner said it needs beyond its estimate (`mark --more-hours`)
    real_hours: float | None = None  # the learner's figure for the whole finished topic (`--topic-done ID=H`)


@dataclass(frozen=True)
class Plan:
    path_id: str
    path_title: str
    profile: Profile
    requirements: Requirements
    sessions: tuple[Session, ...]
    solver: SolverInfo
    phases: tuple[PhaseInfo, ...]
    checklist: tuple[Milestone, ...] = ()
    earliest_allowed_finish: dt.date | None = None
    latest_allowed_finish: dt.date | None = None
    blackout_ranges: tuple[tuple[dt.date, dt.date], ...] = field(default=())
    reviews_skipped: int = 0
    paced_to: dt.date | None = None  # the earliest finish the hours allowed, when the plan was slowed down
    replanned_on: dt.date | None = None  # from this day on the catch-up buffer may be used
    topic_progress: tuple[TopicProgress, ...] = ()  # real hours, estimates and extra time per topic, when any

    def progress_of(self, topic_id: str) -> TopicProgress | None:
        return next((tp for tp in self.topic_progress if tp.topic == topic_id), None)

    # ------------------------------------------------------------ summary figures
    @property
    def active_sessions(self) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.status != "cancelled")

    @property
    def finish(self) -> dt.date:
        """The last day of study (reviews never extend it: they are placed on or before it). A session may end at
        midnight, so the day is the one the session starts on."""
        return max(s.day for s in self.active_sessions) if self.active_sessions else self.profile.start

    @property
    def total_hours(self) -> float:
        """The plan's whole workload (planner.totals: done + planned + reviews)."""
        return plan_totals(self).scheduled_hours

    @property
    def months(self) -> float:
        return months_between(self.profile.start, self.finish)

    @property
    def weeks(self) -> float:
        return ((self.finish - self.profile.start).days + 1) / 7

    def weekly_hours(self) -> dict[tuple[int, int], float]:
        out: dict[tuple[int, int], float] = {}
        for s in self.active_sessions:
            iso = s.day.isocalendar()
            key = (iso.year, iso.week)
            out[key] = out.get(key, 0.0) + (s.credited_hours if s.status == "missed" else s.hours)
        return out

    @property
    def peak_week_hours(self) -> float:
        return max(self.weekly_hours().values(), default=0.0)

    @property
    def mean_week_hours(self) -> float:
        return self.total_hours / self.weeks if self.weeks else 0.0

    @property
    def paced(self) -> bool:
        """True when the learner offered more time than the range needs and the plan slowed down to finish at
        the range's minimum (decided when planning: the capacity would have allowed an earlier finish)."""
        return self.paced_to is not None

    def topic_span(self, topic_id: str) -> tuple[dt.datetime, dt.datetime] | None:
        """First start and last end of a topic's study sessions (its later reviews are not part of it)."""
        ss = [s for s in self.active_sessions if s.topic == topic_id and s.kind != "review"]
        if not ss:
            return None
        return min(s.start for s in ss), max(s.end for s in ss)

    def phase_rows(self) -> list[dict[str, Any]]:
        rows = []
        for ph in self.phases:
            ids = {t.id for t in self.requirements.topics if t.phase == ph.number}
            ss = [s for s in self.active_sessions if s.topic in ids and s.kind != "review"]
            if not ss:
                continue
            rows.append({
                "phase": ph.number, "title": ph.title,
                "start": min(s.start for s in ss).date(), "finish": max(s.day for s in ss),
                "hours": sum(s.hours for s in ss), "topics": len(ids),
            })
        return rows

    def to_frame(self) -> pd.DataFrame:
        """One row per session, the shape the dashboard tables, charts and CSV share."""
        import pandas as pd

        titles = {t.id: t for t in self.requirements.topics}
        phase_titles = {p.number: p.title for p in self.phases}
        counts: dict[str, int] = {}  # sessions_in_topic for every topic in one pass (it was once per row)
        for s in self.sessions:
            if s.status != "cancelled" and s.kind != "review":
                counts[s.topic] = counts.get(s.topic, 0) + 1
        rows = []
        for s in self.sessions:
            t = titles.get(s.topic)
            rows.append({
                "uid": s.uid, "date": s.day.isoformat(), "weekday": s.start.strftime("%a"),
                "start": s.start.isoformat(), "end": s.end.isoformat(),
                "start_time": s.start.strftime("%H:%M"), "end_time": s.end.strftime("%H:%M"),
                "hours": round(s.hours, 2), "phase": t.phase if t else None,
                "phase_title": phase_titles.get(t.phase, "") if t else "",
                "topic": s.topic, "title": t.title if t else s.topic, "kind": s.kind,
                "session": f"review {s.ordinal}" if s.kind == "review"
                else f"{s.ordinal}/{counts.get(s.topic, 0)}", "status": s.status,
                "sequence": s.sequence,
            })
        columns = ["uid", "date", "weekday", "start", "end", "start_time", "end_time", "hours", "phase",
                   "phase_title", "topic", "title", "kind", "session", "status", "sequence"]
        return pd.DataFrame(rows, columns=columns)

    def sessions_in_topic(self, topic_id: str) -> int:
        """Study sessions of a topic (reviews of it are counted apart)."""
        return sum(1 for s in self.sessions if s.topic == topic_id and s.status != "cancelled" and s.kind != "review")


# ---------------------------------------------------------------- cutting sessions from day loads


def local_instant(day: dt.date, at: dt.time, tz: dt.tzinfo, minutes: int = 0) -> dt.datetime:
    """The instant `minutes` of elapsed time after the wall time `at` on `day`.

    A repeated wall time is its first occurrence and one inside a spring-forward gap the instant the gap
    stands for (02:30 becomes 03:30), so sessions keep their real length across a daylight-saving change.
    """
    base = dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)
    return (base + dt.timedelta(minutes=minutes)).astimezone(tz)


def _split(blocks: int, max_blocks: int) -> list[int]:
    """A day's stretch of one topic, split into near-equal sessions no longer than the maximum."""
    n = max(1, math.ceil(blocks / max_blocks))
    base, extra = divmod(blocks, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


Slot = tuple[dt.datetime, int]  # free time on a day: its first instant (in UTC) and the blocks it holds


def sessions_from_day_loads(loads: Sequence[int], start: dt.date, req: Requirements, profile: Profile,
                            first_ordinals: dict[str, int] | None = None) -> list[Session]:
    """Walk the topics in order through the days: each day takes the next `loads[d]` blocks of the stream.

    Without windows or busy calendars a day is one slot from the weekday's start time, so its sessions run back
    to back and never cross midnight when its hours fit before midnight (checked when the profile is built).
    With them, the day's free stretches are its slots (planner.availability).
    """
    if profile.uses_availability:
        def day_slots(day: dt.date, load: int) -> Sequence[Slot]:
            return stretch_slots(profile, day)
    else:
        def day_slots(day: dt.date, load: int) -> Sequence[Slot]:
            return [(local_instant(day, profile.session_starts[day.weekday()], profile.tz).astimezone(dt.UTC), load)]

    return _walk_topic_stream(loads, start, req, profile, day_slots, first_ordinals)


def _walk_topic_stream(loads: Sequence[int], start: dt.date, req: Requirements, profile: Profile,
                       day_slots: Callable[[dt.date, int], Sequence[Slot]],
                       first_ordinals: dict[str, int] | None) -> list[Session]:
    """Each day's load goes into the day's slots in order: a topic's piece is cut where a slot ends, and each
    run inside a slot is split into near-equal sessions no longer than the maximum. Times are elapsed minutes
    from the slot's first instant (UTC, so adding minutes never does wall-clock arithmetic), so a session keeps
    its length across a daylight-saving change, as with local_instant."""
    tz = profile.tz
    block = dt.timedelta(minutes=BLOCK_MINUTES)
    max_blocks = max(1, profile.max_session_minutes // BLOCK_MINUTES)
    topics = list(req.topics)
    ti = 0
    left = topics[0].blocks if topics else 0
    ordinals: dict[str, int] = dict(first_ordinals or {})
    out: list[Session] = []
    for d, load in enumerate(loads):
        if load <= 0:
            continue
        day = start + dt.timedelta(days=d)
        slots = day_slots(day, load)
        if sum(b for _, b in slots) < load:
            raise ValueError(f"{day}: load {load} exceeds the free blocks")  # the capacities forbid it
        si, used_in_slot = 0, 0
        remaining = load
        while remaining > 0 and ti < len(topics):
            topic = topics[ti]
            take = min(remaining, left)
            while take > 0:
                base, slot_blocks = slots[si]
                run = min(take, slot_blocks - used_in_slot)
                offset = used_in_slot
                for part in _split(run, max_blocks):
                    ordinals[topic.id] = ordinals.get(topic.id, 0) + 1
                    out.append(Session(
                        uid=session_uid(req.path_id, topic.id, ordinals[topic.id]), topic=topic.id,
                        kind=topic.kind, start=(base + offset * block).astimezone(tz),
                        end=(base + (offset + part) * block).astimezone(tz),
                        ordinal=ordinals[topic.id],
                    ))
                    offset += part
                used_in_slot += run
                take -= run
                remaining -= run
                left -= run
                if used_in_slot == slot_blocks:
                    si, used_in_slot = si + 1, 0
            if left == 0:
                ti += 1
                left = topics[ti].blocks if ti < len(topics) else 0
    return out


def checklist_milestones(checklist: Sequence[Any], plan_sessions: Sequence[Session], req: Requirements,
                         start: dt.date) -> tuple[Milestone, ...]:
    """A checklist item is reached when the last session of every topic it needs is over."""
    last_end: dict[str, dt.date] = {}
    for s in plan_sessions:
        if s.status != "cancelled" and s.kind != "review":
            last_end[s.topic] = max(last_end.get(s.topic, s.day), s.day)
    planned = {t.id for t in req.topics}
    out = []
    for item in checklist:
        needed = [q for q in item.requires if q in planned]
        if item.requires and not needed:
            when: dt.date | None = start  # everything it needs is known or skipped by this background
        elif needed and all(q in last_end for q in needed):
            when = max(last_end[q] for q in needed)
        else:
            when = None
        out.append(Milestone(item.stage, item.title, when, item.months_min, item.months_max, item.requires))
    return tuple(out)
