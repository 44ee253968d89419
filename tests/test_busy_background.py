"""`planner plan` reads busy calendars in a forked child while it loads the solver.

The answer must be the one an in-process read gives, whatever happens to the child: the same busy instants, the
same InputError naming the source, and a read in the parent when the child dies. Each check runs in a fresh
interpreter, because the test process itself has threads (where the reader rightly refuses to fork).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from planner.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOOGLE = str(Path(__file__).parent / "fixtures" / "busy" / "google.ics")


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_child_reads_what_the_process_itself_reads():
    out = _run(f"""
        import datetime as dt
        from planner.busy import BackgroundRead, load_busy
        args = ([{GOOGLE!r}], "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2028, 1, 1))
        reading = BackgroundRead(*args)
        assert reading._child is not None, "a single-threaded process on Linux forks"
        got, want = reading.result(), load_busy(*args)
        assert got == want and got.intervals == want.intervals and got.all_day == want.all_day, (got, want)
        assert got.events > 0
        print("same", got.events)
    """)
    assert out.startswith("same ")


def test_unreadable_source_is_the_same_input_error():
    out = _run("""
        import datetime as dt
        from planner.busy import BackgroundRead
        from planner.errors import InputError
        reading = BackgroundRead(["/nonexistent/work.ics"], "UTC", dt.date(2027, 1, 4), dt.date(2028, 1, 1),
                                 field="busy")
        assert reading._child is not None
        try:
            reading.result()
        except InputError as exc:
            print(exc.field, "|", exc.message)
    """)
    assert out.strip() == "busy[0] | file not found: /nonexistent/work.ics"


def test_a_killed_child_is_read_again_here():
    out = _run(f"""
        import datetime as dt, os, signal
        from planner.busy import BackgroundRead, load_busy
        args = ([{GOOGLE!r}], "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2028, 1, 1))
        reading = BackgroundRead(*args)
        os.kill(reading._child[0], signal.SIGKILL)
        assert reading.result().intervals == load_busy(*args).intervals
        print("read again")
    """)
    assert out.strip() == "read again"


def test_threads_running_means_no_fork():
    out = _run(f"""
        import datetime as dt, threading
        from planner.busy import BackgroundRead, load_busy
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        args = ([{GOOGLE!r}], "Europe/Berlin", dt.date(2027, 1, 4), dt.date(2028, 1, 1))
        reading = BackgroundRead(*args)
        stop.set()
        assert reading._child is None
        assert reading.result() == load_busy(*args)
        print("in process")
    """)
    assert out.strip() == "in process"


def test_command_line_plan_matches_the_in_process_read(tmp_path):
    """The plan the command writes (busy calendar read in a child) is the plan of an in-process read."""
    args = ["plan", "--background", "ml_background", "--hours-per-week", "18", "--start", "2027-01-04",
            "--timezone", "Europe/Berlin", "--busy", GOOGLE]
    forked = tmp_path / "forked.json"
    proc = subprocess.run([sys.executable, "-m", "planner", *args, "--json", str(forked)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    here = tmp_path / "here.json"
    assert main([*args, "--json", str(here)]) == 0
    a, b = json.loads(forked.read_text()), json.loads(here.read_text())
    for plan in (a, b):
        plan["summary"].pop("solver")
    assert a == b
    assert a["profile"]["busy"]["events"] > 0


def test_command_line_names_an_unreadable_calendar_by_its_flag():
    proc = subprocess.run([sys.executable, "-m", "planner", "plan", "--background", "ml_background",
                           "--hours-per-week", "18", "--busy", GOOGLE, "--busy", "/nonexistent/home.ics"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "planner: error: --busy[1]: file not found: /nonexistent/home.ics"


def test_the_same_calendar_is_parsed_once_per_process(monkeypatch):
    """The dashboard plans again with the same upload on every change: the second read is the kept one, a
    changed file is read anew."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from planner import busy

    monkeypatch.setattr(busy, "_PARSED_CACHE", {})
    calls = []
    real = busy._parse_busy
    monkeypatch.setattr(busy, "_parse_busy", lambda *a: calls.append(a) or real(*a))
    data = Path(GOOGLE).read_bytes()
    span = (ZoneInfo("Europe/Berlin"), dt.date(2027, 1, 4), dt.date(2028, 1, 1))
    first = busy.parse_busy(data, "google.ics", "busy[0]", *span)
    assert busy.parse_busy(data, "google.ics", "busy[0]", *span) is first and len(calls) == 1
    changed = data.replace(b"END:VCALENDAR", b"BEGIN:VEVENT\r\nUID:new@example.org\r\nDTSTART:20270105T100000Z\r\n"
                                             b"DTEND:20270105T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR")
    assert busy.parse_busy(changed, "google.ics", "busy[0]", *span).events == first.events + 1
    assert len(calls) == 2
    other_span = (ZoneInfo("Europe/Berlin"), dt.date(2027, 2, 1), dt.date(2028, 1, 1))
    busy.parse_busy(data, "google.ics", "busy[0]", *other_span)
    assert len(calls) == 3
