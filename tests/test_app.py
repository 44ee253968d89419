"""The dashboard through Streamlit's AppTest, plus unit tests of its views and its local store."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import views
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.store import MAX_IMPORT_BYTES, STATE_FORMAT, Store, default_db_path, parse_state

pytestmark = pytest.mark.usefixtures("fresh_state")  # clean caches and a temporary database for every test
APP = str(Path(__file__).resolve().parent.parent / "app.py")
SUBMIT = "Make my plan"




def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == SUBMIT).click().run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _engine(raw: dict) -> Plan | Infeasible:
    from planner.curriculum import default_content_path, load_curriculum

    ml = load_curriculum(default_content_path())
    return make_plan(ml, profile_from_mapping(raw, ml))


def _min_hours(raw: dict) -> float:
    """What the engine says is the minimum (the effort model may change; the dashboard must show its number)."""
    result = _engine(raw)
    assert isinstance(result, Infeasible) and result.min_hours_per_week is not None
    return result.min_hours_per_week


def _hours_where_dropping_fits() -> tuple[float, tuple[str, ...]]:
    """Weekly hours just short of the minimum at which skipping optional topics is enough, and those topics."""
    raw = {"background": "ml_background", "hours_per_week": 5.0, "start": "2027-01-04"}
    hours = _min_hours(raw)
    for _ in range(8):
        hours -= 0.5
        result = _engine({**raw, "hours_per_week": hours})
        if isinstance(result, Infeasible) and result.drop is not None and result.drop.fits:
            return hours, tuple(t[0] for t in result.drop.topics)
    pytest.skip("no weekly hours just below the minimum where dropping optional topics is enough")


# ---------------------------------------------------------------- the app


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"dashboard/{name}_page.py").run()
    assert not at.exception, at.exception
    return at


def test_empty_state_before_first_plan() -> None:
    at = _app()
    assert at.info and "Make my plan" in at.info[0].value
    assert not at.metric
    assert not at.download_button


def test_default_submit_shows_metrics_and_downloads() -> None:
    at = _submit(_app())
    metrics = _metrics(at)
    assert set(metrics) == {"Finish", "Months", "Total hours", "Busiest week"}
    assert not any("Solver" in label for label in metrics)  # solver figures live in "About this plan"
    assert any(e.label == "About this plan" for e in at.expander)
    total = metrics["Total hours"]
    assert any(c.value.startswith(f"Total {total.removesuffix(' h')} h = ") and "reviews" in c.value
               for c in at.caption)
    _page(at, "calendar")
    assert {d.label for d in at.download_button} == {"Calendar (.ics)", "Sessions (CSV)", "Plan (JSON)"}
    assert not at.error


def test_changed_hours_reach_the_plan() -> None:
    at = _app()
    at.number_input(key="f_hours_per_week").set_value(30)
    _submit(at)
    assert _metrics(at)["Busiest week"].endswith("of 30 h")
    assert any("finishes at the range minimum" in c.value for c in at.caption)


def test_bad_input_is_one_line_in_the_forms_words() -> None:
    at = _app()
    at.text_input(key="f_day_hours").set_value("mon=banana")
    _submit(at)
    assert at.error and all("\n" not in e.value for e in at.error)
    assert any(e.value.startswith("Hours per weekday") for e in at.error)
    assert not any("day_hours" in e.value for e in at.error)
    assert not at.metric


def test_blackouts_from_the_table() -> None:
    at = _app()
    editor = f"f_blackouts_{at.session_state['blackout_version']}"
    at.session_state[editor] = {"edited_rows": {}, "deleted_rows": [],
                                "added_rows": [{"From": "2027-02-01", "To": "2027-02-14"}]}
    _submit(at)
    assert not at.error
    assert at.session_state["active"]["blackouts"] == [["2027-02-01", "2027-02-14"]]
    editor = f"f_blackouts_{at.session_state['blackout_version']}"
    at.session_state[editor] = {"edited_rows": {}, "deleted_rows": [],
                                "added_rows": [{"From": "2027-03-01", "To": None}]}
    _submit(at)
    assert any("Blackout periods, row" in e.value for e in at.error)
    assert not any("blackouts[" in e.value for e in at.error)


def test_infeasible_panel_and_one_click_fix() -> None:
    at = _app()
    at.number_input(key="f_hours_per_week").set_value(5)
    _submit(at)
    assert any("does not fit" in w.value for w in at.warning)
    need = _min_hours({**views.form_to_mapping(views.form_defaults()), "hours_per_week": 5.0})
    assert _metrics(at)["Minimum hours/week"] == f"{need:g} h"
    fix = at.button(key="fix_hours")
    assert fix.label.startswith("Use ") and float(fix.label.split()[1]) >= need
    hours = float(fix.label.split()[1])
    fix.click().run()
    assert not at.exception
    assert not at.warning
    assert _metrics(at)["Busiest week"].endswith(f"of {hours:g} h")
    assert at.number_input(key="f_hours_per_week").value == hours


def test_drop_fix_skips_optional_topics() -> None:
    at = _app()
    hours, _ = _hours_where_dropping_fits()
    at.date_input(key="f_start").set_value(dt.date(2027, 1, 4))
    at.number_input(key="f_hours_per_week").set_value(hours)
    _submit(at)
    fix = at.button(key="fix_skip")
    assert fix.label.startswith("Skip ")
    fix.click().run()
    assert not at.exception and not at.warning
    assert at.multiselect(key="f_skip").value
    assert _metrics(at)["Finish"] <= "2028-01-03"


def test_good_import_switches_to_the_imported_learner(tmp_path: Path) -> None:
    other = Store(tmp_path / "other.db")
    other.save("Imported", {"background": "complete_beginner", "hours_per_week": 20, "start": "2027-01-04"}, None)
    at = _page(_app(), "learners")
    at.file_uploader(key="import_file").upload("state.json", other.export_state(), "application/json")
    at.run()
    at.button(key="import_button").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="learner_pick").value == "Imported"
    _page(at, "plan")
    assert at.selectbox(key="f_background").value == "complete_beginner"
    assert any("14–20" in h for h in (m.help or "" for m in at.metric))


def test_bad_import_shows_error_and_keeps_state() -> None:
    at = _submit(_app())
    finish = _metrics(at)["Finish"]
    _page(at, "learners")
    at.file_uploader(key="import_file").upload("state.json", b'{"format": "something/9"}', "application/json")
    at.run()
    at.button(key="import_button").click().run()
    assert not at.exception
    assert any("Import failed" in e.value and "not a backup the planner exported" in e.value for e in at.error)
    _page(at, "plan")
    assert _metrics(at)["Finish"] == finish


def test_restart_restores_the_last_plan() -> None:
    at = _app()
    at.number_input(key="f_hours_per_week").set_value(20)
    _submit(at)
    first = _metrics(at)
    again = _page(_app(), "plan")  # a new session on the same database, as after a reload or restart
    assert _metrics(again) == first
    assert again.number_input(key="f_hours_per_week").value == 20


# ---------------------------------------------------------------- views


@pytest.fixture(scope="module")
def plan(ml: Curriculum) -> Plan:
    result = make_plan(ml, profile_from_mapping({"background": "ml_background", "hours_per_week": 16,
                                                 "start": "2027-01-04"}, ml))
    assert isinstance(result, Plan)
    return result


def test_gantt_chart_encodings(plan: Plan) -> None:
    spec = views.gantt_chart(plan).to_dict()
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert enc["x"]["field"] == "start" and enc["x"]["type"] == "temporal"
    assert enc["x2"]["field"] == "end"
    assert enc["y"]["field"] == "topic" and enc["y"]["sort"]["field"] == "order"
    assert enc["color"]["field"] == "phase"
    data = views.gantt_frame(plan)
    assert len(data) == len(plan.requirements.topics)
    assert (data["start"] < data["end"]).all()


def test_weekly_chart_stacks_done_planned_missed(plan: Plan) -> None:
    spec = views.weekly_chart(plan).to_dict()
    enc = spec["encoding"]
    assert enc["x"]["field"] == "week" and enc["x"]["type"] == "temporal"
    assert enc["y"]["aggregate"] == "sum" and enc["y"]["field"] == "hours" and enc["y"]["stack"] == "zero"
    assert enc["color"]["field"] == "part"
    data = views.weekly_frame(plan)
    assert data["hours"].sum() == pytest.approx(plan.total_hours)
    assert data.groupby("week")["hours"].sum().max() <= plan.profile.hours_per_week + 1e-9


def test_bands_follow_the_month_ranges(ml: Curriculum) -> None:
    bands = views.background_bands(ml)
    b = bands["ml_background"]
    assert (b.months_min, b.months_max) == (9, 12)
    assert b.low < b.high
    assert "9–12 months" in b.caption


def test_form_round_trip_and_errors(ml: Curriculum) -> None:
    values = views.form_defaults(dt.date(2026, 11, 26))
    assert values["start"] == dt.date(2026, 11, 30)
    values.update(day_hours="sat=4", session_start_weekday=dt.time(18, 30), holidays="DE",
                  blackouts=[(dt.date(2027, 8, 1), dt.date(2027, 8, 14))], skip=["found-python"],
                  electives=["llm-engineer"])
    raw = views.form_to_mapping(values)
    profile_from_mapping(raw, ml)
    assert views.mapping_to_form(raw) == values
    with pytest.raises(InputError) as exc:
        views.form_to_mapping({**values, "blackouts": [(dt.date(2027, 8, 1), None)]})
    assert exc.value.field == "blackouts[0]"
    with pytest.raises(InputError) as exc:
        views.form_to_mapping({**values, "days": []})
    assert exc.value.field == "days"


def test_tables(plan: Plan) -> None:
    table = views.sessions_frame(plan, [1])
    assert list(table.columns)[:5] == ["Date", "Day", "Start", "End", "Hours"]
    assert set(table["Phase"]) == {1}
    title, week = views.week_agenda(plan, dt.date(2026, 1, 1))
    assert title.startswith("First week") and set(week["Date"]) <= {f"2027-01-{d:02d}" for d in range(4, 11)}
    title, week = views.week_agenda(plan, dt.date(2027, 3, 3))
    assert title.startswith("This week") and len(week) > 0
    ms = views.milestones_frame(plan)
    assert len(ms) == len(plan.checklist) and "Path says (months)" in ms.columns
    assert "range minimum" not in views.pacing_caption(plan)


def test_infeasible_facts(ml: Curriculum) -> None:
    result = make_plan(ml, profile_from_mapping({"background": "ml_background", "hours_per_week": 5,
                                                 "start": "2027-01-04"}, ml))
    assert isinstance(result, Infeasible)
    facts = views.infeasible_facts(result)
    assert facts.min_hours == result.min_hours_per_week and facts.min_hours is not None and facts.min_hours > 5
    assert facts.earliest_finish is not None and not facts.drop_fits


# ---------------------------------------------------------------- store


def test_store_save_load_list(tmp_path: Path) -> None:
    store = Store(tmp_path / "sub" / "p.db")
    assert store.last() is None and store.names() == []
    store.save("Bo", {"background": "ml_background", "hours_per_week": 10}, None)
    store.save("al", {"background": "ml_background", "hours_per_week": 12}, {"format": "planner.plan/1"})
    assert store.names() == ["al", "Bo"]
    last = store.last()
    assert last is not None and last.name == "al" and last.plan == {"format": "planner.plan/1"}
    store.save("Bo", {"background": "ml_background", "hours_per_week": 11}, None)
    bo = store.load("Bo")
    assert bo is not None and bo.profile["hours_per_week"] == 11
    assert store.last().name == "Bo"  # type: ignore[union-attr]
    mode = __import__("sqlite3").connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    with pytest.raises(InputError):
        store.save("   ", {}, None)


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("PLANNER_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "study-planner" / "planner.db"


def test_store_export_import_round_trip(tmp_path: Path, ml: Curriculum) -> None:
    a = Store(tmp_path / "a.db")
    a.save("Ann", {"background": "ml_background", "hours_per_week": 16, "start": "2027-01-04"}, None)
    a.save("Ben", {"background": "complete_beginner", "hours_per_week": 20, "start": "2027-01-04"}, None)
    data = a.export_state()
    assert json.loads(data)["format"] == STATE_FORMAT
    b = Store(tmp_path / "b.db")
    assert b.import_state(data, ml) == ["Ann", "Ben"]
    assert b.names() == ["Ann", "Ben"]
    assert b.last().name == "Ben"  # type: ignore[union-attr]
    assert b.load("Ben").profile == a.load("Ben").profile  # type: ignore[union-attr]


@pytest.mark.parametrize(("payload", "field", "words"), [
    (b"x" * (MAX_IMPORT_BYTES + 1), "import", "limit is 64 MB"),
    (b"not json", "import", "not a JSON file"),
    (b'{"format": "planner.plan/1"}', "import", "planner.state/1"),
    (json.dumps({"format": STATE_FORMAT, "learners": []}).encode(), "import", "no learners"),
    (json.dumps({"format": STATE_FORMAT, "learners": [{"name": "A", "profile": {
        "background": "ml_background", "hours_per_week": -3}}]}).encode(), "learners[0].profile.hours_per_week",
     "at least"),
    (json.dumps({"format": STATE_FORMAT, "learners": [{"name": "A", "profile": {
        "background": "wizard", "hours_per_week": 3}}]}).encode(), "learners[0].profile.background", "unknown"),
])
def test_import_validation(tmp_path: Path, ml: Curriculum, payload: bytes, field: str, words: str) -> None:
    store = Store(tmp_path / "s.db")
    store.save("Keep", {"background": "ml_background", "hours_per_week": 16}, None)
    with pytest.raises(InputError) as exc:
        parse_state(payload, ml)
    assert exc.value.field == field and words in exc.value.message
    with pytest.raises(InputError):
        store.import_state(payload, ml)
    assert store.names() == ["Keep"]
