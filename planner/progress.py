"""Progress on a plan: sessions done (with the time they really took) or missed (with partial hours), whole topics
done (with their real hours), topics that need more time, 'done through' a date."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from planner.errors import InputError
from planner.plan import Plan, Session, TopicProgress
from planner.profile import BLOCK_MINUTES

MAX_SESSION_REAL_HOURS = 24.0  # a session took at most a day


def _by_uid(plan: Plan, uids: Iterable[str], field: str) -> set[str]:
    known = {s.uid for s in plan.sessions}
    wanted = set(uids)
    for uid in sorted(wanted):
        if uid not in known:
            raise InputError(field, f"unknown session UID '{uid}'")
    return wanted


def mark_done(plan: Plan, uids: Iterable[str], hours: float | None = None, *, rating: str | None = None) -> Plan:
    """Sessions done; `hours` is the time each really took (None: as planned). Progress still counts the
    session's planned hours; the real time is what the learner's pace is measured from (planner.pace).

    `rating` ("again", "hard", "good" or "easy"; None: good) is how well the learner recalled the topic: it goes
    with a review or a topic's last study session (its completion, the first recall of the topic's card) and sets
    when the next review is due (planner.recall); on any other session it is refused, since it would mean nothing.
    The topic's following planned reviews move to the new due dates at once (planner.reviews)."""
    wanted = _by_uid(plan, uids, "--done")
    if hours is not None and not (math.isfinite(hours) and 0 < hours <= MAX_SESSION_REAL_HOURS):
        raise InputError("--hours", f"must be more than 0 and at most {MAX_SESSION_REAL_HOURS:g}, got {hours:g}")
    if rating is not None:
        _check_rating(plan, wanted, rating)
    marked = _update(plan, lambda s: replace(s, status="done", done_hours=0.0, real_hours=hours, rating=rating)
                     if s.uid in wanted else s)
    if rating is None and not any(s.rating for s in plan.sessions if s.uid in wanted):
        return marked  # a good recall, as the reviews were placed: nothing moves
    from planner.reviews import move_following_reviews

    rated = sorted({(s.topic, s.day) for s in marked.sessions if s.uid in wanted})
    sessions = marked.sessions
    for topic, day in rated:
        sessions = move_following_reviews(sessions, marked.requirements, marked.profile, topic, day)
    return replace(marked, sessions=sessions)


def _check_rating(plan: Plan, uids: set[str], rating: str) -> None:
    from planner.recall import RATINGS

    if rating not in RATINGS:
        raise InputError("--rating", f"expected one of {', '.join(RATINGS)}, got {rating!r}")
    last: dict[str, Session] = {}
    for s in plan.sessions:
        if s.kind != "review" and s.status != "cancelled" and (
                s.topic not in last or s.start.timestamp() > last[s.topic].start.timestamp()):
            last[s.topic] = s
    for s in plan.sessions:
        if s.uid in uids and s.kind != "review" and last.get(s.topic) is not s:
            raise InputError("--rating", f"'{s.uid}' is session {s.ordinal} of {s.topic}, not a review or the "
                                         f"topic's last session: only those say how well the topic is recalled")


def mark_missed(plan: Plan, uids: Iterable[str], done_hours: float = 0.0) -> Plan:
    """Missed sessions give their hours back to the pool; `done_hours` records partial study on each."""
    wanted = _by_uid(plan, uids, "--missed")
    if done_hours < 0:
        raise InputError("--partial", f"must be at least 0, got {done_hours:g}")
    return _update(plan, lambda s: replace(s, status="missed", done_hours=min(done_hours, s.hours), real_hours=None,
                                           rating=None)
                   if s.uid in wanted else s)


def mark_done_through(plan: Plan, day: dt.date) -> Plan:
    """Every planned session on or before `day` is done; sessions already marked keep their status."""
    return _update(plan, lambda s: replace(s, status="done", done_hours=0.0)
                   if s.status == "planned" and s.day <= day else s)


def mark_topic_done(plan: Plan, topic_ids: Iterable[str], hours: Mapping[str, float] | None = None) -> Plan:
    """A whole topic done or already known: all its sessions count as done. Its real hours in all are the learner's
    figure from `hours`, else what they had done on it before (none: already known, which says nothing about their
    pace)."""
    from planner.pace import topic_real_hours

    ids = set(topic_ids) | set(hours or {})
    _known_topics(plan, ids, "--topic-done")
    given = dict(hours or {})
    for tid, h in sorted(given.items()):
        if not (math.isfinite(h) and 0 <= h <= MAX_TOPIC_REAL_HOURS):
            raise InputError(f"--topic-done {tid}", f"hours must be 0 to {MAX_TOPIC_REAL_HOURS:g}, got {h:g}")
    before = topic_real_hours(plan)
    real = {tid: given.get(tid, round(before.get(tid, 0.0), 4)) for tid in ids}
    # A missed review stays missed: a re-plan placed it again under the same number, and that one is done now.
    marked = _update(plan, lambda s: replace(s, status="done", done_hours=0.0, real_hours=None)
                     if s.topic in ids and s.status not in ("cancelled", "done")
                     and not (s.kind == "review" and s.status == "missed") else s)
    marked, updates = _finish_more_hours(marked, ids)
    for tid in ids:
        updates.setdefault(tid, {})["real_hours"] = real[tid]
    return _with_progress(marked, updates)


def _finish_more_hours(plan: Plan, ids: set[str]) -> tuple[Plan, dict[str, dict[str, object]]]:
    """A finished topic needs nothing more: time asked for with `--more-hours` and not yet given sessions is
    taken back, so no re-plan schedules it."""
    credited: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.topic in ids and s.kind != "review":
            credited[s.topic] += s.credited_hours
    updates: dict[str, dict[str, object]] = {}
    topics = []
    for t in plan.requirements.topics:
        tp = plan.progress_of(t.id)
        if t.id in ids and tp is not None and tp.more_blocks > 0:
            covered = math.ceil(round(credited[t.id] * 60, 6) / BLOCK_MINUTES)
            cut = min(tp.more_blocks, max(0, t.blocks - covered))
            if cut:
                updates[t.id] = {"more_blocks": tp.more_blocks - cut}
                t = replace(t, blocks=t.blocks - cut)
        topics.append(t)
    return replace(plan, requirements=replace(plan.requirements, topics=tuple(topics))), updates


MAX_TOPIC_REAL_HOURS = 100_000.0


def mark_more_hours(plan: Plan, more: Mapping[str, float]) -> Plan:
    """A topic's sessions are done but it needs `more[id]` hours more (rounded up to 30 minutes): its planned
    sessions become done, its required hours grow by that much, so the next re-plan schedules them. Missed sessions
    stay missed (history is history: a re-plan puts their unstudied time back too). The path's estimate is kept,
    so the pace is measured against it once the topic is finished."""
    from planner.pace import estimate_blocks

    _known_topics(plan, set(more), "--more-hours")
    updates: dict[str, dict[str, object]] = {}
    topics = []
    for t in plan.requirements.topics:
        if t.id not in more:
            topics.append(t)
            continue
        h = more[t.id]
        if not (math.isfinite(h) and 0 < h <= MAX_TOPIC_REAL_HOURS):
            raise InputError(f"--more-hours {t.id}", f"hours must be more than 0, at most {MAX_TOPIC_REAL_HOURS:g}, "
                                                     f"got {h:g}")
        if t.dropped:
            raise InputError(f"--more-hours {t.id}", "the topic was dropped")
        extra = math.ceil(round(h * 60, 6) / BLOCK_MINUTES)
        tp = plan.progress_of(t.id) or TopicProgress(t.id)
        updates[t.id] = {"estimate_blocks": estimate_blocks(plan, t.id), "more_blocks": tp.more_blocks + extra,
                         "real_hours": None}
        topics.append(replace(t, blocks=t.blocks + extra))
    ids = set(more)
    marked = _update(plan, lambda s: replace(s, status="done", done_hours=0.0)
                     if s.topic in ids and s.status == "planned" and s.kind != "review" else s)
    marked = replace(marked, requirements=replace(plan.requirements, topics=tuple(topics)))
    return _with_progress(marked, updates)


def _known_topics(plan: Plan, ids: Iterable[str], field: str) -> None:
    known = {t.id for t in plan.requirements.topics}
    for tid in sorted(set(ids)):
        if tid not in known:
            raise InputError(field, f"unknown topic '{tid}' in this plan")


def _with_progress(plan: Plan, updates: Mapping[str, Mapping[str, object]]) -> Plan:
    """TopicProgress records changed as given, in the plan's topic order; records that say nothing are dropped."""
    records = {tp.topic: tp for tp in plan.topic_progress}
    for tid, fields in updates.items():
        records[tid] = replace(records.get(tid) or TopicProgress(tid), **fields)  # type: ignore[arg-type]
    order = {t.id: i for i, t in enumerate(plan.requirements.topics)}
    kept = tuple(sorted((tp for tp in records.values() if tp != TopicProgress(tp.topic)),
                        key=lambda tp: (order.get(tp.topic, len(order)), tp.topic)))
    return replace(plan, topic_progress=kept)


def _update(plan: Plan, change: object) -> Plan:
    assert callable(change)
    sessions: tuple[Session, ...] = tuple(change(s) for s in plan.sessions)
    return replace(plan, sessions=sessions)


def progress_hours(plan: Plan) -> tuple[float, float]:
    """(hours done, hours required), as planner.totals defines them: never more done than required."""
    from planner.totals import plan_totals

    t = plan_totals(plan)
    return t.done_hours, t.required_hours
