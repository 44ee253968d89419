"""What every page shares: the open learner (in Streamlit's session state), cached engine calls and saving.

One tab holds one learner at a known store version. Every save names that version; when another tab saved in
between, the save is refused and the page says so (`stale`) instead of overwriting the other tab's work or
dropping this one's without a word. The plan with progress is kept as a Plan object in the session, so a tick
does not re-read 300 kB of JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any
from zoneinfo import available_timezones

import streamlit as st

from planner import views
from planner.busy import with_busy
from planner.curriculum import Curriculum, default_content_path, load_curriculum
from planner.errors import InputError
from planner.export import plan_to_dict
from planner.export.json import plan_from_dict
from planner.forecast import Forecast, forecast
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.store import StaleVersion, Store, StoreError, shown_name
from planner.validate import validate_plan

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


@st.cache_resource(show_spinner=False, max_entries=64)  # a Plan is immutable: shared, never copied
def solve(path: str, profile_json: str) -> tuple[Plan | Infeasible, list[str]]:
    """The plan for canonical inputs (content path + profile fields as sorted JSON), and any rule it breaks."""
    curriculum = curriculum_for(path)
    result = make_plan(curriculum, with_busy(profile_from_mapping(json.loads(profile_json), curriculum), curriculum))
    problems = [] if isinstance(result, Infeasible) else [str(p) for p in validate_plan(result)]
    return result, problems


def fits(raw: dict[str, Any]) -> bool:
    try:
        result, problems = solve(CONTENT, canonical(raw))
    except InputError:
        return False
    return isinstance(result, Plan) and not problems


@st.cache_data(show_spinner=False, max_entries=16)
def remedies_for(path: str, profile_json: str) -> list[views.Remedy]:
    """The remedies of an infeasible answer, each checked to give a valid plan (several solves: cached)."""
    raw = json.loads(profile_json)
    result, _ = solve(path, profile_json)
    assert isinstance(result, Infeasible)
    return views.remedies(result, raw, curriculum_for(path), fits)


def canonical(raw: dict[str, Any]) -> str:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#|<>~$:])")


def md(text: object) -> str:
    """User text (names, titles) escaped for the places Streamlit renders markdown: never a link or emphasis
    (':' too, which stops bare URLs from becoming links; 'www.' likewise)."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("www.", "www\\.")


# ---------------------------------------------------------------- the store


def store() -> Store:
    """The store, or a page that says what is wrong with the database file and offers the way out."""
    try:
        return Store()
    except StoreError as exc:
        damaged_store_page(exc)
        st.stop()
        raise  # for the type checker: st.stop() does not return


def damaged_store_page(exc: StoreError) -> None:
    from planner.store import set_aside_and_start_fresh

    st.error(f"The planner's database cannot be used: {exc.message}. ({exc.path})", icon=":material/error:")
    if not exc.fixable:
        return
    st.write("Start fresh: the file is kept aside unchanged (as a `.corrupt` copy next to it) and every learner "
             "that can still be read is carried over to a new database.")
    if st.button("Set the file aside and start fresh", type="primary", key="start_fresh"):
        try:
            aside, kept = set_aside_and_start_fresh(exc.path)
        except StoreError as again:
            st.error(f"Could not start fresh: {again.message}")
            return
        ss.clear()
        ss.store_error = None
        ss.flash = (f"Started fresh. The damaged file is kept as {aside.name}; "
                    f"{len(kept)} learner(s) carried over.")
        st.rerun()


# ---------------------------------------------------------------- the open learner


def put_form(values: dict[str, Any]) -> None:
    """Remember the form's values; the Plan page copies them into its widgets when they are missing."""
    ss.form_values = dict(values)
    for key in FORM_KEYS:
        ss.pop(f"f_{key}", None)
    ss.blackout_version = ss.get("blackout_version", 0) + 1


def new_learner_form() -> dict[str, Any]:
    return views.form_defaults(timezone=st.context.timezone)


def open_learner(name: str) -> None:
    """Load a learner as saved (or a new one with the default form) into this tab."""
    try:
        rec = store().load(name)
    except StoreError as exc:  # an unreadable row: the page says so (callbacks cannot show it themselves)
        ss.store_error = exc
        return
    ss.learner = name
    ss.proposal = None
    ss.accepted = False
    ss.confirm_plan = None
    ss.stale = None
    ss.form_error = None
    if rec is None or name in store().without_plan():  # created on the Learners page: the form, no plan yet
        put_form(new_learner_form())
        ss.active, ss.tracked_plan, ss.version = None, None, rec.version if rec is not None else 0
        if rec is not None:
            store().set_last(name)
    else:
        put_form(views.mapping_to_form(views.typed_profile(rec.profile, curriculum_for(CONTENT))))
        ss.active = rec.profile
        ss.version = rec.version
        ss.tracked_plan = None
        if rec.tracked and rec.plan is not None:
            try:
                ss.tracked_plan = plan_from_dict(rec.plan, curriculum_for(CONTENT))
            except InputError as exc:
                ss.flash_error = f"The saved plan of this learner cannot be read ({exc}); showing a fresh plan."
        store().set_last(name)


def boot() -> None:
    """First run of a browser tab: open the last learner (or a new one)."""
    if ss.get("pending_open"):  # set by an import or a restore, applied before any widget exists
        open_learner(ss.pop("pending_open"))
    elif "learner" not in ss:
        last = store().last()
        if last is not None:
            open_learner(last.name)
        else:
            ss.learner = "Me"
            put_form(new_learner_form())
            ss.active, ss.tracked_plan, ss.version = None, None, 0
    for key, default in (("proposal", None), ("accepted", False), ("confirm_plan", None), ("stale", None),
                         ("form_error", None), ("progress_version", 0)):
        ss.setdefault(key, default)


def current() -> tuple[Plan | Infeasible | None, list[str]]:
    """The learner's plan as this tab knows it: the saved one with progress, else the plan for the profile."""
    if ss.get("active") is None:
        return None, []
    if ss.get("tracked_plan") is not None:
        return ss.tracked_plan, []
    try:
        return solve(CONTENT, canonical(ss.active))
    except InputError as exc:  # a stored profile this version no longer reads
        ss.form_error = views.field_error(exc.field, exc.message)
        return None, []


def plan_key() -> str:
    """Identifies the plan this tab shows (profile inputs, or the saved version with progress): a cache key."""
    if ss.get("tracked_plan") is not None:
        return f"tracked:{store().path}:{ss.learner}:{ss.get('version', 0)}"
    return "profile:" + canonical(ss.get("active") or {})


@st.cache_resource(max_entries=16, show_spinner=False)
def _forecast(key: str, day: str, _plan: Plan) -> tuple[Forecast, views.ForecastFacts, dict[str, Any]]:
    fc = forecast(_plan, dt.date.fromisoformat(day))
    facts = views.forecast_facts(fc)
    return fc, facts, views.forecast_chart(facts.rows).to_dict()  # Altair's to_dict validates: ~0.1 s


def forecast_for(plan: Plan, today: dt.date) -> tuple[Forecast, views.ForecastFacts, dict[str, Any]]:
    """The plan's forecast as of `today`, its facts and its chart's Vega-Lite spec, once per plan version and day
    (a Monte Carlo of a few thousand draws and a validated spec: a rerun, or a switch between Today and Progress,
    should not pay for them again). The spec is a copy: Streamlit may change the one it is given."""
    fc, facts, spec = _forecast(plan_key(), today.isoformat(), plan)
    return fc, facts, copy.deepcopy(spec)


def save(profile: dict[str, Any], plan: Plan | Infeasible | None, *, tracked: bool, note: str) -> bool:
    """Save as a new version of the open learner, based on the version this tab read. False (and `stale` set)
    when another tab saved first: nothing is written, the page tells the learner to reload."""
    data = plan_to_dict(plan) if isinstance(plan, Plan) else None
    try:
        rec = store().save(ss.learner, profile, data, tracked=tracked and data is not None,
                           expected_version=ss.get("version", 0), note=note)
    except StaleVersion as exc:
        ss.stale = (f"This learner was saved in another tab (now version {exc.current}, this tab shows "
                    f"{exc.expected}). Your change ({note}) was not saved: reload, then make it again.")
        return False
    except StoreError as exc:
        ss.save_error = f"Not saved: {exc.message}."
        return False
    ss.version = rec.version
    ss.active = dict(profile)
    ss.tracked_plan = plan if tracked and isinstance(plan, Plan) else None
    ss.progress_version = ss.get("progress_version", 0) + 1
    return True


def save_progress(plan: Plan, note: str, profile: dict[str, Any] | None = None) -> bool:
    ok = save(profile if profile is not None else dict(ss.active), plan, tracked=True, note=note)
    if ok:
        ss.proposal = None
    return ok


def reload_learner() -> None:
    open_learner(ss.learner)


# ---------------------------------------------------------------- clicks that survive a restart
#
# A button's widget id is a hash of its key and page only (Streamlit 1.67: `key_as_main_identity`), so a tab that
# was open before `streamlit run` restarted sends its click to the new server session under the same id. The new
# session has none of the old session's callbacks (they are registered when a widget is drawn), so every action
# that saves is read from the button's return value in the script run instead. Check-in keys carry the store
# version the page was drawn for: a click drawn for another version is not applied, and the learner is told.

ACTION_KEY = re.compile(r"^(?P<row>[a-z]+)_v(?P<version>\d+)_(?P<action>[a-z_]+?)_(?P<uid>[^_]+)$")
ACCEPT_SUFFIX = "_accept"
LOST_CLICK = "Not saved: the plan changed since this page was drawn — tick it again."
LOST_ACCEPT = ("Not saved: the proposed plan was lost (the planner was restarted, or the plan changed since the "
               "page was drawn) — re-plan again, then Accept.")


def action_key(row: str, action: str, uid: str) -> str:
    """The key of a check-in button: its row, the store version it was drawn for, the action and the session."""
    return f"{row}_v{ss.get('version', 0)}_{action}_{uid}"


def clicked_actions() -> list[str]:
    """The check-in buttons (keys made by `action_key`) whose click this script run answers."""
    return [key for key in _clicked_keys() if ACTION_KEY.match(key)]


def _clicked_keys() -> list[str]:
    """The user keys of the buttons whose click this script run answers, as the browser sent them. Streamlit has
    no public way to see a click on a widget this run does not draw, so this reads the session's incoming widget
    states (ids end in "-<user key>"); should that change, it finds nothing and the buttons still work."""
    try:
        from streamlit.runtime.state import get_session_state
        from streamlit.runtime.state.session_state import Serialized, Value

        states = get_session_state()._state._new_widget_state.states
    except (ImportError, AttributeError, RuntimeError):
        return []
    keys = []
    for wid, value in list(states.items()):
        parts = wid.split("-", 2)
        if len(parts) < 3 or not wid.startswith("$$ID"):
            continue
        if isinstance(value, Serialized):
            clicked = value.value.WhichOneof("value") == "trigger_value" and value.value.trigger_value
        else:
            clicked = isinstance(value, Value) and value.value is True
        if clicked:
            keys.append(parts[2])
    return keys


def lost_click() -> str | None:
    """Why an Accept this run answers cannot be applied, or None: its proposal is not in this session (the
    server was restarted in between) and cannot be made again from the tab's address (see
    `replanning.accept_from_address`, which saves it when it can)."""
    from dashboard import replanning
    from planner.replan import Replanned

    for key in _clicked_keys():  # a check-in is Today's to answer: it knows which buttons it drew
        if key.endswith(ACCEPT_SUFFIX) and not isinstance(ss.get("proposal"), Replanned):
            plan, _ = current()
            if isinstance(plan, Plan) and replanning.accept_from_address(plan, key.removesuffix(ACCEPT_SUFFIX)):
                return None
            return LOST_ACCEPT
    if ss.get("proposal") is None:  # an address left from a proposal this session does not hold
        replanning.forget_recipe()
    return None


def banners() -> None:
    """Messages every page shows on top: a stale tab, a failed save, a one-time notice, a click that could not
    be applied."""
    lost = lost_click()
    if lost:
        st.warning(lost, icon=":material/sync_problem:")
    if ss.get("stale"):
        with st.container(border=True):
            st.warning(f"**Changed in another tab — reload.** {md(ss.stale)}", icon=":material/sync_problem:")
            st.button("Reload this learner", key="reload_stale", on_click=reload_learner, type="primary")
    if ss.get("save_error"):
        st.error(ss.pop("save_error"))
    if ss.get("flash"):
        st.success(md(ss.pop("flash")))
    if ss.get("flash_error"):
        st.error(md(ss.pop("flash_error")))


def learner_picker() -> None:
    """The learner select box in the sidebar (every page)."""
    names = store().names()
    if ss.learner not in names:
        names = sorted([*names, ss.learner], key=str.lower)
    waiting = store().without_plan()
    ss.learner_pick = ss.learner
    st.selectbox("Learner", names, key="learner_pick",
                 format_func=lambda n: shown_name(n) + (" (no plan yet)" if n in waiting else ""),
                 on_change=lambda: open_learner(ss.learner_pick),
                 help="Each learner's profile and plan are saved on this computer. Add learners on the "
                      "Learners page.")
