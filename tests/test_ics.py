"""The .ics export read back by three parsers: icalendar, vobject and (when installed) Mozilla's ical.js."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import vobject
from icalendar import Calendar

from planner.curriculum import load_curriculum
from planner.export import plan_to_ics
from planner.plan import Plan
from tests.conftest import ROOT, SQL_PATH, plan_ok

JS_DIR = ROOT / "tests" / "js"
ZONES = {
    # zone: a start date whose plan spans a daylight-saving change
    "Europe/Berlin": "2027-03-15",
    "America/New_York": "2027-10-18",
    "Australia/Sydney": "2027-03-22",
}


@pytest.fixture(scope="module")
def zone_plans(sql) -> dict[str, Plan]:
    return {tz: plan_ok(sql, background="beginner", hours_per_week=6, start=start, timezone=tz,
                        session_start="18:30")
            for tz, start in ZONES.items()}


@pytest.fixture(scope="module")
def ml_year_plan(ml) -> Plan:
    """A whole year in Berlin: both daylight-saving changes of 2027."""
    return plan_ok(ml, background="ml_background", hours_per_week=16, timezone="Europe/Berlin")


def _vevents(data: bytes):
    return list(Calendar.from_ical(data).walk("VEVENT"))


def _assert_instants_match(plan: Plan, data: bytes) -> None:
    by_uid = {s.uid: s for s in plan.sessions}
    parsed = vobject.readOne(data.decode("utf-8"))
    assert len(parsed.vevent_list) == len(by_uid)
    for ev in parsed.vevent_list:
        s = by_uid[ev.uid.value]
        start, end = ev.dtstart.value, ev.dtend.value
        assert start.tzinfo is not None
        assert start == s.start, (s.uid, start.isoformat(), s.start.isoformat())
        assert end == s.end
        assert start.utcoffset() == s.start.utcoffset()


@pytest.mark.parametrize("tz", list(ZONES))
def test_uids_stamps_and_timezone(zone_plans, tz):
    plan = zone_plans[tz]
    assert len({s.start.utcoffset() for s in plan.sessions}) == 2  # the plan spans a change
    data = plan_to_ics(plan)
    cal = Calendar.from_ical(data)
    events = _vevents(data)
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))
    assert sorted(uids) == sorted(s.uid for s in plan.sessions)
    for e in events:
        assert "DTSTAMP" in e
        assert "SEQUENCE" in e and int(e["SEQUENCE"]) == 0
        assert e["DTSTART"].params.get("TZID") == tz
    zones = list(cal.walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == [tz]
    kinds = {c.name for c in zones[0].subcomponents}
    assert kinds == {"STANDARD", "DAYLIGHT"}
    assert b"RRULE:FREQ=YEARLY" in data


@pytest.mark.parametrize("tz", list(ZONES))
def test_vobject_reads_the_plans_start_instants(zone_plans, tz):
    plan = zone_plans[tz]
    _assert_instants_match(plan, plan_to_ics(plan))


def test_vobject_reads_a_whole_year(ml_year_plan):
    _assert_instants_match(ml_year_plan, plan_to_ics(ml_year_plan))


def test_icalendar_reads_the_plans_start_instants(zone_plans):
    for plan in zone_plans.values():
        by_uid = {s.uid: s for s in plan.sessions}
        for e in _vevents(plan_to_ics(plan)):
            assert e.decoded("DTSTART") == by_uid[str(e["UID"])].start


def test_utc_export_has_no_vtimezone(zone_plans):
    plan = zone_plans["Europe/Berlin"]
    data = plan_to_ics(plan, utc=True)
    assert b"BEGIN:VTIMEZONE" not in data
    by_uid = {s.uid: s for s in plan.sessions}
    for ev in vobject.readOne(data.decode()).vevent_list:
        assert ev.dtstart.value == by_uid[ev.uid.value].start
        assert ev.dtstart.value.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("tz", [*ZONES, "ml-year"])
def test_line_length_and_crlf(zone_plans, ml_year_plan, tz):
    plan = ml_year_plan if tz == "ml-year" else zone_plans[tz]
    data = plan_to_ics(plan)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")
    assert b"\r\r" not in data
    lines = data.split(b"\r\n")[:-1]
    assert lines
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # long descriptions are folded, not cut


def test_special_characters_round_trip(tmp_path):
    title = 'Joins, sets; and a \\ backslash\nsecond line'
    resource = "Book: A, B; C \\ D\nnext"
    text = SQL_PATH.read_text(encoding="utf-8").replace(
        '        title: Joins and set operations\n',
        '        title: "Joins, sets; and a \\\\ backslash\\nsecond line"\n'
        '        resources: ["Book: A, B; C \\\\ D\\nnext"]\n',
    )
    path = tmp_path / "special.yaml"
    path.write_text(text, encoding="utf-8")
    curriculum = load_curriculum(path)
    assert curriculum.topic("sql-joins").title == title
    assert curriculum.topic("sql-joins").resources == (resource,)
    plan = plan_ok(curriculum, background="beginner", hours_per_week=6, timezone="Europe/Berlin")
    data = plan_to_ics(plan)
    joins = {s.uid for s in plan.sessions if s.topic == "sql-joins" and s.kind == "study"}
    assert joins
    expected_summary = f"Phase 1 · {title}"

    seen = 0
    for e in _vevents(data):
        if str(e["UID"]) in joins:
            assert str(e["SUMMARY"]) == expected_summary
            assert f"Resources: {resource}" in str(e["DESCRIPTION"])
            seen += 1
    assert seen == len(joins)

    seen = 0
    for ev in vobject.readOne(data.decode("utf-8")).vevent_list:
        if ev.uid.value in joins:
            assert ev.summary.value == expected_summary
            assert f"Resources: {resource}" in ev.description.value
            seen += 1
    assert seen == len(joins)
    # the dependent topic's "Builds on" line carries the title too
    norm = next(e for e in _vevents(data) if str(e["SUMMARY"]).startswith("Phase 2 · Keys and normalisation"))
    assert f"Builds on: {title}" in str(norm["DESCRIPTION"])


def _node_events(ics: Path) -> list[dict[str, str]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js is not installed (run `npm install` in tests/js)")
    proc = subprocess.run([node, str(JS_DIR / "check_ics.mjs"), str(ics)], capture_output=True, text=True,
                          cwd=JS_DIR, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _utc_iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.mark.parametrize("tz", [*ZONES, "ml-year"])
def test_ical_js_reads_the_plans_instants(zone_plans, ml_year_plan, tmp_path, tz):
    plan = ml_year_plan if tz == "ml-year" else zone_plans[tz]
    ics = tmp_path / "plan.ics"
    ics.write_bytes(plan_to_ics(plan))
    got = _node_events(ics)
    assert len(got) == len(plan.sessions)
    expected = {s.uid: (_utc_iso(s.start), _utc_iso(s.end)) for s in plan.sessions}
    assert {e["uid"]: (e["start_utc_iso"], e["end_utc_iso"]) for e in got} == expected
