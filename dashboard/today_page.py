"""Today: what to study today and this week, one click to tick a session, overdue sessions and the re-plan."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import replanning
from dashboard.state import current, md, save_progress, ss
from planner import views
from planner.plan import Plan, Session
from planner.progress import mark_done, mark_missed

STATUS_ICONS = {"done": ":material/check_circle:", "missed": ":material/cancel:", "planned": ":material/schedule:"}


def tick(plan: Plan, uid: str, status: str, hours: float = 0.0) -> None:
    """One click: done, missed, partial (missed with the hours studied) or back to planned — saved at once."""
    if status == "done":
        new = mark_done(plan, [uid])
    elif status == "missed":
        new = mark_missed(plan, [uid], hours)
    else:
        new = views.apply_progress(plan, [(uid, "planned", 0.0)])
    save_progress(new, f"{status} {uid[:8]}")


def session_row(plan: Plan, s: Session, key: str) -> None:
    line, done, missed, partial = st.columns([6, 1, 1, 1.2], vertical_alignment="center")
    status = s.status if s.status != "missed" or s.done_hours == 0 else "partial"
    label = views.session_line(plan, s)
    if s.status == "missed" and s.done_hours:
        label += f" — {s.done_hours:g} h studied"
    line.markdown(f"{STATUS_ICONS.get(s.status, '')} {md(label)}")
    if s.status == "planned":
        done.button("Done", key=f"{key}_done_{s.uid}", on_click=tick, args=(plan, s.uid, "done"), width="stretch")
        missed.button("Missed", key=f"{key}_missed_{s.uid}", on_click=tick, args=(plan, s.uid, "missed"),
                      width="stretch")
        with partial.popover("Partial", width="stretch"):
            hours = st.number_input("Hours studied", min_value=0.5, max_value=max(0.5, s.hours - 0.5), step=0.5,
                                    value=max(0.5, round(s.hours / 2 * 2) / 2), key=f"{key}_hours_{s.uid}")
            st.button("Save", key=f"{key}_partial_{s.uid}", on_click=tick, args=(plan, s.uid, "missed", hours))
    else:
        done.caption(status)
        missed.button("Undo", key=f"{key}_undo_{s.uid}", on_click=tick, args=(plan, s.uid, "planned"),
                      width="stretch", help="Back to planned")


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
    m[3].metric("Finish", str(facts.finish))

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
        st.subheader(f"First week ({week})")
        for s in (*facts.today_sessions, *facts.week_sessions):
            session_row(plan, s, "w")
        return
    st.subheader("Today")
    if not facts.today_sessions:
        st.write("Nothing planned today.")
    for s in facts.today_sessions:
        session_row(plan, s, "t")
    st.subheader(f"This week ({week})")
    if not facts.week_sessions:
        st.write("No other sessions this week.")
    for s in facts.week_sessions:
        session_row(plan, s, "w")


if __name__ == "__main__":  # run as a page by st.navigation
    render()
