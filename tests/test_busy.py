"""Study windows and busy calendars: reading real-looking exports, free time per date, plans around them.

The fixtures imitate what the calendar apps write: Google (UTC times with X-WR-TIMEZONE, a weekly RRULE with an
EXDATE and a moved instance, all-day events that Google marks transparent), Outlook/Exchange (Windows zone
names, tentative and "free" items, out-of-office days), iCloud (COUNT and RDATE, floating times, a night across
the autumn clock change).
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from planner.availability import (
    EPOCH,
    calendar_problems,
    day_cap_blocks,
    free_stretches,
    parse_windows,
    parse_windows_text,
    windows_text,
    windows_to_dict,
)
from planner.busy import load_busy, read_source, summarise_busy_file, with_busy
from planner.cli import main
from planner.errors import InputError
from planner.export.json import load_plan, plan_to_json
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.replan import Replanned, replan
from planner.solve import Infeasible, make_plan
from planner.summary import plan_summary
from planner.validate import validate_plan
from tests.conftest import plan_ok
from tests.servers import local_http_server

FIXTURES = Path(__file__).parent / "fixtures" / "busy"
GOOGLE, OUTLOOK, ICLOUD = (str(FIXTURES / f"{n}.ics") for n in ("google", "outlook", "icloud"))
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = {"windows": ["mon-fri=18:30-22:00", "sat=09:00-12:00,14:00-17:00"]}


def _local_spans(busy, tz=BERLIN):
    return [((EPOCH + dt.timedelta(minutes=a)).astimezone(tz), (EPOCH + dt.timedelta(minutes=b)).astimezone(tz))
            for a, b in busy.intervals]


def _read(path, tz="Europe/Berlin", first=dt.date(2027, 1, 4), until=dt.date(2028, 1, 1)):
    return load_busy([path], tz, first, until)


# ---------------------------------------------------------------- reading exports


def test_google_export_recurrence_exdate_override_and_x_wr_timezone():
    busy = _read(GOOGLE)
    starts = {a.replace(tzinfo=None): b for a, b in _local_spans(busy)}
    tuesday = dt.datetime(2027, 1, 5, 19, 0)
    assert starts[tuesday].strftime("%H:%M") == "20:30"  # UTC in the file, 19:00 in X-WR-TIMEZONE
    assert dt.datetime(2027, 1, 19, 19, 0) not in starts  # EXDATE
    assert dt.datetime(2027, 1, 26, 19, 0) not in starts  # moved by RECURRENCE-ID ...
    assert dt.datetime(2027, 1, 27, 19, 0) in starts  # ... to the Wednesday
    # After the spring clock change the rehearsal stays at 19:00 local: X-WR-TIMEZONE, not UTC, is the series' zone
    after = [a for a, _ in _local_spans(busy) if a.date() == dt.date(2027, 3, 30)]
    assert [a.strftime("%H:%M %z") for a in after] == ["19:00 +0200"]
    # The dentist (single event in UTC), transparent and cancelled events
    assert dt.datetime(2027, 2, 10, 18, 15) in starts
    assert dt.datetime(2027, 2, 11, 19, 0) not in starts  # TRANSP:TRANSPARENT
    assert dt.datetime(2027, 2, 12, 19, 0) not in starts  # STATUS:CANCELLED
    # All-day: the opaque moving day blocks, Google's default transparent all-day conference does not
    assert busy.all_day == frozenset({dt.date(2027, 3, 15)})


def test_event_across_the_spring_clock_change_keeps_its_elapsed_length():
    busy = _read(GOOGLE)
    night = [(a, b) for a, b in _local_spans(busy) if a.date() == dt.date(2027, 3, 28)]
    assert len(night) == 1
    a, b = night[0]
    assert (a.strftime("%H:%M"), b.strftime("%H:%M")) == ("01:00", "11:00")
    assert b.astimezone(dt.UTC) - a.astimezone(dt.UTC) == dt.timedelta(hours=9)  # 01:00 CET to 11:00 CEST


def test_outlook_windows_zone_names_map_to_iana():
    busy = _read(OUTLOOK)
    spans = _local_spans(busy)
    thursdays = [a for a, _ in spans if a.weekday() == 3]
    assert thursdays and all(a.strftime("%H:%M") == "19:00" for a in thursdays)  # W. Europe Standard Time
    # "GMT Standard Time" is London: 17:30 BST on 6 April is 18:30 in Berlin; tentative counts as busy
    london = [(a, b) for a, b in spans if a.date() == dt.date(2027, 4, 6)]
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in london] == [("18:30", "20:00")]
    # X-MICROSOFT-CDO-BUSYSTATUS:FREE (18:30-22:00) leaves only the weekly meeting that Thursday
    assert [a.strftime("%H:%M") for a, _ in spans if a.date() == dt.date(2027, 4, 8)] == ["19:00"]
    assert busy.all_day == frozenset({dt.date(2027, 4, 12), dt.date(2027, 4, 13)})  # out of office
    assert thursdays[-1].date() == dt.date(2027, 6, 24)  # UNTIL honoured


def test_outlook_zone_is_iana_not_the_files_vtimezone():
    """The VTIMEZONE Outlook writes has only today's rule; a mapped zone follows the real history. Checked on
    a year whose rules differ: in 1995 Europe/Berlin changed back in September, not October."""
    text = Path(OUTLOOK).read_text().replace("20270107T190000", "19950928T190000").replace(
        "UNTIL=20270629T170000Z", "COUNT=1")
    busy = load_busy_text(text, first=dt.date(1995, 9, 25), until=dt.date(1995, 10, 2))
    (a, _), = _local_spans(busy)
    assert a.strftime("%H:%M %z") == "19:00 +0100"  # CET already: IANA history, not the file's last-Sunday rule


def load_busy_text(text: str, **kw):
    from planner.busy import parse_busy

    parsed = parse_busy(text.encode(), "test.ics", "busy", BERLIN, kw["first"], kw["until"])
    from planner.busy import BusyTimes, merge

    return BusyTimes((), kw["first"], kw["until"], "x", merge(parsed.intervals), parsed.all_day)


def test_icloud_count_rdate_floating_and_autumn_night():
    busy = _read(ICLOUD)
    spans = _local_spans(busy)
    saturdays = [a.date() for a, _ in spans if a.weekday() == 5 and a.hour == 9]
    assert len(saturdays) == 11 and saturdays[-1] == dt.date(2027, 3, 20)  # COUNT=10 plus the RDATE
    parents = [(a, b) for a, b in spans if a.date() == dt.date(2027, 2, 4)]
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in parents] == [("19:30", "21:00")]
    train = [(a, b) for a, b in spans if a.date() == dt.date(2027, 10, 30)]
    a, b = train[0]
    assert b.astimezone(dt.UTC) - a.astimezone(dt.UTC) == dt.timedelta(hours=7, minutes=30)  # CEST to CET
    assert busy.all_day == frozenset()  # the birthday is transparent


def test_floating_times_are_in_the_learners_zone():
    ny = load_busy([ICLOUD], "America/New_York", dt.date(2027, 1, 4), dt.date(2027, 3, 1))
    parents = [(a, b) for a, b in _local_spans(ny, ZoneInfo("America/New_York")) if a.date() == dt.date(2027, 2, 4)]
    assert [a.strftime("%H:%M") for a, _ in parents] == ["19:30"]


def test_busy_digest_ignores_dtstamp_and_counts_events(tmp_path):
    copy = tmp_path / "copy.ics"
    copy.write_text(Path(GOOGLE).read_text().replace("DTSTAMP:20261126T101500Z", "DTSTAMP:20261201T000000Z"))
    a, b = _read(GOOGLE), _read(str(copy))
    assert a.digest == b.digest and a.events == b.events > 0


# ---------------------------------------------------------------- bad sources


def test_unreadable_sources_name_the_source(tmp_path):
    with pytest.raises(InputError, match=r"busy\[0\].*file not found"):
        load_busy([str(tmp_path / "nope.ics")], "UTC", dt.date(2027, 1, 1), dt.date(2027, 2, 1))
    junk = tmp_path / "junk.ics"
    junk.write_text("this is not a calendar\n")
    with pytest.raises(InputError, match=r"busy\[0\].*not an iCalendar file"):
        load_busy([str(junk)], "UTC", dt.date(2027, 1, 1), dt.date(2027, 2, 1))
    with pytest.raises(InputError, match=r"is not a regular file"):
        read_source(str(tmp_path), "busy[0]")
    big = tmp_path / "big.ics"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(InputError, match="the limit is 1,000"):
        read_source(str(big), "busy[0]", max_bytes=1000)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.ics"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_source(str(fifo), "busy[0]")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/work.ics":
            body = Path(OUTLOOK).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *args):
        pass


@pytest.fixture
def calendar_server() -> Iterator[str]:
    with local_http_server(_Handler) as base:
        yield base


def test_http_source_fetched_and_errors_named(calendar_server):
    busy = load_busy([f"{calendar_server}/work.ics"], "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2027, 7, 1))
    assert busy.events == _read(OUTLOOK, until=dt.date(2027, 7, 1)).events
    with pytest.raises(InputError, match=r"busy\[0\].*HTTP 404"):
        load_busy([f"{calendar_server}/missing.ics"], "UTC", dt.date(2027, 1, 4), dt.date(2027, 2, 1))
    with pytest.raises(InputError, match="limit"):
        read_source(f"{calendar_server}/work.ics", "busy[0]", max_bytes=100)


def test_http_source_times_out():
    """A server that accepts the connection and never answers: the fetch gives up after its timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        with pytest.raises(InputError, match=r"cannot fetch .*timed out"):
            read_source(f"http://127.0.0.1:{sock.getsockname()[1]}/cal.ics", "busy[0]", timeout=0.5)
    finally:
        sock.close()


# ---------------------------------------------------------------- windows


def test_window_forms_agree():
    flags = parse_windows(["mon-fri=18:30-22:00", "sat=09:00-12:00,14:00-17:00"])
    yaml_form = parse_windows({"mon-fri": ["18:30-22:00"], "sat": ["09:00-12:00", "14:00-17:00"]})
    text = parse_windows_text("weekdays 18:30-22:00\nsat 09:00-12:00, 14:00-17:00")
    assert flags == yaml_form == text
    assert parse_windows_text(windows_text(flags)) == flags
    assert windows_to_dict(flags)["sat"] == ["09:00-12:00", "14:00-17:00"]
    assert windows_to_dict(flags)["sun"] == []
    assert parse_windows(["fri-mon=10:00-11:00"]) == parse_windows(["fri,sat,sun,mon=10:00-11:00"])
    assert parse_windows(["mon=18:00-20:00", "mon=19:00-21:00"])[0] == ((18 * 60, 21 * 60),)  # joined


@pytest.mark.parametrize(("value", "message"), [
    (["mon=22:00-01:00"], "cannot cross midnight"),
    (["mon=18:10-20:00"], "quarter hours"),
    (["mon=18:00-18:15"], "shorter than a 30-minute session"),
    (["funday=18:00-20:00"], "unknown weekday"),
    (["mon 7pm-9pm"], "not a time of day|not DAYS"),
    ({"sun": []}, "no study window"),
])
def test_bad_windows_name_the_field(value, message):
    with pytest.raises(InputError, match=message) as err:
        parse_windows(value)
    assert err.value.field.startswith("windows")


def test_profile_rules_for_windows(sql):
    base = {"background": "beginner", "hours_per_week": 6, "start": "2027-01-04"}
    with pytest.raises(InputError, match="not both") as err:
        profile_from_mapping({**base, **WEEK, "session_start": "19:00"}, sql)
    assert err.value.field == "session_start"
    with pytest.raises(InputError, match="does not fit in the mon windows"):
        profile_from_mapping({**base, **WEEK, "day_hours": {"mon": 4}}, sql)
    with pytest.raises(InputError, match="windows hold 2 h a week") as err:
        profile_from_mapping({**base, "windows": ["sat=09:00-11:00"]}, sql)
    assert err.value.field == "windows"
    with pytest.raises(InputError, match="wed is a study day but has no study window"):
        profile_from_mapping({**base, "windows": ["mon=18:00-22:00", "sat=09:00-17:00"], "days": "mon,wed,sat"},
                             sql)
    p = profile_from_mapping({**base, **WEEK}, sql)
    assert p.weekday_hours == (3.5, 3.5, 3.5, 3.5, 3.5, 6.0, 0.0)
    assert p.session_starts[0] == dt.time(18, 30) and p.session_starts[5] == dt.time(9, 0)


def test_free_time_is_elapsed_time_on_clock_change_nights(sql):
    p = profile_from_mapping({"background": "beginner", "hours_per_week": 3, "start": "2027-03-01",
                              "timezone": "Europe/Berlin", "windows": ["sun=01:00-04:00"]}, sql)
    spring, autumn, plain = dt.date(2027, 3, 28), dt.date(2027, 10, 31), dt.date(2027, 3, 21)
    assert [s.minutes for s in free_stretches(p, plain)] == [180]
    assert [s.minutes for s in free_stretches(p, spring)] == [120]  # 02:00-03:00 does not exist
    assert [s.minutes for s in free_stretches(p, autumn)] == [240]  # 02:00-03:00 happens twice
    assert day_cap_blocks(p, spring) == 4 and day_cap_blocks(p, autumn) == 6


def test_busy_events_cut_stretches_to_the_quarter_hour(sql):
    p = with_busy(profile_from_mapping({"background": "beginner", "hours_per_week": 6, "start": "2027-01-04",
                                        "timezone": "Europe/Berlin", **WEEK, "busy": [GOOGLE]}, sql), sql)
    # Wednesday 10 Feb: dentist 18:15-19:15 inside 18:30-22:00 leaves 19:15-22:00
    (s,) = free_stretches(p, dt.date(2027, 2, 10))
    start = (EPOCH + dt.timedelta(minutes=s.start)).astimezone(BERLIN)
    assert (start.strftime("%H:%M"), s.minutes) == ("19:15", 165)
    assert free_stretches(p, dt.date(2027, 3, 15)) == ()  # opaque all-day event
    off = with_busy(profile_from_mapping({"background": "beginner", "hours_per_week": 6, "start": "2027-01-04",
                                          "timezone": "Europe/Berlin", **WEEK, "busy": [GOOGLE],
                                          "all_day_events": "free"}, sql), sql)
    assert day_cap_blocks(off, dt.date(2027, 3, 15)) == 7


# ---------------------------------------------------------------- plans


def _berlin_plan(ml, **extra) -> Plan:
    return plan_ok(ml, background="ml_background", hours_per_week=18, timezone="Europe/Berlin", **WEEK,
                   busy=[GOOGLE, OUTLOOK, ICLOUD], **extra)


@pytest.fixture(scope="module")
def berlin_plan(ml) -> Plan:
    return _berlin_plan(ml)


def _busy_spans(profile):
    return [(a, b) for a, b in _local_spans(profile.busy)]


def test_plan_sessions_lie_in_windows_and_never_on_busy_time(berlin_plan):
    p = berlin_plan.profile
    spans = _busy_spans(p)
    windows = {0: [("18:30", "22:00")], 1: [("18:30", "22:00")], 2: [("18:30", "22:00")], 3: [("18:30", "22:00")],
               4: [("18:30", "22:00")], 5: [("09:00", "12:00"), ("14:00", "17:00")], 6: []}
    for s in berlin_plan.active_sessions:
        a, b = s.start.astimezone(BERLIN), s.end.astimezone(BERLIN)
        assert any(x <= a.strftime("%H:%M") and b.strftime("%H:%M") <= y for x, y in windows[a.weekday()]), s
        assert not any(x < b and a < y for x, y in spans), s
        assert a.date() not in p.busy.all_day, s
    days = {s.day for s in berlin_plan.active_sessions}
    assert dt.date(2027, 3, 15) not in days and dt.date(2027, 4, 12) not in days
    # the choir moved to Wednesday 27 January: nothing planned 19:00-20:30 that evening
    jan27 = [s for s in berlin_plan.active_sessions if s.day == dt.date(2027, 1, 27)]
    assert jan27 and all(s.end.hour * 60 + s.end.minute <= 19 * 60 or s.start.hour * 60 + s.start.minute >= 20 * 60
                         + 30 for s in jan27)


def test_plan_echoes_windows_and_busy_without_private_content(berlin_plan, ml, tmp_path):
    data = json.loads(plan_to_json(berlin_plan))
    prof = data["profile"]
    assert prof["windows"]["mon"] == ["18:30-22:00"] and prof["windows"]["sun"] == []
    assert prof["busy"]["sources"] == [GOOGLE, OUTLOOK, ICLOUD]
    assert prof["busy"]["events"] == berlin_plan.profile.busy.events > 0
    assert prof["busy"]["digest"].startswith("sha256:")
    text = plan_to_json(berlin_plan).decode()
    for private in ("Choir", "Dentist", "Gemeindehaus", "Teams", "Swimming"):
        assert private not in text
    # read back without the calendars (no network, no files): windows still checked, the plan still valid
    path = tmp_path / "plan.json"
    path.write_bytes(plan_to_json(berlin_plan))
    loaded = load_plan(path, ml)
    assert loaded.profile.windows == berlin_plan.profile.windows and loaded.profile.busy is None
    assert loaded.profile.busy_sources == berlin_plan.profile.busy_sources
    assert validate_plan(loaded) == []
    assert plan_to_json(loaded) != b""


def test_summary_reports_busy_events_and_free_hours(berlin_plan):
    text = plan_summary(berlin_plan)
    line = next(x for x in text.splitlines() if x.startswith("Calendar:"))
    assert "your windows hold 23.5 h a week" in line
    assert f"{berlin_plan.profile.busy.events} busy events read from 3 calendars" in line
    assert "h a week free on average" in line


def test_validator_catches_busy_overlaps_and_sessions_outside_windows(berlin_plan):
    from dataclasses import replace

    s = next(x for x in berlin_plan.sessions if x.day == dt.date(2027, 1, 4))
    choir = dt.datetime(2027, 1, 5, 19, 0, tzinfo=BERLIN)
    on_busy = replace(s, start=choir, end=choir + dt.timedelta(minutes=30))
    moved = replace(berlin_plan, sessions=tuple(on_busy if x.uid == s.uid else x for x in berlin_plan.sessions))
    assert "busy" in {r for r, _, _ in calendar_problems(moved)}
    morning = dt.datetime(2027, 1, 4, 8, 0, tzinfo=BERLIN)
    early = replace(s, start=morning, end=morning + (s.end - s.start))
    moved = replace(berlin_plan, sessions=tuple(early if x.uid == s.uid else x for x in berlin_plan.sessions))
    assert {v.rule for v in validate_plan(moved)} >= {"window"}
    done = replace(on_busy, status="done")  # history is history
    moved = replace(berlin_plan, sessions=tuple(done if x.uid == s.uid else x for x in berlin_plan.sessions))
    assert calendar_problems(moved) == []


def test_one_window_shorthand_with_an_empty_calendar_gives_todays_plan(ml, tmp_path):
    """No busy events inside the shorthand window (session start to midnight): the free-time path lays the
    same sessions as back-to-back planning, so adding an empty calendar changes nothing."""
    empty = tmp_path / "empty.ics"
    empty.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nEND:VCALENDAR\r\n")
    fields = {"background": "ml_background", "hours_per_week": 16, "timezone": "America/New_York",
              "days": "mon,wed,sat", "day_hours": "mon=1.5,sat=4", "holidays": "US"}
    plain = plan_ok(ml, **fields)
    with_cal = plan_ok(ml, **fields, busy=[str(empty)])
    assert [(s.uid, s.start, s.end, s.kind) for s in plain.sessions] == \
        [(s.uid, s.start, s.end, s.kind) for s in with_cal.sessions]
    assert "windows" not in json.loads(plan_to_json(plain))["profile"]
    assert "busy" not in json.loads(plan_to_json(plain))["profile"]


def test_busy_calendar_without_windows_moves_sessions_later_that_evening(ml, tmp_path):
    cal = tmp_path / "evening.ics"
    cal.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
                   "DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Europe/Berlin:20270104T190000\r\n"
                   "DTEND;TZID=Europe/Berlin:20270104T200000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Dinner\r\n"
                   "END:VEVENT\r\nEND:VCALENDAR\r\n")
    plan = plan_ok(ml, background="ml_background", hours_per_week=16, timezone="Europe/Berlin",
                   session_start="19:00", busy=[str(cal)])
    mondays = [s for s in plan.active_sessions if s.day.weekday() == 0]
    assert mondays and all(s.start.astimezone(BERLIN).hour >= 20 for s in mondays)


def test_infeasible_answer_speaks_of_free_time(ml):
    profile = profile_from_mapping({"background": "ml_background", "hours_per_week": 8, "start": "2027-01-04",
                                    "timezone": "Europe/Berlin", "windows": ["mon-fri=19:00-21:00",
                                                                             "sat=09:00-12:00"],
                                    "busy": [GOOGLE, OUTLOOK]}, ml)
    result = make_plan(ml, with_busy(profile, ml))
    assert isinstance(result, Infeasible)
    message = result.message()
    assert "Your calendar leaves" in message and "free in your windows (they hold 13 h" in message
    assert "widen a window" in message
    assert result.needed_hours_per_week is not None and f"needs {result.needed_hours_per_week:g} h/week" in message


def test_replan_reads_busy_calendars_again_for_the_future(ml, tmp_path):
    cal = tmp_path / "work.ics"
    cal.write_bytes(Path(GOOGLE).read_bytes())
    plan = plan_ok(ml, background="ml_background", hours_per_week=18, timezone="Europe/Berlin", **WEEK,
                   busy=[str(cal)])
    today = dt.date(2027, 3, 1)
    # A new weekly evening commitment from March, and a past event that must not disturb history
    extra = ("BEGIN:VEVENT\r\nUID:new-course@x\r\nDTSTAMP:20270220T000000Z\r\n"
             "DTSTART;TZID=Europe/Berlin:20270301T183000\r\nDTEND;TZID=Europe/Berlin:20270301T220000\r\n"
             "RRULE:FREQ=WEEKLY;BYDAY=MO,TH\r\nSUMMARY:Evening course\r\nEND:VEVENT\r\n"
             "BEGIN:VEVENT\r\nUID:past@x\r\nDTSTAMP:20270220T000000Z\r\n"
             "DTSTART;TZID=Europe/Berlin:20270104T183000\r\nDTEND;TZID=Europe/Berlin:20270104T220000\r\n"
             "SUMMARY:Past\r\nEND:VEVENT\r\n")
    cal.write_text(cal.read_text().replace("END:VCALENDAR", extra + "END:VCALENDAR"))
    result = replan(ml, plan, today)
    assert isinstance(result, Replanned), result.message() if hasattr(result, "message") else result
    new = result.plan
    assert validate_plan(new) == []
    planned = [s for s in new.sessions if s.status == "planned"]
    assert planned and all(s.day >= today for s in planned)
    assert not [s for s in planned if s.day.weekday() in (0, 3)]  # Mondays and Thursdays are taken now
    history = [s for s in new.sessions if s.day < today]
    assert history and all(s.status in ("missed", "done", "cancelled") for s in history)
    assert new.profile.busy is not None and new.profile.busy.first == today


# ---------------------------------------------------------------- the command line


def test_cli_windows_and_busy(tmp_path, capsys):
    out = tmp_path / "plan.json"
    code = main(["plan", "--background", "ml_background", "--hours-per-week", "18", "--start", "2027-01-04",
                 "--timezone", "Europe/Berlin", "--window", "mon-fri=18:30-22:00", "--window",
                 "sat=09:00-12:00,14:00-17:00", "--busy", GOOGLE, "--busy", OUTLOOK, "--json", str(out)])
    assert code == 0
    assert "Calendar: your windows hold 23.5 h a week" in capsys.readouterr().out
    assert json.loads(out.read_text())["profile"]["busy"]["sources"] == [GOOGLE, OUTLOOK]


def test_cli_profile_yaml_finds_calendars_next_to_it(tmp_path, capsys, monkeypatch):
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "home.ics").write_bytes(Path(ICLOUD).read_bytes())
    prof = tmp_path / "me.yaml"
    prof.write_text("background: ml_background\nhours_per_week: 18\nstart: 2027-01-04\ntimezone: Europe/Berlin\n"
                    "windows:\n  mon-fri: ['18:30-22:00']\n  sat: ['09:00-12:00', '14:00-17:00']\n"
                    "busy: [cal/home.ics]\nall_day_events: free\n")
    monkeypatch.chdir(FIXTURES)
    out = tmp_path / "plan.json"
    assert main(["plan", "--profile", str(prof), "--json", str(out)]) == 0
    busy = json.loads(out.read_text())["profile"]["busy"]
    assert busy["sources"] == [str((tmp_path / "cal" / "home.ics").resolve())]
    assert busy["all_day_events"] == "free"


@pytest.mark.parametrize(("args", "needle"), [
    (["--busy", "/nonexistent/work.ics"], "--busy[0]: file not found: /nonexistent/work.ics"),
    (["--busy", "ftp://example.org/x.ics"], "--busy[0]: 'ftp://example.org/x.ics' is not a .ics file"),
    (["--window", "mon=22:00-01:00"], "--window.mon: 22:00-01:00 ends before it starts"),
    (["--window", "mon=18:00-20:00", "--session-start", "19:00"], "--session-start: give study windows"),
])
def test_cli_bad_busy_or_window_exits_2(args, needle, capsys):
    code = main(["plan", "--background", "ml_background", "--hours-per-week", "18", *args])
    assert code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_summarise_busy_file_for_an_upload_form():
    info = summarise_busy_file(Path(OUTLOOK).read_bytes(), "outlook.ics", "Europe/Berlin", dt.date(2027, 1, 4),
                               dt.date(2027, 7, 5))
    assert info["events"] == 27 and info["all_day_days"] == 2 and info["busy_hours"] > 30
    with pytest.raises(InputError, match=r"outlook\.ics"):
        summarise_busy_file(b"garbage", "outlook.ics", "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2027, 7, 5))


def test_other_weekly_hours_keep_the_windows_and_the_chosen_days(sql):
    """The minimum-hours search re-plans at other weekly hours: days left out stay out, windows still cap."""
    p = profile_from_mapping({"background": "beginner", "hours_per_week": 6, "start": "2027-01-04", **WEEK,
                              "days": "mon,wed,sat"}, sql)
    assert p.weekday_hours == (3.5, 0, 3.5, 0, 0, 6.0, 0)
    assert p.with_hours_per_week(12).weekday_hours == p.weekday_hours
    q = profile_from_mapping({"background": "beginner", "hours_per_week": 4, "start": "2027-01-04", **WEEK,
                              "day_hours": {"mon": 1, "sat": 3}}, sql)
    assert q.with_hours_per_week(16).weekday_hours[0] == 3.5  # scaled, but not past the Monday window


def test_replan_with_a_calendar_that_cannot_be_read_exits_2(tmp_path, capsys):
    cal = tmp_path / "work.ics"
    cal.write_bytes(Path(OUTLOOK).read_bytes())
    plan_file = tmp_path / "plan.json"
    assert main(["plan", "--background", "ml_background", "--hours-per-week", "18", "--start", "2027-01-04",
                 "--timezone", "Europe/Berlin", *(f"--window={w}" for w in WEEK["windows"]), "--busy", str(cal),
                 "--json", str(plan_file)]) == 0
    cal.unlink()
    before = plan_file.read_bytes()
    code = main(["replan", str(plan_file), "--today", "2027-03-01", "--json", str(tmp_path / "new.json")])
    err = capsys.readouterr().err
    assert code == 2 and f"busy[0]: file not found: {cal}" in err and "Traceback" not in err
    assert plan_file.read_bytes() == before and not (tmp_path / "new.json").exists()  # nothing half-written
