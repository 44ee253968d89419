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
