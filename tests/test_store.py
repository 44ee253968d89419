"""The dashboard's store: versions and undo, the stale-tab check, migration, damaged files, big backups."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
from pathlib import Path

import pytest

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.export import plan_to_dict
from planner.plan import Plan
from planner.store import (
    MAX_IMPORT_BYTES,
    SCHEMA_VERSION,
    StaleVersion,
    Store,
    StoreError,
    parse_state,
    set_aside_and_start_fresh,
)
from tests.conftest import plan_ok

PROFILE = {"background": "ml_background", "hours_per_week": 16, "start": "2027-01-04"}


@pytest.fixture(scope="module")
def plan(ml: Curriculum) -> Plan:
    return plan_ok(ml, background="ml_background", hours_per_week=18)


def test_every_save_is_a_version_and_any_can_be_restored(tmp_path: Path, plan: Plan) -> None:
    store = Store(tmp_path / "s.db")
    first = store.save("Ann", PROFILE, plan_to_dict(plan))
    assert first.version == 1
    second = store.save("Ann", {**PROFILE, "hours_per_week": 20}, None, note="made a plan")
    assert second.version == 2
    assert [v.version for v in store.versions("Ann")] == [2, 1]
    assert store.versions("Ann")[1].finish == plan.finish.isoformat()
    back = store.restore("Ann", 1)
    assert back.version == 3 and back.plan == plan_to_dict(plan) and back.profile == PROFILE
    assert store.load("Ann").profile == PROFILE  # type: ignore[union-attr]
    assert store.versions("Ann")[0].note == "restored version 1"
    with pytest.raises(InputError):
        store.restore("Ann", 99)


def test_stale_tab_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.save("Ann", PROFILE, None)
    tab_a = store.load("Ann").version  # type: ignore[union-attr]
    tab_b = tab_a
    store.save("Ann", {**PROFILE, "hours_per_week": 17}, None, expected_version=tab_b)  # tab B saves first
    with pytest.raises(StaleVersion) as exc:
        store.save("Ann", {**PROFILE, "hours_per_week": 30}, None, expected_version=tab_a)
    assert exc.value.current == tab_a + 1
    assert store.load("Ann").profile["hours_per_week"] == 17  # type: ignore[union-attr]
    assert [v.version for v in store.versions("Ann")] == [2, 1]


def test_schema_1_database_migrates_and_keeps_its_learners(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE learners (name TEXT PRIMARY KEY, profile TEXT NOT NULL, plan TEXT, updated_at TEXT NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO learners VALUES ('Old', '{"background": "ml_background", "hours_per_week": 12}', NULL,
                                     '2026-01-01');
        INSERT INTO meta VALUES ('last', 'Old');
    """)
    conn.commit()
    conn.close()
    store = Store(db)
    old = store.load("Old")
    assert old is not None and old.profile["hours_per_week"] == 12 and old.version == 1
    assert [v.version for v in store.versions("Old")] == [1]
    assert store.save("Old", PROFILE, None, expected_version=1).version == 2
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    Store(db)  # opening again is a no-op


def _damage(db: Path, how: str) -> None:
    if how == "random bytes":
        db.write_bytes(os.urandom(8192))
    elif how == "future schema":
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
        conn.close()
    elif how == "non-JSON row":
        conn = sqlite3.connect(db)
        conn.execute("UPDATE learners SET profile = '{not json' WHERE name = 'Bad'")
        conn.commit()
        conn.close()


@pytest.mark.parametrize("how", ["random bytes", "future schema", "non-JSON row"])
def test_damaged_database_is_one_message_and_fresh_start_keeps_what_reads(tmp_path: Path, how: str) -> None:
    db = tmp_path / "planner.db"
    store = Store(db)
    store.save("Good", PROFILE, None)
    store.save("Bad", PROFILE, None)
    _damage(db, how)
    with pytest.raises(StoreError) as exc:
        s = Store(db)
        s.load("Bad")
        s.last()
    assert "\n" not in exc.value.message
    original = db.read_bytes()
    aside, kept = set_aside_and_start_fresh(db)
    assert aside.name == "planner.db.corrupt" and aside.read_bytes() == original
    fresh = Store(db)
    assert fresh.names() == sorted(kept, key=str.lower)
    if how == "random bytes":
        assert kept == []
    else:
        assert "Good" in kept and fresh.load("Good").profile == PROFILE  # type: ignore[union-attr]
    if how == "non-JSON row":
        assert kept == ["Good"]


def test_read_only_database_reads_and_refuses_saves_in_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through file permissions")
    db = tmp_path / "planner.db"
    Store(db).save("Ann", PROFILE, None)
    Store(db)  # checkpoint the WAL so the read-only file holds everything
    db.chmod(0o444)
    try:
        store = Store(db)
        assert store.readonly and store.load("Ann") is not None
        with pytest.raises(StoreError) as exc:
            store.save("Ann", PROFILE, None)
        assert "read-only" in exc.value.message
    finally:
        db.chmod(0o644)


def test_read_only_error_message_as_root(tmp_path: Path) -> None:
    from planner.store import _describe

    assert "read-only" in _describe(sqlite3.OperationalError("attempt to write a readonly database"))


def test_backup_of_a_hundred_tracked_learners_round_trips(tmp_path: Path, ml: Curriculum, plan: Plan) -> None:
    store = Store(tmp_path / "a.db")
    data = plan_to_dict(plan)
    for i in range(100):
        store.save(f"Learner {i:03d}", PROFILE, data, tracked=True)
    exported = store.export_state()
    assert len(exported) < MAX_IMPORT_BYTES
    other = Store(tmp_path / "b.db")
    assert len(other.import_state(exported, ml)) == 100
    assert other.load("Learner 042").plan == data  # type: ignore[union-attr]
    again = Store(tmp_path / "c.db")
    assert len(again.import_state(gzip.compress(exported), ml)) == 100  # a compressed backup reads too


@pytest.mark.parametrize("payload", [b"\x1f\x8bnot gzip", b"\xff\xfe", b"[1, 2]", b'{"format": 3}',
                                     json.dumps({"format": "planner.state/1", "learners": [{"name": "A", "profile": {
                                         "background": "ml_background", "hours_per_week": 9},
                                         "plan": {"x": 1}, "tracked": True}]}).encode()])
def test_malformed_backups_are_refused_cleanly(tmp_path: Path, ml: Curriculum, payload: bytes) -> None:
    with pytest.raises(InputError) as exc:
        parse_state(payload, ml)
    assert "\n" not in str(exc.value)


def test_cli_reports_a_damaged_database_in_one_line_and_starts_fresh(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from planner.cli import main

    db = tmp_path / "planner.db"
    Store(db).save("Ann", PROFILE, None)
    assert main(["learners", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("Ann\tversion 1")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE learners SET plan = 'nope{' WHERE name = 'Ann'")
    conn.commit()
    conn.close()
    Store(db).save("Bob", PROFILE, None)
    assert main(["learners", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Ann" in err and "--start-fresh" in err
    assert main(["learners", "--db", str(db), "--start-fresh"]) == 0
    assert "1 learner(s) carried over" in capsys.readouterr().out
    assert Store(db).names() == ["Bob"] and (tmp_path / "planner.db.corrupt").exists()
    db.write_bytes(os.urandom(4096))
    assert main(["learners", "--db", str(db)]) == 2
    assert "damaged" in capsys.readouterr().err
