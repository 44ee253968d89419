"""Today: what to study today and this week, one click to tick a session (with the time it took, a review with
how well it was recalled), the pace and forecast, overdue sessions and the re-plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from dashboard import replanning
from dashboard.state import current, forecast_for, md, save_progress, ss
from planner import views
from planner.errors import InputError
from planner.plan import Plan, Session
from planner.progress import mark_done, mark_missed
from planner.views.today import TAKES_RATING

RATING_HELP = {"again": "Forgot it: review again soon", "hard": "Recalled with serious effort",
               "good": "Done: recalled with some effort", "easy": "Recalled at once"}


def tick(plan: Plan, uid: str, status: str, hours: float = 0.0) -> None:
    """One click: done, missed, partial (missed with the hours studied) or back to planned — saved at once."""
    if status == "done":
        new = mark_done(plan, [uid])
    elif status == "missed":
        new = mark_missed(plan, [uid], hours)
    else:
        new = views.apply_progress(plan, [(uid, "planned", 0.0)])
    save_progress(new, views.check_in_note(plan, uid, "partly done" if hours else status))


def _real(key: str) -> float | None:
    value = ss.get(key)
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _checked_in(change: Callable[[], Plan], note: str, flash: str | None = None) -> None:
    """Save a check-in; bad input is a message on the page, never a traceback."""
    try:
        new = change()
    except InputError as exc:
        ss.save_error = f"Not saved: {views.field_error(exc.field, exc.message).text}."
        return
    if save_progress(new, note) and flash:
        ss.flash = flash


def done_with_hours(plan: Plan, uid: str, hours_key: str) -> None:
    """Done, with the real time from the hours field beside the button (prefilled with the planned hours)."""
    _checked_in(lambda: views.done(plan, uid, _real(hours_key)), views.check_in_note(plan, uid, "done"))


def rated(plan: Plan, uid: str, rating: str) -> None:
    unrecorded = rating != "good" and not TAKES_RATING  # said, not dropped without a word
    _checked_in(lambda: views.done(plan, uid, None, rating), views.check_in_note(plan, uid, f"review ({rating})"),
                f"Review done; this version of the planner does not record the rating ({rating}) yet."
                if unrecorded else None)


def finished(plan: Plan, uid: str, hours_key: str, title: str) -> None:
    try:
        new = views.topic_finished(plan, uid, _real(hours_key))
    except InputError as exc:
        ss.save_error = f"Not saved: {views.field_error(exc.field, exc.message).text}."
        return
    topic = next(s.topic for s in plan.sessions if s.uid == uid)
    tp = new.progress_of(topic)
    took = f", {tp.real_hours:g} h in all" if tp is not None and tp.real_hours else ""
    if save_progress(new, views.check_in_note(plan, uid, "finished")):
        ss.flash = f"{title}: finished{took}. Change a session's real hours on Progress."


def more_time(plan: Plan, uid: str, hours_key: str, more_key: str, title: str) -> None:
    more = _real(more_key) or 0.0
    _checked_in(lambda: views.topic_needs_more(plan, uid, _real(hours_key), more),
                views.check_in_note(plan, uid, "more time"),
                f"{title} needs {more:g} h more: the next re-plan schedules them (Re-plan from today, on this "
                "page or on Progress).")


def session_row(plan: Plan, s: Session, key: str) -> None:
    status = views.session_state(s, views.today_in(plan))
    label = views.session_line(plan, s)
    if s.status == "missed" and s.done_hours:
        label += f" — {s.done_hours:g} h studied"
    if s.status == "done" and s.real_hours is not None and s.real_hours != s.hours:
        label += f" — took {s.real_hours:g} h"
    if s.status != "planned":
        line, state, undo = st.columns([6, 1, 1], vertical_alignment="center")
        line.markdown(f"{views.STATE_ICONS[status]} {md(label)}")
        state.markdown(views.STATE_WORDS[status])
        undo.button("Undo", key=f"{key}_undo_{s.uid}", on_click=tick, args=(plan, s.uid, "planned"),
                    width="stretch", help="Back to planned")
        return
    kind = views.check_in_kind(plan, s)
    if kind == "review":
        line, *rate, missed = st.columns([4.6, 0.9, 0.9, 0.9, 0.9, 1], vertical_alignment="center")
        line.markdown(f"{views.STATE_ICONS[status]} {md(label)}"
                  + (" — **overdue**" if status == "overdue" else ""))
        for col, rating in zip(rate, views.RATINGS, strict=True):
            col.button(rating.capitalize(), key=f"{key}_{rating}_{s.uid}", on_click=rated,
                       args=(plan, s.uid, rating), width="stretch", type="primary" if rating == "good" else "secondary",
                       help=RATING_HELP[rating])
        missed.button("Missed", key=f"{key}_missed_{s.uid}", on_click=tick, args=(plan, s.uid, "missed"),
                      width="stretch")
        return
    title = views.topic_title(plan, s.topic)
    hours_key = f"{key}_real_{s.uid}"
    if kind == "last":
        line, hours, fin, more, missed, partial = st.columns([4, 1, 1, 1.1, 1, 1], vertical_alignment="center")
    else:
        line, hours, fin, missed, partial = st.columns([5.1, 1, 1, 1, 1], vertical_alignment="center")
    line.markdown(f"{views.STATE_ICONS[status]} {md(label)}"
                  + (" — **overdue**" if status == "overdue" else ""))
    if kind == "last":
        line.caption("Last session of this topic: finished, or need more time?")
    hours.number_input("Hours it took", min_value=0.25, max_value=24.0, step=0.25, value=float(s.hours),
                       key=hours_key, label_visibility="collapsed", format="%g",
                       help="The time the session really took (planned: "
                            f"{s.hours:g} h); it measures your pace")
    if kind == "last":
        fin.button("Finished", key=f"{key}_finished_{s.uid}", on_click=finished, width="stretch", type="primary",
                   args=(plan, s.uid, hours_key, title), help="Done, and the topic is finished")
        with more.popover("More time", width="stretch"):
            more_key = f"{key}_more_{s.uid}"
            st.number_input("Hours more it needs", min_value=0.5, max_value=200.0, step=0.5, value=1.0,
                            key=more_key)
            st.button("Save", key=f"{key}_more_save_{s.uid}", on_click=more_time,
                      args=(plan, s.uid, hours_key, more_key, title),
                      help="This session is done; the next re-plan schedules the hours more")
    else:
        fin.button("Done", key=f"{key}_done_{s.uid}", on_click=done_with_hours, args=(plan, s.uid, hours_key),
                   width="stretch", type="primary")
    missed.button("Missed", key=f"{key}_missed_{s.uid}", on_click=tick, args=(plan, s.uid, "missed"),
                  width="stretch")
    with partial.popover("Partial", width="stretch"):
        studied = st.number_input("Hours studied", min_value=0.5, max_value=max(0.5, s.hours - 0.5), step=0.5,
                                  value=max(0.5, round(s.hours / 2 * 2) / 2), key=f"{key}_hours_{s.uid}")
        st.button("Save", key=f"{key}_partial_{s.uid}", on_click=tick, args=(plan, s.uid, "missed", studied))


def forecast_panel(plan: Plan, today: dt.date, key: str) -> None:
    """The measured pace and the finish with its odds (cached per plan version), as a chart and as text, and
    "re-plan at my pace" when the likely finish leaves the range (a proposal: nothing saved before Accept)."""
    _, facts, chart_spec = forecast_for(plan, today)
    st.header("Pace and forecast")
    m = st.columns(3)
    m[0].metric("Your pace", facts.pace_value, help="Real hours per estimated hour")
    m[1].metric("Likely finish", facts.finish_value, help="Half the forecasts finish earlier, half later")
    m[2].metric("Chance to finish on time", facts.on_time_value, help="Inside your path's range")
    st.write(md(facts.pace_line))
    chart, text = st.columns([3, 2], vertical_alignment="center")
    with chart:
        st.vega_lite_chart(spec=chart_spec, width="stretch", alt=facts.text)
    text.text(facts.text)
    st.write(md(f"{facts.finish_line} {facts.on_time_line}"))
    if facts.off_range:
        st.button("Re-plan at my pace", key=f"{key}_at_pace", icon=":material/speed:",
                  on_click=replanning.propose_at_pace, args=(plan, today),
                  help="Plans your open topics at your measured pace; you see the proposal before anything changes")


def render() -> None:
    result, _ = current()
    if not isinstance(result, Plan):
        st.title("Today")
        st.info("No plan yet: make one on the **Plan** page.")
        st.page_link("dashboard/plan_page.py", label="Make my plan", icon=":material/route:")
        return
    plan = result
    today = views.today_in(plan)
    first = plan.active_sessions[0].day if plan.active_sessions else plan.profile.start
    facts = views.today_facts(plan, max(today, first) if today < first else today)
    st.title(f"Today · {today:%A %d %B %Y}")
    st.text(f"{ss.learner} · times in {plan.profile.timezone}")

    m = st.columns(4)
    m[0].metric("This week done", f"{facts.week_done_hours:g} of {facts.week_planned_hours:g} h",
                help=f"Hours done this week against the hours planned for it (you offered "
                     f"{facts.hours_offered:g} h/week)")
    m[1].metric("Overdue", f"{len(facts.overdue)} sessions", help=f"{facts.overdue_hours:g} h planned before today "
                                                                  "and neither ticked nor marked missed")
    if facts.next_milestone:
        m[2].metric("Next milestone", str(facts.next_milestone[1]), help=facts.next_milestone[0])
        m[2].caption(md(facts.next_milestone[0]))
    else:
        m[2].metric("Next milestone", "—")
    m[3].metric("Finish", str(facts.finish), help="The planned finish; the forecast below is at your pace")

    forecast_panel(plan, max(today, plan.profile.start), "today")

    if facts.overdue:
        with st.container(border=True):
            st.warning(f"**{len(facts.overdue)} overdue sessions** ({facts.overdue_hours:g} h) before today. "
                       "Tick what you did on **Progress**, or re-plan the rest from today: what you did stays.",
                       icon=":material/history:")
            st.button("Re-plan from today", key="today_replan", type="primary", icon=":material/update:",
                      on_click=replanning.propose, args=(plan, today))
            replanning.proposal_panel(plan, "today")
    elif ss.get("proposal") is not None or ss.get("accepted"):
        with st.container(border=True):
            replanning.proposal_panel(plan, "today")

    week = f"{facts.monday:%d %b} – {facts.monday + dt.timedelta(days=6):%d %b}"
    if today < first:
        st.info(f"Your plan starts {first:%A %d %B %Y}. Here is your first week.")
        st.header(f"First week ({week})")
        for s in (*facts.today_sessions, *facts.week_sessions):
            session_row(plan, s, "w")
        return
    st.header("Today")
    if not facts.today_sessions:
        st.write("Nothing planned today.")
    for s in facts.today_sessions:
        session_row(plan, s, "t")
    st.header(f"This week ({week})")
    if not facts.week_sessions:
        st.write("No other sessions this week.")
    for s in facts.week_sessions:
        session_row(plan, s, "w")


if __name__ == "__main__":  # run as a page by st.navigation
    render()
