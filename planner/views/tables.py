"""The plan as headline figures, captions and tables (pandas), for the Plan and Calendar pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from planner.plan import Plan
from planner.solve import Infeasible
from planner.views.form import Band
from planner.views.today import STATE_WORDS, session_state
from planner.views.tracking import today_in

SESSION_COLUMNS = {
    "date": "Date", "weekday": "Day", "start_time": "Start", "end_time": "End", "hours": "Hours",
    "phase": "Phase", "title": "Topic", "session": "Session", "kind": "Kind", "status": "Status",
}


# ---------------------------------------------------------------- headline and captions


def plan_metrics(plan: Plan) -> list[tuple[str, str, str]]:
    """(label, value, help) for the headline metrics row: short values, so nothing is cut at 1280 px. Every
    figure is planner.totals' own, so Progress and the captions show the same ones."""
    from planner import totals as t

    req, p = plan.requirements, plan.profile
    breakdown = hours_breakdown(plan)
    return [
        ("Finish", plan.finish.isoformat(), f"Start {p.start}; last allowed day {plan.latest_allowed_finish}"),
        ("Months", f"{plan.months:.1f}", f"Calendar months from the start date; the path's range for your "
                                         f"background is {req.months_min}–{req.months_max} months"),
        ("Total hours", f"{t.total_hours(plan):g} h", breakdown.text),
        ("Busiest week", f"{t.busiest_week_hours(plan):g} of {p.hours_per_week:g} h",
         f"The most hours any week holds, of the {p.hours_per_week:g} h a week you offered "
         f"({p.buffer_percent} % of each week stays free); {t.average_week_hours(plan):g} h in an average week"),
    ]


@dataclass(frozen=True)
class HoursBreakdown:
    """The plan's total hours (planner.totals.total_hours) and what they are made of, by kind."""

    study: float
    reviews: float
    projects: float
    checkpoints: float

    @property
    def total(self) -> float:
        return round(self.study + self.reviews + self.projects + self.checkpoints, 2)

    @property
    def text(self) -> str:
        return (f"{self.study:g} h study + {self.reviews:g} h reviews + {self.projects:g} h projects + "
                f"{self.checkpoints:g} h checkpoints")


def hours_breakdown(plan: Plan) -> HoursBreakdown:
    """planner.totals.total_hours split by kind: the topic hours each topic requires (study, project or
    checkpoint, by the kind of its sessions; missed time not yet placed again still counts) and the reviews."""
    from planner import totals as t

    kinds: dict[str, dict[str, float]] = {}
    for s in plan.active_sessions:
        if s.kind != "review":
            by_kind = kinds.setdefault(s.topic, {})
            by_kind[s.kind] = by_kind.get(s.kind, 0.0) + s.hours
    sums = {"study": 0.0, "project": 0.0, "checkpoint": 0.0}
    credited: dict[str, float] = {}
    for s in plan.sessions:
        if s.kind != "review" and s.status != "cancelled":
            credited[s.topic] = credited.get(s.topic, 0.0) + s.credited_hours
    for topic in plan.requirements.topics:
        need = credited.get(topic.id, 0.0) if topic.dropped else topic.hours
        by_kind = kinds.get(topic.id) or {"study": 1.0}
        whole = sum(by_kind.values()) or 1.0
        for kind, hours in by_kind.items():
            sums[kind if kind in sums else "study"] += need * hours / whole
    study = t.topic_hours(plan) - round(sums["project"], 2) - round(sums["checkpoint"], 2)
    return HoursBreakdown(round(study, 2), round(t.review_hours(plan), 2), round(sums["project"], 2),
                          round(sums["checkpoint"], 2))


def about_plan_rows(plan: Plan) -> list[tuple[str, str]]:
    """Technical facts for the "About this plan" expander (the solver is not a learner's concern)."""
    s = plan.solver
    return [
        ("Solver status", s.status.lower()),
        ("Solve time", f"{s.seconds:.2f} s (model built in {s.build_seconds:.3f} s)"),
        ("Objective / bound", f"{s.objective:g} / {s.bound:g}"),
        ("Sessions", str(len(plan.active_sessions))),
        ("Catch-up buffer", f"{plan.profile.buffer_percent} % of each week"),
        ("Timezone", plan.profile.timezone),
    ]


def _buffer_words(plan: Plan) -> str:
    from planner.replan import buffer_words

    return buffer_words(plan)


def pacing_caption(plan: Plan) -> str:
    """How the plan uses the hours offered, with the same figures as the headline (planner.totals)."""
    from planner import totals as t

    req, p = plan.requirements, plan.profile
    busiest = t.busiest_week_hours(plan)
    if plan.paced:
        return (f"You offered {p.hours_per_week:g} h/week; the plan finishes at the range minimum "
                f"({req.months_min} months, {plan.finish}) with {t.average_week_hours(plan):g} h in an average "
                f"week and at most {busiest:g} h in any week. The extra time is yours.")
    return (f"You offered {p.hours_per_week:g} h/week; the busiest week holds {busiest:g} h "
            f"({_buffer_words(plan)}) and the plan finishes {plan.finish}, "
            f"{plan.months:.1f} months into the {req.months_min}–{req.months_max} month range.")


@dataclass(frozen=True)
class InfeasibleFacts:
    headline: str
    min_hours: float | None
    earliest_finish: dt.date | None
    earliest_months: float | None
    drop_ids: tuple[str, ...]
    drop_hours: float
    drop_fits: bool
    drop_finish: dt.date | None
    drop_titles: tuple[str, ...]


def infeasible_facts(result: Infeasible) -> InfeasibleFacts:
    """The does-not-fit panel's figures: topic hours as the path table and a plan count them (planner.totals),
    the reviews apart and said to be an estimate (no plan has placed them)."""
    from planner.totals import estimated_review_hours

    drop = result.drop
    reviews = estimated_review_hours(result.review_count)
    hours = f"{round(result.needed_hours - reviews, 4):g} h of topics and about {reviews:g} h of reviews"
    return InfeasibleFacts(
        headline=(f"{hours} at {result.hours_per_week:g} h/week cannot finish within "
                  f"{result.months_max} months (by {result.latest_finish}) — the range for "
                  f"{result.background.replace('_', ' ')} is {result.months_min}–{result.months_max} months."),
        min_hours=result.min_hours_per_week,
        earliest_finish=result.earliest_finish,
        earliest_months=result.earliest_finish_months,
        drop_ids=tuple(t[0] for t in drop.topics) if drop else (),
        drop_hours=drop.freed_hours if drop else 0.0,
        drop_fits=bool(drop and drop.fits),
        drop_finish=drop.finish if drop else None,
        drop_titles=tuple(f"{t[1]} ({t[2]:g} h)" for t in drop.topics) if drop else (),
    )


# ---------------------------------------------------------------- tables


def naive_time(ts: str) -> pd.Timestamp:
    """Local wall-clock time of an ISO timestamp with offset (charts show the learner's local times)."""
    return pd.Timestamp(dt.datetime.fromisoformat(ts).replace(tzinfo=None))


def phase_label(number: int | None, title: str) -> str:
    return f"Phase {number} · {title}" if number is not None else title


def sessions_frame(plan: Plan, phases: Sequence[int] | None = None) -> pd.DataFrame:
    """The session table with readable column names, optionally filtered to some phases."""
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"].copy()
    today = today_in(plan)  # one word per state, as on Today (partly done, overdue)
    states = {x.uid: STATE_WORDS.get(session_state(x, today), x.status) for x in plan.sessions}
    df["status"] = [states.get(u, st) for u, st in zip(df["uid"], df["status"], strict=True)]
    if phases:
        df = df[df["phase"].isin(list(phases))]
    return df[list(SESSION_COLUMNS)].rename(columns=SESSION_COLUMNS).reset_index(drop=True)


def sessions_caption(plan: Plan, phases: Sequence[int] | None = None) -> str:
    """The session table's count and hours, split as the weekly chart splits them (planner.totals)."""
    from planner.totals import session_hours

    table = sessions_frame(plan, phases)
    planned, done, missed = session_hours(plan, phases)
    parts = [f"{done:g} h done"] if done else []
    parts.append(f"{planned:g} h planned")
    if missed:
        parts.append(f"{missed:g} h missed")
    return f"{len(table)} sessions: " + ", ".join(parts) + "."


def week_agenda(plan: Plan, today: dt.date) -> tuple[str, pd.DataFrame]:
    """Sessions of the current ISO week, or of the plan's first week when it starts later."""
    sessions = plan.active_sessions
    if not sessions:
        return "No sessions", sessions_frame(plan).iloc[0:0]
    first = min(s.day for s in sessions)
    last = max(s.day for s in sessions)
    if today < first:
        anchor, title = first, "First week"
    elif today > last:
        anchor, title = last, "Last week (the plan is over)"
    else:
        anchor, title = today, "This week"
    monday = anchor - dt.timedelta(days=anchor.weekday())
    sunday = monday + dt.timedelta(days=6)
    df = sessions_frame(plan)
    dates = pd.to_datetime(df["Date"]).dt.date
    week = df[(dates >= monday) & (dates <= sunday)].reset_index(drop=True)
    return f"{title}: {monday:%a %d %b} – {sunday:%a %d %b %Y}", week


def milestones_frame(plan: Plan) -> pd.DataFrame:
    """Each checklist milestone's date, judged against the learner's own range (planner.totals.milestone_months:
    the path's months laid over their background's timeline), the path's own months shown beside it."""
    from planner.requirements import months_between
    from planner.totals import milestone_months, milestone_verdict

    rows = []
    for m in plan.checklist:
        rng = f"{m.months_min}–{m.months_max}" if m.months_max else f"{m.months_min}+"
        window = milestone_months(plan, m.months_min, m.months_max)
        yours = "—" if window is None else (f"{window[0]:g}–{window[1]:g}" if window[1] is not None
                                            else f"{window[0]:g}+")
        months = None
        verdict = "not in this plan"
        if m.date is not None:
            months = round(months_between(plan.profile.start, m.date), 1)
            verdict = milestone_verdict(plan, months, m.months_min, m.months_max)
        rows.append({"Stage": m.stage, "Milestone": m.title,
                     "Planned date": m.date.isoformat() if m.date else "—",
                     "Months in": months, "Your range (months)": yours, "Path says (months)": rng,
                     "Verdict": verdict})
    return pd.DataFrame(rows, columns=["Stage", "Milestone", "Planned date", "Months in", "Your range (months)",
                                       "Path says (months)", "Verdict"])


def phases_frame(plan: Plan) -> pd.DataFrame:
    """Each phase's dates and its topic hours (planner.totals.phase_topic_hours: the figure Progress's per-phase
    table requires, not a sum of sessions that would count a missed one in full)."""
    from planner.totals import phase_topic_hours

    hours = phase_topic_hours(plan)
    rows = [{"Phase": r["phase"], "Title": r["title"], "Start": r["start"].isoformat(),
             "Finish": r["finish"].isoformat(), "Topic hours": hours.get(r["phase"], (0.0, 0.0))[0],
             "Topics": r["topics"]}
            for r in plan.phase_rows()]
    return pd.DataFrame(rows, columns=["Phase", "Title", "Start", "Finish", "Topic hours", "Topics"])


def bands_frame(bands: Mapping[str, Band]) -> pd.DataFrame:
    """The path table: topic hours as every plan counts them (planner.totals.topic_hours), reviews apart."""
    return pd.DataFrame([{"Background": b.label, "Months": f"{b.months_min}–{b.months_max}",
                          "Topic hours": b.total_hours, "Reviews (about)": b.review_hours,
                          "Recommended h/week": b.hours_text}
                         for b in bands.values()])


def quality_caption(plan: Plan) -> str:
    """What the plan holds besides topic sessions, and how focused it is, in one paragraph."""
    from planner.focus import focus_report

    reviews = sum(1 for s in plan.active_sessions if s.kind == "review")
    projects = len({s.topic for s in plan.active_sessions if s.kind == "project"})
    checkpoints = sum(1 for s in plan.active_sessions if s.kind == "checkpoint")
    text = (f"Includes {projects} portfolio projects, {checkpoints} checkpoints and {reviews} spaced reviews "
            f"(due when your recall falls to {plan.profile.review_retention:.0%}); "
            f"{_buffer_words(plan)}.")
    if plan.reviews_skipped:
        text += f" {plan.reviews_skipped} reviews found no room; a little more weekly time would fit them."
    return text + " Focus: " + focus_report(plan).text() + "."


def fidelity_frame(plan: Plan) -> pd.DataFrame:
    from planner.fidelity import phase_shares

    rows = [{"Phase": sh.phase, "Title": sh.title, "Study hours": round(sh.hours, 1),
             "Share of hours": round(sh.share, 1), "Share of path weeks": round(sh.weeks_share, 1),
             "Within ±5 points": "yes" if sh.within else "no"} for sh in phase_shares(plan)]
    return pd.DataFrame(rows, columns=["Phase", "Title", "Study hours", "Share of hours", "Share of path weeks",
                                       "Within ±5 points"])


