"""CSV: one row per session, for spreadsheets."""

from __future__ import annotations

from typing import Any

from planner.plan import Plan

# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): titles come from content files
# anyone can write, so such text is prefixed with a single quote and shown as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that starts like a formula gets a leading single quote; numbers and other text are unchanged.

    A carriage return becomes a newline, which the writer quotes (a bare CR would end the row for readers).
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def plan_to_csv(plan: Plan) -> bytes:
    """The plan's session table, plus `real_hours`: the time a session really took (as planned when the learner
    gave none), the partial hours of a missed one, empty for planned and cancelled sessions."""
    from pandas.api.types import is_numeric_dtype

    from planner.pace import session_real_hours

    frame = plan.to_frame()
    frame["real_hours"] = [round(session_real_hours(s), 4) if s.status in ("done", "missed") else None
                           for s in plan.sessions]
    for column in frame.columns:
        if not is_numeric_dtype(frame[column]):
            frame[column] = frame[column].map(neutralise)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
