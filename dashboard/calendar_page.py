"""Calendar: three ways to bring the plan into a calendar app, in the order a learner should try them.

1. The subscription feed: the app fetches the learner's current plan itself, so a re-plan reaches it unasked.
2. CalDAV "Sync now": the plan written into a calendar on a CalDAV server; run again after each re-plan (the
   password is used for the one sync and never kept, so the page cannot sync by itself).
3. The files (.ics, CSV, JSON) to import by hand.
"""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import urlsplit

import streamlit as st

from dashboard.state import current, md, ss, store
from planner import views
from planner.caldav_sync import PASSWORD_ENV, SyncError, sync_plan
from planner.errors import InputError
from planner.export import plan_to_csv, plan_to_ics, plan_to_json
from planner.feedtokens import feed_url, rotate_token, webcal_url
from planner.plan import Plan

FEED_URL_ENV = "PLANNER_FEED_URL"
DEFAULT_FEED_URL = "http://127.0.0.1:8502"

SUBSCRIBE_STEPS = """
- **Apple Calendar**: *File → New Calendar Subscription* (iPhone/iPad: *Settings → Calendar → Accounts → Add
  Account → Other → Add Subscribed Calendar*), paste the `webcal://` link, set *Auto-refresh* to every hour.
- **Thunderbird**: *New Calendar → On the Network*, paste the `http(s)://` address; it refreshes on its own.
- **Google Calendar**: *Other calendars → + → From URL*, paste the `http(s)://` address.
- **Outlook**: *Add calendar → Subscribe from web*, paste the `http(s)://` address.
"""

REMOTE_NOTE = (
    "Apple Calendar and Thunderbird on this computer can use the local address as shown. Google Calendar and "
    "Outlook fetch the feed from their own servers, not from your computer: they need the address reachable from "
    "the internet over https. Run the feed server with `planner serve --host 0.0.0.0` (or keep it on 127.0.0.1) "
    "behind an HTTPS reverse proxy such as Caddy on a machine with a public name, set PLANNER_FEED_URL to that "
    "public https address, and keep the dashboard itself private (see docs/calendar-sync.md). Google refreshes a "
    "subscription every 8–24 hours, Outlook every few hours."
)

IMPORT_STEPS = """
1. Create a calendar named **Study plan** in your calendar app (Google Calendar: *Other calendars → + → Create
   new calendar*; Apple Calendar: *File → New Calendar*; Thunderbird: *New Calendar → On My Computer*).
2. Import the downloaded `study-plan.ics` into that calendar (Google: *Settings → Import & export → Import*, pick
   the Study plan calendar; Apple: *File → Import*; Outlook: *Add calendar → Upload from file*).
3. After a re-plan, download the file again and replace that calendar's events with it: kept sessions stay the
   same events, moved ones are updated in place, and removed ones are marked cancelled.
"""


def feed_base() -> str:
    """Where calendar apps reach the feed server (scripts/dashboard.sh exports it; a deployment sets its own)."""
    return os.environ.get(FEED_URL_ENV, "").strip() or DEFAULT_FEED_URL


def saved_learner() -> bool:
    """Only a saved learner has a feed (and a plan on the server side to serve)."""
    rec = store().load(ss.learner)
    return rec is not None and rec.plan is not None


# ---------------------------------------------------------------- 1. the subscription feed


def ask_rotate() -> None:
    ss.rotate_confirm = True


def on_rotate() -> None:
    ss.rotate_confirm = False
    try:
        rotate_token(store(), ss.learner)
    except InputError as exc:
        ss.feed_error = f"No new link: {exc.message}"
        return
    except sqlite3.Error as exc:  # e.g. a read-only database file
        ss.feed_error = f"No new link: the database cannot be written ({exc})"
        return
    ss.feed_notice = ("New secret link made. The old link has stopped working: calendars subscribed to it get "
                      "nothing more until you subscribe them to the new one.")


def feed_section() -> None:
    st.header("Subscribe (follows every re-plan)")
    if not saved_learner():
        st.info("The subscription link appears once this learner's plan is saved (make a plan on the Plan page).")
        return
    try:
        url = feed_url(store(), ss.learner, feed_base())
    except InputError as exc:
        st.error(md(exc.message))
        return
    except sqlite3.Error as exc:  # the first link is written to the database; a read-only file cannot take it
        st.error(md(f"No subscription link: the database cannot be written ({exc})"))
        return
    st.write("Your calendar app fetches this address about every hour and replaces its copy of the plan, so an "
             "accepted re-plan shows up by itself. Treat the link like a password: anyone with it can read the "
             "plan.")
    st.link_button("Subscribe in your calendar app", webcal_url(url), icon=":material/event_repeat:",
                   type="primary")
    st.caption("Subscription link (webcal://)")
    st.code(webcal_url(url), language=None, wrap_lines=True)
    st.caption("The same feed as a web address, to copy into Thunderbird, Google Calendar or Outlook")
    st.code(url, language=None, wrap_lines=True)
    with st.expander("How to subscribe", icon=":material/help:"):
        st.markdown(SUBSCRIBE_STEPS)
        st.caption(REMOTE_NOTE)
    rotate_question()
    if ss.get("feed_notice"):
        st.warning(md(ss.pop("feed_notice")))
    if ss.get("feed_error"):
        st.error(md(ss.pop("feed_error")))


def rotate_question() -> None:
    """A new link kills the old one for every calendar subscribed to it: the page asks before it does that."""
    if not ss.get("rotate_confirm"):
        st.button("New secret link…", key="feed_rotate", on_click=ask_rotate, icon=":material/key:",
                  help="Asks first: a new link stops the current one (use it when the link was shared by mistake)")
        return
    with st.container(border=True):
        st.warning("**Make a new secret link?** The link above stops working at once: every calendar subscribed "
                   "to it (yours too) gets no more updates of your plan until you subscribe it to the new link. "
                   "Anyone who has the old link can no longer read your plan.", icon=":material/key:")
        c1, c2 = st.columns(2)
        c1.button("Yes, make a new link", key="feed_rotate_confirm", on_click=on_rotate, type="primary",
                  width="stretch")
        c2.button("Keep the current link", key="feed_rotate_cancel", width="stretch",
                  on_click=lambda: ss.__setitem__("rotate_confirm", False))


# ---------------------------------------------------------------- 2. CalDAV sync


def _dashboard_words(message: str) -> str:
    """SyncError speaks to the command line (flags, an environment variable); here the fields are on the page."""
    return (message.replace("--caldav: ", "Calendar URL: ")
            .replace(f"check the user name and {PASSWORD_ENV}", "check the user name and password")
            .replace("no user (give --user)", "no user (fill in User name)")
            .replace(f"put the password in {PASSWORD_ENV} (or type it when asked), not in the URL",
                     "put the password in the Password field, not in the URL")
            .replace("sync again with --restore", "run planner sync PLAN.json --caldav URL --restore")
            .replace("(planner mark PLAN.json --missed UID…, then planner replan)",
                     "(Missed on the Today page, then Re-plan from today)"))


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def on_sync() -> None:
    """Run the sync with the password typed for this click, then forget it (never in the store or the session)."""
    password = ss.get("caldav_password") or None
    ss.caldav_password = ""
    url = str(ss.get("caldav_url") or "").strip()
    if _has_password(url):  # refused by the sync; not kept in the form either
        ss.caldav_url = ""
    user = str(ss.get("caldav_user") or "").strip() or None
    plan, _ = current()
    if not isinstance(plan, Plan):
        ss.caldav_result = ("error", "Nothing to sync: this learner has no plan.")
        return
    if not url:
        ss.caldav_result = ("error", "Calendar URL: give the address of the calendar to sync into.")
        return
    try:
        result = sync_plan(plan, url, user, password, db=store().path)
    except SyncError as exc:
        ss.caldav_result = ("error", _dashboard_words(str(exc)))
    except sqlite3.Error as exc:  # the sync state lives in the planner's database
        ss.caldav_result = ("error", f"Not synced: the planner's database cannot record the sync ({exc})")
    else:
        notes = [_dashboard_words(line) for line in result.notes()]  # what was left as the learner has it
        ss.caldav_result = ("warn" if notes else "ok", "\n\n".join(
            [f"{result.text()} ({result.calendar}, {result.seconds:.1f} s)", *notes]))


def caldav_section() -> None:
    st.header("Sync to a CalDAV calendar")
    st.write("Writes the plan into a calendar on a CalDAV server (Nextcloud, Radicale, Fastmail, iCloud with an "
             "app-specific password, …): only what changed, and never events it did not write. Use a calendar of "
             "its own for the plan. Google Calendar needs the subscription above instead.")
    with st.form("caldav_form", border=True):
        st.text_input("Calendar URL", key="caldav_url", placeholder="https://dav.example.org/ada/study-plan/",
                      help="The calendar's own address (create a 'Study plan' calendar first)")
        c1, c2 = st.columns(2)
        c1.text_input("User name", key="caldav_user")
        c2.text_input("Password", key="caldav_password", type="password",
                      help="Used for this sync only: never saved, and cleared from the page after the click")
        st.form_submit_button("Sync now", on_click=on_sync, icon=":material/sync:", type="primary")
    result = ss.get("caldav_result")
    if result:
        kind, text = result
        {"ok": st.success, "warn": st.warning}.get(kind, st.error)(md(text))


# ---------------------------------------------------------------- 3. files


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
    st.header("Or import a file")
    st.write("A one-time copy: after a re-plan it has to be imported again by hand.")
    st.markdown(IMPORT_STEPS)
    st.caption(views.CALENDAR_ROUTINE.replace("**", ""))


def this_week(plan: Plan) -> None:
    title, agenda = views.week_agenda(plan, views.today_in(plan))
    st.header(title)
    if agenda.empty:
        st.write("No study sessions this week — enjoy the break.")
    else:
        from dashboard.plan_page import SESSION_COLUMNS

        st.dataframe(agenda, hide_index=True, width="stretch", column_config=SESSION_COLUMNS)


def after_replan_note() -> None:
    if ss.get("accepted"):
        st.info("New plan saved. A subscribed calendar picks it up at its next refresh by itself; a CalDAV "
                "calendar needs **Sync now** again (the password is not kept).", icon=":material/sync:")


def render() -> None:
    st.title("Calendar")
    result, _ = current()
    if not isinstance(result, Plan):
        st.info("No plan yet: make one on the **Plan** page.")
        return
    st.text(f"{ss.learner} · {len(result.active_sessions)} sessions, {result.profile.start} – "
            f"{result.finish} ({result.profile.timezone})")
    after_replan_note()
    feed_section()
    caldav_section()
    import_instructions()
    downloads(result)
    this_week(result)


if __name__ == "__main__":  # run as a page by st.navigation
    render()
