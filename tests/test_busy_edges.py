"""Busy calendars at the edges: rules that used to hang, events that used to refuse a whole calendar, zones
Outlook writes by display name, free/busy publications, and servers that trickle, hang or send too much.

Each calendar is small and crafted for one behaviour; "finishes" is bounded generously (the bug was "never").
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from planner.busy import EPOCH, load_busy, read_source, summarise_busy_file
from planner.errors import InputError
from tests.servers import local_http_server

ROOT = Path(__file__).resolve().parent.parent
BERLIN = ZoneInfo("Europe/Berlin")
FIRST, UNTIL = dt.date(2027, 1, 4), dt.date(2027, 3, 1)


def _cal(*events: str, head: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\nUID:e{i}@test\r\nDTSTAMP:20261101T000000Z\r\n{e.strip()}\r\nEND:VEVENT\r\n"
                   for i, e in enumerate(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{head}{body}END:VCALENDAR\r\n"


def _load(tmp_path: Path, text: str, tz: str = "Europe/Berlin", first: dt.date = FIRST, until: dt.date = UNTIL,
          name: str = "cal.ics"):
    path = tmp_path / name
    path.write_text(text.replace("\n", "\r\n") if "\r\n" not in text else text, encoding="utf-8")
    started = time.monotonic()
    busy = load_busy([str(path)], tz, first, until)
    assert time.monotonic() - started < 60, "finishes at all"
    return busy, str(path)


def _spans(busy, tz=BERLIN):
    return [((EPOCH + dt.timedelta(minutes=a)).astimezone(tz).replace(tzinfo=None),
             (EPOCH + dt.timedelta(minutes=b)).astimezone(tz).replace(tzinfo=None)) for a, b in busy.intervals]


def _at(day: int, month: int, hour: int, minute: int = 0, year: int = 2027) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute)


# ---------------------------------------------------------------- rules that used to hang

def test_secondly_rule_is_one_stretch_not_85_million_occurrences(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;TZID=Europe/Berlin:20270110T090000\r\n"
                                   "DTEND;TZID=Europe/Berlin:20270110T090001\r\nRRULE:FREQ=SECONDLY;COUNT=3600"))
    assert _spans(busy) == [(_at(10, 1, 9), _at(10, 1, 10))]


def test_unbounded_secondly_rule_blocks_from_its_start_to_the_span_end(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART:20270201T120000Z\r\nDURATION:PT1S\r\nRRULE:FREQ=SECONDLY"))
    assert _spans(busy) == [(_at(1, 2, 13), _at(1, 3, 0))]


def test_half_hourly_rule_reads_each_occurrence(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;TZID=Europe/Berlin:20270105T090000\r\nDURATION:PT10M\r\n"
                                   "RRULE:FREQ=MINUTELY;INTERVAL=30;UNTIL=20270105T110000Z"))
    # 09:00 … 12:00 Berlin (11:00 UTC), every 30 minutes, 10 minutes each
    assert _spans(busy) == [(_at(5, 1, 9, m), _at(5, 1, 9, m + 10)) for m in (0, 30)] + [
        (_at(5, 1, h, m), _at(5, 1, h, m + 10)) for h in (10, 11) for m in (0, 30)] + [
        (_at(5, 1, 12), _at(5, 1, 12, 10))]


def test_an_hourly_rule_with_by_parts_reads_its_hours(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;TZID=Europe/Berlin:20100104T090000\r\nDURATION:PT30M\r\n"
                                   "RRULE:FREQ=HOURLY;BYHOUR=9,11;BYDAY=MO"), until=dt.date(2027, 1, 12))
    assert _spans(busy) == [(_at(d, 1, h), _at(d, 1, h, 30)) for d in (4, 11) for h in (9, 11)]


def test_a_minutely_rule_with_by_parts_is_skipped_and_named(tmp_path):
    busy, path = _load(tmp_path, _cal("DTSTART:20270105T090000Z\r\nDURATION:PT1M\r\n"
                                      "RRULE:FREQ=MINUTELY;BYHOUR=9", "DTSTART:20270106T090000Z\r\nDURATION:PT1H"))
    assert _spans(busy) == [(_at(6, 1, 10), _at(6, 1, 11))]
    assert len(busy.warnings) == 1 and busy.warnings[0].startswith(f"{path}:9: event skipped: RRULE")


def test_a_rule_that_never_matches_costs_nothing(tmp_path):
    busy, _ = _load(tmp_path, _cal(
        "DTSTART;TZID=Europe/Berlin:20240101T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "DTSTART;TZID=Europe/Berlin:20240101T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4",
        "DTSTART;TZID=Europe/Berlin:20270106T080000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=2"))
    assert _spans(busy) == [(_at(6, 1, 8), _at(6, 1, 9)), (_at(13, 1, 8), _at(13, 1, 9))]
    assert busy.warnings == ()


def test_a_never_matching_rule_beside_rdates_reads_the_rdates(tmp_path):
    busy, _ = _load(tmp_path, _cal(
        "DTSTART;TZID=Europe/Berlin:20240101T090000\r\nDURATION:PT1H\r\n"
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\r\nRDATE;TZID=Europe/Berlin:20270112T090000,20270119T090000"))
    assert _spans(busy) == [(_at(12, 1, 9), _at(12, 1, 10)), (_at(19, 1, 9), _at(19, 1, 10))]


def test_a_series_begun_in_the_year_1_is_read_in_the_span(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;TZID=Europe/Berlin:00010101T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY",
                                   "DTSTART;TZID=Europe/Berlin:19700105T190000\r\nDURATION:PT1H\r\n"
                                   "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"), until=dt.date(2027, 1, 18))
    assert [a for a, _ in _spans(busy)] == sorted(
        [_at(d, 1, 9) for d in range(4, 18)] + [_at(4, 1, 19), _at(7, 1, 19)])


def test_a_file_cut_short_reads_what_it_holds(tmp_path):
    text = _cal("DTSTART:20270105T090000Z\r\nDURATION:PT1H", "DTSTART:20270106T090000Z\r\nDURATION:PT1H")
    busy, _ = _load(tmp_path, text[:text.rindex("END:VEVENT")])
    assert _spans(busy) == [(_at(5, 1, 10), _at(5, 1, 11)), (_at(6, 1, 10), _at(6, 1, 11))]


def test_interval_zero_is_skipped_and_named_the_rest_read(tmp_path):
    busy, path = _load(tmp_path, _cal(
        "DTSTART;TZID=Europe/Berlin:20270105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;INTERVAL=0",
        "DTSTART;TZID=Europe/Berlin:20270107T100000\r\nDURATION:PT1H"))
    assert _spans(busy) == [(_at(7, 1, 10), _at(7, 1, 11))]
    assert len(busy.warnings) == 1 and busy.warnings[0].startswith(f"{path}:9: ")
    assert "INTERVAL" in busy.warnings[0]


def test_all_day_event_from_year_1_to_9999_is_clipped_to_the_span(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;VALUE=DATE:00010101\r\nDTEND;VALUE=DATE:99991231\r\nSUMMARY:Forever"))
    assert busy.all_day == frozenset(FIRST + dt.timedelta(days=i) for i in range((UNTIL - FIRST).days))
    assert busy.events == 1


def test_events_at_the_ends_of_the_calendar_are_read_not_refused(tmp_path):
    busy, _ = _load(tmp_path, _cal("DTSTART;VALUE=DATE:99991231", "DTSTART:99991231T230000Z\r\nDURATION:PT1H",
                                   "DTSTART;VALUE=DATE:00010101",
                                   "DTSTART;TZID=Europe/Berlin:20270108T100000\r\nDURATION:PT30M"))
    assert _spans(busy) == [(_at(8, 1, 10), _at(8, 1, 10, 30))] and busy.warnings == ()
    late, _ = _load(tmp_path, _cal("DTSTART;VALUE=DATE:99991231"), first=dt.date(9999, 12, 1),
                    until=dt.date(9999, 12, 31))
    assert late.all_day == frozenset()
    last, _ = _load(tmp_path, _cal("DTSTART;VALUE=DATE:99991230\r\nDTEND;VALUE=DATE:99991231"),
                    first=dt.date(9999, 12, 1), until=dt.date(9999, 12, 31))
    assert last.all_day == {dt.date(9999, 12, 30)}


# ---------------------------------------------------------------- one bad event, not a refused calendar

def test_malformed_lines_skip_their_event_with_file_and_line(tmp_path):
    busy, path = _load(tmp_path, _cal(
        "DTSTART;TZID=Europe/Berlin:20270105T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO, TU",
        "DTSTART;VALUE=DATE:20270230",
        "DTSTART;TZID=Europe/Berlin:20270106T140000\r\nDTEND;TZID=Europe/Berlin:20270106T150000"))
    assert _spans(busy) == [(_at(6, 1, 14), _at(6, 1, 15))]
    assert [w.split(": ")[0] for w in busy.warnings] == [f"{path}:9", f"{path}:14"]
    assert "BYDAY" in busy.warnings[0] and "20270230" in busy.warnings[1]


def test_an_event_ending_before_it_starts_is_skipped_alike_with_or_without_rrule(tmp_path):
    busy, path = _load(tmp_path, _cal(
        "DTSTART;TZID=Europe/Berlin:20270105T110000\r\nDTEND;TZID=Europe/Berlin:20270105T100000",
        "DTSTART;TZID=Europe/Berlin:20270106T110000\r\nDTEND;TZID=Europe/Berlin:20270106T100000\r\n"
        "RRULE:FREQ=DAILY;COUNT=3",
        "DTSTART;TZID=Europe/Berlin:20270110T110000\r\nDTEND;TZID=Europe/Berlin:20270110T120000"))
    assert _spans(busy) == [(_at(10, 1, 11), _at(10, 1, 12))]
    assert len(busy.warnings) == 2 and all("before it starts" in w for w in busy.warnings)
    assert [w.split(": ")[0] for w in busy.warnings] == [f"{path}:4", f"{path}:10"]


def test_warnings_reach_the_upload_summary_and_the_plan_file(tmp_path):
    text = _cal("DTSTART;VALUE=DATE:20270230", "DTSTART:20270105T090000Z\r\nDURATION:PT1H")
    summary = summarise_busy_file(text.encode(), "mine.ics", "Europe/Berlin", FIRST, UNTIL)
    assert summary["events"] == 1 and summary["warnings"][0].startswith("mine.ics:7: event skipped")
    busy, _ = _load(tmp_path, text)
    assert busy.to_dict()["warnings"] == 1 and busy.to_dict()["per_source"][0]["warnings"] == list(busy.warnings)


@pytest.mark.parametrize("encode", [lambda t: t.encode("utf-16"), lambda t: t.replace("\r\n", "\r").encode(),
                                    lambda t: ("\ufeff" + t).encode()], ids=["utf-16", "cr-only", "utf-8-bom"])
def test_other_encodings_and_line_ends_are_read(tmp_path, encode):
    (tmp_path / "cal.ics").write_bytes(encode(_cal("DTSTART:20270105T090000Z\r\nDURATION:PT1H")))
    busy = load_busy([str(tmp_path / "cal.ics")], "Europe/Berlin", FIRST, UNTIL)
    assert _spans(busy) == [(_at(5, 1, 10), _at(5, 1, 11))]


def test_a_file_that_is_not_a_calendar_is_still_one_line():
    with pytest.raises(InputError, match="not an iCalendar file"):
        summarise_busy_file(b"hello", "x.ics", "UTC", FIRST, UNTIL)


# ---------------------------------------------------------------- zones and free/busy

@pytest.mark.parametrize(("tzid", "zone"), [
    ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
    ("(UTC-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
    ("(UTC) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
    ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
    ("(UTC+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("(UTC+02:00) Amman", "Asia/Amman"),  # the offset in the name is out of date: the zone's history applies
    ("(UTC) Casablanca", "Africa/Casablanca"),
])
def test_outlook_display_name_tzids_read_as_the_zone_they_name(tmp_path, tzid, zone):
    """OWA publications name zones by their display name, without a VTIMEZONE; a weekly series keeps its wall
    time in that zone across that zone's clock change (late March in the US and Europe)."""
    busy, _ = _load(tmp_path, _cal(f'DTSTART;TZID="{tzid}":20270301T090000\r\n'
                                   f'DTEND;TZID="{tzid}":20270301T100000\r\nRRULE:FREQ=WEEKLY;COUNT=6',
                                   f"DTSTART;TZID={tzid}:20270302T170000\r\nDURATION:PT1H"),
                    until=dt.date(2027, 4, 15))
    local = _spans(busy, ZoneInfo(zone))
    assert local[0] == (_at(1, 3, 9), _at(1, 3, 10)) and (_at(2, 3, 17), _at(2, 3, 18)) in local
    assert all(a.hour == 9 for a, _ in local if a.day != 2)
    assert len(local) == 7 and busy.warnings == ()


def test_a_tzid_naming_no_zone_is_a_warning_naming_it(tmp_path):
    busy, path = _load(tmp_path, _cal("DTSTART;TZID=Moon Base Time:20270105T090000\r\nDURATION:PT1H"))
    assert _spans(busy) == [(_at(5, 1, 9), _at(5, 1, 10))]
    assert len(busy.warnings) == 1 and "'Moon Base Time'" in busy.warnings[0] and "Europe/Berlin" in busy.warnings[0]
    assert busy.warnings[0].startswith(f"{path}:")


def test_freebusy_periods_are_busy_unless_free(tmp_path):
    text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Zimbra//EN\r\nBEGIN:VFREEBUSY\r\nORGANIZER:mailto:a@b\r\n"
            "DTSTART:20270101T000000Z\r\nDTEND:20270301T000000Z\r\n"
            "FREEBUSY;FBTYPE=BUSY:20270105T080000Z/20270105T090000Z,20270106T080000Z/PT30M\r\n"
            "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270107T080000Z/PT1H\r\n"
            "FREEBUSY:20270108T080000Z/PT1H\r\n"
            "FREEBUSY;FBTYPE=FREE:20270109T080000Z/PT8H\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n")
    busy, _ = _load(tmp_path, text)
    assert _spans(busy) == [(_at(5, 1, 9), _at(5, 1, 10)), (_at(6, 1, 9), _at(6, 1, 9, 30)),
                            (_at(7, 1, 9), _at(7, 1, 10)), (_at(8, 1, 9), _at(8, 1, 10))]
    assert busy.events == 4


# ---------------------------------------------------------------- servers

class _Trickle(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = _cal("DTSTART:20270105T090000Z\r\nDURATION:PT1H").encode()
        if self.path.startswith("/big"):
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()  # no Content-Length: the cap must be counted while reading
            try:
                for _ in range(40):
                    self.wfile.write(b"X-FILLER:" + b"x" * 65536 + b"\r\n")
            except OSError:
                pass
            return
        if self.path.startswith("/hang"):
            time.sleep(60)
            return
        if self.path.startswith("/secret") and self.headers.get("Authorization") != "Basic YWRhOnMzY3JldCE=":
            self.send_error(401, "Unauthorized")  # the password is ada:s3cret!
            return
        if self.path.startswith("/secret/missing"):
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                if self.path.startswith("/trickle"):
                    time.sleep(1)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with local_http_server(_Trickle) as base:
        yield base


def test_a_trickling_server_meets_the_total_deadline(server):
    started = time.monotonic()
    with pytest.raises(InputError, match=r"timed out \(no complete answer within 2 s"):
        read_source(f"{server}/trickle.ics", "busy[0]", timeout=2)
    assert time.monotonic() - started < 10


def test_a_server_sending_more_than_the_cap_is_cut_off(server):
    with pytest.raises(InputError, match="more than 1,000,000 bytes; the limit"):
        read_source(f"{server}/big.ics", "busy[0]", max_bytes=1_000_000)


def test_a_password_in_the_address_is_sent_but_never_shown(server):
    host = server.split("://", 1)[1]
    busy = load_busy([f"http://ada:s3cret%21@{host}/secret/cal.ics"], "Europe/Berlin", FIRST, UNTIL)
    assert busy.events == 1 and "s3cret" not in str(busy.to_dict())
    for url in (f"http://ada:s3cret%21@{host}/secret/missing.ics", f"http://ada:wrong@{host}/secret/cal.ics",
                "http://ada:s3cret@[::1/cal.ics", "http://ada:s3cret@127.0.0.1:notaport/cal.ics"):
        with pytest.raises(InputError) as err:
            load_busy([url], "UTC", FIRST, UNTIL)
        assert "s3cret" not in str(err.value) and "wrong" not in str(err.value), str(err.value)
        assert "\n" not in str(err.value)


def test_a_password_in_an_address_of_another_scheme_is_not_echoed():
    from planner.busy import normalise_source

    with pytest.raises(InputError) as err:
        normalise_source("ftp://ada:s3cret@example.org/cal.ics", "busy[0]")
    assert "s3cret" not in str(err.value) and "ada:***@example.org" in str(err.value)


def test_plan_with_a_trickling_address_answers_within_the_documented_deadline(server, tmp_path):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "planner", "plan", "--background", "ml_background",
                           "--hours-per-week", "10", "--start", "2027-01-04", "--busy", f"{server}/trickle.ics"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert time.monotonic() - started < 15 + 10  # the 15 s deadline, and the interpreter
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "timed out" in proc.stderr


def test_a_warning_is_printed_by_plan_on_stderr(tmp_path):
    path = tmp_path / "work.ics"
    path.write_text(_cal("DTSTART;VALUE=DATE:20270230", "DTSTART:20270105T170000Z\r\nDURATION:PT1H"))
    proc = subprocess.run([sys.executable, "-m", "planner", "plan", "--background", "ml_background",
                           "--hours-per-week", "30", "--start", "2027-01-04", "--busy", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert f"{path}:7: event skipped" in proc.stderr


# ---------------------------------------------------------------- the reading child

def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_reading_child_never_outlives_the_command(tmp_path, sig):
    """A calendar slow to read (a series whose rule is probed over decades), the command ended mid-read."""
    path = tmp_path / "big.ics"
    events = [f"DTSTART:{1900 + i % 100}0101T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=90000;"
              f"BYDAY=MO,TU,WE;BYHOUR=9,10" for i in range(400)]
    path.write_text(_cal(*events))
    proc = subprocess.Popen([sys.executable, "-m", "planner", "plan", "--background", "ml_background",
                             "--hours-per-week", "30", "--start", "2027-01-04", "--busy", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    children: list[int] = []
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline and proc.poll() is None:
        children = _children(proc.pid)
        time.sleep(0.05)
    assert children, "plan forks a reading child"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(c) for c in children)
