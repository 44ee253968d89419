"""Study-planner dashboard: a form for the learner, the plan's views, calendar downloads, saved locally.

Layout only: scheduling lives in planner/, tables and charts in planner/views.py, persistence in planner/store.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import available_timezones

import streamlit as st

from planner import views
from planner.curriculum import Curriculum, default_content_path, load_curriculum
from planner.errors import InputError
from planner.export import plan_to_csv, plan_to_dict, plan_to_ics, plan_to_json
from planner.export.json import plan_from_dict
from planner.plan import Plan
from planner.profile import WEEKDAYS, profile_from_mapping
from planner.progress import mark_done_through, mark_topic_done
from planner.replan import CatchUpMenu, Replanned, replan
from planner.solve import Infeasible, make_plan
from planner.store import Store, check_name
from planner.validate import validate_plan

st.set_page_config(page_title="Study planner", page_icon="📚", layout="wide")

CONTENT = str(default_content_path())
FORM_KEYS = ("background", "hours_per_week", "days", "day_hours", "start", "timezone", "session_start_weekday",
             "session_start_weekend", "holidays", "skip", "electives")
ss = st.session_state


# ---------------------------------------------------------------- cached engine calls


@st.cache_resource
def curriculum_for(path: str) -> Curriculum:
    return load_curriculum(path)


@st.cache_resource
def timezones() -> list[str]:
    return sorted(available_timezones())


@st.cache_data(show_spinner=False)
def bands_for(path: str) -> dict[str, views.Band]:
    return views.background_bands(curriculum_for(path))


@st.cache_data(show_spinner=False, max_entries=64)
def solve(path: str, profile_json: str) -> tuple[Plan | Infeasible, list[str]]:
    """The plan for canonical inputs (content path + profile fields as sorted JSON), and any rule it breaks."""
    curriculum = curriculum_for(path)
    result = make_plan(curriculum, profile_from_mapping(json.loads(profile_json), curriculum))
    problems = [] if isinstance(result, Infeasible) else [str(p) for p in validate_plan(result)]
    return result, problems


@st.cache_data(show_spinner=False, max_entries=16)
def export_files(path: str, profile_json: str) -> tuple[bytes, bytes, bytes]:
    """The same bytes `planner plan --ics/--csv/--json` writes for these inputs."""
    plan, _ = solve(path, profile_json)
    assert isinstance(plan, Plan)
    return plan_to_ics(plan), plan_to_csv(plan), plan_to_json(plan)


@st.cache_data(show_spinner=False, max_entries=16)
def tracked_plan(path: str, plan_json: str) -> Plan:
    """A saved plan with progress (or an accepted re-plan), read back as it was saved."""
    return plan_from_dict(json.loads(plan_json), curriculum_for(path))


@st.cache_data(show_spinner=False, max_entries=8)
def tracked_files(path: str, plan_json: str) -> tuple[bytes, bytes, bytes]:
    plan = tracked_plan(path, plan_json)
    return plan_to_ics(plan), plan_to_csv(plan), plan_to_json(plan)


def canonical(raw: dict[str, Any]) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------- session state helpers


def put_form(values: dict[str, Any]) -> None:
    """Set every form widget's value; only called before the widgets exist or from callbacks."""
    for key in FORM_KEYS:
        ss[f"f_{key}"] = values[key]
    ss.blackout_rows = values["blackouts"]
    ss.blackout_version = ss.get("blackout_version", 0) + 1


def open_learner(name: str) -> None:
    rec = store.load(name)
    ss.learner = name
    ss.proposal = None
    ss.accepted = False
    if rec is None:
        put_form(views.form_defaults())
        ss.active = None
        ss.tracked = None
    else:
        put_form(views.mapping_to_form(rec.profile))
        ss.active = rec.profile
        ss.tracked = canonical(rec.plan) if rec.tracked and rec.plan is not None else None
        store.set_last(name)
    ss.form_error = None


def save_tracked(plan: Plan, profile: dict[str, Any] | None = None) -> None:
    """Save the learner's current plan with its progress (one transaction) and make it the plan shown."""
    data = plan_to_dict(plan)
    if profile is not None:
        ss.active = profile
    store.save(ss.learner, ss.active, data, tracked=True)
    ss.tracked = canonical(data)
    ss.proposal = None
    ss.progress_version = ss.get("progress_version", 0) + 1


def accept_proposal() -> None:
    proposal = ss.get("proposal")
    if not isinstance(proposal, Replanned):
        return
    new = proposal.plan
    profile = dict(ss.active)
    if new.profile.hours_per_week != float(profile.get("hours_per_week") or 0):  # "study N h/week from now"
        profile["hours_per_week"] = new.profile.hours_per_week
        if profile.get("day_hours"):  # fixed day hours were scaled with the week, as in the plan
            profile["day_hours"] = ",".join(f"{d}={h:g}" for d, h in zip(WEEKDAYS, new.profile.weekday_hours,
                                                                          strict=True) if h > 0)
            ss.f_day_hours = profile["day_hours"]
        ss.f_hours_per_week = new.profile.hours_per_week
    save_tracked(new, profile)
    ss.accepted = True


def follow_as_of() -> None:
    """A new "as of" date moves the "mark everything through" date with it, and drops a stale proposal."""
    if isinstance(ss.get("as_of"), dt.date):
        ss.done_through = ss.as_of
    ss.proposal = None


def discard_proposal() -> None:
    ss.proposal = None


def done_through(plan: Plan) -> None:
    save_tracked(mark_done_through(plan, ss.done_through))
    ss.accepted = False


def topics_done(plan: Plan) -> None:
    if ss.get("topics_done"):
        save_tracked(mark_topic_done(plan, ss.topics_done))
        ss.topics_done = []
    ss.accepted = False


def on_pick_learner() -> None:
    open_learner(ss.learner_pick)


def on_new_learner() -> None:
    try:
        name = check_name(ss.get("new_learner", ""))
    except InputError as exc:
        ss.learner_error = f"{exc.field}: {exc.message}"
        return
    ss.learner_error = None
    ss.new_learner = ""
    open_learner(name)


def use_hours(hours: float, day_hours: str | None) -> None:
    ss.f_hours_per_week = hours
    if day_hours is not None:
        ss.f_day_hours = day_hours
    ss.plan_requested = True


def skip_topics(ids: list[str]) -> None:
    ss.f_skip = list(dict.fromkeys([*ss.get("f_skip", []), *ids]))
    ss.plan_requested = True


store = Store()
curriculum = curriculum_for(CONTENT)
bands = bands_for(CONTENT)
topic_titles = {t.id: f"P{t.phase} · {t.title}" for t in curriculum.topics if t.elective is None}
elective_titles = {e.id: e.title for e in curriculum.electives}

if ss.get("pending_open"):  # set by an import, applied before the widgets exist
    open_learner(ss.pop("pending_open"))
elif "learner" not in ss:  # first run of this browser session: restore the last learner
    last = store.last()
    if last is not None:
        open_learner(last.name)
    else:
        ss.learner = "Me"
        put_form(views.form_defaults())
        ss.active = None
        ss.tracked = None
ss.setdefault("progress_version", 0)

# ---------------------------------------------------------------- sidebar: learner, form, backup

with st.sidebar:
    st.header(":material/school: Study planner")
    names = store.names()
    if ss.learner not in names:
        names = sorted([*names, ss.learner], key=str.lower)
    ss.learner_pick = ss.learner
    st.selectbox("Learner", names, key="learner_pick", on_change=on_pick_learner,
                 help="Each learner's profile and plan are saved on this computer.")
    with st.expander("New learner"):
        st.text_input("Name", key="new_learner", placeholder="e.g. Alex")
        st.button("Create", on_click=on_new_learner, key="create_learner")
        if ss.get("learner_error"):
            st.error(ss.learner_error)

    with st.form("profile"):
        st.subheader("Your situation")
        st.selectbox("Background", list(bands), key="f_background",
                     format_func=lambda k: bands[k].caption,
                     help="Month range of the path for this background, and the weekly hours it implies.")
        st.number_input("Hours per week", min_value=0.5, max_value=100.0, step=0.5, format="%.1f",
                        key="f_hours_per_week")
        st.multiselect("Study weekdays", list(WEEKDAYS), key="f_days", format_func=str.capitalize)
        st.text_input("Hours per weekday (optional)", key="f_day_hours", placeholder="mon=1.5,sat=4",
                      help="Fix the hours of some days; the rest of the week's hours are split over the others.")
        st.date_input("Start date", key="f_start", format="YYYY-MM-DD")
        st.selectbox("Timezone", timezones(), key="f_timezone")
        c1, c2 = st.columns(2)
        c1.time_input("Weekday start", key="f_session_start_weekday", step=900,
                      help="Empty: 19:00 (09:00 when a weekday holds more than 4 h)")
        c2.time_input("Weekend start", key="f_session_start_weekend", step=900, help="Empty: 10:00")
        st.caption("Blackout periods (days off)")
        blackouts = st.data_editor(
            views.blackout_table(ss.blackout_rows), key=f"f_blackouts_{ss.blackout_version}", num_rows="dynamic",
            hide_index=True, width="stretch",
            column_config={"From": st.column_config.DateColumn("From", format="YYYY-MM-DD"),
                           "To": st.column_config.DateColumn("To", format="YYYY-MM-DD")},
        )
        st.text_input("Public holidays of", key="f_holidays", placeholder="DE, US, DE-BY",
                      help="A country (or country-region) code; its public holidays become days off.")
        st.multiselect("Topics I already know", list(topic_titles), key="f_skip",
                       format_func=lambda t: topic_titles.get(t, t))
        st.multiselect("Specializations to add", list(elective_titles), key="f_electives",
                       format_func=lambda e: elective_titles.get(e, e))
        submitted = st.form_submit_button("Make my plan", type="primary", width="stretch")
        if ss.get("tracked"):
            st.caption("Your plan holds progress: **Make my plan** starts a fresh plan from these fields. To keep "
                       "your ticks, use *Progress → regenerate from today* instead.")

    with st.expander("Backup and restore"):
        st.download_button("Export all learners (JSON)", store.export_state(), file_name="study-planner-state.json",
                           mime="application/json", on_click="ignore", key="export_state")
        upload = st.file_uploader("Import a state file", type=["json"], key="import_file",
                                  help="A file exported here (format planner.state/1), at most 1 MB.")
        if st.button("Import", key="import_button", disabled=upload is None) and upload is not None:
            try:
                imported = store.import_state(upload.getvalue(), curriculum)
            except InputError as exc:
                st.error(f"Import failed — {exc.field}: {exc.message}. Nothing was changed.")
            else:
                last_rec = store.last()
                ss.pending_open = last_rec.name if last_rec is not None else None
                ss.flash = f"Imported {len(imported)} learner(s): {', '.join(imported)}"
                st.rerun()
        if ss.get("flash"):
            st.success(ss.pop("flash"))

# ---------------------------------------------------------------- planning on submit (or a one-click fix)

if submitted or ss.pop("plan_requested", False):
    values = {key: ss.get(f"f_{key}") for key in FORM_KEYS}
    try:
        values["blackouts"] = views.blackout_rows(blackouts)
        raw = views.form_to_mapping(values)
        profile_from_mapping(raw, curriculum)
    except InputError as exc:
        ss.form_error = f"{exc.field}: {exc.message}"
    else:
        ss.form_error = None
        ss.active = raw
        ss.tracked = None
        ss.proposal = None
        ss.accepted = False
        with st.spinner("Planning…"):
            result, _ = solve(CONTENT, canonical(raw))
        store.save(ss.learner, raw, plan_to_dict(result) if isinstance(result, Plan) else None)

# ---------------------------------------------------------------- main area

st.title(curriculum.title)
if ss.get("form_error"):
    st.error(f"Check your input — {ss.form_error}")

if ss.get("active") is None:
    st.info("Fill in the form on the left — or keep the defaults — and press **Make my plan**. You get a dated "
            "study schedule that finishes inside the month range your background promises, ready for your "
            "calendar.")
    st.subheader("How long the path takes")
    st.dataframe(views.bands_frame(bands), hide_index=True, width="stretch")
    st.caption("Recommended weekly hours = the hours your background studies ÷ the weeks of its month range.")
    st.stop()

if ss.get("tracked"):
    result, problems = tracked_plan(CONTENT, ss.tracked), list[str]()
else:
    with st.spinner("Planning…"):
        result, problems = solve(CONTENT, canonical(ss.active))

if isinstance(result, Infeasible):
    facts = views.infeasible_facts(result)
    with st.container(border=True):
        st.warning(f"**This plan does not fit.** {facts.headline}")
        c1, c2, c3 = st.columns(3)
        c1.metric("Minimum hours/week", f"{facts.min_hours:g} h" if facts.min_hours is not None else "—")
        c2.metric("Earliest finish at your hours",
                  str(facts.earliest_finish) if facts.earliest_finish else "never",
                  f"{facts.earliest_months:.1f} months" if facts.earliest_months is not None else None,
                  delta_color="off")
        c3.metric("Optional hours you could drop", f"{facts.drop_hours:g} h")
        if facts.min_hours is not None:
            profile = profile_from_mapping(ss.active, curriculum)
            scaled = profile.with_hours_per_week(facts.min_hours)
            day_hours = None
            if ss.active.get("day_hours"):
                day_hours = ",".join(f"{d}={h:g}" for d, h in zip(WEEKDAYS, scaled.weekday_hours, strict=True)
                                     if h > 0)
            st.button(f"Use {facts.min_hours:g} h/week", type="primary", key="fix_hours",
                      on_click=use_hours, args=(facts.min_hours, day_hours))
        else:
            st.write("No weekly hours fit on these study days: add study days or remove blackouts.")
        if facts.drop_ids:
            if facts.drop_fits:
                st.write(f"Or skip these optional topics (frees {facts.drop_hours:g} h, finish "
                         f"{facts.drop_finish}): {', '.join(facts.drop_titles)}")
                st.button(f"Skip {len(facts.drop_ids)} optional topic(s)", key="fix_drop", on_click=skip_topics,
                          args=(list(facts.drop_ids),))
            else:
                st.caption(f"Dropping every optional topic frees only {facts.drop_hours:g} h — not enough on its "
                           f"own: {', '.join(facts.drop_titles)}")
    st.stop()

plan = result
if problems:
    st.error(f"Internal error: the plan breaks a rule ({problems[0]}). Please report it.")

st.caption(f"{ss.learner} · {plan.requirements.background.replace('_', ' ')} · from {plan.profile.start} "
           f"({plan.profile.timezone})")
for col, (label, value, help_text) in zip(st.columns(5), views.plan_metrics(plan), strict=True):
    col.metric(label, value, help=help_text)
st.caption(views.pacing_caption(plan))

if ss.get("tracked"):
    ics, csv, js = tracked_files(CONTENT, ss.tracked)
else:
    ics, csv, js = export_files(CONTENT, canonical(ss.active))
d1, d2, d3 = st.columns([1, 1, 1, 3])[:3]
d1.download_button("Calendar (.ics)", ics, icon=":material/calendar_month:", file_name="study-plan.ics",
                   mime="text/calendar", on_click="ignore", key="dl_ics",
                   help="Import into a dedicated 'Study plan' calendar")
d2.download_button("Sessions (CSV)", csv, icon=":material/table_view:", file_name="study-plan.csv",
                   mime="text/csv", on_click="ignore", key="dl_csv")
d3.download_button("Plan (JSON)", js, icon=":material/data_object:", file_name="study-plan.json",
                   mime="application/json", on_click="ignore", key="dl_json")

tab_overview, tab_week, tab_progress, tab_sessions = st.tabs(["Overview", "This week", "Progress", "All sessions"])
with tab_overview:
    st.altair_chart(views.weekly_chart(plan), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("Phases")
        st.dataframe(views.phases_frame(plan), hide_index=True, width="stretch",
                     column_config={"Hours": st.column_config.NumberColumn(format="%.1f h"),
                                    "Phase": st.column_config.NumberColumn(width="small"),
                                    "Topics": st.column_config.NumberColumn(width="small")})
    with right:
        st.subheader("Milestones")
        st.dataframe(views.milestones_frame(plan), hide_index=True, width="stretch",
                     column_config={"Months in": st.column_config.NumberColumn(width="small", format="%.1f"),
                                    "Path says (months)": st.column_config.TextColumn(width="small")})
        st.caption("Each success-checklist item is reached when the last session of the topics it needs is over; "
                   "the path's month range is shown beside the planned date.")
    st.altair_chart(views.gantt_chart(plan), width="stretch")
    st.subheader("Plan quality")
    st.caption(views.quality_caption(plan))
    st.dataframe(views.fidelity_frame(plan), hide_index=True, width="stretch",
                 column_config={"Share of hours": st.column_config.NumberColumn(format="%.1f %%"),
                                "Share of path weeks": st.column_config.NumberColumn(format="%.1f %%"),
                                "Study hours": st.column_config.NumberColumn(format="%.1f h")})
    st.caption("Each phase's share of your study hours next to its share of the path's weeks. An ML background "
               "spends less on the first phases on purpose.")

with tab_week:
    title, agenda = views.week_agenda(plan, dt.date.today())
    st.subheader(title)
    if agenda.empty:
        st.write("No study sessions this week — enjoy the break.")
    else:
        st.dataframe(agenda, hide_index=True, width="stretch",
                     column_config={"Hours": st.column_config.NumberColumn(format="%.1f h")})

with tab_sessions:
    phase_numbers = [r["phase"] for r in plan.phase_rows()]
    titles = {p.number: p.title for p in plan.phases}
    chosen = st.multiselect("Phases", phase_numbers, key="phase_filter", placeholder="All phases",
                            format_func=lambda n: views.phase_label(n, titles.get(n, "")))
    table = views.sessions_frame(plan, chosen)
    st.caption(f"{len(table)} sessions, {table['Hours'].sum():g} h")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"Hours": st.column_config.NumberColumn(format="%.1f h"),
                                "Phase": st.column_config.NumberColumn(format="%d")})

with tab_progress:
    as_of = ss.get("as_of")
    today = as_of if isinstance(as_of, dt.date) else views.today_in(plan)
    summary = views.progress_summary(plan, today)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Hours done", f"{summary.done_hours:g} / {summary.required_hours:g} h",
              help="Done sessions count fully, missed ones their partial hours")
    m2.metric("Sessions done", summary.done_sessions)
    m3.metric("Sessions missed", summary.missed_sessions)
    m4.metric("Behind by", f"{summary.behind_hours:g} h",
              help="Required hours neither done nor scheduled from today on — what a re-plan has to place")

    with st.container(border=True):
        st.markdown("**Fallen behind?** Regenerate the rest of the plan from today: what you did stays, the "
                    "remaining hours are re-planned with as few changes as possible.")
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        c1.date_input("As of (optional)", value=None, key="as_of", format="YYYY-MM-DD", on_change=follow_as_of,
                      help=f"Empty: today in {plan.profile.timezone} ({views.today_in(plan)})")
        if c2.button("I'm behind — regenerate from today", key="regenerate", icon=":material/update:"):
            ss.accepted = False
            try:
                ss.proposal = replan(curriculum, plan, today)
                ss.proposal_today = today
            except InputError as exc:
                ss.proposal = None
                st.error(f"Cannot re-plan — {exc.field}: {exc.message}")

        proposal = ss.get("proposal")
        if isinstance(proposal, CatchUpMenu):
            st.warning(f"**Behind:** {proposal.remaining_hours:g} h left cannot finish by "
                       f"{proposal.latest_allowed} at {proposal.hours_per_week:g} h/week. Choose one:")
            for option in views.catch_up_options(proposal):
                if st.button(option.label, key=f"catch_up_{option.key}", width="stretch"):
                    try:
                        ss.proposal = replan(curriculum, plan, ss.proposal_today, **option.kwargs)
                    except InputError as exc:
                        st.error(f"Cannot re-plan — {exc.field}: {exc.message}")
                    else:
                        st.rerun()
            st.button("Keep my current plan", key="discard", on_click=discard_proposal)
        elif isinstance(proposal, Replanned):
            change = views.diff_facts(proposal.diff)
            st.markdown(f"**Proposed plan** (from {ss.proposal_today}"
                        + (f", {proposal.plan.profile.hours_per_week:g} h/week" if proposal.plan.profile.hours_per_week
                           != plan.profile.hours_per_week else "") + ")")
            d = st.columns(5)
            d[0].metric("Kept", change.kept, help="Same time, same calendar event")
            d[1].metric("Moved", change.moved, help="Same event (UID), new time, SEQUENCE + 1")
            d[2].metric("Added", change.added, help="New events")
            d[3].metric("Removed", change.removed, help="Sent as CANCELLED")
            d[4].metric("New finish", str(change.new_finish), f"{change.days_text} (was {change.old_finish})",
                        delta_color="inverse" if change.days else "off", delta_arrow="auto" if change.days else "off",
                        help=f"The plan you have now finishes {change.old_finish}")
            (st.success if change.inside_range else st.warning)(change.verdict)
            b1, b2 = st.columns([1, 1])
            b1.button("Accept new plan", key="accept", type="primary", on_click=accept_proposal, width="stretch")
            b2.button("Discard", key="discard", on_click=discard_proposal, width="stretch")
        if ss.get("accepted"):
            st.success("New plan saved. Download its calendar and replace your **Study plan** calendar's events.")
            st.download_button("New calendar (.ics)", ics, icon=":material/calendar_month:",
                               file_name="study-plan.ics", mime="text/calendar", on_click="ignore",
                               key="dl_ics_new")
            st.caption(views.CALENDAR_ROUTINE)

    st.subheader("Sessions")
    show_all = st.toggle("Show all sessions", key="progress_all",
                         help=f"Off: past sessions and the next 7 days (to {today + dt.timedelta(days=7)})")
    table = views.progress_frame(plan, today, show_all=show_all)
    edited = st.data_editor(
        table, key=f"progress_editor_{ss.progress_version}", hide_index=True, width="stretch", height=420,
        disabled=["Date", "Start", "Phase", "Topic", "Kind", "Session", "Hours"],
        column_config={
            "Date": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "Phase": st.column_config.NumberColumn(format="%d", width="small"),
            "Hours": st.column_config.NumberColumn(format="%.1f h", width="small"),
            "Status": st.column_config.SelectboxColumn(options=list(views.PROGRESS_STATUSES), required=True),
            "Done h": st.column_config.NumberColumn(
                "Done h (if missed)", min_value=0.0, max_value=24.0, step=0.5, format="%.1f",
                help="Hours you did study in a missed session; they count towards the topic"),
        },
    )
    try:
        changes = views.progress_changes(table, edited)
    except InputError as exc:
        st.error(f"{exc.field}: {exc.message}")
        changes = []
    if changes:
        save_tracked(views.apply_progress(plan, changes))
        ss.accepted = False
        st.rerun()

    q1, q2 = st.columns(2)
    with q1:
        if not isinstance(ss.get("done_through"), dt.date):
            ss.done_through = today
        st.date_input("Mark everything through", key="done_through", format="YYYY-MM-DD")
        st.button("Mark done", key="mark_through", on_click=done_through, args=(plan,),
                  help="Every planned session on or before this date becomes done; ticked ones stay as they are")
    with q2:
        open_topics = views.open_topics(plan)
        st.multiselect("Topics done / already known", list(open_topics), key="topics_done",
                       format_func=lambda t: open_topics.get(t, t))
        st.button("Mark topics done", key="mark_topics", on_click=topics_done, args=(plan,))

    st.subheader("Per phase")
    st.dataframe(views.phase_progress_frame(plan), hide_index=True, width="stretch",
                 column_config={"Phase": st.column_config.TextColumn(width="small"),
                                "Title": st.column_config.TextColumn(width="medium"),
                                "Done h": st.column_config.NumberColumn(format="%.1f"),
                                "Required h": st.column_config.NumberColumn(format="%.1f"),
                                "Progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                            format="percent")})
    st.altair_chart(views.burnup_chart(plan, today), width="stretch")
