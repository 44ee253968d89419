"""Spaced review that follows recall: each topic is an FSRS card (planner.recall), reviewed when recall is due.

A topic's card starts at its completion (its last study session, rated good unless the learner said otherwise);
each review is placed on the first day on or after the card's due date that has review room, and is then projected
as a good recall on that day, which sets the next due date. Reviews go into the time the study plan leaves free
inside the weekly hours (never into the catch-up buffer), at most `review_cap_percent` of a week; when that cap
binds, the reviews with the lowest predicted recall (retrievability) go first. A review that finds no room before
the plan's last study day is skipped and counted, so the learner can see what more weekly time would buy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from planner.availability import day_cap_blocks, free_slot
from planner.plan import Session, local_instant, session_uid
from planner.profile import BLOCK_MINUTES, REVIEW_MINUTES, Profile
from planner.recall import DEFAULT_RATING, Recall, TopicCard, card_from
from planner.requirements import Requirements


@dataclass(frozen=True)
class ReviewOutcome:
    sessions: tuple[Session, ...]
    skipped: int  # reviews that found no room near their due date (or fell after the last study day)


def card_history(sessions: Sequence[Session], topic: str) -> tuple[Recall, ...]:
    """A topic's recalls as the sessions hold them: its completion (the day of its last study session that is done
    or planned, with that session's rating) and then every done or planned review after it, in date order (a
    planned one projected good). Empty when the topic has no study session left to complete it."""
    study = [s for s in sessions if s.topic == topic and s.kind != "review" and s.status in ("done", "planned")]
    if not study:
        return ()
    last = max(study, key=lambda s: (s.end.timestamp(), s.start.timestamp()))
    events = [Recall(last.day, last.rating or DEFAULT_RATING)]
    reviews = sorted((s for s in sessions if s.topic == topic and s.kind == "review"
                      and s.status in ("done", "planned") and s.day > last.day),
                     key=lambda s: (s.start.timestamp(), s.ordinal))
    events += [Recall(s.day, s.rating or DEFAULT_RATING) for s in reviews]
    return tuple(events)


def done_history(sessions: Sequence[Session], topic: str) -> tuple[Recall, ...]:
    """The recalls the learner made: the completion once the topic's last study session is done, then each done
    review (the planned ones of card_history left out)."""
    live = [s for s in sessions if s.status != "cancelled"]
    study = [s for s in live if s.topic == topic and s.kind != "review" and s.status in ("done", "planned")]
    if not study or max(study, key=lambda s: (s.end.timestamp(), s.start.timestamp())).status != "done":
        return ()
    return tuple(card_history([s for s in live if s.status == "done"], topic))


def topic_card(sessions: Sequence[Session], topic: str, retention: float) -> TopicCard | None:
    history = card_history(sessions, topic)
    return card_from(history, retention) if history else None


def place_reviews(sessions: Sequence[Session], req: Requirements, profile: Profile, *,
                  not_before: dt.date | None = None, week_blocks: int | None = None) -> ReviewOutcome:
    """Reviews for the study sessions given; reviews already among them (done, or planned and kept) are part of
    their card's history, not repeated, and new ones start no earlier than `not_before` (a review that was due
    before it, a missed one, is due then). `week_blocks`: what a week may hold in all (default: the weekly hours
    less the buffer; a catch-up the learner let use the buffer passes the weekly hours)."""
    if not profile.reviews or not sessions:
        return ReviewOutcome((), 0)
    have = {(s.topic, s.ordinal) for s in sessions if s.kind == "review" and s.status in ("done", "planned")}
    blocks = max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    used: dict[dt.date, int] = defaultdict(int)
    taken: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)  # sessions' times per day
    week_total: dict[tuple[int, int], int] = defaultdict(int)
    studied: set[str] = set()
    day_end: dict[dt.date, dt.datetime] = {}  # a review starts after the day's last session (worked-ahead ones too)
    # (instants in UTC: compared and added to in elapsed time)
    for s in sessions:
        if s.status == "cancelled" or s.status == "missed":
            continue
        used[s.day] += s.blocks
        end = s.end.astimezone(dt.UTC)
        day_end[s.day] = max(day_end.get(s.day, end), end)
        taken[s.day].append((s.start, s.end))
        week_total[_week(s.day)] += s.blocks
        if s.kind != "review":
            studied.add(s.topic)
    finish = max(s.day for s in sessions if s.kind != "review")
    week_reviews: dict[tuple[int, int], int] = defaultdict(int)
    for s in sessions:
        if s.kind == "review" and s.status not in ("cancelled", "missed"):
            week_reviews[_week(s.day)] += s.blocks
    cap = profile.review_cap_blocks
    week_limit = profile.study_week_blocks if week_blocks is None else week_blocks
    tz = profile.tz

    def slot(day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The review's time on `day` when the day and its week have room for it."""
        wk = _week(day)
        room = profile.day_blocks(day.weekday()) - used[day]
        if (room < blocks or profile.is_blackout(day) or week_reviews[wk] + blocks > cap
                or week_total[wk] + blocks > week_limit):
            return None
        if profile.uses_availability:  # the first free slot of the day's windows, around busy events
            if day_cap_blocks(profile, day) - used[day] < blocks:
                return None
            return free_slot(profile, day, taken[day], blocks)
        at = profile.session_starts[day.weekday()]
        begin = local_instant(day, at, tz, used[day] * BLOCK_MINUTES).astimezone(dt.UTC)
        begin = max(begin, day_end.get(day, begin))
        end = begin + dt.timedelta(minutes=blocks * BLOCK_MINUTES)  # elapsed time, as study sessions
        if end > local_instant(day + dt.timedelta(days=1), dt.time(0, 0), tz):
            return None
        return begin.astimezone(tz), end.astimezone(tz)

    order = {t.id: i for i, t in enumerate(req.topics)}
    cards: dict[str, TopicCard] = {}
    left: dict[str, list[int]] = {}
    for t in req.topics:
        if not t.reviews or t.id not in studied:
            continue
        ordinals = [n for n in range(1, t.reviews + 1) if (t.id, n) not in have]
        card = topic_card(sessions, t.id, profile.review_retention)
        if ordinals and card is not None:
            cards[t.id], left[t.id] = card, ordinals
    out: list[Session] = []
    # Day by day from the first due date: the reviews due that day (or overdue) in order of least recall first,
    # each placed if the day and week have room, then projected as a good recall that day.
    day = min((c.due for c in cards.values()), default=finish + dt.timedelta(days=1))
    while day <= finish and cards:
        if not_before is not None and day < not_before:
            day = not_before
            continue
        due = [tid for tid, c in cards.items() if c.due <= day]
        due.sort(key=lambda tid: (cards[tid].retrievability(day), cards[tid].due, order[tid]))
        for tid in due:
            times = slot(day)
            if times is None:
                break  # the day (or its week) is full: every other review due waits as well
            begin, end = times
            n = left[tid].pop(0)
            out.append(Session(uid=session_uid(req.path_id, f"{tid}/review", n), topic=tid, kind="review",
                               start=begin, end=end, ordinal=n))
            taken[day].append((begin, end))
            used[day] += blocks
            day_end[day] = end.astimezone(dt.UTC)
            week_total[_week(day)] += blocks
            week_reviews[_week(day)] += blocks
            if left[tid]:
                cards[tid] = cards[tid].recalled(day)
            else:
                del cards[tid], left[tid]
        later = [c.due for c in cards.values() if c.due > day]
        day = day + dt.timedelta(days=1) if len(later) < len(cards) else min(later, default=day + dt.timedelta(1))
    skipped = sum(len(v) for v in left.values())
    return ReviewOutcome(tuple(out), skipped)


def _week(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def move_following_reviews(sessions: Sequence[Session], req: Requirements, profile: Profile,
                           topic: str, after: dt.date) -> tuple[Session, ...]:
    """A rating changed when `topic`'s next review is due: its reviews planned after `after` move to the new due
    dates (each keeps its UID, its SEQUENCE + 1 when it moved, so calendars update it). One that finds no room any
    more stays where it is when that is not before its due date, else it is cancelled. Other sessions stay."""
    old = {s.ordinal: s for s in sessions if s.topic == topic and s.kind == "review" and s.status == "planned"
           and s.day > after}
    if not old or not profile.reviews:
        return tuple(sessions)
    others = [s for s in sessions if not (s.topic == topic and s.ordinal in old and s.kind == "review"
                                          and s.status == "planned" and s.day > after)]
    count = {t.id: t.reviews for t in req.topics}.get(topic, 0)
    only = replace(req, topics=tuple(replace(t, reviews=count if t.id == topic else 0) for t in req.topics))
    placed = {r.ordinal: r for r in place_reviews(others, only, profile,
                                                  not_before=after + dt.timedelta(days=1)).sessions
              if r.ordinal in old}
    card = topic_card(others, topic, profile.review_retention)
    moved = []
    for n, s in sorted(old.items()):
        new = placed.get(n)
        if new is not None:
            same = (new.start, new.end) == (s.start, s.end)
            moved.append(s if same else replace(s, start=new.start, end=new.end, sequence=s.sequence + 1))
        elif card is not None and s.day >= card.due:
            moved.append(s)
        else:
            moved.append(replace(s, status="cancelled", sequence=s.sequence + 1, cancelled_on=after))
        if card is not None:
            card = card.recalled(moved[-1].day) if moved[-1].status == "planned" else card
    return tuple(sorted([*others, *moved], key=lambda s: (s.start, s.uid)))
