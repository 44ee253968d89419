"""Focus rules: a day's piece of a topic long enough to get into it, at most two topics a day, few switches.

The rules are hard: the validator rejects plans that break them, and the planner only makes plans that obey
them. Topics are studied one after another, so with c_k the running total at the end of topic k, a day going
from running total R to R' obeys them when (on days whose window holds 1.5 h or more):
- it studies 0 or at least 2 blocks (45 minutes, in whole 30-minute blocks);
- it does not start at c_k - 1 (topic k's last block alone) nor end at c_k + 1 (topic k+1's first block alone);
  a topic of a single block is exempt, that block is the whole of it;
- it touches at most two topics, whatever its window.

The pace model (CP-SAT) chooses each day's load without these rules; this module then finds the loads closest
to its curve that obey them, as an exact shortest path over running totals (numpy). The rules first went into
the CP-SAT model as holes in the running totals' domains: it took tens of seconds, often without an answer,
even on windows of a few weeks, because a chain of totals with holes defeats the linear relaxation. The same
chain is what dynamic programming does in milliseconds. When nothing near the pace curve obeys the rules (a
plan with almost no slack), the caller gives the plan a few more days and asks again.
"""

from __future__ import annotations

import datetime as dt
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from planner.plan import Plan
from planner.profile import BLOCK_MINUTES
from planner.requirements import StudyCalendar

MIN_SESSION_MINUTES = 45
MIN_PIECE_BLOCKS = 2  # 45 minutes in whole 30-minute blocks
# The 45-minute rule holds on days whose window is at least 1.5 h. On a one-hour day it would leave no way to
# place a topic of an odd number of half hours (1 h + 1 h + ... never adds up to 1.5 h), so a one-hour day may
# finish one topic's last half hour and start the next.
FOCUS_DAY_BLOCKS = 3
MAX_TOPICS_PER_DAY = 2
INF = 1 << 40
OVER_PEAK_WEIGHT = 2  # a block above the pace model's peak costs as much as two blocks of curve change


@dataclass(frozen=True)
class Stream:
    """The topic stream: each topic's length in blocks, studied in this order."""

    lengths: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.lengths)

    @cached_property
    def starts(self) -> tuple[int, ...]:
        out, run = [], 0
        for length in self.lengths:
            out.append(run)
            run += length
        return tuple(out)

    def lone_blocks(self) -> tuple[frozenset[int], frozenset[int]]:
        """Running totals where a day starting there begins with a topic's last block alone, and where a day
        ending there ends with a topic's first block alone (topics of a single block are exempt)."""
        starts: set[int] = set()
        ends: set[int] = set()
        run = 0
        for k, length in enumerate(self.lengths[:-1]):
            run += length
            if length >= MIN_PIECE_BLOCKS:
                starts.add(run - 1)
            if self.lengths[k + 1] >= MIN_PIECE_BLOCKS:
                ends.add(run + 1)
        return frozenset(starts), frozenset(ends)

    def pieces(self, before: int, after: int) -> list[tuple[int, int]]:
        """(topic index, blocks) of the stream between two running totals."""
        out = []
        k = max(0, bisect_right(self.starts, before) - 1)
        while k < len(self.lengths) and self.starts[k] < after:
            s, length = self.starts[k], self.lengths[k]
            lo, hi = max(before, s), min(after, s + length)
            if hi > lo:
                out.append((k, hi - lo))
            k += 1
        return out


def day_breaks_rules(stream: Stream, before: int, after: int, cap: int) -> bool:
    """True when a day going from running total `before` to `after` (capacity `cap`) breaks a focus rule."""
    pieces = stream.pieces(before, after)
    if len(pieces) > MAX_TOPICS_PER_DAY:
        return True
    if cap < FOCUS_DAY_BLOCKS:
        return False
    return any(blocks < MIN_PIECE_BLOCKS <= stream.lengths[k] for k, blocks in pieces)


@dataclass(frozen=True)
class FocusShape:
    loads: tuple[int, ...]
    cost: int  # blocks of running-total change from the pace model's curve, plus the peak penalty
    changed_days: int
    seconds: float


def shape_for_focus(cal: StudyCalendar, loads: Sequence[int], upper: Sequence[int], stream: Stream, *,
                    not_before: int | None = None) -> FocusShape | None:
    """The day loads closest to `loads` (least running-total change, blocks above `upper` penalised) for which
    every day obeys the focus rules, within every day and ISO-week limit, with the same total and no later last
    day; None only when no such loads exist at all (the caller then gives the plan more days).

    The search keeps to a band around the curve: up to two days' worth above it, and as much below it, widened
    twice when too narrow. Falling behind is what the rules cost when every day is full (a catch-up after a
    missed month), and each conflict costs a block or two until the curve has slack again. When the band
    finds nothing, it is moved onto a schedule known to obey the rules, so the answer never depends on it.
    """
    if not loads or _running(loads)[-1] != stream.total:
        return None
    if stream.total == 0:
        return FocusShape(tuple(0 for _ in loads), 0, 0, 0.0)
    widest = max((cal.day_caps[d] for d in range(min(len(loads), len(cal.day_caps)))), default=0)
    band_cut = True
    for below in (2 * widest + 2, 8 * widest + 8, 24 * widest + 24):
        shape, band_cut = _shortest_path(cal, loads, upper, stream, not_before, 2 * widest + 2, below)
        if shape is not None:
            return shape
        if not band_cut:  # the band below did not stand in the way: a wider one won't help
            break
    # The rules hold back far more than the band allows (many topics shorter than a day: two a day at most).
    # Search around the fastest schedule that obeys them instead, still scored against the pace curve.
    fastest = fastest_obeying(cal, len(loads), stream) if band_cut else None
    if fastest is not None:
        shape, _ = _shortest_path(cal, loads, upper, stream, not_before, 2 * widest + 2, 2 * widest + 2,
                                  center=_running(fastest))
        if shape is not None:
            return shape
    # Greedy is not always fastest under the rules: around the exact earliest schedule that obeys them, the
    # band holds at least that schedule, so this finds loads whenever any exist.
    exact = obeying_loads(cal, stream, len(loads), not_before)
    if exact is None:
        return None
    shape, _ = _shortest_path(cal, loads, upper, stream, not_before, 2 * widest + 2, 2 * widest + 2,
                              center=_running(exact))
    return shape


def fastest_obeying(cal: StudyCalendar, days: int, stream: Stream) -> list[int] | None:
    """Each day as much as the day, the week and the rules allow: loads that finish as early as greedily
    possible, or None if even they do not finish within `days`."""
    out = [0] * days
    run, used, week = 0, 0, None
    for d in range(days):
        cap = cal.day_caps[d] if d < len(cal.day_caps) else 0
        w = cal.week_of(d)
        if w != week:
            week, used = w, 0
        room = min(cap, cal.week_cap(w) - used, stream.total - run)
        for x in range(room, 0, -1):
            if not day_breaks_rules(stream, run, run + x, cal.focus_cap(d)):
                out[d] = x
                break
        run += out[d]
        used += out[d]
    return out if run == stream.total else None


def earliest_obeying(cal: StudyCalendar, stream: Stream, days: int, not_before: int | None = None) -> int | None:
    """Index of the first day by whose end a schedule obeying the focus rules and every day and ISO-week limit
    can finish the stream, within `days` days and not before `not_before`; None when none can."""
    found = _earliest_path(cal, stream, days, not_before, keep=False)
    return found[0] if found else None


def obeying_loads(cal: StudyCalendar, stream: Stream, days: int, not_before: int | None = None) -> list[int] | None:
    """Day loads (`days` long) of a schedule that obeys the focus rules and finishes on `earliest_obeying`'s
    day; None when none can within `days`."""
    found = _earliest_path(cal, stream, days, not_before, keep=True)
    return found[1] if found else None


def _earliest_path(cal: StudyCalendar, stream: Stream, days: int, not_before: int | None,
                   keep: bool) -> tuple[int, list[int]] | None:
    """Exact and without a solver: for each running total only the least used of the current week's limit is
    kept (with the same total, less used is never worse), so a day costs (totals x loads) numpy work. Totals
    below what the remaining days could still finish from are dropped, which keeps tight plans (where the rules
    decide the finish) to a narrow band. `shape_for_focus` searches the same space for the loads nearest a
    curve, so no finish before this one can obey the rules there either. With `keep`, each day's choices are
    kept to read the loads back."""
    total = stream.total
    n = min(days, len(cal.day_caps))
    if n <= 0:
        return None
    if total == 0:
        return 0, [0] * days
    caps = list(cal.day_caps[:n])
    after = _most_after(cal, caps)
    most = cal.cumulative(100, n - 1)
    if most[-1] < total:
        return None
    tables = _rule_tables(stream)
    last_before = None
    if not_before is not None:
        last_before = max((d for d in range(min(not_before, n)) if caps[d] > 0), default=None)
    used = np.zeros(1, dtype=np.int64)  # used[r - lo]: least blocks of this week's limit used, reaching total r
    lo, hi = 0, 0
    week = None
    steps: list[tuple[int, np.ndarray, int]] = []
    for d in range(n):
        cap = caps[d]
        if cap == 0:
            continue
        w = cal.week_of(d)
        if w != week:
            used = np.where(used < INF, 0, INF)
            week = w
        new_lo = max(lo, total - after[d])
        new_hi = min(total, hi + cap, most[d])
        if d == last_before:
            new_hi = min(new_hi, total - 1)
        if new_lo > new_hi:
            return None
        now = np.arange(new_lo, new_hi + 1)
        strict = cal.focus_cap(d) >= FOCUS_DAY_BLOCKS  # busy events shorten a day, not loosen its rules
        xs = np.array([0, *range(MIN_PIECE_BLOCKS if strict else 1, cap + 1)])
        valid, src = _day_moves(tables, now, xs, lo, hi, strict, total)
        through = np.where(valid, used[_clip(src - lo, 0, hi - lo)] + xs[:, None], INF)
        pick = np.argmin(through, axis=0)
        best = through[pick, np.arange(len(now))]
        best[best > cal.week_cap(w)] = INF
        reach = best < INF
        if not reach.any():
            return None
        first, last = int(np.argmax(reach)), len(reach) - 1 - int(np.argmax(reach[::-1]))
        used, lo, hi = best[first:last + 1], new_lo + first, new_lo + last
        if keep:
            steps.append((d, xs[pick[first:last + 1]], lo))
        if hi == total and (last_before is None or d > last_before):
            out = [0] * days
            r = total
            for day, chosen, day_lo in reversed(steps):
                x = int(chosen[r - day_lo])
                out[day] = x
                r -= x
            return d, out
    return None


def _clip(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """np.clip for the integer index arrays here, without np.clip's Python-level checks (about half the time a
    call; a few thousand calls a plan: ~4 % of planning a learner in `planner batch`); the same values."""
    return np.minimum(np.maximum(a, lo), hi)


def _rule_tables(stream: Stream) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per running total: a day may not start there (a topic's last block alone), may not end there (the next
    topic's first block alone); and the topic of each block."""
    total = stream.total
    lone_start = np.zeros(total + 1, dtype=bool)
    lone_end = np.zeros(total + 1, dtype=bool)
    starts, ends = stream.lone_blocks()
    lone_start[np.array(sorted(r for r in starts if 0 <= r <= total), dtype=np.int64)] = True
    lone_end[np.array(sorted(r for r in ends if 0 <= r <= total), dtype=np.int64)] = True
    topic_of_block = np.repeat(np.arange(len(stream.lengths)), stream.lengths)
    return lone_start, lone_end, topic_of_block


def _day_moves(tables: tuple[np.ndarray, np.ndarray, np.ndarray], now: np.ndarray, xs: np.ndarray, r_lo: int,
               r_hi: int, strict: bool, total: int) -> tuple[np.ndarray, np.ndarray]:
    """(loads x totals now) whether a day of each load ending at each total obeys the rules and starts inside
    [r_lo, r_hi], and the total it starts from."""
    lone_start, lone_end, topic_of_block = tables
    src = now[None, :] - xs[:, None]
    valid = (src >= r_lo) & (src <= r_hi)
    moved = xs[:, None] > 0
    if strict:
        valid &= ~moved | (~lone_end[now][None, :] & ~lone_start[_clip(src, 0, total)])
    first_block = topic_of_block[_clip(src, 0, total - 1)]
    last_block = topic_of_block[_clip(now - 1, 0, total - 1)][None, :]
    valid &= ~moved | (last_block - first_block < MAX_TOPICS_PER_DAY)
    return valid, src


def _shortest_path(cal: StudyCalendar, loads: Sequence[int], upper: Sequence[int], stream: Stream,
                   not_before: int | None, above: int, below: int,
                   center: Sequence[int] | None = None) -> tuple[FocusShape | None, bool]:
    """Exact shortest path over running totals, day by day, and whether the band below the curve cut states
    off. The state is the running total and, within an ISO week, the total the week started from (the week's
    limit binds their difference). A day's step tries each allowed load, so a day costs (states x loads) numpy
    work, not states squared."""
    t0 = time.perf_counter()
    n = len(loads)
    total = stream.total
    caps = [cal.day_caps[d] if d < len(cal.day_caps) else 0 for d in range(n)]
    target = _running(loads)
    middle = list(center) if center is not None else target  # the band's centre; the cost is always the target
    tables = _rule_tables(stream)
    most = cal.cumulative(100, n - 1)
    after = _most_after(cal, caps)  # after[d]: most blocks the days after d can hold
    last_before = None
    if not_before is not None:
        last_before = max((d for d in range(min(not_before, n)) if caps[d] > 0), default=None)

    # cost[a, r]: a indexes the running total when the current ISO week started, r the running total now.
    a_vals = np.array([0])
    r_lo, r_hi = 0, 0
    cost = np.zeros((1, 1), dtype=np.int64)
    week = None
    steps: list[tuple[int, np.ndarray, np.ndarray | None, int, int]] = []
    band_cut = False
    for d in range(n):
        if caps[d] == 0:
            continue
        w = cal.week_of(d)
        collapse = None
        if w != week:  # a new week: what it started from is the running total now
            collapse = np.argmin(cost, axis=0)
            best_so_far = cost[collapse, np.arange(cost.shape[1])]
            a_vals = np.arange(r_lo, r_hi + 1)
            cost = np.full((len(a_vals), len(a_vals)), INF, dtype=np.int64)
            np.fill_diagonal(cost, best_so_far)
            week = w
        floor = max(total - after[d], r_lo)
        band_cut = band_cut or middle[d] - below > floor
        lo = max(floor, middle[d] - below)
        hi = min(most[d], middle[d] + above, total, r_hi + caps[d])
        if d == last_before:
            hi = min(hi, total - 1)
        if lo > hi:
            return None, band_cut
        now = np.arange(lo, hi + 1)
        gap = np.abs(now - target[d])
        strict = cal.focus_cap(d) >= FOCUS_DAY_BLOCKS
        cap_peak = upper[d] if d < len(upper) else caps[d]
        xs = np.array([0, *range(MIN_PIECE_BLOCKS if strict else 1, caps[d] + 1)])
        valid, src = _day_moves(tables, now, xs, r_lo, r_hi, strict, total)
        step = np.where(valid, gap[None, :] + OVER_PEAK_WEIGHT * np.maximum(0, xs - cap_peak)[:, None], INF)
        index = _clip(src - r_lo, 0, r_hi - r_lo)
        # (week start, now) for each load in turn; a strictly better cost replaces, so ties keep the smallest load
        best = cost[:, index[0]] + step[0][None, :]
        chosen = np.full(best.shape, xs[0], dtype=np.int64)
        for i in range(1, len(xs)):
            through = cost[:, index[i]] + step[i][None, :]
            better = through < best
            np.copyto(best, through, where=better)
            chosen[better] = xs[i]
        best = np.where(now[None, :] - a_vals[:, None] > cal.week_cap(w), INF, np.minimum(best, INF))
        if best.min() >= INF:  # no way through this day
            return None, band_cut
        cost = best
        steps.append((d, chosen, collapse, lo, r_lo))
        r_lo, r_hi = lo, hi
    if not steps or not r_lo <= total <= r_hi:
        return None, band_cut
    a_i = int(np.argmin(cost[:, total - r_lo]))
    best_cost = int(cost[a_i, total - r_lo])
    if best_cost >= INF:
        return None, band_cut
    out = [0] * n
    r = total
    for d, chosen, collapse, lo, prev_lo in reversed(steps):
        x = int(chosen[a_i, r - lo])
        out[d] = x
        r -= x
        if collapse is not None:  # step back over the week's start: a was the running total then
            a_i = int(collapse[r - prev_lo])
    if r != 0:
        return None, band_cut
    changed = sum(1 for p, q in zip(out, loads, strict=True) if p != q)
    return FocusShape(tuple(out), best_cost, changed, time.perf_counter() - t0), band_cut


def last_study_day(loads: Sequence[int], default: int = 0) -> int:
    """Index of the last day with any study in `loads`."""
    return max((d for d, x in enumerate(loads) if x > 0), default=default)


def _running(loads: Sequence[int]) -> list[int]:
    out, run = [], 0
    for x in loads:
        run += x
        out.append(run)
    return out


def _most_after(cal: StudyCalendar, caps: Sequence[int]) -> list[int]:
    """Most blocks the days after each day can hold within the day and week limits."""
    out = [0] * len(caps)
    used: dict[int, int] = defaultdict(int)
    run = 0
    for d in range(len(caps) - 1, -1, -1):
        out[d] = run
        w = cal.week_of(d)
        x = min(caps[d], cal.week_cap(w) - used[w])
        used[w] += x
        run += x
    return out


# ---------------------------------------------------------------- checking sessions


def day_pieces(plan: Plan) -> Iterator[tuple[dt.date, list[tuple[str, float]]]]:
    """For each day, the planned study-stream topics in order with their minutes (reviews are not topics)."""
    by_day: dict[dt.date, list[tuple[str, float]]] = defaultdict(list)
    # A day's pieces are the ones the planner laid out, ticks included: ticking half of a day's topic done does
    # not make the rest of it a short piece.
    planned_days = {s.day for s in plan.sessions if s.status == "planned" and s.kind != "review"}
    for s in sorted(plan.sessions, key=lambda s: s.start):
        if s.status == "cancelled" or s.kind == "review" or s.day not in planned_days:
            continue
        pieces = by_day[s.day]
        minutes = s.hours * 60
        if pieces and pieces[-1][0] == s.topic:
            pieces[-1] = (s.topic, pieces[-1][1] + minutes)
        else:
            pieces.append((s.topic, minutes))
    yield from sorted(by_day.items())


def focus_problems(plan: Plan) -> list[tuple[dt.date, str, str]]:
    """(day, rule, detail) for every planned day that breaks a focus rule; the validator reports these."""
    planned_minutes: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.status == "planned" and s.kind != "review":
            planned_minutes[s.topic] += s.hours * 60
    out = []
    for day, pieces in day_pieces(plan):
        topics = list(dict.fromkeys(t for t, _ in pieces))
        if len(topics) > MAX_TOPICS_PER_DAY:
            out.append((day, "topics-per-day", f"{len(topics)} topics ({', '.join(topics)})"))
        window = plan.profile.weekday_hours[day.weekday()] * 60
        for topic, minutes in pieces:
            if minutes < MIN_SESSION_MINUTES and window >= FOCUS_DAY_BLOCKS * BLOCK_MINUTES \
                and planned_minutes[topic] >= MIN_SESSION_MINUTES:
                out.append((day, "focus-length", f"{minutes:g} min of {topic}"))
    return out


@dataclass(frozen=True)
class FocusReport:
    short_sessions: int  # a day's piece of a topic under 45 minutes where the day's window holds 45 minutes
    crowded_days: int  # days with more than two topics
    switches: int  # times a day moves from one topic to another
    study_days: int
    days_later: int = 0  # the finish moved this many days past the capacity's earliest to keep the rules

    def text(self) -> str:
        out = f"{self.switches} topic switches within days over {self.study_days} study days; "
        if self.short_sessions or self.crowded_days:
            out += (f"{self.short_sessions} pieces under {MIN_SESSION_MINUTES} min; "
                    f"{self.crowded_days} days with more than {MAX_TOPICS_PER_DAY} topics")
        else:
            out += (f"every topic gets at least {MIN_SESSION_MINUTES} min on a day it is studied, at most "
                    f"{MAX_TOPICS_PER_DAY} topics a day")
        if self.days_later:
            out += f" (the finish moved {self.days_later} day{'s' if self.days_later > 1 else ''} later for this)"
        return out


def focus_report(plan: Plan) -> FocusReport:
    problems = focus_problems(plan)
    days = list(day_pieces(plan))
    switches = sum(len(pieces) - 1 for _, pieces in days)
    return FocusReport(sum(1 for p in problems if p[1] == "focus-length"),
                       sum(1 for p in problems if p[1] == "topics-per-day"), switches, len(days),
                       plan.solver.focus_days_later)
