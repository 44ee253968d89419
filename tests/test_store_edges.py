"""The learners store at the edges of the real world: a full disk, a read-only or damaged file, a typo in --db,
odd names, a learning path that is not shipped, backups whose calendars are elsewhere. Every store command answers
one line; nothing is moved, created or lost that the learner did not ask for.

A full disk is a small tmpfs (as root; skipped where mounting is not permitted) or SQLite's max_page_count; a
read-only file is a read-only remount of that tmpfs (root writes through file permissions).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner import sqlite_db
from planner.caldav_sync import SyncState, _Row, calendar_address
from planner.cli import main
from planner.curriculum import Curriculum, parse_curriculum
from planner.errors import InputError
from planner.export import plan_to_dict, plan_to_json
from planner.feed import FeedBuilder
from planner.feedtokens import FeedTokens, feed_path
from planner.plan import Plan
from planner.progress import mark_done_through
from planner.store import Store, StoreError, check_name, set_aside_and_start_fresh, shown_name
from tests.conftest import SQL_PATH, plan_ok
from tests.servers import feed_server, fetch, free_port

RAW = {"background": "beginner", "hours_per_week": 6, "timezone": "America/New_York", "start": "2027-01-04"}

ANN_CALENDAR = calendar_address("https://cal.example/ann/").key  # sync state is kept by the canonical key


@pytest.fixture(scope="module")
def small_plan(sql: Curriculum) -> Plan:
    return plan_ok(sql, background="beginner", hours_per_week=6, timezone="America/New_York")


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "1m") -> Iterator[Path]:
    """A small RAM disk at `where` (root only); skips the test where mounting is not permitted."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode(errors='replace').strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte; removing the returned file frees the space again."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * chunk)
    return filler


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True, capture_output=True)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


# ---------------------------------------------------------------- a full disk is not damage


def test_full_disk_says_so_changes_nothing_and_the_database_works_after(tmp_path: Path, small_plan: Plan,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "planner.db"
        store = Store(db)
        store.save("Ann", RAW, plan_to_dict(small_plan), tracked=True)
        token = FeedTokens(db).token("Ann")
        plan_file = tmp_path / "plan.json"
        plan_file.write_bytes(plan_to_json(small_plan))
        before = db.read_bytes()
        filler = fill(disk)

        for argv in (["learners", "--db", str(db)], ["learners", "--db", str(db), "--start-fresh"],
                     ["feed", "Ann", "--db", str(db)], ["feed", "Ann", "--rotate", "--db", str(db)],
                     ["learners", "add", "Bob", "--plan", str(plan_file), "--db", str(db)],
                     ["serve", "--port", str(free_port()), "--db", str(db)]):
            code, out, err = _run(capsys, *argv)
            assert code == 2, (argv, out, err)
            _one_line(err)
            assert "the disk is full: free space and try again" in err, err
            assert "start-fresh" not in err and "damaged" not in err
        assert db.read_bytes() == before  # nothing moved, nothing rewritten
        assert not list(disk.glob("*.corrupt"))
        with pytest.raises(StoreError) as exc:
            Store(db).save("Bob", RAW, plan_to_dict(small_plan))
        assert exc.value.kind == sqlite_db.FULL and not exc.value.fixable

        filler.unlink()  # space again: the same database works, with its learner and feed link
        code, out, _ = _run(capsys, "learners", "--db", str(db))
        assert code == 0 and out.startswith("Ann\tversion 1")
        code, out, _ = _run(capsys, "feed", "Ann", "--db", str(db))
        assert code == 0 and out.strip() == f"/feed/{token}.ics"
        code, out, err = _run(capsys, "learners", "add", "Bob", "--plan", str(plan_file), "--db", str(db))
        assert code == 0, err
        assert Store(db).names() == ["Ann", "Bob"]


def test_sqlite_full_is_one_line_for_every_user_of_the_shared_connection(tmp_path: Path) -> None:
    """SQLITE_FULL from max_page_count, through the connection helper the store, feed tokens and CalDAV sync
    state share: an InputError for the CLI, still a sqlite3.Error for code that catches those."""
    db = tmp_path / "planner.db"
    state = SyncState(db)
    with sqlite_db.connect(db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with pytest.raises(InputError) as exc, sqlite_db.connect(db) as conn:
        conn.execute(f"PRAGMA max_page_count = {pages}")
        conn.execute("CREATE TABLE big(x)")
        for _ in range(50):
            conn.execute("INSERT INTO big VALUES (?)", ("x" * 100_000,))
    assert isinstance(exc.value, sqlite3.Error) and isinstance(exc.value, sqlite_db.DatabaseFileError)
    assert exc.value.kind == sqlite_db.FULL and "the disk is full" in str(exc.value) and "\n" not in str(exc.value)
    assert state.rows("https://example.invalid/cal/") == {}  # and the file is fine afterwards


def test_start_fresh_on_a_full_disk_leaves_the_damaged_file_where_it_was(tmp_path: Path,
                                                                        small_plan: Plan) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "planner.db"
        Store(db).save("Ann", RAW, plan_to_dict(small_plan), tracked=True)
        Store(db).save("Bad", RAW, None)
        conn = sqlite3.connect(db)
        conn.execute("UPDATE learners SET profile = '{not json' WHERE name = 'Bad'")
        conn.commit()
        conn.close()
        before = db.read_bytes()
        filler = fill(disk)
        with pytest.raises(StoreError) as exc:
            set_aside_and_start_fresh(db)
        assert "nothing was moved" in exc.value.message and "the disk is full" in exc.value.message
        assert db.read_bytes() == before and sorted(p.name for p in disk.iterdir() if not p.name.endswith(
            ("-wal", "-shm"))) == ["filler", "planner.db"]  # no .corrupt, no half-written fresh file
        filler.unlink()
        aside, kept = set_aside_and_start_fresh(db)
        assert kept == ["Ann"] and aside.read_bytes() == before
        assert Store(db).load("Ann").plan == plan_to_dict(small_plan)  # type: ignore[union-attr]


# ---------------------------------------------------------------- damaged: start fresh keeps everything that reads


def test_start_fresh_keeps_learners_feed_links_and_sync_state_and_serve_keeps_answering(
        tmp_path: Path, small_plan: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "planner.db"
    store = Store(db)
    store.save("Ann", RAW, plan_to_dict(small_plan), tracked=True)
    store.save("Ann", RAW, plan_to_dict(mark_done_through(small_plan, dt.date(2027, 1, 17))), tracked=True)
    store.save("Bob", RAW, plan_to_dict(small_plan), tracked=True)
    store.save("Bad", RAW, None)
    ann = feed_path(store, "Ann")
    bob = feed_path(store, "Bob")
    sync = SyncState(db)
    with sync._connect() as conn:
        sync.put(conn, ANN_CALENDAR, "uid-1@study-planner", _Row("/ann/1.ics", "h", "e"))
    with feed_server(db) as base:
        assert fetch(base + ann)[0] == 200
        conn = sqlite3.connect(db)
        conn.execute("UPDATE learners SET plan = 'nope{' WHERE name = 'Bad'")
        conn.commit()
        conn.close()
        code, _, err = _run(capsys, "learners", "--db", str(db))
        assert code == 2 and "damaged" not in err and "'Bad'" in err and "--start-fresh" in err
        _one_line(err)
        code, out, _ = _run(capsys, "learners", "--db", str(db), "--start-fresh")
        assert code == 0 and "2 learner(s) carried over" in out
        # the running server answers the old addresses from the fresh file
        status, _, body = fetch(base + ann)
        assert status == 200 and b"BEGIN:VEVENT" in body
        assert fetch(base + bob)[0] == 200
    fresh = Store(db)
    assert fresh.names() == ["Ann", "Bob"]
    assert fresh.load("Ann").plan == plan_to_dict(mark_done_through(small_plan, dt.date(2027, 1, 17)))  # type: ignore[union-attr]
    assert [v.note for v in fresh.versions("Ann")] == ["recovered", "", ""]
    assert [v.version for v in fresh.versions("Bad")] == [1]  # its history still reads: it can be restored
    assert feed_path(fresh, "Ann") == ann and feed_path(fresh, "Bob") == bob
    assert set(SyncState(db).rows(ANN_CALENDAR)) == {"uid-1@study-planner"}
    assert (tmp_path / "planner.db.corrupt").exists()


def test_damaged_file_is_one_line_for_every_store_command(tmp_path: Path, small_plan: Plan,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "planner.db"
    db.write_bytes(os.urandom(8192))
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    for argv in (["learners"], ["feed", "Ann"], ["feed", "Ann", "--rotate"],
                 ["learners", "add", "Ann", "--plan", str(plan_file)], ["serve", "--port", str(free_port())],
                 ["sync", str(plan_file), "--caldav", "http://127.0.0.1:9/cal/"]):
        code, out, err = _run(capsys, *argv, "--db", str(db))
        assert code == 2, (argv, out, err)
        _one_line(err)
        assert "damaged" in err, (argv, err)


# ---------------------------------------------------------------- read-only


def test_read_only_file_lists_and_serves_links_and_refuses_writes_in_one_line(
        tmp_path: Path, small_plan: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        db = disk / "planner.db"
        Store(db).save("Ann", RAW, plan_to_dict(small_plan), tracked=True)
        token = FeedTokens(db).token("Ann")
        plan_file = tmp_path / "plan.json"
        plan_file.write_bytes(plan_to_json(small_plan))
        remount(disk, "ro")
        try:
            code, out, _ = _run(capsys, "learners", "--db", str(db))
            assert code == 0 and out.startswith("Ann\t")
            code, out, _ = _run(capsys, "feed", "Ann", "--db", str(db))
            assert code == 0 and out.strip() == f"/feed/{token}.ics"
            doc = FeedBuilder(db).document(token)  # first served here: the publish time cannot be recorded
            assert doc is not None and doc.body.count(b"BEGIN:VEVENT") == len(small_plan.active_sessions)
            for argv in (["feed", "Ann", "--rotate"], ["learners", "add", "Bob", "--plan", str(plan_file)],
                         ["sync", str(plan_file), "--caldav", "http://127.0.0.1:9/cal/"]):
                code, out, err = _run(capsys, *argv, "--db", str(db))
                assert code == 2, (argv, out, err)
                _one_line(err)
                assert "read-only" in err, (argv, err)
        finally:
            remount(disk, "rw")


# ---------------------------------------------------------------- --db typos, listing


def test_a_typo_in_db_creates_nothing(tmp_path: Path, small_plan: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    typo = tmp_path / "typo" / "x.db"
    for argv in (["learners"], ["feed", "Ann"], ["learners", "add", "Ann", "--plan", str(plan_file)]):
        code, _, err = _run(capsys, *argv, "--db", str(typo))
        assert code == 2 and f"the folder {typo.parent} does not exist" in err, err
        _one_line(err)
    assert not typo.parent.exists()
    missing = tmp_path / "nothing-here.db"
    code, out, _ = _run(capsys, "learners", "--db", str(missing))
    assert code == 0 and "no saved learners" in out
    code, _, err = _run(capsys, "feed", "Ann", "--db", str(missing))
    assert code == 2 and "no saved learner 'Ann'" in err
    assert not missing.exists()  # reading never makes an empty database


def test_a_fresh_plan_is_not_listed_with_progress(tmp_path: Path, small_plan: Plan,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "planner.db"
    fresh, marked = tmp_path / "fresh.json", tmp_path / "marked.json"
    fresh.write_bytes(plan_to_json(small_plan))
    progressed = mark_done_through(small_plan, dt.date(2027, 1, 17))
    marked.write_bytes(plan_to_json(progressed))
    assert _run(capsys, "learners", "add", "Ann", "--plan", str(fresh), "--db", str(db))[0] == 0
    code, out, _ = _run(capsys, "learners", "--db", str(db))
    assert code == 0 and "progress" not in out and "done" not in out
    assert _run(capsys, "learners", "add", "Ann", "--plan", str(marked), "--db", str(db))[0] == 0
    done = sum(1 for s in progressed.sessions if s.status == "done")
    assert done > 0
    assert f", {done} done" in _run(capsys, "learners", "--db", str(db))[1]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["\x1b[31mEve", "Bel\x07l", "\u200b", "\u202eevE", "A\u2066b", " \u200d\u2060 "])
def test_control_bidi_and_invisible_names_are_refused_in_one_line(tmp_path: Path, small_plan: Plan, name: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError) as exc:
        check_name(name)
    assert "\n" not in str(exc.value) and "\x1b" not in str(exc.value) and "\u202e" not in str(exc.value)
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    db = tmp_path / "planner.db"
    code, _, err = _run(capsys, "learners", "add", name, "--plan", str(plan_file), "--db", str(db))
    assert code == 2 and "learner:" in err
    _one_line(err)
    assert not Store(db).names()


def test_ordinary_names_pass_and_odd_saved_names_print_escaped(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("Zoë", "👩\u200d💻 Ana", "محمد", "O'Brien-Smith", "Ana María"):
        assert check_name(name) == name
    db = tmp_path / "planner.db"
    Store(db)
    conn = sqlite3.connect(db)  # saved by an older planner, before the rules
    for odd in ("\x1b]0;owned\x07Eve", "\u200b", "\u202eevE"):
        conn.execute("INSERT INTO learners(name, profile, plan, updated_at, tracked, version) VALUES (?, ?, NULL, "
                     "'2026-01-01', 0, 1)", (odd, '{"background": "beginner", "hours_per_week": 6}'))
    conn.commit()
    conn.close()
    store = Store(db)
    store.save("\u200b", RAW, None)  # an existing learner keeps working under its name
    code, out, _ = _run(capsys, "learners", "--db", str(db))
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\u200b" not in out
    assert "\\u001b]0;owned\\u0007Eve" in out and "\\u200b\t" in out and "\\u202eevE" in out
    assert shown_name("Zoë") == "Zoë"
    code, _, err = _run(capsys, "feed", "\x1b[2Jx", "--db", str(db))
    assert code == 2 and "\x1b" not in err


# ---------------------------------------------------------------- a learning path that is not shipped


def test_a_plan_of_a_learning_path_kept_with_it_is_served(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SQL_PATH.read_text(encoding="utf-8").replace("id: sql-foundations", "id: my-own-sql", 1)
    own = parse_curriculum(text, "my.yaml")
    assert own.id == "my-own-sql"
    plan = plan_ok(own, background="beginner", hours_per_week=6)
    content = tmp_path / "my.yaml"
    content.write_text(text, encoding="utf-8")
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(plan))
    db = tmp_path / "planner.db"
    code, _, err = _run(capsys, "learners", "add", "Dee", "--plan", str(plan_file), "--content", str(content),
                        "--db", str(db))
    assert code == 0, err
    content.unlink()  # the learner tidies up: the feed still reads the plan
    store = Store(db)
    path = feed_path(store, "Dee")
    store.save("Lost", RAW, {**plan_to_dict(plan), "path": {"id": "nowhere", "title": "x"}}, tracked=True)
    lost = feed_path(store, "Lost")
    with feed_server(db) as base:
        status, headers, body = fetch(base + path)
        assert status == 200 and body.count(b"BEGIN:VEVENT") == len(plan.active_sessions)
        assert fetch(base + path)[0] == 200
        # a plan whose learning path is nowhere: a clear status and a log line, never a 500
        status, headers, body = fetch(base + lost)
        assert status == 503 and headers.get("retry-after") and b"nowhere" in body
        assert fetch(base + path)[0] == 200  # the other learners are not affected
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("feed-*.log"))
    assert "feed of Lost unavailable (503)" in logs and "Traceback" not in logs


# ---------------------------------------------------------------- backups and busy calendars


def test_backup_carries_uploaded_calendars_and_restores_when_they_are_elsewhere(
        tmp_path: Path, sql: Curriculum, small_plan: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n" \
          b"DTSTART:20270105T180000Z\r\nDTEND:20270105T190000Z\r\nSUMMARY:Gym\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    here = tmp_path / "here"
    (here / "busy").mkdir(parents=True)
    upload = here / "busy" / "Ann-upload.ics"
    upload.write_bytes(ics)
    address = "https://127.0.0.1:9/closed.ics"  # nothing listens there: unreachable right now
    store = Store(here / "planner.db")
    store.save("Ann", {**RAW, "busy": [str(upload), address]}, None)
    store.save("Cy", {**RAW, "busy": [str(tmp_path / "never-uploaded.ics")]}, None)
    store.save("Bo", RAW, None)
    backup = store.export_state()

    there = tmp_path / "there"  # another machine: the upload folder is not there
    there.mkdir()
    other = Store(there / "planner.db")
    upload.unlink()
    imported = other.import_state(backup, sql)
    assert imported == ["Ann", "Bo", "Cy"]
    ann = other.load("Ann")
    assert ann is not None
    copy = Path(ann.profile["busy"][0])
    assert copy.parent == there / "busy" and copy.read_bytes() == ics and ann.profile["busy"][1] == address
    assert other.rechecks("Ann") == [(address, "a calendar address is not read during a restore")]
    assert [s for s, _ in other.rechecks("Cy")] == [str(tmp_path / "never-uploaded.ics")]
    assert any("never-uploaded.ics" in note for note in imported.notes)
    code, out, _ = _run(capsys, "learners", "--db", str(there / "planner.db"))
    assert code == 0 and out.count("1 busy calendar(s) to re-check") == 2  # Ann and Cy, not Bo
    assert other.rechecks("Bo") == []
    other.save("Cy", RAW, plan_to_dict(small_plan))  # a new plan (made with every calendar read): checked again
    assert other.rechecks("Cy") == []


def test_start_fresh_reads_past_damaged_pages(tmp_path: Path) -> None:
    """Garbage over three pages in the middle of the learners table: the rows on every other page are carried."""
    db = tmp_path / "planner.db"
    store = Store(db)
    store.save("L000", RAW, None)
    FeedTokens(db).token("L000")
    conn = sqlite3.connect(db)  # about one learner a page, written in one go
    with conn:
        conn.executemany("INSERT INTO learners(name, profile, plan, updated_at, tracked, version) "
                         "VALUES (?, ?, NULL, '2026-01-01', 0, 1)",
                         [(f"L{i:03d}", json.dumps({**RAW, "note": "x" * 3000})) for i in range(1, 200)])
        conn.executemany("INSERT INTO feed_tokens(name, token, created_at) VALUES (?, ?, '2026-01-01')",
                         [(f"L{i:03d}", secrets.token_urlsafe(32)) for i in range(1, 200)])
    conn.close()
    tokens = FeedTokens(db)
    links = {f"L{i:03d}": tokens.token(f"L{i:03d}") for i in range(200)}
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(db, "r+b") as f:
        f.seek(4096 * 40)
        f.write(os.urandom(4096 * 3))
    with pytest.raises(StoreError):
        for name in Store(db).names():
            Store(db).load(name)
    _, kept = set_aside_and_start_fresh(db)
    assert 190 <= len(kept) < 200  # only the learners on the damaged pages are gone
    fresh = FeedTokens(db)
    assert all(fresh.learner_for(links[name]) == name for name in kept)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_dashboard_refuses_control_bidi_and_invisible_names_inline(fresh_state: Path) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at = at.switch_page("dashboard/learners_page.py").run()
    first = at.session_state["learner"]
    refused = {"\x1b[31mEve": "control character", "\u200b": "no visible characters", "\u202eevE": "text-direction"}
    for name, words in refused.items():
        at.text_input(key="new_learner").set_value(name)
        at.button(key="create_learner").click().run()
        assert not at.exception, at.exception
        errors = [e.value for e in at.error]
        assert any(words in e and "\n" not in e for e in errors), errors
        assert at.session_state["learner"] == first
    assert not set(Store(fresh_state).names()) & set(refused)


def test_backup_leaves_out_the_largest_calendars_rather_than_grow_past_what_imports(tmp_path: Path) -> None:
    from planner.store import _busy_files

    small, big = tmp_path / "small.ics", tmp_path / "big.ics"
    small.write_bytes(b"S" * 1000)
    big.write_bytes(b"B" * 100_000)
    kept = _busy_files([str(big), str(small), "https://127.0.0.1:9/x.ics"], room=10_000)
    assert [f["source"] for f in kept] == [str(small)]  # the big one is marked to re-check on restore


def test_start_fresh_reads_past_a_damaged_header(tmp_path: Path, small_plan: Plan) -> None:
    db = tmp_path / "planner.db"
    store = Store(db)
    store.save("Ann", RAW, plan_to_dict(small_plan), tracked=True)
    store.save("Bob", RAW, None)
    link = feed_path(store, "Ann")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(db, "r+b") as f:
        f.write(b"\0" * 100)  # the header: "file is not a database"
    with pytest.raises(StoreError) as exc:
        Store(db)
    assert exc.value.kind == sqlite_db.DAMAGED
    _, kept = set_aside_and_start_fresh(db)
    assert kept == ["Ann", "Bob"] and feed_path(Store(db), "Ann") == link
    assert not [p for p in tmp_path.iterdir() if ".repair-" in p.name]


def test_nan_is_never_stored(tmp_path: Path, small_plan: Plan) -> None:
    store = Store(tmp_path / "planner.db")
    data = plan_to_dict(small_plan)
    data["summary"] = {**data["summary"], "months": float("nan")}
    with pytest.raises(InputError) as exc:
        store.save("Ann", RAW, data, tracked=True)
    assert exc.value.field == "plan" and store.names() == []
    with pytest.raises(InputError):
        store.save("Ann", {**RAW, "hours_per_week": float("inf")}, None)
