"""When the learner will really finish, with the odds: a seeded Monte Carlo over their measured pace.

Each draw takes a pace from the posterior (planner.pace), gives every open topic its hours left at that pace with
the topic's own noise, and walks the sum through the learner's calendar from today: their real weekly hours, the
catch-up buffer kept free, blackouts and holidays, windows and busy times, the weekly room held for reviews
(planner.requirements.study_calendar, the arithmetic the planner itself uses). The quantiles of the draws are the
forecast. Same plan and day, same figures. See docs/pace-and-forecast.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from planner.pace import (
    EPS,
    KINDS,
    SAMPLES,
    SEED,
    Pace,
    WeeklyHours,
    estimate_blocks,
    finished_topics,
    measure_weekly_hours,
    pace_of,
    posterior,
)
from planner.plan import Plan
from planner.profile import BLOCK_MINUTES, Profile
from planner.requirements import MAX_HORIZON_DAYS, add_months, review_reserve, study_calendar

CALENDAR_DAYS = MAX_HORIZON_DAYS + 366 * 5  # from the plan's start: a re-plan may come up to years later
FINISH_QUANTILES = (0.10, 0.50, 0.80, 0.90)
HOURS_QUANTILES = (0.10, 0.50, 0.90)
MAX_HOURS = 1e9  # more than any calendar holds; keeps far tails finite when counted in blocks


@dataclass(frozen=True)
class Forecast:
    as_of: dt.date
    pace: Pace
    weekly_hours: WeeklyHours
    remaining_hours: tuple[float, float, float]  # p10, p50, p90 of topic hours left at the learner's pace
    remaining_plan_hours: float  # the same at the plan's hours
    finish: tuple[dt.date | None, ...]  # p10, p50, p80, p90 (None: not within 15 years at these hours)
    planned_finish: dt.date
    latest_allowed: dt.date
    on_time_probability: float

    def to_dict(self) -> dict[str, Any]:
        def day(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        p = self.pace
        return {
            "as_of": self.as_of.isoformat(),
            "pace": {"multiplier": round(p.multiplier, 3), "low": round(p.low, 3), "high": round(p.high, 3),
                     "topics_measured": p.topics_measured,
                     "by_kind": p.to_dict()["by_kind"], "prior": p.to_dict()["prior"]},
            "weekly_hours": self.weekly_hours.to_dict(),
            "remaining_hours": dict(zip(("p10", "p50", "p90"), self.remaining_hours, strict=True)),
            "remaining_plan_hours": self.remaining_plan_hours,
            "finish": dict(zip(("p10", "p50", "p80", "p90"), map(day, self.finish), strict=True)),
            "planned_finish": self.planned_finish.isoformat(),
            "latest_allowed_finish": self.latest_allowed.isoformat(),
            "on_time_probability": self.on_time_probability,
        }

    def text(self) -> str:
        def day(d: dt.date | None) -> str:
            return d.isoformat() if d else "more than 15 years ahead"

        lo, mid, hi = self.remaining_hours
        f10, f50, f80, f90 = self.finish
        w = self.weekly_hours
        weekly = (f"{w.measured:g} h/week (measured over {w.weeks_measured} week{'s' if w.weeks_measured != 1 else ''}"
                  f", {w.planned:g} planned)" if w.weeks_measured else f"{w.planned:g} h/week (as planned)")
        return "\n".join([
            f"Forecast as of {self.as_of}",
            f"Pace: {self.pace.text()}",
            f"Hours left: {mid:g} h likely, {lo:g}-{hi:g} h (80 % sure); the plan has {self.remaining_plan_hours:g} h "
            f"(reviews not counted)",
            f"Study time: {weekly}",
            f"Finish: {day(f50)} likely; 80 % sure between {day(f10)} and {day(f90)}; 4 in 5 by {day(f80)}",
            f"Planned finish {self.planned_finish}; the range ends {self.latest_allowed}: "
            f"{round(100 * self.on_time_probability)} % chance to finish inside it",
        ])


def as_of(plan: Plan) -> dt.date:
    """The plan's own 'today' for the forecast in its summary: the day after the last topic session the learner
    marked, or its last re-plan, or its start, whichever is latest (a plan file holds no clock; reviews are left
    out: marking a topic done marks its later reviews too)."""
    days = [plan.profile.start, *([plan.replanned_on] if plan.replanned_on else [])]
    days += [s.day + dt.timedelta(days=1) for s in plan.sessions if s.status in ("done", "missed")
             and s.kind != "review"]
    return max(days)


@lru_cache(maxsize=32)
def _capacity(profile: Profile, reserve: int) -> tuple[int, ...]:
    """Most blocks studied by the end of each day from the profile's start (cumulative), cached: a forecast, the
    calibration run and the dashboard ask for the same learner's calendar again and again."""
    cal = study_calendar(profile, CALENDAR_DAYS, reserve=reserve)
    return tuple(cal.cumulative())


def _weekly_profile(plan: Plan, weekly: WeeklyHours) -> Profile:
    p = plan.profile
    if abs(weekly.measured - p.hours_per_week) < EPS:
        return p
    return p.with_hours_per_week(weekly.measured)


def forecast(plan: Plan, today: dt.date | None = None, *, samples: int = SAMPLES, seed: int = SEED) -> Forecast:
    """The forecast as of `today` (default: as_of(plan)). Deterministic: seeded draws."""
    import numpy as np

    today = today or as_of(plan)
    req = plan.requirements
    rng = np.random.default_rng(seed)
    post = posterior(finished_topics(plan), req.background, samples=samples, rng=rng)
    credited: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.kind != "review" and s.status != "cancelled":
            credited[s.topic] += s.credited_hours
    # Each open topic: the part of its estimate still ahead, scaled by a drawn pace and the topic's noise; time the
    # learner asked for (`--more-hours`) is their own figure and is added as it is.
    fixed = plan_left = 0.0
    scaled: dict[str, list[float]] = {k: [] for k in KINDS}  # estimate hours left per open topic, by kind
    progress = {tp.topic: tp for tp in plan.topic_progress}
    for t in req.topics:
        if t.dropped:
            continue
        left = max(0.0, t.hours - credited.get(t.id, 0.0))
        if left <= EPS:
            continue
        plan_left += left
        tp = progress.get(t.id)
        more = (tp.more_blocks if tp else 0) * BLOCK_MINUTES / 60
        base_hours = t.hours - more
        base_left = max(0.0, left - more)
        if t.kind not in KINDS or base_hours <= EPS:
            fixed += left
            continue
        fixed += left - base_left
        scaled[t.kind].append(base_left / base_hours * estimate_blocks(plan, t.id, tp) * BLOCK_MINUTES / 60)
    total = np.full(samples, fixed)
    for kind in KINDS:
        if scaled[kind]:
            est = np.asarray(scaled[kind])
            noise = post.sigma[:, None] * rng.standard_normal((samples, len(est)))
            total += (est[None, :] * np.exp(post.log_multiplier(kind)[:, None] + noise)).sum(axis=1)
    weekly = measure_weekly_hours(plan, today)
    finish, on_time = _finish(plan, today, total, weekly)
    hours = np.quantile(total, HOURS_QUANTILES)
    latest = add_months(plan.profile.start, req.months_max) - dt.timedelta(days=1)
    return Forecast(today, pace_of(post), weekly, tuple(round(float(h), 1) for h in hours),  # type: ignore[arg-type]
                    round(plan_left, 2), finish, plan.finish, latest, on_time)


def finish_days(plan: Plan, today: dt.date, hours: Any, weekly: WeeklyHours | None = None) -> Any:
    """Days from today to the finish of each amount of topic hours (inf: not within the calendar), through the
    capacity arithmetic the planner uses, at the learner's measured weekly hours."""
    import numpy as np

    p = plan.profile
    weekly = weekly or measure_weekly_hours(plan, today)
    profile = _weekly_profile(plan, weekly)
    cum = np.asarray(_capacity(profile, review_reserve(profile, plan.requirements)), dtype=np.int64)
    first = max(0, (today - p.start).days)
    lead = max(0, (p.start - today).days)  # a forecast before the start: study begins on the start
    before = int(cum[first - 1]) if 0 < first <= len(cum) else (int(cum[-1]) if first else 0)
    ahead = cum[first:] - before  # blocks doable from today's start on, by the end of each day
    # A draw beyond any calendar (a far tail of the noise) is clipped before the cast: it finishes never, not today.
    clipped = np.nan_to_num(np.asarray(hours, dtype=np.float64), nan=MAX_HOURS, posinf=MAX_HOURS)
    need = np.ceil(np.minimum(clipped, MAX_HOURS) * 60 / BLOCK_MINUTES - 1e-9).astype(np.int64)
    index = np.searchsorted(ahead, need, side="left")  # the first day whose end holds them
    days = index.astype(np.float64) + lead
    days[index >= len(ahead)] = math.inf
    if plan.paced and plan.earliest_allowed_finish is not None:  # the plan slows itself to the range's minimum
        days = np.maximum(days, (plan.earliest_allowed_finish - today).days)
    return days


def _finish(plan: Plan, today: dt.date, hours: Any, weekly: WeeklyHours) -> tuple[tuple[dt.date | None, ...], float]:
    """Finish-date quantiles of the draws through the calendar, and the share of draws inside the range."""
    import numpy as np

    p = plan.profile
    latest = add_months(p.start, plan.requirements.months_max) - dt.timedelta(days=1)
    if float(np.max(hours, initial=0.0)) <= EPS:  # nothing left: finished on the last day studied
        last = max((s.day for s in plan.sessions if s.status == "done" and s.kind != "review"), default=p.start)
        return (last,) * len(FINISH_QUANTILES), 1.0 if last <= latest else 0.0
    days = finish_days(plan, today, hours, weekly)
    on_time = float(np.mean(days <= (latest - today).days))
    out: list[dt.date | None] = []
    for q in np.quantile(days, FINISH_QUANTILES, method="inverted_cdf"):
        out.append(None if not math.isfinite(q) else today + dt.timedelta(days=int(q)))
    return tuple(out), round(on_time, 3)
