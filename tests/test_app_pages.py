"""The dashboard's pages through AppTest (Today, the ask-before-replacing prompt, stale tabs, history, clear words,
remedies, a damaged database), plus the plain view functions behind them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import views
from planner.curriculum import Curriculum
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.store import Store
from tests.conftest import plan_ok

pytestmark = pytest.mark.usefixtures("fresh_state")
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _app() -> AppTest:
    return _ok(AppTest.from_file(APP, default_timeout=90).run())


def _page(at: AppTest, name: str) -> AppTest:
    return _ok(at.switch_page(f"dashboard/{name}_page.py").run())


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _ok(at)


def _planned(start: dt.date | None = None, hours: float = 18) -> AppTest:
    at = _page(_app(), "plan")
    if start is not None:
        at.date_input(key="f_start").set_value(start)
    at.number_input(key="f_hours_per_week").set_value(hours)
    return _submit(at)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _done_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.label.startswith("Done: ")]


def _texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info", "title", "header",
                                 "subheader") for e in getattr(at, kind)]


# ---------------------------------------------------------------- Today


def test_today_one_click_done_is_saved(fresh_state: Path) -> None:
    at = _page(_planned(), "today")
    buttons = _done_buttons(at)
    assert buttons, "the first week's sessions have Done buttons"
    uid = buttons[0].key.split("_done_", 1)[1]
    buttons[0].click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked and rec.plan is not None
    assert {s["uid"]: s["status"] for s in rec.plan["sessions"]}[uid] == "done"
    assert any(b.label.startswith("Undo: ") for b in at.button)


def test_overdue_sessions_offer_replan_from_today(fresh_state: Path) -> None:
    start = dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 14)  # a Monday two weeks ago
    at = _page(_planned(start, hours=20), "today")
    assert any(h.value.startswith("Overdue: ") for h in at.header)
    at.button(key="today_replan").click().run()
    _ok(at)
    assert "New finish" in _metrics(at)
    at.button(key="today_accept").click().run()
    _ok(at)
    assert not any(h.value.startswith("Overdue: ") for h in at.header)
    assert [s.value.startswith("New plan saved") for s in at.success] == [True]  # said once, where accepted
    _page(at, "progress")
    assert not any("New plan saved" in s.value for s in at.success)  # and not again on another page
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked
    assert Store(fresh_state).versions("Me")[0].note.startswith("re-planned from")


# ---------------------------------------------------------------- nothing lost


def test_make_plan_on_a_plan_with_progress_asks_and_start_over_can_be_undone(fresh_state: Path) -> None:
    at = _page(_planned(), "today")
    _done_buttons(at)[0].click().run()
    _page(at, "plan")
    at.number_input(key="f_hours_per_week").set_value(20)
    _submit(at)
    assert any("holds progress" in w.value for w in at.warning)
    assert Store(fresh_state).load("Me").profile["hours_per_week"] == 18  # type: ignore[union-attr]
    at.button(key="confirm_fresh").click().run()
    _ok(at)
    store = Store(fresh_state)
    rec = store.load("Me")
    assert rec is not None and not rec.tracked and rec.profile["hours_per_week"] == 20
    with_progress = next(v for v in store.versions("Me") if v.done_sessions == 1)

    _page(at, "learners")
    at.selectbox(key="restore_pick").set_value(with_progress.version)
    at.button(key="restore").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked and rec.profile["hours_per_week"] == 18
    assert sum(s["status"] == "done" for s in rec.plan["sessions"]) == 1  # type: ignore[index]


def test_make_plan_with_progress_can_replan_keeping_it(fresh_state: Path) -> None:
    at = _page(_planned(), "today")
    _done_buttons(at)[0].click().run()
    _page(at, "plan")
    at.number_input(key="f_hours_per_week").set_value(20)
    _submit(at)
    at.button(key="confirm_replan").click().run()
    _ok(at)
    assert "New finish" in _metrics(at)
    at.button(key="plan_accept").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked and rec.profile["hours_per_week"] == 20
    assert sum(s["status"] == "done" for s in rec.plan["sessions"]) == 1  # type: ignore[index]


def test_a_stale_tab_is_told_and_its_change_not_applied(fresh_state: Path) -> None:
    a = _page(_planned(), "today")
    b = _page(_app(), "today")  # a second tab on the same learner
    _done_buttons(a)[0].click().run()
    _ok(a)
    target = _done_buttons(b)[1]
    uid = target.key.split("_done_", 1)[1]
    target.click().run()
    _ok(b)
    assert any("Changed in another tab — reload" in w.value for w in b.warning)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and {s["uid"]: s["status"] for s in rec.plan["sessions"]}[uid] == "planned"  # type: ignore[index]
    assert sum(s["status"] == "done" for s in rec.plan["sessions"]) == 1  # type: ignore[index]
    b.button(key="reload_stale").click().run()
    _ok(b)
    assert not any("another tab" in w.value for w in b.warning)
    assert len([x for x in b.button if x.label.startswith("Undo: ")]) == 1  # tab A's tick, now shown in tab B


def test_damaged_database_offers_a_fresh_start(fresh_state: Path) -> None:
    fresh_state.write_bytes(b"this is not a database" * 100)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "damaged" in at.error[0].value
    at.button(key="start_fresh").click().run()
    _ok(at)
    assert (fresh_state.parent / "planner.db.corrupt").read_bytes().startswith(b"this is not")
    assert any("Started fresh" in s.value for s in at.success)


# ---------------------------------------------------------------- clear words


def test_select_all_known_topics_is_an_inline_message() -> None:
    at = _page(_app(), "plan")
    ms = at.multiselect(key="f_skip")
    ms.set_value(list(ms.options))
    _submit(at)
    assert any(e.value.startswith("Topics I already know") and "nothing left" in e.value for e in at.error)
    at.run()  # and on the next rerun too: no traceback
    _ok(at)


@pytest.mark.parametrize(("code", "words"), [("MON", "not a country code"), ("DE, US", "one code"),
                                             ("US-ZZ", "not a region")])
def test_bad_holiday_codes_are_inline_errors(code: str, words: str) -> None:
    at = _page(_app(), "plan")
    at.text_input(key="f_holidays").set_value(code)
    _submit(at)
    assert any(e.value.startswith("Public holidays of") and words in e.value for e in at.error)


def test_high_weekly_hours_never_fail_on_day_hours_not_set() -> None:
    at = _planned(hours=70)
    assert not at.error, [e.value for e in at.error]
    assert "Finish" in _metrics(at)


def test_derived_day_hours_are_shown_never_kept_as_typed(fresh_state: Path) -> None:
    """100 h/week fills the days from 09:00 (derived, not typed): a reopened tab's form holds only what the
    learner typed, says what was derived, and a changed form derives again — no bogus day-hours error, no 09:00
    carried into a plan that does not need it."""
    at = _planned(start=dt.date(2027, 1, 4), hours=100)
    assert not at.error
    saved = Store(fresh_state).load("Me")
    assert saved is not None and saved.profile["day_hours"] and saved.profile["session_start"]  # plans as it is

    again = _page(_app(), "plan")  # a new tab: the form from the saved profile
    assert again.text_input(key="f_day_hours").value == ""
    assert again.time_input(key="f_session_start_weekday").value is None
    assert again.time_input(key="f_session_start_weekend").value is None
    assert any("do not fit the usual split" in c.value and "from 09:00" in c.value for c in again.caption)

    again.multiselect(key="f_days").set_value(["mon", "tue", "wed", "thu", "fri"])
    _submit(again)
    assert not again.error, [e.value for e in again.error]
    active = again.session_state["active"]
    assert active["days"] == ["mon", "tue", "wed", "thu", "fri"] and "sat" not in active["day_hours"]

    again = _page(_app(), "plan")
    again.number_input(key="f_hours_per_week").set_value(18)
    _submit(again)
    assert not again.error, [e.value for e in again.error]
    active = again.session_state["active"]
    assert "day_hours" not in active and "session_start" not in active
    plan = again.session_state["tracked_plan"] or plan_from_profile(active)
    assert {s.start.strftime("%H:%M") for s in plan.sessions} != {"09:00"}
    assert not any("do not fit the usual split" in c.value for c in again.caption)


def plan_from_profile(raw: dict) -> Plan:
    from planner.curriculum import default_content_path, load_curriculum

    ml = load_curriculum(default_content_path())
    result = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(result, Plan)
    return result


def test_typed_profile_leaves_out_only_what_was_derived(ml: Curriculum) -> None:
    typed = {"background": "ml_background", "hours_per_week": 100.0, "start": "2027-01-04",
             "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    fitted = views.fit_unset_day_hours(typed, ml)
    assert fitted != typed and views.typed_profile(fitted, ml) == typed
    own_start = {**typed, "session_start": {d: "08:00" for d in typed["days"]}}
    assert views.typed_profile(views.fit_unset_day_hours(own_start, ml), ml) == own_start  # their start stays
    own = {**typed, "day_hours": "sat=8"}
    assert views.typed_profile(own, ml) == own  # typed day hours are theirs, even when they do not fit
    assert views.derived_note(typed, ml) is None and "from 09:00" in (views.derived_note(fitted, ml) or "")


def test_markdown_in_a_name_is_shown_as_text() -> None:
    name = "**bold** [link](http://127.0.0.1:1/x)"
    at = _page(_app(), "learners")
    at.text_input(key="new_learner").set_value(name)
    at.button(key="create_learner").click().run()
    _ok(at)
    assert at.session_state["learner"] == name
    _submit(_page(at, "plan"))
    for page in ("plan", "today", "calendar", "learners"):
        _page(at, page)
        for text in _texts(at):
            assert "[link](http" not in text and "**bold**" not in text, (page, text)
        assert any(name in t.value for t in at.text), page  # shown, as plain text


def test_all_specializations_infeasible_offers_remedies_that_work() -> None:
    at = _page(_app(), "plan")
    at.date_input(key="f_start").set_value(dt.date(2027, 1, 4))
    at.multiselect(key="f_electives").set_value(list(at.multiselect(key="f_electives").options))
    at.number_input(key="f_hours_per_week").set_value(18)
    _submit(at)
    assert any("does not fit" in w.value for w in at.warning)
    keys = [b.key for b in at.button if b.key and b.key.startswith("fix_")]
    assert "fix_hours" in keys and ("fix_skip" in keys or "fix_electives" in keys)
    at.button(key=keys[-1]).click().run()
    _ok(at)
    assert not any("does not fit" in w.value for w in at.warning) and "Finish" in _metrics(at)


# ---------------------------------------------------------------- views


@pytest.fixture(scope="module")
def plan(ml: Curriculum) -> Plan:
    return plan_ok(ml, background="ml_background", hours_per_week=18)


@pytest.mark.parametrize(("field", "label"), [
    ("day_hours.mon", "Hours per weekday (Monday)"), ("blackouts[0]", "Blackout periods, row 1"),
    ("--today", "As of"), ("holidays", "Public holidays of"), ("skip", "Topics I already know"),
    ("session_start.sat", "Weekday start / Weekend start (Saturday)"), ("hours_per_week", "Hours per week"),
])
def test_field_errors_use_the_forms_labels(field: str, label: str) -> None:
    err = views.field_error(field, "something is off")
    assert err.label == label and err.text == f"{label}: something is off"


def test_holiday_codes() -> None:
    assert views.check_holidays(" de-by ") == "DE-BY"
    assert views.check_holidays("") is None
    for bad in ("MON", "SAT", "JAN", "DE US", "XX"):
        with pytest.raises(Exception, match="holidays"):
            views.check_holidays(bad)


def test_timezone_default_is_the_browsers() -> None:
    assert views.form_defaults(timezone="America/New_York")["timezone"] == "America/New_York"
    assert views.form_defaults(timezone=None)["timezone"] == "UTC"
    assert views.form_defaults(timezone="Not/AZone")["timezone"] == "UTC"


def test_unset_day_hours_are_fitted_and_set_ones_kept(ml: Curriculum) -> None:
    raw = {"background": "ml_background", "hours_per_week": 90.0, "start": "2027-01-04"}
    fitted = views.fit_unset_day_hours(raw, ml)
    profile_from_mapping(fitted, ml)  # no day_hours error
    own = {**raw, "day_hours": "sat=23"}
    assert views.fit_unset_day_hours(own, ml) == own  # the learner's own value: their error to see


def test_new_weekly_hours_scale_typed_day_hours_and_derive_the_rest(ml: Curriculum) -> None:
    typed = {"background": "ml_background", "hours_per_week": 100.0, "start": "2027-01-04",
             "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    lower = views.profile_at_hours(views.fit_unset_day_hours(typed, ml), 18.0, ml)
    assert lower == {**typed, "hours_per_week": 18.0}  # no 14.5 h days or 09:00 starts carried down
    higher = views.profile_at_hours({**typed, "hours_per_week": 18.0}, 100.0, ml)
    assert views.typed_profile(higher, ml) == {**typed, "hours_per_week": 100.0}  # derived, and known as such
    own = {**typed, "hours_per_week": 10.0, "day_hours": "sat=4"}
    assert views.profile_at_hours(own, 20.0, ml)["day_hours"] == "sat=8"


def test_scaled_day_hours_keep_the_pattern() -> None:
    assert views.scaled_day_hours("sat=4", 15, 16) == "sat=4.5"
    assert views.scaled_day_hours("mon=1,sat=4", 10, 20) == "mon=2,sat=8"


def test_with_skipped_moves_whole_specializations_out(ml: Curriculum) -> None:
    elective = ml.electives[0].id
    topics = [t.id for t in ml.topics if t.elective == elective]
    raw = {"background": "ml_background", "hours_per_week": 18, "electives": [elective]}
    out = views.with_skipped(raw, [*topics, "arch-gnns"], ml)
    assert "electives" not in out and out["skip"] == ["arch-gnns"]
    profile_from_mapping(out, ml)


def test_remedies_are_checked_and_keep_the_pattern(ml: Curriculum) -> None:
    raw = {"background": "ml_background", "hours_per_week": 8.0, "start": "2027-01-04", "day_hours": "sat=4",
           "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    result = make_plan(ml, profile_from_mapping(raw, ml))
    assert isinstance(result, Infeasible)
    asked: list[dict] = []

    def fits(candidate: dict) -> bool:
        asked.append(candidate)
        return float(candidate["hours_per_week"]) >= (result.min_hours_per_week or 0) + 1

    options = views.remedies(result, raw, ml, fits)
    hours = next(r for r in options if r.key == "hours")
    assert hours.raw["hours_per_week"] == (result.min_hours_per_week or 0) + 1  # the first that fits
    assert hours.raw["day_hours"].startswith("sat=") and "," not in hours.raw["day_hours"]
    assert all(fits(r.raw) for r in options)


def test_hours_breakdown_is_one_total(plan: Plan) -> None:
    totals = views.hours_breakdown(plan)
    from planner.totals import plan_totals

    assert totals.total == pytest.approx(plan_totals(plan).scheduled_hours)
    assert totals.reviews > 0 and totals.projects > 0 and totals.checkpoints > 0
    assert views.plan_metrics(plan)[2][:2] == ("Total hours", f"{totals.total:g} h")


def test_today_facts(plan: Plan) -> None:
    day = plan.active_sessions[20].day
    facts = views.today_facts(plan, day)
    assert all(s.day == day for s in facts.today_sessions)
    assert all(s.day != day and facts.monday <= s.day for s in facts.week_sessions)
    assert len(facts.overdue) == sum(1 for s in plan.active_sessions if s.day < day)
    assert facts.next_milestone is None or facts.next_milestone[1] >= day
    assert views.session_line(plan, facts.today_sessions[0]).startswith(f"{facts.today_sessions[0].start:%a %H:%M}")


def test_an_unreadable_learner_is_one_message_and_the_rest_is_kept(fresh_state: Path) -> None:
    import sqlite3

    store = Store(fresh_state)
    store.save("Bad", {"background": "ml_background", "hours_per_week": 18}, None)
    store.save("Good", {"background": "ml_background", "hours_per_week": 18}, None)
    conn = sqlite3.connect(fresh_state)
    conn.execute("UPDATE learners SET profile = '{oops' WHERE name = 'Bad'")
    conn.commit()
    conn.close()
    at = _page(_app(), "plan")  # the last learner, Good, opens as usual
    assert at.session_state["learner"] == "Good"
    at.selectbox(key="learner_pick").set_value("Bad").run()
    assert not at.exception
    assert any("'Bad' is not readable" in e.value for e in at.error)
    at.button(key="start_fresh").click().run()
    _ok(at)
    assert Store(fresh_state).names() == ["Good"]
    assert (fresh_state.parent / "planner.db.corrupt").exists()


def test_plan_page_is_whole_in_one_run_with_the_form_in_the_first_column():
    """A new tab on a learner with a plan: one run draws the whole page (no second, timed run), the form in the
    first column (first in the Tab order), the figures and both charts in the second."""
    _planned(hours=18)
    at = _page(_app(), "plan")
    form_col = at.columns[0]  # the first column of the page, in the tree as in the browser's Tab order
    plan_col = next(c for c in at.columns if len(c.metric) == 4)
    assert [b.label for b in form_col.button if b.label == "Make my plan"] == ["Make my plan"]
    assert at.number_input(key="f_hours_per_week").value == 18
    assert [m.label for m in plan_col.metric] == ["Finish", "Months", "Total hours", "Busiest week"]
    assert len(plan_col.get("vega_lite_chart")) == 2
