"""Calendar: the plan as files (.ics, CSV, JSON) and how to bring it into a calendar app.

Sections are separate functions so a live feed or a "Sync now" can be added beside the downloads.
"""

from __future__ import annotations

import streamlit as st

from dashboard.state import current, ss
from planner import views
from planner.export import plan_to_csv, plan_to_ics, plan_to_json
from planner.plan import Plan

IMPORT_STEPS = """
1. Create a calendar named **Study plan** in your calendar app (Google Calendar: *Other calendars → + → Create
   new calendar*; Apple Calendar: *File → New Calendar*; Thunderbird: *New Calendar → On My Computer*).
2. Import the downloaded `study-plan.ics` into that calendar (Google: *Settings → Import & export → Import*, pick
   the Study plan calendar; Apple: *File → Import*; Outlook: *Add calendar → Upload from file*).
3. After a re-plan, download the file again and replace that calendar's events with it: kept sessions keep their
   UIDs, moved ones carry a higher SEQUENCE, removed ones come as CANCELLED.
"""


def downloads(plan: Plan) -> None:
    """The three files, built only when clicked (a plan's calendar is several hundred kB)."""
    d1, d2, d3 = st.columns(3)
    d1.download_button("Calendar (.ics)", lambda: plan_to_ics(plan), icon=":material/calendar_month:",
                       file_name="study-plan.ics", mime="text/calendar", on_click="ignore", key="dl_ics",
                       width="stretch", help="Import into a dedicated 'Study plan' calendar")
    d2.download_button("Sessions (CSV)", lambda: plan_to_csv(plan), icon=":material/table_view:",
                       file_name="study-plan.csv", mime="text/csv", on_click="ignore", key="dl_csv", width="stretch")
    d3.download_button("Plan (JSON)", lambda: plan_to_json(plan), icon=":material/data_object:",
                       file_name="study-plan.json", mime="application/json", on_click="ignore", key="dl_json",
                       width="stretch", help="The plan with its progress; `planner mark` and `planner replan` read it")


def import_instructions() -> None:
    st.subheader("Put it in your calendar")
    st.markdown(IMPORT_STEPS)
    st.caption(views.CALENDAR_ROUTINE.replace("**", ""))


def this_week(plan: Plan) -> None:
    title, agenda = views.week_agenda(plan, views.today_in(plan))
    st.subheader(title)
    if agenda.empty:
        st.write("No study sessions this week — enjoy the break.")
    else:
        from dashboard.plan_page import SESSION_COLUMNS

        st.dataframe(agenda, hide_index=True, width="stretch", column_config=SESSION_COLUMNS)


def render() -> None:
    st.title("Calendar")
    result, _ = current()
    if not isinstance(result, Plan):
        st.info("No plan yet: make one on the **Plan** page.")
        return
    st.text(f"{ss.learner} · {len(result.active_sessions)} sessions, {result.profile.start} – "
               f"{result.finish} ({result.profile.timezone})")
    downloads(result)
    import_instructions()
    this_week(result)


if __name__ == "__main__":  # run as a page by st.navigation
    render()
