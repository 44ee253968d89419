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
from planner.cli import main
from planner.curriculum import load_curriculum
from planner.errors import InputError
from planner.export.json import load_plan
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.replan import CalendarUnreadable, CatchUpMenu, Replanned, replan
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan
from tests.conftest import SQL_PATH, plan_ok

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


def test_windows_and_a_daily_commitment_every_offered_choice_plans(sql, tmp_path):
    """Windows 18-22 and a new daily 18-21 commitment: 1 h a day is free, too short for the 45-minute rule to
    end a topic of an odd number of half hours. The menu used to offer only a late finish that then failed."""
    busy = _calendar(tmp_path / "evenings.ics", "20270301", "1800", "2100")
    plan = plan_ok(sql, background="beginner", hours_per_week=10, timezone="Europe/Berlin", windows=EVENINGS,
                   busy=[str(busy)])
    today = dt.date(2027, 3, 1)
    menu = replan(sql, plan, today)
    assert isinstance(menu, CatchUpMenu)
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
    busy = _calendar(tmp_path / "evenings.ics", "20270301", "1800", "2200")
    plan = plan_ok(sql, background="beginner", hours_per_week=10, timezone="Europe/Berlin", windows=EVENINGS,
                   busy=[str(busy)])
    today = dt.date(2027, 3, 1)
    menu = replan(sql, plan, today)
    assert isinstance(menu, CatchUpMenu)
    assert menu.hours_per_week_needed is None and menu.late_finish is None
    assert "Your calendar leaves 0 h a week free in your windows" in menu.message()
    assert "Study" not in menu.message()
    assert [o.key for o in views.catch_up_options(menu)] == ["busy"]
    _replanned(sql, plan, today, busy_drop=(str(busy),))


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
    assert "Nothing fits" in message and "--busy-replace" in message and "wider windows" in message
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
    result = make_plan(ml, profile_from_mapping(raw, ml))
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
        return isinstance(make_plan(ml, profile_from_mapping(new, ml)), Plan)

    remedies = views.remedies(result, raw, ml, fits)
    hours = [r for r in remedies if r.key == "hours"]
    assert hours and hours[0].raw["hours_per_week"] == figure and len(hours[0].raw["days"]) == 7
    assert fits(hours[0].raw)


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
                                   sql, read_busy=False)
    result = _replanned(sql, plan, today, profile=changed)
    new = result.plan.profile
    assert new.windows == changed.windows and new.busy_sources == (str(busy),) and new.holiday_country == "DE"
    future = _planned_after(result.plan, today)
    assert future and all(s.start.astimezone(BERLIN).hour < 9 or s.day.weekday() == 5 for s in future)
    assert not [s for s in future if s.day.weekday() == 1 and s.start.astimezone(BERLIN).hour >= 17]
    other = profile_from_mapping({"background": "developer", "hours_per_week": 8, "start": "2027-01-04",
                                  "timezone": "Europe/Berlin"}, sql, read_busy=False)
    with pytest.raises(InputError, match="needs a new plan") as caught:
        replan(sql, plan, today, profile=other)
    assert caught.value.field == "background"
