"""Progress: the pace and forecast, the session table around today (edit several rows and their real hours, then
save once), bulk ticks, re-planning, and the hours done per phase and over time."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import replanning
from dashboard.state import current, save_progress, ss
from dashboard.today_page import forecast_panel
from planner import views
from planner.errors import InputError
from planner.plan import Plan
from planner.progress import mark_done_through, mark_topic_done


def follow_as_of() -> None:
    """A new "as of" date moves the "mark everything through" date with it, and drops a stale proposal."""
    if isinstance(ss.get("as_of"), dt.date):
        ss.done_through = ss.as_of
    ss.proposal = None


def done_through(plan: Plan) -> None:
    save_progress(mark_done_through(plan, ss.done_through), f"done through {ss.done_through}")
    ss.accepted = False


def topics_done(plan: Plan) -> None:
    if ss.get("topics_done"):
        save_progress(mark_topic_done(plan, ss.topics_done), "topics done")
        ss.topics_done = []
    ss.accepted = False


def save_edits(plan: Plan, editor: str) -> None:
    """"Save changes": the editor's edits applied to the table it showed, saved once, before the page is drawn
    (one run of the page, no re-plan and no catch-up menu: only a regenerate button computes those)."""
    table = ss.get("progress_table")
    if table is None:
        return
    try:
        edited = views.edited_table(table, (ss.get(editor) or {}).get("edited_rows") or {})
        edits = views.progress_edits(table, edited)
    except InputError as exc:
        ss.progress_error = views.field_error(exc.field, exc.message).text
        return
    changes = edits.changes
    if not changes:  # what was typed and not saved is named row by row, never dropped in silence
        if edits.notes:
            ss.progress_warning = " ".join(["Nothing saved.", *edits.notes])
        else:
            ss.progress_note = "No changes to save."
        return
    if save_progress(views.apply_progress(plan, changes), f"{len(changes)} session(s) edited"):
        ss.accepted = False
        ss.flash = " ".join([f"Saved {len(changes)} change(s).", *edits.notes])


def render() -> None:
    st.title("Progress")
    result, _ = current()
    if not isinstance(result, Plan):
        st.info("No plan yet: make one on the **Plan** page.")
        return
    plan = result
    as_of = ss.get("as_of")
    today = as_of if isinstance(as_of, dt.date) else views.today_in(plan)
    summary = views.progress_summary(plan, today)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Hours done", f"{summary.hours_done:g} of {summary.total_hours:g} h",
              help=f"Of the plan's total hours ({summary.required_hours:g} h of topics and the reviews): done "
                   f"sessions count fully, missed ones the hours you studied; {summary.hours_left:g} h left")
    m2.metric("Sessions done", summary.done_sessions)
    m3.metric("Sessions missed", summary.missed_sessions)
    m4.metric("Behind by", f"{summary.behind_hours:g} h",
              help="Topic hours neither done nor scheduled from today on — what a re-plan has to place")

    forecast_panel(plan, max(today, plan.profile.start), "progress")

    with st.container(border=True):
        st.markdown("**Fallen behind?** Regenerate the rest of the plan from today: what you did stays, the "
                    "remaining hours are re-planned with as few changes as possible.")
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        c1.date_input("As of (optional)", value=None, key="as_of", format="YYYY-MM-DD", min_value=views.FIRST_DATE,
                      max_value=views.LAST_DATE, on_change=follow_as_of,
                      help=f"Empty: today in {plan.profile.timezone} ({views.today_in(plan)})")
        if c2.button("I'm behind — regenerate from today", key="regenerate", icon=":material/update:"):
            with st.spinner("Re-planning…"):  # the As of date typed just before the click is read here, not stale
                replanning.propose(plan, ss.as_of if isinstance(ss.get("as_of"), dt.date) else views.today_in(plan))
        replanning.proposal_panel(plan, "progress")

    st.header("Sessions")
    show_all = st.toggle("Show all sessions", key="progress_all",
                         help="Off: this week first, then the four weeks before and the two after")
    table = views.progress_frame(plan, today, show_all=show_all)
    ss.progress_table = table  # what the editor shows: its edits are row positions in it
    editor = f"progress_editor_{ss.progress_version}"
    with st.form(f"progress_form_{ss.progress_version}", border=False):
        st.data_editor(
            table, key=editor, hide_index=True, width="stretch", height=420,
            disabled=["Date", "Start", "Phase", "Topic", "Kind", "Session", "Hours"],
            column_config={
                "Date": st.column_config.DateColumn(format="ddd YYYY-MM-DD", width=115),
                "Start": st.column_config.TextColumn(width=55),
                "Phase": st.column_config.NumberColumn(format="%d", width=55),
                "Kind": st.column_config.TextColumn(width=80),
                "Session": st.column_config.TextColumn(width=70),
                "Hours": st.column_config.NumberColumn(format="%.1f h", width=60),
                "Status": st.column_config.SelectboxColumn(options=list(views.PROGRESS_STATUSES), required=True,
                                                           width=95),
                "Done h": st.column_config.NumberColumn(
                    "Done h", min_value=0.0, max_value=24.0, step=0.5, format="%.1f", width=70,
                    help="Hours you studied in a missed session; the whole session or more makes it done "
                         "(more: the time it really took)"),
                "Real h": st.column_config.NumberColumn(
                    "Real h", min_value=0.25, max_value=24.0, step=0.25, format="%.2g", width=70,
                    help="The time a done session really took (empty: as planned); it measures your pace"),
            },
        )
        st.form_submit_button("Save changes", type="primary", icon=":material/save:", on_click=save_edits,
                              args=(plan, editor))
    if ss.get("progress_error"):
        st.error(ss.pop("progress_error"))
    if ss.get("progress_note"):
        st.info(ss.pop("progress_note"))
    if ss.get("progress_warning"):
        st.warning(ss.pop("progress_warning"))

    q1, q2 = st.columns(2)
    with q1:
        if not isinstance(ss.get("done_through"), dt.date):
            ss.done_through = today
        st.date_input("Mark everything through", key="done_through", format="YYYY-MM-DD",
                      min_value=views.FIRST_DATE, max_value=views.LAST_DATE)
        st.button("Mark done", key="mark_through", on_click=done_through, args=(plan,),
                  help="Every planned session on or before this date becomes done; ticked ones stay as they are")
    with q2:
        open_topics = views.open_topics(plan)
        st.multiselect("Topics done / already known", list(open_topics), key="topics_done",
                       format_func=lambda t: open_topics.get(t, t))
        st.button("Mark topics done", key="mark_topics", on_click=topics_done, args=(plan,))

    st.header("Per phase")
    st.dataframe(views.phase_progress_frame(plan), hide_index=True, width="stretch",
                 column_config={"Phase": st.column_config.TextColumn(width="small"),
                                "Done h": st.column_config.NumberColumn("Topic hours done", format="%.1f"),
                                "Required h": st.column_config.NumberColumn("Topic hours required",
                                                                            format="%.1f"),
                                "Progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                            format="percent")})
    st.altair_chart(views.burnup_chart(plan, today), width="stretch", alt=views.burnup_alt(plan, today))


if __name__ == "__main__":  # run as a page by st.navigation
    render()
