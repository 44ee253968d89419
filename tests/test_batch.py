"""`planner batch`: a cohort CSV planned into a directory, on the process pool and on a local Ray."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from planner.batch import STATE_FILE, safe_names
from planner.cli import main
from tests.conftest import ROOT, SQL_PATH

HEADER = "name,background,hours_per_week,start,days,skip\n"
COHORT = HEADER + (
    "Ada,beginner,10,2027-01-04,,\n"
    "Bob,beginner,0.5,2027-01-04,,\n"              # does not fit
    "Bad hours,beginner,lots,2027-01-04,,\n"       # bad hours
    ",beginner,10,2027-01-04,,\n"                  # no name
    "Cy,astronaut,10,2027-01-04,,\n"               # unknown background
    "../x,developer,8,2027-01-04,mon;wed;sat,\n"   # path tricks, `;` lists
    "/etc/passwd,beginner,6,2027-01-04,,\n"
    "CON,beginner,10,2027-01-04,,\n"
    "ada,beginner,12,2027-01-04,,\n"               # the same file as Ada on a case-blind disk
    "Dee,beginner,10,2027-01-04,,,extra\n"         # more cells than columns
    "Fay,beginner,10\n"                            # trailing empty cells left out: the defaults
    "=HYPERLINK(1),beginner,x,,,\n"               # a formula-like name stays text in a spreadsheet
)


def _batch(tmp_path: Path, text: str, out: str, *extra: str) -> tuple[int, Path]:
    learners = tmp_path / "learners.csv"
    learners.write_text(text)
    rc = main(["batch", str(learners), "--out", str(tmp_path / out), "--content", str(SQL_PATH), *extra])
    return rc, tmp_path / out


def _summary(out: Path) -> list[dict[str, str]]:
    with (out / "summary.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _ics(path: Path) -> bytes:
    """The .ics bytes but DTSTAMP (the export's own time)."""
    data = re.sub(rb"DTSTAMP:[0-9TZ]+\r\n", b"", path.read_bytes())
    assert b"DTSTAMP" not in data and b"BEGIN:VEVENT" in data
    return data


def _json(path: Path) -> bytes:
    """The plan JSON's bytes but the solver's timings (wall-clock seconds differ between any two runs of
    `planner plan`)."""
    return re.sub(rb'"(seconds|build_seconds|focus_seconds)": [0-9.e+-]+', rb'"\1": 0', path.read_bytes())


def test_a_mixed_cohort_plans_the_good_rows_and_reports_every_row(tmp_path: Path) -> None:
    rc, out = _batch(tmp_path, COHORT, "out", "--workers", "2")
    assert rc == 0
    rows = _summary(out)
    assert list(rows[0]) == ["name", "status", "finish", "months", "min_hours_per_week", "message"]
    by = {r["name"]: r for r in rows}
    assert len(rows) == 12
    assert by["'=HYPERLINK(1)"]["status"] == "error"
    assert by["Dee"]["status"] == "error" and "cells" in by["Dee"]["message"]
    assert by["Fay"]["status"] == "planned"
    assert by["Ada"]["status"] == "planned" and by["Ada"]["finish"] and float(by["Ada"]["months"]) <= 4
    assert by["Bob"]["status"] == "does-not-fit" and float(by["Bob"]["min_hours_per_week"]) > 0.5
    assert by["Bob"]["message"].startswith("Does not fit")
    assert by["Bad hours"]["status"] == "error" and "hours_per_week" in by["Bad hours"]["message"]
    assert by[""]["status"] == "error" and "name" in by[""]["message"]
    assert by["Cy"]["status"] == "error" and "astronaut" in by["Cy"]["message"]
    assert all("\n" not in r["message"] for r in rows)
    for name in ("../x", "/etc/passwd", "CON", "ada"):
        assert by[name]["status"] == "planned", by[name]
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted([STATE_FILE, "summary.csv", "Ada.json", "Ada.ics", "x.json", "x.ics", "etc_passwd.json",
                            "etc_passwd.ics", "_CON.json", "_CON.ics", "ada-2.json", "ada-2.ics",
                            "Fay.json", "Fay.ics"])
    assert not (tmp_path / "x.json").exists()
    assert json.loads((out / "ada-2.json").read_text())["profile"]["hours_per_week"] == 12


def test_names_become_safe_distinct_file_names() -> None:
    names = ["../x", "/etc/passwd", "a\x00b", "tab\there", "nul", "COM1.txt", "", "..", "x", "X", "summary",
             "Zoë"]
    stems = safe_names(names)
    assert stems == ["x", "etc_passwd", "ab", "tabhere", "_nul", "_COM1.txt", "learner", "learner-2", "x-2", "X-3",
                     "_summary", "Zoë"]
    assert all("/" not in s and "\\" not in s and s.isprintable() and not s.startswith(".") for s in stems)


def test_plans_equal_planner_plan_whatever_the_workers(tmp_path: Path) -> None:
    rows = HEADER + "Ada,beginner,10,2027-01-04,,\n../x,developer,8,2027-01-04,mon;wed;sat,\n" \
                    "Eve,beginner,6,2027-01-04,tue;thu;sat;sun,\n"
    assert _batch(tmp_path, rows, "one", "--workers", "1")[0] == 0
    assert _batch(tmp_path, rows, "two", "--workers", "2")[0] == 0
    for stem in ("Ada", "x", "Eve"):
        assert (tmp_path / "one" / f"{stem}.ics").read_bytes() != b""
        assert _ics(tmp_path / "one" / f"{stem}.ics") == _ics(tmp_path / "two" / f"{stem}.ics")
        assert _json(tmp_path / "one" / f"{stem}.json") == _json(tmp_path / "two" / f"{stem}.json")
    for stem, flags in (("Ada", ["--background", "beginner", "--hours-per-week", "10"]),
                        ("x", ["--background", "developer", "--hours-per-week", "8", "--days", "mon,wed,sat"])):
        js, ics = tmp_path / f"{stem}-plan.json", tmp_path / f"{stem}-plan.ics"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "planner", "plan", "--content", str(SQL_PATH), "--start",
                               "2027-01-04", *flags, "--json", str(js), "--ics", str(ics)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert _ics(ics) == _ics(tmp_path / "two" / f"{stem}.ics")
        assert _json(js) == _json(tmp_path / "two" / f"{stem}.json")


def test_resume_keeps_unchanged_learners_and_redoes_a_changed_one(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    first = HEADER + "Ada,beginner,10,2027-01-04,,\nBob,beginner,0.5,2027-01-04,,\nEve,beginner,6,2027-01-04,,\n"
    rc, out = _batch(tmp_path, first, "out", "--workers", "1")
    assert rc == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    summary = _summary(out)
    changed = first.replace("Eve,beginner,6", "Eve,beginner,12")
    rc, _ = _batch(tmp_path, changed, "out", "--workers", "1", "--resume")
    assert rc == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert (out / "Ada.json").stat().st_mtime_ns == before["Ada.json"]
    assert (out / "Eve.json").stat().st_mtime_ns != before["Eve.json"]
    assert json.loads((out / "Eve.json").read_text())["profile"]["hours_per_week"] == 12
    again = _summary(out)
    assert [r for r in again if r["name"] != "Eve"] == [r for r in summary if r["name"] != "Eve"]
    # a planned learner whose files were removed is planned again; a run without --resume redoes everyone
    (out / "Ada.ics").unlink()
    rc, _ = _batch(tmp_path, changed, "out", "--workers", "1", "--resume")
    assert rc == 0 and (out / "Ada.ics").exists()
    assert "2 unchanged" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["missing", "directory", "not-utf8", "no-name-column", "unknown-column", "empty"])
def test_a_csv_that_cannot_be_read_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         what: str) -> None:
    learners = tmp_path / "learners.csv"
    if what == "directory":
        learners.mkdir()
    elif what == "not-utf8":
        learners.write_bytes(b"name,background\n\xff\xfe,beginner\n")
    elif what == "no-name-column":
        learners.write_text("background,hours_per_week\nbeginner,10\n")
    elif what == "unknown-column":
        learners.write_text("name,background,colour\nAda,beginner,red\n")
    elif what == "empty":
        learners.write_text("")
    rc = main(["batch", str(learners), "--out", str(tmp_path / "out"), "--content", str(SQL_PATH)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("planner: error:") and "\n" not in err
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_engine_ray_without_ray_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    rc, out = _batch(tmp_path, HEADER + "Ada,beginner,10,2027-01-04,,\n", "out", "--engine", "ray")
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "study-planner[cluster]" in err
    assert not out.exists()


def test_ray_engine_makes_the_same_plans_as_the_local_pool(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    rows = HEADER + "Ada,beginner,10,2027-01-04,,\nBob,beginner,0.5,2027-01-04,,\nCy,astronaut,10,2027-01-04,,\n" \
                    "../x,developer,8,2027-01-04,mon;wed;sat,\n"
    assert _batch(tmp_path, rows, "local", "--workers", "2")[0] == 0
    assert _batch(tmp_path, rows, "ray", "--workers", "2", "--engine", "ray")[0] == 0  # ray.init(num_cpus=2)
    import ray

    assert not ray.is_initialized()  # shut down at the end
    assert _summary(tmp_path / "ray") == _summary(tmp_path / "local")
    for stem in ("Ada", "x"):
        assert _ics(tmp_path / "ray" / f"{stem}.ics") == _ics(tmp_path / "local" / f"{stem}.ics")
        assert _json(tmp_path / "ray" / f"{stem}.json") == _json(tmp_path / "local" / f"{stem}.json")


def test_nightly_replan_of_saved_plans_keeps_their_marks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = HEADER + "Ada,beginner,10,2027-01-04,,\nEve,beginner,6,2027-01-04,,\n"
    rc, saved = _batch(tmp_path, rows, "saved", "--workers", "1")
    assert rc == 0
    assert main(["mark", str(saved / "Ada.json"), "--content", str(SQL_PATH), "--done-through", "2027-01-17"]) == 0
    ada = json.loads((saved / "Ada.json").read_text())
    before = (saved / "Ada.json").read_bytes()
    night = tmp_path / "night"
    argv = ["batch", "--replan", str(saved), "--today", "2027-01-18", "--out", str(night), "--content",
            str(SQL_PATH), "--workers", "1"]
    assert main(argv) == 0
    assert {r["name"]: r["status"] for r in _summary(night)} == {"Ada": "planned", "Eve": "planned"}
    assert (saved / "Ada.json").read_bytes() == before  # the saved plans are history: never rewritten
    new = json.loads((night / "Ada.json").read_text())
    done = [s["uid"] for s in ada["sessions"] if s.get("status") == "done"]
    assert done and all(s["status"] == "done" for s in new["sessions"] if s["uid"] in done)
    assert (night / "Eve.ics").exists()
    capsys.readouterr()
    assert main([*argv[:-4], "--out", str(saved)]) == 2  # into the saved plans themselves: refused
    assert "history" in capsys.readouterr().err


def _store_with_three_learners(tmp_path: Path) -> Path:
    """Ada on track (done through the day before), Eve behind (nothing marked for two weeks), Cy without a plan
    (his last inputs did not fit), saved the way the dashboard and `planner learners add` save them."""
    from planner.store import Store

    rows = HEADER + "Ada,beginner,10,2027-01-04,,\nEve,beginner,6,2027-01-04,,\n"
    rc, plans = _batch(tmp_path, rows, "plans", "--workers", "1")
    assert rc == 0
    assert main(["mark", str(plans / "Ada.json"), "--content", str(SQL_PATH), "--done-through", "2027-01-17"]) == 0
    db = tmp_path / "planner.db"
    for name in ("Ada", "Eve"):
        assert main(["learners", "add", name, "--plan", str(plans / f"{name}.json"), "--content", str(SQL_PATH),
                     "--db", str(db)]) == 0
    Store(db).save("Cy", {"background": "beginner", "hours_per_week": 0.5, "start": "2027-01-04"}, None,
                   note="saved")
    return db


def test_nightly_replan_of_the_dashboards_learners_saves_versions_once(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from planner.curriculum import load_curriculum
    from planner.export.json import plan_from_dict
    from planner.store import Store

    db = _store_with_three_learners(tmp_path)
    store = Store(db)
    before = {n: store.load(n) for n in ("Ada", "Eve", "Cy")}
    argv = ["batch", "--db", str(db), "--today", "2027-01-18", "--out", str(tmp_path / "night"), "--content",
            str(SQL_PATH), "--workers", "2"]
    capsys.readouterr()
    assert main(argv) == 0
    assert "2 new versions, 0 unchanged" in capsys.readouterr().out
    by = {r["name"]: r for r in _summary(tmp_path / "night")}
    assert {n: r["status"] for n, r in by.items()} == {"Ada": "planned", "Cy": "error", "Eve": "planned"}
    assert "no plan saved" in by["Cy"]["message"]
    sql = load_curriculum(SQL_PATH)
    for name in ("Ada", "Eve"):
        rec = store.load(name)
        old = before[name]
        assert rec is not None and old is not None
        assert rec.version == old.version + 1 and rec.tracked and rec.profile == old.profile
        assert store.versions(name)[0].note == "re-planned from 2027-01-18 (planner batch)"
        assert by[name]["message"].startswith(f"version {rec.version}: kept ")
        plan = plan_from_dict(rec.plan, sql)  # the dashboard's reader takes the new version
        assert plan.replanned_on is not None and plan.replanned_on.isoformat() == "2027-01-18"
        assert by[name]["finish"] == plan.finish.isoformat()
        assert [s for s in plan.sessions if s.start.date() >= plan.replanned_on and s.status != "planned"
                and s.status != "cancelled"] == []
    ada = store.load("Ada")
    assert ada is not None and ada.plan is not None and before["Ada"] is not None and before["Ada"].plan is not None
    done = {s["uid"] for s in before["Ada"].plan["sessions"] if s.get("status") == "done"}
    assert done and {s["uid"] for s in ada.plan["sessions"] if s.get("status") == "done"} == done
    eve = store.load("Eve")
    assert eve is not None and eve.plan is not None
    assert any(s.get("status") == "missed" for s in eve.plan["sessions"])  # behind: the past is missed
    cy = store.load("Cy")
    assert cy is not None and before["Cy"] is not None and cy.version == before["Cy"].version  # untouched
    # the same night again: nothing changed, so no second version
    assert main(argv) == 0
    assert "0 new versions, 2 unchanged" in capsys.readouterr().out
    again = {r["name"]: r for r in _summary(tmp_path / "night")}
    assert all(store.version_of(n) == before[n].version + 1 for n in ("Ada", "Eve"))  # type: ignore[union-attr]
    assert "no new version" in again["Ada"]["message"] and again["Ada"]["finish"] == by["Ada"]["finish"]
    # a day later the plan does change: a new version again
    assert main([*argv[:4], "2027-01-19", *argv[5:]]) == 0
    assert store.version_of("Eve") == before["Eve"].version + 2  # type: ignore[union-attr]


@pytest.mark.parametrize("what", ["damaged", "missing", "no-today"])
def test_db_that_cannot_be_used_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      what: str) -> None:
    db = tmp_path / "planner.db"
    if what == "damaged":
        db.write_bytes(b"this is not a database" * 100)
    elif what == "no-today":
        _store_with_three_learners(tmp_path)
    capsys.readouterr()
    today = [] if what == "no-today" else ["--today", "2027-01-18"]
    rc = main(["batch", "--db", str(db), *today, "--out", str(tmp_path / "night"), "--content", str(SQL_PATH)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("planner: error:") and "\n" not in err
    assert not (tmp_path / "night").exists()
    if what == "damaged":
        assert db.read_bytes() == b"this is not a database" * 100  # the learner's file, untouched


def test_learners_with_the_same_inputs_are_planned_once_and_each_gets_the_files(tmp_path: Path,
                                                                                 capsys: pytest.CaptureFixture[str]
                                                                                 ) -> None:
    rows = HEADER + ("Ada,beginner,10,2027-01-04,,\nBo,beginner,10,2027-01-04,,\nCy,beginner,10,2027-01-04,mon;tue;"
                     "wed;thu;fri;sat;sun,\nDee,beginner,12,2027-01-04,,\nEd,beginner,0.5,2027-01-04,,\n"
                     "Fi,beginner,0.5,2027-01-04,,\n")
    rc, out = _batch(tmp_path, rows, "out", "--workers", "2")
    assert rc == 0
    # Bo and Cy have Ada's resolved profile (every day is the default): one solve, so even the solver's timings
    # and DTSTAMP are the same bytes; Dee's differs
    for stem in ("Bo", "Cy"):
        assert (out / f"{stem}.json").read_bytes() == (out / "Ada.json").read_bytes()
        assert (out / f"{stem}.ics").read_bytes() == (out / "Ada.ics").read_bytes()
    assert _json(out / "Dee.json") != _json(out / "Ada.json")
    by = {r["name"]: r for r in _summary(out)}
    assert [by[n]["status"] for n in ("Ada", "Bo", "Cy", "Dee", "Ed", "Fi")] == ["planned"] * 4 + ["does-not-fit"] * 2
    assert by["Fi"] == {**by["Ed"], "name": "Fi"}
    capsys.readouterr()
    rc, _ = _batch(tmp_path, rows, "out", "--workers", "1", "--resume")
    assert rc == 0 and "6 unchanged" in capsys.readouterr().out


def test_a_dashboard_save_during_the_night_job_is_never_overwritten(tmp_path: Path) -> None:
    """A tab that saves Eve while the night job re-plans her: whichever write comes second is refused (the tab is
    told to reload, or the night's row says run again), never a silent overwrite."""
    import threading

    from planner.store import StaleVersion, Store

    db = _store_with_three_learners(tmp_path)
    store = Store(db)
    eve = store.load("Eve")
    assert eve is not None and eve.plan is not None
    tab: dict[str, object] = {}

    def dashboard_tab() -> None:
        try:
            tab["saved"] = store.save("Eve", eve.profile, eve.plan, tracked=True, expected_version=eve.version,
                                      note="marked on the dashboard")
        except StaleVersion as exc:
            tab["stale"] = exc

    thread = threading.Timer(0.3, dashboard_tab)
    thread.start()
    assert main(["batch", "--db", str(db), "--today", "2027-01-18", "--out", str(tmp_path / "night"), "--content",
                 str(SQL_PATH), "--workers", "1"]) == 0
    thread.join(30)
    row = {r["name"]: r for r in _summary(tmp_path / "night")}["Eve"]
    notes = [v.note for v in store.versions("Eve")]
    if "stale" in tab:  # the night saved first: the tab must reload
        assert row["status"] == "planned" and notes[0] == "re-planned from 2027-01-18 (planner batch)"
    elif row["status"] == "error":  # the tab saved first, after the night read Eve: the night leaves her
        assert "saved on the dashboard meanwhile" in row["message"] and notes[0] == "marked on the dashboard"
    else:  # the tab saved before the night read Eve: the night re-planned the tab's version
        assert notes[:2] == ["re-planned from 2027-01-18 (planner batch)", "marked on the dashboard"]
    assert store.version_of("Eve") == eve.version + 1 + (row["status"] == "planned" and "saved" in tab)


def test_the_dashboards_learners_re_planned_on_ray_as_on_the_pool(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from planner.store import Store

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    stores = [_store_with_three_learners(tmp_path / "a"), _store_with_three_learners(tmp_path / "b")]
    for db, engine in zip(stores, ("local", "ray"), strict=True):
        assert main(["batch", "--db", str(db), "--today", "2027-01-18", "--out", str(db.parent / "night"),
                     "--content", str(SQL_PATH), "--workers", "2", "--engine", engine]) == 0
    local, ray = (Store(db) for db in stores)
    assert _summary(stores[1].parent / "night") == _summary(stores[0].parent / "night")
    for name in ("Ada", "Eve"):
        a, b = local.load(name), ray.load(name)
        assert a is not None and b is not None and a.version == b.version
        assert a.plan is not None and b.plan is not None
        assert a.plan["sessions"] == b.plan["sessions"]
