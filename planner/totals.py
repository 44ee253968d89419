"""The plan's hour figures, defined once so the CLI, the JSON, the summary and the dashboard never disagree.

- required: study, project and checkpoint hours of the plan's topics (reviews are carved out of the topics'
  estimates and counted apart); for a topic dropped after some study, what was done of it.
- done: hours the learner studied on those topics — done sessions in full, the partial hours of missed ones,
  never more than a topic requires, so progress never passes 100 %.
- planned: topic hours still ahead (planned sessions).
- reviews: spaced-review hours planned or done (missed reviews are not counted).
- scheduled: done + planned + reviews, the plan's whole workload. A missed session's unstudied time is not part
  of it: a re-plan puts those hours back as new sessions, so the total does not grow with each miss.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a plan's figures: the Plan reads them (Plan.total_hours), so only its type is needed here
    from planner.plan import Plan


@dataclass(frozen=True)
class Totals:
    required_hours: float
    done_hours: float
    planned_hours: float
    review_hours: float
    reviews_done_hours: float

    @property
    def scheduled_hours(self) -> float:
        return self.done_hours + self.planned_hours + self.review_hours

    @property
    def left_hours(self) -> float:
        return max(0.0, self.required_hours - self.done_hours)

    @property
    def percent_done(self) -> float:
        if self.required_hours <= 0:
            return 100.0
        return min(100.0, 100 * self.done_hours / self.required_hours)

    def text(self) -> str:
        return (f"{self.done_hours:g} of {self.required_hours:g} h done ({self.percent_done:.0f} %), "
                f"{self.planned_hours:g} h planned, {self.review_hours:g} h of reviews")


def plan_totals(plan: Plan) -> Totals:
    credited: dict[str, float] = defaultdict(float)
    planned = 0.0
    reviews = reviews_done = 0.0
    for s in plan.sessions:
        if s.status == "cancelled":
            continue
        if s.kind == "review":
            if s.status in ("planned", "done"):
                reviews += s.hours
            if s.status == "done":
                reviews_done += s.hours
            continue
        credited[s.topic] += s.credited_hours
        if s.status == "planned":
            planned += s.hours
    required = done = 0.0
    for t in plan.requirements.topics:
        got = credited.get(t.id, 0.0)
        if t.dropped:
            required += got
            done += got
        else:
            required += t.hours
            done += min(got, t.hours)
    return Totals(_r(required), _r(done), _r(planned), _r(reviews), _r(reviews_done))


def _r(hours: float) -> float:
    return round(hours, 4)
