"""The CP-SAT model: how many 30-minute blocks to study on each day.

Structure exploited (a generic session x day model did not prove optimality here):
- Topics are studied one after another in the path's (topological) order, so a schedule is fully described by
  the blocks studied per day; sessions are cut from that stream afterwards. Any plan that interleaves topics
  can be re-sequenced into this form with the same daily loads, so nothing is lost for the objectives below.
- The finish day is fixed before the model is built: the exact capacity bound (day limits and ISO-week limits,
  computed in requirements.py) gives the earliest possible finish, and pacing moves it to the range's minimum.
- One integer per study day with a contiguous domain [0, day capacity]; no holes, no per-topic booleans.
- The peak utilisation `r` gets its exact lower bound from the same arithmetic, so the solver only has to find
  a matching schedule and proves optimality from the LP relaxation.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from planner.requirements import StudyCalendar

STATUS_NAMES = {cp_model.OPTIMAL: "OPTIMAL", cp_model.FEASIBLE: "FEASIBLE", cp_model.INFEASIBLE: "INFEASIBLE",
                cp_model.MODEL_INVALID: "MODEL_INVALID", cp_model.UNKNOWN: "UNKNOWN"}
SOLVER_TIME_LIMIT_S = 20.0
# A catch-up whose weeks are full (the buffer and the reviews' room kept) can leave CP-SAT proving for the whole
# time limit that a plan it found at once is the closest to the old one (SQL path, 5 h/week, a month behind: 20 s
# for a plan found in 0.2 s, 13 % above the bound). It stops once its plan is within CATCH_UP_GAP of the best
# possible, or after CATCH_UP_WORK_LIMIT of deterministic time (work, not wall clock: the same plan on any machine
# and at any load), with the best plan found.
CATCH_UP_GAP = 0.2
CATCH_UP_WORK_LIMIT = 5.0


@dataclass(frozen=True)
class DayLoadSolution:
    blocks: tuple[int, ...]  # blocks per day index 0..finish
    peak_percent: int
    status: str
    objective: float
    bound: float
    build_seconds: float
    solve_seconds: float


@dataclass(frozen=True)
class DayLoadProblem:
    """Inputs of one solve: the calendar, the work, the finish day and where the finish may not fall before."""

    calendar: StudyCalendar
    total_blocks: int
    finish: int  # last allowed day index (the plan ends on or before it)
    not_before: int | None  # the plan may not be complete before this day index (pacing to the range's minimum)
    min_percent: int  # proven lower bound on the peak utilisation
    fixed: tuple[int, ...] = ()  # blocks already fixed for the first days (re-planning keeps history)
    hint: tuple[int, ...] = ()  # a previous plan's day loads, for minimal change


def _pace_hint(cal: StudyCalendar, ub: list[int], total: int, finish: int) -> tuple[int, ...]:
    """A complete starting schedule that follows the even-pace line, topped up from the end: the solver starts
    next to the optimum instead of searching for a first solution over a long horizon."""
    reach = cal.cumulative(100, finish)
    scale_to = max(reach[-1], 1)
    out = [0] * len(ub)
    week_used: dict[int, int] = {}
    done = 0
    for d in range(len(ub)):
        w = cal.week_of(d)
        room = min(ub[d], cal.week_cap(w) - week_used.get(w, 0))
        target = (total * reach[d] + scale_to // 2) // scale_to
        x = max(0, min(room, target - done, total - done))
        out[d] = x
        done += x
        week_used[w] = week_used.get(w, 0) + x
    for d in range(len(ub) - 1, -1, -1):  # whatever rounding left over goes where room remains
        if done >= total:
            break
        w = cal.week_of(d)
        x = min(ub[d] - out[d], cal.week_cap(w) - week_used.get(w, 0), total - done)
        if x > 0:
            out[d] += x
            done += x
            week_used[w] = week_used.get(w, 0) + x
    return tuple(out)


def peak_percent_bound(cal: StudyCalendar, total: int, finish: int) -> int:
    """Smallest whole percentage of each day's capacity that still fits `total` blocks by `finish` and leaves
    the finish day at least one block (the plan must end on that day when it is paced to the range)."""
    lo, hi = max(1, -(-100 // max(cal.day_caps[finish], 1))), 100
    while lo < hi:
        mid = (lo + hi) // 2
        if cal.cumulative(mid, finish)[-1] >= total:
            hi = mid
        else:
            lo = mid + 1
    return lo


def solve_day_loads(problem: DayLoadProblem) -> DayLoadSolution | None:
    """At the lowest possible peak utilisation, the schedule whose running total stays closest to an even pace."""
    t0 = time.perf_counter()
    cal, finish, total = problem.calendar, problem.finish, problem.total_blocks
    model = cp_model.CpModel()
    # The peak utilisation is not searched: min_percent is optimal by arithmetic (one percent less cannot hold
    # the work, requirements.StudyCalendar.cumulative), so it becomes each day's upper bound.
    peak = problem.min_percent
    loads: list[cp_model.IntVar | int] = []
    for d in range(finish + 1):
        cap = cal.day_caps[d] * peak // 100
        if d < len(problem.fixed):
            loads.append(problem.fixed[d])
        elif cap > 0:
            loads.append(model.new_int_var(0, cap, f"blocks_d{d}"))
        else:
            loads.append(0)
    model.add(sum(loads) == total)
    _week_limits(model, cal, loads)
    if problem.not_before is not None and 0 < problem.not_before <= finish:
        model.add(sum(loads[: problem.not_before]) <= total - 1).with_name("finish_not_before_range")
    variables = [(d, v) for d, v in enumerate(loads) if isinstance(v, cp_model.IntVar)]
    upper = [int(x) if not isinstance(x, cp_model.IntVar) else cal.day_caps[d] * peak // 100
             for d, x in enumerate(loads)]
    hint = problem.hint or _pace_hint(cal, upper, total, finish)
    exact = _on_the_line(problem, upper, hint)
    if exact is not None:  # the hint meets the objective's bound of 0: it is the solver's answer, without a search
        return DayLoadSolution(exact, peak, "OPTIMAL", 0.0, 0.0, time.perf_counter() - t0, 0.0)
    for d, v in variables:
        if d < len(hint):
            model.add_hint(v, min(hint[d], cal.day_caps[d]))
    # Even pace as the tie-break: keep the running total close to the line that spreads the work in proportion
    # to the capacity offered (L-infinity distance), so rounding slack does not pile up at the start or the end.
    reach = cal.cumulative(100, finish)
    scale_to = max(reach[-1], 1)
    deviation = model.new_int_var(0, total, "pace_deviation")
    for d, cum in _running_totals(model, loads, total, finish):
        target = (total * reach[d] + scale_to // 2) // scale_to
        model.add(cum - target <= deviation)
        model.add(target - cum <= deviation)
    model.minimize(deviation)
    return _solve(model, loads, peak, time.perf_counter() - t0)


def _on_the_line(problem: DayLoadProblem, upper: list[int], hint: tuple[int, ...]) -> tuple[int, ...] | None:
    """The hint's loads when they obey every constraint and never leave the even-pace line (deviation 0, the
    least there is); None otherwise. CP-SAT starts from the hint and stops there in that case, after
    seconds of set-up on long horizons."""
    cal, finish, total = problem.calendar, problem.finish, problem.total_blocks
    if len(hint) != finish + 1 or problem.fixed:
        return None
    loads = tuple(min(hint[d], upper[d]) for d in range(finish + 1))
    if sum(loads) != total:
        return None
    week: dict[int, int] = {}
    for d, x in enumerate(loads):
        week[cal.week_of(d)] = week.get(cal.week_of(d), 0) + x
    if any(used > cal.week_cap(w) for w, used in week.items()):
        return None
    if problem.not_before is not None and 0 < problem.not_before <= finish \
            and sum(loads[: problem.not_before]) > total - 1:
        return None
    reach = cal.cumulative(100, finish)
    scale_to = max(reach[-1], 1)
    done = 0
    for d, x in enumerate(loads):
        done += x
        if (upper[d] > 0 or d == finish) and done != (total * reach[d] + scale_to // 2) // scale_to:
            return None
    return loads


def _week_limits(model: cp_model.CpModel, cal: StudyCalendar, loads: list[Any]) -> None:
    weeks: dict[int, list[Any]] = {}
    for d, load in enumerate(loads):
        weeks.setdefault(cal.week_of(d), []).append(load)
    for w, xs in weeks.items():
        model.add(sum(xs) <= cal.week_cap(w)).with_name(f"week_{w}")


def _running_totals(model: cp_model.CpModel, loads: list[Any], total: int, finish: int) -> list[tuple[int, Any]]:
    """(day, blocks done by its end) for every study day and the finish day, chained so each is one sum."""
    out: list[tuple[int, Any]] = []
    running: Any = 0
    for d, load in enumerate(loads):
        running = running + load
        if isinstance(load, cp_model.IntVar) or d == finish:
            cum = model.new_int_var(0, total, f"done_by_d{d}")
            model.add(cum == running)
            running = cum
            out.append((d, cum))
    return out


def _solve(model: cp_model.CpModel, loads: list[Any], peak: int, build: float,
           work_limit: float | None = None) -> DayLoadSolution | None:
    """One deterministic worker: the same inputs give the same plan (parallel search is not reproducible).
    `work_limit`: a catch-up's bound on the search in CP-SAT's deterministic time, with its gap (see
    CATCH_UP_GAP), after which the best plan found so far is taken."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    solver.parameters.max_time_in_seconds = SOLVER_TIME_LIMIT_S
    if work_limit is not None:  # a catch-up: close enough to the best possible, or enough work spent
        solver.parameters.relative_gap_limit = CATCH_UP_GAP
        solver.parameters.max_deterministic_time = work_limit
    t1 = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - t1
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    blocks = tuple(int(solver.value(x)) if isinstance(x, cp_model.IntVar) else int(x) for x in loads)
    return DayLoadSolution(blocks, peak, STATUS_NAMES[status], solver.objective_value,
                           solver.best_objective_bound, build, seconds)


@dataclass(frozen=True)
class CatchUpProblem:
    """Re-planning: fit the remaining blocks while the running total tracks the previous plan's as closely as
    possible. Equal running totals mean the same place in the topic stream, hence the very same sessions, so
    the L1 distance between the two curves counts how much of the future has to change."""

    calendar: StudyCalendar  # starts today
    total_blocks: int  # remaining work
    finish: int  # last allowed day index
    target: tuple[int, ...]  # previous plan's running total (in the same coordinates) at the end of each day
    previous_loads: tuple[int, ...] = ()


def _catch_up_hint(problem: CatchUpProblem) -> list[int]:
    """A plan to start the search from: the previous plan's loads where the days and weeks still hold them, and
    the blocks it is behind by placed as early as the room allows (what the objective asks for when the
    catch-up is tight). When the weeks are full, CP-SAT would otherwise search its whole limit for such a
    plan."""
    cal, finish, total = problem.calendar, problem.finish, problem.total_blocks
    prev = problem.previous_loads
    loads = [min(prev[d] if d < len(prev) else 0, cal.day_caps[d]) for d in range(finish + 1)]
    week: dict[int, int] = {}
    for d in range(finish + 1):
        w = cal.week_of(d)
        room = cal.week_cap(w) - week.get(w, 0)
        loads[d] = max(0, min(loads[d], room))
        week[w] = week.get(w, 0) + loads[d]
    extra = total - sum(loads)
    for d in range(finish, -1, -1):  # worked ahead: fewer blocks, taken from the end
        if extra >= 0:
            break
        cut = min(loads[d], -extra)
        loads[d] -= cut
        week[cal.week_of(d)] -= cut
        extra += cut
    for d in range(finish + 1):
        if extra <= 0:
            break
        w = cal.week_of(d)
        add = min(cal.day_caps[d] - loads[d], cal.week_cap(w) - week.get(w, 0), extra)
        if add > 0:
            loads[d] += add
            week[w] = week.get(w, 0) + add
            extra -= add
    return loads


def solve_catch_up(problem: CatchUpProblem) -> DayLoadSolution | None:
    t0 = time.perf_counter()
    cal, finish, total = problem.calendar, problem.finish, problem.total_blocks
    model = cp_model.CpModel()
    loads: list[cp_model.IntVar | int] = []
    for d in range(finish + 1):
        cap = cal.day_caps[d]
        loads.append(model.new_int_var(0, cap, f"blocks_d{d}") if cap > 0 else 0)
    model.add(sum(loads) == total)
    _week_limits(model, cal, loads)
    hint = _catch_up_hint(problem)
    for d, load in enumerate(loads):
        if isinstance(load, cp_model.IntVar):
            model.add_hint(load, hint[d])
    gaps = []
    hinted = list(itertools.accumulate(hint)) if sum(hint) == total else None
    for d, cum in _running_totals(model, loads, total, finish):
        target = min(max(problem.target[d] if d < len(problem.target) else total, 0), total)
        gap = model.new_int_var(0, total, f"gap_d{d}")
        model.add(cum - target <= gap)
        model.add(target - cum <= gap)
        gaps.append(gap)
        if hinted is not None:  # the whole hint, so the search starts from a complete plan
            model.add_hint(cum, hinted[d])
            model.add_hint(gap, abs(hinted[d] - target))
    model.minimize(sum(gaps))
    build = time.perf_counter() - t0
    found = _solve(model, loads, 100, build, CATCH_UP_WORK_LIMIT)
    if found is None and hinted is not None:  # the hint obeys every limit: it is a plan (the same on any machine)
        cost = sum(abs(hinted[d] - min(max(problem.target[d] if d < len(problem.target) else total, 0), total))
                   for d, _ in enumerate(hint) if isinstance(loads[d], cp_model.IntVar) or d == finish)
        return DayLoadSolution(tuple(hint), 100, "FEASIBLE", float(cost), 0.0, build, 0.0)
    return found if found is not None else _solve(model, loads, 100, build)  # none yet: the full time limit
