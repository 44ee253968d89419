"""Two commands on one plan file at once take turns: `mark` holds a lock on the plan across read, tick and rewrite,
so no tick is lost (before, two `mark` runs at once both said success and one tick was gone, 2–3 of 6 every run);
`replan` reads under the same lock, so it sees the file before or after a tick, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli import main
from planner.errors import InputError
from planner.planfile import lock_plan
from tests.conftest import ROOT, SQL_PATH

CONTENT = str(SQL_PATH)
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _statuses(path: Path) -> dict[str, str]:
    return {s["uid"]: s["status"] for s in json.loads(path.read_text(encoding="utf-8"))["sessions"]}


def _start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "planner", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


@pytest.fixture
def plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "plan.json"
    assert main(["plan", "--content", CONTENT, "--background", "beginner", "--hours-per-week", "5", "--start",
                 "2027-01-04", "--json", str(path)]) == 0
    capsys.readouterr()
    return path


def test_concurrent_marks_keep_every_tick(plan_file: Path) -> None:
    uids = list(_statuses(plan_file))
    for round_ in range(3):  # the lost tick was a race: a few rounds, each with fresh sessions
        batch = uids[round_ * 7:(round_ + 1) * 7]
        procs = [_start("mark", str(plan_file), "--content", CONTENT, "--done", uid) for uid in batch]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        statuses = _statuses(plan_file)
        assert all(statuses[uid] == "done" for uid in uids[:(round_ + 1) * 7]), f"round {round_}: a tick was lost"
    assert sorted(p.name for p in plan_file.parent.iterdir()) == ["plan.json"]  # no lock or temporary file left


def test_marks_during_a_replan_are_kept_and_the_replan_is_whole(plan_file: Path, tmp_path: Path) -> None:
    uids = list(_statuses(plan_file))[:6]
    new = tmp_path / "new.json"
    replanning = _start("replan", str(plan_file), "--content", CONTENT, "--today", "2027-01-11", "--json", str(new))
    marks = [_start("mark", str(plan_file), "--content", CONTENT, "--done", uid) for uid in uids]
    for proc in [replanning, *marks]:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert all(_statuses(plan_file)[uid] == "done" for uid in uids)
    assert json.loads(new.read_text(encoding="utf-8"))["summary"]["replanned_on"] == "2027-01-11"


def test_a_mark_through_a_symlink_waits_for_one_on_the_file(plan_file: Path, tmp_path: Path) -> None:
    """The lock is on the file, not the name: a link to it and the file itself take turns too."""
    link = tmp_path / "link.json"
    link.symlink_to(plan_file)
    uids = list(_statuses(plan_file))[:6]
    procs = [_start("mark", str(link if i % 2 else plan_file), "--content", CONTENT, "--done", uid)
             for i, uid in enumerate(uids)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert link.is_symlink() and all(_statuses(plan_file)[uid] == "done" for uid in uids)


def test_a_plan_locked_too_long_is_one_line_and_unchanged(plan_file: Path) -> None:
    before = plan_file.read_bytes()
    with plan_file.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another command in the middle of its change
        with pytest.raises(InputError) as exc, lock_plan(plan_file, wait=0.3):
            plan_file.write_bytes(b"never reached")
    assert str(exc.value).startswith(f"{plan_file}: another planner command") and "\n" not in str(exc.value)
    assert plan_file.read_bytes() == before
    with lock_plan(plan_file, wait=0.3):  # free again once the other command is done
        pass
