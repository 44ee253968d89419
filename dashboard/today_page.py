"""Today: what to study today and what is overdue, one tap to tick a session (with the time it took, a review with
how well it was recalled), then the week, the figures, the pace and forecast and the re-plan.

Every button that saves is read from its return value in the script run, never from an `on_click` callback: a tab
that was open before the server restarted sends its click to a new session, which has no callbacks but draws the
same button (its key names the session and the plan version it was drawn for). See `dashboard.state.action_key`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from dashboard import replanning
from dashboard.state import LOST_CLICK, clicked_actions, current, forecast_for, md, save_progress, ss
from dashboard.state import action_key as _action_key
from planner import views
from planner.errors import InputError
from planner.plan import Plan, Session
from planner.progress import mark_missed
from planner.views.today import TAKES_RATING, done_before, figures_line, short_name

RATING_HELP = {"again": "Done, but forgot it: review again soon", "hard": "Done, recalled with serious effort",
               "good": "Recalled with some effort (good); or pick Again, Hard or Easy",
               "easy": "Done, recalled at once"}
TOUCH_CSS = """<style>
.st-key-today_list button { min-height: 44px; }
@media (max-width: 640px) {  /* a phone: the sessions on the first screen, not the headings' white space */
  .stMainBlockContainer { padding-top: 3.5rem; }
  .stMainBlockContainer h1 { font-size: 1.9rem; padding-bottom: 0.25rem; }
  .stMainBlockContainer h2 { font-size: 1.35rem; padding: 0.5rem 0 0.25rem; }
}
</style>"""


def action_key(row: str, action: str, uid: str) -> str:
    """A check-in button's key (session and plan version, see dashboard.state), remembered as drawn this run."""
    key = _action_key(row, action, uid)
    ss.today_drawn.add(key)
    return key


def _real(key: str) -> float | None:
    value = ss.get(key)
    return float(value) if isinstance(value, int | float) and value > 0 else None


def check_in(change: Callable[[], Plan], note: str, said: str) -> None:
    """Save a check-in and say so beside the list, once; bad input is a message there, never a traceback. Then
    the page is drawn again from the saved plan (its buttons now carry the new version)."""
    try:
        new = change()
    except InputError as exc:
        ss.today_flash = ("error", f"Not saved: {views.field_error(exc.field, exc.message).text}.")
    else:
        if save_progress(new, note):
            ss.today_flash = ("ok", said)
    st.rerun()


def _saved(plan: Plan, uid: str, what: str) -> str:
    return f"Saved — {views.check_in_note(plan, uid, what)}."


def _rated(plan: Plan, s: Session, rating: str) -> None:
    said = _saved(plan, s.uid, f"review ({rating})")
    if rating != "good" and not TAKES_RATING:  # said, not dropped without a word
        said += f" This version of the planner does not record the rating ({rating}) yet."
    check_in(lambda: views.done(plan, s.uid, None, rating), views.check_in_note(plan, s.uid, f"review ({rating})"),
             said)


def _finished(plan: Plan, s: Session, hours_key: str, title: str) -> None:
    def change() -> Plan:
        return views.topic_finished(plan, s.uid, _real(hours_key))

    try:
        new = change()
    except InputError:
        new = None
    tp = new.progress_of(s.topic) if new is not None else None
    took = f", {tp.real_hours:g} h in all" if tp is not None and tp.real_hours else ""
    check_in(change, views.check_in_note(plan, s.uid, "finished"),
             f"Saved — {title}: finished{took}. Change a session's real hours on Progress.")


def _more_time(plan: Plan, s: Session, hours_key: str, more_key: str, title: str) -> None:
    more = _real(more_key) or 0.0
    check_in(lambda: views.topic_needs_more(plan, s.uid, _real(hours_key), more),
             views.check_in_note(plan, s.uid, "more time"),
             f"Saved — {title} needs {more:g} h more: the next re-plan schedules them (Re-plan from today, "
             "on this page or on Progress).")


def session_row(plan: Plan, s: Session, row: str, today: dt.date) -> None:
    """One session: what and when, its state in a word and a symbol (overdue looks different from upcoming), and
    one tap to tick it. Buttons sit in a row that wraps on a phone instead of stacking full-width columns."""
    status = views.session_state(s, today)
    label = views.session_line(plan, s)
    if s.status == "missed" and s.done_hours:
        label += f" — {s.done_hours:g} h studied"
    if s.status == "done" and s.real_hours is not None and s.real_hours != s.hours:
        label += f" — took {s.real_hours:g} h"
    name = md(short_name(plan, s))
    word = views.STATE_WORDS[status]
    line = f"{views.STATE_ICONS[status]} {md(label)}"
    line = f"**{word.capitalize()}:** {line}" if status in ("overdue", "done", "partial", "missed") else line
    if s.status == "planned" and views.check_in_kind(plan, s) == "last":
        line += " — last session of this topic: finished, or need more time?"
    st.markdown(line)
    buttons = st.container(horizontal=True, gap="small")
    if s.status != "planned":
        if buttons.button(f"Undo: {name}", key=action_key(row, "undo", s.uid), help="Back to planned"):
            check_in(lambda: views.apply_progress(plan, [(s.uid, "planned", 0.0)]),
                     views.check_in_note(plan, s.uid, "planned"), _saved(plan, s.uid, "back to planned"))
        return
    kind = views.check_in_kind(plan, s)
    if kind == "review":
        for rating in ("good", *(r for r in views.RATINGS if r != "good")):  # Done first: recalled as usual
            text = f"Done: {name}" if rating == "good" else rating.capitalize()
            if buttons.button(text, key=action_key(row, rating, s.uid), help=RATING_HELP[rating],
                              type="primary" if rating == "good" else "secondary"):
                _rated(plan, s, rating)
    else:
        title = views.topic_title(plan, s.topic)
        hours_key = f"{row}_real_{s.uid}"
        if kind == "last":
            if buttons.button(f"Finished: {name}", key=action_key(row, "finished", s.uid), type="primary",
                              help="Done, and the topic is finished"):
                _finished(plan, s, hours_key, title)
        elif buttons.button(f"Done: {name}", key=action_key(row, "done", s.uid), type="primary"):
            check_in(lambda: views.done(plan, s.uid, _real(hours_key)), views.check_in_note(plan, s.uid, "done"),
                     _saved(plan, s.uid, "done"))
    if buttons.button(f"Missed: {name}", key=action_key(row, "missed", s.uid)):
        check_in(lambda: mark_missed(plan, [s.uid], 0.0), views.check_in_note(plan, s.uid, "missed"),
                 _saved(plan, s.uid, "missed"))
    if kind == "review":
        return
    with buttons.popover(f"Partial: {name}", key=f"{row}_partly_{s.uid}"):
        studied_key = f"{row}_hours_{s.uid}"
        st.number_input("Hours studied", min_value=0.5, max_value=max(0.5, s.hours - 0.5), step=0.5,
                        value=max(0.5, round(s.hours / 2 * 2) / 2), key=studied_key)
        if st.button("Save partly done", key=action_key(row, "partial", s.uid)):
            studied = _real(studied_key) or 0.5
            check_in(lambda: mark_missed(plan, [s.uid], studied), views.check_in_note(plan, s.uid, "partly done"),
                     _saved(plan, s.uid, f"partly done, {studied:g} h"))
    with buttons.popover("Time it took", key=f"{row}_took_{s.uid}"):
        st.number_input("Hours it took", min_value=0.25, max_value=24.0, step=0.25, value=float(s.hours),
                        key=hours_key, format="%g",
                        help=f"The time the session really took (planned: {s.hours:g} h); it measures your pace. "
                             "Then press Done.")
        if kind == "last":
            more_key = f"{row}_more_{s.uid}"
            st.number_input("Or: hours more the topic needs", min_value=0.5, max_value=200.0, step=0.5, value=1.0,
                            key=more_key)
            if st.button("Save: needs more time", key=action_key(row, "more_save", s.uid),
                         help="This session is done; the next re-plan schedules the hours more"):
                _more_time(plan, s, hours_key, more_key, views.topic_title(plan, s.topic))


def forecast_panel(plan: Plan, today: dt.date, key: str) -> None:
    """The measured pace and the finish with its odds (cached per plan version), as a chart and as text, and
    "re-plan at my pace" when the likely finish leaves the range (a proposal: nothing saved before Accept)."""
    with st.spinner("Forecasting your finish…"):
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
    if facts.off_range and st.button(
            "Re-plan at my pace", key=f"{key}_at_pace", icon=":material/speed:",
            help="Plans your open topics at your measured pace; you see the proposal before anything changes"):
        with st.spinner("Re-planning at your pace…"):
            replanning.propose_at_pace(plan, today)
        st.rerun()


def _flash() -> None:
    """The answer to the last tap, beside the list where it was taken; shown once."""
    flash = ss.pop("today_flash", None)
    if flash is None:
        return
    kind, text = flash
    (st.success if kind == "ok" else st.error)(md(text),  # titles are text, never markdown
                                               icon=":material/check_circle:" if kind == "ok" else ":material/error:")


def _overdue(plan: Plan, overdue: tuple[Session, ...], today: dt.date) -> None:
    hours = round(sum(s.hours for s in overdue), 2)
    st.header(f"Overdue: {len(overdue)}")
    st.markdown(f"{len(overdue)} sessions ({hours:g} h) before today, neither ticked nor marked missed.")
    a, b = st.columns(2)
    if a.button("I did everything up to today", key=action_key("today", "all_done", "before"), type="primary",
                icon=":material/done_all:", width="stretch",
                help="Every session still open before today becomes done as planned; today's stay open"):
        check_in(lambda: done_before(plan, today), f"done through {today - dt.timedelta(days=1)}",
                 f"Saved — {len(overdue)} overdue sessions done.")
    if b.button("Re-plan from today", key="today_replan", icon=":material/update:", width="stretch",
                help="What you did stays; the rest is planned again from today. You see it before anything "
                     "changes"):
        with st.spinner("Re-planning from today…"):
            replanning.propose(plan, today)
        st.rerun()
    replanning.proposal_panel(plan, "today")
    shown = overdue[-3:]  # the most recent: older ones are on Progress, or gone with one of the buttons above
    if len(overdue) > len(shown):
        st.write(f"The {len(shown)} most recent; the other {len(overdue) - len(shown)} are on **Progress**.")
    for s in reversed(shown):
        session_row(plan, s, "o", today)


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
    facts = views.today_facts(plan, today)
    st.html(TOUCH_CSS)
    st.title("Today")
    st.text(f"{today:%a %d %b %Y} · {ss.learner} · times in {plan.profile.timezone}")  # a name is plain text

    week = f"{facts.monday:%d %b} – {facts.monday + dt.timedelta(days=6):%d %b}"
    ss.today_drawn = set()
    with st.container(key="today_list"):
        _flash()
        lost_slot = st.empty()
        if facts.overdue:
            with st.container(border=True):
                _overdue(plan, facts.overdue, today)
        elif ss.get("proposal") is not None or ss.get("replan_error") or ss.get("accepted_flash") == "today":
            with st.container(border=True):
                replanning.proposal_panel(plan, "today")
        if today < first:
            st.info(f"Your plan starts {first:%A %d %B %Y}. Here is your first week.")
            first_week = views.today_facts(plan, first)
            st.header(f"First week ({first_week.monday:%d %b} – {first_week.monday + dt.timedelta(days=6):%d %b})")
            for s in (*first_week.today_sessions, *first_week.week_sessions):
                session_row(plan, s, "w", today)
        else:
            st.header("Sessions today")
            if not facts.today_sessions:
                st.write("Nothing planned today.")
            for s in facts.today_sessions:
                session_row(plan, s, "t", today)
            st.header(f"This week ({week})")
            if not facts.week_sessions:
                st.write("No other sessions this week.")
            for s in facts.week_sessions:
                session_row(plan, s, "w", today)

    if any(key not in ss.today_drawn for key in clicked_actions()):  # drawn for another version, or another day
        lost_slot.warning(LOST_CLICK, icon=":material/sync_problem:")
    st.header("Figures")
    st.markdown(md(figures_line(facts)))
    forecast_panel(plan, max(today, plan.profile.start), "today")


if __name__ == "__main__":  # run as a page by st.navigation
    render()
