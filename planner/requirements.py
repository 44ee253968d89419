"""What this learner must study and by when: hours per topic, order, month range, and capacity arithmetic.

Everything here is exact integer arithmetic on 30-minute blocks, so bounds computed here are proofs the
solver can lean on, and infeasibility is found before any model is built.
"""

from __future__ import annotations

import calendar
import datetime as dt
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from graphlib import TopologicalSorter

from planner.availability import day_cap_blocks
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import BLOCK_MINUTES, REVIEW_MINUTES, Profile

MAX_HORIZON_DAYS = 366 * 15  # how far "earliest finish" looks before saying the plan never ends


@dataclass(frozen=True)
class TopicReq:
    id: str
    title: str
    phase: int
    blocks: int
    requires: tuple[str, ...]  # direct prerequisites among the required topics (skipped ones contracted)
    kind: str
    optional: bool
    elective: str | None
    resources: tuple[str, ...]
    group: str | None
    deliverable: str | None = None
    reviews: int = 0  # spaced reviews carved out of the topic's hours (each REVIEW_MINUTES long)
    dropped: bool = False  # dropped by a re-plan after some of it was studied: what was done stays, no more is due

    @property
    def hours(self) -> float:
        """Hours of study sessions (the topic's estimate minus its reviews)."""
        return self.blocks * BLOCK_MINUTES / 60


@dataclass(frozen=True)
class Requirements:
    """The topics this learner must study, in the order they will be studied, and the allowed finish window."""

    path_id: str
    background: str
    months_min: int
    months_max: int
    topics: tuple[TopicReq, ...]

    @property
    def total_blocks(self) -> int:
        return sum(t.blocks for t in self.topics if not t.dropped)

    @property
    def total_hours(self) -> float:
        """Study, project and checkpoint hours, without reviews."""
        return self.total_blocks * BLOCK_MINUTES / 60

    @property
    def review_count(self) -> int:
        return sum(t.reviews for t in self.topics)

    def topic(self, topic_id: str) -> TopicReq:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(topic_id)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months from a date; the 31st clamps to the month's last day."""
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> float:
    """Calendar months from start to the end of day `end`, with a fraction for the last partial month."""
    stop = end + dt.timedelta(days=1)
    whole = (stop.year - start.year) * 12 + stop.month - start.month
    if add_months(start, whole) > stop:
        whole -= 1
    base = add_months(start, whole)
    nxt = add_months(start, whole + 1)
    return whole + (stop - base).days / (nxt - base).days


def build_requirements(curriculum: Curriculum, profile: Profile, *, drop: Sequence[str] = ()) -> Requirements:
    """Select and order the topics for this learner.

    Topics the background skips (0 h), that the learner already knows, or that are dropped leave the plan;
    prerequisite edges through them are contracted so the order constraints stay as strong as the path says.
    The study order is the file order made topological, so the plan follows the path as written.
    """
    bg = curriculum.background(profile.background)
    chosen_electives = set(profile.electives)
    removed = set(profile.skip) | set(drop)
    keep: dict[str, int] = {}
    for t in curriculum.topics:
        if t.elective is not None and t.elective not in chosen_electives:
            continue
        if t.id in removed:
            continue
        blocks = round(t.hours_for(bg.key) * 60 / BLOCK_MINUTES)
        if blocks > 0:
            keep[t.id] = blocks
    if not keep:
        raise InputError("skip", "nothing left to study: every topic is skipped or known")

    all_topics = {t.id: t for t in curriculum.topics}
    # Nearest kept ancestors of each topic, looking through removed ones: filled in prerequisite order (iterative,
    # so a chain of thousands of skipped topics cannot exhaust the stack).
    nearest: dict[str, frozenset[str]] = {}
    for tid in TopologicalSorter({t.id: t.requires for t in curriculum.topics}).static_order():
        out: set[str] = set()
        for q in all_topics[tid].requires:
            out |= {q} if q in keep else nearest[q]
        nearest[tid] = frozenset(out)

    position = {t.id: i for i, t in enumerate(curriculum.topics)}
    graph = {tid: nearest[tid] for tid in keep}
    order = _stable_topological_order(graph, position)
    topics = []
    for tid in order:
        t = all_topics[tid]
        topics.append(TopicReq(tid, t.title, t.phase, keep[tid], tuple(sorted(graph[tid], key=position.__getitem__)),
                               t.kind, t.optional or t.elective is not None, t.elective, t.resources, t.group,
                               t.deliverable))
    if profile.reviews:
        topics = [_carve_reviews(t, len(profile.review_days)) for t in topics]
    if profile.checkpoints:
        topics = _with_checkpoints(curriculum, topics, profile.checkpoint_minutes // BLOCK_MINUTES)
    # A later finish the learner accepted widens the range's end (never its start: pacing stays as it was).
    months_max = max(bg.months_max, profile.finish_months or 0)
    return Requirements(curriculum.id, bg.key, bg.months_min, months_max, tuple(topics))


REVIEW_SHARE_MAX = 4  # reviews take at most a quarter of a topic's estimate


def _carve_reviews(t: TopicReq, wanted: int) -> TopicReq:
    """A topic's estimate includes its spaced reviews (learning time is learning time), so reviews are taken out
    of the study blocks rather than added on top: the path's hours stay the path's hours."""
    if t.kind != "study":
        return t
    per = max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    count = min(wanted, t.blocks // (REVIEW_SHARE_MAX * per))
    return replace(t, blocks=t.blocks - count * per, reviews=count)


def checkpoint_id(phase: int) -> str:
    return f"checkpoint-phase-{phase}"


def _with_checkpoints(curriculum: Curriculum, topics: list[TopicReq], blocks: int) -> list[TopicReq]:
    """A checkpoint closes each phase: after every topic (and the project) of the phase that this learner studies.

    It self-checks the phase's topics and reviews the project's deliverable, so it needs all of them done.
    """
    if blocks <= 0:
        return topics
    last_index: dict[int, int] = {}
    for i, t in enumerate(topics):
        if t.elective is None:
            last_index[t.phase] = i
    out: list[TopicReq] = []
    for i, t in enumerate(topics):
        out.append(t)
        if t.elective is None and last_index.get(t.phase) == i:
            ph = curriculum.phase(t.phase)
            members = tuple(x.id for x in topics if x.phase == t.phase and x.elective is None)
            label = "Foundations" if ph.weeks is None and ph.number == 0 else f"Phase {ph.number}"
            out.append(TopicReq(checkpoint_id(ph.number), f"{label} checkpoint: {ph.title}", ph.number, blocks,
                                members, "checkpoint", False, None, (), None))
    return out


def _stable_topological_order(graph: dict[str, frozenset[str]], position: dict[str, int]) -> list[str]:
    """Kahn's algorithm taking the earliest-in-file ready topic each time: the path's order, made valid."""
    waiting = {tid: set(reqs) for tid, reqs in graph.items()}
    users: dict[str, list[str]] = {tid: [] for tid in graph}
    for tid, reqs in graph.items():
        for q in reqs:
            users[q].append(tid)
    ready = [(position[t], t) for t, reqs in waiting.items() if not reqs]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, tid = heapq.heappop(ready)
        order.append(tid)
        for u in users[tid]:
            waiting[u].discard(tid)
            if not waiting[u]:
                heapq.heappush(ready, (position[u], u))
    return order


# ---------------------------------------------------------------- calendar capacity


@dataclass(frozen=True)
class StudyCalendar:
    """Day-by-day study capacity in blocks from the start date, with ISO-week limits applied by arithmetic."""

    start: dt.date
    day_caps: tuple[int, ...]  # blocks per day, 0 on non-study days, blackouts and holidays
    weekly_cap: int
    first_week_used: int = 0  # blocks already studied in the first ISO week before `start` (re-planning)
    week_used: tuple[int, ...] = ()  # blocks the learner's history holds in each week from `start` (worked ahead)
    window_caps: tuple[int, ...] = ()  # each day's hours before busy events (the focus rules' window); () = day_caps

    def focus_cap(self, index: int) -> int:
        """The day's window for the focus rules: busy events shorten a day, they do not loosen its rules."""
        caps = self.window_caps or self.day_caps
        return caps[index] if 0 <= index < len(caps) else 0

    def week_cap(self, week: int) -> int:
        used = (self.first_week_used if week == 0 else 0) + (self.week_used[week] if week < len(self.week_used) else 0)
        return max(0, self.weekly_cap - used)

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    def index(self, day: dt.date) -> int:
        return (day - self.start).days

    def week_of(self, index: int) -> int:
        """ISO week number counted from the start's ISO week (0-based)."""
        return (index + self.start.weekday()) // 7

    def cumulative(self, percent: int = 100, last: int | None = None) -> list[int]:
        """Most blocks that can be done by the end of each day, each day used at most `percent` %."""
        out: list[int] = []
        total = 0
        week = -1
        used = 0
        stop = len(self.day_caps) if last is None else min(last + 1, len(self.day_caps))
        for i in range(stop):
            w = self.week_of(i)
            if w != week:
                week, used = w, 0
            x = min(self.day_caps[i] * percent // 100, self.week_cap(w) - used)
            used += x
            total += x
            out.append(total)
        return out

    def earliest_finish(self, blocks: int) -> int | None:
        """Index of the first day by whose end `blocks` can be done, or None inside the horizon."""
        for i, c in enumerate(self.cumulative()):
            if c >= blocks:
                return i
        return None

    def last_study_day_on_or_before(self, index: int) -> int | None:
        for i in range(min(index, len(self.day_caps) - 1), -1, -1):
            if self.day_caps[i] > 0:
                return i
        return None


def study_calendar(profile: Profile, days: int, *, start: dt.date | None = None,
                   first_week_used: int = 0, use_buffer: bool = False, reserve: int = 0) -> StudyCalendar:
    """Capacity from `start` (default: the profile's start) for `days` days.

    The weekly limit leaves the learner's buffer free, except when re-planning (`use_buffer`): catching up is
    what the buffer is for. `reserve` blocks a week are held back for spaced reviews.
    """
    first = start or profile.start
    caps = []
    for i in range(days):
        d = first + dt.timedelta(days=i)
        caps.append(0 if profile.is_blackout(d) else profile.day_blocks(d.weekday()))
    weekly = profile.weekly_blocks if use_buffer else profile.study_week_blocks
    if profile.uses_availability:  # free time inside the windows, busy events taken out
        free = tuple(day_cap_blocks(profile, first + dt.timedelta(days=i)) for i in range(days))
        return StudyCalendar(first, free, max(0, weekly - reserve), first_week_used, window_caps=tuple(caps))
    return StudyCalendar(first, tuple(caps), max(0, weekly - reserve), first_week_used)


def review_reserve(profile: Profile, req: Requirements) -> int:
    """Blocks a week held back for spaced reviews, as a first guess: the plan's reviews spread over the longest
    allowed duration, never more than the review cap (solve._calendar then sizes it to the plan's length)."""
    if not profile.reviews:
        return 0
    blocks = req.review_count * max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    weeks = max(1.0, (add_months(profile.start, req.months_max) - profile.start).days / 7)
    return min(profile.review_cap_blocks, math.ceil(blocks / weeks))


@dataclass(frozen=True)
class Window:
    """The finish window: no later than `latest` (the range's max), no earlier than `earliest` (its min)."""

    earliest: int | None  # day index; None when no study day exists before the range's minimum
    latest: int  # day index of the last day inside the maximum

    def dates(self, cal: StudyCalendar) -> tuple[dt.date | None, dt.date]:
        return (cal.day(self.earliest) if self.earliest is not None else None, cal.day(self.latest))


def finish_window(req: Requirements, cal: StudyCalendar) -> Window:
    """Finish on or before the day before start + max months; pace to the last study day within min months."""
    latest = (add_months(cal.start, req.months_max) - cal.start).days - 1
    lo_day = (add_months(cal.start, req.months_min) - cal.start).days - 1
    return Window(cal.last_study_day_on_or_before(lo_day), latest)


def optional_to_drop(req: Requirements, deficit: int) -> tuple[list[TopicReq], int]:
    """The fewest optional topics (largest first) whose blocks cover `deficit`, and the blocks they free; all of
    them when even that is not enough."""
    chosen: list[TopicReq] = []
    freed = 0
    for t in sorted((t for t in req.topics if t.optional), key=lambda t: (-t.blocks, t.id)):
        if freed >= deficit:
            break
        chosen.append(t)
        freed += t.blocks
    return chosen, freed
