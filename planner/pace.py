"""The learner's measured pace: how their real hours compare with the path's estimates, and how many hours a week
they really study. The model, its prior and where the numbers come from: docs/pace-and-forecast.md.

Pace. For each finished topic i, y_i = log(real hours / estimated hours). The model is linear-Gaussian:

    y_i = mu + delta_kind(i) + eps_i,   eps_i ~ Normal(0, sigma^2)
    mu ~ Normal(log prior median, prior sd^2)   (per background)
    delta_project, delta_checkpoint ~ Normal(0, KIND_SD^2)   (study is the reference kind: delta_study = 0)
    sigma^2 ~ scaled-inverse-chi^2(NOISE_DOF, NOISE_SD^2)   (updated with the learner's residuals)

so a learner's first topics move the multiplier only as far as their number warrants, and a kind (projects,
checkpoints) gets a multiplier of its own only as the data supports it. The posterior is exact given sigma; sigma
is drawn from its scaled-inverse-chi^2 posterior, so the bounds widen when the learner's topics scatter more than
the prior assumed.

Weekly hours. The real hours studied in recent whole weeks against the hours those weeks' sessions planned,
shrunk toward the plan (PRIOR_WEEKS weeks at the planned hours), times the weekly hours the plan was made for.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from planner.plan import Plan, Session, TopicProgress
from planner.profile import BLOCK_MINUTES

if TYPE_CHECKING:
    import numpy as np

# (median of the learner's multiplier, sd of its log) per background: assumptions informed by the planning-fallacy
# literature, see docs/pace-and-forecast.md. A background the table does not name gets DEFAULT_PRIOR.
PRIORS: dict[str, tuple[float, float]] = {
    "complete_beginner": (1.10, 0.30),
    "ml_background": (1.05, 0.25),
    "full_time_accelerated": (1.15, 0.30),
}
DEFAULT_PRIOR = (1.10, 0.30)
KIND_SD = 0.20  # how far a kind's pace may sit from the learner's study pace (log scale), before data
KINDS = ("study", "project", "checkpoint")  # reviews are not measured: their time is fixed
MIN_KIND_TOPICS = 3  # a re-plan gives a kind its own multiplier once this many of its topics are measured
NOISE_SD = 0.40  # one topic's log ratio around the learner's pace, before data
NOISE_DOF = 4  # the prior noise counts as this many topics
MAX_NOISE_SD = 2.0  # a topic 7× its learner's pace at one sd: beyond anything plausible
CREDIBLE = (0.10, 0.90)  # low and high: an 80 % credible interval
SAMPLES = 4000
SEED = 20_261_201  # fixed: the same plan gives the same figures on every run
RECENT_WEEKS = 8  # weeks of history the weekly hours are measured over
PRIOR_WEEKS = 3  # the plan's weekly hours count as this many weeks of history
EPS = 1e-6


# ---------------------------------------------------------------- what a topic took


@dataclass(frozen=True)
class TopicMeasure:
    topic: str
    kind: str
    estimate_hours: float
    real_hours: float

    @property
    def ratio(self) -> float:
        return self.real_hours / self.estimate_hours


_UNSET = TopicProgress("")


def estimate_blocks(plan: Plan, topic_id: str, tp: TopicProgress | None = _UNSET) -> int:
    """The path's estimate for a topic (study blocks, reviews carved out), whatever the plan now gives it."""
    tp = plan.progress_of(topic_id) if tp is _UNSET else tp
    if tp is not None and tp.estimate_blocks is not None:
        return tp.estimate_blocks
    return plan.requirements.topic(topic_id).blocks - (tp.more_blocks if tp is not None else 0)


def session_real_hours(s: Session) -> float:
    """Time a session really took: what the learner said, else its planned hours when done, the partial hours when
    missed, nothing when planned or cancelled."""
    if s.status == "done":
        return s.real_hours if s.real_hours is not None else s.hours
    if s.status == "missed":
        return s.credited_hours
    return 0.0


def topic_real_hours(plan: Plan) -> dict[str, float]:
    """Real hours on each topic's sessions (reviews apart: their time is fixed by the plan)."""
    out: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.kind != "review":
            out[s.topic] += session_real_hours(s)
    return out


def finished_topics(plan: Plan) -> list[TopicMeasure]:
    """Topics the learner finished, with their estimate and real hours. A topic is finished when nothing of it is
    planned and its hours are done, or when the learner said so with their hours (`--topic-done ID=H`). One
    finished with no time on it was already known: it says nothing about pace and is left out."""
    credited: dict[str, float] = defaultdict(float)
    planned: set[str] = set()
    for s in plan.sessions:
        if s.kind == "review" or s.status == "cancelled":
            continue
        credited[s.topic] += s.credited_hours
        if s.status == "planned":
            planned.add(s.topic)
    real = topic_real_hours(plan)
    progress = {tp.topic: tp for tp in plan.topic_progress}
    out = []
    for t in plan.requirements.topics:
        if t.dropped or t.kind not in KINDS:
            continue
        tp = progress.get(t.id)
        stated = tp.real_hours if tp is not None else None
        done = t.id not in planned and credited.get(t.id, 0.0) >= t.hours - EPS
        if not done:
            continue
        hours = stated if stated is not None else real.get(t.id, 0.0)
        estimate = estimate_blocks(plan, t.id, tp) * BLOCK_MINUTES / 60
        if hours > EPS and estimate > EPS:
            out.append(TopicMeasure(t.id, t.kind, estimate, hours))
    return out


# ---------------------------------------------------------------- the pace posterior


@dataclass(frozen=True)
class PacePosterior:
    """Draws from the posterior: `theta[s]` = (mu, delta_project, delta_checkpoint), `sigma[s]` the topic noise."""

    theta: np.ndarray
    sigma: np.ndarray
    topics_measured: int
    prior: tuple[float, float]
    kind_counts: tuple[tuple[str, int], ...] = ()  # measured topics per kind

    def log_multiplier(self, kind: str) -> np.ndarray:
        col = KINDS.index(kind) if kind in KINDS else 0
        return self.theta[:, 0] + (self.theta[:, col] if col else 0.0)

    def summary(self, kind: str = "study") -> tuple[float, float, float]:
        """(median, low, high) of a kind's multiplier: real hours per estimated hour on average over its topics
        (exp(mu + sigma^2 / 2), the mean of the log-normal), so estimate × multiplier is the expected time."""
        import numpy as np

        m = np.exp(self.log_multiplier(kind) + self.sigma**2 / 2)
        lo, mid, hi = np.quantile(m, [CREDIBLE[0], 0.5, CREDIBLE[1]])
        return float(mid), float(lo), float(hi)


def prior_for(background: str) -> tuple[float, float]:
    return PRIORS.get(background, DEFAULT_PRIOR)


def _design(kind: str) -> list[float]:
    return [1.0, 1.0 if kind == "project" else 0.0, 1.0 if kind == "checkpoint" else 0.0]


def posterior(measures: list[TopicMeasure], background: str, *, samples: int = SAMPLES,
              rng: np.random.Generator | None = None) -> PacePosterior:
    """Posterior draws of the learner's pace given their finished topics (exact given the noise; the noise drawn
    from its own posterior, which the learner's residuals update)."""
    import numpy as np

    rng = rng if rng is not None else np.random.default_rng(SEED)
    median, sd = prior_for(background)
    # The prior names the mean multiplier; mu is the log of a topic's median ratio, sigma^2 / 2 below it.
    m0 = np.array([math.log(median) - NOISE_SD**2 / 2, 0.0, 0.0])
    p0 = np.diag([1 / sd**2, 1 / KIND_SD**2, 1 / KIND_SD**2])  # prior precision
    n = len(measures)
    x = np.array([_design(m.kind) for m in measures]).reshape(n, 3)
    y = np.array([math.log(m.ratio) for m in measures])
    xtx, xty = x.T @ x, x.T @ y
    # The noise: residuals around the posterior mean at the prior noise update its scaled-inverse-chi^2.
    mean0 = np.linalg.solve(p0 + xtx / NOISE_SD**2, p0 @ m0 + xty / NOISE_SD**2)
    rss = float(np.sum((y - x @ mean0) ** 2)) if n else 0.0
    dof = NOISE_DOF + n
    scale = (NOISE_DOF * NOISE_SD**2 + rss) / dof
    # Clipped at MAX_NOISE_SD: the far tail of the inverse-chi^2 would otherwise give topics of e^100 times their
    # estimate, which no learner takes (and which overflow).
    sigma2 = np.minimum(dof * scale / rng.chisquare(dof, size=samples), MAX_NOISE_SD**2)
    # theta | sigma: Normal with precision p0 + X'X / sigma^2, batched over the draws.
    prec = p0[None, :, :] + xtx[None, :, :] / sigma2[:, None, None]
    cov = np.linalg.inv(prec)
    mean = np.einsum("sij,sj->si", cov, (p0 @ m0)[None, :] + xty[None, :] / sigma2[:, None])
    chol = np.linalg.cholesky(cov)
    theta = mean + np.einsum("sij,sj->si", chol, rng.standard_normal((samples, 3)))
    counts = tuple((k, sum(1 for m in measures if m.kind == k)) for k in KINDS)
    return PacePosterior(theta, np.sqrt(sigma2), n, (median, sd), counts)


@dataclass(frozen=True)
class Pace:
    """The learner's study multiplier (real ÷ estimated hours) with an 80 % credible interval, and per kind."""

    multiplier: float
    low: float
    high: float
    topics_measured: int
    by_kind: tuple[tuple[str, float, float, float], ...]  # (kind, multiplier, low, high)
    prior: tuple[float, float]
    kind_counts: tuple[tuple[str, int], ...] = ()

    def kind_multiplier(self, kind: str) -> float:
        """The multiplier a re-plan gives a topic of this kind, as reported (3 decimals): the kind's own once
        MIN_KIND_TOPICS of it are measured, else the learner's study pace."""
        own = next((m for k, m, _, _ in self.by_kind if k == kind), self.multiplier)
        count = dict(self.kind_counts).get(kind, 0)
        return round(own if kind == "study" or count >= MIN_KIND_TOPICS else self.multiplier, 3)

    def to_dict(self) -> dict[str, Any]:
        return {"multiplier": round(self.multiplier, 3), "low": round(self.low, 3), "high": round(self.high, 3),
                "topics_measured": self.topics_measured,
                "by_kind": {k: {"multiplier": round(m, 3), "low": round(lo, 3), "high": round(hi, 3),
                                "topics_measured": dict(self.kind_counts).get(k, 0)}
                            for k, m, lo, hi in self.by_kind},
                "prior": {"multiplier": self.prior[0], "log_sd": self.prior[1]}}

    def text(self) -> str:
        basis = (f"from {self.topics_measured} finished topic{'s' if self.topics_measured != 1 else ''}"
                 if self.topics_measured else "no topic finished yet: the prior for your background")
        return f"{self.multiplier:.2f}× the estimate (80 % sure: {self.low:.2f}–{self.high:.2f}×), {basis}"


def pace_of(post: PacePosterior) -> Pace:
    by_kind = tuple((k, *post.summary(k)) for k in KINDS)
    mid, lo, hi = post.summary("study")
    return Pace(mid, lo, hi, post.topics_measured, by_kind, post.prior, post.kind_counts)


def measure_pace(plan: Plan) -> Pace:
    """The pace from the plan's finished topics (deterministic: seeded draws)."""
    return pace_of(posterior(finished_topics(plan), plan.requirements.background))


# ---------------------------------------------------------------- real weekly hours


@dataclass(frozen=True)
class WeeklyHours:
    measured: float  # the weekly hours the forecast plans with, rounded to half hours
    planned: float  # the weekly hours the plan was made for
    attendance: float  # real hours ÷ planned hours over the weeks measured, shrunk toward 1
    weeks_measured: int

    def to_dict(self) -> dict[str, Any]:
        return {"measured": self.measured, "planned": self.planned, "attendance": round(self.attendance, 3),
                "weeks_measured": self.weeks_measured}


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def measure_weekly_hours(plan: Plan, today: dt.date) -> WeeklyHours:
    """Hours really studied in the last RECENT_WEEKS whole weeks before today's, against what those weeks'
    sessions planned (a planned session before today counts as missed), shrunk toward the plan with PRIOR_WEEKS
    weeks of its own hours. Weeks with nothing planned (holidays, blackouts) say nothing and are skipped."""
    this_week = _monday(today)
    first = this_week - dt.timedelta(weeks=RECENT_WEEKS)
    planned: dict[dt.date, float] = defaultdict(float)
    real: dict[dt.date, float] = defaultdict(float)
    for s in plan.sessions:
        if s.status == "cancelled" or not first <= s.day < this_week:
            continue
        week = _monday(s.day)
        planned[week] += s.hours
        real[week] += session_real_hours(s)
    weeks = [w for w, h in planned.items() if h > EPS]
    offered = plan.profile.hours_per_week
    total_planned = sum(planned[w] for w in weeks)
    if not weeks:
        return WeeklyHours(offered, offered, 1.0, 0)
    prior_hours = PRIOR_WEEKS * total_planned / len(weeks)
    attendance = (prior_hours + sum(real[w] for w in weeks)) / (prior_hours + total_planned)
    measured = max(0.5, round(offered * attendance * 2) / 2)
    return WeeklyHours(measured, offered, attendance, len(weeks))


# ---------------------------------------------------------------- planning at the learner's pace


def scaled_blocks(estimate: int, multiplier: float) -> int:
    """An estimate at the learner's pace, rounded up to whole 30-minute blocks."""
    return max(1, math.ceil(estimate * multiplier - 1e-9))


def at_pace(plan: Plan, pace: Pace) -> Plan:
    """The plan with each open topic's hours at the learner's pace (estimate × its kind's multiplier, rounded up to
    30 minutes); finished and dropped topics, and ones the learner asked more time for (`--more-hours`: their own
    figure), are as they were. The path's estimate is kept (TopicProgress.estimate_blocks), so re-planning again
    never compounds and the pace is always measured against the path's figures. A topic with study left keeps at
    least one block."""
    credited: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        if s.kind != "review" and s.status != "cancelled":
            credited[s.topic] += s.credited_hours
    progress = {tp.topic: tp for tp in plan.topic_progress}
    topics = []
    for t in plan.requirements.topics:
        done_minutes = round(credited.get(t.id, 0.0) * 60, 6)
        open_ = not t.dropped and t.kind in KINDS and done_minutes < t.blocks * BLOCK_MINUTES - EPS
        if not open_:
            topics.append(t)
            continue
        tp = progress.get(t.id) or TopicProgress(t.id)
        if tp.more_blocks:  # the learner said what it needs: their figure, not the multiplier's
            topics.append(t)
            continue
        estimate = estimate_blocks(plan, t.id)
        blocks = scaled_blocks(estimate, pace.kind_multiplier(t.kind))
        blocks = max(blocks, math.floor(done_minutes / BLOCK_MINUTES) + 1)
        if blocks != t.blocks:
            progress[t.id] = replace(tp, estimate_blocks=estimate)
            t = replace(t, blocks=blocks)
        topics.append(t)
    order = [t.id for t in plan.requirements.topics]
    kept = tuple(sorted(progress.values(), key=lambda tp: order.index(tp.topic) if tp.topic in order else 0))
    return replace(plan, requirements=replace(plan.requirements, topics=tuple(topics)), topic_progress=kept)
