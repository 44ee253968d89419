"""Focus rules: sessions long enough to get into a topic, few topics a day, few switches.

The day-load model cannot forbid short pieces directly (holes in the running total's domain made CP-SAT slow
to prove optimality here), so a repair pass after the solve nudges single blocks between neighbouring study
days: when a day ends half an hour into a topic, or half an hour before one ends, one block moves to or from
the next study day within every day, week and peak limit. What it cannot fix is reported, not hidden.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from planner.plan import Plan
from planner.requirements import StudyCalendar

MIN_SESSION_MINUTES = 45
MAX_TOPICS_PER_DAY = 2


def _bad(total_at_day_end: int, boundaries: set[int]) -> bool:
    """A running total one block away from a topic boundary leaves a 30-minute piece on one side of it."""
    return (total_at_day_end - 1) in boundaries or (total_at_day_end + 1) in boundaries


def repair_short_pieces(loads: Sequence[int], upper: Sequence[int], cal: StudyCalendar,
                        boundaries: Sequence[int], passes: int = 3, reach: int = 6) -> list[int]:
    """Move a block or two between a day and one of the next few study days so fewer days end one block from a
    topic boundary.

    Every day stays within `upper`, every ISO week within its limit, and the total and the finish day are
    unchanged (blocks only move between study days that already exist before the finish). A move is taken only
    when it lowers the number of short pieces among the days it touches; a day never drops to a lone block when
    it can hold more.
    """
    out = list(loads)
    bset = {b for b in boundaries if b > 0}
    week_sum: dict[int, int] = defaultdict(int)
    for d, x in enumerate(out):
        week_sum[cal.week_of(d)] += x
    active = [d for d, u in enumerate(upper) if u > 0 and d < len(out)]
    last = max((d for d, x in enumerate(out) if x > 0), default=-1)

    def ok_amount(d: int, x: int) -> bool:
        if d == last and x == 0:  # the finish day keeps its study: the plan must still end on it
            return False
        return x == 0 or x >= 2 or upper[d] < 2

    def totals() -> list[int]:
        run, res = 0, []
        for d in active:
            run += out[d]
            res.append(run)
        return res

    for _ in range(passes):
        changed = False
        run = totals()
        for i in range(len(active) - 1):
            d = active[i]
            if out[d] == 0 or not _bad(run[i], bset):
                continue
            best = None
            # Moving blocks between an earlier-or-same day x and a later day y shifts every running total from x
            # up to the day before y: the pair has to straddle day d to change its total.
            for y_i in range(i + 1, min(i + 1 + reach, len(active))):
                for x_i in range(i, max(-1, i - reach), -1):
                    x, y = active[x_i], active[y_i]
                    wx, wy = cal.week_of(x), cal.week_of(y)
                    before = sum(_bad(run[k], bset) for k in range(x_i, y_i))
                    for step in (-1, 1, -2, 2, -3, 3):  # +: blocks move from y to x; -: from x to y
                        nx, ny = out[x] + step, out[y] - step
                        if not (0 <= nx <= upper[x] and 0 <= ny <= upper[y] and ok_amount(x, nx)
                                and ok_amount(y, ny)):
                            continue
                        if wx != wy and (week_sum[wx] + step > cal.week_cap(wx)
                                         or week_sum[wy] - step > cal.week_cap(wy)):
                            continue
                        if sum(_bad(run[k] + step, bset) for k in range(x_i, y_i)) < before:
                            best = (x, y, step, wx, wy)
                            break
                    if best:
                        break
                if best:
                    break
            if best:
                x, y, step, wx, wy = best
                out[x] += step
                out[y] -= step
                week_sum[wx] += step
                week_sum[wy] -= step
                run = totals()
                changed = True
        if not changed:
            break
    return out


@dataclass(frozen=True)
class FocusReport:
    short_sessions: int  # study sessions under 45 minutes on days whose window holds 45 minutes or more
    crowded_days: int  # days with more than two topics
    switches: int  # times a day moves from one topic to another
    study_days: int

    def text(self) -> str:
        return (f"{self.switches} topic switches within days over {self.study_days} study days; "
                f"{self.short_sessions} sessions under {MIN_SESSION_MINUTES} min; "
                f"{self.crowded_days} days with more than {MAX_TOPICS_PER_DAY} topics")


def focus_report(plan: Plan) -> FocusReport:
    topics: dict[dt.date, list[str]] = defaultdict(list)
    short = 0
    for s in sorted(plan.active_sessions, key=lambda s: s.start):
        if s.kind == "review":
            continue
        if not topics[s.day] or topics[s.day][-1] != s.topic:
            topics[s.day].append(s.topic)
        window = plan.profile.weekday_hours[s.day.weekday()] * 60
        if s.hours * 60 < MIN_SESSION_MINUTES <= window:
            short += 1
    crowded = sum(1 for ts in topics.values() if len(set(ts)) > MAX_TOPICS_PER_DAY)
    switches = sum(len(ts) - 1 for ts in topics.values())
    return FocusReport(short, crowded, switches, len(topics))
