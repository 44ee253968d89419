"""Re-planning from today: history stays as it was, the future is re-solved with the least change.

Sessions before `today` keep their times, UIDs and status (planned ones become missed; their hours return to
the pool). The remaining work is re-solved so the running total follows the previous plan as closely as
possible (see model.CatchUpProblem); sessions that land where they were keep their UID and SEQUENCE, moved ones
keep their UID with SEQUENCE + 1, new ones get fresh derived UIDs, and dropped ones stay in the file as
cancelled with SEQUENCE + 1 so calendar apps that honour updates remove them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, replace

from planner.busy import refresh_busy
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.focus import FocusShape, last_study_day, shape_for_focus
from planner.model import CatchUpProblem, DayLoadSolution, solve_catch_up
from planner.pace import Pace, at_pace
from planner.plan import Plan, Session, SolverInfo, checklist_milestones, session_uid, sessions_from_day_loads
from planner.profile import BLOCK_MINUTES, Profile
from planner.requirements import (
    MAX_HORIZON_DAYS,
    Requirements,
    StudyCalendar,
    add_months,
    optional_to_drop,
    study_calendar,
)
from planner.reviews import place_reviews
from planner.solve import FOCUS_EXTRA_DAYS, topic_stream

MAX_DAYS_PAST_FINISH = 366
MENU_CONFIRM_STEPS = 8  # half-hour steps above the capacity bound tried before giving up on a figure


@dataclass(frozen=True)
class Diff:
    kept: tuple[str, ...]
    moved: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    old_finish: dt.date
    new_finish: dt.date
    latest_allowed: dt.date

    @property
    def days_later(self) -> int:
        return (self.new_finish - self.old_finish).days

    @property
    def inside_range(self) -> bool:
        return self.new_finish <= self.latest_allowed

    def text(self) -> str:
        sign = f"+{self.days_later}" if self.days_later > 0 else str(self.days_later)
        return (f"kept {len(self.kept)}, moved {len(self.moved)}, added {len(self.added)}, removed "
                f"{len(self.removed)} sessions; finish {self.old_finish} → {self.new_finish} ({sign} days), "
                f"{'inside' if self.inside_range else 'OUTSIDE'} the range (by {self.latest_allowed})")


@dataclass(frozen=True)
class CatchUpMenu:
    """The new finish would pass the range's end: the choices, each computed."""

    remaining_hours: float
    latest_allowed: dt.date
    late_finish: dt.date | None  # finish if the learner accepts being late (at current hours)
    hours_per_week_needed: float | None
    drop: tuple[tuple[str, str, float], ...]  # optional topics to drop
    drop_finish: dt.date | None
    hours_per_week: float

    def message(self) -> str:
        lines = [f"Behind: {self.remaining_hours:g} h left cannot finish by {self.latest_allowed} at "
                 f"{self.hours_per_week:g} h/week. Choose one:"]
        if self.hours_per_week_needed is not None:
            lines.append(f"- Study {self.hours_per_week_needed:g} h/week from now on to finish in time.")
        if self.drop and self.drop_finish is not None:
            names = ", ".join(f"{t} ({h:g} h)" for _, t, h in self.drop)
            lines.append(f"- Drop optional topics ({names}) and finish {self.drop_finish}.")
        if self.late_finish is not None:
            lines.append(f"- Accept finishing {self.late_finish} (--allow-late).")
        if len(lines) == 1:
            lines.append(f"- None of the usual choices fits: even a late finish lies more than "
                         f"{MAX_HORIZON_DAYS // 365} years ahead. Study more hours a week (--hours-per-week) or on "
                         f"more days.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Replanned:
    plan: Plan
    diff: Diff


@dataclass(frozen=True)
class Usage:
    """What the learner's history already holds from today on: days it touches are not planned again (their
    sessions keep their times, so new ones could only collide with them), and its blocks count toward the week's
    limit."""

    days: frozenset[dt.date]
    weeks: tuple[tuple[tuple[int, int], int], ...]

    def calendar(self, profile: Profile, days: int, today: dt.date) -> StudyCalendar:
        cal = study_calendar(profile, days, start=today, use_buffer=True)
        caps = tuple(0 if cal.day(i) in self.days else c for i, c in enumerate(cal.day_caps))
        by_week = dict(self.weeks)
        n_weeks = cal.week_of(len(caps) - 1) + 1 if caps else 0
        week_used = tuple(by_week.get(_iso(today + dt.timedelta(days=7 * w - today.weekday())), 0)
                          for w in range(n_weeks))
        return replace(cal, day_caps=caps, week_used=week_used)


def _iso(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def _used_blocks(s: Session) -> int:
    """Blocks of a week a history session used: all of a done one, the partial hours of a missed one (rounded
    up, so the week's limit is never exceeded)."""
    if s.status == "done":
        return s.blocks
    return math.ceil(round(s.credited_hours * 60, 6) / BLOCK_MINUTES)


def _usage(history: list[Session], today: dt.date) -> Usage:
    this_week = _iso(today)
    weeks: dict[tuple[int, int], int] = defaultdict(int)
    days: set[dt.date] = set()
    for s in history:
        if s.day >= today:
            days.add(s.day)
        if _iso(s.day) >= this_week:
            weeks[_iso(s.day)] += _used_blocks(s)
    return Usage(frozenset(days), tuple(sorted(weeks.items())))


def _remaining(plan: Plan, history: list[Session], drop: tuple[str, ...] = ()) -> Requirements:
    """What is left of each topic: its hours less what the learner did, in any amount, rounded up to whole
    30-minute blocks (a learner who did 20 minutes still gets the topic's last half hour)."""
    credited: dict[str, float] = defaultdict(float)
    for s in history:
        if s.kind != "review":
            credited[s.topic] += s.credited_hours
    topics = []
    for t in plan.requirements.topics:
        if t.dropped or t.id in drop:
            continue
        left = math.ceil(max(0.0, t.blocks * BLOCK_MINUTES - round(credited[t.id] * 60, 6)) / BLOCK_MINUTES)
        if left > 0:
            topics.append(replace(t, blocks=left))
    return replace(plan.requirements, topics=tuple(topics))


def split_history(plan: Plan, today: dt.date) -> tuple[list[Session], list[Session], list[Session]]:
    """(history, old future, cancelled). History is what the learner did or did not do: every done or missed
    session whatever its date, and planned ones before today, which count as missed. It is never changed."""
    history, future, cancelled = [], [], []
    for s in plan.sessions:
        if s.status == "cancelled":
            cancelled.append(s)
        elif s.status in ("done", "missed"):
            history.append(s)
        elif s.day < today:
            history.append(replace(s, status="missed"))
        else:
            future.append(s)
    return history, future, cancelled


def replan(curriculum: Curriculum, plan: Plan, today: dt.date, *, allow_late: bool = False,
           drop: tuple[str, ...] = (), hours_per_week: float | None = None,
           pace: Pace | None = None) -> Replanned | CatchUpMenu:
    """`pace` (planner.pace.measure_pace): open topics planned at estimate × the learner's multiplier, and the
    catch-up menu computed at that pace; None keeps the plan's hours."""
    if pace is not None:
        plan = at_pace(plan, pace)
    p = plan.profile
    if hours_per_week is not None:
        p = p.with_hours_per_week(hours_per_week)
        if p.hours_per_week + 1e-9 < hours_per_week:
            raise InputError("--hours-per-week", f"the study days hold at most {p.hours_per_week:g} h a week "
                                                 f"before midnight; add study days or start earlier")
    p = refresh_busy(p, today, plan.requirements.months_max)  # busy calendars read again, from today on
    if today < p.start:
        raise InputError("--today", f"{today} is before the plan's start {p.start}")
    if today > plan.finish + dt.timedelta(days=MAX_DAYS_PAST_FINISH):
        raise InputError("--today", f"{today} is more than a year after the plan's finish {plan.finish}")
    latest = add_months(p.start, plan.requirements.months_max) - dt.timedelta(days=1)

    history, old_future, old_cancelled = split_history(plan, today)
    req = _remaining(plan, history, drop)
    total = req.total_blocks
    usage = _usage(history, today)
    if total == 0:
        return _assemble(curriculum, plan, p, req, history, old_future, old_cancelled, [], today, latest, 0.0, 0.0,
                         drop=drop)

    fitted, late_day = _fit(p, req, old_future, today, usage, latest)
    if not allow_late and (fitted is None or late_day is None or late_day > latest):
        return _menu(plan, p, req, old_future, today, latest, usage, late_day)
    if fitted is None:
        raise InputError("--allow-late", f"{req.total_hours:g} h left would take more than "
                                         f"{MAX_HORIZON_DAYS // 365} years at {p.hours_per_week:g} h/week on these "
                                         f"study days; study more hours a week")
    solution, shape = fitted
    ordinals: dict[str, int] = defaultdict(int)
    for s in plan.sessions:
        ordinals[s.topic] = max(ordinals[s.topic], s.ordinal)
    # Fresh sessions are numbered after every ordinal the topic ever had, so new UIDs never collide.
    fresh = sessions_from_day_loads(shape.loads, today, req, p, first_ordinals=dict(ordinals))
    review_req = replace(plan.requirements, topics=tuple(t for t in plan.requirements.topics
                                                          if not t.dropped and t.id not in drop))
    reviews = place_reviews([*history, *fresh], review_req, p, not_before=today)
    # A review UID may be reused only by the planned review it names (kept or moved); any UID the plan ever
    # held otherwise — done, missed or cancelled — is taken, so a review placed again gets the next attempt.
    reusable = {s.uid for s in old_future}
    taken = {s.uid for s in plan.sessions if s.uid not in reusable} | {s.uid for s in fresh}
    for r in reviews.sessions:
        uid, attempt = r.uid, 1
        while uid in taken:
            attempt += 1
            uid = session_uid(plan.path_id, f"{r.topic}/review", r.ordinal * 1000 + attempt)
        taken.add(uid)
        fresh.append(replace(r, uid=uid))
    return _assemble(curriculum, plan, p, req, history, old_future, old_cancelled, fresh, today, latest,
                     solution.solve_seconds, solution.build_seconds, solution, drop=drop)


def _assemble(curriculum: Curriculum, plan: Plan, profile: object, req: Requirements, history: list[Session],
              old_future: list[Session], old_cancelled: list[Session], fresh: list[Session], today: dt.date,
              latest: dt.date, seconds: float, build: float, solution: object = None,
              drop: tuple[str, ...] = ()) -> Replanned:
    from planner.model import DayLoadSolution
    from planner.profile import Profile

    assert isinstance(profile, Profile)
    exact = {(s.topic, s.kind, s.start, s.end): s for s in old_future}
    kept: list[str] = []
    moved: list[str] = []
    added: list[str] = []
    result: list[Session] = []
    leftovers: dict[tuple[str, str], list[Session]] = defaultdict(list)
    used: set[str] = set()
    by_uid = {s.uid: s for s in old_future}
    for s in fresh:
        if s.kind == "review" and s.uid in by_uid:  # a review's UID names its ordinal: match on it
            prev = by_uid[s.uid]
            same = (prev.start, prev.end) == (s.start, s.end)
            result.append(replace(s, sequence=prev.sequence if same else prev.sequence + 1))
            used.add(s.uid)
            (kept if same else moved).append(s.uid)
            continue
        # Reviews match by UID only: a new review landing on an old one's slot must not take its UID.
        old = exact.get((s.topic, s.kind, s.start, s.end)) if s.kind != "review" else None
        if old is not None and old.uid not in used:
            result.append(replace(s, uid=old.uid, ordinal=old.ordinal, sequence=old.sequence))
            used.add(old.uid)
            kept.append(old.uid)
        else:
            leftovers[(s.topic, s.kind)].append(s)
    pool: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for s in old_future:
        if s.uid not in used and s.kind != "review":
            pool[(s.topic, s.kind)].append(s)
    for key, news in leftovers.items():
        olds = pool.get(key, []) if key[1] != "review" else []
        for s in news:
            if olds:
                old = olds.pop(0)
                result.append(replace(s, uid=old.uid, ordinal=old.ordinal, sequence=old.sequence + 1))
                used.add(old.uid)
                moved.append(old.uid)
            else:
                result.append(s if s.kind == "review" else replace(s, uid=session_uid(plan.path_id, s.topic,
                                                                                       s.ordinal)))
                added.append(result[-1].uid)
    removed = [replace(s, status="cancelled", sequence=s.sequence + 1, cancelled_on=today)
               for s in old_future if s.uid not in used]
    sessions = sorted([*history, *result, *old_cancelled, *removed], key=lambda s: (s.start, s.uid))
    new_req = plan.requirements
    solver = plan.solver
    if isinstance(solution, DayLoadSolution):
        solver = SolverInfo(solution.status, round(seconds, 4), solution.objective, solution.bound, round(build, 4),
                            plan.solver.peak_percent)
    # A topic stays while anything is left of it or any session names it (history and cancellations included);
    # one dropped stays marked dropped, so what was done of it is accounted and nothing more is due.
    named = {t.id for t in req.topics} | {s.topic for s in sessions}
    new_req = replace(new_req, topics=tuple(replace(t, dropped=True) if t.id in drop or t.dropped else t
                                            for t in new_req.topics if t.id in named))
    new_plan = replace(plan, profile=profile, requirements=new_req, sessions=tuple(sessions), solver=solver,
                       replanned_on=today,
                       checklist=checklist_milestones(curriculum.checklist, sessions, new_req, profile.start))
    diff = Diff(tuple(kept), tuple(moved), tuple(added), tuple(s.uid for s in removed), plan.finish,
                new_plan.finish, latest)
    return Replanned(new_plan, diff)


Fitted = tuple[DayLoadSolution, FocusShape]


def _fit(p: Profile, req: Requirements, old_future: list[Session], today: dt.date, usage: Usage,
         latest: dt.date) -> tuple[Fitted | None, dt.date | None]:
    """The catch-up plan and its last study day: inside the range when it fits there, else the earliest finish
    that obeys the focus rules (None, None when the work never fits)."""
    total = req.total_blocks
    horizon_days = (latest - today).days + 1
    if horizon_days > 0:
        cal = usage.calendar(p, horizon_days, today)
        if cal.earliest_finish(total) is not None:
            fitted = _catch_up(cal, req, old_future, len(cal.day_caps) - 1)
            if fitted is not None:
                return fitted, _last_day(cal, fitted)
    # Past the range's end, or tracking the previous plan left no room for the focus rules: the earliest
    # finish that obeys them.
    long_cal = usage.calendar(p, MAX_HORIZON_DAYS, today)
    late = long_cal.earliest_finish(total)
    if late is None:
        return None, None
    tried: set[int] = set()
    for extra in FOCUS_EXTRA_DAYS:
        end = min(late + extra, len(long_cal.day_caps) - 1)
        if end in tried:
            continue
        tried.add(end)
        fitted = _catch_up(long_cal, req, old_future, end)
        if fitted is not None:
            return fitted, _last_day(long_cal, fitted)
    return None, long_cal.day(late)


def _last_day(cal: StudyCalendar, fitted: Fitted) -> dt.date:
    return cal.day(last_study_day(fitted[1].loads))


def _catch_up(cal: StudyCalendar, req: Requirements, old_future: list[Session], finish: int) -> Fitted | None:
    """Catch-up loads that track the previous plan, then shaped to the focus rules; None if they do not fit."""
    total = req.total_blocks
    # The previous plan's running total in today's coordinates: blocks it had planned from today on.
    old_loads = [0] * (finish + 1)
    old_stream = [s for s in old_future if s.kind != "review"]
    for s in old_stream:
        idx = cal.index(s.day)
        if 0 <= idx <= finish:
            old_loads[idx] += s.blocks
    # Blocks the learner is behind: the previous plan expected them done by today, so in today's coordinates
    # its curve starts that far ahead of the new one, and the new plan catches up as fast as capacity allows.
    behind = total - sum(s.blocks for s in old_stream)
    target = []
    running = behind
    for x in old_loads:
        running += x
        target.append(running)
    solution = solve_catch_up(CatchUpProblem(cal, total, finish, tuple(target), tuple(old_loads)))
    if solution is None:
        raise InputError("--today", "the solver found no catch-up plan within its time limit")
    shape = shape_for_focus(cal, solution.blocks, cal.day_caps[: finish + 1], topic_stream(req))
    return (solution, shape) if shape is not None else None


def _most_half_hours(profile: Profile) -> int:
    """The most weekly hours (in half hours) the learner's study days hold before midnight."""
    from planner.profile import MAX_HOURS_PER_WEEK

    return int(profile.with_hours_per_week(MAX_HOURS_PER_WEEK).hours_per_week * 2)


def _menu(plan: Plan, profile: Profile, req: Requirements, old_future: list[Session], today: dt.date,
          latest: dt.date, usage: Usage, late: dt.date | None) -> CatchUpMenu:

    days = (latest - today).days + 1

    def fits(hours: float) -> bool:
        if days <= 0:
            return False
        cal = usage.calendar(profile.with_hours_per_week(hours), days, today)
        return cal.earliest_finish(req.total_blocks) is not None

    def fits_with_focus(hours: float) -> bool:
        fitted, last = _fit(profile.with_hours_per_week(hours), req, old_future, today, usage, latest)
        return fitted is not None and last is not None and last <= latest

    needed = None
    lo, hi = 1, _most_half_hours(profile)
    if fits(hi / 2):
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(mid / 2):
                hi = mid
            else:
                lo = mid + 1
        # Capacity is the lower bound; the focus rules may need a little more: confirm by planning.
        needed = next((step / 2 for step in range(lo, min(lo + MENU_CONFIRM_STEPS, _most_half_hours(profile)) + 1)
                       if fits_with_focus(step / 2)), None)
    cal = usage.calendar(profile, max(days, 1), today)
    capacity = cal.cumulative()[-1] if days > 0 else 0
    deficit = req.total_blocks - capacity
    picked, freed = optional_to_drop(req, deficit)
    chosen = [(t.id, t.title, t.hours) for t in picked]
    drop_finish = None
    if chosen and freed >= deficit:
        kept = replace(req, topics=tuple(t for t in req.topics if t not in picked))
        fitted, drop_last = _fit(profile, kept, old_future, today, usage, latest)
        # Offered only when it really fits: a drop that still finishes late is no way out of the menu.
        drop_finish = drop_last if fitted is not None and drop_last is not None and drop_last <= latest else None
    return CatchUpMenu(req.total_hours, latest, late, needed, tuple(chosen), drop_finish, profile.hours_per_week)
