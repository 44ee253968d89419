"""Plan: the learner's form (first column), "Make my plan", the does-not-fit panel with its remedies, and the plan."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import replanning
from dashboard.state import (
    CONTENT,
    FORM_KEYS,
    bands_for,
    canonical,
    current,
    curriculum_for,
    learner_picker,
    md,
    plan_key,
    put_form,
    remedies_for,
    save,
    solve,
    ss,
    timezones,
)
from planner import views
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import WEEKDAYS, profile_from_mapping
from planner.solve import Infeasible
from planner.store import default_db_path
from planner.views.form import calendar_line, check_busy_size, free_hours_in_windows, keep_busy_file
from planner.views.known import known_topic_choices, known_topics

# Narrow columns for the short fields, so the topic column is never cut at 1280 px.
SESSION_COLUMNS: dict[str, Any] = {
    "Date": st.column_config.TextColumn(width=95), "Day": st.column_config.TextColumn(width=45),
    "Start": st.column_config.TextColumn(width=55), "End": st.column_config.TextColumn(width=55),
    "Hours": st.column_config.NumberColumn(format="%.1f h", width=60),
    "Phase": st.column_config.NumberColumn(format="%d", width=55),
    "Session": st.column_config.TextColumn(width=75), "Kind": st.column_config.TextColumn(width=85),
    "Status": st.column_config.TextColumn(width=80),
}
HOLIDAYS_HELP = "One country (DE) or country-region (DE-BY) code; its public holidays become days off."
# Fields in the form's "optional" expander: closed, its tables are not in the Tab order on the way to Make my plan.
EXTRA_FIELDS = ("windows", "blackouts", "holidays")
WINDOWS_HELP = ("When you can study: a row per window, e.g. mon-fri 18:30-22:00, sat 09:00-12:00 and sat 14:00-17:00. "
                "Sessions stay inside these windows (leave Weekday/Weekend start empty). No rows: each study day "
                "from its start time.")


# ---------------------------------------------------------------- the form's callbacks


def _editor_rows(base: list[tuple[Any, ...]], state: Any, columns: tuple[str, ...] = ("From", "To")
                 ) -> list[tuple[Any, ...]]:
    """A table editor's rows from its widget state (edits, added and deleted rows) as the callback sees it."""
    rows = [list(r) for r in base]
    if not isinstance(state, dict):
        return [tuple(r) for r in rows]
    for index, change in (state.get("edited_rows") or {}).items():
        i = int(index)
        if i < len(rows):
            for col, value in change.items():
                if col in columns:
                    rows[i][columns.index(col)] = value
    for added in state.get("added_rows") or []:
        rows.append([added.get(col) for col in columns])
    deleted = {int(i) for i in state.get("deleted_rows") or []}
    return [tuple(r) for i, r in enumerate(rows) if i not in deleted]


WINDOW_COLUMNS = ("Days", "Time")


def _window_rows(kept: Any) -> list[tuple[Any, ...]]:
    """The windows editor's rows: the table it was drawn from, with the learner's edits."""
    table = views.windows_table(kept)
    return _editor_rows(list(table.itertuples(index=False, name=None)), ss.get(_versioned("windows")),
                        WINDOW_COLUMNS)


def _versioned(name: str) -> str:
    """Widget key that a learner switch (put_form bumps the version) renews, so it shows the new learner's value."""
    return f"f_{name}_{ss.get('blackout_version', 0)}"


def form_values() -> dict[str, Any]:
    values = {key: ss.get(f"f_{key}") for key in FORM_KEYS}
    kept = ss.get("form_values") or {}
    values["blackouts"] = _editor_rows(kept.get("blackouts") or [], ss.get(_versioned("blackouts")))
    values["windows"] = _window_rows(kept.get("windows") or "")
    values["all_day_busy"] = bool(ss.get(_versioned("all_day_busy"), kept.get("all_day_busy", True)))
    values["busy"] = list(kept.get("busy") or [])
    values["finish_months"] = kept.get("finish_months")  # a later finish chosen in the does-not-fit panel
    return values


def _has_progress(plan: Plan | None) -> tuple[int, int]:
    if plan is None:
        return 0, 0
    return (sum(1 for s in plan.sessions if s.status == "done"), sum(1 for s in plan.sessions if s.status == "missed"))


def on_make_plan() -> None:
    """Validate the form, then plan — or, when the plan holds progress, ask first."""
    values = form_values()
    curriculum = curriculum_for(CONTENT)
    try:
        values["blackouts"] = views.blackout_rows(values["blackouts"])
        raw = views.fit_unset_day_hours(views.form_to_mapping(values), curriculum)
        profile_from_mapping(raw, curriculum)
        solve(CONTENT, canonical(raw))  # the engine's own checks (e.g. every topic skipped) answer here
    except InputError as exc:
        ss.form_error = views.field_error(exc.field, exc.message)
        ss.form_values = {**values, "blackouts": values["blackouts"] if isinstance(values["blackouts"], list)
                          else []}
        return
    ss.form_error = None
    ss.form_values = values
    done, missed = _has_progress(ss.get("tracked_plan"))
    if done or missed:
        ss.confirm_plan = raw
        return
    make_fresh(raw, "new plan from the form")


def make_fresh(raw: dict[str, Any], note: str) -> None:
    result, _ = solve(CONTENT, canonical(raw))
    if save(raw, result, tracked=False, note=note):
        ss.confirm_plan = None
        ss.proposal = None
        ss.accepted = False


def replan_keeping_progress() -> None:
    """Re-plan from today with every changed field of the form (hours, days, windows, busy calendars,
    holidays...); a change a re-plan cannot carry (background, start, topics) is named in the panel."""
    raw = ss.confirm_plan
    plan = ss.get("tracked_plan")
    ss.confirm_plan = None
    if raw is None or plan is None:
        return
    today = max(views.today_in(plan), plan.profile.start)
    try:
        profile = profile_from_mapping(raw, curriculum_for(CONTENT))
    except InputError as exc:  # checked by Make my plan already; a calendar file gone since is named here
        ss.proposal, ss.proposal_today = None, today
        ss.replan_error = views.field_error(exc.field, exc.message).text
        return
    replanning.propose(plan, today, raw, profile=profile)


def apply_remedy(raw: dict[str, Any], note: str) -> None:
    put_form(views.mapping_to_form(views.typed_profile(raw, curriculum_for(CONTENT))))
    ss.form_error = None
    make_fresh(raw, note)


def _field_error(widget: str) -> None:
    err = ss.get("form_error")
    if err is not None and err.widget == widget:
        st.error(md(err.text), icon=":material/error:")


# ---------------------------------------------------------------- busy calendars


@st.cache_data(show_spinner=False, max_entries=32)
def busy_summary(digest: str, name: str, timezone: str, first: dt.date, until: dt.date,
                 _data: bytes) -> dict[str, Any]:
    """The engine's summary of one calendar file, once per file content (digest) and reading range."""
    from planner.busy import summarise_busy_file

    return summarise_busy_file(_data, name, timezone, first, until)


@st.cache_data(show_spinner=False, max_entries=16)
def free_hours(profile_json: str, digests: tuple[str, ...]) -> float:
    """Free hours a week in the windows with the kept calendars (digests: a changed file is a new answer)."""
    import json

    return free_hours_in_windows(json.loads(profile_json), curriculum_for(CONTENT))


def _reading_range(values: dict[str, Any]) -> tuple[str, dt.date, dt.date]:
    from planner.busy import busy_horizon

    given = values.get("start")
    start = given if isinstance(given, dt.date) else dt.date.today()
    background = str(values.get("background") or "")
    try:
        months = curriculum_for(CONTENT).background(background).months_max
    except (KeyError, ValueError):
        months = 24
    return str(values.get("timezone") or "UTC"), start, busy_horizon(start, months)


def on_busy_upload() -> None:
    """Check the upload with the engine's reader, then keep it beside the database for this learner."""
    key = f"f_busy_upload_{ss.get('busy_upload_version', 0)}"
    upload = ss.get(key)
    if upload is None:
        return
    data = upload.getvalue()
    kept = dict(ss.get("form_values") or views.form_defaults())
    timezone, first, until = _reading_range(kept)
    try:
        check_busy_size(data)
        busy_summary(hashlib.sha256(data).hexdigest(), upload.name, timezone, first, until, data)
        path = str(keep_busy_file(default_db_path().parent, str(ss.get("learner") or "learner"), data))
    except InputError as exc:
        ss.busy_error = (ss.get("blackout_version", 0), f"{upload.name}: {exc.message}")
        return
    ss.busy_error = None
    ss.setdefault("busy_names", {})[path] = upload.name
    kept["busy"] = [*[p for p in kept.get("busy") or [] if p != path], path]
    ss.form_values = kept
    ss.busy_upload_version = ss.get("busy_upload_version", 0) + 1  # an empty uploader for the next file


def remove_busy(path: str) -> None:
    kept = dict(ss.get("form_values") or {})
    kept["busy"] = [p for p in kept.get("busy") or [] if p != path]
    ss.form_values = kept
    ss.busy_error = None


def _busy_line(path: str, values: dict[str, Any], raw: dict[str, Any] | None, digests: tuple[str, ...]) -> str:
    name = (ss.get("busy_names") or {}).get(path) or Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"{name}: cannot be read ({exc.strerror or exc}); remove it or upload it again"
    timezone, first, until = _reading_range(values)
    try:
        summary = busy_summary(hashlib.sha256(data).hexdigest(), name, timezone, first, until, data)
    except InputError as exc:
        return f"{name}: {exc.message}"
    line = f"{name}: {summary['events']} busy events read"
    skipped = summary.get("warnings") or []
    if skipped:  # events that could not be read: the plan does not see them, so say which
        line += f"; {len(skipped)} warning{'s' if len(skipped) != 1 else ''}: {skipped[0]}"
        line += f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
    if raw is not None:
        with contextlib.suppress(InputError):  # the form's own error says what to fix
            line += f", {free_hours(canonical(raw), digests):g} h a week free in your windows"
    return line


def busy_section() -> None:
    """Busy calendar upload (outside the form: the preview shows as soon as a file is chosen)."""
    values = ss.get("form_values") or {}
    st.header("Busy calendar")
    kept = list(values.get("busy") or [])
    raw: dict[str, Any] | None = None
    digests: tuple[str, ...] = ()
    if kept:
        try:
            raw = views.form_to_mapping({**values, "busy": kept})
            digests = tuple(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in kept)
        except (InputError, OSError, KeyError):
            raw = None
    for i, path in enumerate(kept):
        a, b = st.columns([4, 1], vertical_alignment="center")
        a.caption(md(_busy_line(path, values, raw, digests)))
        b.button("Remove", key=f"busy_remove_{i}_{hashlib.sha256(path.encode()).hexdigest()[:8]}",
                 on_click=remove_busy, args=(path,), help="Takes effect with Make my plan.")
    st.file_uploader("Upload a calendar (.ics)", type=["ics"], key=f"f_busy_upload_{ss.get('busy_upload_version', 0)}",
                     on_change=on_busy_upload, max_upload_size=20,
                     help="Sessions never overlap its events. Kept with this learner; re-plans read it again. "
                          "At most 20 MB.")
    upload_error = ss.get("busy_error")
    if upload_error and upload_error[0] == ss.get("blackout_version", 0):  # not another learner's upload
        st.error(md(upload_error[1]), icon=":material/error:")
    _field_error("busy")
    key = _versioned("all_day_busy")
    if key not in ss:
        ss[key] = bool(values.get("all_day_busy", True))
    st.toggle("All-day events are busy", key=key,
              help="On: an all-day event (a holiday, a trip) blocks the day. Off: all-day events leave it free.")
    if kept:
        st.caption("Uploads and removals take effect with Make my plan.")


# ---------------------------------------------------------------- the form


def profile_form() -> None:
    curriculum = curriculum_for(CONTENT)
    bands = bands_for(CONTENT)
    values = ss.get("form_values") or {}
    for key in FORM_KEYS:  # widgets forget their values on other pages: restore the last ones
        if f"f_{key}" not in ss and key in values:
            ss[f"f_{key}"] = values[key]
    known_choices = known_topic_choices(curriculum, str(ss.get("f_background") or ""), ss.get("f_skip") or [])
    elective_titles = {e.id: e.title for e in curriculum.electives}
    timezone_options = timezones()
    if ss.get("f_timezone") not in timezone_options:
        ss.f_timezone = "UTC"

    with st.form("profile"):
        st.header("Your situation", anchor=False)
        st.selectbox("Background", list(bands), key="f_background", format_func=lambda k: bands[k].label,
                     help="Month range of the path for this background, and the weekly hours it implies.")
        band = bands.get(str(ss.get("f_background")))
        if band is not None:
            st.caption(f"{band.months_min}–{band.months_max} months, {band.total_hours:g} h of topics → "
                       f"{band.hours_text} h/week")
        _field_error("background")
        # No min/max here: the browser would refuse 150 without a word and plan with the old value; the planner's
        # own check names the field and its range when Make my plan is pressed.
        st.number_input("Hours per week", step=0.5, format="%.1f", key="f_hours_per_week",
                        help="From 0.5 to 100 h.")
        _field_error("hours_per_week")
        st.multiselect("Study weekdays", list(WEEKDAYS), key="f_days", format_func=str.capitalize)
        _field_error("days")
        st.text_input("Hours per weekday (optional)", key="f_day_hours", placeholder="mon=1.5,sat=4",
                      help="Fix the hours of some days; the rest of the week's hours are split over the others.")
        derived = views.derived_note(ss.get("active"), curriculum)
        if derived:
            st.caption(derived)
        _field_error("day_hours")
        st.date_input("Start date", key="f_start", format="YYYY-MM-DD", min_value=views.FIRST_DATE,
                      max_value=views.LAST_DATE)
        _field_error("start")
        st.selectbox("Timezone", timezone_options, key="f_timezone")
        _field_error("timezone")
        c1, c2 = st.columns(2)
        c1.time_input("Weekday start", key="f_session_start_weekday", step=900)
        c2.time_input("Weekend start", key="f_session_start_weekend", step=900)
        # Help as words, not "?" buttons: each is a Tab stop on the keyboard's way to Make my plan.
        st.caption("Empty starts: 19:00 on weekdays (09:00 when a weekday holds more than 4 h), 10:00 at weekends. "
                   "New learners start in your browser's timezone.")
        _field_error("session_start")
        err = ss.get("form_error")
        kept_extra = bool(values.get("windows") or values.get("blackouts") or values.get("holidays"))
        with st.expander("Study windows, days off, holidays (optional)",
                         expanded=kept_extra or (err is not None and err.widget in EXTRA_FIELDS)):
            st.caption("Study windows", help=WINDOWS_HELP)
            windows = views.windows_table(values.get("windows") or "")
            st.data_editor(
                windows, key=_versioned("windows"), num_rows="dynamic", hide_index=True, width="stretch",
                column_config={
                    "Days": st.column_config.SelectboxColumn("Days", options=views.window_day_options(windows),
                                                             width=72),
                    "Time": st.column_config.TextColumn("Time", width=104, help="From-to, e.g. 18:30-22:00 (24:00 "
                                                                                "is midnight at the day's end)")})
            _field_error("windows")
            st.caption("Blackout periods (days off)")
            st.data_editor(
                views.blackout_table(values.get("blackouts") or []), key=_versioned("blackouts"),
                num_rows="dynamic", hide_index=True, width="stretch",
                column_config={"From": st.column_config.DateColumn("From", format="YYYY-MM-DD"),
                               "To": st.column_config.DateColumn("To", format="YYYY-MM-DD")},
            )
            _field_error("blackouts")
            st.text_input("Public holidays of", key="f_holidays", placeholder="e.g. DE or DE-BY", help=HOLIDAYS_HELP)
            _field_error("holidays")
        st.multiselect("Topics I already know", list(known_choices), key="f_skip",
                       format_func=lambda t: known_choices.get(t, t),
                       placeholder="None: each is left out of your plan")
        _field_error("skip")
        st.multiselect("Specializations to add", list(elective_titles), key="f_electives",
                       format_func=lambda e: elective_titles.get(e, e))
        _field_error("electives")
        st.form_submit_button("Make my plan", type="primary", width="stretch", on_click=on_make_plan)
        _field_error("form")
    busy_section()


# ---------------------------------------------------------------- the page


def render() -> None:
    """The form in the first column: first in the Tab order (a keyboard reaches Make my plan before the results)
    and, at phone width where the columns stack, on the first screen with the plan right after Make my plan.
    The plan's column is built first, so its figures and chart are sent before the form's widgets."""
    st.title(curriculum_for(CONTENT).title, anchor=False)
    form_col, plan_col = st.columns([1, 2], gap="large")
    with plan_col:
        main()
    with form_col:
        learner_picker()
        profile_form()


def main() -> None:
    err = ss.get("form_error")
    if err is not None:
        st.error(f"Check your input — {md(err.text)}", icon=":material/error:")
        if ss.get("active") is not None:
            st.info("The plan from your last accepted inputs is hidden until the form is fixed; it is still saved "
                    "(Today, Progress and Calendar use it).")
        return

    result, problems = current()
    if ss.get("confirm_plan") is not None:
        confirm_panel()
    if (ss.get("proposal") is not None or ss.get("replan_error") or ss.get("accepted_flash") == "plan") \
            and isinstance(result, Plan):
        with st.container(border=True):
            replanning.proposal_panel(result, "plan")
    if result is None:
        welcome()
        return
    if isinstance(result, Infeasible):
        infeasible_panel(result)
        return
    plan_view(result, problems)


def confirm_panel() -> None:
    done, missed = _has_progress(ss.get("tracked_plan"))
    with st.container(border=True):
        st.warning(f"**This plan holds progress** ({done} sessions done, {missed} missed). "
                   "What should *Make my plan* do?", icon=":material/help:")
        c1, c2, c3 = st.columns(3)
        c1.button("Re-plan from today, keep my progress", key="confirm_replan", type="primary", width="stretch",
                  on_click=replan_keeping_progress,
                  help="Your ticks stay; the rest is re-planned from today with what you changed: hours, days, "
                       "windows, busy calendars, holidays, blackouts. A changed background, start, time zone or "
                       "topics needs a fresh plan (the panel says which).")
        c2.button("Start over with a fresh plan", key="confirm_fresh", width="stretch",
                  on_click=lambda: make_fresh(ss.confirm_plan, "started over (the plan with progress stays in "
                                                               "Learners → History)"),
                  help="The plan with progress stays restorable on the Learners page.")
        c3.button("Cancel", key="confirm_cancel", width="stretch",
                  on_click=lambda: ss.__setitem__("confirm_plan", None))


def welcome() -> None:
    st.info("Fill in the form *Your situation* — or keep the defaults — and press **Make my plan**. You get a dated "
            "study schedule that finishes inside the month range your background promises, ready for your "
            "calendar.")
    st.header("How long the path takes")
    st.dataframe(views.bands_frame(bands_for(CONTENT)), hide_index=True, width="stretch")
    st.caption("Topic hours: study, projects and checkpoints; reviews come on top (about: a plan places as many "
               "as fit). Recommended weekly hours: what finishes them inside the month range.")


def infeasible_panel(result: Infeasible) -> None:
    facts = views.infeasible_facts(result)
    with st.container(border=True):
        st.warning(f"**This plan does not fit.** {facts.headline}")
        line = calendar_line(result)
        if line is not None:
            st.markdown(md(line))
        c1, c2 = st.columns(2)
        c1.metric("Minimum hours/week", f"{facts.min_hours:g} h" if facts.min_hours is not None else "—")
        c2.metric("Earliest finish at your hours", str(facts.earliest_finish) if facts.earliest_finish else "never",
                  f"{facts.earliest_months:.1f} months" if facts.earliest_months is not None else None,
                  delta_color="off", delta_arrow="off")
        with st.spinner("Checking which changes give a plan…"):
            options = remedies_for(CONTENT, canonical(ss.active))
        if not options and line is not None:
            st.write("No single change fits: widen a window, free time in your busy calendar, add study days or "
                     "choose a longer background range.")
        elif not options:
            st.write("No single change fits: add study days, remove blackouts or choose a longer background range.")
        for i, remedy in enumerate(options):
            a, b = st.columns([1, 2], vertical_alignment="center")
            a.button(md(remedy.label), key=f"fix_{remedy.key}", type="primary" if i == 0 else "secondary",
                     width="stretch", on_click=apply_remedy, args=(remedy.raw, remedy.label))
            b.text(remedy.detail)
        st.caption("A plan finishes inside the path's month range unless you choose to finish later.")


def totals_caption(plan: Plan) -> str:
    """The one total-hours figure and its breakdown (one function, so the definition can change in one place)."""
    from planner.totals import total_hours

    return f"Total {total_hours(plan):g} h = {views.hours_breakdown(plan).text}."


@dataclass(frozen=True)
class Drawings:
    """A plan's two charts as Vega-Lite specs, with their text equivalents."""

    weekly: dict[str, Any]
    weekly_alt: str
    gantt: dict[str, Any]
    gantt_alt: str


@st.cache_resource(max_entries=16, show_spinner=False)
def drawings(key: str, _plan: Plan) -> Drawings:
    """Built and checked once per plan (key: its inputs, or learner + saved version), so a rerun sends them as they
    are: Altair's to_dict validates each chart (~0.1 s) and the timeline's words took 1 s on every run. Used as
    copies (Streamlit may change the spec it is given)."""
    return Drawings(views.weekly_chart(_plan).to_dict(), views.weekly_alt(_plan), views.gantt_chart(_plan).to_dict(),
                    views.gantt_alt(_plan))


def plan_figures(plan: Plan) -> None:
    """Who and when, the four figures, the hours, and the weekly chart: the top of the page."""
    st.text(f"{ss.learner} · {plan.requirements.background.replace('_', ' ')} · from {plan.profile.start} "
            f"({plan.profile.timezone})")
    for col, (label, value, help_text) in zip(st.columns(4), views.plan_metrics(plan), strict=True):
        col.metric(label, value, help=help_text)
    st.caption(totals_caption(plan) + " " + views.pacing_caption(plan))
    drawn = drawings(plan_key(), plan)
    st.vega_lite_chart(spec=copy.deepcopy(drawn.weekly), width="stretch", alt=drawn.weekly_alt)


def later_finish_note(plan: Plan) -> None:
    """A later finish the learner chose: said, with the way back to the path's range."""
    months = plan.profile.finish_months
    raw = ss.get("active") or {}
    if months is None or not raw.get("finish_months"):
        return
    back = {k: v for k, v in raw.items() if k != "finish_months"}
    a, b = st.columns([3, 1], vertical_alignment="center")
    a.info(f"You chose to finish later: within {months} months (by {plan.latest_allowed_finish}), past the "
           f"path's range for your background. This plan finishes {plan.finish}.", icon=":material/event:")
    b.button("Back to the path's range", key="finish_in_range", on_click=apply_remedy,
             args=(back, "back to the path's range"))


def plan_view(plan: Plan, problems: list[str]) -> None:
    if problems:
        st.error(f"Internal error: the plan breaks a rule ({md(problems[0])}). Please report it.")
    plan_figures(plan)
    later_finish_note(plan)
    known = known_topics(plan, curriculum_for(CONTENT))
    if known is not None:
        st.caption(md(known.text()))
    drawn = drawings(plan_key(), plan)
    # Phases and milestones full width, one under the other: side by side they are cut at 1280 px
    if plan.phases:
        st.header("Phases")
        st.dataframe(views.phases_frame(plan), hide_index=True, width="stretch",
                     column_config={"Topic hours": st.column_config.NumberColumn(format="%.1f h"),
                                    "Phase": st.column_config.NumberColumn(width="small"),
                                    "Topics": st.column_config.NumberColumn(width="small")})
        st.header("Milestones")
        st.dataframe(views.milestones_frame(plan), hide_index=True, width="stretch",
                     column_config={"Months in": st.column_config.NumberColumn(format="%.1f"),
                                    "Your range (months)": st.column_config.TextColumn("Your range"),
                                    "Path says (months)": st.column_config.TextColumn("Path says")})
        st.caption("Each success-checklist item is reached when the last session of the topics it needs is over. "
                   "Your range: the path's months for the stage laid over your background's "
                   f"{plan.requirements.months_min}–{plan.requirements.months_max} months.")
    st.vega_lite_chart(spec=copy.deepcopy(drawn.gantt), width="stretch", alt=drawn.gantt_alt)
    # The expanders' tables are built only while open (a rerun when one opens): a 1,000-session table took
    # half a second of every run of the page, open or not.
    sessions = st.expander("All sessions", key="plan_sessions_open", on_change="rerun")
    if sessions.open:
        with sessions:
            all_sessions(plan)
    quality = st.expander("Plan quality", key="plan_quality_open", on_change="rerun")
    if quality.open:
        with quality:
            plan_quality(plan)
    about = st.expander("About this plan", key="plan_about_open", on_change="rerun")
    if about.open:
        with about:
            st.dataframe(pd.DataFrame(views.about_plan_rows(plan), columns=["", "Value"]), hide_index=True,
                         width="stretch")


def all_sessions(plan: Plan) -> None:
    phase_numbers = [r["phase"] for r in plan.phase_rows()]
    titles = {p.number: p.title for p in plan.phases}
    chosen = st.multiselect("Phases", phase_numbers, key="phase_filter", placeholder="All phases",
                            format_func=lambda n: views.phase_label(n, titles.get(n, "")))
    table = views.sessions_frame(plan, chosen)
    st.caption(views.sessions_caption(plan, chosen))
    st.dataframe(table, hide_index=True, width="stretch", column_config=SESSION_COLUMNS)


def plan_quality(plan: Plan) -> None:
    st.caption(views.quality_caption(plan))
    st.dataframe(views.fidelity_frame(plan), hide_index=True, width="stretch",
                 column_config={"Share of hours": st.column_config.NumberColumn(format="%.1f %%"),
                                "Share of path weeks": st.column_config.NumberColumn(format="%.1f %%"),
                                "Study hours": st.column_config.NumberColumn(format="%.1f h")})
    st.caption("Each phase's share of your study hours next to its share of the path's weeks.")


def today_for(plan: Plan) -> dt.date:
    return views.today_in(plan)


if __name__ == "__main__":  # run as a page by st.navigation
    render()
