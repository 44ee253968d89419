"""CalDAV sync against a real Radicale server: first sync, re-plan, no-op, interruption, foreign events, errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from planner.caldav_sync import PASSWORD_ENV, WORKERS, SyncError, sync_plan
from planner.cli import main
from planner.curriculum import Curriculum
from planner.export import plan_to_json
from planner.livecal import live_calendar
from planner.plan import Plan
from planner.progress import mark_done_through
from planner.replan import Replanned, replan
from tests.conftest import ROOT, plan_ok
from tests.servers import Radicale, fetch, free_port, radicale

USER, PASSWORD = "ada", "correct horse 7"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with radicale(tmp_path_factory.mktemp("radicale"), {USER: PASSWORD, "bob": "bobs-secret"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def small_plan(sql: Curriculum) -> Plan:
    """The SQL path at 6 h/week in New York: 61 sessions, with a VTIMEZONE."""
    return plan_ok(sql, background="beginner", hours_per_week=6, timezone="America/New_York")


@pytest.fixture(scope="module")
def tiny_plan(small_plan: Plan) -> Plan:
    """Its first 15 sessions: enough for the tests that do not need a whole plan, and quicker to upload."""
    return dataclasses.replace(small_plan, sessions=small_plan.sessions[:15])


@pytest.fixture(scope="module")
def replanned(sql: Curriculum, small_plan: Plan) -> Replanned:
    """A week missed, re-planned: sessions moved (SEQUENCE + 1), added and cancelled."""
    result = replan(sql, mark_done_through(small_plan, dt.date(2027, 1, 17)), dt.date(2027, 1, 25))
    assert isinstance(result, Replanned)
    assert result.diff.moved and result.diff.added and result.diff.removed
    return result


_count = 0


@pytest.fixture
def calendar(server: Radicale) -> str:
    global _count
    _count += 1
    return server.make_calendar(USER, f"study-{_count}-{time.monotonic_ns()}")


def server_events(cal_url: str) -> dict[str, dict[str, object]]:
    """Every resource in the calendar, read with a plain client: UID → its one VEVENT's facts."""
    import caldav

    out: dict[str, dict[str, object]] = {}
    with caldav.DAVClient(cal_url, username=USER, password=PASSWORD, enable_rfc6764=False) as client:
        r = client.propfind(cal_url, ["getetag"], depth=1)
        hrefs = {res.href: res.properties.get("{DAV:}getetag") for res in r.results if not res.href.endswith("/")}
        for href, etag in hrefs.items():
            status, _, body = fetch(client.url.join(href).__str__(), headers=_auth())
            assert status == 200
            cal = Calendar.from_ical(body)
            events = cal.walk("VEVENT")
            assert len(events) == 1, href  # one resource per UID
            ev = events[0]
            uid = str(ev["UID"])
            assert uid not in out, f"duplicate {uid}"
            out[uid] = {"start": ev["DTSTART"].dt, "end": ev["DTEND"].dt, "sequence": int(ev.get("SEQUENCE", 0)),
                        "method": "METHOD" in cal, "etag": etag, "href": href, "status": str(ev.get("STATUS")),
                        "summary": str(ev.get("SUMMARY"))}
    return out


def _auth() -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def assert_holds(cal_url: str, plan: Plan, *, foreign: int = 0) -> dict[str, dict[str, object]]:
    """The calendar holds exactly the plan's live sessions (times and SEQUENCE as in the plan), no METHOD."""
    events = server_events(cal_url)
    ours = {uid: e for uid, e in events.items() if uid.endswith("@study-planner")}
    live = {s.uid: s for s in plan.active_sessions}
    assert set(ours) == set(live)
    assert len(events) - len(ours) == foreign
    for uid, s in live.items():
        e = ours[uid]
        assert e["start"] == s.start and e["end"] == s.end, uid
        assert e["sequence"] == s.sequence, uid
        assert e["method"] is False
        assert e["status"] != "CANCELLED"
    return events


def state_rows(db: Path) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT * FROM caldav_sync ORDER BY calendar, uid").fetchall()
        except sqlite3.OperationalError:
            return []


def run_cli(*args: str, password: str | None = PASSWORD, db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    env["PLANNER_DB"] = str(db)
    return subprocess.run([sys.executable, "-m", "planner", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)


def test_first_sync_then_nothing_to_do(small_plan, calendar, tmp_path):
    db = tmp_path / "planner.db"
    first = sync_plan(small_plan, calendar, USER, PASSWORD, db=db)
    n = len(small_plan.active_sessions)
    assert (first.created, first.updated, first.deleted, first.unchanged) == (n, 0, 0, 0)
    before = assert_holds(calendar, small_plan)
    second = sync_plan(small_plan, calendar, USER, PASSWORD, db=db)
    assert second.text() == f"created 0, updated 0, deleted 0, unchanged {n}"
    after = assert_holds(calendar, small_plan)
    assert {u: e["etag"] for u, e in after.items()} == {u: e["etag"] for u, e in before.items()}  # nothing written



def test_replan_sync_writes_only_the_changes(small_plan, replanned, calendar, tmp_path):
    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert done.returncode == 0, done.stderr
    n = len(small_plan.active_sessions)
    assert done.stdout.startswith(f"created {n}, updated 0, deleted 0, unchanged 0")
    old = assert_holds(calendar, small_plan)

    plan_file.write_bytes(plan_to_json(replanned.plan))
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert done.returncode == 0, done.stderr
    d = replanned.diff
    live_new = {s.uid for s in replanned.plan.active_sessions}
    # changed: exactly the moved sessions (a description says nothing that a re-plan changes elsewhere)
    before = {r.uid: r.hash for r in live_calendar(small_plan).resources()}
    after = {r.uid: r.hash for r in live_calendar(replanned.plan).resources()}
    changed = {uid for uid in after if uid in before and after[uid] != before[uid]}
    assert changed == set(d.moved)
    expected = (f"created {len(d.added)}, updated {len(changed)}, deleted {len(d.removed)}, "
                f"unchanged {len(live_new) - len(d.added) - len(changed)}")
    assert done.stdout.startswith(expected), done.stdout
    new = assert_holds(calendar, replanned.plan)
    for uid in d.moved:
        assert new[uid]["sequence"] == old[uid]["sequence"] + 1  # type: ignore[operator]
    assert all(new[uid]["etag"] != old[uid]["etag"] for uid in changed)
    kept = live_new - changed - set(d.added)
    assert kept and all(new[uid]["etag"] == old[uid]["etag"] for uid in kept)  # untouched

    again = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert again.stdout.startswith(f"created 0, updated 0, deleted 0, unchanged {len(live_new)}")


def test_interrupted_sync_completes_on_the_next_run(tiny_plan, calendar, tmp_path):
    db = tmp_path / "planner.db"
    writes: list[str] = []

    def stop_after_five(action: str, uid: str) -> None:
        writes.append(uid)
        if len(writes) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db, on_write=stop_after_five)
    # the writes already on their way when it stopped (at most one per connection) are recorded too
    recorded = len(state_rows(db))
    n = len(tiny_plan.active_sessions)
    assert 5 <= recorded < 5 + WORKERS and recorded < n
    rest = sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db)
    assert (rest.created, rest.updated, rest.deleted, rest.unchanged) == (n - recorded, 0, 0, recorded)
    assert_holds(calendar, tiny_plan)


def test_killed_sync_process_completes_on_the_next_run(small_plan, calendar, tmp_path):
    """The CLI killed outright (no clean-up at all) midway: the next run writes the rest, no duplicates."""
    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    env = {**os.environ, PASSWORD_ENV: PASSWORD, "PLANNER_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "planner", "sync", str(plan_file), "--caldav", calendar,
                             "--user", USER], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(state_rows(db)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    written = len(state_rows(db))
    n = len(small_plan.active_sessions)
    assert 3 <= written < n, "the sync finished before it could be interrupted"
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert done.returncode == 0, done.stderr
    # the event whose write was cut between the server's answer and the record is found and rewritten in place
    created, updated = (int(x.split()[1]) for x in done.stdout.split(",")[:2])
    assert created + updated == n - written and updated <= WORKERS  # at most one write in flight per connection
    assert_holds(calendar, small_plan)


def test_foreign_events_are_never_touched(small_plan, replanned, server, calendar, tmp_path):
    import caldav

    foreign = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Someone else//EN\r\nBEGIN:VEVENT\r\n"
               "UID:dentist-42@example.org\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270120T150000Z\r\n"
               "DTEND:20270120T160000Z\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    with caldav.DAVClient(calendar, username=USER, password=PASSWORD, enable_rfc6764=False) as client:
        r = client.put(calendar + "dentist.ics", foreign, {"Content-Type": "text/calendar"})
        assert r.status == 201
    before = server_events(calendar)["dentist-42@example.org"]
    db = tmp_path / "planner.db"
    sync_plan(small_plan, calendar, USER, PASSWORD, db=db)
    sync_plan(replanned.plan, calendar, USER, PASSWORD, db=db)
    events = assert_holds(calendar, replanned.plan, foreign=1)
    assert events["dentist-42@example.org"]["etag"] == before["etag"]
    assert all(row[1].endswith("@study-planner") for row in state_rows(db))


def test_wrong_password_bad_url_and_no_server_leave_everything_unchanged(tiny_plan, server, calendar, tmp_path,
                                                                        monkeypatch, capsys):
    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db)
    rows, events = state_rows(db), server_events(calendar)
    monkeypatch.setenv("PLANNER_DB", str(db))
    cases = [
        (("--caldav", calendar, "--user", USER), "wrong-password", "refused the login"),
        (("--caldav", calendar, "--user", "mallory"), PASSWORD, "refused the login"),
        (("--caldav", f"http://127.0.0.1:{free_port()}/ada/cal/", "--user", USER), PASSWORD, "cannot reach"),
        (("--caldav", server.url + "ada/", "--user", USER), PASSWORD, "not a calendar"),
        (("--caldav", server.url + "ada/no-such-calendar/", "--user", USER), PASSWORD, "no calendar"),
        (("--caldav", "ftp://example.org/cal", "--user", USER), PASSWORD, "not an http"),
        (("--caldav", f"http://ada:{PASSWORD}@127.0.0.1/cal/"), PASSWORD, "not in the URL"),
    ]
    for args, password, words in cases:
        monkeypatch.setenv(PASSWORD_ENV, password)
        code = main(["sync", str(plan_file), *args])
        out, err = capsys.readouterr()
        assert code == 2, (args, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, err)
        assert out == "" and PASSWORD not in err and "wrong-password" not in err
        assert state_rows(db) == rows
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, password="wrong", db=db)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "refused the login" in done.stderr
    assert "Traceback" not in done.stderr and state_rows(db) == rows
    assert server_events(calendar) == events
    with pytest.raises(SyncError, match="refused the login"):
        sync_plan(tiny_plan, calendar, USER, "nope", db=db)


def test_password_only_from_environment_or_prompt_and_never_stored(tiny_plan, calendar, tmp_path):
    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    no_password = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, password=None, db=db)
    assert no_password.returncode == 2 and PASSWORD_ENV in no_password.stderr  # no terminal to prompt on
    flag = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, "--password", PASSWORD, db=db)
    assert flag.returncode == 2 and "unrecognized arguments" in flag.stderr
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert done.returncode == 0 and PASSWORD not in done.stdout + done.stderr
    for path in tmp_path.iterdir():  # the database (and its WAL), the plan file
        assert PASSWORD.encode() not in path.read_bytes(), path


def test_server_error_midway_stops_with_one_line_and_the_next_run_completes(tiny_plan, server, calendar, tmp_path):
    """A server failing mid-sync (its calendar's properties file broken: Radicale answers 500 to everything)."""
    db = tmp_path / "planner.db"
    props = server.folder / "collections" / "collection-root" / urlsplit(calendar).path.strip("/") / ".Radicale.props"
    good = props.read_bytes()
    written: list[str] = []

    def break_after_three(action: str, uid: str) -> None:
        written.append(uid)
        if len(written) == 3:
            props.write_text("{not json")

    try:
        with pytest.raises(SyncError, match="server error 500") as info:
            sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db, on_write=break_after_three)
        assert "\n" not in str(info.value) and PASSWORD not in str(info.value)
        assert [row[1] for row in state_rows(db)] == sorted(written)  # exactly what the server accepted
        rows = state_rows(db)
        with pytest.raises(SyncError, match="server error 500"):  # failing from the start: nothing recorded
            sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db)
        assert state_rows(db) == rows
    finally:
        props.write_bytes(good)
    n = len(tiny_plan.active_sessions)
    rest = sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db)
    assert (rest.created, rest.unchanged) == (n - len(written), len(written))
    assert_holds(calendar, tiny_plan)


def test_a_calendar_holding_an_imported_plan_file_is_reported_not_overwritten(tiny_plan, calendar, tmp_path):
    """The plan's file imported earlier into the same calendar: its events sit at other addresses with the same
    UIDs. The server refuses a second copy (no-uid-conflict) and the sync says what to do; the import stays."""
    import caldav

    first = next(iter(live_calendar(tiny_plan).resources()))
    with caldav.DAVClient(calendar, username=USER, password=PASSWORD, enable_rfc6764=False) as client:
        r = client.put(calendar + "imported-1.ics", first.body.decode(), {"Content-Type": "text/calendar"})
        assert r.status == 201
    before = server_events(calendar)
    with pytest.raises(SyncError, match=r"already holds .* at another address") as info:
        sync_plan(tiny_plan, calendar, USER, PASSWORD, db=tmp_path / "planner.db")
    assert "\n" not in str(info.value)
    after = server_events(calendar)
    assert after[first.uid] == before[first.uid]  # the import is untouched
    # writes already on their way on the other connections went through, and are recorded: nothing else
    assert {row[1] for row in state_rows(tmp_path / "planner.db")} == set(after) - {first.uid}
    assert len(after) - 1 < WORKERS


def test_password_typed_at_the_prompt(tiny_plan, calendar, tmp_path):
    """Without PLANNER_CALDAV_PASSWORD the CLI asks on the terminal (getpass: not echoed) and syncs."""
    import pty

    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    env["PLANNER_DB"] = str(db)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI on the pseudo-terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "planner", "sync", str(plan_file), "--caldav", calendar,
                                   "--user", USER], env)
    output = b""
    deadline = time.monotonic() + 120
    typed = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not typed and b"password for ada:" in output:
            os.write(fd, PASSWORD.encode() + b"\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = output.decode(errors="replace")
    assert typed and os.waitstatus_to_exitcode(status) == 0, text
    assert f"created {len(tiny_plan.active_sessions)}, updated 0" in text
    assert PASSWORD not in text  # not echoed


# ---------------------------------------------------------------- the learner's calendar is theirs


def _get(cal_url: str, href: object) -> bytes:
    status, _, body = fetch(_root(cal_url) + str(href), headers=_auth())
    assert status == 200, href
    return body


def _put(cal_url: str, href: object, body: bytes) -> None:
    status, _, _ = fetch(_root(cal_url) + str(href), "PUT", {**_auth(), "Content-Type": "text/calendar"}, body)
    assert status in (201, 204), status


def _root(cal_url: str) -> str:
    parts = urlsplit(cal_url)
    return f"{parts.scheme}://{parts.netloc}"


def _edit(body: bytes, *, summary: str | None = None, shift: dt.timedelta | None = None,
          sequence: int | None = None, rewrite: bool = False) -> bytes:
    """What a calendar app writes back: the learner's change (if any), and the app's own additions (`rewrite`:
    the same event written the app's way, DTEND as DURATION, one CATEGORIES line per category, defaults spelt out)."""
    from icalendar import vText

    cal = Calendar.from_ical(body)
    ev = cal.walk("VEVENT")[0]
    if rewrite:
        ev.add("duration", ev["DTEND"].dt - ev["DTSTART"].dt)
        ev.pop("DTEND")
        cats = list(ev.pop("CATEGORIES").cats)
        for cat in cats:
            ev.add("categories", [cat])
        ev.add("class", "PUBLIC")
        ev.add("last-modified", dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC))
    if summary is not None:
        ev["SUMMARY"] = vText(summary)
    if shift is not None:
        for name in ("DTSTART", "DTEND"):
            when = ev[name].dt + shift
            ev.pop(name)
            ev.add(name.lower(), when)
    if sequence is not None:
        ev.pop("SEQUENCE", None)
        ev.add("sequence", sequence)
    ev.add("x-moz-lastack", dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC))
    ev.add("x-moz-generation", 3)
    for alarm in ev.walk("VALARM"):
        alarm.add("acknowledged", dt.datetime(2027, 1, 2, 9, 0, tzinfo=dt.UTC))
    return bytes(cal.to_ical())


def _event(body: bytes):
    return Calendar.from_ical(body).walk("VEVENT")[0]


def test_learner_edits_and_deletions_are_kept_and_reported_through_a_replan(small_plan, replanned, calendar,
                                                                            tmp_path):
    """Sync, the learner changes the calendar in their app, re-plan, sync: what they did stays and is reported;
    what an app adds on its own rides along with the plan's changes; SEQUENCE never goes down; --restore puts
    it back as the plan has it."""
    db = tmp_path / "planner.db"
    sync_plan(small_plan, calendar, USER, PASSWORD, db=db)
    on = server_events(calendar)
    d = replanned.diff
    moved = sorted(d.moved)
    edited, annotated, deleted = moved[:3]  # the re-plan moves all three
    retitled = sorted(d.removed)[0]  # the re-plan cancels this one
    old_seq = {s.uid: s.sequence for s in small_plan.sessions}
    learner_start = on[edited]["start"] + dt.timedelta(days=1)  # type: ignore[operator]
    _put(calendar, on[edited]["href"], _edit(_get(calendar, on[edited]["href"]), summary="SQL with Sam (moved)",
                                            shift=dt.timedelta(days=1), sequence=old_seq[edited] + 2))
    _put(calendar, on[annotated]["href"], _edit(_get(calendar, on[annotated]["href"]), rewrite=True))  # a dismissed
    # reminder, the event written back the app's way
    _put(calendar, on[retitled]["href"], _edit(_get(calendar, on[retitled]["href"]), summary="Keep: notes inside"))
    status, _, _ = fetch(_root(calendar) + str(on[deleted]["href"]), "DELETE", _auth())
    assert status in (200, 204)

    result = sync_plan(replanned.plan, calendar, USER, PASSWORD, db=db)
    assert [n.uid for n in result.kept] == [edited]
    assert [n.uid for n in result.skipped] == [deleted]
    assert [n.uid for n in result.left] == [retitled]
    assert (result.created, result.updated, result.deleted) == (len(d.added), len(moved) - 2, len(d.removed) - 1)
    notes = result.notes()
    assert any("SQL with Sam (moved)" in line and "kept" in line for line in notes)
    assert any(deleted in line and "not put back" in line and "re-plan" in line for line in notes)
    assert all("\n" not in line for line in notes)

    after = server_events(calendar)
    assert deleted not in after  # not re-created
    assert after[edited]["summary"] == "SQL with Sam (moved)" and after[edited]["start"] == learner_start
    assert after[edited]["sequence"] == old_seq[edited] + 2  # untouched, so never lowered
    assert after[retitled]["summary"] == "Keep: notes inside"  # the plan cancelled it; the learner's note stays
    new = {s.uid: s for s in replanned.plan.active_sessions}
    ev = _event(_get(calendar, after[annotated]["href"]))
    assert ev["DTSTART"].dt == new[annotated].start and int(ev["SEQUENCE"]) == new[annotated].sequence
    assert "X-MOZ-LASTACK" in ev and "X-MOZ-GENERATION" in ev  # the app's additions ride along
    assert all("ACKNOWLEDGED" in alarm for alarm in ev.walk("VALARM")) and ev.walk("VALARM")
    for uid in set(new) - {edited, deleted}:  # everything else as the plan has it
        assert after[uid]["start"] == new[uid].start and after[uid]["sequence"] == new[uid].sequence, uid

    again = sync_plan(replanned.plan, calendar, USER, PASSWORD, db=db)  # nothing to write, the same report
    assert again.text() == f"created 0, updated 0, deleted 0, unchanged {len(new) - 2}"
    assert ([n.uid for n in again.kept], [n.uid for n in again.skipped], again.left) == ([edited], [deleted], ())
    assert server_events(calendar) == after

    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(replanned.plan))
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, "--restore", db=db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("created 1, updated 1, deleted 0")
    back = server_events(calendar)
    assert back[edited]["start"] == new[edited].start and back[deleted]["start"] == new[deleted].start
    assert back[edited]["sequence"] == old_seq[edited] + 3  # moved back: above what the server held
    assert back[retitled]["summary"] == "Keep: notes inside"  # no longer the planner's: never touched
    assert set(back) == set(new) | {retitled}


def test_one_calendar_whatever_way_the_user_is_given(small_plan, replanned, server, calendar, tmp_path):
    """`https://ada@host/cal/` and `https://host/cal/ --user ada` are one calendar: a re-plan synced the other way
    deletes what it cancelled; state kept under the URL as typed (before this rule) is moved to the calendar."""
    db, plan_file = tmp_path / "planner.db", tmp_path / "plan.json"
    with_user = calendar.replace("http://", f"http://{USER}@")
    plan_file.write_bytes(plan_to_json(small_plan))
    done = run_cli("sync", str(plan_file), "--caldav", with_user, db=db)
    assert done.returncode == 0, done.stderr
    assert f"{USER}@" not in done.stdout
    plan_file.write_bytes(plan_to_json(replanned.plan))
    done = run_cli("sync", str(plan_file), "--caldav", calendar, "--user", USER, db=db)
    assert done.returncode == 0, done.stderr
    assert f"deleted {len(replanned.diff.removed)}," in done.stdout
    assert_holds(calendar, replanned.plan)  # as many events as live sessions: no orphans

    # the state as the previous version kept it: keyed by the URL as typed, user info and all
    other, db = server.make_calendar(USER, f"migrate-{time.monotonic_ns()}"), tmp_path / "old.db"
    plan_file.write_bytes(plan_to_json(small_plan))
    assert run_cli("sync", str(plan_file), "--caldav", other, "--user", USER, db=db).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE caldav_sync SET calendar = ?", (other.replace("http://", f"http://{USER}@"),))
    plan_file.write_bytes(plan_to_json(replanned.plan))
    done = run_cli("sync", str(plan_file), "--caldav", other, "--user", USER, db=db)
    assert done.returncode == 0, done.stderr
    assert f"deleted {len(replanned.diff.removed)}," in done.stdout
    assert_holds(other, replanned.plan)
    keys = {row[0] for row in state_rows(db)}
    assert len(keys) == 1 and f"{USER}@" not in next(iter(keys))


def test_calendar_deleted_during_the_sync_is_named(tiny_plan, server, calendar, tmp_path):
    import caldav

    db = tmp_path / "planner.db"

    def delete_after_two(action: str, uid: str) -> None:
        if len(state_rows(db)) == 2:
            with caldav.DAVClient(calendar, username=USER, password=PASSWORD, enable_rfc6764=False) as client:
                assert client.delete(calendar).status in (200, 204)

    with pytest.raises(SyncError) as info:
        sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db, on_write=delete_after_two)
    message = str(info.value)
    assert "calendar is gone" in message and "imported" not in message and "\n" not in message
    with pytest.raises(SyncError, match="no calendar at this address"):
        sync_plan(tiny_plan, calendar, USER, PASSWORD, db=db)


_CALENDAR_LISTING = (b'<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                     b'<response><href>/cal/</href><propstat><prop><resourcetype><collection/><C:calendar/>'
                     b'</resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>')


def _misbehaving(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """/<case>/cal/: what a broken server, a proxy or a login page answers."""
    case = path.strip("/").split("/")[0]
    xml = {"Content-Type": "application/xml; charset=utf-8"}
    if case == "not-xml":  # a 207 whose body is not XML at all
        return 207, xml, b"<html><body>502 Bad Gateway"
    if case == "html":  # a login page with a 207 status
        return 207, {"Content-Type": "text/html"}, b"<p>Please sign in<br>"
    if case == "not-multistatus":
        return 207, xml, b"<?xml version='1.0'?><nothing-here/>"
    if case == "teapot":
        return 418, {"Content-Type": "text/plain"}, b"no"
    if case == "gone":  # the calendar lists, then is deleted: writes answer 409 and it is no longer found
        if method == "PROPFIND" and headers.get("Depth") == "1":
            return 207, xml, _CALENDAR_LISTING.replace(b"/cal/", path.encode())
        if method == "PROPFIND":
            return 404, {}, b""
        return 409, {"Content-Type": "text/plain"}, b"Conflict"
    if case == "refused":  # a 409 that is neither a UID conflict nor a missing calendar
        if method == "PROPFIND":
            return 207, xml, _CALENDAR_LISTING.replace(b"/cal/", path.encode())
        return 409, {"Content-Type": "text/plain"}, b"Conflict"
    return 404, {}, b""


def test_malformed_or_refused_answers_are_one_line_without_the_password(tiny_plan, tmp_path, monkeypatch, capsys):
    from tests.servers import stub_server

    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    monkeypatch.setenv("PLANNER_DB", str(tmp_path / "planner.db"))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with stub_server(_misbehaving) as base:
        host = base.removeprefix("http://")
        cases = [
            (f"http://{USER}@{host}/not-xml/cal/", "not a CalDAV answer (not XML)"),
            (f"http://{USER}@{host}/html/cal/", "not a CalDAV answer (not XML)"),
            (f"http://{USER}@{host}/not-multistatus/cal/", "not a calendar"),
            (f"http://{USER}@{host}/teapot/cal/", "answered 418"),
            (f"http://{USER}@{host}/gone/cal/", "the calendar is gone"),
            (f"http://{USER}@{host}/refused/cal/", "refused writing"),
            ("http://[::1", "not a readable URL"),
            (f"http://{USER}:{PASSWORD}@[::1/cal/", "not a readable URL"),
            ("http://127.0.0.1:99999/cal/", "not a readable URL"),
        ]
        for url, words in cases:
            code = main(["sync", str(plan_file), "--caldav", url])
            out, err = capsys.readouterr()
            assert code == 2, (url, out, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and words in lines[0], (url, err)
            assert "Traceback" not in err and PASSWORD not in err and out == ""
            assert "imported" not in err


def test_db_in_a_missing_folder_is_one_line_and_creates_nothing(tiny_plan, calendar, tmp_path, monkeypatch,
                                                                 capsys):
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setenv("PLANNER_DB", str(tmp_path / "default" / "planner.db"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for db in (tmp_path / "typo" / "x.db", tmp_path / "typo" / "deeper" / "x.db"):
        code = main(["sync", str(plan_file), "--caldav", calendar, "--user", USER, "--db", str(db)])
        out, err = capsys.readouterr()
        assert code == 2 and out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and f"the folder {db.parent} does not exist" in lines[0], err
        assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no folder, no database
    assert server_events(calendar) == {}  # the server was not written to
    with pytest.raises(Exception, match="does not exist"):  # the library call refuses it too
        sync_plan(tiny_plan, calendar, USER, PASSWORD, db=tmp_path / "typo" / "x.db")
    assert not (tmp_path / "typo").exists()
    # the same sync with the folder there works
    (tmp_path / "typo").mkdir()
    assert main(["sync", str(plan_file), "--caldav", calendar, "--user", USER,
                 "--db", str(tmp_path / "typo" / "x.db")]) == 0
    assert_holds(calendar, tiny_plan)


def _http(status: str, body: bytes, *, length: int | None = None, xml: bool = True) -> bytes:
    kind = "application/xml; charset=utf-8" if xml else "text/calendar"
    size = len(body) if length is None else length
    return f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {size}\r\n\r\n".encode() + body


def _listing(path: str, child: str | None = None) -> bytes:
    body = _CALENDAR_LISTING.replace(b"/cal/", path.encode())
    if child is not None:
        body = body.replace(b"</multistatus>", f"<response><href>{child}</href><propstat><prop><getetag>\"1\""
                            f"</getetag><resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat>"
                            f"</response></multistatus>".encode())
    return body


def _endless_xml(size: int) -> Iterator[bytes]:
    """A 207 without a length, its body a listing padded past `size` bytes: sent until the client stops."""
    yield b"HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n"
    yield b'<?xml version="1.0"?><multistatus xmlns="DAV:">'
    sent, block = 0, b"<!--" + b"x" * 65536 + b"-->"
    while sent <= size:
        yield block
        sent += len(block)
    yield b"</multistatus>"


def test_a_server_that_trickles_or_sends_too_much_is_cut_in_one_line_and_the_next_sync_works(
        tiny_plan, calendar, tmp_path, monkeypatch, capsys):
    """A byte a second on the listing, on an event read back or on a write; an answer past the cap (declared or
    sent): each ends the sync within the deadline plus a margin, in one line naming the server and the step."""
    import planner.caldav_sync as caldav_sync
    from planner.caldav_sync import MAX_RESPONSE_BYTES, resource_name
    from tests.servers import raw_server, trickle

    monkeypatch.setattr(caldav_sync, "REQUEST_DEADLINE_S", 2.0)
    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(tiny_plan))
    db = tmp_path / "planner.db"
    monkeypatch.setenv("PLANNER_DB", str(db))
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    first = resource_name(tiny_plan.sessions[0].uid)

    def reply(method: str, path: str, headers: Mapping[str, str]) -> Iterable[bytes]:
        case = path.strip("/").split("/")[0]
        cal = f"/{case}/cal/"
        if case == "trickle-list":
            return trickle(_http("207 Multi-Status", _listing(cal)))
        if case == "big-list":
            return _endless_xml(MAX_RESPONSE_BYTES)
        if case == "big-declared":
            return [_http("207 Multi-Status", b"<?xml", length=MAX_RESPONSE_BYTES + 1)]
        if method == "PROPFIND":
            child = cal + first if case in ("trickle-read", "big-read") else None
            return [_http("207 Multi-Status", _listing(cal, child))]
        if case == "trickle-read" and method == "GET":
            return trickle(_http("200 OK", b"BEGIN:VCALENDAR\r\n" * 4, xml=False), 0.5)
        if case == "big-read" and method == "GET":
            return [b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nConnection: close\r\n\r\n",
                    *(b"X" * 65536 for _ in range(MAX_RESPONSE_BYTES // 65536 + 2))]
        if case == "trickle-write" and method == "PUT":
            return trickle(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        return [_http("404 Not Found", b"")]

    with raw_server(reply) as base:
        host = base.removeprefix("http://")
        cases = [
            ("trickle-list", "no complete answer to listing the calendar within 2 s"),
            ("trickle-read", "no complete answer to reading an event within 2 s"),
            ("trickle-write", "no complete answer to writing an event within 2 s"),
            ("big-list", "the answer to listing the calendar is larger than 20 MB"),
            ("big-declared", "the answer to listing the calendar is larger than 20 MB"),
            ("big-read", "the answer to reading an event is larger than 20 MB"),
        ]
        for case, words in cases:
            url = f"http://{USER}@{host}/{case}/cal/"
            t0 = time.monotonic()
            code = main(["sync", str(plan_file), "--caldav", url])
            took = time.monotonic() - t0
            out, err = capsys.readouterr()
            assert code == 2, (case, out, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and words in lines[0] and f"{host}/{case}/cal/" in lines[0], (case, err)
            assert "Traceback" not in err and PASSWORD not in err and out == ""
            assert took < 2 + 10, (case, took)  # the deadline, plus a generous margin on a loaded machine
        # the whole sync's bound, whatever each request does: 2 s here for the listing that trickles
        monkeypatch.setattr(caldav_sync, "REQUEST_DEADLINE_S", 30.0)
        monkeypatch.setattr(caldav_sync, "SYNC_DEADLINE_BASE_S", 2.0)
        monkeypatch.setattr(caldav_sync, "SYNC_DEADLINE_PER_EVENT_S", 0.0)
        t0 = time.monotonic()
        assert main(["sync", str(plan_file), "--caldav", f"http://{USER}@{host}/trickle-list/cal/"]) == 2
        assert time.monotonic() - t0 < 2 + 10
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "the sync did not finish within 2 s" in err, err
    # nothing was recorded for those servers, and a healthy server syncs as ever with the same database
    monkeypatch.undo()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert main(["sync", str(plan_file), "--caldav", calendar, "--user", USER, "--db", str(db)]) == 0
    assert_holds(calendar, tiny_plan)
    assert {row[0] for row in state_rows(db)} == {sync_key(calendar)}


def sync_key(url: str) -> str:
    from planner.caldav_sync import calendar_address

    return calendar_address(url).key


def test_a_sync_cut_at_its_deadline_records_what_was_written_and_the_next_one_resumes(small_plan, calendar,
                                                                                      tmp_path, monkeypatch, capsys):
    """Against Radicale, the whole sync's deadline (here 0.2 s for 61 events) falls midway through the writes:
    one line, exit 2, every recorded write is on the server; the next sync (with the usual deadline) finishes."""
    import planner.caldav_sync as caldav_sync

    plan_file = tmp_path / "plan.json"
    plan_file.write_bytes(plan_to_json(small_plan))
    db = tmp_path / "planner.db"
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    monkeypatch.setattr(caldav_sync, "SYNC_DEADLINE_BASE_S", 0.2)
    monkeypatch.setattr(caldav_sync, "SYNC_DEADLINE_PER_EVENT_S", 0.0)
    args = ["sync", str(plan_file), "--caldav", calendar, "--user", USER, "--db", str(db)]
    assert main(args) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "the sync did not finish within 0.2 s" in lines[0] and out == "", err
    assert "what was written is recorded" in lines[0]
    recorded = {row[1] for row in state_rows(db)}
    on_server = set(server_events(calendar))
    assert recorded <= on_server  # nothing recorded that the server did not take
    assert len(on_server - recorded) <= WORKERS  # at most the writes cut on their way
    assert len(on_server) < len(small_plan.active_sessions)
    monkeypatch.undo()
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert main(args) == 0
    out = capsys.readouterr().out
    import re

    n = len(small_plan.active_sessions)
    found = re.match(r"created (\d+), updated (\d+), deleted 0, unchanged (\d+) ", out)
    assert found, out
    created, updated, unchanged = map(int, found.groups())
    # the recorded ones are left as they are; those cut on their way (which Radicale may still have been storing
    # when the calendar was listed above) are rewritten in place; the rest are created
    assert unchanged == len(recorded) and updated <= WORKERS and created + updated == n - len(recorded), out
    assert_holds(calendar, small_plan)
    assert main(args) == 0
    assert capsys.readouterr().out.startswith(f"created 0, updated 0, deleted 0, unchanged "
                                              f"{len(small_plan.active_sessions)}")
