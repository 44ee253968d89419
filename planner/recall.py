"""Each topic is a card of the FSRS model (the `fsrs` package): its history of recalls says when the next review is due.

The card's first review is the topic's completion (its last study session), rated by that session (default good);
each done review is a review with its rating. The scheduler has no learning or relearning steps (a topic is not a
flash card seen again in ten minutes: every interval is whole days) and no fuzzing, so the same history always gives
the same due date. A recall counts on its day: every event is at 00:00 UTC of the learner's local date, so elapsed
time is whole days whatever hour the session was, and nothing reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fsrs import Card, Rating, Scheduler

RATINGS = ("again", "hard", "good", "easy")
DEFAULT_RATING = "good"
_RATING = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}


@dataclass(frozen=True)
class Recall:
    """One event of a card's history: the day the learner recalled the topic and how well."""

    day: dt.date
    rating: str = DEFAULT_RATING


@functools.lru_cache(maxsize=16)
def scheduler(retention: float) -> Scheduler:
    """The planner's FSRS scheduler: default weights, whole-day intervals, no fuzzing (deterministic)."""
    return Scheduler(desired_retention=retention, learning_steps=(), relearning_steps=(), enable_fuzzing=False)


def instant(day: dt.date) -> dt.datetime:
    """The instant a recall on `day` counts at (fsrs wants UTC)."""
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


@dataclass(frozen=True)
class TopicCard:
    """A topic's card after its history; `due` is the day its next review is due."""

    card: Card
    retention: float

    @property
    def due(self) -> dt.date:
        return self.card.due.astimezone(dt.UTC).date()

    def recalled(self, day: dt.date, rating: str = DEFAULT_RATING) -> TopicCard:
        card, _ = scheduler(self.retention).review_card(self.card, _RATING[rating], instant(day))
        return TopicCard(card, self.retention)

    def retrievability(self, day: dt.date) -> float:
        """The predicted chance the learner still recalls the topic on `day`."""
        return float(scheduler(self.retention).get_card_retrievability(self.card, instant(day)))


def card_from(history: Iterable[Recall], retention: float) -> TopicCard:
    """Replay a history (completion first, then each review in date order) on a new card."""
    card = TopicCard(Card(card_id=1), retention)  # a fixed id: the wall clock is the library's default
    for event in history:
        card = card.recalled(event.day, event.rating)
    return card


def projected_days(completion: dt.date, reviews: int, retention: float,
                   ratings: Sequence[str] = ()) -> list[dt.date]:
    """Due days of the first `reviews` reviews after a completion, each done on its due day with the rating given
    (good after the ratings run out): what a learner rating everything good gets when the plan has room."""
    card = card_from([Recall(completion, ratings[0] if ratings else DEFAULT_RATING)], retention)
    out = []
    for n in range(reviews):
        out.append(card.due)
        card = card.recalled(card.due, ratings[n + 1] if n + 1 < len(ratings) else DEFAULT_RATING)
    return out
