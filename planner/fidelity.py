"""How faithful a plan is to its path: each phase's share of study time next to its share of the path's weeks,
and each checklist milestone's date next to the month range the path gives for it."""

from __future__ import annotations

from dataclasses import dataclass

from planner.plan import Plan
from planner.requirements import months_between

SHARE_TOLERANCE_POINTS = 5.0


@dataclass(frozen=True)
class PhaseShare:
    phase: int
    title: str
    hours: float
    share: float  # % of the study hours in the timed phases
    weeks_share: float  # % of the path's weeks
    within: bool


@dataclass(frozen=True)
class MilestoneFit:
    stage: str
    title: str
    months: float | None  # months from the start when it is reached
    months_min: int | None
    months_max: int | None
    verdict: str  # "early", "on time", "late", "not in plan"


def phase_shares(plan: Plan) -> list[PhaseShare]:
    timed = [p for p in plan.phases if p.weeks is not None]
    total_weeks = sum(p.weeks[1] - p.weeks[0] + 1 for p in timed if p.weeks)
    hours = {p.number: 0.0 for p in timed}
    for s in plan.active_sessions:
        if s.kind == "review" or s.status == "missed":
            continue
        t = plan.requirements.topic(s.topic)
        if t.elective is None and t.phase in hours:
            hours[t.phase] += s.hours
    total = sum(hours.values())
    out = []
    for p in timed:
        assert p.weeks is not None
        share = 100 * hours[p.number] / total if total else 0.0
        wshare = 100 * (p.weeks[1] - p.weeks[0] + 1) / total_weeks if total_weeks else 0.0
        out.append(PhaseShare(p.number, p.title, hours[p.number], share, wshare,
                              abs(share - wshare) <= SHARE_TOLERANCE_POINTS))
    return out


def milestone_fits(plan: Plan) -> list[MilestoneFit]:
    out = []
    for m in plan.checklist:
        if m.date is None:
            out.append(MilestoneFit(m.stage, m.title, None, m.months_min, m.months_max, "not in plan"))
            continue
        months = months_between(plan.profile.start, m.date)
        if m.months_min is not None and months < m.months_min:
            verdict = "early"
        elif m.months_max is not None and months > m.months_max:
            verdict = "late"
        else:
            verdict = "on time"
        out.append(MilestoneFit(m.stage, m.title, months, m.months_min, m.months_max, verdict))
    return out
