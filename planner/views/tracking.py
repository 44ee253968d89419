"""Progress and re-planning views: the session editor's rows, summaries, burn-up, re-plan diffs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from planner.errors import InputError
from planner.plan import Plan

# ---------------------------------------------------------------- progress and re-planning

PROGRESS_STATUSES = ("planned", "done", "missed")
CALENDAR_ROUTINE = (
    "Calendar routine: import the .ics into a dedicated **Study plan** calendar, and after a re-plan replace that "
    "calendar's events with the new file. Kept sessions stay the same events, moved ones are updated in place "
    "(apps that honour updates move them), and removed ones are marked cancelled."
)


def today_in(plan: Plan, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the learner's timezone (not the server's)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(plan.profile.tz).date()


def _counts(s: Any) -> bool:
    """Sessions whose hours count towards the path's required hours (review sessions come on top of them)."""
    return bool(s.kind != "review")


def progress_frame(plan: Plan, today: dt.date, show_all: bool = False, weeks_back: int = 4,
                   weeks_ahead: int = 2) -> pd.DataFrame:
    """The session editor's rows, indexed by session UID, around today: the current week first (in order), then
    the weeks before (the latest first: what you still have to tick), then the weeks after. Without `show_all`
    only `weeks_back` weeks back and `weeks_ahead` weeks ahead; cancelled sessions are left out."""
    df = plan.to_frame()
    df = df[df["status"] != "cancelled"].copy()
    df["day"] = [dt.date.fromisoformat(d) for d in df["date"]]
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    if not show_all:
        df = df[(df["day"] >= monday - dt.timedelta(weeks=weeks_back))
                & (df["day"] <= sunday + dt.timedelta(weeks=weeks_ahead))]
    group = [0 if monday <= d <= sunday else (1 if d < monday else 2) for d in df["day"]]
    df["group"] = group
    df["rank"] = [pd.Timestamp(t).value * (-1 if g == 1 else 1) for t, g in zip(df["start"], group, strict=True)]
    df = df.sort_values(["group", "rank", "uid"], kind="stable")
    partial = {s.uid: s.done_hours for s in plan.sessions if s.status == "missed"}
    real = {s.uid: s.real_hours for s in plan.sessions if s.status == "done" and s.real_hours is not None}
    out = pd.DataFrame({
        "Date": df["day"], "Start": df["start_time"], "Phase": df["phase"], "Topic": df["title"],
        "Kind": df["kind"], "Session": df["session"], "Hours": df["hours"], "Status": df["status"],
        "Done h": [partial.get(u, float("nan")) for u in df["uid"]],
        "Real h": [real.get(u, float("nan")) for u in df["uid"]],
    })
    out.index = pd.Index(df["uid"], name="uid")
    out["Done h"] = out["Done h"].astype(float)
    out["Real h"] = out["Real h"].astype(float)
    return out


@dataclass(frozen=True)
class ProgressSummary:
    """The Progress page's figures, each planner.totals' own (the Plan page's "Total hours" is total_hours)."""

    done_hours: float  # topic hours studied (done sessions, the studied part of missed ones): the per-phase table
    required_hours: float  # topic hours required (reviews apart)
    done_sessions: int
    missed_sessions: int
    behind_hours: float  # topic hours neither done nor scheduled from today on: what a re-plan must place
    total_hours: float = 0.0  # topic hours and the reviews the plan holds
    hours_done: float = 0.0  # of total_hours: topic hours studied and reviews done
    hours_left: float = 0.0  # total_hours - hours_done


def progress_summary(plan: Plan, today: dt.date) -> ProgressSummary:
    from planner import totals as t

    return ProgressSummary(t.topic_hours_done(plan), t.topic_hours(plan),
                           sum(1 for s in plan.sessions if s.status == "done"),
                           sum(1 for s in plan.sessions if s.status == "missed"), t.hours_behind(plan, today),
                           t.total_hours(plan), t.hours_done(plan), t.hours_left(plan))


Change = tuple[str, str, float] | tuple[str, str, float, float | None]


def _hours_cell(frame: pd.DataFrame, uid: Any, column: str) -> float | None:
    if column not in frame.columns:
        return None
    raw = frame.at[uid, column]
    return None if raw is None or pd.isna(raw) else float(raw)


@dataclass(frozen=True)
class ProgressEdits:
    """What "Save changes" saves: one change per edited row, and a note for each row saved otherwise than it
    reads, or not saved, saying why (the page shows them with "Saved N change(s)")."""

    changes: list[tuple[str, str, float, float | None]]
    notes: list[str]


def progress_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, str, float, float | None]]:
    """(uid, status, partial hours, real hours) for every edited row (see progress_edits)."""
    return progress_edits(before, after).changes


def progress_edits(before: pd.DataFrame, after: pd.DataFrame) -> ProgressEdits:
    """The progress editor's edits as changes, so that what was typed is what is saved, or the row's note says
    why not. Real hours belong to a done session: typed on another, they are an error (left as they were on a
    row set back from done, they go with it). Hours typed in "Done h":

    - on a missed row: the hours studied, below the session's length; its whole length or more makes it done
      (more: saved as its real hours);
    - on a planned row: below its length it becomes missed with those hours studied, else done as above;
    - on a done row (it counts in full): saved as its real hours;
    - on a row set back to planned: not saved (a planned session has no hours done)."""
    from planner.progress import MAX_SESSION_REAL_HOURS

    out: list[tuple[str, str, float, float | None]] = []
    notes: list[str] = []
    for uid in after.index:
        if uid not in before.index:
            continue
        status = str(after.at[uid, "Status"] or "planned")
        old_status = str(before.at[uid, "Status"] or "planned")
        if status not in PROGRESS_STATUSES:
            raise InputError("status", f"'{status}' is not one of {', '.join(PROGRESS_STATUSES)}")
        row = f"{after.at[uid, 'Topic']}, {after.at[uid, 'Date']}"
        typed = _hours_cell(after, uid, "Done h")
        old_partial = _hours_cell(before, uid, "Done h") or 0.0
        real, old_real = _hours_cell(after, uid, "Real h"), _hours_cell(before, uid, "Real h")
        hours = _hours_cell(after, uid, "Hours") or 0.0
        partial = typed or 0.0
        if typed is not None and typed < 0:
            raise InputError("Done h", f"must be at least 0, got {typed:g} ({row})")
        if typed is not None and typed != old_partial and typed > 0:
            status, real, note = _done_hours_typed(status, old_status, typed, hours, real, old_real)
            if note:
                notes.append(f"{row}: {note}.")
            if status != "missed":
                partial = 0.0
        if real is not None and real != old_real:
            if status != "done":
                raise InputError("Real h", f"only a done session has real hours ({row}, is {status})")
            if not 0 < real <= MAX_SESSION_REAL_HOURS:
                raise InputError("Real h", f"must be more than 0 and at most {MAX_SESSION_REAL_HOURS:g}, "
                                           f"got {real:g}")
        if (status != old_status or (status == "missed" and partial != old_partial)
                or (status == "done" and real != old_real)):
            out.append((str(uid), status, partial, real if status == "done" else None))
    return ProgressEdits(out, notes)


def _done_hours_typed(status: str, old_status: str, typed: float, hours: float, real: float | None,
                      old_real: float | None) -> tuple[str, float | None, str]:
    """(status, real hours, note) for hours typed in "Done h" (progress_edits' rules)."""
    if status == "planned" and old_status != "planned":
        return status, real, f"{typed:g} h done not saved: the row is set back to planned, which has no hours done"
    if status == "done":
        if real is not None and real != old_real:
            return status, real, (f"{typed:g} h done not saved: a done session counts in full, and its real hours "
                                  f"are the {real:g} h typed in Real h")
        return status, typed, f"a done session counts in full: {typed:g} h saved as the time it really took"
    if typed < hours:
        if status == "planned":
            return "missed", None, f"saved as partly done: missed, {typed:g} of {hours:g} h studied"
        return status, real, ""
    if typed == hours:
        return "done", None, f"all of its {hours:g} h studied: saved as done"
    return "done", typed, (f"{typed:g} h is more than the session's planned {hours:g} h: saved as done, with "
                           f"{typed:g} h as the time it really took")


def edited_table(table: pd.DataFrame, edited_rows: Any) -> pd.DataFrame:
    """The session editor's table with its edits (Streamlit's `edited_rows`: row position -> column -> value)
    applied, as the editor itself would return it."""
    out = table.copy()
    for pos, cells in dict(edited_rows).items():
        row = int(pos)
        if not 0 <= row < len(out):
            continue
        for column, value in dict(cells).items():
            if column in out.columns:
                col = out.columns.get_loc(column)
                out.iat[row, col] = float("nan") if value is None and column in ("Done h", "Real h") else value
    return out


def apply_progress(plan: Plan, changes: Sequence[Change]) -> Plan:
    """Set sessions done (with their real hours, None: as planned), missed (with partial hours, at most the
    session's length) or back to planned."""
    from dataclasses import replace

    from planner.progress import mark_done, mark_missed

    for uid, status, partial, *rest in changes:
        if status == "done":
            plan = mark_done(plan, [uid], rest[0] if rest else None)
        elif status == "missed":
            plan = mark_missed(plan, [uid], partial)
        else:
            plan = replace(plan, sessions=tuple(replace(s, status="planned", done_hours=0.0, real_hours=None)
                                                if s.uid == uid else s for s in plan.sessions))
    return plan


def open_topics(plan: Plan) -> dict[str, str]:
    """Topics with a session not yet done: id -> 'P<phase> · title' (choices for 'done / already known')."""
    left = {s.topic for s in plan.active_sessions if s.status != "done"}
    return {t.id: f"P{t.phase} · {t.title}" for t in plan.requirements.topics if t.id in left}


def phase_progress_frame(plan: Plan) -> pd.DataFrame:
    """Topic hours done against topic hours required, per phase and in total (reviews apart): planner.totals'
    phase_topic_hours, so the "All" row is topic_hours_done and topic_hours, and each phase's required hours the
    Plan page's phase table shows."""
    from planner.totals import phase_topic_hours

    titles = {p.number: p.title for p in plan.phases}
    rows: list[dict[str, Any]] = []
    for number, (need, got) in phase_topic_hours(plan).items():
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


def burnup_alt(plan: Plan, today: dt.date) -> str:
    """The burn-up chart in words: hours done and planned by today, against the hours required."""
    data = burnup_frame(plan, today)
    upto = data[data["date"] <= pd.Timestamp(today)]
    done = float(upto[upto["series"] == "Done"]["hours"].max()) if (upto["series"] == "Done").any() else 0.0
    planned = float(upto[upto["series"] == "Planned"]["hours"].max()) if (upto["series"] == "Planned").any() else 0.0
    from planner.totals import topic_hours

    return (f"Burn-up of topic hours: by {today:%d %b %Y}, {done:g} h done of {planned:g} h planned so far "
            f"(dashed line: planned, solid: done); {topic_hours(plan):g} topic hours required in all.")


def burnup_chart(plan: Plan, today: dt.date) -> alt.LayerChart:
    """Burn-up: cumulative planned hours vs cumulative done hours, the required total as a rule, today marked."""
    from planner.totals import topic_hours

    data = burnup_frame(plan, today)
    required = topic_hours(plan)
    lines = (
        alt.Chart(data)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True)),
            y=alt.Y("hours:Q", title="Topic hours, cumulative"),
            color=alt.Color("series:N", title=None, scale=alt.Scale(domain=["Planned", "Done"],
                                                                    range=["#6b7785", "#2e7d32"]),
                            legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("series:N", legend=None,  # told apart without colour too
                                      scale=alt.Scale(domain=["Planned", "Done"], range=[[6, 3], [1, 0]])),
            tooltip=[alt.Tooltip("series:N", title="Series"), alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                     alt.Tooltip("hours:Q", title="Hours", format=".1f")],
        )
    )
    goal = alt.Chart(pd.DataFrame({"hours": [required]})).mark_rule(strokeDash=[4, 4], color="#888").encode(
        y="hours:Q", tooltip=[alt.Tooltip("hours:Q", title="Topic hours required")])
    now = alt.Chart(pd.DataFrame({"date": [pd.Timestamp(today)]})).mark_rule(color="#d62728").encode(
        x="date:T", tooltip=[alt.Tooltip("date:T", title="Today", format="%Y-%m-%d")])
    return alt.LayerChart(layer=[lines, goal, now]).properties(title="Burn-up: topic hours planned vs done", height=260)


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
    key: str  # "hours", "cut", "drop", "busy" or "late"
    label: str  # the button's label: what it gains
    kwargs: dict[str, Any]  # keyword arguments for replan()
    price: str = ""  # what it gives up and what it keeps, under the button
    gives_up: bool = False  # cuts reviews or the free buffer, drops topics or finishes late
    result: Any = None  # the planned replan.Replanned, when the menu planned it (picking it costs nothing)


def catch_up_options(menu: Any) -> list[CatchUpOption]:
    """The choices of a replan.CatchUpMenu, one button each (options that cannot work are left out), each with
    its price in words: the button says what it gains, the line under it what it gives up and keeps."""
    if getattr(menu, "offered", ()):
        return [_option(c) for c in menu.offered]
    out = []  # a menu made without its plans (older callers): the labels alone
    if menu.hours_per_week_needed is not None:
        out.append(CatchUpOption("hours", f"Study {menu.hours_per_week_needed:g} h/week from now",
                                 {"hours_per_week": float(menu.hours_per_week_needed)}))
    if menu.drop and menu.drop_finish is not None:
        out.append(CatchUpOption("drop", _drop_label(menu.drop, menu.drop_finish),
                                 {"drop": tuple(tid for tid, _, _ in menu.drop)}))
    if getattr(menu, "busy_drop", ()) and menu.busy_drop_finish is not None:
        out.append(CatchUpOption("busy", _busy_label(menu.busy_drop, menu.busy_drop_finish),
                                 {"busy_drop": tuple(menu.busy_drop)}))
    if menu.late_finish is not None:
        out.append(CatchUpOption("late", f"Accept finishing {menu.late_finish}", {"allow_late": True}))
    return out


def _drop_label(drop: Any, finish: dt.date) -> str:
    names = ", ".join(title for _, title, _ in drop)
    hours = sum(h for _, _, h in drop)
    return f"Drop optional topics {names} ({hours:g} h) — finish {finish}"


def _busy_label(sources: Any, finish: dt.date) -> str:
    names = ", ".join(Path(s).name if "://" not in s else s.split("://", 1)[1].rsplit("@", 1)[-1] for s in sources)
    return f"Plan without your busy calendar {names} — finish {finish}"


def _option(choice: Any) -> CatchUpOption:
    price, args = choice.price, choice.args
    finish = price.new_finish
    if choice.key == "hours":
        label = f"Study {args['hours_per_week']:g} h/week from now — finish {finish}"
    elif choice.key == "cut":
        label = (f"Keep {price.old_hours:g} h/week, cut reviews to {price.reviews_after} "
                 f"(of {price.reviews_before}) — finish {finish}")
    elif choice.key == "drop":
        label = _drop_label([(t, t, h) for t, h in price.dropped], finish)
    elif choice.key == "busy":
        label = _busy_label(args["busy_drop"], finish)
    else:
        label = f"Accept finishing {finish}"
    gives = bool(price.cuts_reviews or price.buffer_weeks or price.dropped or finish > price.latest_allowed)
    return CatchUpOption(choice.key, label, args, price.sentence(), gives, choice.result)


# ---------------------------------------------------------------- pace and forecast


@dataclass(frozen=True)
class ForecastFacts:
    """A planner.forecast.Forecast in the learner's words, for Today and Progress."""

    pace_value: str  # "1.30×"
    pace_line: str
    finish_value: str  # the likely finish (p50)
    finish_line: str
    on_time_value: str  # "72 %"
    on_time_line: str
    off_range: bool  # the likely finish is after the range's end: "re-plan at my pace" is offered
    rows: tuple[tuple[str, dt.date | None], ...]  # the chart's marks, and its text equivalent

    @property
    def text(self) -> str:
        return "\n".join(f"{label}: {_day(day)}" for label, day in self.rows)


def _day(d: dt.date | None) -> str:
    return f"{d:%a %d %b %Y}" if d else "more than 15 years ahead"


def forecast_facts(fc: Any) -> ForecastFacts:
    p = fc.pace
    spread = f"80 % sure between {p.low:.2f}× and {p.high:.2f}×"
    if p.topics_measured:
        n = p.topics_measured
        pace_line = (f"Your topics take about {p.multiplier:.2f}× their estimated hours ({spread}), measured over "
                     f"{n} finished topic{'s' if n != 1 else ''}.")
    else:
        pace_line = (f"No topic finished yet: the forecast assumes a typical pace for your background "
                     f"({p.multiplier:.2f}×, {spread}). Record the real time when you tick a session and it "
                     "becomes yours.")
    f10, f50, f80, f90 = fc.finish
    lo, mid, hi = fc.remaining_hours
    finish_line = (f"Likely finish {_day(f50)}: 4 in 5 chance by {_day(f80)}, 9 in 10 by {_day(f90)}, "
                   f"1 in 10 before {_day(f10)} "
                   f"(the plan says {_day(fc.planned_finish)}). About {mid:g} h of topics left at your pace "
                   f"({lo:g}–{hi:g} h; the plan has {fc.remaining_plan_hours:g} h).")
    pct = round(100 * fc.on_time_probability)
    off = f50 is None or f50 > fc.latest_allowed
    on_time_line = (f"{pct} % chance to finish by {_day(fc.latest_allowed)}, the end of your path's range."
                    + (" At your pace the likely finish is after it: re-planning at your pace shows what it takes."
                       if off else ""))
    rows = (("Planned finish", fc.planned_finish), ("Likely finish (p50)", f50), ("4 in 5 by (p80)", f80),
            ("9 in 10 by (p90)", f90), ("Range ends", fc.latest_allowed))
    return ForecastFacts(f"{p.multiplier:.2f}×", pace_line, _day(f50) if f50 else "15+ years", finish_line,
                         f"{pct} %", on_time_line, off, rows)
