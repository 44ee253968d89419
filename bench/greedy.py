"""The baseline a learner would build in a spreadsheet: greedy earliest fit, no solver.

Walk the topics in file order and fill every study day up to its weekday hours, rounded down to whole hours
(a study day with less than one hour still gets one hour: nobody writes "0" on a day they mean to study).
Weekly caps, public holidays, blackouts and the month range are ignored, which is exactly what
planner.validate.validate_plan is there to catch. The last day takes whatever is left.
"""

from __future__ import annotations

import datetime as dt
import math
import time

from planner.curriculum import Curriculum
from planner.plan import PhaseInfo, Plan, SolverInfo, checklist_milestones, sessions_from_day_loads
from planner.profile import BLOCK_MINUTES, Profile
from planner.requirements import add_months, build_requirements

BLOCKS_PER_HOUR = 60 // BLOCK_MINUTES


def greedy_day_blocks(profile: Profile, weekday: int) -> int:
    """Whole hours on a study day, in blocks: floor of the weekday's hours, at least one hour."""
    hours = profile.weekday_hours[weekday]
    if hours <= 0:
        return 0
    return max(1, math.floor(hours + 1e-9)) * BLOCKS_PER_HOUR


def greedy_loads(profile: Profile, total_blocks: int) -> list[int]:
    """Blocks per day from the start until the work is done (holidays and weekly caps ignored)."""
    per_weekday = [greedy_day_blocks(profile, w) for w in range(7)]
    if not any(per_weekday):
        raise ValueError("no study day in the week")
    loads: list[int] = []
    left = total_blocks
    day = profile.start
    while left > 0:
        take = min(per_weekday[day.weekday()], left)
        loads.append(take)
        left -= take
        day += dt.timedelta(days=1)
    return loads


def greedy_plan(curriculum: Curriculum, profile: Profile) -> Plan:
    """A Plan built by the greedy baseline, ready for validate_plan and the exports."""
    t0 = time.perf_counter()
    req = build_requirements(curriculum, profile)  # file order (already topological for shipped paths)
    loads = greedy_loads(profile, req.total_blocks)
    sessions = sessions_from_day_loads(loads, profile.start, req, profile)
    seconds = time.perf_counter() - t0
    return Plan(
        path_id=curriculum.id, path_title=curriculum.title, profile=profile, requirements=req,
        sessions=tuple(sessions), solver=SolverInfo("GREEDY", round(seconds, 6), 0.0, 0.0),
        phases=tuple(PhaseInfo(p.number, p.title, p.objective, p.weeks) for p in curriculum.phases),
        checklist=checklist_milestones(curriculum.checklist, sessions, req, profile.start),
        earliest_allowed_finish=None,
        latest_allowed_finish=add_months(profile.start, req.months_max) - dt.timedelta(days=1),
    )
