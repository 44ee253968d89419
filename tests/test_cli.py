"""The `planner` command: exit codes, one-line errors naming the field, nothing written on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli import main
from tests.conftest import ROOT, SQL_PATH

SQL_ARGS = ["plan", "--content", str(SQL_PATH), "--background", "beginner", "--start", "2027-01-04"]


def _outputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "plan.ics", tmp_path / "plan.json", tmp_path / "plan.csv"


def _out_args(tmp_path: Path) -> list[str]:
    ics, js, csv = _outputs(tmp_path)
    return ["--ics", str(ics), "--json", str(js), "--csv", str(csv)]


def test_plan_writes_files(tmp_path, capsys):
    rc = main([*SQL_ARGS, "--hours-per-week", "5", "--timezone", "Europe/Berlin", *_out_args(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    ics, js, csv = _outputs(tmp_path)
    for p in (ics, js, csv):
        assert p.exists() and p.stat().st_size > 0
        assert f"wrote {p}" in captured.out
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["path"]["id"] == "sql-foundations"
    n = len(data["sessions"])
    assert n > 0
    assert ics.read_bytes().count(b"BEGIN:VEVENT") == n
    assert len(csv.read_text(encoding="utf-8").splitlines()) == n + 1
    assert captured.err == ""
    assert sorted(tmp_path.iterdir()) == sorted((ics, js, csv))  # and no temp files left


def test_plan_default_path_writes_files(tmp_path, capsys):
    js = tmp_path / "p.json"
    rc = main(["plan", "--background", "ml_background", "--hours-per-week", "16", "--start", "2027-01-04",
               "--json", str(js)])
    assert rc == 0
    assert json.loads(js.read_text())["path"]["id"] == "ml-ai-engineer"
    assert "inside the 9-12 month range" in capsys.readouterr().out


def test_infeasible_exit_3(tmp_path, capsys):
    rc = main(["plan", "--background", "ml_background", "--hours-per-week", "8", "--start", "2027-01-04",
               *_out_args(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 3
    assert "h/week" in captured.err
    assert "Study at least" in captured.err
    assert "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


def _bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    rc = main([*argv, *_out_args(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 2, captured
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert err.startswith("planner: error: ")
    assert list(tmp_path.iterdir()) == []  # nothing written
    return err


@pytest.mark.parametrize("argv,field", [
    (["--background", "wizard", "--hours-per-week", "5"], "--background"),
    (["--hours-per-week", "0"], "--hours-per-week"),
    (["--hours-per-week", "-1"], "--hours-per-week"),
    (["--hours-per-week", "abc"], "--hours-per-week"),
    (["--hours-per-week", "150"], "--hours-per-week"),
    (["--hours-per-week", "5", "--start", "2027-02-30"], "--start"),
    (["--hours-per-week", "5", "--blackout", "2027-03-10..2027-03-01"], "--blackout"),
    (["--hours-per-week", "5", "--timezone", "Mars/Olympus_Mons"], "--timezone"),
    (["--hours-per-week", "5", "--days", "mon,funday"], "--days"),
    (["--hours-per-week", "5", "--day-hours", "mon=1,sat=2"], "--day-hours"),
    (["--hours-per-week", "5", "--skip", "sql-nothing"], "--skip"),
], ids=["background", "hours-0", "hours-neg", "hours-abc", "hours-150", "date", "blackout", "timezone", "days",
        "day-hours", "skip"])
def test_bad_flag_exit_2(tmp_path, capsys, argv, field):
    base = [a for a in SQL_ARGS if a not in ("--background", "beginner")] if "--background" in argv else SQL_ARGS
    err = _bad(tmp_path, capsys, [*base, *argv])
    assert f"{field}: " in err or f"{field}[" in err


def test_missing_content_file(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    err = _bad(tmp_path, capsys, ["plan", "--content", str(missing), "--background", "beginner",
                                  "--hours-per-week", "5"])
    assert "content" in err and "not found" in err and str(missing) in err


def test_invalid_content_file(tmp_path, capsys):
    bad_dir = tmp_path / "in"
    bad_dir.mkdir()
    content = bad_dir / "bad.yaml"
    content.write_text(SQL_PATH.read_text().replace("        hours: 5\n", "        hours: -5\n"))
    line = next(i for i, s in enumerate(content.read_text().splitlines(), 1) if "hours: -5" in s)
    out = tmp_path / "out"
    out.mkdir()
    rc = main(["plan", "--content", str(content), "--background", "beginner", "--hours-per-week", "5",
               *_out_args(out)])
    captured = capsys.readouterr()
    assert rc == 2
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert f"{content}:{line}: phases[1].topics[1].hours" in err
    assert list(out.iterdir()) == []


def test_missing_profile_file(tmp_path, capsys):
    err = _bad(tmp_path, capsys, [*SQL_ARGS, "--profile", str(tmp_path / "me.yaml")])
    assert "--profile" in err and "not found" in err


def test_profile_with_unknown_field(tmp_path, capsys):
    pdir = tmp_path / "profiles"
    pdir.mkdir()
    profile = pdir / "me.yaml"
    profile.write_text("background: beginner\nhours_per_week: 5\nfavourite_colour: blue\n")
    out = tmp_path / "out"
    out.mkdir()
    rc = main(["plan", "--content", str(SQL_PATH), "--profile", str(profile), *_out_args(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert "favourite_colour" in err and str(profile) in err and "unknown field" in err
    assert list(out.iterdir()) == []


def test_profile_file_with_flag_override(tmp_path, capsys):
    profile = tmp_path / "me.yaml"
    profile.write_text("background: beginner\nhours_per_week: 1\nstart: 2027-01-04\n")
    js = tmp_path / "p.json"
    assert main(["plan", "--content", str(SQL_PATH), "--profile", str(profile), "--hours-per-week", "6",
                 "--json", str(js)]) == 0
    assert json.loads(js.read_text())["profile"]["hours_per_week"] == 6


@pytest.mark.parametrize("argv,code", [
    (["--hours-per-week", "abc"], 2),
    (["--hours-per-week", "0.5"], 3),
])
def test_existing_output_untouched_on_failure(tmp_path, capsys, argv, code):
    ics, js, csv = _outputs(tmp_path)
    old = {ics: b"OLD ICS\r\n", js: b'{"old": true}\n', csv: b"old,csv\n"}
    for p, data in old.items():
        p.write_bytes(data)
    rc = main([*SQL_ARGS, *argv, *_out_args(tmp_path)])
    capsys.readouterr()
    assert rc == code
    for p, data in old.items():
        assert p.read_bytes() == data
    assert sorted(tmp_path.iterdir()) == sorted(old)  # no temp files left behind


def test_module_entry_point(tmp_path):
    js = tmp_path / "p.json"
    proc = subprocess.run(
        [sys.executable, "-m", "planner", *SQL_ARGS, "--hours-per-week", "5", "--json", str(js)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {js}" in proc.stdout
    assert json.loads(js.read_text())["format"] == "planner.plan/1"
    bad = subprocess.run([sys.executable, "-m", "planner", *SQL_ARGS, "--hours-per-week", "abc"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "--hours-per-week" in bad.stderr
