"""Progress on a plan: sessions done or missed (with partial hours), whole topics done, 'done through' a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from planner.errors import InputError
from planner.plan import Plan, Session


def _by_uid(plan: Plan, uids: Iterable[str], field: str) -> set[str]:
    known = {s.uid for s in plan.sessions}
    wanted = set(uids)
    for uid in sorted(wanted):
        if uid not in known:
            raise InputError(field, f"unknown session UID '{uid}'")
    return wanted


def mark_done(plan: Plan, uids: Iterable[str]) -> Plan:
    wanted = _by_uid(plan, uids, "--done")
    return _update(plan, lambda s: replace(s, status="done", done_hours=0.0) if s.uid in wanted else s)


def mark_missed(plan: Plan, uids: Iterable[str], done_hours: float = 0.0) -> Plan:
    """Missed sessions give their hours back to the pool; `done_hours` records partial study on each."""
    wanted = _by_uid(plan, uids, "--missed")
    if done_hours < 0:
        raise InputError("--partial", f"must be at least 0, got {done_hours:g}")
    return _update(plan, lambda s: replace(s, status="missed", done_hours=min(done_hours, s.hours))
                   if s.uid in wanted else s)


def mark_done_through(plan: Plan, day: dt.date) -> Plan:
    """Every planned session on or before `day` is done; sessions already marked keep their status."""
    return _update(plan, lambda s: replace(s, status="done", done_hours=0.0)
                   if s.status == "planned" and s.day <= day else s)


def mark_topic_done(plan: Plan, topic_ids: Iterable[str]) -> Plan:
    """A whole topic done or already known: all its sessions count as done."""
    ids = set(topic_ids)
    known = {t.id for t in plan.requirements.topics}
    for tid in sorted(ids):
        if tid not in known:
            raise InputError("--topic-done", f"unknown topic '{tid}' in this plan")
    return _update(plan, lambda s: replace(s, status="done", done_hours=0.0)
                   if s.topic in ids and s.status != "cancelled" else s)


def _update(plan: Plan, change: object) -> Plan:
    assert callable(change)
    sessions: tuple[Session, ...] = tuple(change(s) for s in plan.sessions)
    return replace(plan, sessions=sessions)


def progress_hours(plan: Plan) -> tuple[float, float]:
    """(hours done, hours required), as planner.totals defines them: never more done than required."""
    from planner.totals import plan_totals

    t = plan_totals(plan)
    return t.done_hours, t.required_hours
