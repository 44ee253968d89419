"""Output files, all or nothing: a failed run changes no file; symlinks are written through; modes are ordinary.

The refusals (same file twice, directory, FIFO, device, unwritable, an input file) are rows of the bad-input
table in test_bad_input.py; here are the rules that need more than one command to see.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import planner.atomic as atomic
from planner.atomic import write_all, write_atomic
from planner.cli import main
from planner.errors import InputError
from tests.conftest import ROOT

CONTENT = str(ROOT / "content" / "sql-foundations.yaml")


def _plan(tmp_path: Path, *outputs: str) -> list[str]:
    return ["plan", "--content", CONTENT, "--background", "beginner", "--hours-per-week", "5", "--start",
            "2027-01-04", *outputs]


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file() and not p.is_symlink()}


def test_a_failed_rename_midway_rolls_back_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = {"a.json": b"old json", "b.ics": b"old ics"}  # c.csv does not exist yet
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    real_replace = os.replace
    calls: list[str] = []

    def failing_third(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing_third)
    with pytest.raises(InputError) as exc:
        write_all([(tmp_path / "a.json", b"new json"), (tmp_path / "c.csv", b"new csv"),
                   (tmp_path / "b.ics", b"new ics")])
    assert "b.ics: cannot write: No space left on device" in str(exc.value)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert _files(tmp_path) == old  # a.json back to its old bytes, c.csv removed, no temporary files left


def test_a_failed_cli_run_leaves_earlier_outputs_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.json").write_bytes(b"old")
    rc = main(_plan(tmp_path, "--json", str(tmp_path / "p.json"), "--ics", str(tmp_path / "missing" / "p.ics")))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "no directory" in err
    assert _files(tmp_path) == {"p.json": b"old"}


def test_symlink_is_written_through_to_its_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synced = tmp_path / "synced"
    synced.mkdir()
    target = synced / "plan.ics"
    target.write_bytes(b"old")
    link = tmp_path / "plan.ics"
    link.symlink_to(target)
    assert main(_plan(tmp_path, "--ics", str(link))) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link stays a link
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR")
    dangling = tmp_path / "new.json"
    dangling.symlink_to(synced / "new.json")
    assert main(_plan(tmp_path, "--json", str(dangling))) == 0
    assert dangling.is_symlink() and (synced / "new.json").read_bytes().startswith(b"{")
    capsys.readouterr()


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_bytes(b"old")
    kept.chmod(0o604)
    old_mask = os.umask(0o027)
    try:
        write_all([(tmp_path / "new.json", b"new"), (kept, b"new")])
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_bytes() == b"new"


def test_mark_rewrites_the_plan_in_place_through_a_symlink(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.json"
    assert main(_plan(tmp_path, "--json", str(real))) == 0
    link = tmp_path / "plan.json"
    link.symlink_to(real)
    assert main(["mark", str(link), "--content", CONTENT, "--done-through", "2027-01-10"]) == 0
    assert link.is_symlink() and '"status": "done"' in real.read_text(encoding="utf-8")
    capsys.readouterr()


def test_hard_links_to_one_file_count_as_the_same_output(tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    first.write_bytes(b"old")
    os.link(first, tmp_path / "b.json")
    with pytest.raises(InputError, match="same file"):
        write_all([(first, b"1"), (tmp_path / "b.json", b"2")])
    assert first.read_bytes() == b"old"


def test_write_atomic_refuses_special_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for target, words in ((fifo, "not a regular file"), (tmp_path, "directory"), (Path("/dev/null"), "regular")):
        with pytest.raises(InputError, match=words):
            write_atomic(target, b"x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# ------------------------------------------------------------------ an output never overwrites an input
GOOGLE = ROOT / "tests" / "fixtures" / "busy" / "google.ics"


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    before = _files(Path(argv[argv.index("--content") + 1]).parent) if "--content" in argv else {}
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "would overwrite" in err, err
    for word in words:
        assert word in err, (word, err)
    if before:
        assert _files(Path(argv[argv.index("--content") + 1]).parent) == before
    return err


def test_plan_never_writes_over_its_busy_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`plan --busy work.ics --ics work.ics` used to replace the learner's own calendar with the plan."""
    work = tmp_path / "work.ics"
    work.write_bytes(GOOGLE.read_bytes())
    (tmp_path / "sql.yaml").write_bytes(Path(CONTENT).read_bytes())
    base = ["plan", "--content", str(tmp_path / "sql.yaml"), "--background", "beginner", "--hours-per-week", "5",
            "--start", "2027-01-04", "--timezone", "Europe/Berlin"]
    _refused([*base, "--busy", str(work), "--ics", str(work)], capsys, f"--ics {work}", "(--busy)")
    link = tmp_path / "calendar-link.ics"
    link.symlink_to(work)
    _refused([*base, "--busy", str(work), "--ics", str(link)], capsys, "--ics", "(--busy)")
    hard = tmp_path / "same-calendar.csv"
    os.link(work, hard)
    _refused([*base, "--busy", str(link), "--csv", str(hard)], capsys, "--csv", "(--busy)")
    profile = tmp_path / "me.yaml"  # a calendar named in the profile, found beside it
    profile.write_text("busy: [work.ics]\n", encoding="utf-8")
    _refused([*base, "--profile", str(profile), "--json", str(work)], capsys, "--json", "(--busy)")
    _refused([*base, "--profile", str(profile), "--json", str(profile)], capsys, "--json", "(--profile)")
    assert work.read_bytes() == GOOGLE.read_bytes()


def test_replan_never_writes_over_the_plan_it_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sql.yaml").write_bytes(Path(CONTENT).read_bytes())
    plan = tmp_path / "plan.json"
    assert main(["plan", "--content", str(tmp_path / "sql.yaml"), "--background", "beginner", "--hours-per-week",
                 "5", "--start", "2027-01-04", "--json", str(plan)]) == 0
    capsys.readouterr()
    link, hard = tmp_path / "link.json", tmp_path / "hard.json"
    link.symlink_to(plan)
    os.link(plan, hard)
    base = ["replan", str(plan), "--content", str(tmp_path / "sql.yaml"), "--today", "2027-02-01"]
    for flag, out in (("--json", plan), ("--json", link), ("--ics", hard), ("--csv", tmp_path / "." / "plan.json")):
        _refused([*base, flag, str(out)], capsys, f"{flag} {out}", "PLAN.json, the plan being re-planned")
    _refused([*base, "--json", str(tmp_path / "new.json"), "--ics", str(tmp_path / "sql.yaml")], capsys,
             "--ics", "(--content)")
    assert not (tmp_path / "new.json").exists()
    assert main([*base, "--json", str(tmp_path / "new.json")]) == 0  # another file: fine
    capsys.readouterr()


def test_replan_never_writes_over_a_calendar_the_plan_reads(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work.ics"
    work.write_bytes(GOOGLE.read_bytes())
    plan = tmp_path / "plan.json"
    assert main(["plan", "--content", CONTENT, "--background", "beginner", "--hours-per-week", "5", "--start",
                 "2027-01-04", "--timezone", "Europe/Berlin", "--window", "mon-sun=08:00-22:00", "--busy", str(work),
                 "--json", str(plan)]) == 0
    capsys.readouterr()
    err = _refused(["replan", str(plan), "--content", CONTENT, "--today", "2027-02-01", "--ics", str(work)], capsys,
                   f"--ics {work}", "the plan's busy calendar")
    assert "Traceback" not in err and work.read_bytes() == GOOGLE.read_bytes()


def test_the_shipped_learning_path_is_an_input_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = ROOT / "content" / "ml-ai-engineer.yaml"
    before = shipped.read_bytes()
    rc = main(["plan", "--background", "ml_background", "--hours-per-week", "18", "--csv", str(shipped)])
    err = capsys.readouterr().err
    assert rc == 2 and "would overwrite" in err and "(--content)" in err and shipped.read_bytes() == before
