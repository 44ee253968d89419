"""The re-plan panel shared by Today, Progress and Plan: regenerate from a day, choose a catch-up option, then
accept or discard the proposal (nothing is saved before "Accept"). When a busy calendar of the plan cannot be
read (a moved file, a reset address) the panel offers to re-plan without it or with a new file in its place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.state import CONTENT, curriculum_for, md, plan_key, save_progress, ss
from planner import views
from planner.busy import normalise_source
from planner.errors import InputError
from planner.pace import measure_pace
from planner.plan import Plan
from planner.profile import WEEKDAYS
from planner.replan import CalendarUnreadable, CatchUpMenu, Price, Replanned, price_of, replan, shown_source
from planner.store import default_db_path
from planner.views.form import busy_list, check_busy_size, keep_busy_file

MERGED = ("drop", "busy_drop", "busy_replace")  # choices that add to what was already chosen


def propose(plan: Plan, today: dt.date, raw: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Compute a re-plan from `today` (nothing saved yet); an impossible date is an inline error. `raw`: the
    changed form the re-plan carries (saved as the learner's profile on Accept); `kwargs` go to replan()."""
    ss.proposal_raw = raw
    ss.proposal_base = dict(kwargs)
    _run(plan, today, dict(kwargs))


def propose_at_pace(plan: Plan, today: dt.date) -> None:
    """A re-plan from `today` with open topics at the learner's measured pace (estimate × multiplier); its
    catch-up choices keep that pace. Shown in the panel before anything is saved, like every proposal."""
    propose(plan, today, pace=measure_pace(plan))


def choose(plan: Plan, today: dt.date, **choice: Any) -> None:
    """A choice on top of the proposal being made (a catch-up option, a calendar dropped or replaced): what was
    carried before (a changed form, calendars already fixed) stays."""
    kwargs = dict(ss.get("proposal_base") or {})
    for key, value in choice.items():
        kwargs[key] = (*kwargs.get(key, ()), *value) if key in MERGED else value
    if "busy_drop" in choice or "busy_replace" in choice:  # a fixed calendar holds for every later choice
        ss.proposal_base = {k: v for k, v in kwargs.items() if k in ("profile", "busy_drop", "busy_replace", "pace")}
    menu = ss.get("proposal")
    planned = next((c.result for c in menu.offered if c.args == choice), None) \
        if isinstance(menu, CatchUpMenu) and ss.get("proposal_today") == today else None
    if planned is not None:  # the menu planned this choice already: the same plan replan() would make
        ss.accepted = False
        ss.proposal = planned
        ss.proposal_price = price_of(plan, planned.plan, today)
        ss.replan_error = None
        return
    _run(plan, today, kwargs)


def _run(plan: Plan, today: dt.date, kwargs: dict[str, Any]) -> None:
    ss.accepted = False
    ss.proposal_at_pace = "pace" in kwargs
    ss.proposal_today = today
    ss.replan_busy = None
    ss.proposal_price = None
    try:
        with st.spinner("Planning the rest of your path…"):
            ss.proposal = _replanned(plan_key(), today.isoformat(), repr(sorted(kwargs.items())), plan, kwargs)
        if isinstance(ss.proposal, Replanned):
            ss.proposal_price = price_of(plan, ss.proposal.plan, today)
        ss.replan_error = None
        _remember(today, kwargs)
    except CalendarUnreadable as exc:
        ss.proposal = None
        ss.replan_busy = exc.busy_source
        ss.replan_error = f"busy calendar {calendar_name(exc.busy_source)}: {exc.reason}"
    except InputError as exc:
        ss.proposal = None
        ss.replan_error = views.field_error(exc.field, exc.message).text


RECIPE = "replan"  # the tab's address holds how its proposal was made: "<version>.<day>[.pace]"


def _remember(today: dt.date, kwargs: dict[str, Any]) -> None:
    """A plain re-plan (from a day, perhaps at the learner's pace) is written into the tab's address: an Accept
    from this tab after a server restart, which took the proposal with it, makes the same proposal again (a
    re-plan is deterministic) and accepts it. Other proposals are not: that Accept says the proposal was lost."""
    if isinstance(ss.get("proposal"), Replanned) and ss.get("proposal_raw") is None and set(kwargs) <= {"pace"}:
        st.query_params[RECIPE] = f"{ss.get('version', 0)}.{today.isoformat()}" + (".pace" if kwargs else "")
    else:
        forget_recipe()


def forget_recipe() -> None:
    if RECIPE in st.query_params:
        del st.query_params[RECIPE]


def accept_from_address(plan: Plan, where: str) -> bool:
    """An Accept that reached a session without its proposal: made again from the tab's address, and accepted,
    when it was a plain re-plan of the plan version this session holds. False: nothing saved."""
    parts = str(st.query_params.get(RECIPE) or "").split(".")
    try:
        version, day = int(parts[0]), dt.date.fromisoformat(parts[1])
    except (ValueError, IndexError):
        return False
    if version != ss.get("version", 0) or parts[2:] not in ([], ["pace"]):
        return False
    with st.spinner("Saving the new plan…"):
        if parts[2:]:
            propose_at_pace(plan, day)
        else:
            propose(plan, day)
        if not isinstance(ss.get("proposal"), Replanned):
            return False
        accept_proposal(where)
    return bool(ss.get("accepted_flash") == where)


@st.cache_resource(max_entries=8, ttl=600, show_spinner=False)
def _replanned(key: str, today: str, args: str, _plan: Plan, _kwargs: dict[str, Any]) -> Replanned | CatchUpMenu:
    """A re-plan (or its catch-up menu, every choice planned) once per plan version, day and choice: Discard then
    regenerate again, or the same question from Today and Progress, costs nothing the second time. Ten minutes
    at most, so a busy calendar is read again after that; errors are never kept."""
    return replan(curriculum_for(CONTENT), _plan, dt.date.fromisoformat(today), **_kwargs)


def calendar_name(source: str) -> str:
    """A busy calendar as the learner knows it: the uploaded file's name, else the file name or the address."""
    named = (ss.get("busy_names") or {}).get(source)
    if named:
        return str(named)
    return shown_source(source) if "://" in source else Path(source).name


def _same_sources(given: Any, sources: tuple[str, ...]) -> bool:
    try:
        return [normalise_source(v, "busy") for v in busy_list(given)] == list(sources)
    except InputError:
        return False


def accept_proposal(where: str = "") -> None:
    """Save the proposal as the learner's plan; `where`: the panel it was accepted in, which says so once."""
    proposal = ss.get("proposal")
    if not isinstance(proposal, Replanned):
        return
    new = proposal.plan
    carried = ss.get("proposal_raw")
    profile = dict(carried if carried is not None else ss.active)
    if new.profile.hours_per_week != float(profile.get("hours_per_week") or 0):  # "study N h/week from now"
        profile = views.profile_at_hours(profile, new.profile.hours_per_week, curriculum_for(CONTENT))
    if not _same_sources(profile.get("busy"), new.profile.busy_sources):  # a calendar dropped or replaced
        profile["busy"] = list(new.profile.busy_sources)
        if not profile["busy"]:
            del profile["busy"]
    if save_progress(new, f"re-planned from {ss.get('proposal_today')}", profile):
        ss.accepted = True
        ss.accepted_flash = where
        ss.proposal_raw = None
        ss.proposal_base = None
        values = dict(ss.get("form_values") or {})
        values.update(views.mapping_to_form(views.typed_profile(profile, curriculum_for(CONTENT))))
        from dashboard.state import put_form

        put_form(values)
        forget_recipe()


def discard_proposal() -> None:
    forget_recipe()
    ss.proposal = None
    ss.proposal_price = None
    ss.replan_error = None
    ss.replan_busy = None
    ss.proposal_raw = None
    ss.proposal_base = None


def replace_calendar(plan: Plan, source: str, uploader: str) -> None:
    """A new file for a calendar the plan cannot read: kept beside the database, then the re-plan runs with it."""
    upload = ss.get(uploader)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        check_busy_size(data)
        path = str(keep_busy_file(default_db_path().parent, str(ss.get("learner") or "learner"), data))
    except InputError as exc:
        ss.replan_error = f"{upload.name}: {exc.message}"
        return
    ss.setdefault("busy_names", {})[path] = upload.name
    ss.busy_replace_version = ss.get("busy_replace_version", 0) + 1
    choose(plan, ss.proposal_today, busy_replace=((source, path),))


def _calendar_fix(plan: Plan, key: str, source: str) -> None:
    """The ways out when a busy calendar cannot be read: plan without it, or upload it again."""
    name = md(calendar_name(source))
    a, b = st.columns(2, vertical_alignment="bottom")
    a.button(f"Re-plan without {name}", key=f"{key}_busy_drop", type="primary", width="stretch", on_click=choose,
             args=(plan, ss.proposal_today), kwargs={"busy_drop": (source,)},
             help="Sessions no longer avoid this calendar's events; add it again on the Plan page any time.")
    uploader = f"{key}_busy_replace_{ss.get('busy_replace_version', 0)}"
    b.file_uploader(f"Or replace {name} with a file (.ics)", type=["ics"], key=uploader, on_change=replace_calendar,
                    args=(plan, source, uploader), max_upload_size=20,
                    help="The re-plan reads this file in its place from now on. At most 20 MB.")


def proposal_panel(plan: Plan, key: str) -> None:
    """The proposal under a "regenerate" button: the catch-up menu, or the diff with Accept / Discard."""
    if ss.get("replan_error"):
        st.error(f"Cannot re-plan — {md(ss.replan_error)}")
        if ss.get("replan_busy"):
            _calendar_fix(plan, key, ss.replan_busy)
    proposal = ss.get("proposal")
    if isinstance(proposal, CatchUpMenu):
        options = views.catch_up_options(proposal)
        facts = proposal.calendar_facts()
        pace = " at your pace" if ss.get("proposal_at_pace") else ""
        st.warning(f"**Behind:** {proposal.remaining_hours:g} h left{pace} cannot finish by "
                   f"{proposal.latest_allowed} at {proposal.hours_per_week:g} h/week."
                   + (f" {md(facts)}" if facts else "") + (" Choose one:" if options else ""))
        for option in options:
            label = option.label
            if option.key == "busy":  # the calendar as the learner uploaded it
                label = (f"Plan without your busy calendar {', '.join(calendar_name(s) for s in proposal.busy_drop)}"
                         f" — finish {proposal.busy_drop_finish}")
            st.button(md(label), key=f"{key}_catch_up_{option.key}", width="stretch", on_click=choose,
                      args=(plan, ss.proposal_today), kwargs=option.kwargs,
                      icon=":material/warning:" if option.gives_up else ":material/check_circle:")
            if option.price:
                st.markdown(md(option.price))
        why = proposal.why_nothing_fits()
        if why:
            st.info(md(f"None of the usual choices fits: {why}. Widen a window, or free time in your busy "
                       "calendar (or replace it) in the form, then Make my plan: it re-plans keeping your progress."),
                    icon=":material/info:")
        st.button("Keep my current plan", key=f"{key}_discard_menu", on_click=discard_proposal)
    elif isinstance(proposal, Replanned):
        change = views.diff_facts(proposal.diff)
        hours = proposal.plan.profile.hours_per_week
        st.markdown(f"**Proposed plan** (from {ss.proposal_today}"
                    + (f", {hours:g} h/week" if hours != plan.profile.hours_per_week else "")
                    + (", open topics at your pace" if ss.get("proposal_at_pace") else "") + ")")
        d = st.columns(5)
        d[0].metric("Kept", change.kept, help="Same time, same calendar event")
        d[1].metric("Moved", change.moved, help="The same calendar event at a new time: calendar apps move it")
        d[2].metric("Added", change.added, help="New events")
        d[3].metric("Removed", change.removed, help="Sessions no longer in the plan: calendar apps that follow "
                                                              "updates remove them")
        d[4].metric("New finish", str(change.new_finish), f"{change.days_text} (was {change.old_finish})",
                    delta_color="inverse" if change.days else "off", delta_arrow="auto" if change.days else "off",
                    help=f"The plan you have now finishes {change.old_finish}")
        (st.success if change.inside_range else st.warning)(change.verdict)
        price = ss.get("proposal_price")
        if isinstance(price, Price):
            price_panel(price)
        b1, b2 = st.columns(2)
        # Read from the return value, not on_click: a tab open across a server restart reaches a new session
        # that has no callbacks (dashboard.state.lost_click says when the proposal itself was lost).
        if b1.button("Accept new plan", key=f"{key}_accept", type="primary", width="stretch"):
            with st.spinner("Saving the new plan…"):
                accept_proposal(key)
            st.rerun()
        if b2.button("Discard", key=f"{key}_discard", width="stretch"):
            discard_proposal()
            st.rerun()
    if ss.get("accepted_flash") == key:  # said once, where it was accepted
        ss.accepted_flash = None
        st.success("New plan saved. A calendar subscribed to your feed follows by itself; with CalDAV, press "
                   "**Sync now** on the **Calendar** page; with a downloaded file, download it again there and "
                   "replace your **Study plan** calendar's events.")


def price_panel(price: Price) -> None:
    """What the proposal gives up beside what it gains: reviews before → after, the free buffer, topics dropped."""
    rows = [f"**Spaced reviews:** {price.review_text()}"
            + (" — cut" if price.cuts_reviews else ""),
            f"**Free time:** {price.buffer_text()}"]
    if price.dropped:
        rows.append("**Topics dropped:** " + ", ".join(f"{md(t)} ({h:g} h)" for t, h in price.dropped))
    if price.new_hours != price.old_hours:
        rows.append(f"**Weekly hours:** {price.old_hours:g} → {price.new_hours:g} h")
    text = "  \n".join(rows)
    if price.gives_up():
        st.warning(f"**What this plan gives up**  \n{text}", icon=":material/balance:")
    else:
        st.info(f"**What it keeps**  \n{text}", icon=":material/balance:")


def day_hours_text(plan: Plan) -> str:
    return ",".join(f"{d}={h:g}" for d, h in zip(WEEKDAYS, plan.profile.weekday_hours, strict=True) if h > 0)
