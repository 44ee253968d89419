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
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from planner.availability import FreeTime, free_time
from planner.busy import is_url, normalise_source, refresh_busy
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.focus import FOCUS_DAY_BLOCKS, FocusShape, last_study_day, shape_for_focus
from planner.model import CatchUpProblem, DayLoadSolution, solve_catch_up
from planner.pace import Pace, at_pace
from planner.plan import Plan, Session, SolverInfo, checklist_milestones, session_uid, sessions_from_day_loads
from planner.profile import BLOCK_MINUTES, REVIEW_MINUTES, Profile
from planner.requirements import (
    MAX_HORIZON_DAYS,
    Requirements,
    StudyCalendar,
    add_months,
    optional_to_drop,
    study_calendar,
)
from planner.reviews import place_reviews
from planner.solve import DROP_MARGINS, FOCUS_EXTRA_DAYS, rules_finish, topic_stream

MAX_DAYS_PAST_FINISH = 366
MENU_CONFIRM_STEPS = 8  # half-hour steps above the capacity bound tried before giving up on a figure
# Profile fields a re-plan can change from today on; any other change (background, start, topics, reviews,
# checkpoints, time zone) changes what is due or when the range ends, so it needs a new plan.
REPLAN_FIELDS = ("hours_per_week", "weekday_hours", "session_starts", "blackouts", "holiday_country",
                 "max_session_minutes", "reminder_minutes", "explicit_day_hours", "explicit_starts", "rest_day",
                 "buffer_percent", "review_cap_percent", "review_retention", "windows", "busy_sources", "busy",
                 "all_day_busy")
NEW_PLAN_FIELDS = {"background": "background", "start": "start", "timezone": "timezone", "skip": "skip",
                   "electives": "electives", "reviews": "reviews", "review_days": "review_days",
                   "checkpoints": "checkpoints", "checkpoint_minutes": "checkpoints", "finish_months": "finish_months"}


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
class Price:
    """What a re-plan costs beside what it gains, from today on: the spaced reviews it keeps, whether it fills
    the free buffer, the optional topics it drops, the finish it moves."""

    reviews_before: int  # reviews the plan had from today on
    reviews_after: int
    buffer_percent: int
    buffer_weeks: int  # weeks from today on that the new plan fills past the free buffer
    weeks: int  # weeks from today to the new finish
    dropped: tuple[tuple[str, float], ...]  # (title, hours) of optional topics left out
    old_finish: dt.date
    new_finish: dt.date
    latest_allowed: dt.date
    old_hours: float
    new_hours: float

    @property
    def reviews_cut(self) -> int:
        return max(0, self.reviews_before - self.reviews_after)

    @property
    def cuts_reviews(self) -> bool:
        """More than a few reviews go (a re-plan moves the odd one that finds no room near its due date)."""
        return self.reviews_cut > max(2, self.reviews_before // 10)

    def review_text(self) -> str:
        hours = REVIEW_MINUTES / 60
        return (f"{self.reviews_before} → {self.reviews_after} spaced reviews "
                f"({self.reviews_before * hours:g} h → {self.reviews_after * hours:g} h)")

    def buffer_text(self) -> str:
        if not self.buffer_percent:
            return "no free buffer (0 % of the week)"
        if not self.buffer_weeks:
            return f"{self.buffer_percent} % of each week stays free"
        return (f"fills the free {self.buffer_percent} % of the week in {self.buffer_weeks} of {self.weeks} "
                "weeks")

    def gives_up(self) -> list[str]:
        """What the learner gives up, in their words (empty: nothing)."""
        out = []
        if self.cuts_reviews:
            out.append(f"cuts reviews: {self.review_text()}")
        if self.buffer_weeks:
            out.append(self.buffer_text())
        if self.dropped:
            out.append("drops " + ", ".join(f"{t} ({h:g} h)" for t, h in self.dropped))
        late = (self.new_finish - self.latest_allowed).days
        if late > 0:
            out.append(f"finishes {late} day{'s' if late > 1 else ''} after the path's range ends "
                       f"({self.latest_allowed})")
        return out

    def keeps(self) -> list[str]:
        out = []
        if not self.cuts_reviews and self.reviews_before:
            out.append(f"your reviews ({self.reviews_before} → {self.reviews_after})")
        if not self.buffer_weeks and self.buffer_percent:
            out.append(f"the free {self.buffer_percent} % of each week")
        return out

    def sentence(self) -> str:
        """One line: what it gives up, then what it keeps."""
        gives = self.gives_up()
        keeps = self.keeps()
        parts = [f"Needs {self.new_hours - self.old_hours:g} h more each week."] if self.new_hours > self.old_hours \
            else []
        if gives:
            parts.append("Gives up: " + "; ".join(gives) + ".")
        if keeps:
            parts.append("Keeps " + " and ".join(keeps) + ".")
        return " ".join(parts) or "Changes nothing else."


def price_of(old: Plan, new: Plan, today: dt.date) -> Price:
    """The price of replacing `old` by `new` from `today` on."""
    dropped_ids = {t.id for t in old.requirements.topics if not t.dropped} - \
        {t.id for t in new.requirements.topics if not t.dropped}

    def reviews(plan: Plan) -> int:  # a dropped topic's reviews go with it: not counted as cut
        return sum(1 for s in plan.sessions if s.kind == "review" and s.status == "planned" and s.day >= today
                   and s.topic not in dropped_ids)

    p = new.profile
    full = buffer_weeks_filled(new, today)
    dropped = tuple((t.title, t.hours) for t in old.requirements.topics if t.id in dropped_ids)
    latest = add_months(p.start, new.requirements.months_max) - dt.timedelta(days=1)
    return Price(reviews(old), reviews(new), p.buffer_percent, full,
                 max(1, math.ceil(((new.finish - today).days + 1) / 7)), dropped, old.finish, new.finish, latest,
                 old.profile.hours_per_week, p.hours_per_week)


def buffer_weeks_filled(plan: Plan, since: dt.date) -> int:
    """Weeks from `since`'s week on in which the plan fills the free share of the week (a catch-up may)."""
    weeks: dict[tuple[int, int], int] = defaultdict(int)
    for s in plan.sessions:
        if s.status in ("planned", "done") and s.day >= since - dt.timedelta(days=since.weekday()):
            weeks[_iso(s.day)] += s.blocks
    return sum(1 for blocks in weeks.values() if blocks > plan.profile.study_week_blocks)


def buffer_words(plan: Plan) -> str:
    """The free share of each week as it is: kept, or filled by a re-plan's catch-up in so many weeks."""
    pct = plan.profile.buffer_percent
    if plan.replanned_on is not None and pct:
        filled = buffer_weeks_filled(plan, plan.replanned_on)
        if filled:
            return (f"the free {pct} % of the week is used for catching up in {filled} week"
                    f"{'s' if filled > 1 else ''} since the re-plan of {plan.replanned_on}")
    return f"{pct} % of each week stays free for catching up"


@dataclass(frozen=True)
class Choice:
    """One catch-up choice, planned: replan() with `kwargs` (on top of the menu's own) gives `result`."""

    key: str  # "hours", "buffer", "cut", "drop", "busy" or "late"
    kwargs: tuple[tuple[str, Any], ...]
    result: Replanned = field(compare=False, repr=False)
    price: Price = field(compare=False)

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.kwargs)


@dataclass(frozen=True)
class CatchUpMenu:
    """The new finish would pass the range's end: the choices, each planned before it is offered."""

    remaining_hours: float
    latest_allowed: dt.date
    late_finish: dt.date | None  # finish if the learner accepts being late (at current hours)
    hours_per_week_needed: float | None
    drop: tuple[tuple[str, str, float], ...]  # optional topics to drop
    drop_finish: dt.date | None
    hours_per_week: float
    free_time: FreeTime | None = None  # with windows or busy calendars: free hours a week in the windows, to the end
    busy_drop: tuple[str, ...] = ()  # busy calendars (as stored) whose dropping gives a plan in the range
    busy_drop_finish: dt.date | None = None
    # The most free time any day holds, when that is too short for the 45-minute rule on days whose window is long
    # enough for it (busy events shorten a day, they do not loosen its rules); None otherwise.
    most_free_day_hours: float | None = None
    busy_sources: tuple[str, ...] = ()
    cut_finish: dt.date | None = None  # at the same hours, reviews cut to the room study leaves
    offered: tuple[Choice, ...] = field(default=(), compare=False)  # every choice above, planned with its price

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.offered if c.key == key), None)

    def _price(self, key: str) -> str:
        c = self.choice(key)
        return f" {c.price.sentence()}" if c is not None else ""

    def header(self) -> str:
        line = (f"Behind: {self.remaining_hours:g} h left cannot finish by {self.latest_allowed} at "
                f"{self.hours_per_week:g} h/week.")
        facts = self.calendar_facts()
        return f"{line} {facts}" if facts else line

    def calendar_facts(self) -> str | None:
        """The windows and busy calendars in numbers: what they leave free from today to the range's end."""
        ft = self.free_time
        if ft is None:
            return None
        who = "Your calendar leaves" if self.busy_sources else "Your windows leave"
        line = (f"{who} {ft.free_hours_per_week:g} h a week free in your windows (they hold "
                f"{ft.window_hours_per_week:g} h a week)")
        if self._short_days():
            line += (f", no day more than {self.most_free_day_hours:g} h: too short for the 45-minute rule to "
                     f"reach the end of a topic of an odd number of half hours")
        return line + "."

    def _short_days(self) -> bool:
        return self.most_free_day_hours is not None and self.most_free_day_hours * 60 < FOCUS_DAY_BLOCKS * \
            BLOCK_MINUTES

    def why_nothing_fits(self) -> str | None:
        """When no choice gives a plan: why; None when some choice does."""
        if self.hours_per_week_needed is not None or self.late_finish is not None or self.busy_drop_finish \
                or self.cut_finish or (self.drop and self.drop_finish is not None):
            return None
        if self._short_days():
            return "no day has room for the 45-minute rule (see above)"
        return (f"at any weekly hours these days cannot finish by {self.latest_allowed}, and at "
                f"{self.hours_per_week:g} h/week no plan finishes within {MAX_HORIZON_DAYS // 365} years")

    def nothing_fits(self) -> str | None:
        """When no choice gives a plan: why, and what would (in the command's words)."""
        why = self.why_nothing_fits()
        if why is None:
            return None
        if self.busy_sources:
            shown = ", ".join(shown_source(s) for s in self.busy_sources)
            what = (f"Free time in your busy calendar ({shown}) and re-plan, point the plan at another calendar "
                    f"(--busy-replace OLD=NEW) or plan without it (--busy-drop SOURCE), or make a new plan with "
                    f"wider windows")
        elif self.free_time is not None:
            what = "Make a new plan with wider windows or more study days"
        else:
            what = "Make a new plan with more study days or hours on them"
        return f"None of the usual choices fits: {why}. {what}."

    def choices(self) -> list[str]:
        """Each choice the menu offers, as a sentence (every one was planned)."""
        out = []
        if self.hours_per_week_needed is not None:
            out.append(f"Study {self.hours_per_week_needed:g} h/week from now on to finish in time "
                       f"(--hours-per-week {self.hours_per_week_needed:g} --keep-buffer).{self._price('hours')}")
        if self.cut_finish is not None:
            out.append(f"Keep your hours, cut reviews and finish {self.cut_finish} (--cut-reviews)."
                       f"{self._price('cut')}")
        if self.drop and self.drop_finish is not None:
            names = ", ".join(f"{t} ({h:g} h)" for _, t, h in self.drop)
            flags = " ".join(f"--drop {tid}" for tid, _, _ in self.drop)
            out.append(f"Drop optional topics ({names}) and finish {self.drop_finish} ({flags}).{self._price('drop')}")
        if self.busy_drop and self.busy_drop_finish is not None:
            flags = " ".join(f"--busy-drop {shown_source(s)}" for s in self.busy_drop)
            out.append(f"Plan without your busy calendar{'s' if len(self.busy_drop) > 1 else ''} and finish "
                       f"{self.busy_drop_finish} ({flags}).{self._price('busy')}")
        if self.late_finish is not None:
            out.append(f"Accept finishing {self.late_finish} (--allow-late).{self._price('late')}")
        return out

    def message(self) -> str:
        choices = self.choices()
        if not choices:
            return f"{self.header()}\n- {self.nothing_fits()}"
        return "\n- ".join([self.header() + " Choose one:", *choices])


class CalendarUnreadable(InputError):
    """A busy calendar of the plan cannot be read now (a moved file, a reset secret address): the learner can
    re-plan without it or with its new place, and the message says how."""

    def __init__(self, field: str, reason: str, source: str):
        shown = shown_source(source)
        self.busy_source = source
        self.reason = reason.replace(source, shown)  # never a password from an address
        super().__init__(field, f"{self.reason}; re-plan without it (--busy-drop {shown}) or from its new place "
                                f"(--busy-replace {shown}=NEW)")


@dataclass(frozen=True)
class Replanned:
    plan: Plan
    diff: Diff


@dataclass(frozen=True)
class Usage:
    """What the learner's history already holds from today on: days it touches are not planned again (their
    sessions keep their times, so new ones could only collide with them), and its blocks count toward the week's
    limit. With it, what the catch-up may take: the free buffer only when `use_buffer` (the learner chose to
    give it up), and `review_blocks` of reviews still to come get room held back each week unless the learner
    chose to cut them (`review_blocks` = 0)."""

    days: frozenset[dt.date]
    weeks: tuple[tuple[tuple[int, int], int], ...]
    use_buffer: bool = False
    review_blocks: int = 0
    review_until: dt.date | None = None  # the previous plan's finish: the reviews' room is spread up to it

    def calendar(self, profile: Profile, days: int, today: dt.date, blocks: int | None = None) -> StudyCalendar:
        """The catch-up's capacity; `blocks` (the study left) sizes the weekly room held for reviews."""
        cal = study_calendar(profile, days, start=today, use_buffer=self.use_buffer)
        caps = tuple(0 if cal.day(i) in self.days else c for i, c in enumerate(cal.day_caps))
        by_week = dict(self.weeks)
        n_weeks = cal.week_of(len(caps) - 1) + 1 if caps else 0
        week_used = tuple(by_week.get(_iso(today + dt.timedelta(days=7 * w - today.weekday())), 0)
                          for w in range(n_weeks))
        cal = replace(cal, day_caps=caps, week_used=week_used)
        if not self.review_blocks or not profile.reviews or blocks is None:
            return cal
        until = cal.index(self.review_until) if self.review_until is not None else 0
        return _with_review_room(cal, profile, self.review_blocks, blocks, until)


def _with_review_room(cal: StudyCalendar, profile: Profile, reviews: int, blocks: int,
                      until: int = 0) -> StudyCalendar:
    """The smallest weekly room for `reviews` review blocks over the plan it leads to (as solve._calendar
    does for a new plan), at most the review cap: a catch-up that fills every week would leave them none. The
    plan runs at least to `until` (the previous plan's finish, which the catch-up tracks)."""
    weekly = cal.weekly_cap
    cap = profile.review_cap_blocks
    reserve = min(cap, math.ceil(reviews / max(1.0, len(cal.day_caps) / 7)))
    out = replace(cal, weekly_cap=max(0, weekly - reserve))
    while reserve < cap:
        first = out.earliest_finish(blocks)
        if first is None or reserve * max(1, (max(first, until) + 1) // 7) >= reviews:
            break
        reserve += 1
        out = replace(cal, weekly_cap=max(0, weekly - reserve))
    return out


def _iso(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def _used_blocks(s: Session) -> int:
    """Blocks of a week a history session used: all of a done one, the partial hours of a missed one (rounded
    up, so the week's limit is never exceeded)."""
    if s.status == "done":
        return s.blocks
    return math.ceil(round(s.credited_hours * 60, 6) / BLOCK_MINUTES)


def _reviews_left(plan: Plan, history: list[Session], drop: tuple[str, ...]) -> int:
    """Review blocks still to come: each kept topic's reviews less those the learner did."""
    if not plan.profile.reviews:
        return 0
    done: dict[str, int] = defaultdict(int)
    for s in history:
        if s.kind == "review" and s.status == "done":
            done[s.topic] += 1
    per = max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    return per * sum(max(0, t.reviews - done[t.id]) for t in plan.requirements.topics
                     if not t.dropped and t.id not in drop)


def _usage(history: list[Session], today: dt.date, use_buffer: bool = False, review_blocks: int = 0,
           review_until: dt.date | None = None) -> Usage:
    this_week = _iso(today)
    weeks: dict[tuple[int, int], int] = defaultdict(int)
    days: set[dt.date] = set()
    for s in history:
        if s.day >= today:
            days.add(s.day)
        if _iso(s.day) >= this_week:
            weeks[_iso(s.day)] += _used_blocks(s)
    return Usage(frozenset(days), tuple(sorted(weeks.items())), use_buffer, review_blocks, review_until)


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
           drop: tuple[str, ...] = (), hours_per_week: float | None = None, busy_drop: Sequence[str] = (),
           busy_replace: Sequence[tuple[str, str]] = (), profile: Profile | None = None,
           pace: Pace | None = None, keep_buffer: bool = False, cut_reviews: bool = False) -> Replanned | CatchUpMenu:
    """The plan from `today` on. `profile`: the learner's changed fields from today on (hours, days, windows, busy
    calendars, holidays...; a change that needs a new plan is an InputError naming it). `busy_drop` and
    `busy_replace` name busy calendars as the plan shows them (or OLD, NEW pairs). `pace`
    (planner.pace.measure_pace): open topics planned at estimate × the learner's multiplier, and the catch-up menu
    computed at that pace; None keeps the plan's hours. The catch-up keeps room for the reviews still to come
    unless the learner chose to cut them (`cut_reviews`: reviews get only the room study leaves), and may use
    the free buffer (what it is for) unless `keep_buffer`; the price (planner.replan.price_of) says which."""
    if pace is not None:
        plan = at_pace(plan, pace)
    p = plan.profile
    if profile is not None:
        needs = new_plan_fields(plan.profile, profile)
        if needs:
            raise InputError(needs[0], "changed: that needs a new plan (Start over); a re-plan keeps the "
                                       "background, start, time zone, topics, reviews and checkpoints")
        p = replace(p, **{f: getattr(profile, f) for f in REPLAN_FIELDS})
    p = with_busy_changes(p, busy_drop, busy_replace)
    if hours_per_week is not None:
        p = p.with_hours_per_week(hours_per_week)
        if p.hours_per_week + 1e-9 < hours_per_week:
            if p.windows is not None:
                raise InputError("--hours-per-week", f"your study windows hold at most {p.hours_per_week:g} h a "
                                                     f"week; ask for at most that, or widen a window (a new plan)")
            raise InputError("--hours-per-week", f"the study days hold at most {p.hours_per_week:g} h a week "
                                                 f"before midnight; add study days or start earlier")
    p = _read_busy(p, today, plan.requirements.months_max)  # busy calendars read again, from today on
    if today < p.start:
        raise InputError("--today", f"{today} is before the plan's start {p.start}")
    if today > plan.finish + dt.timedelta(days=MAX_DAYS_PAST_FINISH):
        raise InputError("--today", f"{today} is more than a year after the plan's finish {plan.finish}")
    latest = add_months(p.start, plan.requirements.months_max) - dt.timedelta(days=1)

    history, old_future, old_cancelled = split_history(plan, today)
    ctx = _Context(curriculum, plan, history, old_future, old_cancelled, today, latest)
    req = _remaining(plan, history, drop)
    use_buffer = not keep_buffer
    usage = _usage(history, today, use_buffer, 0 if cut_reviews else _reviews_left(plan, history, drop),
                   plan.finish)
    if req.total_blocks == 0:
        return _assemble(curriculum, plan, p, req, history, old_future, old_cancelled, [], today, latest, 0.0, 0.0,
                         drop=drop)

    fitted, late_day = _fit(p, req, old_future, today, usage, latest)
    if not allow_late and (fitted is None or late_day is None or late_day > latest):
        late = _build(ctx, p, req, fitted, use_buffer, drop) if fitted is not None and late_day is not None \
            else None
        return _menu(ctx, p, req, usage, late, drop)
    if fitted is None:  # even a late finish has no plan: say what does
        menu = _menu(ctx, p, req, usage, None, drop)
        raise InputError("--allow-late", f"{req.total_hours:g} h left have no plan at {p.hours_per_week:g} h/week, "
                                         f"however late. " + (" ".join(["Instead:", *menu.choices()])
                                                               if menu.choices() else str(menu.nothing_fits())))
    return _build(ctx, p, req, fitted, use_buffer, drop)


@dataclass(frozen=True)
class _Context:
    """What every catch-up choice of one re-plan shares: the plan, its history and its old future."""

    curriculum: Curriculum
    plan: Plan
    history: list[Session]
    old_future: list[Session]
    old_cancelled: list[Session]
    today: dt.date
    latest: dt.date


def _build(ctx: _Context, p: Profile, req: Requirements, fitted: Fitted, use_buffer: bool,
           drop: tuple[str, ...]) -> Replanned:
    """The re-planned plan from fitted catch-up loads: sessions, reviews in the room left, UIDs matched."""
    plan, today = ctx.plan, ctx.today
    solution, shape = fitted
    ordinals: dict[str, int] = defaultdict(int)
    for s in plan.sessions:
        ordinals[s.topic] = max(ordinals[s.topic], s.ordinal)
    # Fresh sessions are numbered after every ordinal the topic ever had, so new UIDs never collide.
    fresh = sessions_from_day_loads(shape.loads, today, req, p, first_ordinals=dict(ordinals))
    review_req = replace(plan.requirements, topics=tuple(t for t in plan.requirements.topics
                                                          if not t.dropped and t.id not in drop))
    reviews = place_reviews([*ctx.history, *fresh], review_req, p, not_before=today,
                            week_blocks=p.weekly_blocks if use_buffer else None)
    # A review UID may be reused only by the planned review it names (kept or moved); any UID the plan ever
    # held otherwise — done, missed or cancelled — is taken, so a review placed again gets the next attempt.
    reusable = {s.uid for s in ctx.old_future}
    taken = {s.uid for s in plan.sessions if s.uid not in reusable} | {s.uid for s in fresh}
    for r in reviews.sessions:
        uid, attempt = r.uid, 1
        while uid in taken:
            attempt += 1
            uid = session_uid(plan.path_id, f"{r.topic}/review", r.ordinal * 1000 + attempt)
        taken.add(uid)
        fresh.append(replace(r, uid=uid))
    return _assemble(ctx.curriculum, plan, p, req, ctx.history, ctx.old_future, ctx.old_cancelled, fresh, today,
                     ctx.latest, solution.solve_seconds, solution.build_seconds, solution, drop=drop)


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
    that obeys the focus rules (None, None when the work never fits). The rules' exact arithmetic
    (solve.rules_finish) answers first, so no solve is spent where no plan can be, and no date is given for a
    finish that has no plan."""
    horizon_days = (latest - today).days + 1
    if horizon_days > 0:
        cal = usage.calendar(p, horizon_days, today, req.total_blocks)
        if rules_finish(cal, req, len(cal.day_caps) - 1) is not None:
            fitted = _catch_up(cal, req, old_future, len(cal.day_caps) - 1)
            if fitted is not None:
                return fitted, _last_day(cal, fitted)
    # Past the range's end, or tracking the previous plan left no room for the focus rules: the earliest
    # finish that obeys them.
    # With busy calendars, only as far as they were read: a plan past that would ignore their events.
    horizon = MAX_HORIZON_DAYS if p.busy is None else max(1, min(MAX_HORIZON_DAYS, (p.busy.until - today).days))
    long_cal = usage.calendar(p, horizon, today, req.total_blocks)
    obeying = rules_finish(long_cal, req, len(long_cal.day_caps) - 1)
    if obeying is None:
        return None, None
    tried: set[int] = set()
    for extra in FOCUS_EXTRA_DAYS:
        end = min(obeying + extra, len(long_cal.day_caps) - 1)
        if end in tried:
            continue
        tried.add(end)
        fitted = _catch_up(long_cal, req, old_future, end)
        if fitted is not None:
            return fitted, _last_day(long_cal, fitted)
    return None, None


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
    """The most weekly hours (in half hours) the learner's study days hold before midnight, or their windows."""
    from planner.profile import MAX_HOURS_PER_WEEK

    return int(profile.with_hours_per_week(MAX_HOURS_PER_WEEK).hours_per_week * 2)


def _menu(ctx: _Context, profile: Profile, req: Requirements, usage: Usage, late: Replanned | None,
          drop: tuple[str, ...]) -> CatchUpMenu:
    """Every choice is planned before it is offered: the capacity arithmetic finds the figure, the focus rules'
    arithmetic (no solve) rules out what cannot work, and one catch-up solve confirms what is left — the same
    computation `replan` makes when the learner picks it. Each choice keeps its plan and its price (reviews,
    buffer, topics, finish), so picking it costs nothing more and the learner sees what it gives up first.
    Every choice keeps the reviews and the free buffer unless its words say it gives them up."""
    plan, today, latest, old_future = ctx.plan, ctx.today, ctx.latest, ctx.old_future
    days = (latest - today).days + 1
    offered: list[Choice] = []
    kept_usage = replace(usage, use_buffer=False)  # more hours: the buffer and the reviews' room both kept

    def offer(key: str, kwargs: dict[str, Any], p: Profile, r: Requirements, fitted: Fitted, use_buffer: bool,
              dropped: tuple[str, ...]) -> dt.date:
        result = _build(ctx, p, r, fitted, use_buffer, dropped)
        offered.append(Choice(key, tuple(kwargs.items()), result, price_of(plan, result.plan, today)))
        return result.plan.finish

    def capacity_fits(hours: float) -> bool:
        if days <= 0:
            return False
        cal = kept_usage.calendar(profile.with_hours_per_week(hours), days, today, req.total_blocks)
        return cal.earliest_finish(req.total_blocks) is not None

    def in_time(p: Profile, r: Requirements, u: Usage = usage) -> Fitted | None:
        """The catch-up plan for these inputs when it finishes in the range, else None."""
        if days <= 0 or r.total_blocks == 0:
            return None
        cal = u.calendar(p, days, today, r.total_blocks)
        if rules_finish(cal, r, days - 1) is None:
            return None
        fitted, last = _fit(p, r, old_future, today, u, latest)
        return fitted if fitted is not None and last is not None and last <= latest else None

    needed = None
    most = _most_half_hours(profile)
    lo, hi = 1, most
    if capacity_fits(hi / 2):
        while lo < hi:
            mid = (lo + hi) // 2
            if capacity_fits(mid / 2):
                hi = mid
            else:
                lo = mid + 1
        # Capacity is the lower bound; the focus rules may need a little more: step up, planning each figure.
        # Only figures above the learner's own (fewer hours are no way to catch up) that the days really hold.
        lo = max(lo, int(profile.hours_per_week * 2) + 1)
        for step in range(lo, min(lo + MENU_CONFIRM_STEPS, most) + 1):
            candidate = profile.with_hours_per_week(step / 2)
            if candidate.hours_per_week * 2 < step - 1e-9:
                break
            fitted = in_time(candidate, req, kept_usage)
            if fitted is not None:
                needed = step / 2
                offer("hours", {"hours_per_week": needed, "keep_buffer": True}, candidate, req, fitted, False,
                      drop)
                break
    # The same hours with the reviews given up: they get only the room study leaves.
    cut_finish = None
    if usage.review_blocks:
        fitted = in_time(profile, req, replace(usage, review_blocks=0))
        if fitted is not None:
            cut_finish = offer("cut", {"cut_reviews": True}, profile, req, fitted, usage.use_buffer, drop)
    cal = usage.calendar(profile, max(days, 1), today, req.total_blocks)
    capacity = cal.cumulative()[-1] if days > 0 else 0
    deficit = max(0, req.total_blocks - capacity)
    chosen: list[tuple[str, str, float]] = []
    drop_finish = None
    # Capacity says how many blocks to free; the focus rules may want a few more (as in solve.explain_infeasible).
    for margin in DROP_MARGINS:
        picked, freed = optional_to_drop(req, deficit + margin)
        if not picked:  # capacity is enough, the focus rules are not: free a little more at the next margin
            continue
        kept = replace(req, topics=tuple(t for t in req.topics if t not in picked))
        ids = tuple(t.id for t in picked)
        u = replace(usage, review_blocks=_reviews_left(plan, ctx.history, (*drop, *ids))) if usage.review_blocks \
            else usage
        fitted = in_time(profile, kept, u) if freed >= deficit + margin else None
        if fitted is not None:
            chosen = [(t.id, t.title, t.hours) for t in picked]
            drop_finish = offer("drop", {"drop": ids}, profile, kept, fitted, usage.use_buffer, (*drop, *ids))
            break
        if freed < deficit + margin:
            break
    busy_drop: tuple[str, ...] = ()
    busy_finish = None
    if needed is None and drop_finish is None and profile.busy_sources:
        # The calendar is what holds the plan back: would it fit without it? (Nothing to read: no calendar.)
        free = replace(profile, busy_sources=(), busy=None)
        fitted = in_time(free, req)
        if fitted is not None:
            busy_drop = profile.busy_sources
            busy_finish = offer("busy", {"busy_drop": busy_drop}, free, req, fitted, usage.use_buffer, drop)
    if late is not None:
        offered.append(Choice("late", (("allow_late", True),), late, price_of(plan, late.plan, today)))
    ft = None
    most_free = None
    if profile.uses_availability and days > 0:
        ft = free_time(profile, today, latest)
        if max(cal.day_caps, default=0) < FOCUS_DAY_BLOCKS <= max(cal.window_caps or cal.day_caps, default=0):
            most_free = max(cal.day_caps, default=0) * BLOCK_MINUTES / 60  # the rule holds, the room does not
    return CatchUpMenu(req.total_hours, latest, late.plan.finish if late is not None else None, needed,
                       tuple(chosen), drop_finish, profile.hours_per_week, free_time=ft, busy_drop=busy_drop,
                       busy_drop_finish=busy_finish, most_free_day_hours=most_free,
                       busy_sources=profile.busy_sources, cut_finish=cut_finish,
                       offered=tuple(offered))


# ---------------------------------------------------------------- changing the plan's calendars and fields


def new_plan_fields(old: Profile, new: Profile) -> list[str]:
    """Profile fields changed between two profiles that a re-plan cannot carry (they need a new plan)."""
    return list(dict.fromkeys(name for attr, name in NEW_PLAN_FIELDS.items()
                              if getattr(old, attr) != getattr(new, attr)))


def shown_source(source: str) -> str:
    """A busy source as it may be printed: an address's password replaced by ***."""
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)", source, re.S)
    if m is None or "@" not in m[2]:
        return source
    userinfo, host = m[2].rsplit("@", 1)
    if ":" not in userinfo:
        return source
    return f"{m[1]}{userinfo.split(':', 1)[0]}:***@{host}{m[3]}"


def _source_key(value: str) -> str | None:
    """What makes two spellings of a busy source the same calendar: an address's scheme (webcal is https) and
    host without case, its user without the password; a file's absolute path. None: not a source at all."""
    text = value.strip()
    if is_url(text):
        scheme, rest = text.split("://", 1)
        scheme = "https" if scheme.lower() in ("webcal", "webcals") else scheme.lower()
        m = re.match(r"([^/?#]*)(.*)", rest, re.S)
        assert m is not None
        netloc, tail = m[1], m[2]
        user = ""
        if "@" in netloc:
            userinfo, netloc = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0] + "@"
        return f"{scheme}://{user}{netloc.lower()}{tail or '/'}"
    try:
        return normalise_source(text, "busy")
    except InputError:
        return None


def _match_source(given: str, sources: Sequence[str], field: str) -> str:
    key = _source_key(given)
    for s in sources:
        if key is not None and _source_key(s) == key:
            return s
    if not sources:
        raise InputError(field, f"this plan has no busy calendars ('{shown_source(given)}' given)")
    raise InputError(field, f"'{shown_source(given)}' is not a busy calendar of this plan; its calendars: "
                            + ", ".join(shown_source(s) for s in sources))


def parse_busy_replace(value: str, sources: Sequence[str]) -> tuple[str, str]:
    """OLD=NEW as typed: OLD one of the plan's busy calendars (addresses hold '=' too, so every split is tried),
    NEW a .ics file (made absolute) or address. An unknown OLD lists the plan's calendars."""
    if "=" not in value:
        raise InputError("--busy-replace", f"expected OLD=NEW (a busy calendar of this plan, then its new .ics "
                                           f"file or address), got '{shown_source(value)}'")
    for i, ch in enumerate(value):
        if ch == "=" and value[i + 1:].strip():
            key = _source_key(value[:i])
            if key is not None and any(_source_key(s) == key for s in sources):
                return _match_source(value[:i], sources, "--busy-replace"), value[i + 1:].strip()
    return _match_source(value.split("=", 1)[0], sources, "--busy-replace"), ""


def with_busy_changes(profile: Profile, drop: Sequence[str], replacements: Sequence[tuple[str, str]]) -> Profile:
    """The profile with busy calendars dropped or replaced (each named as the plan or an error shows it)."""
    if not drop and not replacements:
        return profile
    sources = list(profile.busy_sources)
    for given in drop:
        gone = _match_source(given, profile.busy_sources, "--busy-drop")
        sources = [s for s in sources if s != gone]
    for old, new in replacements:
        was = _match_source(old, profile.busy_sources, "--busy-replace")
        if not new.strip():
            raise InputError("--busy-replace", f"no new calendar given for '{shown_source(was)}' (OLD=NEW)")
        now = normalise_source(new, "--busy-replace")
        sources = [now if s == was else s for s in sources]
    return replace(profile, busy_sources=tuple(dict.fromkeys(sources)), busy=None)


def _read_busy(profile: Profile, today: dt.date, months_max: int) -> Profile:
    """The busy calendars read again from today on; one that cannot be read names itself and the way out."""
    try:
        return refresh_busy(profile, today, months_max)  # type: ignore[no-any-return]
    except CalendarUnreadable:
        raise
    except InputError as exc:
        m = re.fullmatch(r"busy\[(\d+)\]", exc.field)
        if m is None or int(m[1]) >= len(profile.busy_sources):
            raise
        raise CalendarUnreadable(exc.field, exc.message, profile.busy_sources[int(m[1])]) from None
