"""What the dashboard shows, as plain functions: form <-> profile fields, tables, captions and Altair charts.

Nothing here touches Streamlit, so every view is unit-testable (charts through `chart.to_dict()`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS, next_monday, profile_from_mapping
from planner.requirements import build_requirements
from planner.solve import Infeasible

DEFAULT_BACKGROUND = "ml_background"
DEFAULT_HOURS = 18.0
WEEKDAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
                 "sat": "Saturday", "sun": "Sunday"}
SESSION_COLUMNS = {
    "date": "Date", "weekday": "Day", "start_time": "Start", "end_time": "End", "hours": "Hours",
    "phase": "Phase", "title": "Topic", "session": "Session", "kind": "Kind", "status": "Status",
}


# ---------------------------------------------------------------- backgrounds


@dataclass(frozen=True)
class Band:
    """A background's month range and the weekly hours that finish its hours inside that range."""

    key: str
    label: str
    months_min: int
    months_max: int
    total_hours: float
    low: float | None  # h/week to finish at the range maximum (None: nothing up to 100 h/week fits)
    high: float | None  # h/week to finish at the range minimum; more only paces the plan

    @property
    def hours_text(self) -> str:
        if self.low is None:
            return "does not fit"
        return f"{self.low:g}–{self.high:g}" if self.high is not None else f"{self.low:g}+"

    @property
    def caption(self) -> str:
        return (f"{self.label}: {self.months_min}–{self.months_max} months, {self.total_hours:g} h "
                f"→ {self.hours_text} h/week")


def background_bands(curriculum: Curriculum, start: dt.date | None = None) -> dict[str, Band]:
    """Recommended weekly-hours band per background, computed by the planner for a default learner: the least
    that finishes inside the range, and the most that is still used (beyond it the plan only paces itself).
    Reviews, projects, checkpoints and the catch-up buffer are included."""
    from planner.solve import recommended_band

    start = start or dt.date(2027, 1, 4)
    out = {}
    for b in curriculum.backgrounds:
        profile = profile_from_mapping({"background": b.key, "hours_per_week": 10, "start": start.isoformat()},
                                       curriculum)
        req = build_requirements(curriculum, profile)
        total = req.total_hours + req.review_count * 0.5
        low, high = recommended_band(curriculum, profile)
        out[b.key] = Band(b.key, b.label, b.months_min, b.months_max, total, low, high)
    return out


# ---------------------------------------------------------------- form <-> profile fields


def form_defaults(today: dt.date | None = None) -> dict[str, Any]:
    """Widget values for a new learner: one click on "Make my plan" gives a plan."""
    return {
        "background": DEFAULT_BACKGROUND, "hours_per_week": DEFAULT_HOURS, "days": list(WEEKDAYS),
        "day_hours": "", "start": next_monday(today or dt.date.today()), "timezone": "UTC",
        "session_start_weekday": None, "session_start_weekend": None, "blackouts": [], "holidays": "",
        "skip": [], "electives": [],
    }


def _to_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError("blackouts", f"'{text}' is not a date (use YYYY-MM-DD)") from None


def blackout_rows(table: pd.DataFrame | Sequence[Any] | None) -> list[tuple[dt.date | None, dt.date | None]]:
    """Rows of the blackout editor (columns From/To) as date pairs; blank rows dropped."""
    if table is None:
        return []
    rows = table.itertuples(index=False) if isinstance(table, pd.DataFrame) else table
    out = []
    for row in rows:
        a, b = _to_date(row[0]), _to_date(row[1])
        if a is None and b is None:
            continue
        out.append((a, b))
    return out


def form_to_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """Widget values -> the raw profile fields profile_from_mapping reads (also what the store keeps)."""
    raw: dict[str, Any] = {
        "background": values["background"],
        "hours_per_week": float(values["hours_per_week"]) if values.get("hours_per_week") is not None else None,
        "days": list(values.get("days") or []),
        "start": values["start"].isoformat() if isinstance(values.get("start"), dt.date) else values.get("start"),
        "timezone": values.get("timezone") or "UTC",
    }
    if not raw["days"]:
        raise InputError("days", "choose at least one study weekday")
    day_hours = str(values.get("day_hours") or "").strip()
    if day_hours:
        raw["day_hours"] = day_hours
    starts: dict[str, str] = {}
    for key, days in (("session_start_weekday", WEEKDAYS[:5]), ("session_start_weekend", WEEKDAYS[5:])):
        t = values.get(key)
        if t is not None:
            text = t.strftime("%H:%M") if isinstance(t, dt.time) else str(t)
            starts.update({d: text for d in days})
    if starts:
        raw["session_start"] = starts
    blackouts = []
    for i, (a, b) in enumerate(values.get("blackouts") or []):
        if a is None or b is None:
            raise InputError(f"blackouts[{i}]", "each blackout needs a start and an end date")
        blackouts.append([a.isoformat(), b.isoformat()])
    if blackouts:
        raw["blackouts"] = blackouts
    country = str(values.get("holidays") or "").strip()
    if country:
        raw["holidays"] = country
    if values.get("skip"):
        raw["skip"] = list(values["skip"])
    if values.get("electives"):
        raw["electives"] = list(values["electives"])
    return raw


def mapping_to_form(raw: Mapping[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """A stored profile mapping -> widget values (the inverse of form_to_mapping)."""
    values = form_defaults(today)
    values["background"] = raw.get("background", DEFAULT_BACKGROUND)
    values["hours_per_week"] = float(raw.get("hours_per_week", DEFAULT_HOURS))
    days = raw.get("days")
    if isinstance(days, str):
        days = [d.strip() for d in days.split(",")]
    if days:
        values["days"] = [str(d).strip().lower()[:3] for d in days if str(d).strip().lower()[:3] in WEEKDAYS]
    dh = raw.get("day_hours")
    if isinstance(dh, Mapping):
        dh = ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in dh.items())
    values["day_hours"] = dh or ""
    if raw.get("start"):
        values["start"] = dt.date.fromisoformat(str(raw["start"]))
    values["timezone"] = raw.get("timezone") or "UTC"
    ss = raw.get("session_start")
    if isinstance(ss, Mapping):
        for key, day in (("session_start_weekday", "mon"), ("session_start_weekend", "sat")):
            if ss.get(day):
                values[key] = dt.time.fromisoformat(str(ss[day]))
    elif isinstance(ss, str) and ss and "=" not in ss:
        values["session_start_weekday"] = values["session_start_weekend"] = dt.time.fromisoformat(ss)
    values["blackouts"] = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b))
                           for a, b in (raw.get("blackouts") or [])]
    values["holidays"] = raw.get("holidays") or ""
    values["skip"] = list(raw.get("skip") or [])
    values["electives"] = list(raw.get("electives") or [])
    return values


def blackout_table(rows: Sequence[tuple[dt.date | None, dt.date | None]]) -> pd.DataFrame:
    return pd.DataFrame({"From": pd.Series([a for a, _ in rows], dtype="object"),
                         "To": pd.Series([b for _, b in rows], dtype="object")})


# ---------------------------------------------------------------- headline and captions


def plan_metrics(plan: Plan) -> list[tuple[str, str, str]]:
    """(label, value, help) for the headline metrics row."""
    req, p, s = plan.requirements, plan.profile, plan.solver
    return [
        ("Finish", plan.finish.isoformat(), f"Start {p.start}; last allowed day {plan.latest_allowed_finish}"),
        ("Months", f"{plan.months:.1f} of {req.months_min}–{req.months_max}",
         "Calendar months from the start date, against the path's range for your background"),
        ("Total hours", f"{plan.total_hours:g} h", f"{len(plan.active_sessions)} sessions"),
        ("Hours/week used / offered", f"{plan.mean_week_hours:.1f} / {p.hours_per_week:g}",
         f"Average over the plan; the busiest week holds {plan.peak_week_hours:g} h"),
        (f"Solver ({s.status.lower()})", f"{s.seconds:.2f} s", f"objective {s.objective:g}, bound {s.bound:g}; "
                                                       f"model built in {s.build_seconds:.3f} s"),
    ]


def pacing_caption(plan: Plan) -> str:
    req, p = plan.requirements, plan.profile
    if plan.paced:
        return (f"You offered {p.hours_per_week:g} h/week; the range needs ~{plan.mean_week_hours:.0f}; the plan "
                f"finishes at the range minimum ({req.months_min} months, {plan.finish}) and uses at most "
                f"{plan.peak_week_hours:g} h in any week. The extra time is yours.")
    return (f"You offered {p.hours_per_week:g} h/week; the plan uses up to {plan.peak_week_hours:g} h/week "
            f"({p.buffer_percent} % of each week stays free for catching up) and finishes {plan.finish}, "
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
    drop = result.drop
    return InfeasibleFacts(
        headline=(f"{result.needed_hours:g} h of study at {result.hours_per_week:g} h/week cannot finish within "
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


def _naive(ts: str) -> pd.Timestamp:
    """Local wall-clock time of an ISO timestamp with offset (charts show the learner's local times)."""
    return pd.Timestamp(dt.datetime.fromisoformat(ts).replace(tzinfo=None))


def phase_label(number: int | None, title: str) -> str:
    return f"Phase {number} · {title}" if number is not None else title


def sessions_frame(plan: Plan, phases: Sequence[int] | None = None) -> pd.DataFrame:
    """The session table with readable column names, optionally filtered to some phases."""
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"]
    if phases:
        df = df[df["phase"].isin(list(phases))]
    return df[list(SESSION_COLUMNS)].rename(columns=SESSION_COLUMNS).reset_index(drop=True)


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
    rows = []
    for m in plan.checklist:
        rng = f"{m.months_min}–{m.months_max}" if m.months_max else f"{m.months_min}+"
        months = None
        verdict = "not in this plan"
        if m.date is not None:
            from planner.requirements import months_between

            months = round(months_between(plan.profile.start, m.date), 1)
            if m.months_max is not None and months > m.months_max:
                verdict = "later than the path says"
            elif m.months_min is not None and months < m.months_min:
                verdict = "ahead of the path"
            else:
                verdict = "on track"
        rows.append({"Stage": m.stage, "Milestone": m.title,
                     "Planned date": m.date.isoformat() if m.date else "—",
                     "Months in": months, "Path says (months)": rng, "Verdict": verdict})
    return pd.DataFrame(rows, columns=["Stage", "Milestone", "Planned date", "Months in", "Path says (months)",
                                       "Verdict"])


def phases_frame(plan: Plan) -> pd.DataFrame:
    rows = [{"Phase": r["phase"], "Title": r["title"], "Start": r["start"].isoformat(),
             "Finish": r["finish"].isoformat(), "Hours": r["hours"], "Topics": r["topics"]}
            for r in plan.phase_rows()]
    return pd.DataFrame(rows, columns=["Phase", "Title", "Start", "Finish", "Hours", "Topics"])


def bands_frame(bands: Mapping[str, Band]) -> pd.DataFrame:
    return pd.DataFrame([{"Background": b.label, "Months": f"{b.months_min}–{b.months_max}",
                          "Hours to study": b.total_hours, "Recommended h/week": b.hours_text}
                         for b in bands.values()])


def quality_caption(plan: Plan) -> str:
    """What the plan holds besides topic sessions, and how focused it is, in one paragraph."""
    from planner.focus import focus_report

    reviews = sum(1 for s in plan.active_sessions if s.kind == "review")
    projects = len({s.topic for s in plan.active_sessions if s.kind == "project"})
    checkpoints = sum(1 for s in plan.active_sessions if s.kind == "checkpoint")
    text = (f"Includes {projects} portfolio projects, {checkpoints} checkpoints and {reviews} spaced reviews "
            f"(+{', +'.join(str(d) for d in plan.profile.review_days)} days); "
            f"{plan.profile.buffer_percent} % of each week stays free for catching up.")
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


# ---------------------------------------------------------------- charts


def gantt_frame(plan: Plan) -> pd.DataFrame:
    """One bar per topic from its first to its last study session (its later reviews would stretch the bar)."""
    df = plan.to_frame()
    df = df[(df["status"] != "cancelled") & (df["kind"] != "review")]
    rows = []
    for order, (topic, g) in enumerate(df.groupby("topic", sort=False)):
        first = g.iloc[0]
        rows.append({
            "topic": first["title"], "topic_id": topic, "order": order,
            "phase": phase_label(first["phase"], first["phase_title"]),
            "start": min(_naive(v) for v in g["start"]), "end": max(_naive(v) for v in g["end"]),
            "hours": float(g["hours"].sum()), "sessions": len(g),
        })
    return pd.DataFrame(rows, columns=["topic", "topic_id", "order", "phase", "start", "end", "hours", "sessions"])


def gantt_chart(plan: Plan) -> alt.Chart:
    """One bar per topic from its first session to its last, coloured by phase, in study order."""
    data = gantt_frame(plan)
    return (
        alt.Chart(data, title="Topics over time")
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title=None,
                  axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True)),
            x2="end:T",
            y=alt.Y("topic:N", sort=alt.EncodingSortField(field="order", order="ascending"), title=None,
                    axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            color=alt.Color("phase:N", title="Phase", legend=alt.Legend(orient="top", columns=3, labelLimit=300)),
            tooltip=[alt.Tooltip("topic:N", title="Topic"), alt.Tooltip("phase:N", title="Phase"),
                     alt.Tooltip("start:T", title="First session", format="%Y-%m-%d"),
                     alt.Tooltip("end:T", title="Last session", format="%Y-%m-%d"),
                     alt.Tooltip("hours:Q", title="Hours"), alt.Tooltip("sessions:Q", title="Sessions")],
        )
        .properties(height=max(200, 18 * len(data)))
    )


def weekly_frame(plan: Plan) -> pd.DataFrame:
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"].copy()
    dates = pd.to_datetime(df["date"])
    df["week"] = dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    df["phase_label"] = [phase_label(n, t) for n, t in zip(df["phase"], df["phase_title"], strict=True)]
    out = df.groupby(["week", "phase_label"], as_index=False)["hours"].sum()
    return out.rename(columns={"phase_label": "phase"})


def weekly_chart(plan: Plan) -> alt.Chart:
    """Hours per ISO week (Monday), stacked by phase."""
    data = weekly_frame(plan)
    weeks = max(1, data["week"].nunique())
    return (
        alt.Chart(data, title=f"Hours per week (offered: {plan.profile.hours_per_week:g} h)")
        .mark_bar(size=max(2, min(14, 900 // weeks)))
        .encode(
            x=alt.X("week:T", title="Week starting", axis=alt.Axis(format="%d %b %y")),
            y=alt.Y("sum(hours):Q", title="Hours", stack="zero"),
            color=alt.Color("phase:N", title="Phase", legend=None),
            tooltip=[alt.Tooltip("week:T", title="Week of", format="%Y-%m-%d"),
                     alt.Tooltip("phase:N", title="Phase"), alt.Tooltip("hours:Q", title="Hours")],
        )
        .properties(height=240)
    )


# ---------------------------------------------------------------- progress and re-planning

PROGRESS_STATUSES = ("planned", "done", "missed")
CALENDAR_ROUTINE = (
    "Calendar routine: import the .ics into a dedicated **Study plan** calendar, and after a re-plan replace that "
    "calendar's events with the new file. Kept sessions keep their UIDs, moved ones carry a higher SEQUENCE (apps "
    "that honour updates move them), and removed ones come as CANCELLED."
)


def today_in(plan: Plan, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the learner's timezone (not the server's)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(plan.profile.tz).date()


def _counts(s: Any) -> bool:
    """Sessions whose hours count towards the path's required hours (review sessions come on top of them)."""
    return bool(s.kind != "review")


def progress_frame(plan: Plan, today: dt.date, show_all: bool = False, days_ahead: int = 7) -> pd.DataFrame:
    """The progress editor's rows, indexed by session UID, the latest first: past sessions and the next
    `days_ahead` days (every session when `show_all`); cancelled sessions are left out."""
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"].copy()
    df["day"] = [dt.date.fromisoformat(d) for d in df["date"]]
    if not show_all:
        df = df[df["day"] <= today + dt.timedelta(days=days_ahead)]
    df = df.sort_values(["start", "uid"], ascending=False, kind="stable")  # the latest first: what you tick
    partial = {s.uid: s.done_hours for s in plan.sessions if s.status == "missed"}
    out = pd.DataFrame({
        "Date": df["day"], "Start": df["start_time"], "Phase": df["phase"], "Topic": df["title"],
        "Kind": df["kind"], "Session": df["session"], "Hours": df["hours"], "Status": df["status"],
        "Done h": [partial.get(u, float("nan")) for u in df["uid"]],
    })
    out.index = pd.Index(df["uid"], name="uid")
    out["Done h"] = out["Done h"].astype(float)
    return out


@dataclass(frozen=True)
class ProgressSummary:
    done_hours: float  # credited hours (done sessions, partial hours of missed ones)
    required_hours: float
    done_sessions: int
    missed_sessions: int
    behind_hours: float  # required hours neither done nor scheduled from today on: what a re-plan must place


def progress_summary(plan: Plan, today: dt.date) -> ProgressSummary:
    done = sum(s.credited_hours for s in plan.sessions if _counts(s))
    ahead = sum(s.hours for s in plan.active_sessions if s.day >= today and s.status == "planned" and _counts(s))
    behind = max(0.0, plan.requirements.total_hours - done - ahead)
    return ProgressSummary(round(done, 2), plan.requirements.total_hours,
                           sum(1 for s in plan.sessions if s.status == "done"),
                           sum(1 for s in plan.sessions if s.status == "missed"), round(behind, 2))


def progress_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, str, float]]:
    """(uid, status, partial hours) for every row of the progress editor whose status or partial hours changed."""
    out = []
    for uid in after.index:
        if uid not in before.index:
            continue
        status = str(after.at[uid, "Status"] or "planned")
        if status not in PROGRESS_STATUSES:
            raise InputError("status", f"'{status}' is not one of {', '.join(PROGRESS_STATUSES)}")
        raw = after.at[uid, "Done h"]
        partial = 0.0 if raw is None or pd.isna(raw) else float(raw)
        old_raw = before.at[uid, "Done h"]
        old_partial = 0.0 if old_raw is None or pd.isna(old_raw) else float(old_raw)
        if status != before.at[uid, "Status"] or (status == "missed" and partial != old_partial):
            out.append((str(uid), status, partial))
    return out


def apply_progress(plan: Plan, changes: Sequence[tuple[str, str, float]]) -> Plan:
    """Set sessions done, missed (with partial hours, at most the session's length) or back to planned."""
    from dataclasses import replace

    from planner.progress import mark_done, mark_missed

    for uid, status, partial in changes:
        if status == "done":
            plan = mark_done(plan, [uid])
        elif status == "missed":
            plan = mark_missed(plan, [uid], partial)
        else:
            plan = replace(plan, sessions=tuple(replace(s, status="planned", done_hours=0.0) if s.uid == uid
                                                else s for s in plan.sessions))
    return plan


def open_topics(plan: Plan) -> dict[str, str]:
    """Topics with a session not yet done: id -> 'P<phase> · title' (choices for 'done / already known')."""
    left = {s.topic for s in plan.active_sessions if s.status != "done"}
    return {t.id: f"P{t.phase} · {t.title}" for t in plan.requirements.topics if t.id in left}


def phase_progress_frame(plan: Plan) -> pd.DataFrame:
    """Hours done (credited) against hours required, per phase and in total (review sessions not counted)."""
    done: dict[str, float] = {}
    for s in plan.sessions:
        if not _counts(s):
            continue
        done[s.topic] = done.get(s.topic, 0.0) + s.credited_hours
    titles = {p.number: p.title for p in plan.phases}
    rows: list[dict[str, Any]] = []
    for number in sorted({t.phase for t in plan.requirements.topics}):
        topics = [t for t in plan.requirements.topics if t.phase == number]
        need = sum(t.hours for t in topics)
        got = min(need, sum(done.get(t.id, 0.0) for t in topics))
        rows.append({"Phase": str(number), "Title": titles.get(number, ""), "Done h": round(got, 2),
                     "Required h": round(need, 2), "Progress": got / need if need else 1.0})
    need = sum(float(r["Required h"]) for r in rows)
    got = sum(float(r["Done h"]) for r in rows)
    rows.append({"Phase": "All", "Title": "All phases", "Done h": round(got, 2), "Required h": round(need, 2),
                 "Progress": got / need if need else 1.0})
    return pd.DataFrame(rows, columns=["Phase", "Title", "Done h", "Required h", "Progress"])


def burnup_frame(plan: Plan, today: dt.date) -> pd.DataFrame:
    """Cumulative hours per study day: 'Planned' over the scheduled (not cancelled) sessions — missed ones only
    with the hours actually studied — and 'Done' over the hours credited so far, drawn up to `today`.
    Review sessions are left out, so both lines aim at the required hours."""
    planned: dict[dt.date, float] = {}
    done: dict[dt.date, float] = {}
    for s in plan.active_sessions:
        if not _counts(s):
            continue
        # a missed session's unstudied hours went back to the pool: the plan no longer expects them that day
        planned[s.day] = planned.get(s.day, 0.0) + (s.credited_hours if s.status == "missed" else s.hours)
        if s.credited_hours > 0:
            done[s.day] = done.get(s.day, 0.0) + s.credited_hours
    rows: list[dict[str, Any]] = []
    for series, by_day, last in (("Planned", planned, None), ("Done", done, today)):
        total = 0.0
        if by_day:
            rows.append({"date": pd.Timestamp(plan.profile.start), "series": series, "hours": 0.0})
        for day in sorted(by_day):
            total += by_day[day]
            rows.append({"date": pd.Timestamp(day), "series": series, "hours": round(total, 2)})
        if last is not None and by_day and max(by_day) < last:
            rows.append({"date": pd.Timestamp(last), "series": series, "hours": round(total, 2)})
    return pd.DataFrame(rows, columns=["date", "series", "hours"])


def burnup_chart(plan: Plan, today: dt.date) -> alt.LayerChart:
    """Burn-up: cumulative planned hours vs cumulative done hours, the required total as a rule, today marked."""
    data = burnup_frame(plan, today)
    required = plan.requirements.total_hours
    lines = (
        alt.Chart(data)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True)),
            y=alt.Y("hours:Q", title="Cumulative hours"),
            color=alt.Color("series:N", title=None, scale=alt.Scale(domain=["Planned", "Done"],
                                                                    range=["#9aa5b1", "#2e7d32"]),
                            legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("series:N", title="Series"), alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                     alt.Tooltip("hours:Q", title="Hours", format=".1f")],
        )
    )
    goal = alt.Chart(pd.DataFrame({"hours": [required]})).mark_rule(strokeDash=[4, 4], color="#888").encode(
        y="hours:Q", tooltip=[alt.Tooltip("hours:Q", title="Hours required")])
    now = alt.Chart(pd.DataFrame({"date": [pd.Timestamp(today)]})).mark_rule(color="#d62728").encode(
        x="date:T", tooltip=[alt.Tooltip("date:T", title="Today", format="%Y-%m-%d")])
    return alt.LayerChart(layer=[lines, goal, now]).properties(title="Burn-up: hours planned vs done", height=260)


@dataclass(frozen=True)
class DiffFacts:
    kept: int
    moved: int
    added: int
    removed: int
    old_finish: dt.date
    new_finish: dt.date
    days: int  # new finish minus old finish
    inside_range: bool
    latest_allowed: dt.date

    @property
    def days_text(self) -> str:
        return f"{self.days:+d} days" if self.days else "same day"

    @property
    def verdict(self) -> str:
        if self.inside_range:
            return f"Finishes {self.new_finish}, inside the path's range (last allowed day {self.latest_allowed})."
        late = (self.new_finish - self.latest_allowed).days
        return (f"Finishes {self.new_finish}, {late} days AFTER the path's range ends ({self.latest_allowed}) — "
                "you chose to finish late.")


def diff_facts(diff: Any) -> DiffFacts:
    """A replan.Diff as the numbers the dashboard shows before the learner accepts it."""
    return DiffFacts(len(diff.kept), len(diff.moved), len(diff.added), len(diff.removed), diff.old_finish,
                     diff.new_finish, (diff.new_finish - diff.old_finish).days, bool(diff.inside_range),
                     diff.latest_allowed)


@dataclass(frozen=True)
class CatchUpOption:
    key: str  # "hours", "drop" or "late"
    label: str  # the button's label
    kwargs: dict[str, Any]  # keyword arguments for replan()


def catch_up_options(menu: Any) -> list[CatchUpOption]:
    """The choices of a replan.CatchUpMenu, one button each (options that cannot work are left out)."""
    out = []
    if menu.hours_per_week_needed is not None:
        out.append(CatchUpOption("hours", f"Study {menu.hours_per_week_needed:g} h/week from now",
                                 {"hours_per_week": float(menu.hours_per_week_needed)}))
    if menu.drop and menu.drop_finish is not None:
        names = ", ".join(title for _, title, _ in menu.drop)
        hours = sum(h for _, _, h in menu.drop)
        out.append(CatchUpOption("drop", f"Drop optional topics {names} ({hours:g} h) — finish {menu.drop_finish}",
                                 {"drop": tuple(tid for tid, _, _ in menu.drop)}))
    if menu.late_finish is not None:
        out.append(CatchUpOption("late", f"Accept finishing {menu.late_finish}", {"allow_late": True}))
    return out
