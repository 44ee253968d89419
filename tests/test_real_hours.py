"""Real time, recorded in one step on the command line; the forecast command; re-planning at the learner's pace."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from planner.cli import main
from planner.validate import validate_plan
from tests.conftest import SQL_PATH

SQL = ["--content", str(SQL_PATH)]


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    assert main(["plan", *SQL, "--background", "beginner", "--hours-per-week", "8", "--start", "2027-01-04",
                 "--json", str(path)]) == 0
    return path


def _data(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _study(data: dict) -> list[dict]:
    return [s for s in data["sessions"] if s["kind"] == "study"]


def _topic(data: dict, tid: str) -> dict:
    return next(t for t in data["topics"] if t["id"] == tid)


def test_done_with_the_time_it_took_is_kept_in_json_and_csv(plan_file, tmp_path, capsys):
    uid = _study(_data(plan_file))[0]["uid"]
    assert main(["mark", str(plan_file), *SQL, "--done", uid, "--hours", "2.25"]) == 0
    session = next(s for s in _data(plan_file)["sessions"] if s["uid"] == uid)
    assert session["status"] == "done" and session["real_hours"] == 2.25
    assert session["done_hours"] == session["hours"]  # progress still counts the planned hours
    out = tmp_path / "again.csv"
    assert main(["replan", str(plan_file), *SQL, "--today", "2027-01-04", "--csv", str(out)]) == 0
    rows = {r["uid"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    assert float(rows[uid]["real_hours"]) == 2.25
    assert all(r["real_hours"] == "" for r in rows.values() if r["status"] == "planned")


def test_done_without_hours_means_as_planned(plan_file):
    uid = _study(_data(plan_file))[0]["uid"]
    assert main(["mark", str(plan_file), *SQL, "--done", uid]) == 0
    assert "real_hours" not in next(s for s in _data(plan_file)["sessions"] if s["uid"] == uid)


@pytest.mark.parametrize(("argv", "field"), [
    (["--hours", "2"], "--hours"),  # without --done
    (["--done", "UID", "--hours", "0"], "--hours"),
    (["--done", "UID", "--hours", "25"], "--hours"),
    (["--done", "UID", "--hours", "lots"], "--hours"),
    (["--topic-done", "nope=3"], "--topic-done"),
    (["--topic-done", "TOPIC=-1"], "--topic-done"),
    (["--more-hours", "TOPIC"], "--more-hours"),
    (["--more-hours", "TOPIC=0"], "--more-hours"),
    (["--more-hours", "TOPIC=2", "TOPIC=3"], "--more-hours"),
])
def test_bad_real_hours_are_refused_and_nothing_is_written(plan_file, capsys, argv, field):
    data = _data(plan_file)
    uid, topic = _study(data)[0]["uid"], _study(data)[0]["topic"]
    before = plan_file.read_bytes()
    argv = [a.replace("UID", uid).replace("TOPIC", topic) for a in argv]
    if argv[0] == "--hours":
        argv = ["--missed", uid, *argv]
    assert main(["mark", str(plan_file), *SQL, *argv]) == 2
    assert field in capsys.readouterr().err
    assert plan_file.read_bytes() == before


def test_topic_done_with_its_hours_and_by_default_the_hours_done_on_it(plan_file):
    data = _data(plan_file)
    a, b = list(dict.fromkeys(s["topic"] for s in _study(data)))[:2]
    one = next(s for s in _study(data) if s["topic"] == b)
    assert main(["mark", str(plan_file), *SQL, "--done", one["uid"], "--hours", "1.5"]) == 0
    assert main(["mark", str(plan_file), *SQL, "--topic-done", f"{a}=11.5", b]) == 0
    data = _data(plan_file)
    assert _topic(data, a)["real_hours"] == 11.5
    assert _topic(data, b)["real_hours"] == 1.5  # the hours done on it before it was marked finished
    assert all(s["status"] == "done" for s in _study(data) if s["topic"] in (a, b))
    assert data["summary"]["forecast"]["pace"]["topics_measured"] == 2


def test_more_hours_are_scheduled_by_the_next_replan(plan_file, tmp_path):
    data = _data(plan_file)
    topic = _study(data)[0]["topic"]
    estimate = _topic(data, topic)["hours"]
    assert main(["mark", str(plan_file), *SQL, "--more-hours", f"{topic}=2.2"]) == 0
    data = _data(plan_file)
    t = _topic(data, topic)
    assert t["hours"] == estimate + 2.5 and t["more_hours"] == 2.5 and t["estimate_hours"] == estimate
    assert all(s["status"] == "done" for s in _study(data) if s["topic"] == topic)
    new = tmp_path / "new.json"
    assert main(["replan", str(plan_file), *SQL, "--today", "2027-01-20", "--json", str(new)]) == 0
    fresh = [s for s in _study(_data(new)) if s["topic"] == topic and s["status"] == "planned"]
    assert math.isclose(sum(s["hours"] for s in fresh), 2.5)
    # once those are done too, the topic is finished and measured against the path's estimate
    assert _data(new)["summary"]["forecast"]["pace"]["topics_measured"] == 0
    assert main(["mark", str(new), *SQL, "--done", *(s["uid"] for s in fresh)]) == 0
    assert _data(new)["summary"]["forecast"]["pace"]["topics_measured"] == 1
    from planner.curriculum import load_curriculum
    from planner.export.json import load_plan
    from planner.pace import finished_topics

    [m] = finished_topics(load_plan(new, load_curriculum(SQL_PATH)))
    assert (m.estimate_hours, m.real_hours) == (estimate, estimate + 2.5)


def test_forecast_command_prints_and_writes_the_plans_forecast(plan_file, tmp_path, capsys):
    out = tmp_path / "forecast.json"
    assert main(["forecast", str(plan_file), *SQL, "--today", "2027-01-04", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Finish:" in text and "chance to finish inside it" in text
    assert json.loads(out.read_text(encoding="utf-8")) == _data(plan_file)["summary"]["forecast"]
    assert main(["forecast", str(plan_file), *SQL, "--today", "someday"]) == 2
    assert main(["forecast", str(plan_file), *SQL, "--json", str(plan_file)]) == 2  # never over its input


def test_replan_at_the_measured_pace(plan_file, tmp_path):
    """A learner at 1.5× the estimate: --pace measured plans each open topic at its estimate × their multiplier,
    rounded up to half hours; the default keeps the plan's hours."""
    from planner.curriculum import load_curriculum
    from planner.export.json import load_plan

    data = _data(plan_file)
    topics = [t for t in data["topics"] if t["kind"] == "study"]
    done = topics[:3]
    argv = [f"{t['id']}={t['hours'] * 1.5}" for t in done]
    assert main(["mark", str(plan_file), *SQL, "--topic-done", *argv]) == 0
    pace = _data(plan_file)["summary"]["forecast"]["pace"]
    assert pace["by_kind"]["project"]["topics_measured"] == 0  # so projects are planned at the study pace too
    same, paced = tmp_path / "same.json", tmp_path / "paced.json"
    assert main(["replan", str(plan_file), *SQL, "--today", "2027-02-01", "--allow-late", "--json", str(same)]) == 0
    assert main(["replan", str(plan_file), *SQL, "--today", "2027-02-01", "--allow-late", "--pace", "measured",
                 "--json", str(paced)]) == 0
    assert [t["hours"] for t in _data(same)["topics"]] == [t["hours"] for t in data["topics"]]
    for before, after in zip(data["topics"], _data(paced)["topics"], strict=True):
        if before["id"] in {t["id"] for t in done}:
            assert after["hours"] == before["hours"]
            continue
        assert after["hours"] == math.ceil(before["hours"] * 2 * pace["multiplier"] - 1e-9) / 2
        assert after["hours"] >= before["hours"]
        assert after.get("estimate_hours", after["hours"]) == before["hours"]
    plan = load_plan(paced, load_curriculum(SQL_PATH))
    assert [p for p in validate_plan(plan) if p.rule != "month-range"] == []


def test_the_catch_up_menu_is_computed_at_the_pace_chosen(tmp_path, capsys):
    """A tight plan: at the plan's hours the re-plan fits; at a slow learner's pace it does not, and the menu's
    hours are those of the slower pace."""
    path = tmp_path / "plan.json"
    assert main(["plan", *SQL, "--background", "developer", "--hours-per-week", "6", "--start", "2027-01-04",
                 "--json", str(path)]) == 0
    data = _data(path)
    first = [t for t in data["topics"] if t["kind"] == "study"][:2]
    argv = [f"{t['id']}={t['hours'] * 2.5}" for t in first]
    assert main(["mark", str(path), *SQL, "--topic-done", *argv]) == 0
    capsys.readouterr()
    assert main(["replan", str(path), *SQL, "--today", "2027-01-11"]) == 0
    code = main(["replan", str(path), *SQL, "--today", "2027-01-11", "--pace", "measured"])
    err = capsys.readouterr().err
    assert code == 3, err
    left = float(err.split("Behind: ")[1].split(" h left")[0])
    planned = _data(path)["summary"]["hours"]["planned"]
    assert left > 1.5 * planned  # the hours left at the learner's pace, not the plan's


def test_the_reader_refuses_malformed_real_hours(plan_file, capsys):
    data = _data(plan_file)
    cases = [
        ("sessions", {"real_hours": 1.0}, "real_hours"),  # a planned session has no real hours
        ("done-session", {"real_hours": "2"}, "real_hours"),
        ("done-session", {"real_hours": 30}, "real_hours"),
        ("topic", {"real_hours": -1}, "real_hours"),
        ("topic", {"more_hours": 0.7}, "more_hours"),
        ("topic", {"estimate_hours": True}, "estimate_hours"),
    ]
    for where, extra, field in cases:
        bad = json.loads(json.dumps(data))
        if where == "topic":
            bad["topics"][0].update(extra)
        else:
            s = bad["sessions"][0]
            if where == "done-session":
                s["status"] = "done"
            s.update(extra)
        plan_file.write_text(json.dumps(bad), encoding="utf-8")
        assert main(["forecast", str(plan_file), *SQL]) == 2, extra
        assert field in capsys.readouterr().err
