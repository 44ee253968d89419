"""When the learner can study: study windows minus busy calendars, as free stretches per date.

Resolved once per date, in the learner's zone but measured in elapsed time (a window from 01:00 to 04:00
holds two hours on a spring-forward night and four on a fall-back one), with busy events widened to the
quarter hour. A stretch shorter than one 30-minute block is not used. Everything downstream reads this:
the day capacities of the pace model, the cutting of sessions, the review slots, the validator, the summary.

Without windows the one-window shorthand holds: each study day's window runs from its session start to
midnight and the day's hours cap it, so without busy events sessions run back to back from the start time,
exactly as before windows existed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from planner.profile import ALIGN_MINUTES, BLOCK_MINUTES, DAY_MINUTES, Windows
from planner.profile import hhmm as _hhmm

# Study windows are a profile field, parsed with the others in planner.profile; their names stay importable here.
from planner.profile import parse_windows as parse_windows
from planner.profile import parse_windows_text as parse_windows_text
from planner.profile import window_blocks as window_blocks
from planner.profile import window_hours as window_hours
from planner.profile import windows_text as windows_text
from planner.profile import windows_to_dict as windows_to_dict

if TYPE_CHECKING:
    from planner.busy import BusyTimes
    from planner.plan import Plan, Slot
    from planner.profile import Profile

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# ---------------------------------------------------------------- free stretches per date


@dataclass(frozen=True)
class Stretch:
    start: int  # UTC epoch minutes
    minutes: int  # elapsed

    @property
    def blocks(self) -> int:
        return self.minutes // BLOCK_MINUTES


def effective_windows(profile: Profile) -> Windows:
    """The learner's windows, or the one-window shorthand: from each study day's session start to midnight."""
    if profile.windows is not None:
        return profile.windows
    return tuple(((s.hour * 60 + s.minute, DAY_MINUTES),) if h > 0 else ()
                 for s, h in zip(profile.session_starts, profile.weekday_hours, strict=True))


def _utc_minutes(day: dt.date, minute_of_day: int, tz: ZoneInfo) -> int:
    """Wall-clock minute of a local date as UTC epoch minutes; a wall time inside a spring-forward gap maps
    with the offset before the change (zoneinfo's fold=0), so the window keeps its elapsed length."""
    if minute_of_day >= DAY_MINUTES:
        local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    else:
        local = dt.datetime.combine(day, dt.time(minute_of_day // 60, minute_of_day % 60), tzinfo=tz)
    return int((local - EPOCH).total_seconds() // 60)


def _ceil(x: int) -> int:
    return -(-x // ALIGN_MINUTES) * ALIGN_MINUTES


def _floor(x: int) -> int:
    return x // ALIGN_MINUTES * ALIGN_MINUTES


@lru_cache(maxsize=64)
def _resolver(windows: Windows, timezone: str, busy: BusyTimes | None, all_day_busy: bool) -> _Resolver:
    return _Resolver(windows, ZoneInfo(timezone), busy, all_day_busy)


class _Resolver:
    """Free stretches per date for one (windows, zone, busy calendar), memoised: the minimum-hours search
    builds the same calendar dozens of times at other weekly hours."""

    def __init__(self, windows: Windows, tz: ZoneInfo, busy: BusyTimes | None, all_day_busy: bool):
        self.windows, self.tz, self.busy, self.all_day_busy = windows, tz, busy, all_day_busy
        self.starts = [a for a, _ in busy.intervals] if busy else []
        self.cache: dict[dt.date, tuple[Stretch, ...]] = {}

    def stretches(self, day: dt.date) -> tuple[Stretch, ...]:
        got = self.cache.get(day)
        if got is None:
            got = self.cache[day] = self._compute(day)
        return got

    def _compute(self, day: dt.date) -> tuple[Stretch, ...]:
        spans = self.windows[day.weekday()]
        if not spans:
            return ()
        busy = self.busy
        if busy is not None and self.all_day_busy and day in busy.all_day:
            return ()
        out: list[Stretch] = []
        for a_local, b_local in spans:
            a, b = _utc_minutes(day, a_local, self.tz), _utc_minutes(day, b_local, self.tz)
            pieces = [(a, b)]
            if busy is not None and busy.intervals:
                pieces = []
                cur = a
                # intervals are merged and sorted: the one before `a` may reach into the window
                i = max(0, bisect.bisect_right(self.starts, a) - 1)
                while i < len(busy.intervals) and busy.intervals[i][0] < b:
                    s, e = busy.intervals[i]
                    if e > cur:
                        if s > cur:
                            pieces.append((cur, _floor(s)))
                        cur = max(cur, _ceil(e))
                    i += 1
                if cur < b:
                    pieces.append((cur, b))
            for s, e in pieces:
                if e - s >= BLOCK_MINUTES:
                    out.append(Stretch(s, e - s))
        return tuple(out)


def free_stretches(profile: Profile, day: dt.date) -> tuple[Stretch, ...]:
    """Free time of a date inside its windows (empty on blackouts and holidays)."""
    if profile.is_blackout(day):
        return ()
    return _resolver(effective_windows(profile), profile.timezone, profile.busy, profile.all_day_busy
                     ).stretches(day)


def day_cap_blocks(profile: Profile, day: dt.date) -> int:
    """Blocks the planner may use on a date: the day's hours, within the free time of its windows."""
    cap = profile.day_blocks(day.weekday())
    if not profile.uses_availability or cap == 0:
        return 0 if profile.is_blackout(day) else cap
    return min(cap, sum(s.blocks for s in free_stretches(profile, day)))


def _local(minutes: int, tz: ZoneInfo) -> dt.datetime:
    return (EPOCH + dt.timedelta(minutes=minutes)).astimezone(tz)


# ---------------------------------------------------------------- free time as slots


def stretch_slots(profile: Profile, day: dt.date) -> list[Slot]:
    """The date's free stretches as the slots plan.sessions_from_day_loads lays a day's load into, in order."""
    return [(EPOCH + dt.timedelta(minutes=s.start), s.blocks) for s in free_stretches(profile, day) if s.blocks > 0]


def free_slot(profile: Profile, day: dt.date, taken: Sequence[tuple[dt.datetime, dt.datetime]],
              blocks: int) -> tuple[dt.datetime, dt.datetime] | None:
    """The earliest `blocks`-long slot of a date's free time that no session in `taken` touches."""
    busy = sorted((_minutes(a), _minutes(b)) for a, b in taken)
    need = blocks * BLOCK_MINUTES
    for s in free_stretches(profile, day):
        cur, end = s.start, s.start + s.minutes
        for a, b in busy:
            if b <= cur or a >= end:
                continue
            if a - cur >= need:
                break
            cur = max(cur, b)
        if end - cur >= need:
            return _local(cur, profile.tz), _local(cur + need, profile.tz)
    return None


def _minutes(t: dt.datetime) -> int:
    return int((t - EPOCH).total_seconds() // 60)


# ---------------------------------------------------------------- checks and figures


def calendar_problems(plan: Plan) -> list[tuple[str, str, str | None]]:
    """(rule, message, uid) for planned sessions outside the learner's windows or on a busy instant.

    Only planned sessions: what was done is history, and busy calendars are read for the future (a plan file
    read back holds no busy events, only their count and digest, so then only the windows are checked)."""
    p = plan.profile
    if not p.uses_availability:
        return []
    tz = p.tz
    windows = effective_windows(p)
    busy = p.busy
    starts = [a for a, _ in busy.intervals] if busy else []
    out: list[tuple[str, str, str | None]] = []
    for s in plan.sessions:
        if s.status != "planned":
            continue
        a, b = _minutes(s.start), _minutes(s.end)
        day = s.start.astimezone(tz).date()
        inside = any(_utc_minutes(day, wa, tz) <= a and b <= _utc_minutes(day, wb, tz)
                     for wa, wb in windows[day.weekday()])
        if not inside:
            shown = ", ".join(f"{_hhmm(x)}-{_hhmm(y)}" for x, y in windows[day.weekday()]) or "none"
            out.append(("window", f"{s.start.astimezone(tz):%Y-%m-%d %H:%M}-{s.end.astimezone(tz):%H:%M} is "
                                  f"outside the {day:%A} windows ({shown})", s.uid))
        if busy is None:
            continue
        if p.all_day_busy and day in busy.all_day:
            out.append(("busy", f"{day}: an all-day event in your calendar blocks the day", s.uid))
            continue
        i = max(0, bisect.bisect_right(starts, a) - 1)
        while i < len(busy.intervals) and busy.intervals[i][0] < b:
            x, y = busy.intervals[i]
            if y > a:
                out.append(("busy", f"{s.start.astimezone(tz):%Y-%m-%d %H:%M}-{s.end.astimezone(tz):%H:%M} "
                                    f"overlaps a busy event ({_local(x, tz):%H:%M}-{_local(y, tz):%H:%M})",
                            s.uid))
                break
            i += 1
    return out


@dataclass(frozen=True)
class FreeTime:
    window_hours_per_week: float  # what the windows hold in a week (day hours cap them)
    free_hours_per_week: float  # on average over the weeks counted, busy events and blackouts taken out
    least_free_week: tuple[str, float] | None  # ("2027-W14", hours) of the week with the least free time
    weeks: int


def free_time(profile: Profile, first: dt.date, last: dt.date) -> FreeTime:
    """Free hours a week inside the windows (each day at most its hours) between two dates, whole ISO weeks."""
    per_week: dict[str, int] = defaultdict(int)
    day = first - dt.timedelta(days=first.weekday())
    stop = last + dt.timedelta(days=6 - last.weekday())
    while day <= stop:
        iso = day.isocalendar()
        per_week[f"{iso.year}-W{iso.week:02d}"] += day_cap_blocks(profile, day)
        day += dt.timedelta(days=1)
    hours = {k: v * BLOCK_MINUTES / 60 for k, v in per_week.items()}
    windows = effective_windows(profile) if profile.uses_availability else None
    weekly = sum(min(profile.day_blocks(d), sum((b - a) // BLOCK_MINUTES for a, b in windows[d]) if windows
                     else profile.day_blocks(d)) for d in range(7)) * BLOCK_MINUTES / 60
    least = min(hours.items(), key=lambda kv: (kv[1], kv[0])) if hours else None
    mean = sum(hours.values()) / len(hours) if hours else 0.0
    return FreeTime(weekly, round(mean, 1), (least[0], least[1]) if least else None, len(hours))


def calendar_summary(plan: Plan) -> str | None:
    """One line for the plan summary: busy events read, free hours a week in the windows."""
    p = plan.profile
    if not p.uses_availability:
        return None
    ft = free_time(p, p.start, plan.finish)
    parts = []
    if p.windows is not None:
        parts.append(f"your windows hold {ft.window_hours_per_week:g} h a week")
    if p.busy is not None:
        parts.append(f"{p.busy.events} busy events read from {len(p.busy.sources)} calendar"
                     f"{'s' if len(p.busy.sources) != 1 else ''}")
    elif p.busy_sources:
        parts.append(f"{len(p.busy_sources)} busy calendar{'s' if len(p.busy_sources) != 1 else ''} not re-read")
    line = "Calendar: " + "; ".join(parts) + f"; {ft.free_hours_per_week:g} h a week free on average"
    if ft.least_free_week is not None:
        line += f" (least: {ft.least_free_week[1]:g} h in {ft.least_free_week[0]})"
    return line + f", of which the plan uses {plan.mean_week_hours:.1f}."
