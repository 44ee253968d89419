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
from planner.plan import Plan
from planner.profile import WEEKDAYS, profile_from_mapping
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
    if rec is None:
        put_form(views.form_defaults())
        ss.active = None
    else:
        put_form(views.mapping_to_form(rec.profile))
        ss.active = rec.profile
        store.set_last(name)
    ss.form_error = None


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

ics, csv, js = export_files(CONTENT, canonical(ss.active))
d1, d2, d3 = st.columns([1, 1, 1, 3])[:3]
d1.download_button("Calendar (.ics)", ics, icon=":material/calendar_month:", file_name="study-plan.ics",
                   mime="text/calendar", on_click="ignore", key="dl_ics",
                   help="Import into a dedicated 'Study plan' calendar")
d2.download_button("Sessions (CSV)", csv, icon=":material/table_view:", file_name="study-plan.csv",
                   mime="text/csv", on_click="ignore", key="dl_csv")
d3.download_button("Plan (JSON)", js, icon=":material/data_object:", file_name="study-plan.json",
                   mime="application/json", on_click="ignore", key="dl_json")

tab_overview, tab_week, tab_sessions = st.tabs(["Overview", "This week", "All sessions"])
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
