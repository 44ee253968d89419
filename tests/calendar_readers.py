"""The .ics read back by every calendar parser available here, each answering {uid: (start, end)} in UTC.

icalendar and vobject are Python test dependencies; ical.js (Thunderbird's parser) needs node and
`npm install` in tests/js; libical needs Debian's gir1.2-ical-3.0 with the system Python's python3-gi.
A missing parser skips only the tests that ask for it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "tests" / "js"
LIBICAL_READER = ROOT / "tests" / "libical" / "read_ics.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")

Instants = dict[str, tuple[dt.datetime, dt.datetime]]


def _utc(t: dt.datetime) -> dt.datetime:
    assert t.tzinfo is not None, "a floating time: the parser lost the zone"
    return t.astimezone(dt.UTC)


def read_icalendar(data: bytes) -> Instants:
    return {str(e["UID"]): (_utc(e.decoded("DTSTART")), _utc(e.decoded("DTEND")))
            for e in Calendar.from_ical(data).walk("VEVENT")}


def read_vobject(data: bytes) -> Instants:
    cal = vobject.readOne(data.decode("utf-8"))
    return {ev.uid.value: (_utc(ev.dtstart.value), _utc(ev.dtend.value)) for ev in cal.vevent_list}


def icaljs_available() -> bool:
    return shutil.which("node") is not None and (JS_DIR / "node_modules" / "ical.js").is_dir()


def run_icaljs(data: bytes, tmp: Path) -> list[dict]:
    if not icaljs_available():
        pytest.skip("ical.js is not installed (node, and `npm install` in tests/js)")
    path = tmp / "icaljs.ics"
    path.write_bytes(data)
    proc = subprocess.run([shutil.which("node") or "node", str(JS_DIR / "check_ics.mjs"), str(path)],
                          capture_output=True, text=True, cwd=JS_DIR, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def read_icaljs(data: bytes, tmp: Path) -> Instants:
    return {e["uid"]: (dt.datetime.fromisoformat(e["start_utc_iso"]), dt.datetime.fromisoformat(e["end_utc_iso"]))
            for e in run_icaljs(data, tmp)}


def libical_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import gi; gi.require_version('ICalGLib', '3.0'); "
                            "from gi.repository import ICalGLib"], capture_output=True, timeout=60)
    return probe.returncode == 0


def run_libical(data: bytes, tmp: Path) -> dict:
    if not libical_available():
        pytest.skip("libical's bindings are not installed (Debian: gir1.2-ical-3.0 and python3-gi)")
    path = tmp / "libical.ics"
    path.write_bytes(data)
    proc = subprocess.run([str(SYSTEM_PYTHON), str(LIBICAL_READER), str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def read_libical(data: bytes, tmp: Path) -> Instants:
    return {e["uid"]: (dt.datetime.fromtimestamp(e["start"], dt.UTC), dt.datetime.fromtimestamp(e["end"], dt.UTC))
            for e in run_libical(data, tmp)["events"]}


def read_all(data: bytes, tmp: Path) -> dict[str, Instants]:
    """Every parser that is installed; icalendar and vobject always."""
    out = {"icalendar": read_icalendar(data), "vobject": read_vobject(data)}
    if icaljs_available():
        out["ical.js"] = read_icaljs(data, tmp)
    if libical_available():
        out["libical"] = read_libical(data, tmp)
    return out
