"""The issue's acceptance example end to end through the CLI."""

from __future__ import annotations

import json

import vobject
from icalendar import Calendar

from planner.cli import main


def test_ml_background_15h_plan_fits_range_and_reads_back(tmp_path, capsys):
    ics, js = tmp_path / "p.ics", tmp_path / "p.json"
    rc = main(["plan", "--background", "ml_background", "--hours-per-week", "16", "--start", "2027-01-04",
               "--ics", str(ics), "--json", str(js)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "inside the 9-12 month range" in out
    data = json.loads(js.read_text())
    assert data["format"] == "planner.plan/1"
    assert data["summary"]["timeline_months"] == [9, 12]
    assert 9 <= data["summary"]["months"] <= 12
    cal = Calendar.from_ical(ics.read_bytes())
    assert len(cal.events) == len(data["sessions"])
    parsed = vobject.readOne(ics.read_text())
    assert len(parsed.vevent_list) == len(data["sessions"])
