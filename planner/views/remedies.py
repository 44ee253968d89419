"""What the "does not fit" panel offers: each remedy a whole new set of profile fields, offered only when a plan
made from those fields actually fits (the caller passes the check, so this module stays free of the solver)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.curriculum import Curriculum
from planner.profile import WEEKDAYS
from planner.solve import Infeasible
from planner.views.form import scaled_day_hours

MAX_EXTRA_HOURS = 4.0  # above the engine's minimum, in 0.5 h steps, when the learner's own pattern needs more


@dataclass(frozen=True)
class Remedy:
    key: str  # "hours", "skip", "electives", "busy", "days" or "later"
    label: str  # the button
    detail: str  # one sentence under it
    raw: dict[str, Any]  # the profile fields to plan with when pressed


def with_skipped(raw: Mapping[str, Any], ids: Iterable[str], curriculum: Curriculum) -> dict[str, Any]:
    """Profile fields with these optional topics left out: a specialization whose every topic goes is removed
    from the specializations (its topics are not in the skip list's choices), the rest join "Topics I know"."""
    out = dict(raw)
    ids = set(ids)
    electives = list(out.get("electives") or [])
    for e in list(electives):
        topics = {t.id for t in curriculum.topics if t.elective == e}
        if topics and topics <= ids:
            electives.remove(e)
            ids -= topics
    skip = list(dict.fromkeys([*(out.get("skip") or []), *sorted(ids)]))
    out["electives"], out["skip"] = electives, skip
    return {k: v for k, v in out.items() if v not in ([], None)}


def remedies(result: Infeasible, raw: Mapping[str, Any], curriculum: Curriculum,
             fits: Callable[[dict[str, Any]], bool]) -> list[Remedy]:
    """Every remedy that leads to a plan: more hours (the learner's day-hours pattern scaled), skipping optional
    topics (specialization topics included), leaving out the specializations, studying on every weekday."""
    out: list[Remedy] = []
    hours = float(raw.get("hours_per_week") or 0)
    if result.min_hours_per_week is not None:
        target = float(result.min_hours_per_week)
        while target <= result.min_hours_per_week + MAX_EXTRA_HOURS:
            new = {**raw, "hours_per_week": target}
            if raw.get("day_hours"):
                new["day_hours"] = scaled_day_hours(str(raw["day_hours"]), hours, target)
            if fits(new):
                kept = " (your hours per weekday scaled alike)" if raw.get("day_hours") else ""
                out.append(Remedy("hours", f"Use {target:g} h/week", f"The least weekly time that finishes inside "
                                                                     f"the range{kept}.", new))
                break
            target += 0.5
    elif result.min_hours_every_day is not None and not raw.get("day_hours") and not raw.get("windows"):
        # A few hours a week fill only some days: the figure is for every day of the week, so the days go with it.
        rest = raw.get("rest_day")
        new = {**raw, "hours_per_week": result.min_hours_every_day, "days": [d for d in WEEKDAYS if d != rest]}
        if fits(new):
            out.append(Remedy("hours", f"Use {result.min_hours_every_day:g} h/week on every day",
                              "The least weekly time that finishes inside the range, spread over the week.", new))
    optional = sorted(result.optional_topics, key=lambda t: (-t[2], t[0]))
    if optional and fits(with_skipped(raw, [t[0] for t in optional], curriculum)):
        lo, hi = 1, len(optional)  # the fewest of the biggest optional topics that make it fit
        while lo < hi:
            mid = (lo + hi) // 2
            if fits(with_skipped(raw, [t[0] for t in optional[:mid]], curriculum)):
                hi = mid
            else:
                lo = mid + 1
        chosen = optional[:lo]
        new = with_skipped(raw, [t[0] for t in chosen], curriculum)
        titles = ", ".join(f"{title} ({h:g} h)" for _, title, h in chosen)
        out.append(Remedy("skip", f"Skip {len(chosen)} optional topic{'s' if len(chosen) > 1 else ''}",
                          f"Frees {sum(h for *_, h in chosen):g} h: {titles}.", new))
    if raw.get("electives"):
        new = {k: v for k, v in raw.items() if k != "electives"}
        if fits(new) and not any(r.raw == new for r in out):
            out.append(Remedy("electives", "Leave out the specializations",
                              "Plan the core path now; add a specialization once it is done.", new))
    if raw.get("busy") and not out:  # the calendar is what holds the plan back: would it fit without it?
        new = {k: v for k, v in raw.items() if k not in ("busy", "all_day_events")}
        if fits(new):
            out.append(Remedy("busy", "Plan without the busy calendar",
                              "Your calendar leaves too little free time in your windows; without it the plan fits "
                              "(sessions then no longer avoid its events).", new))
    days = list(raw.get("days") or WEEKDAYS)
    if len(days) < len(WEEKDAYS) and not raw.get("day_hours"):
        new = {**raw, "days": list(WEEKDAYS)}
        if fits(new):
            out.append(Remedy("days", "Study on every weekday", "The same weekly hours spread over all seven days.",
                              new))
    later = later_finish(result, raw, fits)
    if later is not None:
        out.append(later)
    return out


LATER_TRIES = 3  # whole months past the earliest finish's month tried before giving up on a later finish


def later_finish(result: Infeasible, raw: Mapping[str, Any], fits: Callable[[dict[str, Any]], bool]) -> Remedy | None:
    """Keep the hours and finish later: the fewest whole months past the path's range that hold the earliest
    finish at these hours (and plan), with everything else — reviews, the free buffer, topics — kept."""
    from planner.profile import MAX_FINISH_MONTHS
    from planner.requirements import add_months, months_between

    if result.earliest_finish is None:
        return None
    months = max(result.months_max + 1, math.ceil(months_between(result.start, result.earliest_finish) - 1e-9))
    for n in range(months, min(months + LATER_TRIES, MAX_FINISH_MONTHS) + 1):
        new = {**raw, "finish_months": n}
        if fits(new):
            by = add_months(result.start, n) - dt.timedelta(days=1)
            extra = n - result.months_max
            return Remedy("later", f"Finish later: by {by} ({n} months)",
                          f"Keeps your {result.hours_per_week:g} h/week, every topic, the spaced reviews and the "
                          f"free time of each week; {extra} month{'s' if extra > 1 else ''} after the path's range "
                          f"for your background ({result.months_min}–{result.months_max} months, by "
                          f"{result.latest_finish}).", new)
    return None
