"""Advice that works: every choice the catch-up menu and the does-not-fit answer offer was planned before it is
offered, speaks of windows and busy calendars in numbers, and a plan whose calendar moved or went away can be
fixed from the command line (--busy-drop, --busy-replace)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from planner import views
from planner.busy import with_busy
from planner.cli import main
from planner.curriculum import load_curriculum
from planner.errors import InputError
from planner.export.json import load_plan, plan_to_dict
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.replan import CalendarUnreadable, CatchUpMenu, Replanned, price_of, replan
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan
from tests.conftest import ML_PATH, SQL_PATH, plan_ok, plan_result

BERLIN = ZoneInfo("Europe/Berlin")
EVENINGS = ["mon-sun=18:00-22:00"]


def _calendar(path: Path, first: str, start: str, end: str, rule: str = "FREQ=DAILY") -> Path:
    """A calendar with one recurring evening commitment (Berlin wall-clock times)."""
    path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//advice//EN\r\nBEGIN:VEVENT\r\n"
                    f"UID:commitment-{first}-{start}@test\r\nDTSTAMP:20270101T000000Z\r\n"
                    f"DTSTART;TZID=Europe/Berlin:{first}T{start}00\r\nDTEND;TZID=Europe/Berlin:{first}T{end}00\r\n"
                    f"RRULE:{rule}\r\nSUMMARY:Commitment\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    return path


def _planned_after(plan: Plan, today: dt.date) -> list:
    return [s for s in plan.sessions if s.status == "planned" and s.day >= today]


def _replanned(curriculum, plan, today, **kwargs) -> Replanned:
    result = replan(curriculum, plan, today, **kwargs)
    assert isinstance(result, Replanned), result.message()
    problems = [p for p in validate_plan(result.plan)
                if not (kwargs.get("allow_late") and p.rule == "month-range")]
    assert problems == [], [str(p) for p in problems]
    return result


# ---------------------------------------------------------------- the catch-up menu


def _evenings_taken(sql, tmp_path, until: str) -> tuple[Plan, dt.date, CatchUpMenu]:
    """A plan in evening windows, then from March a daily commitment from 18:00 to `until`: the catch-up menu."""
    busy = _calendar(tmp_path / "evenings.ics", "20270301", "1800", until)
    plan = plan_ok(sql, background="beginner", hours_per_week=10, timezone="Europe/Berlin", windows=EVENINGS,
                   busy=[str(busy)])
    today = dt.date(2027, 3, 1)
    menu = replan(sql, plan, today)
    assert isinstance(menu, CatchUpMenu)
    return plan, today, menu


def test_windows_and_a_daily_commitment_every_offered_choice_plans(sql, tmp_path):
    """Windows 18-22 and a new daily 18-21 commitment: 1 h a day is free, too short for the 45-minute rule to
    end a topic of an odd number of half hours. The menu used to offer only a late finish that then failed."""
    plan, today, menu = _evenings_taken(sql, tmp_path, "2100")
    text = menu.message()
    assert "Your calendar leaves 7 h a week free in your windows (they hold 28 h a week)" in text
    assert "no day more than 1 h" in text and "45-minute rule" in text
    options = views.catch_up_options(menu)
    assert options, text
    for option in options:  # every choice, as the dashboard's buttons and the command's flags run it
        result = _replanned(sql, plan, today, **option.kwargs)
        if "busy_drop" in option.kwargs:
            assert result.plan.profile.busy_sources == ()
            assert result.diff.new_finish == menu.busy_drop_finish
    assert "--busy-drop" in text
    # No late finish is offered: none obeys the rules while the calendar holds the evenings.
    assert menu.late_finish is None and "--allow-late" not in text
    with pytest.raises(InputError, match=r"however late\. Instead: Plan without your busy calendar"):
        replan(sql, plan, today, allow_late=True)


def test_a_calendar_that_blocks_every_window_is_named_not_more_hours(sql, tmp_path):
    plan, today, menu = _evenings_taken(sql, tmp_path, "2200")
    assert menu.hours_per_week_needed is None and menu.late_finish is None
    assert "Your calendar leaves 0 h a week free in your windows" in menu.message()
    assert "Study" not in menu.message()
    assert [o.key for o in views.catch_up_options(menu)] == ["busy"]
    _replanned(sql, plan, today, busy_drop=plan.profile.busy_sources)


def test_nothing_fits_says_why_and_what_would(sql, tmp_path):
    """With the calendar dropped still nothing fits (only Saturday mornings in the windows are free, too few
    study days for the topics): the menu says so and names the calendar and the windows."""
    busy = _calendar(tmp_path / "evenings.ics", "20270301", "1800", "2200")
    plan = plan_ok(sql, background="beginner", hours_per_week=10, timezone="Europe/Berlin", windows=EVENINGS,
                   busy=[str(busy)])
    menu = replan(sql, plan, dt.date(2027, 4, 28))  # five days before the range's end, nothing done
    assert isinstance(menu, CatchUpMenu)
    assert views.catch_up_options(menu) == []
    message = menu.message()
    assert "None of the usual choices fits" in message and "--busy-replace" in message
    assert "wider windows" in message
    assert "Choose one" not in message


def test_more_weekly_hours_with_windows_speaks_of_the_windows(sql, tmp_path, capsys):
    plan_file = tmp_path / "plan.json"
    assert main(["plan", "--content", str(SQL_PATH), "--background", "beginner",
                 "--hours-per-week", "10", "--start", "2027-01-04", "--window", "mon-sun=18:00-22:00",
                 "--json", str(plan_file)]) == 0
    capsys.readouterr()
    code = main(["replan", str(plan_file), "--content", str(SQL_PATH), "--today", "2027-02-01",
                 "--hours-per-week", "40"])
    err = capsys.readouterr().err
    assert code == 2 and "your study windows hold at most 28 h a week" in err and "midnight" not in err


# ---------------------------------------------------------------- the does-not-fit answer


def test_half_an_hour_a_week_gets_a_figure_that_plans(ml):
    """0.5 h/week is one block on one day: the old answer said no weekly hours up to 100 fit."""
    raw = {"background": "ml_background", "hours_per_week": 0.5, "start": "2027-01-04"}
    result = make_plan(ml, with_busy(profile_from_mapping(raw, ml), ml))
    assert isinstance(result, Infeasible)
    message = result.message()
    assert "No weekly hours up to" not in message
    figure = result.min_hours_every_day
    assert figure is not None and f"study at least {figure:g} h/week spread over every day" in message
    plan_ok(ml, **{**raw, "hours_per_week": figure})
    # the dashboard's remedy is the same figure, with the days it needs, and it plans
    tried: list[dict] = []

    def fits(new: dict) -> bool:
        tried.append(new)
        return isinstance(make_plan(ml, with_busy(profile_from_mapping(new, ml), ml)), Plan)

    remedies = views.remedies(result, raw, ml, fits)
    hours = [r for r in remedies if r.key == "hours"]
    assert hours and hours[0].raw["hours_per_week"] == figure and len(hours[0].raw["days"]) == 7
    assert fits(hours[0].raw)


def test_does_not_fit_with_one_free_hour_a_day_names_the_calendar_not_more_hours(sql, tmp_path):
    """7 h a week free but 1 h a day: the old answer said the path needs 3 h/week, which the learner has."""
    busy = _calendar(tmp_path / "evenings.ics", "20270101", "1800", "2100")
    raw = {"background": "beginner", "hours_per_week": 7, "start": "2027-01-04", "timezone": "Europe/Berlin",
           "windows": EVENINGS, "busy": [str(busy)]}
    result = make_plan(sql, with_busy(profile_from_mapping(raw, sql), sql))
    assert isinstance(result, Infeasible)
    message = result.message()
    assert "Your calendar leaves 7 h a week free in your windows (they hold 28 h" in message
    assert "no day more than 1 h: too short for the 45-minute rule" in message and "widen a window" in message
    assert "Study at least" not in message and "needs" not in message
    # the dashboard's remedies: only what plans; here, the plan without the calendar

    def fits(new: dict) -> bool:
        return isinstance(make_plan(sql, with_busy(profile_from_mapping(new, sql), sql)), Plan)

    remedies = views.remedies(result, raw, sql, fits)
    assert [r.key for r in remedies] == ["busy"] and "busy" not in remedies[0].raw and fits(remedies[0].raw)


# ---------------------------------------------------------------- calendars the learner can fix


def _plan_with_calendar(tmp_path: Path, calendar: Path) -> Path:
    plan_file = tmp_path / "plan.json"
    assert main(["plan", "--content", str(SQL_PATH), "--background", "beginner",
                 "--hours-per-week", "8", "--start", "2027-01-04", "--timezone", "Europe/Berlin",
                 "--window", "mon-fri=18:00-22:00", "--window", "sat=09:00-13:00", "--busy", str(calendar),
                 "--json", str(plan_file)]) == 0
    return plan_file


def test_moved_calendar_replan_names_the_flags_then_replace_plans_around_the_new_one(tmp_path, capsys,
                                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    work = _calendar(tmp_path / "work.ics", "20270104", "1800", "2200", "FREQ=WEEKLY;BYDAY=MO")
    plan_file = _plan_with_calendar(tmp_path, work)
    capsys.readouterr()
    (tmp_path / "moved").mkdir()
    shutil.move(work, tmp_path / "moved" / "work.ics")  # the learner tidied their files
    content = ["--content", str(SQL_PATH)]
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"file not found: {work}" in err
    assert f"--busy-drop {work}" in err and f"--busy-replace {work}=NEW" in err
    # The new place holds a different calendar: Tuesday and Thursday evenings are taken now.
    new = _calendar(tmp_path / "moved" / "work.ics", "20270104", "1800", "2200", "FREQ=WEEKLY;BYDAY=TU,TH")
    out = tmp_path / "replanned.json"
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01",
                 "--busy-replace", "work.ics=moved/work.ics", "--json", str(out)])  # as typed, relative
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["profile"]["busy"]["sources"] == [str(new)]
    replanned = load_plan(str(out), load_curriculum(SQL_PATH))
    future = _planned_after(replanned, dt.date(2027, 2, 1))
    assert future and not [s for s in future if s.day.weekday() in (1, 3)]  # the new calendar's evenings
    assert [s for s in future if s.day.weekday() == 0]  # Mondays are free again


def test_busy_drop_matches_any_spelling_and_an_unknown_one_lists_the_sources(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    work = _calendar(tmp_path / "work.ics", "20270104", "1800", "2200", "FREQ=WEEKLY;BYDAY=MO")
    plan_file = _plan_with_calendar(tmp_path, work)
    data = json.loads(plan_file.read_text())
    secret = "https://ada:s3cret@127.0.0.1:9/team.ics"  # nothing listens on port 9: refused at once
    data["profile"]["busy"]["sources"].append(secret)
    plan_file.write_text(json.dumps(data))
    capsys.readouterr()
    content = ["--content", str(SQL_PATH)]
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01"])
    err = capsys.readouterr().err
    assert code == 2 and "s3cret" not in err and "--busy-drop https://ada:***@127.0.0.1:9/team.ics" in err
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01", "--busy-drop", "home.ics"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "s3cret" not in err
    assert f"--busy-drop: 'home.ics' is not a busy calendar of this plan; its calendars: {work}, " \
           f"https://ada:***@127.0.0.1:9/team.ics" in err
    out = tmp_path / "replanned.json"
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01", "--busy-drop",
                 "WEBCAL://ada@127.0.0.1:9/team.ics", "--json", str(out)])  # another spelling, no password
    assert code == 0, capsys.readouterr().err
    assert json.loads(out.read_text())["profile"]["busy"]["sources"] == [str(work)]
    code = main(["replan", str(plan_file), *content, "--today", "2027-02-01", "--busy-replace", "nothing-here"])
    assert code == 2 and "expected OLD=NEW" in capsys.readouterr().err


def test_engine_unreadable_calendar_is_a_calendar_error_the_dashboard_can_offer_to_fix(sql, tmp_path):
    work = _calendar(tmp_path / "work.ics", "20270104", "1800", "2200", "FREQ=WEEKLY;BYDAY=MO")
    plan = plan_ok(sql, background="beginner", hours_per_week=8, timezone="Europe/Berlin",
                   windows=["mon-fri=18:00-22:00", "sat=09:00-13:00"], busy=[str(work)])
    work.unlink()
    with pytest.raises(CalendarUnreadable) as caught:
        replan(sql, plan, dt.date(2027, 2, 1))
    assert caught.value.busy_source == str(work) and "file not found" in caught.value.reason
    dropped = _replanned(sql, plan, dt.date(2027, 2, 1), busy_drop=(str(work),))
    assert dropped.plan.profile.busy_sources == () and dropped.plan.profile.windows == plan.profile.windows


# ---------------------------------------------------------------- re-planning with changed fields


def test_replan_carries_changed_windows_and_calendars_and_names_what_needs_a_new_plan(sql, tmp_path):
    plan = plan_ok(sql, background="beginner", hours_per_week=8, timezone="Europe/Berlin",
                   windows=["mon-fri=18:00-22:00", "sat=09:00-13:00"])
    today = dt.date(2027, 2, 1)
    busy = _calendar(tmp_path / "tuesdays.ics", "20270104", "1700", "2300", "FREQ=WEEKLY;BYDAY=TU")
    changed = profile_from_mapping({"background": "beginner", "hours_per_week": 8, "start": "2027-01-04",
                                    "timezone": "Europe/Berlin", "holidays": "DE",
                                    "windows": ["mon-fri=07:00-09:00", "sat=09:00-13:00"], "busy": [str(busy)]},
                                   sql)
    result = _replanned(sql, plan, today, profile=changed)
    new = result.plan.profile
    assert new.windows == changed.windows and new.busy_sources == (str(busy),) and new.holiday_country == "DE"
    future = _planned_after(result.plan, today)
    assert future and all(s.start.astimezone(BERLIN).hour < 9 or s.day.weekday() == 5 for s in future)
    assert not [s for s in future if s.day.weekday() == 1 and s.start.astimezone(BERLIN).hour >= 17]
    other = profile_from_mapping({"background": "developer", "hours_per_week": 8, "start": "2027-01-04",
                                  "timezone": "Europe/Berlin"}, sql)
    with pytest.raises(InputError, match="needs a new plan") as caught:
        replan(sql, plan, today, profile=other)
    assert caught.value.field == "background"


# ---------------------------------------------------------------- the dashboard (AppTest)

APP = str(Path(__file__).resolve().parent.parent / "app.py")
START = dt.date(2027, 1, 4)
WINDOW_ROWS = [("mon-fri", "18:30-22:00"), ("sat", "09:00-12:00"), ("sat", "14:00-17:00")]
WINDOW_SPANS = {d: [("18:30", "22:00")] for d in range(5)} | {5: [("09:00", "12:00"), ("14:00", "17:00")], 6: []}


def _ok(at):
    assert not at.exception, at.exception
    return at


def _plan_page():
    from streamlit.testing.v1 import AppTest

    at = _ok(AppTest.from_file(APP, default_timeout=120).run())
    return _ok(at.switch_page("dashboard/plan_page.py").run())


def _page(at, name: str):
    return _ok(at.switch_page(f"dashboard/{name}_page.py").run())


def _submit(at):
    next(b for b in at.button if b.label == "Make my plan").click().run()
    return _ok(at)


def _add_windows(at, rows) -> None:
    at.session_state[f"f_windows_{at.session_state['blackout_version']}"] = {
        "edited_rows": {}, "deleted_rows": [], "added_rows": [{"Days": d, "Time": t} for d, t in rows]}


def _texts(at) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info")
            for e in getattr(at, kind)]


def _tue_thu_evenings() -> bytes:
    """Tuesday and Thursday evenings taken, in the learner's own zone (floating times)."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//advice//EN\r\nBEGIN:VEVENT\r\nUID:course@test\r\n"
            "DTSTAMP:20270101T000000Z\r\nDTSTART:20270104T180000\r\nDTEND:20270104T230000\r\n"
            "RRULE:FREQ=WEEKLY;BYDAY=TU,TH\r\nSUMMARY:Course\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode("ascii")


def _first_plan(windows: bool = False, upload: bytes | None = None):
    at = _plan_page()
    at.date_input(key="f_start").set_value(START)
    at.selectbox(key="f_timezone").set_value("Europe/Berlin")
    at.number_input(key="f_hours_per_week").set_value(18)
    if windows:
        _add_windows(at, WINDOW_ROWS)
    at = _submit(at)
    if upload is not None:
        at.file_uploader[0].set_value(("course.ics", upload, "text/calendar")).run()
        at = _submit(_ok(at))
    assert not at.error, [e.value for e in at.error]
    return at


def _tick_one(at):
    at = _page(at, "today")
    next(b for b in at.button if b.label.startswith("Done: ")).click().run()
    return _page(_ok(at), "plan")


def test_dashboard_replan_keeping_progress_carries_windows_and_a_new_busy_calendar(fresh_state, ml, tmp_path):
    from planner.store import Store

    at = _tick_one(_first_plan())
    _add_windows(at, WINDOW_ROWS)  # the learner's evenings and Saturdays, and a course on Tue/Thu evenings
    at = _submit(at)
    at.file_uploader[0].set_value(("course.ics", _tue_thu_evenings(), "text/calendar")).run()
    at = _submit(_ok(at))
    assert any("holds progress" in w.value for w in at.warning)
    at.button(key="confirm_replan").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    at.button(key="plan_accept").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.tracked and rec.profile["windows"]["sat"] == ["09:00-12:00", "14:00-17:00"]
    kept = list((fresh_state.parent / "busy").glob("Me-*.ics"))
    assert rec.profile["busy"] == [str(kept[0])]
    from planner.export.json import plan_from_dict

    plan = plan_from_dict(rec.plan, ml)
    assert sum(s.status == "done" for s in plan.sessions) == 1
    planned = [s for s in plan.sessions if s.status == "planned"]
    assert planned
    for s in planned:  # every future session in the new windows, none on the course's evenings
        a, b = s.start.astimezone(BERLIN), s.end.astimezone(BERLIN)
        assert any(x <= a.strftime("%H:%M") and b.strftime("%H:%M") <= y for x, y in WINDOW_SPANS[a.weekday()]), s
        assert a.weekday() not in (1, 3), s
    assert plan.profile.busy_sources == (str(kept[0]),) and plan.profile.windows is not None


def test_dashboard_replan_keeping_progress_names_a_change_that_needs_a_new_plan(fresh_state):
    at = _tick_one(_first_plan())
    box = at.selectbox(key="f_background")
    box.set_value(next(o for o in box.options if o != box.value))
    at = _submit(at)
    at.button(key="confirm_replan").click().run()
    _ok(at)
    errors = [e.value for e in at.error]
    assert any("Background" in e and "needs a new plan" in e for e in errors), errors


def test_dashboard_calendar_gone_offers_to_drop_it_or_upload_it_again(fresh_state, tmp_path):
    from planner.store import Store

    at = _first_plan(windows=True, upload=_tue_thu_evenings())
    for kept in (fresh_state.parent / "busy").glob("Me-*.ics"):
        kept.unlink()  # the file went away
    at = _page(at, "progress")
    at.date_input(key="as_of").set_value(dt.date(2027, 2, 1)).run()
    at.button(key="regenerate").click().run()
    _ok(at)
    errors = [e.value for e in at.error]
    assert any("course.ics" in e and "file not found" in e for e in errors), errors
    drop = next(b for b in at.button if b.key == "progress_busy_drop")
    drop.click().run()
    _ok(at)
    proposal = at.session_state["proposal"]
    assert isinstance(proposal, Replanned) and proposal.plan.profile.busy_sources == ()
    next(b for b in at.button if b.key == "progress_discard").click().run()
    at.button(key="regenerate").click().run()
    _ok(at)
    uploader = next(u for u in at.file_uploader if u.key == "progress_busy_replace_0")
    uploader.set_value(("course-new.ics", _tue_thu_evenings(), "text/calendar")).run()
    _ok(at)
    assert isinstance(at.session_state["proposal"], Replanned), [e.value for e in at.error]
    at.button(key="progress_accept").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    kept = list((fresh_state.parent / "busy").glob("Me-*.ics"))
    assert rec is not None and rec.tracked and rec.profile["busy"] == [str(kept[0])]


def test_a_drop_is_offered_where_capacity_is_enough_but_the_focus_rules_are_not(ml, tmp_path):
    """A new daily 18-20 commitment: capacity by the range's end covers the work, the 45-minute rule does not.
    Dropping one optional topic is a way out; the menu used to look for topics only past a capacity deficit."""
    busy = tmp_path / "evenings.ics"
    busy.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//advice//EN\r\nEND:VCALENDAR\r\n")
    plan = plan_ok(ml, background="ml_background", hours_per_week=24, timezone="Europe/Berlin", windows=EVENINGS,
                   busy=[str(busy)])
    _calendar(busy, "20270301", "1800", "2000")  # the learner's calendar changed
    today = dt.date(2027, 3, 1)
    menu = replan(ml, plan, today)
    assert isinstance(menu, CatchUpMenu)
    assert menu.drop and menu.drop_finish is not None and menu.drop_finish <= menu.latest_allowed
    assert "Your calendar leaves 14 h a week free in your windows" in menu.message()
    for option in views.catch_up_options(menu):
        result = _replanned(ml, plan, today, **option.kwargs)
        if option.key == "drop":
            assert result.diff.new_finish == menu.drop_finish and result.diff.inside_range


# ---------------------------------------------------------------- the price of each choice


def _weeks_from(plan: Plan, today: dt.date) -> dict[tuple[int, int], int]:
    monday = today - dt.timedelta(days=today.weekday())
    weeks: dict[tuple[int, int], int] = {}
    for s in plan.sessions:
        if s.status in ("planned", "done") and s.day >= monday:
            key = s.day.isocalendar()[:2]
            weeks[key] = weeks.get(key, 0) + s.blocks
    return weeks


def _reviews_from(plan: Plan, today: dt.date) -> int:
    return sum(1 for s in plan.sessions if s.kind == "review" and s.status == "planned" and s.day >= today)


def test_a_choice_that_cuts_reviews_says_so_before_it_is_picked_and_more_hours_keep_them(sql):
    """Seven weeks behind at 4 h/week: 'Study N h/week' used to fill every week to the cap and cancel the
    reviews while saying only the finish. Now the hours choice keeps the reviews and the free buffer (counted
    in the plan it proposes), and cutting reviews is a choice of its own that says how many go before it is
    picked; picking either gives exactly the plan its words describe."""
    plan = plan_ok(sql, background="beginner", hours_per_week=4)
    today = plan.profile.start + dt.timedelta(days=49)
    menu = replan(sql, plan, today)
    assert isinstance(menu, CatchUpMenu)
    options = {o.key: o for o in views.catch_up_options(menu)}
    assert {"hours", "cut", "late"} <= set(options)

    hours = options["hours"]  # before it is picked: what it keeps, in words
    assert hours.kwargs == {"hours_per_week": menu.hours_per_week_needed, "keep_buffer": True}
    assert "Keeps your reviews" in hours.price and "the free 10 % of each week" in hours.price
    assert not hours.gives_up
    picked = _replanned(sql, plan, today, **hours.kwargs)
    assert picked.plan.sessions == hours.result.plan.sessions  # the menu's plan is the plan replan() makes
    before, after = _reviews_from(plan, today), _reviews_from(picked.plan, today)
    assert before > 0 and after >= before  # reviews kept (the missed ones placed again)
    chosen = menu.choice("hours")
    assert chosen is not None and (before, after) == (chosen.price.reviews_before, chosen.price.reviews_after)
    limit = picked.plan.profile.study_week_blocks  # the buffer stays free in every week from today on
    assert all(blocks <= limit for blocks in _weeks_from(picked.plan, today).values())

    cut = options["cut"]  # the choice that cuts reviews says so, with the count, before it is picked
    price = menu.choice("cut").price
    assert cut.gives_up and price.cuts_reviews
    assert f"cut reviews to {price.reviews_after} (of {price.reviews_before})" in cut.label
    assert f"cuts reviews: {price.reviews_before} → {price.reviews_after} spaced reviews" in cut.price
    assert "--cut-reviews" in menu.message() and "Gives up: cuts reviews" in menu.message()
    cutting = _replanned(sql, plan, today, **cut.kwargs)
    assert _reviews_from(cutting.plan, today) == price.reviews_after < before
    assert cutting.plan.profile.hours_per_week == plan.profile.hours_per_week

    late = menu.choice("late")
    assert late is not None and late.price.reviews_after >= before  # a later finish keeps the reviews too
    assert f"finishes {(late.price.new_finish - menu.latest_allowed).days} days after" in options["late"].price


def test_the_price_of_a_plain_replan_names_the_buffer_it_fills(ml, tmp_path, capsys):
    """A re-plan that catches up in the free share of the week says so (weeks filled), and keeps the reviews
    ('Keeps your reviews'): the command prints the price after the diff."""
    plan = plan_ok(ml, background="ml_background", hours_per_week=16)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_to_dict(plan)))
    assert main(["replan", str(path), "--today", "2027-03-01", "--json", str(tmp_path / "new.json")]) == 0
    out = capsys.readouterr().out
    assert "Keeps your reviews" in out
    new = load_plan(tmp_path / "new.json", load_curriculum(ML_PATH))
    result = replan(ml, plan, dt.date(2027, 3, 1))
    assert isinstance(result, Replanned)
    price = price_of(plan, result.plan, dt.date(2027, 3, 1))
    assert not price.cuts_reviews and price.reviews_after >= price.reviews_before - 2
    assert (f"in {price.buffer_weeks} of" in out) == bool(price.buffer_weeks)
    assert len(new.sessions) == len(result.plan.sessions)


# ---------------------------------------------------------------- a newcomer can finish later


def test_a_newcomer_can_keep_the_hours_and_finish_later_as_labelled(sql):
    """A profile that does not fit used to be offered only more hours (or fewer topics): now also a later
    finish, keeping the hours, topics, reviews and buffer. The plan it gives finishes after the path's range
    and by the date its label names."""
    raw = {"background": "beginner", "hours_per_week": 2.5, "start": "2027-01-04"}
    result = plan_result(sql, **raw)
    assert isinstance(result, Infeasible)

    def fits(fields: dict) -> bool:
        made = plan_result(sql, **fields)
        return isinstance(made, Plan) and not validate_plan(made)

    later = {r.key: r for r in views.remedies(result, raw, sql, fits)}["later"]
    by = dt.date.fromisoformat(later.label.split("by ")[1].split(" ")[0])
    months = later.raw["finish_months"]
    assert later.label == f"Finish later: by {by} ({months} months)"
    assert later.raw == {**raw, "finish_months": months} and months > result.months_max
    assert f"Keeps your {raw['hours_per_week']:g} h/week" in later.detail
    assert f"({result.months_min}–{result.months_max} months, by {result.latest_finish})" in later.detail
    plan = plan_ok(sql, **later.raw)
    assert result.latest_finish < plan.finish <= by
    assert plan.latest_allowed_finish == by
    assert plan.profile.hours_per_week == 2.5 and plan.profile.buffer_percent == 10
    assert plan.profile.reviews and plan.requirements.months_min == result.months_min  # nothing else changed
    assert result.earliest_finish is not None and plan.finish >= result.earliest_finish - dt.timedelta(days=7)
    # the plan file keeps the choice: read back, the same range
    from planner.export.json import plan_from_dict

    again = plan_from_dict(json.loads(json.dumps(plan_to_dict(plan))), sql)
    assert again.profile.finish_months == months and again.latest_allowed_finish == by


def test_dashboard_newcomer_accepts_a_later_finish_and_can_go_back(fresh_state, ml):
    """Plan page, hours that do not fit: beside "Use N h/week" the panel offers "Finish later: by D (N months)";
    pressing it saves a plan that finishes by D at the learner's own hours, says so, and "Back to the path's
    range" undoes it."""
    from planner.store import Store

    at = _plan_page()
    at.date_input(key="f_start").set_value(START)
    at.number_input(key="f_hours_per_week").set_value(12)
    at = _submit(at)
    assert any("does not fit" in w.value for w in at.warning)
    later = at.button(key="fix_later")
    label = later.label.replace("\\", "")  # shown as markdown: its escapes aside
    assert label.startswith("Finish later: by ") and label.endswith(" months)")
    by = label.split("by ")[1].split(" ")[0]
    later.click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and rec.plan is not None
    assert rec.profile["hours_per_week"] == 12 and rec.profile["finish_months"] > 0
    assert rec.plan["summary"]["finish"] <= by
    assert any("You chose to finish later" in i.value for i in at.info)
    at.button(key="finish_in_range").click().run()
    _ok(at)
    rec = Store(fresh_state).load("Me")
    assert rec is not None and "finish_months" not in rec.profile
    assert any("does not fit" in w.value for w in at.warning)  # back in the range: the remedies again
