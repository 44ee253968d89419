"""CSV: one row per session, for spreadsheets."""

from __future__ import annotations

from planner.plan import Plan


def plan_to_csv(plan: Plan) -> bytes:
    return plan.to_frame().to_csv(index=False, lineterminator="\n").encode("utf-8")
