"""Today through AppTest (issue 22 items 1 and 5): overdue sessions first with one tap each and "I did everything
up to today", buttons that name their session, each save said once beside the list, a click drawn for another
version of the plan not applied but said, and the As of date typed just before "regenerate" used by that click."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.state import LOST_CLICK
from planner import views
from planner.curriculum import default_content_path, load_curriculum
from planner.export import plan_to_dict
from planner.export.json import plan_from_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import make_plan
from planner.store import Store
from planner.views.today import short_name

pytestmark = pytest.mark.usefixtures("fresh_state", "clock")
APP = str(Path(__file__).resolve().parent.parent / "app.py")
START = dt.date(2027, 1, 4)
TODAY = START + dt.timedelta(days=9)  # the learner's clock: Wednesday of the second week, nothing ticked yet
PROFILE = {"background": "ml_background", "hours_per_week": 20.0, "start": START.isoformat()}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "today_in", lambda plan, now=None: TODAY)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _plan() -> Plan:
    ml = load_curriculum(default_content_path())
    plan = make_plan(ml, profile_from_mapping(PROFILE, ml))
    assert isinstance(plan, Plan)
    return plan


def _today(db: Path, plan: Plan) -> AppTest:
    Store(db).save("Me", PROFILE, plan_to_dict(plan), tracked=True, note="test")
    at = _ok(AppTest.from_file(APP, default_timeout=60).run())
    return _ok(at.switch_page("dashboard/today_page.py").run())


def _stored(db: Path) -> Plan:
    rec = Store(db).load("Me")
    assert rec is not None and rec.plan is not None
    return plan_from_dict(rec.plan, load_curriculum(default_content_path()))


def _successes(at: AppTest) -> list[str]:
    """The success messages as the learner reads them (markdown escapes taken out)."""
    return [re.sub(r"\\(.)", r"\1", s.value) for s in at.success]


def test_overdue_first_one_tap_each_then_everything_up_to_today(fresh_state: Path) -> None:
    plan = _plan()
    overdue = [s for s in plan.active_sessions if s.day < TODAY]
    at = _today(fresh_state, plan)
    assert at.header[0].value == f"Overdue: {len(overdue)}"
    assert any(m.value.startswith("**Overdue:**") for m in at.markdown)  # a word, not colour alone
    assert [h.value for h in at.header].index("Figures") > [h.value for h in at.header].index("Sessions today")

    latest = overdue[-1]
    missed = next(b for b in at.button if b.key and b.key.endswith(f"_missed_{latest.uid}") and
                  b.key.startswith("o_"))
    missed.click().run()
    _ok(at)
    assert {s.uid: s.status for s in _stored(fresh_state).sessions}[latest.uid] == "missed"
    assert _successes(at) == [f"Saved — missed: {views.check_in_note(plan, latest.uid, '')[2:]}."]

    at.button(key=next(b.key for b in at.button if b.label == "I did everything up to today")).click().run()
    _ok(at)
    stored = {s.uid: s.status for s in _stored(fresh_state).sessions}
    assert stored[latest.uid] == "missed"  # what was said about a session stays
    assert all(stored[s.uid] == "done" for s in overdue if s.uid != latest.uid)
    assert all(stored[s.uid] == "planned" for s in plan.active_sessions if s.day >= TODAY)
    assert _successes(at) == [f"Saved — {len(overdue) - 1} overdue sessions done."]
    assert not any(h.value.startswith("Overdue:") for h in at.header)

    _ok(at.switch_page("dashboard/progress_page.py").run())
    assert not any("Saved —" in s for s in _successes(at))  # said once, where it was taken


def test_buttons_name_their_session(fresh_state: Path) -> None:
    plan = _plan()
    at = _today(fresh_state, plan)
    todays = [s for s in plan.active_sessions if s.day == TODAY and s.kind == "study"]
    assert todays
    labels = {b.label for b in at.button}
    for s in todays:
        name = short_name(plan, s)
        assert f"Missed: {name}" in labels
        assert f"Done: {name}" in labels or f"Finished: {name}" in labels
    assert {p.proto.popover.label for p in at.get("popover")} >= {f"Partial: {short_name(plan, s)}" for s in todays}


def test_a_click_drawn_for_another_version_is_not_applied_and_said(fresh_state: Path) -> None:
    plan = _plan()
    at = _today(fresh_state, plan)
    s = next(x for x in plan.active_sessions if x.day == TODAY and views.check_in_kind(plan, x) == "session")
    button = next(b for b in at.button if b.key and b.key.endswith(f"_done_{s.uid}") and b.key.startswith("t_"))
    assert button.key.startswith("t_v1_")  # drawn for version 1
    Store(fresh_state).save("Me", PROFILE, plan_to_dict(plan), tracked=True, expected_version=1, note="elsewhere")
    at.session_state["version"] = 2  # this session now holds version 2: the page was drawn for version 1
    button.click().run()
    _ok(at)
    assert any(w.value == LOST_CLICK for w in at.warning)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.version == 2
    assert {x.uid: x.status for x in _stored(fresh_state).sessions}[s.uid] == "planned"
    at.run()
    assert not any(w.value == LOST_CLICK for w in at.warning)  # said once


def test_as_of_typed_then_regenerate_uses_that_date_on_the_first_click(fresh_state: Path) -> None:
    plan = _plan()
    at = _today(fresh_state, plan)
    _ok(at.switch_page("dashboard/progress_page.py").run())
    day = START + dt.timedelta(days=30)
    at.date_input(key="as_of").set_value(day)
    at.button(key="regenerate").click().run()  # the date and the click reach the server in one run
    _ok(at)
    assert at.session_state["proposal_today"] == day
    assert at.session_state["proposal"] is not None
    assert Store(fresh_state).load("Me").version == 1  # type: ignore[union-attr]  # nothing saved before Accept
