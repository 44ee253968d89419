"""Crash safety: a process SIGKILLed mid-save leaves the dashboard's SQLite store and atomically written files
readable, with the last committed state intact. Bounded loops, local files only.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planner.store import Store
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

PAD = 400_000  # characters of padding per saved plan: each save writes ~0.8 MB through the store's API

# The child saves learner states in a loop through planner.store and reports on stdout before and after each save.
STORE_WRITER = textwrap.dedent("""
    import hashlib, sys
    from planner.store import Store
    store = Store(sys.argv[1])
    pad = int(sys.argv[2])
    for n in range(1, 10_000):
        body = (str(n) * pad)[:pad]
        plan = {"format": "planner.plan/1", "version": n, "body": body, "more": [body[::-1]],
                "sha": hashlib.sha256(body.encode()).hexdigest()}
        profile = {"background": "beginner", "hours_per_week": 5, "start": "2027-01-04", "version": n}
        print(f"writing {n}", flush=True)
        store.save(("ada", "grace")[n % 2], profile, plan)
        print(f"saved {n}", flush=True)
""")


def _check_learner(store: Store, name: str) -> int:
    learner = store.load(name)
    assert learner is not None and learner.plan is not None
    plan = learner.plan
    n = plan["version"]
    assert learner.profile["version"] == n
    assert len(plan["body"]) == PAD and plan["more"] == [plan["body"][::-1]]
    assert hashlib.sha256(plan["body"].encode()).hexdigest() == plan["sha"]
    return int(n)


def _integrity(db: Path) -> tuple[str, str]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_store_killed_mid_save_keeps_last_committed_state(tmp_path: Path) -> None:
    delays = [0.0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.015, 0.03]
    mid_save = sum(_kill_round(tmp_path / f"round{i}.db", delay) for i, delay in enumerate(delays))
    assert mid_save >= 1, "no kill landed inside a save; the test proved nothing"


def _kill_round(db: Path, delay: float) -> bool:
    """Run the writer, SIGKILL it `delay` s after it starts a save, check the DB; True if the kill hit a save."""
    proc = subprocess.Popen([sys.executable, "-c", STORE_WRITER, str(db), str(PAD)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    saved = 0
    writing = 0
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # bounded: the writer stops after its loop, and we stop at the deadline
            kind, n = line.split()
            if kind == "saved":
                saved = int(n)
            elif kind == "writing":
                writing = int(n)
                if writing >= 6:  # both learners committed at least twice: now kill it mid-save
                    time.sleep(delay)
                    os.kill(proc.pid, signal.SIGKILL)
                    break
            assert time.monotonic() < deadline, "the writer never got going"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    # the child may have run ahead of what we had read when the kill landed: its full report is in the pipe
    assert proc.stdout is not None
    for line in proc.stdout.read().splitlines():
        kind, n = line.split()
        saved, writing = (int(n), writing) if kind == "saved" else (saved, int(n))
    assert saved >= writing - 1 >= 5

    check, mode = _integrity(db)
    assert check == "ok"
    assert mode == "wal"
    store = Store(db)
    versions = {name: _check_learner(store, name) for name in ("ada", "grace")}
    # the save in flight either committed completely or not at all; nothing older than the last commit is lost
    assert max(versions.values()) in (saved, writing)
    assert min(versions.values()) >= saved - 1
    last = store.last()
    assert last is not None and last.plan is not None and last.plan["version"] == max(versions.values())
    # and the store keeps working after the crash
    store.save("ada", {"background": "beginner", "hours_per_week": 5, "version": -1}, None)
    assert store.load("ada") is not None and store.load("ada").profile["version"] == -1  # type: ignore[union-attr]
    assert _integrity(db) == ("ok", "wal")
    return writing > saved


ATOMIC_WRITER = textwrap.dedent("""
    import sys
    from planner.atomic import write_atomic
    print("writing", flush=True)
    write_atomic(sys.argv[1], b"N" * int(sys.argv[2]))
    print("written", flush=True)
""")


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_atomic_write_killed_midway_leaves_old_file(tmp_path: Path, delay: float) -> None:
    target = tmp_path / "plan.json"
    old = json.dumps({"format": "planner.plan/1", "old": True}).encode()
    target.write_bytes(old)
    size = 300_000_000  # big enough that the write (and its fsync) is still running when the kill lands
    proc = subprocess.Popen([sys.executable, "-c", ATOMIC_WRITER, str(target), str(size)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    data = target.read_bytes()
    assert data == old or data == b"N" * size  # never half of either
    if data != old:
        pytest.skip("the child finished its write before the kill landed")
    # A SIGKILLed writer cannot remove its temp file; it is a dot-file next to the target, never the target itself.
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(name.startswith(".plan.json.") and name.endswith(".tmp") for name in leftovers), leftovers
