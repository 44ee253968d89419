"""From curriculum and profile to a Plan, or to an Infeasible answer with the numbers that would make it fit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from planner.curriculum import Curriculum
from planner.errors import PlanningTimeout
from planner.focus import repair_short_pieces
from planner.model import SOLVER_TIME_LIMIT_S, DayLoadProblem, peak_percent_bound, solve_day_loads
from planner.plan import PhaseInfo, Plan, SolverInfo, checklist_milestones, sessions_from_day_loads
from planner.profile import BLOCK_MINUTES, MAX_HOURS_PER_WEEK, MIN_HOURS_PER_WEEK, REVIEW_MINUTES, Profile
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

    @property
    def earliest_finish_months(self) -> float | None:
        return months_between(self.start, self.earliest_finish) if self.earliest_finish else None

    def message(self) -> str:
        lines = [f"Does not fit: {self.needed_hours:g} h of study at {self.hours_per_week:g} h/week cannot finish "
                 f"within {self.months_max} months (by {self.latest_finish}), the range for "
                 f"{self.background.replace('_', ' ')} ({self.months_min}-{self.months_max} months)."]
        if self.min_hours_per_week is not None:
            lines.append(f"- Study at least {self.min_hours_per_week:g} h/week to finish in time.")
        else:
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
    finish = max(first_possible, window.earliest or 0)
    problem = DayLoadProblem(cal, total, finish, window.earliest, peak_percent_bound(cal, total, finish))
    solution = solve_day_loads(problem)
    if solution is None and problem.min_percent < 100:  # full days leave the solver the most room
        solution = solve_day_loads(replace(problem, min_percent=100))
    if solution is None:  # the bounds above are exact, so this means the solver hit its time limit
        raise PlanningTimeout(f"{len(req.topics)} topics ({req.total_hours:g} h) over {finish + 1} days",
                              SOLVER_TIME_LIMIT_S)
    upper = [c * solution.peak_percent // 100 for c in cal.day_caps[: len(solution.blocks)]]
    boundaries, running = [], 0
    for t in req.topics[:-1]:
        running += t.blocks
        boundaries.append(running)
    # First within the solved peak; then, for what is left, within the learner's own day limits.
    loads = repair_short_pieces(solution.blocks, upper, cal, boundaries)
    loads = repair_short_pieces(loads, list(cal.day_caps[: len(loads)]), cal, boundaries)
    study = sessions_from_day_loads(loads, profile.start, req, profile)
    reviews = place_reviews(study, req, profile)
    sessions = sorted([*study, *reviews.sessions], key=lambda s: (s.start, s.uid))
    earliest, latest = window.dates(cal)
    blackout_days = [cal.day(i) for i, c in enumerate(cal.day_caps)
                     if c == 0 and profile.day_blocks(cal.day(i).weekday()) > 0]
    return Plan(
        path_id=curriculum.id, path_title=curriculum.title, profile=profile, requirements=req,
        sessions=tuple(sessions),
        solver=SolverInfo(solution.status, round(solution.solve_seconds, 4), solution.objective, solution.bound,
                          round(solution.build_seconds, 4), solution.peak_percent),
        phases=tuple(PhaseInfo(p.number, p.title, p.objective, p.weeks) for p in curriculum.phases),
        checklist=checklist_milestones(curriculum.checklist, sessions, req, profile.start),
        earliest_allowed_finish=earliest, latest_allowed_finish=latest,
        blackout_ranges=_ranges(blackout_days), reviews_skipped=reviews.skipped,
        paced_to=cal.day(first_possible) if finish > first_possible else None,
    )


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


def minimum_hours_per_week(profile: Profile, req: Requirements) -> float | None:
    """Smallest weekly hours (in half hours) at which the plan fits, confirmed by a solve at that figure.

    Capacity grows with weekly hours, so a binary search over half-hour steps finds the threshold; the
    answer is feasible there and infeasible one step below.
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
    # Confirm with the solver, stepping up if rounding in the day split ever disagrees with the arithmetic.
    for step in range(lo, steps + 1):
        candidate = profile.with_hours_per_week(step * HOURS_RESOLUTION)
        if _solve_ok(candidate, req):
            return step * HOURS_RESOLUTION
    return None


def _solve_ok(profile: Profile, req: Requirements) -> bool:
    cal = _calendar(profile, req)
    window = finish_window(req, cal)
    first = cal.earliest_finish(req.total_blocks)
    if first is None or first > window.latest:
        return False
    finish = max(first, window.earliest or 0)
    problem = DayLoadProblem(cal, req.total_blocks, finish, window.earliest,
                             peak_percent_bound(cal, req.total_blocks, finish))
    return solve_day_loads(problem) is not None


def explain_infeasible(curriculum: Curriculum, profile: Profile, req: Requirements) -> Infeasible:
    latest = add_months(profile.start, req.months_max) - dt.timedelta(days=1)
    long_cal = study_calendar(profile, MAX_HORIZON_DAYS, reserve=review_reserve(profile, req))
    first = long_cal.earliest_finish(req.total_blocks)
    optional = tuple((t.id, t.title, t.hours) for t in req.topics if t.optional)
    cal = _calendar(profile, req)
    capacity = cal.cumulative()[-1] if cal.day_caps else 0
    deficit = req.total_blocks - capacity
    picked, freed = optional_to_drop(req, deficit)
    chosen = [(t.id, t.title, t.hours) for t in picked]
    drop = None
    if chosen:
        fits = freed >= deficit
        finish = None
        if fits:
            idx = long_cal.earliest_finish(req.total_blocks - freed)
            finish = long_cal.day(idx) if idx is not None else None
        drop = DropOption(tuple(chosen), freed * BLOCK_MINUTES / 60, finish, fits)
    return Infeasible(
        background=req.background, needed_hours=req.total_hours + req.review_count * REVIEW_MINUTES / 60,
        hours_per_week=profile.hours_per_week,
        months_min=req.months_min, months_max=req.months_max, latest_finish=latest,
        min_hours_per_week=minimum_hours_per_week(profile, req),
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
