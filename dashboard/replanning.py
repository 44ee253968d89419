"""The re-plan panel shared by Today, Progress and Plan: regenerate from a day, choose a catch-up option, then
accept or discard the proposal (nothing is saved before "Accept")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboard.state import CONTENT, curriculum_for, md, save_progress, ss
from planner import views
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS
from planner.replan import CatchUpMenu, Replanned, replan


def propose(plan: Plan, today: dt.date, **kwargs: Any) -> None:
    """Compute a re-plan from `today` (nothing saved yet); an impossible date is an inline error."""
    ss.accepted = False
    try:
        ss.proposal = replan(curriculum_for(CONTENT), plan, today, **kwargs)
        ss.proposal_today = today
        ss.replan_error = None
    except InputError as exc:
        ss.proposal = None
        ss.replan_error = views.field_error(exc.field, exc.message).text


def accept_proposal() -> None:
    proposal = ss.get("proposal")
    if not isinstance(proposal, Replanned):
        return
    new = proposal.plan
    profile = dict(ss.active)
    if new.profile.hours_per_week != float(profile.get("hours_per_week") or 0):  # "study N h/week from now"
        old = float(profile.get("hours_per_week") or 0)
        profile["hours_per_week"] = new.profile.hours_per_week
        if profile.get("day_hours"):  # the learner's own pattern, scaled like the plan's
            profile["day_hours"] = views.scaled_day_hours(str(profile["day_hours"]), old,
                                                          new.profile.hours_per_week)
    if save_progress(new, f"re-planned from {ss.get('proposal_today')}", profile):
        ss.accepted = True
        values = dict(ss.get("form_values") or {})
        values.update(views.mapping_to_form(profile))
        from dashboard.state import put_form

        put_form(values)


def discard_proposal() -> None:
    ss.proposal = None
    ss.replan_error = None


def proposal_panel(plan: Plan, key: str) -> None:
    """The proposal under a "regenerate" button: the catch-up menu, or the diff with Accept / Discard."""
    if ss.get("replan_error"):
        st.error(f"Cannot re-plan — {md(ss.replan_error)}")
    proposal = ss.get("proposal")
    if isinstance(proposal, CatchUpMenu):
        st.warning(f"**Behind:** {proposal.remaining_hours:g} h left cannot finish by "
                   f"{proposal.latest_allowed} at {proposal.hours_per_week:g} h/week. Choose one:")
        for option in views.catch_up_options(proposal):
            st.button(md(option.label), key=f"{key}_catch_up_{option.key}", width="stretch", on_click=propose,
                      args=(plan, ss.proposal_today), kwargs=option.kwargs)
        st.button("Keep my current plan", key=f"{key}_discard_menu", on_click=discard_proposal)
    elif isinstance(proposal, Replanned):
        change = views.diff_facts(proposal.diff)
        hours = proposal.plan.profile.hours_per_week
        st.markdown(f"**Proposed plan** (from {ss.proposal_today}"
                    + (f", {hours:g} h/week" if hours != plan.profile.hours_per_week else "") + ")")
        d = st.columns(5)
        d[0].metric("Kept", change.kept, help="Same time, same calendar event")
        d[1].metric("Moved", change.moved, help="Same event (UID), new time, SEQUENCE + 1")
        d[2].metric("Added", change.added, help="New events")
        d[3].metric("Removed", change.removed, help="Sent as CANCELLED")
        d[4].metric("New finish", str(change.new_finish), f"{change.days_text} (was {change.old_finish})",
                    delta_color="inverse" if change.days else "off", delta_arrow="auto" if change.days else "off",
                    help=f"The plan you have now finishes {change.old_finish}")
        (st.success if change.inside_range else st.warning)(change.verdict)
        b1, b2 = st.columns(2)
        b1.button("Accept new plan", key=f"{key}_accept", type="primary", on_click=accept_proposal,
                  width="stretch")
        b2.button("Discard", key=f"{key}_discard", on_click=discard_proposal, width="stretch")
    if ss.get("accepted"):
        st.success("New plan saved. A calendar subscribed to your feed follows by itself; with CalDAV, press "
                   "**Sync now** on the **Calendar** page; with a downloaded file, download it again there and "
                   "replace your **Study plan** calendar's events.")


def day_hours_text(plan: Plan) -> str:
    return ",".join(f"{d}={h:g}" for d, h in zip(WEEKDAYS, plan.profile.weekday_hours, strict=True) if h > 0)
