"""Plan JSON, format planner.plan/1 (contract in DESIGN.md; other tools read its required keys)."""

from __future__ import annotations

import json
from typing import Any

from planner.plan import Plan
from planner.planfile import FORMAT, MAX_PLAN_BYTES, load_plan, plan_from_dict, read_plan_file
from planner.totals import plan_totals

# Reading lives in planner.planfile (one reader with every guard); its names stay importable from here.
__all__ = ["FORMAT", "MAX_PLAN_BYTES", "load_plan", "plan_from_dict", "plan_to_dict", "plan_to_json",
           "read_plan_file"]


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    p, req = plan.profile, plan.requirements
    profile = p.to_dict()
    blackouts = [[a.isoformat(), b.isoformat()] for a, b in plan.blackout_ranges]
    profile["blackouts"] = blackouts
    phase_titles = {ph.number: ph.title for ph in plan.phases}
    totals = plan_totals(plan)
    return {
        "format": FORMAT,
        "path": {"id": plan.path_id, "title": plan.path_title},
        "summary": {
            "start": p.start.isoformat(),
            "finish": plan.finish.isoformat(),
            "timeline_months": [req.months_min, req.months_max],
            "months": round(plan.months, 2),
            "earliest_allowed_finish": plan.earliest_allowed_finish.isoformat()
            if plan.earliest_allowed_finish else None,
            "latest_allowed_finish": plan.latest_allowed_finish.isoformat() if plan.latest_allowed_finish else None,
            "total_hours": totals.scheduled_hours,
            "hours": {"required": totals.required_hours, "done": totals.done_hours,
                      "planned": totals.planned_hours, "reviews": totals.review_hours,
                      "scheduled": totals.scheduled_hours, "percent_done": round(totals.percent_done, 1)},
            "hours_per_week_offered": p.hours_per_week,
            "hours_per_week_peak": plan.peak_week_hours,
            "hours_per_week_mean": round(plan.mean_week_hours, 2),
            "paced": plan.paced,
            "paced_from_earliest_finish": plan.paced_to.isoformat() if plan.paced_to else None,
            "review_hours": totals.review_hours,
            "reviews_skipped": plan.reviews_skipped,
            "replanned_on": plan.replanned_on.isoformat() if plan.replanned_on else None,
            "sessions": len(plan.active_sessions),
            "forecast": _forecast(plan),
            "solver": {
                "status": plan.solver.status,
                "seconds": plan.solver.seconds,
                "objective": plan.solver.objective,
                "bound": plan.solver.bound,
                "build_seconds": plan.solver.build_seconds,
                "peak_percent": plan.solver.peak_percent,
                "focus_seconds": plan.solver.focus_seconds,
                "focus_changed_days": plan.solver.focus_changed_days,
                "focus_days_later": plan.solver.focus_days_later,
            },
        },
        "profile": profile,
        "phases": [
            {"number": row["phase"], "title": row["title"], "start": row["start"].isoformat(),
             "finish": row["finish"].isoformat(), "hours": row["hours"], "topics": row["topics"]}
            for row in plan.phase_rows()
        ],
        "topics": [
            {"id": t.id, "title": t.title, "phase": t.phase, "phase_title": phase_titles.get(t.phase, ""),
             "hours": t.hours, "reviews": t.reviews, "deliverable": t.deliverable, "requires": list(t.requires),
             "kind": t.kind, "optional": t.optional,
             "elective": t.elective, "resources": list(t.resources),
             **({"dropped": True} if t.dropped else {}), **_topic_progress(plan, t.id), **_review_log(plan, t.id)}
            for t in req.topics
        ],
        "milestones": [
            {"stage": m.stage, "title": m.title, "date": m.date.isoformat() if m.date else None,
             "months": round(_months(plan, m.date), 2) if m.date else None,
             "range_months": [m.months_min, m.months_max], "requires": list(m.requires)}
            for m in plan.checklist
        ],
        "sessions": [
            {"uid": s.uid, "topic": s.topic, "kind": s.kind, "start": s.start.isoformat(),
             "end": s.end.isoformat(), "status": s.status, "sequence": s.sequence, "ordinal": s.ordinal,
             "hours": s.hours, "done_hours": s.credited_hours, **_cancelled_on(plan, s),
             **({"real_hours": s.real_hours} if s.status == "done" and s.real_hours is not None else {}),
             **({"rating": s.rating} if s.status == "done" and s.rating is not None else {})}
            for s in plan.sessions
        ],
    }


def _topic_progress(plan: Plan, topic_id: str) -> dict[str, float]:
    """Real hours and the path's estimate, written only for topics that have them (planner.plan.TopicProgress)."""
    from planner.profile import BLOCK_MINUTES

    tp = plan.progress_of(topic_id)
    if tp is None:
        return {}
    out: dict[str, float] = {}
    if tp.estimate_blocks is not None:
        out["estimate_hours"] = tp.estimate_blocks * BLOCK_MINUTES / 60
    if tp.more_blocks:
        out["more_hours"] = tp.more_blocks * BLOCK_MINUTES / 60
    if tp.real_hours is not None:
        out["real_hours"] = tp.real_hours
    return out


def _review_log(plan: Plan, topic_id: str) -> dict[str, Any]:
    """The topic's card history so far (planner.recall): its completion and each done review, with their ratings.
    Written for readers; the plan's own record is each done session's `rating`, so the two cannot disagree."""
    from planner.reviews import done_history

    log = done_history(plan.sessions, topic_id)
    return {"review_log": [{"date": e.day.isoformat(), "rating": e.rating} for e in log]} if log else {}


def _forecast(plan: Plan) -> dict[str, Any]:
    """The forecast as of the plan's last recorded day (planner.forecast.as_of); `planner forecast` for another."""
    from planner.forecast import forecast

    return forecast(plan).to_dict()


def _cancelled_on(plan: Plan, s: Any) -> dict[str, str]:
    """The re-plan that cancelled a session; the calendar export carries only the latest re-plan's."""
    when = s.cancelled_on or plan.replanned_on
    return {"cancelled_on": when.isoformat()} if s.status == "cancelled" and when else {}


def _months(plan: Plan, day: Any) -> float:
    from planner.requirements import months_between

    return months_between(plan.profile.start, day)


def plan_to_json(plan: Plan) -> bytes:
    return (json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
