"""Words a learner reads (issue 22, item 4): errors in the form's words where the learner looks, no internal names
on any page, one word per state, honest upload limits and the README's date range."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner import views

pytestmark = pytest.mark.usefixtures("fresh_state")
APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ("today", "plan", "progress", "calendar", "learners")
# What a learner must never read: session ids, iCalendar and format ids, exception and engine field names, None.
INTERNAL = re.compile(r"\b[0-9a-f]{8}\b|SEQUENCE|CANCELLED|planner\.state/|planner\.plan/|\w+Error\b|"
                      r"hours_per_week|day_hours|session_start|DAYS=HH|\bNone\b|\bnan\b|\bNaT\b")


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click()
    _run(at)


def _texts(at: AppTest) -> list[str]:
    """Every text the page shows: titles, markdown, captions, alerts, metrics, buttons and their tooltips, tables."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "exception"):
        out += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        out += [m.label, str(m.value), m.proto.help or ""]
    for b in at.button:
        out += [b.label, b.help or ""]
    for d in at.dataframe:
        frame = d.value
        out += [str(c) for c in frame.columns]
        out += [str(v) for v in frame.astype(object).to_numpy().ravel() if v is not None and v == v]
        out += ["None" for v in frame.astype(object).to_numpy().ravel() if v is not None and str(v) == "None"]
    return out


def test_an_invalid_field_makes_make_my_plan_say_so_in_the_forms_words() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=60))
    at.text_input(key="f_day_hours").set_value("mon=abc")
    _button(at, "Make my plan")
    errors = [e.value for e in at.error]
    # at the top of the page, where the plan would have been, and under the field itself
    assert any(e.startswith("Check your input") and "Hours per weekday" in e and "Monday" in e for e in errors)
    assert sum("Hours per weekday" in e for e in errors) == 2
    assert not any("day_hours" in e for e in errors)
    at.text_input(key="f_day_hours").set_value("")  # fixed: the error goes, the plan comes
    _button(at, "Make my plan")
    assert not at.error and at.metric


def test_hours_out_of_range_are_named_not_silently_replaced() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=60))
    at.number_input(key="f_hours_per_week").set_value(150.0)
    _button(at, "Make my plan")
    assert any(e.value.startswith("Check your input") and "Hours per week" in e.value and "at most 100" in e.value
               for e in at.error)
    assert not at.metric  # no plan from the old value


def test_engine_messages_are_in_the_learners_words() -> None:
    cases = {
        ("import", "expected format 'planner.state/1', found 'None'"): "not a backup the planner exported",
        ("import", "not a JSON file (UnicodeDecodeError: 'utf-8' codec can't decode)"): "not a backup file",
        ("windows.0", "'mon 8-9' is not DAYS=HH:MM-HH:MM (e.g. mon-fri=18:30-22:00)"): "mon-fri 18:30-22:00",
        ("days", "13 h/week do not fit hours_per_week 20; lower hours_per_week"): "Hours per week",
        ("learners[0].profile.background", "unknown background"): "Backup file (learner 1, Background)",
    }
    for (field, message), words in cases.items():
        text = views.field_error(field, message).text
        assert words in text, text
        assert not INTERNAL.search(text), text
    assert views.history_note("done 921878ec") == "done: a session"  # notes saved before they named the session


def test_no_page_shows_internal_names_and_partial_is_one_word() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=60))
    _button(at, "Make my plan")
    at.switch_page("dashboard/today_page.py")
    _run(at)
    next(b for b in at.button if b.label.startswith("Done: ")).click()  # one session done
    _run(at)
    partial = next(b for b in at.button if b.key and "_partial_" in b.key)  # one studied in part
    partial.click()
    _run(at)
    today = _texts(at)
    assert any("partly done" in t for t in today)
    assert not any(re.search(r"\bpartial\b", t) for t in today if "Partial" not in t)
    for name in PAGES:
        at.switch_page(f"dashboard/{name}_page.py")
        _run(at)
        shown = [t for t in _texts(at) if INTERNAL.search(t)]
        assert not shown, (name, shown)
        if name == "plan":  # the session table (built while its section is open) says it the same way
            at.session_state["plan_sessions_open"] = True
            _run(at)
            table = next(d.value for d in at.dataframe if "Status" in d.value.columns)
            assert "partly done" in set(table["Status"]) and "missed" not in set(table["Status"])
    history = next(d.value for d in at.dataframe if "What" in d.value.columns)
    assert any(str(w).startswith("done: ") for w in history["What"])  # the session by its topic and time
    assert any(str(w).startswith("partly done: ") for w in history["What"])


def test_date_pickers_offer_the_readmes_range_and_uploaders_their_real_limits() -> None:
    at = _run(AppTest.from_file(APP, default_timeout=60))
    start = at.date_input(key="f_start").proto
    assert (start.min, start.max) == ("2000-01-01", "2110-12-31")
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == 20  # the busy calendar, on Plan
    at.switch_page("dashboard/learners_page.py")
    _run(at)
    assert at.file_uploader(key="import_file").proto.max_upload_size_mb == 64
