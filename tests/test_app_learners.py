"""The Learners page and "Topics I already know" through AppTest: Create keeps a learner without a plan (listed
as "no plan yet", opened on the empty form, planned later at its own version), and the known topics offered are
the ones the background studies, their hours said on the Plan page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.curriculum import Curriculum
from planner.store import CREATED_NOTE, Store

pytestmark = pytest.mark.usefixtures("fresh_state")
APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def _page(at: AppTest, name: str) -> AppTest:
    return _ok(at.switch_page(f"dashboard/{name}_page.py").run())


def _submit(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _ok(at)


def test_create_keeps_a_learner_without_a_plan_until_the_first_plan(fresh_state: Path) -> None:
    at = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "learners")
    at.text_input(key="new_learner").set_value("Ada")
    at.button(key="create_learner").click().run()
    _ok(at)
    assert Store(fresh_state).names() == ["Ada"]  # kept at once, before any plan
    assert Store(fresh_state).without_plan() == {"Ada"}
    assert any("no plan yet" in s.value for s in at.success)
    picker = at.selectbox(key="learner_pick")
    assert picker.value == "Ada" and picker.options == ["Ada (no plan yet)"]

    again = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "plan")  # a new tab, later
    assert again.session_state["learner"] == "Ada"
    assert any("press **Make my plan**" in i.value for i in again.info)  # the form, no plan
    assert not again.metric
    _submit(again)
    assert [m.label for m in again.metric][:1] == ["Finish"]
    rec = Store(fresh_state).load("Ada")
    assert rec is not None and rec.plan is not None and rec.version == 2
    assert Store(fresh_state).without_plan() == set()
    notes = [v.note for v in Store(fresh_state).versions("Ada")]
    assert notes[-1] == CREATED_NOTE
    assert again.selectbox(key="learner_pick").options == ["Ada"]


def test_known_topics_offer_only_what_the_background_studies_and_say_what_they_saved(ml: Curriculum) -> None:
    at = _page(_ok(AppTest.from_file(APP, default_timeout=90).run()), "plan")
    at.selectbox(key="f_background").set_value("ml_background")
    at.number_input(key="f_hours_per_week").set_value(18)
    _submit(at)
    offered = at.multiselect(key="f_skip").options
    skipped_by_background = [t for t in ml.topics if t.hours_for("ml_background") == 0]
    assert skipped_by_background
    labels = " | ".join(offered)
    assert not [t for t in skipped_by_background if f"P{t.phase} · {t.title}" in labels]
    assert not any("Left out because you already know them" in c.value for c in at.caption)

    known = next(t for t in ml.topics if t.elective is None and t.hours_for("ml_background") > 0)
    at.multiselect(key="f_skip").set_value([known.id])
    _submit(at)
    note = next(c.value for c in at.caption if "Left out because you already know them" in c.value)
    assert f"1 topic, {known.hours_for('ml_background'):g} h of study" in note
    assert known.title.replace("&", "") in note.replace("\\", "").replace("&", "")
