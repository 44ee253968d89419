"""The dashboard's study windows and busy calendar: the form's fields, the upload kept with the learner, and the
form <-> profile mapping they go through."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from planner import views
from planner.busy import EPOCH, busy_horizon, load_busy, summarise_busy_file
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.export.json import plan_from_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import Infeasible
from planner.store import Store
from planner.views.form import (
    busy_file_path,
    calendar_line,
    free_hours_in_windows,
    keep_busy_file,
    safe_file_stem,
)
from tests.conftest import plan_result

APP = str(Path(__file__).resolve().parent.parent / "app.py")
GOOGLE = Path(__file__).parent / "fixtures" / "busy" / "google.ics"
BERLIN = ZoneInfo("Europe/Berlin")
WINDOWS = "mon-fri 18:30-22:00\nsat 09:00-12:00, 14:00-17:00"
SHOWN = "\n".join(f"{d} 18:30-22:00" for d in ("mon", "tue", "wed", "thu", "fri")) + "\nsat 09:00-12:00,14:00-17:00"
WINDOW_ROWS = [("mon-fri", "18:30-22:00"), ("sat", "09:00-12:00"), ("sat", "14:00-17:00")]
WINDOW_SPANS = {d: [("18:30", "22:00")] for d in range(5)} | {5: [("09:00", "12:00"), ("14:00", "17:00")], 6: []}


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _plan_page() -> AppTest:
    at = _ok(AppTest.from_file(APP, default_timeout=120).run())
    return _ok(at.switch_page("dashboard/plan_page.py").run())


def _windows_key(at: AppTest) -> str:
    return f"f_windows_{at.session_state['blackout_version']}"


def _add_windows(at: AppTest, rows: list[tuple[str, str]]) -> None:
    """Rows added in the windows table, as the browser's editor reports them."""
    at.session_state[_windows_key(at)] = {"edited_rows": {}, "deleted_rows": [],
                                          "added_rows": [{"Days": d, "Time": t} for d, t in rows]}


def _fill(at: AppTest, windows: list[tuple[str, str]] = WINDOW_ROWS, hours: float = 18) -> AppTest:
    at.date_input(key="f_start").set_value(dt.date(2027, 1, 4))
    at.selectbox(key="f_timezone").set_value("Europe/Berlin")
    at.number_input(key="f_hours_per_week").set_value(hours)
    _add_windows(at, windows)
    return at


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _ok(at)


def _texts(at: AppTest) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "error", "warning", "info") for e in getattr(at, kind)]


def _saved_plan(db: Path, ml: Curriculum) -> Plan:
    rec = Store(db).load("Me")
    assert rec is not None and rec.plan is not None
    return plan_from_dict(rec.plan, ml)


def _in_windows(plan: Plan) -> None:
    for s in plan.active_sessions:
        a, b = s.start.astimezone(BERLIN), s.end.astimezone(BERLIN)
        assert any(x <= a.strftime("%H:%M") and b.strftime("%H:%M") <= y for x, y in WINDOW_SPANS[a.weekday()]), s


# ---------------------------------------------------------------- the page


def test_windows_from_the_form_hold_every_session(fresh_state: Path, ml: Curriculum) -> None:
    at = _submit(_fill(_plan_page()))
    assert not at.error, [e.value for e in at.error]
    plan = _saved_plan(fresh_state, ml)
    assert plan.active_sessions
    _in_windows(plan)
    assert {s.start.astimezone(BERLIN).weekday() for s in plan.active_sessions} <= {0, 1, 2, 3, 4, 5}
    assert Store(fresh_state).load("Me").profile["windows"]["sat"] == ["09:00-12:00", "14:00-17:00"]  # type: ignore[union-attr]


def test_an_uploaded_calendar_is_previewed_kept_and_never_overlapped(fresh_state: Path, ml: Curriculum) -> None:
    at = _submit(_fill(_plan_page()))  # the preview measures free time in the submitted windows
    at.file_uploader[0].set_value(("google.ics", GOOGLE.read_bytes(), "text/calendar")).run()
    _ok(at)
    preview = [t for t in _texts(at) if "busy events read" in t]
    start = dt.date(2027, 1, 4)
    expected = summarise_busy_file(GOOGLE.read_bytes(), "google.ics", "Europe/Berlin", start,
                                   busy_horizon(start, ml.background("ml_background").months_max))
    assert preview and f"google.ics: {expected['events']} busy events read" in preview[0].replace("\\", ""), preview
    assert "h a week free in your windows" in preview[0]
    kept = list((fresh_state.parent / "busy").glob("Me-*.ics"))
    assert len(kept) == 1 and kept[0].read_bytes() == GOOGLE.read_bytes()
    at = _submit(at)
    assert not at.error, [e.value for e in at.error]
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.profile["busy"] == [str(kept[0])]
    plan = _saved_plan(fresh_state, ml)
    _in_windows(plan)
    busy = load_busy([str(kept[0])], "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2029, 1, 1))
    spans = [(EPOCH + dt.timedelta(minutes=a), EPOCH + dt.timedelta(minutes=b)) for a, b in busy.intervals]
    for s in plan.active_sessions:
        assert not any(x < s.end and s.start < y for x, y in spans), s
        assert s.start.astimezone(BERLIN).date() not in busy.all_day, s
    # all-day events made free: the saved profile says so, and Remove takes the calendar out at the next plan
    at.toggle[0].set_value(False).run()
    next(b for b in at.button if b.label == "Remove").click().run()
    at = _submit(_ok(at))
    rec = Store(fresh_state).load("Me")
    assert rec is not None and "busy" not in rec.profile and rec.profile["all_day_events"] == "free"


def test_reload_keeps_windows_busy_file_and_switch(fresh_state: Path) -> None:
    at = _submit(_fill(_plan_page()))
    at.file_uploader[0].set_value(("google.ics", GOOGLE.read_bytes(), "text/calendar")).run()
    at.toggle[0].set_value(False).run()
    _submit(at)
    again = _ok(AppTest.from_file(APP, default_timeout=120).run())
    again = _ok(again.switch_page("dashboard/plan_page.py").run())
    shown = views.windows_table(again.session_state["form_values"]["windows"])
    assert list(shown.itertuples(index=False, name=None)) == WINDOW_ROWS
    assert again.toggle[0].value is False
    assert any("busy events read" in t for t in _texts(again))
    assert len(list((fresh_state.parent / "busy").glob("Me-*.ics"))) == 1


def test_a_bad_windows_line_is_an_inline_error() -> None:
    at = _submit(_fill(_plan_page(), windows=[("mon-fri", "18:30-22:00"), ("sat", "9-12")]))
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Study windows") and "not a time of day" in e for e in errors), errors
    assert all("Traceback" not in e and "\n" not in e for e in errors)


def test_an_unreadable_upload_names_the_file(fresh_state: Path) -> None:
    at = _plan_page()
    at.file_uploader[0].set_value(("notes.ics", b"this is not a calendar", "text/calendar")).run()
    _ok(at)
    errors = [e.value.replace("\\", "") for e in at.error]
    assert any(e.startswith("notes.ics:") for e in errors), errors
    assert not (fresh_state.parent / "busy").exists()


def test_windows_that_leave_too_little_time_say_so_in_the_engines_words(fresh_state: Path) -> None:
    at = _submit(_fill(_plan_page(), windows=[("sat", "09:00-10:00")], hours=1))
    assert not at.exception
    texts = " ".join(_texts(at)).replace("\\", "")
    assert "Your calendar leaves" in texts and "h a week free in your windows" in texts, texts


# ---------------------------------------------------------------- the mapping and file functions


def test_form_mapping_round_trips_windows_busy_and_all_day(tmp_path: Path) -> None:
    values = views.form_defaults(dt.date(2027, 1, 1), "Europe/Berlin")
    values.update(windows=WINDOWS, busy=[str(tmp_path / "a.ics")], all_day_busy=False)
    raw = views.form_to_mapping(values)
    assert raw["windows"] == {d: ["18:30-22:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {
        "sat": ["09:00-12:00", "14:00-17:00"]}
    assert raw["days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]  # sunday has no window
    assert raw["busy"] == [str(tmp_path / "a.ics")] and raw["all_day_events"] == "free"
    back = views.mapping_to_form(raw)
    assert back["windows"] == SHOWN
    assert back["busy"] == raw["busy"] and back["all_day_busy"] is False
    assert views.form_to_mapping(back) == raw


def test_windows_table_groups_days_and_reads_back() -> None:
    """The editor shows consecutive days with the same windows as one row group, a window a row; its rows read
    back to the same windows."""
    table = views.windows_table("mon-fri 18:30-22:00\nsat 09:00-12:00,14:00-17:00\nsun 20:00-24:00")
    rows = list(table.itertuples(index=False, name=None))
    assert rows == [("mon-fri", "18:30-22:00"), ("sat", "09:00-12:00"), ("sat", "14:00-17:00"), ("sun", "20:00-24:00")]
    text = views.windows_rows_text(rows)
    assert text == "mon-fri 18:30-22:00\nsat 09:00-12:00\nsat 14:00-17:00\nsun 20:00-24:00"
    values = views.form_defaults(dt.date(2027, 1, 1))
    assert views.form_to_mapping({**values, "windows": rows})["windows"] == views.form_to_mapping(
        {**values, "windows": text})["windows"]
    odd = views.windows_table("tue-thu 19:00-21:00")
    assert list(odd["Days"]) == ["tue-thu"] and "tue-thu" in views.window_day_options(odd)
    assert views.windows_table("").empty and views.windows_table("not windows").empty
    kept = views.windows_table([("sat", "9-12"), (None, None)])  # as left after an error: shown as typed
    assert list(kept.itertuples(index=False, name=None)) == [("sat", "9-12"), (None, None)]


def test_windows_rows_half_filled_name_their_row() -> None:
    assert views.windows_rows_text([(None, None), ("sat", " 09:00-12:00 ")]) == "sat 09:00-12:00"
    for row, message in ((("", "09:00-10:00"), "choose the days"), (("sat", None), "give the time")):
        with pytest.raises(InputError) as exc:
            views.windows_rows_text([("mon", "18:00-20:00"), row])
        assert exc.value.field == "windows.row 2" and message in exc.value.message
        assert views.field_error(exc.value.field, exc.value.message).text.startswith("Study windows (row 2)")
    with pytest.raises(InputError) as exc:  # the times are the engine's to check, naming the days
        views.form_to_mapping({**views.form_defaults(dt.date(2027, 1, 1)), "windows": [("sat", "9-12")]})
    assert exc.value.field.startswith("windows") and "not a time of day" in exc.value.message


def test_empty_windows_keep_todays_profile() -> None:
    values = views.form_defaults(dt.date(2027, 1, 1))
    raw = views.form_to_mapping(values)
    assert "windows" not in raw and "busy" not in raw and "all_day_events" not in raw
    assert views.mapping_to_form(raw)["windows"] == "" and views.mapping_to_form(raw)["all_day_busy"] is True


def test_windows_on_no_chosen_weekday_name_the_field() -> None:
    values = views.form_defaults(dt.date(2027, 1, 1))
    values.update(days=["sun"], windows="mon-fri 18:00-22:00")
    with pytest.raises(InputError) as exc:
        views.form_to_mapping(values)
    assert exc.value.field == "windows"
    err = views.field_error("windows.sat", "'9-12' is not a window")
    assert err.widget == "windows" and err.text == "Study windows (sat): '9-12' is not a window"


def test_kept_busy_files_are_named_by_learner_and_content(tmp_path: Path) -> None:
    data = GOOGLE.read_bytes()
    path = keep_busy_file(tmp_path, "Ann / ../x", data)
    assert path == busy_file_path(tmp_path, "Ann / ../x", data) and path.parent == tmp_path / "busy"
    assert path.name.startswith("Ann_x-") and path.suffix == ".ics" and path.read_bytes() == data
    assert keep_busy_file(tmp_path, "Ann / ../x", data) == path  # the same upload is the same file
    assert keep_busy_file(tmp_path, "Ann / ../x", data + b"\n") != path
    assert safe_file_stem("...") == "learner" and safe_file_stem("Bo-1") == "Bo-1"
    with pytest.raises(InputError, match="limit"):
        keep_busy_file(tmp_path, "Bo", data, max_bytes=len(data) - 1)
    assert not list((tmp_path / "busy").glob("Bo-*"))


def test_windows_and_a_start_time_together_point_at_the_start_fields(ml: Curriculum) -> None:
    values = views.form_defaults(dt.date(2027, 1, 1))
    values.update(windows="mon-fri 18:00-22:00", session_start_weekday=dt.time(19, 0))
    with pytest.raises(InputError) as exc:
        profile_from_mapping(views.form_to_mapping(values), ml)
    err = views.field_error(exc.value.field, exc.value.message)
    assert err.widget == "session_start" and "windows" in err.message


def test_free_hours_in_windows_take_busy_time_out(ml: Curriculum) -> None:
    raw = {"background": "ml_background", "hours_per_week": 14, "start": "2027-01-04", "timezone": "Europe/Berlin",
           "windows": {"mon-fri": ["18:30-22:00"], "sat": ["09:00-12:00", "14:00-17:00"]}}
    free = free_hours_in_windows(raw, ml)
    assert free == pytest.approx(23.5, abs=0.5)
    assert free_hours_in_windows({**raw, "busy": [str(GOOGLE)]}, ml) < free


def test_calendar_line_is_the_engines_sentence(ml: Curriculum) -> None:
    result = plan_result(ml, background="ml_background", hours_per_week=1, windows={"sat": ["09:00-10:00"]})
    assert isinstance(result, Infeasible)
    line = calendar_line(result)
    assert line is not None and line.startswith("Your calendar leaves") and line in result.message()
