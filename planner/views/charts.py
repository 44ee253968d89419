"""Altair charts of a plan: hours per week, topics over time (and the burn-up, in tracking)."""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd

from planner.plan import Plan
from planner.views.tables import naive_time, phase_label

# ---------------------------------------------------------------- charts

# True in a chart drawn in a phone-wide box (the box, not the plot: the plot's own width depends on its labels).
NARROW = "containerSize()[0] < 500"


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
            "start": min(naive_time(v) for v in g["start"]), "end": max(naive_time(v) for v in g["end"]),
            "hours": float(g["hours"].sum()), "sessions": len(g),
        })
    return pd.DataFrame(rows, columns=["topic", "topic_id", "order", "phase", "start", "end", "hours", "sessions"])


def gantt_chart(plan: Plan) -> alt.Chart:
    """One bar per topic from its first session to its last, coloured by phase and named with it ("P2 · topic":
    the phase is never told by colour alone), in study order."""
    data = gantt_frame(plan)
    data["topic"] = [f"P{p.split(' ', 2)[1]} · {t}" if p.startswith("Phase ") else t
                     for p, t in zip(data["phase"], data["topic"], strict=True)]
    return (
        alt.Chart(data, title="Topics over time")
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start:T", title=None,
                  axis=alt.Axis(format="%b %Y", tickCount="month", labelOverlap=True)),
            x2="end:T",
            y=alt.Y("topic:N", sort=alt.EncodingSortField(field="order", order="ascending"), title=None,
                    # a phone's 390 px leave the bars no room beside 320 px of names: shorter names there (the
                    # whole name is in the tooltip and the chart's text equivalent)
                    axis=alt.Axis(labelLimit=alt.ExprRef(f"{NARROW} ? 130 : 320"), labelOverlap=False)),
            color=alt.Color("phase:N", title="Phase", legend=alt.Legend(
                orient="top", columns=alt.ExprRef(f"{NARROW} ? 1 : 2"),
                labelLimit=alt.ExprRef(f"{NARROW} ? 180 : 0"))),
            tooltip=[alt.Tooltip("topic:N", title="Topic"), alt.Tooltip("phase:N", title="Phase"),
                     alt.Tooltip("start:T", title="First session", format="%Y-%m-%d"),
                     alt.Tooltip("end:T", title="Last session", format="%Y-%m-%d"),
                     alt.Tooltip("hours:Q", title="Hours"), alt.Tooltip("sessions:Q", title="Sessions")],
        )
        .properties(height=max(200, 18 * len(data)))
    )


WEEK_PARTS = ("Done", "Planned", "Missed")  # the weekly bars' parts, bottom to top


def weekly_frame(plan: Plan) -> pd.DataFrame:
    """planner.totals.week_bars as the chart's rows: per week, hours done, still planned and missed (a missed
    session's unstudied time is shown as missed, never as studied). Weeks without a part have no row for it."""
    from planner.totals import week_bars

    rows = [{"week": pd.Timestamp(b.week), "part": part, "order": i, "hours": hours}
            for b in week_bars(plan)
            for i, (part, hours) in enumerate(zip(WEEK_PARTS, (b.done, b.planned, b.missed), strict=True)) if hours]
    return pd.DataFrame(rows, columns=["week", "part", "order", "hours"])


def weekly_chart(plan: Plan) -> alt.Chart:
    """Hours per ISO week (Monday): done, planned and missed stacked, told apart by colour and by the bar's
    outline (missed: hollow), against the hours offered."""
    data = weekly_frame(plan)
    weeks = max(1, data["week"].nunique())
    return (
        alt.Chart(data, title=f"Hours per week: done, planned, missed (offered: {plan.profile.hours_per_week:g} h)")
        .mark_bar(size=max(2, min(14, 900 // weeks)), strokeWidth=1)
        .encode(
            x=alt.X("week:T", title="Week starting", axis=alt.Axis(format="%d %b %y")),
            y=alt.Y("sum(hours):Q", title="Hours", stack="zero"),
            color=alt.Color("part:N", title=None, legend=alt.Legend(orient="top"),
                            scale=alt.Scale(domain=list(WEEK_PARTS), range=["#2e7d32", "#6b7785", "#ffffff"])),
            stroke=alt.Stroke("part:N", legend=None,
                              scale=alt.Scale(domain=list(WEEK_PARTS), range=["#2e7d32", "#6b7785", "#c62828"])),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("week:T", title="Week of", format="%Y-%m-%d"),
                     alt.Tooltip("part:N", title="Hours"), alt.Tooltip("hours:Q", title="Hours", format="g")],
        )
        .properties(height=240)
    )


def forecast_frame(rows: tuple[tuple[str, dt.date | None], ...]) -> pd.DataFrame:
    """The forecast chart's marks (views.ForecastFacts.rows); a date beyond the calendar is left out."""
    data = [{"what": label, "date": pd.Timestamp(day), "order": i} for i, (label, day) in enumerate(rows) if day]
    return pd.DataFrame(data, columns=["what", "date", "order"])


def forecast_chart(rows: tuple[tuple[str, dt.date | None], ...]) -> alt.LayerChart:
    """Planned finish, the likely finish and its 4-in-5 and 9-in-10 dates against the range's end, on a timeline."""
    data = forecast_frame(rows)
    colours = alt.Scale(domain=[label for label, _ in rows],
                        range=["#9aa5b1", "#1f77b4", "#6baed6", "#9ecae1", "#d62728"])
    points = alt.Chart(data).mark_point(filled=True, size=140).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%b %Y", labelOverlap=True)),
        y=alt.Y("what:N", title=None, sort=alt.EncodingSortField(field="order", order="ascending"),
                axis=alt.Axis(labelLimit=200)),
        color=alt.Color("what:N", scale=colours, legend=None),
        tooltip=[alt.Tooltip("what:N", title=""), alt.Tooltip("date:T", title="Date", format="%Y-%m-%d")],
    )
    end = data[data["what"] == rows[-1][0]]
    rule = alt.Chart(end).mark_rule(color="#d62728", strokeDash=[4, 4]).encode(x="date:T")
    return alt.LayerChart(layer=[rule, points]).properties(title="When you will finish", height=170)


def gantt_alt(plan: Plan) -> str:
    """The Gantt chart in words (its text equivalent for screen readers): each phase's topics and dates."""
    data = gantt_frame(plan)
    if data.empty:
        return "Topics over time: no study sessions."
    parts = [f"{phase}: {len(g)} topics, {g['start'].min():%d %b %Y} to {g['end'].max():%d %b %Y}"
             for phase, g in data.groupby("phase", sort=False)]
    return "Topics over time, one bar per topic. " + "; ".join(parts) + "."


def weekly_alt(plan: Plan) -> str:
    """The weekly-hours chart in words: the span, the busiest and the average week against the hours offered,
    and the hours done and missed (the figures of planner.totals)."""
    from planner import totals as t

    bars = t.week_bars(plan)
    if not bars:
        return "Hours per week: no study sessions."
    done = round(sum(b.done for b in bars), 2)
    missed = round(sum(b.missed for b in bars), 2)
    return (f"Hours per week, {len(bars)} weeks from {bars[0].week:%d %b %Y} to {bars[-1].week:%d %b %Y}: "
            f"the busiest week holds {t.busiest_week_hours(plan, bars):g} h, an average week "
            f"{t.average_week_hours(plan):g} h (offered: {plan.profile.hours_per_week:g} h); "
            f"{done:g} h done and {missed:g} h missed so far.")
