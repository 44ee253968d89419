"""Progress tracking and "regenerate from today" in the dashboard (AppTest), plus their views and store parts."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import views
from planner.curriculum import Curriculum, default_content_path, load_curriculum
from planner.export.json import plan_from_dict, plan_to_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.progress import mark_done_through, mark_missed
from planner.replan import CatchUpMenu, Replanned, replan
from planner.solve import make_plan
from planner.store import Store
from tests.conftest import plan_ok

pytestmark = pytest.mark.usefixtures("fresh_state")  # clean caches and a temporary database for every test
APP = str(Path(__file__).resolve().parent.parent / "app.py")
START = dt.date(2027, 1, 4)


@functools.cache
def _hours(base: float, margin: float) -> float:
    """`base` h/week for ml_background from START when that fits, else the minimum that fits plus `margin`
    (the engine's effort model may change; these tests need a plan, with more or less slack)."""
    ml = load_curriculum(default_content_path())
    result = make_plan(ml, profile_from_mapping({"background": "ml_background", "hours_per_week": base,
                                                 "start": START.isoformat()}, ml))
    if isinstance(result, Plan):
        return base
    assert result.min_hours_per_week is not None
    return float(math.ceil(result.min_hours_per_week) + margin)


ROOMY = (15, 8)  # a plan with slack: a missed fortnight is caught up inside the range
TIGHT = (13, 1)  # barely enough: five months behind needs the catch-up menu




def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _app() -> AppTest:
    return _ok(AppTest.from_file(APP, default_timeout=60).run())


def _page(at: AppTest, name: str) -> AppTest:
    return _ok(at.switch_page(f"dashboard/{name}_page.py").run())


def _planned(hours: tuple[float, float] = ROOMY) -> AppTest:
    """A plan made on the Plan page, then the Progress page."""
    at = _app()
    at.date_input(key="f_start").set_value(START)
    at.number_input(key="f_hours_per_week").set_value(_hours(*hours))
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _page(_ok(at), "progress")


def _as_of(at: AppTest, day: dt.date) -> AppTest:
    at.date_input(key="as_of").set_value(day).run()
    return _ok(at)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _stored(db: Path, name: str = "Me") -> tuple[bool, dict]:
    rec = Store(db).load(name)
    assert rec is not None and rec.plan is not None
    return rec.tracked, rec.plan


def _statuses(plan: dict) -> dict[str, str]:
    return {s["uid"]: s["status"] for s in plan["sessions"]}


# ---------------------------------------------------------------- the app


def test_tick_in_editor_and_progress_survives_a_restart(fresh_state: Path) -> None:
    at = _as_of(_planned(), dt.date(2027, 1, 8))
    assert not _stored(fresh_state)[0]  # no progress yet: the profile re-plans on reload
    editor = f"progress_editor_{at.session_state['progress_version']}"
    at.session_state[editor] = {"edited_rows": {0: {"Status": "done"}, 1: {"Status": "missed", "Done h": 0.5}},
                                "added_rows": [], "deleted_rows": []}
    _ok(at.run())
    assert not _stored(fresh_state)[0]  # several edits, nothing saved until "Save changes"
    next(b for b in at.button if b.label == "Save changes").click().run()
    _ok(at)
    tracked, plan = _stored(fresh_state)
    rows = sorted(plan["sessions"], key=lambda s: s["start"])  # the editor: this week first, in order
    assert tracked and [s["status"] for s in rows[:3]] == ["done", "missed", "planned"]
    assert rows[1]["done_hours"] == 0.5
    assert sum(s["status"] != "planned" for s in plan["sessions"]) == 2
    assert _metrics(at)["Sessions done"] == "1" and _metrics(at)["Sessions missed"] == "1"

    again = _page(_app(), "progress")  # a new browser session on the same database
    assert again.session_state["tracked_plan"] is not None
    assert _metrics(again)["Sessions done"] == "1" and _metrics(again)["Sessions missed"] == "1"


def test_done_hours_typed_are_saved_as_typed_or_the_row_says_why(fresh_state: Path) -> None:
    """"Done h" typed on a planned row, beyond a missed session's length, on a done row: each is saved as the
    learner's hours (partly done, done with real hours, real hours) and the message names every such row."""
    at = _as_of(_planned(), dt.date(2027, 1, 8))
    editor = f"progress_editor_{at.session_state['progress_version']}"
    at.session_state[editor] = {"edited_rows": {0: {"Done h": 0.5}, 1: {"Status": "missed", "Done h": 9.0},
                                                2: {"Status": "done", "Done h": 1.25}},
                                "added_rows": [], "deleted_rows": []}
    _ok(at.run())
    next(b for b in at.button if b.label == "Save changes").click().run()
    _ok(at)
    _, plan = _stored(fresh_state)
    rows = sorted(plan["sessions"], key=lambda s: s["start"])[:3]
    assert (rows[0]["status"], rows[0]["done_hours"]) == ("missed", 0.5)  # typed on a planned row: partly done
    assert (rows[1]["status"], rows[1]["real_hours"]) == ("done", 9.0)  # more than the session: its real time
    assert (rows[2]["status"], rows[2]["real_hours"]) == ("done", 1.25)  # on a done row: its real time
    saved = " ".join(m.value for m in at.success).replace("\\", "")  # the page escapes markdown
    assert "Saved 3 change(s)." in saved
    assert "saved as partly done" in saved and "more than the session's planned" in saved
    assert "saved as the time it really took" in saved
    table = views.progress_frame(at.session_state["tracked_plan"], dt.date(2027, 1, 8))
    assert table.iloc[0]["Done h"] == 0.5 and table.iloc[1]["Real h"] == 9.0 and table.iloc[2]["Real h"] == 1.25

    # set back to planned with hours done typed: nothing saved, and the row says why
    editor = f"progress_editor_{at.session_state['progress_version']}"
    at.session_state[editor] = {"edited_rows": {0: {"Status": "planned", "Done h": 0.25}},
                                "added_rows": [], "deleted_rows": []}
    _ok(at.run())
    next(b for b in at.button if b.label == "Save changes").click().run()
    first = sorted(_stored(fresh_state)[1]["sessions"], key=lambda s: s["start"])[0]
    assert (first["status"], first["done_hours"]) == ("planned", 0)
    assert any("Saved 1 change(s)." in m.value.replace("\\", "") and "0.25 h done not saved" in m.value
               for m in _ok(at).success)


def test_progress_edits_rules(plan: Plan) -> None:
    before = views.progress_frame(plan, dt.date(2027, 1, 10))
    a, b, c, d = before.index[:4]
    hours = float(before.at[b, "Hours"])
    after = before.copy()
    after.loc[a, "Done h"] = float(before.at[a, "Hours"])  # all of a planned session: done
    after.loc[b, ["Status", "Done h"]] = ["missed", hours / 2]  # a partial miss: as typed
    after.loc[c, ["Status", "Done h", "Real h"]] = ["done", 2.0, 1.5]  # Real h wins, Done h not saved
    edits = views.progress_edits(before, after)
    assert edits.changes == [(a, "done", 0.0, None), (b, "missed", hours / 2, None), (c, "done", 0.0, 1.5)]
    assert len(edits.notes) == 2 and "saved as done" in edits.notes[0] and "not saved" in edits.notes[1]
    ticked = views.apply_progress(plan, edits.changes)
    assert {s.uid: s.credited_hours for s in ticked.sessions}[b] == hours / 2
    assert d not in {ch[0] for ch in edits.changes}


def test_done_through_and_topic_done(fresh_state: Path) -> None:
    at = _as_of(_planned(), dt.date(2027, 1, 20))
    at.date_input(key="done_through").set_value(dt.date(2027, 1, 10))
    at.button(key="mark_through").click().run()
    _ok(at)
    _, plan = _stored(fresh_state)
    done = [s for s in plan["sessions"] if s["status"] == "done"]
    assert done and all(s["start"][:10] <= "2027-01-10" for s in done)
    assert len(done) == sum(1 for s in plan["sessions"] if s["start"][:10] <= "2027-01-10")
    assert _metrics(at)["Sessions done"] == str(len(done))

    topic = next(s["topic"] for s in plan["sessions"] if s["status"] == "planned")
    at.multiselect(key="topics_done").set_value([topic])
    at.button(key="mark_topics").click().run()
    _ok(at)
    _, plan = _stored(fresh_state)
    assert all(s["status"] == "done" for s in plan["sessions"] if s["topic"] == topic)
    assert topic not in at.multiselect(key="topics_done").options


def test_regenerate_shows_diff_then_accept_saves_the_new_plan(fresh_state: Path) -> None:
    at = _as_of(_planned(), dt.date(2027, 3, 1))
    at.date_input(key="done_through").set_value(dt.date(2027, 2, 14))
    at.button(key="mark_through").click().run()
    _, before = _stored(fresh_state)
    done_before = {uid for uid, st_ in _statuses(before).items() if st_ == "done"}

    at.button(key="regenerate").click().run()
    _ok(at)
    m = _metrics(at)
    assert {"Kept", "Moved", "Added", "Removed", "New finish"} <= set(m)
    assert any("inside the path's range" in s.value for s in at.success)
    assert _stored(fresh_state)[1] == before  # nothing saved before accepting

    at.button(key="progress_accept").click().run()
    _ok(at)
    tracked, after = _stored(fresh_state)
    statuses = _statuses(after)
    assert tracked and all(statuses[uid] == "done" for uid in done_before)
    assert any(s["status"] == "missed" for s in after["sessions"])  # the unticked fortnight
    assert after["summary"]["finish"] == m["New finish"]
    assert any("Calendar" in s.value and "replace" in s.value for s in at.success)
    assert "Kept" not in _metrics(at)  # the proposal is gone once accepted


def test_discard_keeps_the_old_plan(fresh_state: Path) -> None:
    at = _as_of(_planned(), dt.date(2027, 3, 1))
    at.button(key="regenerate").click().run()
    assert "Moved" in _metrics(at)
    at.button(key="progress_discard").click().run()
    _ok(at)
    assert "Moved" not in _metrics(at)
    assert not _stored(fresh_state)[0]


def test_catch_up_menu_and_an_option_that_fits(fresh_state: Path) -> None:
    at = _as_of(_planned(TIGHT), dt.date(2027, 6, 4))  # five months in, nothing done
    at.button(key="regenerate").click().run()
    _ok(at)
    assert any("Behind" in w.value for w in at.warning)
    label = at.button(key="progress_catch_up_hours").label
    assert re.fullmatch(r"Study \d+(\.5)? h/week from now — finish \d{4}-\d\d-\d\d", label), label
    needed = float(label.split()[1])
    assert needed > _hours(*TIGHT)
    assert at.button(key="progress_catch_up_late").label.startswith("Accept finishing 2028-")
    assert "Moved" not in _metrics(at)

    at.button(key="progress_catch_up_hours").click().run()
    _ok(at)
    assert "Moved" in _metrics(at)
    assert any("inside the path's range" in s.value for s in at.success)
    at.button(key="progress_accept").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked and rec.plan is not None
    assert rec.profile["hours_per_week"] == needed
    assert rec.plan["summary"]["finish"] <= "2028-01-03"
    assert _metrics(at)["Behind by"] == "0 h"
    _page(at, "plan")
    assert at.number_input(key="f_hours_per_week").value == needed


def test_accept_late_finish(fresh_state: Path) -> None:
    at = _as_of(_planned(TIGHT), dt.date(2027, 6, 4))
    at.button(key="regenerate").click().run()
    at.button(key="progress_catch_up_late").click().run()
    _ok(at)
    assert any("AFTER the path's range" in w.value for w in at.warning)
    at.button(key="progress_accept").click().run()
    _ok(at)
    assert _stored(fresh_state)[1]["summary"]["finish"] > "2028-01-03"


def test_as_of_before_start_is_an_error_not_a_crash() -> None:
    at = _as_of(_planned(), dt.date(2026, 12, 1))
    at.button(key="regenerate").click().run()
    _ok(at)
    assert any("before the plan's start" in e.value and e.value.startswith("Cannot re-plan — As of") for e in at.error)


# ---------------------------------------------------------------- views


@pytest.fixture(scope="module")
def plan(ml: Curriculum) -> Plan:
    return plan_ok(ml, background="ml_background", hours_per_week=_hours(*ROOMY), timezone="Europe/Berlin")


def test_today_in_uses_the_profile_timezone(plan: Plan) -> None:
    late_utc = dt.datetime(2027, 3, 1, 23, 30, tzinfo=dt.UTC)  # already 2 March in Berlin
    assert views.today_in(plan, late_utc) == dt.date(2027, 3, 2)


def test_progress_frame_window_and_columns(plan: Plan) -> None:
    today = dt.date(2027, 2, 1)
    df = views.progress_frame(plan, today)
    assert list(df.columns) == ["Date", "Start", "Phase", "Topic", "Kind", "Session", "Hours", "Status", "Done h",
                                "Real h"]
    monday = today - dt.timedelta(days=today.weekday())
    assert max(df["Date"]) <= monday + dt.timedelta(days=20) and min(df["Date"]) >= monday - dt.timedelta(weeks=4)
    week = [d for d in df["Date"] if monday <= d < monday + dt.timedelta(days=7)]
    assert list(df["Date"])[:len(week)] == sorted(week)  # the current week first, in order
    before = [d for d in df["Date"] if d < monday]
    assert before == sorted(before, reverse=True)  # then the weeks before, the latest first
    assert set(df.index) <= {s.uid for s in plan.sessions}
    assert len(views.progress_frame(plan, today, show_all=True)) == len(plan.active_sessions)
    assert df["Done h"].dtype == float


def test_progress_changes_and_apply(plan: Plan) -> None:
    before = views.progress_frame(plan, dt.date(2027, 1, 10))
    after = before.copy()
    a, b, c = before.index[:3]
    after.loc[a, "Status"] = "done"
    after.loc[b, ["Status", "Done h"]] = ["missed", 0.5]
    changes = views.progress_changes(before, after)
    assert changes == [(a, "done", 0.0, None), (b, "missed", 0.5, None)]
    ticked = views.apply_progress(plan, changes)
    by_uid = {s.uid: s for s in ticked.sessions}
    assert by_uid[a].status == "done" and by_uid[b].status == "missed"
    assert by_uid[b].credited_hours == 0.5
    assert by_uid[c].status == "planned"
    back = views.apply_progress(ticked, [(a, "planned", 0.0)])
    assert {s.uid: s.status for s in back.sessions}[a] == "planned"
    again = views.progress_frame(ticked, dt.date(2027, 1, 10))
    assert views.progress_changes(again, again.copy()) == []
    bad = again.copy()
    bad.loc[a, "Status"] = "skipped"
    with pytest.raises(Exception, match="skipped"):
        views.progress_changes(again, bad)


def test_phase_progress_and_summary(plan: Plan) -> None:
    df = views.phase_progress_frame(plan)
    assert (df["Done h"] == 0).all() and df.iloc[-1]["Title"] == "All phases"
    assert df.iloc[-1]["Required h"] == pytest.approx(plan.requirements.total_hours)
    ticked = mark_done_through(plan, dt.date(2027, 2, 28))
    df = views.phase_progress_frame(ticked)
    assert df.iloc[-1]["Phase"] == "All" and df.iloc[0]["Progress"] > 0 and (df["Progress"] <= 1).all()
    summary = views.progress_summary(ticked, dt.date(2027, 3, 15))
    due = sum(s.hours for s in plan.sessions
              if dt.date(2027, 3, 1) <= s.day < dt.date(2027, 3, 15) and s.kind != "review")
    assert summary.behind_hours == pytest.approx(due)
    assert summary.done_hours == pytest.approx(df.iloc[-1]["Done h"])
    assert views.progress_summary(ticked, dt.date(2027, 3, 1)).behind_hours == 0


def test_burnup_frame_and_chart(plan: Plan) -> None:
    today = dt.date(2027, 3, 15)
    ticked = mark_missed(mark_done_through(plan, dt.date(2027, 2, 28)), [plan.sessions[-1].uid], 1.0)
    data = views.burnup_frame(ticked, today)
    planned = data[data["series"] == "Planned"]
    done = data[data["series"] == "Done"]
    assert planned["hours"].is_monotonic_increasing and done["hours"].is_monotonic_increasing
    assert planned["hours"].iloc[-1] == pytest.approx(plan.requirements.total_hours)
    assert done["hours"].iloc[-1] == pytest.approx(views.progress_summary(ticked, today).done_hours)
    assert planned["date"].iloc[0] == done["date"].iloc[0] == dt.datetime(2027, 1, 4)
    spec = views.burnup_chart(ticked, today).to_dict()
    line, goal, now = spec["layer"]
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["field"] == "date" and line["encoding"]["x"]["type"] == "temporal"
    assert line["encoding"]["y"]["field"] == "hours" and line["encoding"]["color"]["field"] == "series"
    assert goal["mark"]["type"] == "rule" and now["mark"]["type"] == "rule"
    assert views.burnup_frame(plan, today)["series"].tolist().count("Done") == 0


def test_diff_facts_and_catch_up_options(ml: Curriculum, plan: Plan) -> None:
    result = replan(ml, mark_done_through(plan, dt.date(2027, 2, 14)), dt.date(2027, 3, 1))
    assert isinstance(result, Replanned)
    facts = views.diff_facts(result.diff)
    assert (facts.kept, facts.moved, facts.added, facts.removed) == tuple(
        len(x) for x in (result.diff.kept, result.diff.moved, result.diff.added, result.diff.removed))
    assert facts.days == result.diff.days_later and facts.inside_range
    assert "inside the path's range" in facts.verdict

    slow = plan_ok(ml, background="ml_background", hours_per_week=_hours(*TIGHT))
    menu = replan(ml, slow, dt.date(2027, 6, 4))
    assert isinstance(menu, CatchUpMenu)
    options = views.catch_up_options(menu)
    keys = [o.key for o in options]  # dropping every optional topic is not enough here
    assert keys[0] == "hours" and keys[-1] == "late" and set(keys) <= {"hours", "cut", "late"}
    assert options[0].kwargs == {"hours_per_week": menu.hours_per_week_needed, "keep_buffer": True}
    late = replan(ml, slow, dt.date(2027, 6, 4), **options[-1].kwargs)
    assert isinstance(late, Replanned)
    facts = views.diff_facts(late.diff)
    assert not facts.inside_range and "AFTER" in facts.verdict and facts.days_text.startswith("+")
    fits = replan(ml, slow, dt.date(2027, 6, 4), **options[0].kwargs)
    assert isinstance(fits, Replanned) and fits.diff.inside_range


def test_catch_up_drop_option_label() -> None:
    menu = CatchUpMenu(100.0, dt.date(2028, 1, 3), None, None, (("a", "Graph nets", 20.0), ("b", "EBMs", 10.0)),
                       dt.date(2027, 12, 20), 10.0)
    (option,) = views.catch_up_options(menu)
    assert option.key == "drop" and option.kwargs == {"drop": ("a", "b")}
    assert option.label == "Drop optional topics Graph nets, EBMs (30 h) — finish 2027-12-20"


# ---------------------------------------------------------------- store


def test_tracked_plan_round_trip_and_clear(tmp_path: Path, ml: Curriculum, plan: Plan) -> None:
    store = Store(tmp_path / "s.db")
    profile = {"background": "ml_background", "hours_per_week": 16, "start": "2027-01-04"}
    ticked = mark_done_through(plan, dt.date(2027, 1, 31))
    store.save("Ann", profile, plan_to_dict(ticked), tracked=True)
    rec = store.load("Ann")
    assert rec is not None and rec.tracked
    restored = plan_from_dict(rec.plan, ml)
    assert [(s.uid, s.status, s.start) for s in restored.sessions] == [
        (s.uid, s.status, s.start) for s in ticked.sessions]
    store.save("Ann", profile, plan_to_dict(plan))  # a fresh plan from the form clears the flag
    assert not store.load("Ann").tracked  # type: ignore[union-attr]
    with pytest.raises(Exception, match="tracked"):
        store.save("Ann", profile, None, tracked=True)


def test_old_database_gains_the_tracked_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE learners (name TEXT PRIMARY KEY, profile TEXT NOT NULL, plan TEXT, "
                           "updated_at TEXT NOT NULL); CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);")
        conn.execute("INSERT INTO learners VALUES ('Old', '{\"background\": \"ml_background\"}', NULL, 'x')")
    conn.close()
    rec = Store(path).load("Old")
    assert rec is not None and not rec.tracked


def test_export_import_keeps_progress(tmp_path: Path, ml: Curriculum, plan: Plan) -> None:
    a = Store(tmp_path / "a.db")
    profile = {"background": "ml_background", "hours_per_week": 16, "start": "2027-01-04",
               "timezone": "Europe/Berlin"}
    a.save("Ann", profile, plan_to_dict(mark_done_through(plan, dt.date(2027, 1, 31))), tracked=True)
    data = a.export_state()
    assert json.loads(data)["learners"][0]["tracked"] is True
    b = Store(tmp_path / "b.db")
    b.import_state(data, ml)
    rec = b.load("Ann")
    assert rec is not None and rec.tracked and rec.plan == a.load("Ann").plan  # type: ignore[union-attr]
    broken = json.loads(data)
    broken["learners"][0]["plan"]["sessions"][0]["status"] = "bogus"
    with pytest.raises(Exception, match="status"):
        b.import_state(json.dumps(broken).encode(), ml)


def test_save_changes_saves_the_ticks_in_one_run_without_re_planning(fresh_state: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """"Save changes" used to save, then draw the page a second time (st.rerun): now the edits are saved in the
    button's callback, once, and nothing re-plans or computes a catch-up menu on the way."""
    from dashboard import replanning

    at = _as_of(_planned(), dt.date(2027, 1, 8))
    editor = f"progress_editor_{at.session_state['progress_version']}"
    at.session_state[editor] = {"edited_rows": {0: {"Status": "done"}, 2: {"Status": "missed", "Done h": 0.5}},
                                "added_rows": [], "deleted_rows": []}
    _ok(at.run())

    def no_replan(*args: object, **kwargs: object) -> None:
        raise AssertionError("Save changes re-planned")

    monkeypatch.setattr(replanning, "replan", no_replan)
    next(b for b in at.button if b.label == "Save changes").click().run()
    _ok(at)
    tracked, plan = _stored(fresh_state)
    rows = sorted(plan["sessions"], key=lambda s: s["start"])
    assert tracked and [s["status"] for s in rows[:3]] == ["done", "planned", "missed"]
    assert rows[2]["done_hours"] == 0.5
    assert any("Saved 2 change" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Save changes").click().run()  # nothing edited since: said so
    _ok(at)
    assert any("No changes to save." in i.value for i in at.info)
