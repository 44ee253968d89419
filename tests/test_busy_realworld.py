"""Calendar files written by real software (the test calendars of recurring-ical-events and icalendar, see
tests/fixtures/realworld/README.md): every one reads as a busy calendar without a traceback, any problem is a
one-line InputError or a `file:line` warning, and on a few the busy times are the ones the file means."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from planner.busy import EPOCH, load_busy
from planner.busy_parse import read_calendar
from planner.errors import InputError

REALWORLD = Path(__file__).parent / "fixtures" / "realworld"
FILES = sorted(REALWORLD.rglob("*.ics"))
BERLIN = ZoneInfo("Europe/Berlin")
SPANS = [(dt.date(2019, 1, 1), dt.date(2020, 1, 1)), (dt.date(1996, 1, 1), dt.date(1999, 1, 1)),
         (dt.date(2021, 6, 1), dt.date(2026, 1, 1))]


def _local(busy, tz=BERLIN):
    return [((EPOCH + dt.timedelta(minutes=a)).astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             (EPOCH + dt.timedelta(minutes=b)).astimezone(tz).strftime("%Y-%m-%d %H:%M")) for a, b in busy.intervals]


def test_there_are_real_world_files_from_two_libraries():
    assert len(FILES) >= 30 and {p.parent.name for p in FILES} == {"recurring-ical-events", "icalendar"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_world_file_reads_without_a_traceback(path):
    for first, until in SPANS:
        try:
            busy = load_busy([str(path)], "Europe/Berlin", first, until)
        except InputError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            continue
        for warning in busy.warnings:
            assert "\n" not in warning and warning.startswith(str(path))


def test_weekly_series_with_two_deleted_weeks_sabredav():
    busy = load_busy([str(REALWORLD / "recurring-ical-events" / "each_week_but_two_deleted.ics")], "Europe/Berlin",
                     dt.date(2019, 3, 1), dt.date(2019, 6, 1))
    assert [a for a, _ in _local(busy)] == [f"2019-{d} 00:30" for d in ("03-04", "03-18", "04-01", "04-08",
                                                                        "04-15", "04-22")]
    assert busy.events == 6 and busy.warnings == ()


def test_google_utc_times_with_x_wr_timezone():
    busy = load_busy([str(REALWORLD / "recurring-ical-events" / "x_wr_timezone_simple_events_issue_59.ics")],
                     "Europe/Berlin", dt.date(2021, 12, 1), dt.date(2022, 1, 1))
    assert _local(busy, ZoneInfo("America/New_York")) == [("2021-12-22 12:00", "2021-12-22 13:00"),
                                                          ("2021-12-22 21:00", "2021-12-22 22:00")]


def test_free_busy_periods_are_busy():
    busy = load_busy([str(REALWORLD / "icalendar" / "issue_1081_freebusy_comma_separated.ics")], "UTC",
                     dt.date(2024, 12, 30), dt.date(2025, 1, 5))
    assert _local(busy, ZoneInfo("UTC")) == [("2025-01-01 10:00", "2025-01-01 12:00"),
                                            ("2025-01-01 14:00", "2025-01-01 16:00")]


def test_a_custom_vtimezone_is_read_from_the_file():
    busy = load_busy([str(REALWORLD / "icalendar" / "issue_218_bad_tzid.ics")], "Europe/Berlin",
                     dt.date(2017, 2, 1), dt.date(2017, 4, 1))
    assert _local(busy, ZoneInfo("UTC")) == [("2017-02-28 12:00", "2017-02-28 12:30")]  # 23:00 at UTC+11


@pytest.mark.parametrize("name", ["end_before_start_event.ics", "issue_132_swapped_start_and_end.ics"])
def test_events_ending_before_they_start_are_skipped_and_named(name):
    path = REALWORLD / "recurring-ical-events" / name
    busy = load_busy([str(path)], "Europe/Berlin", dt.date(2019, 1, 1), dt.date(2025, 1, 1))
    assert busy.events == 0
    assert len(busy.warnings) == 1 and "before it starts" in busy.warnings[0]
    assert busy.warnings[0].startswith(f"{path}:")


@pytest.mark.parametrize("path", [p for p in FILES if b"RRULE" in p.read_bytes()],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_planners_own_series_layout_agrees_with_recurring_ical_events(path):
    data = path.read_bytes()
    for first, until in [*SPANS, (dt.date(2010, 1, 1), dt.date(2017, 1, 1))]:
        try:
            own = read_calendar(data, str(path), "busy", BERLIN, first, until)
        except InputError:
            continue
        library = read_calendar(data, str(path), "busy", BERLIN, first, until, series_by_library=True)
        assert sorted(own.intervals) == sorted(library.intervals) and own.all_day == library.all_day
