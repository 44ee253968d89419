"""From curriculum and profile to a Plan, or to an Infeasible answer with the numbers that would make it fit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from planner.availability import FreeTime, free_time
from planner.curriculum import Curriculum
from planner.errors import PlanningTimeout
from planner.focus import (
    FOCUS_DAY_BLOCKS,
    FocusShape,
    Stream,
    earliest_obeying,
    fastest_obeying,
    last_study_day,
    shape_for_focus,
)
from planner.model import (
    SOLVER_TIME_LIMIT_S,
    DayLoadProblem,
    DayLoadSolution,
    peak_percent_bound,
    solve_day_loads,
)
from planner.plan import PhaseInfo, Plan, SolverInfo, checklist_milestones, sessions_from_day_loads
from planner.profile import (
    BLOCK_MINUTES,
    MAX_HOURS_PER_WEEK,
    MIN_HOURS_PER_WEEK,
    REVIEW_MINUTES,
    WEEKDAYS,
    Profile,
)
from planner.requirements import (
    MAX_HORIZON_DAYS,
    Requirements,
    StudyCalendar,
    add_months,
    build_requirements,
    finish_window,
    months_between,
    optional_to_drop,
    review_reserve,
    study_calendar,
)
from planner.reviews import place_reviews

HOURS_RESOLUTION = 0.5  # minimum weekly hours are reported in half hours: the plan's 30-minute block
DROP_MARGINS = (0, 8, 24, 64)  # extra blocks freed when dropping optional topics, tried in turn
QUICK_STEPS = 4  # finishes tried (and minimum-hours steps checked) before the checks at the extremes
CONFIRM_STEPS = 12  # half-hour steps above the capacity bound tried for a minimum that obeys the focus rules


@dataclass(frozen=True)
class DropOption:
    topics: tuple[tuple[str, str, float], ...]  # (id, title, hours)
    freed_hours: float
    finish: dt.date | None  # earliest finish at the learner's hours once these are dropped
    fits: bool


@dataclass(frozen=True)
class Infeasible:
    """Not an error: the answer that the plan cannot fit, with what would make it fit."""

    background: str
    needed_hours: float
    hours_per_week: float
    months_min: int
    months_max: int
    latest_finish: dt.date
    min_hours_per_week: float | None  # None: no weekly hours up to the maximum fit with these study days
    earliest_finish: dt.date | None  # at the learner's hours; None: never within the horizon
    start: dt.date
    drop: DropOption | None
    optional_topics: tuple[tuple[str, str, float], ...]
    free_time: FreeTime | None = None  # with windows or busy calendars: the free hours a week in the windows
    needed_hours_per_week: float | None = None  # what the path needs a week were every hour of the days free
    # When the learner's few hours fill only some of the days (0.5 h/week is one block on one day) and no figure
    # fits on those: the least weekly hours spread over every day of the week (but a rest day), and those days.
    min_hours_every_day: float | None = None
    study_days: tuple[int, ...] = ()
    # With windows or busy calendars: the most free time a day holds when that is too short for the 45-minute
    # rule on a day whose window is long enough for it (1 h free of a 4 h window): then no topic of an odd number
    # of half hours can end, whatever the weekly hours. None otherwise.
    short_free_day_hours: float | None = None
    review_count: int = 0  # the reviews needed_hours counts at full length (the dashboard shows topics apart)

    @property
    def earliest_finish_months(self) -> float | None:
        return months_between(self.start, self.earliest_finish) if self.earliest_finish else None

    def message(self) -> str:
        lines = [f"Does not fit: {self.needed_hours:g} h of study at {self.hours_per_week:g} h/week cannot finish "
                 f"within {self.months_max} months (by {self.latest_finish}), the range for "
                 f"{self.background.replace('_', ' ')} ({self.months_min}-{self.months_max} months)."]
        if self.free_time is not None:
            lines.append(self._free_time_line())
        if self.min_hours_per_week is not None:
            lines.append(f"- Study at least {self.min_hours_per_week:g} h/week to finish in time.")
        elif self.min_hours_every_day is not None:
            days = ", ".join(WEEKDAYS[d] for d in self.study_days)
            one = len(self.study_days) == 1
            lines.append(f"- At {self.hours_per_week:g} h/week only {days} get{'s' if one else ''} study time, and "
                         f"no weekly hours fit on {'that day' if one else 'those days'} alone: study at least "
                         f"{self.min_hours_every_day:g} h/week spread over every day of the week to finish in time.")
        elif self.free_time is None:  # with windows, the free-time line says what to widen
            lines.append(f"- No weekly hours up to {MAX_HOURS_PER_WEEK:g} fit on these study days: add study days "
                         f"or remove blackouts.")
        if self.earliest_finish is not None:
            lines.append(f"- At {self.hours_per_week:g} h/week the earliest finish is {self.earliest_finish} "
                         f"({self.earliest_finish_months:.1f} months).")
        else:
            lines.append(f"- At {self.hours_per_week:g} h/week the plan would not finish within "
                         f"{MAX_HORIZON_DAYS // 365} years.")
        if self.drop is not None and self.drop.topics:
            names = ", ".join(f"{title} ({hours:g} h)" for _, title, hours in self.drop.topics)
            if self.drop.fits:
                lines.append(f"- Or drop optional topics to free {self.drop.freed_hours:g} h: {names}; "
                             f"finish {self.drop.finish}.")
            else:
                lines.append(f"- Dropping every optional topic frees {self.drop.freed_hours:g} h ({names}) "
                             f"but is not enough on its own.")
        return "\n".join(lines)

    def _free_time_line(self) -> str:
        assert self.free_time is not None
        ft = self.free_time
        needs = self.min_hours_per_week or self.needed_hours_per_week
        line = (f"- Your calendar leaves {ft.free_hours_per_week:g} h a week free in your windows (they hold "
                f"{ft.window_hours_per_week:g} h; busy events, blackouts and holidays taken out)")
        if self.short_free_day_hours is not None:
            return line + (f", no day more than {self.short_free_day_hours:g} h: too short for the 45-minute rule to "
                           f"reach the end of a topic of an odd number of half hours at any weekly hours — widen a "
                           f"window or free an evening in your calendar (1.5 h or more on some days).")
        if needs is None:
            return line + ("; even with every hour of these days free no weekly hours fit in time: add study days"
                           + (" or drop optional topics." if self.drop is not None and self.drop.fits else "."))
        if self.min_hours_per_week is not None:
            return line + f"; the path needs {needs:g} h/week of them."
        return line + (f"; the path needs {needs:g} h/week — widen a window, add a study day, or free time in "
                       f"your calendar.")


def _calendar(profile: Profile, req: Requirements) -> StudyCalendar:
    days = (add_months(profile.start, req.months_max) - profile.start).days
    base = study_calendar(profile, days)
    reserve = review_reserve(profile, req)
    if reserve == 0:
        return base
    # The reserve has to match the plan it makes room in: a shorter plan packs the same reviews into fewer
    # weeks. Take the smallest reserve that covers the reviews over the length of the plan it leads to.
    blocks = req.review_count * max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    window = finish_window(req, base)
    cal = replace(base, weekly_cap=max(0, base.weekly_cap - reserve))
    while reserve < profile.review_cap_blocks:
        first = cal.earliest_finish(req.total_blocks)
        if first is None:
            break
        weeks = max(1, (max(first, window.earliest or 0) + 1) // 7)
        if reserve * weeks >= blocks:
            break
        reserve += 1
        cal = replace(base, weekly_cap=max(0, base.weekly_cap - reserve))
    return cal


def make_plan(curriculum: Curriculum, profile: Profile, *, drop: tuple[str, ...] = ()) -> Plan | Infeasible:
    """Plan the whole path for this learner; deterministic for the same inputs."""
    req = build_requirements(curriculum, profile, drop=drop)
    cal = _calendar(profile, req)
    window = finish_window(req, cal)
    total = req.total_blocks
    first_possible = cal.earliest_finish(total)
    if first_possible is None or first_possible > window.latest:
        return explain_infeasible(curriculum, profile, req)
    fitted = focused_day_loads(cal, req, first_possible, window.latest, window.earliest)
    if fitted is None:  # the focus rules need more room than the range leaves at these hours
        return explain_infeasible(curriculum, profile, req)
    solution, shape, finish = fitted
    loads = shape.loads
    study = sessions_from_day_loads(loads, profile.start, req, profile)
    reviews = place_reviews(study, req, profile)
    sessions = sorted([*study, *reviews.sessions], key=lambda s: (s.start, s.uid))
    earliest, latest = window.dates(cal)
    blackout_days = [cal.day(i) for i, c in enumerate(cal.day_caps)  # busy days are not blackouts
                     if c == 0 and profile.day_blocks(cal.day(i).weekday()) > 0 and profile.is_blackout(cal.day(i))]
    return Plan(
        path_id=curriculum.id, path_title=curriculum.title, profile=profile, requirements=req,
        sessions=tuple(sessions),
        solver=SolverInfo(solution.status, round(solution.solve_seconds, 4), solution.objective, solution.bound,
                          round(solution.build_seconds, 4), solution.peak_percent, round(shape.seconds, 4),
                          shape.changed_days, max(0, finish - max(first_possible, window.earliest or 0))),
        phases=tuple(PhaseInfo(p.number, p.title, p.objective, p.weeks) for p in curriculum.phases),
        checklist=checklist_milestones(curriculum.checklist, sessions, req, profile.start),
        earliest_allowed_finish=earliest, latest_allowed_finish=latest,
        blackout_ranges=_ranges(blackout_days), reviews_skipped=reviews.skipped,
        paced_to=cal.day(first_possible) if (window.earliest or 0) > first_possible else None,
    )


# Days past the earliest possible finish tried, in turn, when the focus rules do not fit: a plan with almost no
# slack pins the running total at some week's end onto a value one block from a topic boundary.
FOCUS_EXTRA_DAYS = (0, 1, 2, 3, 5, 7, 10, 14, 21, 28, 42, 56, 84)


def topic_stream(req: Requirements) -> Stream:
    return Stream(tuple(t.blocks for t in req.topics))


def focused_day_loads(cal: StudyCalendar, req: Requirements, first_possible: int, latest: int,
                      not_before: int | None) -> tuple[DayLoadSolution, FocusShape, int] | None:
    """The pace model's day loads, shaped so every day obeys the focus rules, finishing as early as the rules
    allow (never before `not_before`, never after `latest`); None when no finish up to `latest` works.

    The finish comes from arithmetic first: the earliest day the rules allow (`focus.earliest_obeying`), so
    no solve is spent on days before it, and None costs no solve at all. The focus pass finds loads there
    whenever any exist, so one solve is the rule; the later finishes below stay as a guard for the solver's
    own limits."""
    stream = topic_stream(req)
    obeying = _obeying_finish(cal, req, first_possible, latest, not_before)
    last = cal.last_study_day_on_or_before(latest)
    if obeying is None or last is None:
        return None
    start = obeying
    tried: set[int] = set()
    quick = _focused_from(cal, req, stream, start, last, not_before, tried, FOCUS_EXTRA_DAYS[:QUICK_STEPS])
    if quick is not None:
        return quick
    at_latest = _focused_at(cal, req, stream, last, not_before) if last not in tried else None
    if at_latest is None:
        return None
    tried.add(last)
    fitted = _focused_from(cal, req, stream, start, last, not_before, tried, FOCUS_EXTRA_DAYS)
    if fitted is None:
        # The rules hold the plan back by more than days (many topics shorter than a day, two a day at most):
        # start from the finish of the fastest schedule that obeys them.
        fastest = fastest_obeying(cal, last + 1, stream)
        if fastest is not None:
            fitted = _focused_from(cal, req, stream, max(last_study_day(fastest), start), last, not_before, tried,
                                   FOCUS_EXTRA_DAYS)
    return fitted or at_latest


def _obeying_finish(cal: StudyCalendar, req: Requirements, first_possible: int, latest: int,
                    not_before: int | None) -> int | None:
    """The earliest finish, no earlier than `first_possible` and `not_before` and no later than `latest`, that
    the focus rules and every limit allow; None when there is none. Arithmetic only (a shortest path over
    running totals), so the minimum-hours search can ask it at every step."""
    start = max(first_possible, not_before or 0)
    last = cal.last_study_day_on_or_before(latest)
    if last is None or start > last:
        return None
    # A day touches at most two topics, so there must be at least half as many study days as topics.
    if 2 * sum(1 for c in cal.day_caps[: last + 1] if c > 0) < len(req.topics):
        return None
    stream = topic_stream(req)
    # Nearer horizons first: the band of running totals the search keeps is the capacity to spare by the
    # horizon, so two weeks cost a fraction of two years; the rules rarely take more than days.
    for extra in (14, FOCUS_EXTRA_DAYS[-1], None):
        near = last if extra is None else min(last, _study_day_from(cal, start + extra))
        obeying = earliest_obeying(cal, stream, near + 1, not_before)
        if obeying is not None:
            return max(obeying, start)
        if near == last:
            break
    return None


def rules_finish(cal: StudyCalendar, req: Requirements, latest: int) -> int | None:
    """The earliest finish by `latest` that capacity, every limit and the focus rules allow, or None: the exact
    arithmetic the planner trusts before it spends a solve (re-planning asks it before each catch-up solve)."""
    first = cal.earliest_finish(req.total_blocks)
    if first is None or first > latest:
        return None
    return _obeying_finish(cal, req, first, latest, None)


def _study_day_from(cal: StudyCalendar, day: int) -> int:
    while day < len(cal.day_caps) - 1 and cal.day_caps[day] == 0:
        day += 1
    return day


def _focused_from(cal: StudyCalendar, req: Requirements, stream: Stream, start: int, latest: int,
                  not_before: int | None, tried: set[int],
                  extras: tuple[int, ...]) -> tuple[DayLoadSolution, FocusShape, int] | None:
    for extra in extras:
        finish = _study_day_from(cal, start + extra)
        if finish > latest or finish in tried:
            continue
        tried.add(finish)
        fitted = _focused_at(cal, req, stream, finish, not_before)
        if fitted is not None:
            return fitted
    return None


def _focused_at(cal: StudyCalendar, req: Requirements, stream: Stream, finish: int,
                not_before: int | None) -> tuple[DayLoadSolution, FocusShape, int] | None:
    """One finish day: the pace model, then the focus pass."""
    total = req.total_blocks
    problem = DayLoadProblem(cal, total, finish, not_before, peak_percent_bound(cal, total, finish))
    solution = solve_day_loads(problem)
    if solution is None and problem.min_percent < 100:  # full days leave the solver the most room
        solution = solve_day_loads(replace(problem, min_percent=100))
    if solution is None:  # the bounds are exact, so this means the solver hit its time limit
        raise PlanningTimeout(f"{len(req.topics)} topics ({req.total_hours:g} h) over {finish + 1} days",
                              SOLVER_TIME_LIMIT_S)
    upper = [c * solution.peak_percent // 100 for c in cal.day_caps[: len(solution.blocks)]]
    shape = shape_for_focus(cal, solution.blocks, upper, stream, not_before=not_before)
    return (solution, shape, finish) if shape is not None else None


def _ranges(days: list[dt.date]) -> tuple[tuple[dt.date, dt.date], ...]:
    out: list[tuple[dt.date, dt.date]] = []
    for d in sorted(days):
        if out and (d - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return tuple(out)


def _fits(profile: Profile, req: Requirements) -> bool:
    cal = _calendar(profile, req)
    first = cal.earliest_finish(req.total_blocks)
    return first is not None and first <= finish_window(req, cal).latest


def minimum_hours_per_week(profile: Profile, req: Requirements, above: float | None = None) -> float | None:
    """Smallest weekly hours (in half hours) at which the plan fits, focus rules included, without a solve.

    Capacity grows with weekly hours, so a binary search over half-hour steps finds the capacity threshold;
    the rules' exact arithmetic then steps up from there to the first figure make_plan plans at.
    """
    steps = int(MAX_HOURS_PER_WEEK / HOURS_RESOLUTION)
    lo, hi = int(MIN_HOURS_PER_WEEK / HOURS_RESOLUTION), steps
    if not _fits(profile.with_hours_per_week(hi * HOURS_RESOLUTION), req):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits(profile.with_hours_per_week(mid * HOURS_RESOLUTION), req):
            hi = mid
        else:
            lo = mid + 1
    # Step up where the focus rules (or rounding in the day split) need more than the capacity arithmetic says;
    # a few steps always do, so the search stops there. Each step asks the rules' own arithmetic, which is
    # exact: the plan at the figure found is made with the same answer (make_plan's focus pass finds loads
    # whenever it says some exist), so no solve is needed to confirm it.
    # Above the learner's own hours only: the 45-minute rule starts at 1.5-h days, so fewer hours can fit
    # where more do not, and "study at least" must mean more than now.
    if above is not None:
        lo = max(lo, int(above / HOURS_RESOLUTION) + 1)
    for step in range(lo, min(lo + CONFIRM_STEPS, steps) + 1):
        candidate = profile.with_hours_per_week(step * HOURS_RESOLUTION)
        if _rules_fit(candidate, req):
            return step * HOURS_RESOLUTION
        if step == lo + QUICK_STEPS and not _rules_fit(profile.with_hours_per_week(steps * HOURS_RESOLUTION), req):
            return None  # not even the most hours obey the rules in time: no figure to step up to
    return None


def _rules_fit(profile: Profile, req: Requirements) -> bool:
    """Whether make_plan finds a plan for this profile: capacity, range and focus rules, without a solve."""
    cal = _calendar(profile, req)
    window = finish_window(req, cal)
    first = cal.earliest_finish(req.total_blocks)
    if first is None or first > window.latest:
        return False
    return _obeying_finish(cal, req, first, window.latest, window.earliest) is not None


def _earliest_focused_finish(cal: StudyCalendar, req: Requirements, latest_index: int) -> int | None:
    """The earliest finish that obeys the focus rules, by their exact arithmetic (no solve), where it decides
    whether the plan fits (the capacity bound lands within a few weeks of the range's end); further out the
    capacity bound itself, which the rules move by days, not weeks (docs/learning.md)."""
    first = cal.earliest_finish(req.total_blocks)
    if first is None or first > latest_index + FOCUS_EXTRA_DAYS[-1]:
        return first
    obeying = _obeying_finish(cal, req, first, min(len(cal.day_caps) - 1, first + FOCUS_EXTRA_DAYS[-1]), None)
    if obeying is not None:
        return obeying
    # The rules hold the plan back by more than days (many topics shorter than a day, two a day at most): the
    # fastest schedule that obeys them says when.
    fastest = fastest_obeying(cal, len(cal.day_caps), topic_stream(req))
    if fastest is None:
        return None
    return max(last_study_day(fastest, default=first), latest_index + 1)


def explain_infeasible(curriculum: Curriculum, profile: Profile, req: Requirements) -> Infeasible:
    latest = add_months(profile.start, req.months_max) - dt.timedelta(days=1)
    long_cal = study_calendar(profile, MAX_HORIZON_DAYS, reserve=review_reserve(profile, req))
    first = _earliest_focused_finish(long_cal, req, latest_index=(latest - profile.start).days)
    optional = tuple((t.id, t.title, t.hours) for t in req.topics if t.optional)
    cal = _calendar(profile, req)
    capacity = cal.cumulative()[-1] if cal.day_caps else 0
    deficit = req.total_blocks - capacity
    drop = None
    # Capacity says how many blocks to free; the focus rules may want a few more, so a little more is freed
    # until the plan without those topics really finishes in time.
    for margin in DROP_MARGINS:
        picked, freed = optional_to_drop(req, deficit + margin)
        chosen = [(t.id, t.title, t.hours) for t in picked]
        if not chosen:  # capacity is enough, the focus rules are not: free a little more at the next margin
            continue
        fits, finish = freed >= deficit + margin, None
        if fits:
            kept = replace(req, topics=tuple(t for t in req.topics if t not in picked))
            idx = _earliest_focused_finish(long_cal, kept, latest_index=(latest - profile.start).days)
            finish = long_cal.day(idx) if idx is not None else None
            fits = finish is not None and finish <= latest
        drop = DropOption(tuple(chosen), freed * BLOCK_MINUTES / 60, finish, fits)
        if fits or freed < deficit + margin:
            break
    free, needed = None, None
    if profile.uses_availability:
        free = free_time(profile, profile.start, latest)
        needed = minimum_hours_per_week(replace(profile, windows=None, busy_sources=(), busy=None), req)
    least = minimum_hours_per_week(profile, req, above=profile.hours_per_week)
    short = None
    if profile.uses_availability and cal.day_caps:
        most_free = max(cal.day_caps)
        if least is None and most_free < FOCUS_DAY_BLOCKS <= max(cal.window_caps or cal.day_caps):
            short = most_free * BLOCK_MINUTES / 60
    every_day, study_days = None, tuple(d for d, h in enumerate(profile.weekday_hours) if h > 0)
    all_days = [d for d in range(7) if d != profile.rest_day]
    if least is None and not profile.explicit_day_hours and not profile.uses_availability \
            and len(study_days) < len(all_days):
        # The learner's days are not known here, only those the few hours fell on: try every day of the week.
        spread = replace(profile, weekday_hours=tuple(1.0 if d in all_days else 0.0 for d in range(7)))
        every_day = minimum_hours_per_week(spread, req, above=profile.hours_per_week)
    return Infeasible(
        free_time=free, needed_hours_per_week=needed, min_hours_every_day=every_day, study_days=study_days,
        short_free_day_hours=short, review_count=req.review_count,
        background=req.background, needed_hours=req.total_hours + req.review_count * REVIEW_MINUTES / 60,
        hours_per_week=profile.hours_per_week,
        months_min=req.months_min, months_max=req.months_max, latest_finish=latest,
        min_hours_per_week=least,
        earliest_finish=long_cal.day(first) if first is not None else None, start=profile.start, drop=drop,
        optional_topics=optional,
    )


def recommended_band(curriculum: Curriculum, profile: Profile) -> tuple[float | None, float | None]:
    """Weekly hours that finish this learner's plan at the range's end (the least that works) and at its start
    (more than that only paces the plan): the band to suggest, reviews, projects and buffer included."""
    from dataclasses import replace

    req = build_requirements(curriculum, profile)
    low = minimum_hours_per_week(profile, req)
    high = minimum_hours_per_week(profile, replace(req, months_max=req.months_min))
    return low, high
