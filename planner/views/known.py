"""Topics the learner already knows: which ones the form offers, and what leaving them out gave the plan.

A topic the background skips (0 h) is out of the plan already; offering it as "already known" would let the
learner pick something that changes nothing, so only topics the background studies are offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planner.curriculum import Curriculum
from planner.plan import Plan


def known_topic_choices(curriculum: Curriculum, background: str, chosen: Iterable[str]) -> dict[str, str]:
    """Topic id -> label for "Topics I already know": the path's topics this background studies, and the
    specializations' topics only once picked. A topic already chosen stays offered (a widget drops a value that
    is not among its options, and the choice is the learner's), marked when the background skips it anyway."""
    try:
        key = curriculum.background(background).key
    except (KeyError, ValueError):
        key = ""
    chosen = list(chosen)
    out: dict[str, str] = {}
    for t in curriculum.topics:
        studied = not key or t.hours_for(key) > 0
        label = f"{t.title} (specialization)" if t.elective else f"P{t.phase} · {t.title}"
        if t.id in chosen:
            out[t.id] = label if studied else f"{label} (your background skips it)"
        elif studied and t.elective is None:
            out[t.id] = label
    return out


@dataclass(frozen=True)
class KnownTopics:
    titles: tuple[str, ...]  # the topics left out because the learner knows them, in path order
    hours: float  # the study hours the background would have given them

    def text(self) -> str:
        shown = ", ".join(self.titles[:5]) + (f" and {len(self.titles) - 5} more" if len(self.titles) > 5 else "")
        word = "topic" if len(self.titles) == 1 else "topics"
        return (f"Left out because you already know them: {len(self.titles)} {word}, {self.hours:g} h of study "
                f"({shown}). Topics that need them start without waiting for them.")


def known_topics(plan: Plan, curriculum: Curriculum) -> KnownTopics | None:
    """What "Topics I already know" took out of this plan, or None when nothing (none picked, or only topics the
    background or the chosen specializations leave out anyway)."""
    picked = set(plan.profile.skip)
    if not picked:
        return None
    background = plan.requirements.background
    electives = set(plan.profile.electives)
    left = [t for t in curriculum.topics if t.id in picked and t.hours_for(background) > 0
            and (t.elective is None or t.elective in electives)]
    if not left:
        return None
    return KnownTopics(tuple(t.title for t in left), round(sum(t.hours_for(background) for t in left), 1))
