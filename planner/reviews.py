"""Spaced review: short sessions after a topic's last study session, at expanding intervals.

Reviews go into the time the study plan leaves free inside the weekly hours (never into the catch-up buffer),
at most `review_cap_percent` of a week. A review that finds no room within a few days of its due date is
skipped and counted, so the learner can see what more weekly time would buy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from planner.availability import day_cap_blocks, free_slot
from planner.plan import Session, local_instant, session_uid
from planner.profile import BLOCK_MINUTES, REVIEW_MINUTES, Profile
from planner.requirements import Requirements


@dataclass(frozen=True)
class ReviewOutcome:
    sessions: tuple[Session, ...]
    skipped: int  # reviews that found no room near their due date (or fell after the last study day)


def _window(offset: int) -> int:
    """Days a review may slip past its due date: a third of the interval, at least six, so every review can
    reach the week's free time wherever it fell. Expanding intervals tolerate slack: what matters is that each
    review comes later than the one before and the gaps keep growing."""
    return max(6, offset // 3)


def place_reviews(sessions: Sequence[Session], req: Requirements, profile: Profile, *,
                  not_before: dt.date | None = None) -> ReviewOutcome:
    """Reviews for the study sessions given; reviews already among them (re-planning) are kept, not repeated,
    and new ones start no earlier than `not_before`."""
    if not profile.reviews or not sessions:
        return ReviewOutcome((), 0)
    have = {(s.topic, s.ordinal) for s in sessions if s.kind == "review" and s.status in ("done", "planned")}
    blocks = max(1, REVIEW_MINUTES // BLOCK_MINUTES)
    used: dict[dt.date, int] = defaultdict(int)
    taken: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)  # sessions' times per day
    week_total: dict[tuple[int, int], int] = defaultdict(int)
    last: dict[str, dt.date] = {}
    day_end: dict[dt.date, dt.datetime] = {}  # a review starts after the day's last session (worked-ahead ones too)
    # (instants in UTC: compared and added to in elapsed time)
    for s in sessions:
        if s.status == "cancelled" or s.status == "missed":
            continue
        used[s.day] += s.blocks
        end = s.end.astimezone(dt.UTC)
        day_end[s.day] = max(day_end.get(s.day, end), end)
        taken[s.day].append((s.start, s.end))
        iso = s.day.isocalendar()
        week_total[(iso.year, iso.week)] += s.blocks
        if s.kind != "review":
            last[s.topic] = max(last.get(s.topic, s.day), s.day)
    finish = max(s.day for s in sessions if s.kind != "review")
    week_reviews: dict[tuple[int, int], int] = defaultdict(int)
    for s in sessions:
        if s.kind == "review" and s.status not in ("cancelled", "missed"):
            week_reviews[(s.day.isocalendar().year, s.day.isocalendar().week)] += s.blocks
    cap = profile.review_cap_blocks
    tz = profile.tz
    out: list[Session] = []
    skipped = 0
    studied = [t for t in req.topics if t.reviews and t.id in last]
    for t in sorted(studied, key=lambda t: (last[t.id], t.id)):
        for n, offset in enumerate(profile.review_days[: t.reviews], start=1):
            if (t.id, n) in have:
                continue
            due = last[t.id] + dt.timedelta(days=offset)
            placed = False
            for k in range(_window(offset) + 1):
                day = due + dt.timedelta(days=k)
                if day > finish:
                    break
                if not_before is not None and day < not_before:
                    continue
                wk = (day.isocalendar().year, day.isocalendar().week)
                room = profile.day_blocks(day.weekday()) - used[day]
                if (room < blocks or profile.is_blackout(day) or week_reviews[wk] + blocks > cap
                        or week_total[wk] + blocks > profile.study_week_blocks):
                    continue
                if profile.uses_availability:  # the first free slot of the day's windows, around busy events
                    slot = free_slot(profile, day, taken[day], blocks) if day_cap_blocks(profile, day) - used[
                        day] >= blocks else None
                    if slot is None:
                        continue
                    begin, end = slot
                    taken[day].append(slot)
                else:
                    at = profile.session_starts[day.weekday()]
                    begin = local_instant(day, at, tz, used[day] * BLOCK_MINUTES).astimezone(dt.UTC)
                    begin = max(begin, day_end.get(day, begin))
                    end = begin + dt.timedelta(minutes=blocks * BLOCK_MINUTES)  # elapsed time, as study sessions
                    if end > local_instant(day + dt.timedelta(days=1), dt.time(0, 0), tz):
                        continue
                    begin, end = begin.astimezone(tz), end.astimezone(tz)
                out.append(Session(uid=session_uid(req.path_id, f"{t.id}/review", n), topic=t.id, kind="review",
                                   start=begin, end=end, ordinal=n))
                used[day] += blocks
                day_end[day] = end.astimezone(dt.UTC)
                week_total[wk] += blocks
                week_reviews[wk] += blocks
                placed = True
                break
            if not placed:
                skipped += 1
    return ReviewOutcome(tuple(out), skipped)
