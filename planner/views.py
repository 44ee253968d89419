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
from planner.requirements import add_months, build_requirements
from planner.solve import Infeasible

DEFAULT_BACKGROUND = "ml_background"
DEFAULT_HOURS = 15.0
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
    low: float  # h/week to finish at the range maximum
    high: float  # h/week to finish at the range minimum

    @property
    def caption(self) -> str:
        return (f"{self.label}: {self.months_min}–{self.months_max} months, {self.total_hours:g} h "
                f"→ about {self.low:.0f}–{self.high:.0f} h/week")


def _weeks(start: dt.date, months: int) -> float:
    return (add_months(start, months) - start).days / 7


def background_bands(curriculum: Curriculum, start: dt.date | None = None) -> dict[str, Band]:
    """Recommended weekly-hours band per background: its total hours over the weeks of its month range."""
    start = start or dt.date(2027, 1, 4)
    out = {}
    for b in curriculum.backgrounds:
        profile = profile_from_mapping({"background": b.key, "hours_per_week": 10, "start": start.isoformat()},
                                       curriculum)
        total = build_requirements(curriculum, profile).total_hours
        out[b.key] = Band(b.key, b.label, b.months_min, b.months_max, total,
                          total / _weeks(start, b.months_max), total / _weeks(start, b.months_min))
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
    needed_at_max = plan.total_hours / _weeks(p.start, req.months_max)
    if plan.paced:
        return (f"You offered {p.hours_per_week:g} h/week; the range needs ~{plan.mean_week_hours:.0f}; the plan "
                f"finishes at the range minimum ({req.months_min} months, {plan.finish}) and uses at most "
                f"{plan.peak_week_hours:g} h in any week. The extra time is yours.")
    return (f"You offered {p.hours_per_week:g} h/week (finishing within {req.months_max} months needs at least "
            f"~{needed_at_max:.1f}); the plan uses up to {plan.peak_week_hours:g} h/week and finishes "
            f"{plan.finish}, {plan.months:.1f} months into the {req.months_min}–{req.months_max} month range.")


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
                          "Hours to study": b.total_hours, "Recommended h/week": f"{b.low:.0f}–{b.high:.0f}"}
                         for b in bands.values()])


# ---------------------------------------------------------------- charts


def gantt_frame(plan: Plan) -> pd.DataFrame:
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"]
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
