"""Local persistence for the dashboard: one SQLite file with a row per learner and every saved plan as a version.

The profile is stored as the raw field mapping `profile_from_mapping` reads (with the start date fixed), so a
restored learner without progress re-plans to exactly the same plan; the plan JSON is kept alongside. Once the
learner records progress or accepts a re-plan, the row is marked `tracked`: the saved plan JSON (with session
statuses, UIDs and SEQUENCE numbers) is then the learner's plan, restored as it is rather than re-planned.

Nothing is lost: every save also appends a row to `versions`, so any earlier plan can be restored (a restore is
itself a new version). Each learner row carries a version number; a save that names the version it was based on
is refused with `StaleVersion` when another tab saved in between, instead of silently overwriting that tab's work.
Every write is a single transaction; the database runs in WAL mode so a reader never blocks the writer.

A file that cannot be used raises `StoreError` with one line to show, and says which way out there is: a damaged
file (not SQLite, a newer schema, an unreadable row) can be set aside (`set_aside_and_start_fresh` keeps it as
`*.corrupt` and carries every readable row of every table over, feed tokens and sync state included); a full disk,
a read-only file or a missing folder are not damage, and nothing is moved for them.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner import sqlite_db
from planner.atomic import write_atomic
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import profile_from_mapping

STATE_FORMAT = "planner.state/1"
# Sized from real exports: a tracked plan is ~300 kB of JSON, so 100 learners take ~30 MB (gzip: ~2 MB).
MAX_IMPORT_BYTES = 64_000_000
MAX_NAME_LENGTH = 60
SCHEMA_VERSION = 2  # 1: learners + meta (no user_version set); 2: + learners.version and the versions table
CREATED_NOTE = "created, no plan yet"  # a learner kept by the dashboard's Create before their first plan
MAX_VERSIONS_KEPT = 200  # per learner; the oldest go first (each is one plan JSON)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS learners (
    name TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    plan TEXT,
    updated_at TEXT NOT NULL,
    tracked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_VERSIONS = """
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    profile TEXT NOT NULL,
    plan TEXT,
    tracked INTEGER NOT NULL DEFAULT 0,
    saved_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE(name, version)
);
"""

_CONTENTS = """
CREATE TABLE IF NOT EXISTS contents (
    name TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
"""

_RECHECK = """
CREATE TABLE IF NOT EXISTS busy_recheck (
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    reason TEXT NOT NULL,
    marked_at TEXT NOT NULL,
    PRIMARY KEY(name, source)
);
"""

_COLUMNS = "name, profile, plan, updated_at, tracked, version"


class StoreError(sqlite_db.DatabaseFileError):
    """The database cannot be used as it is; `message` is the one line the dashboard and CLI show. Only a damaged
    file is `fixable` by setting it aside: a full disk or a read-only file would lose nothing by waiting."""

    def __init__(self, path: Path, message: str, *, fixable: bool = True, kind: str = sqlite_db.DAMAGED):
        super().__init__(path, message, kind if fixable else (sqlite_db.OTHER if kind == sqlite_db.DAMAGED
                                                                else kind))
        self.fixable = fixable and kind == sqlite_db.DAMAGED  # setting the file aside and starting fresh helps

    @classmethod
    def of(cls, path: Path, exc: BaseException) -> StoreError:
        """A sqlite3 error (translated or not) as a StoreError; only damage is fixable."""
        if isinstance(exc, StoreError):
            return exc
        found = sqlite_db.explain(path, exc)
        return cls(path, found.message, fixable=found.kind == sqlite_db.DAMAGED, kind=found.kind)


class StaleVersion(Exception):
    """Another tab (or process) saved this learner after the version this save was based on."""

    def __init__(self, name: str, expected: int, current: int):
        self.name, self.expected, self.current = name, expected, current
        super().__init__(f"{name} changed in another tab (version {current}, this tab has {expected})")


@dataclass(frozen=True)
class Learner:
    name: str
    profile: dict[str, Any]  # raw profile fields, as profile_from_mapping reads them
    plan: dict[str, Any] | None  # plan JSON (planner.plan/1) or None when the last attempt did not fit
    updated_at: str
    tracked: bool = False  # the plan holds progress or an accepted re-plan: restore it, do not re-plan
    version: int = 0  # bumped by every save; a save based on an older version is refused


@dataclass(frozen=True)
class Version:
    """One saved state of a learner, newest first in `Store.versions`."""

    version: int
    saved_at: str
    note: str
    tracked: bool
    finish: str | None  # the plan's finish date, for the list
    done_sessions: int


def default_db_path() -> Path:
    """$PLANNER_DB, else the user data dir: $XDG_DATA_HOME or ~/.local/share, /study-planner/planner.db."""
    env = os.environ.get("PLANNER_DB")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "study-planner" / "planner.db"


# Bidi embeddings, overrides and isolates reorder the text around them (a name could print as another's, or turn
# the rest of a line around); marks and joiners alone are invisible.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")  # fillers, blank Braille


def _visible(ch: str) -> bool:
    return not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Mn", "Me", "Zs", "Co", "Cn", "Cs")
                or ch in _INVISIBLE)


def _clean_name(name: str) -> str:
    """Whitespace collapsed and length checked: what every stored name already satisfies."""
    clean = " ".join(str(name).split())
    if not clean:
        raise InputError("learner", "enter a name")
    if len(clean) > MAX_NAME_LENGTH:
        raise InputError("learner", f"use at most {MAX_NAME_LENGTH} characters")
    return clean


def check_name(name: str) -> str:
    """A new learner's name, cleaned: no control characters (ESC, BEL: they drive the terminal the name is printed
    on), no bidi overrides or isolates (they reorder the text around them), and at least one visible character.
    Names saved before these rules keep working (`Store.save` checks only new ones) and print escaped."""
    clean = _clean_name(name)
    for ch in clean:
        if unicodedata.category(ch) == "Cc":
            raise InputError("learner", f"the name holds a control character ({_escaped(ch)}); use letters, "
                                        f"digits and punctuation")
        if ch in _BIDI_CONTROLS:
            raise InputError("learner", f"the name holds a text-direction control ({_escaped(ch)}); type the name "
                                        f"without it")
    if not any(_visible(ch) for ch in clean):
        raise InputError("learner", "the name has no visible characters")
    return clean


def _escaped(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def shown_name(name: str) -> str:
    """A stored name safe to print: control characters, bidi controls and surrogates escaped (\\u001b), and every
    invisible character escaped when nothing visible is left (a lone zero-width space prints as \\u200b)."""
    bare = not any(_visible(ch) for ch in name)
    return "".join(_escaped(ch) if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS
                   or ch in "\u2028\u2029" or (bare and ch != " ") else ch for ch in name)


def _strict_json(value: Any, field: str, *, sort_keys: bool = False) -> str:
    """JSON without NaN or infinity (not JSON: other tools, and this planner's own reader, refuse them)."""
    try:
        return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise InputError(field, "holds NaN or infinity, which a saved learner cannot hold") from None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _describe(exc: BaseException) -> str:
    """One line for a sqlite3 error (kept for callers that only want the words)."""
    return sqlite_db.explain(Path("."), exc).message


class Store:
    """The learners of one database file. Its folder is made when missing unless `make_folder=False` (the CLI's
    `--db`: a typo is an error, not a new folder). With `create=False` a missing file is a StoreError of kind
    MISSING and nothing is created or made: listing and the feed read, they never make an empty database."""

    def __init__(self, path: str | Path | None = None, *, create: bool = True, make_folder: bool = True):
        self.path = Path(path) if path is not None else default_db_path()
        if not self.path.parent.is_dir():
            if not (create and make_folder):
                raise StoreError(self.path, f"the folder {self.path.parent} does not exist (check the path)",
                                 fixable=False, kind=sqlite_db.MISSING)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(self.path, f"cannot create its folder ({exc.strerror})", fixable=False,
                                 kind=sqlite_db.MISSING) from None
        if not create and not self.path.is_file():
            raise StoreError(self.path, "no planner database here yet", fixable=False, kind=sqlite_db.MISSING)
        with self._guard():
            self._open()

    def _open(self) -> None:
        with self._connect() as conn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise StoreError(self.path, f"it was written by a newer version of the planner (schema {found}, "
                                            f"this one reads up to {SCHEMA_VERSION})")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if found == SCHEMA_VERSION and {"learners", "meta", "versions", "contents", "busy_recheck"} <= tables:
                return
            if self._readonly():
                if found == SCHEMA_VERSION and {"learners", "meta", "versions"} <= tables:
                    return  # read it as it is; the newer tables come with the next open that can write
                raise sqlite3.OperationalError("attempt to write a readonly database")
            with conn:  # migrate in one transaction: a crash leaves the old schema
                conn.executescript("BEGIN;" + _SCHEMA + _VERSIONS + _CONTENTS + _RECHECK)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(learners)")}
                if "tracked" not in columns:  # a database from before progress tracking
                    conn.execute("ALTER TABLE learners ADD COLUMN tracked INTEGER NOT NULL DEFAULT 0")
                if "version" not in columns:  # schema 1: every existing row becomes version 1 of its learner
                    conn.execute("ALTER TABLE learners ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
                    conn.execute("INSERT OR IGNORE INTO versions(name, version, profile, plan, tracked, saved_at, "
                                 "note) SELECT name, version, profile, plan, tracked, updated_at, 'saved' "
                                 "FROM learners")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _readonly(self) -> bool:
        return self.path.exists() and not os.access(self.path, os.W_OK)

    @property
    def readonly(self) -> bool:
        """The file can be read but no save will succeed: the dashboard says so before the learner works."""
        return self._readonly()

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        writable = not self._readonly()
        return sqlite_db.connect(self.path, wal=writable, synchronous_normal=writable, read_only=not writable)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """sqlite3 errors (a file damaged, full or made read-only while in use) as one StoreError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError.of(self.path, exc) from None

    # ------------------------------------------------------------ learners
    def save(self, name: str, profile: Mapping[str, Any], plan: Mapping[str, Any] | None,
             tracked: bool = False, *, expected_version: int | None = None, note: str = "",
             content: tuple[str, str] | None = None) -> Learner:
        """Insert or replace one learner, record the save as a new version and mark it the last one used.

        `tracked=True` means `plan` carries progress or an accepted re-plan and is restored as saved; a plain
        save (a new plan from the form) clears it. With `expected_version` (the version the caller read), a save
        after someone else's raises StaleVersion and changes nothing. `content` (source, YAML text) keeps the
        learning path the plan was made from when it is not one shipped with the planner, so the feed can still
        read the plan after the file has moved. A new name must pass `check_name`; a name already saved is kept.
        """
        name = _clean_name(name)
        if tracked and plan is None:
            raise InputError("plan", "a tracked learner needs a plan")
        stamp = _now()
        profile_text = _strict_json(dict(profile), "profile", sort_keys=True)
        plan_text = _strict_json(dict(plan), "plan") if plan is not None else None
        with self._guard(), self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # the version check and the write see the same row
            try:
                row = conn.execute("SELECT version FROM learners WHERE name = ?", (name,)).fetchone()
                current = int(row[0]) if row else 0
                if row is None:
                    check_name(name)
                if expected_version is not None and expected_version != current:
                    raise StaleVersion(name, expected_version, current)
                version = current + 1
                conn.execute(
                    "INSERT INTO learners(name, profile, plan, updated_at, tracked, version) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET profile=excluded.profile, plan=excluded.plan, "
                    "updated_at=excluded.updated_at, tracked=excluded.tracked, version=excluded.version",
                    (name, profile_text, plan_text, stamp, int(tracked), version),
                )
                self._add_version(conn, name, version, profile_text, plan_text, tracked, stamp, note)
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (name,))
                if plan is not None and not tracked:  # a new plan from the form read every calendar it names
                    with suppress(sqlite3.OperationalError):  # a file from before the table existed
                        conn.execute("DELETE FROM busy_recheck WHERE name = ?", (name,))
                if content is not None:
                    conn.execute("INSERT OR REPLACE INTO contents(name, source, text, saved_at) VALUES (?, ?, ?, ?)",
                                 (name, content[0], content[1], stamp))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return Learner(name, dict(profile), dict(plan) if plan is not None else None, stamp, tracked, version)

    @staticmethod
    def _add_version(conn: sqlite3.Connection, name: str, version: int, profile: str, plan: str | None,
                     tracked: bool, stamp: str, note: str) -> None:
        conn.execute("DELETE FROM versions WHERE name = ? AND version >= ?", (name, version))  # a deleted learner
        conn.execute("INSERT INTO versions(name, version, profile, plan, tracked, saved_at, note) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", (name, version, profile, plan, int(tracked), stamp, note))
        conn.execute("DELETE FROM versions WHERE name = ? AND version <= ?", (name, version - MAX_VERSIONS_KEPT))

    def set_last(self, name: str) -> None:
        with self._guard(), self._connect() as conn, conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (name,))

    def load(self, name: str) -> Learner | None:
        with self._guard(), self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM learners WHERE name = ?", (name,)).fetchone()
        return self._row(row) if row else None

    def content(self, name: str) -> tuple[str, str] | None:
        """The learning path kept with the learner's plan by `save(content=...)`: (source, YAML text)."""
        with self._guard(), self._connect() as conn:
            try:
                row = conn.execute("SELECT source, text FROM contents WHERE name = ?", (name,)).fetchone()
            except sqlite3.OperationalError:  # a read-only file from before the table existed
                return None
        return (str(row[0]), str(row[1])) if row else None

    def rechecks(self, name: str) -> list[tuple[str, str]]:
        """The learner's busy calendars a restore could not bring along or check: (source, why). The next plan
        reads them again (and names any that still cannot be read); a new plan clears the marks."""
        with self._guard(), self._connect() as conn:
            try:
                rows = conn.execute("SELECT source, reason FROM busy_recheck WHERE name = ? ORDER BY source",
                                    (name,)).fetchall()
            except sqlite3.OperationalError:  # a read-only file from before the table existed
                return []
        return [(str(a), str(b)) for a, b in rows]

    def version_of(self, name: str) -> int:
        with self._guard(), self._connect() as conn:
            row = conn.execute("SELECT version FROM learners WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def names(self) -> list[str]:
        with self._guard(), self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM learners ORDER BY name COLLATE NOCASE")]

    def without_plan(self) -> set[str]:
        """Learners created without a plan (saved with CREATED_NOTE and nothing since): their profile is only the
        form's defaults, never planned, so the dashboard opens them on the empty form."""
        with self._guard(), self._connect() as conn:
            try:
                rows = conn.execute("SELECT l.name FROM learners l JOIN versions v ON v.name = l.name AND "
                                    "v.version = l.version WHERE l.plan IS NULL AND v.note = ?",
                                    (CREATED_NOTE,)).fetchall()
            except sqlite3.OperationalError:  # a read-only file from before the table existed
                return set()
        return {str(r[0]) for r in rows}

    def last(self) -> Learner | None:
        """The learner used most recently (the one to restore on reload)."""
        with self._guard(), self._connect() as conn:
            meta = conn.execute("SELECT value FROM meta WHERE key = 'last'").fetchone()
            row = None
            if meta:
                row = conn.execute(f"SELECT {_COLUMNS} FROM learners WHERE name = ?", (meta[0],)).fetchone()
            if row is None:
                row = conn.execute(f"SELECT {_COLUMNS} FROM learners ORDER BY updated_at DESC LIMIT 1").fetchone()
        return self._row(row) if row else None

    def delete(self, name: str) -> None:
        """Remove a learner from the list; its versions stay, so re-creating the name can restore them."""
        with self._guard(), self._connect() as conn, conn:
            conn.execute("DELETE FROM learners WHERE name = ?", (name,))

    # ------------------------------------------------------------ versions (undo)
    def versions(self, name: str, limit: int = 50) -> list[Version]:
        with self._guard(), self._connect() as conn:
            rows = conn.execute("SELECT version, saved_at, note, tracked, plan FROM versions WHERE name = ? "
                                "ORDER BY version DESC LIMIT ?", (name, limit)).fetchall()
        out = []
        for version, saved_at, note, tracked, plan_text in rows:
            finish, done = None, 0
            try:
                plan = json.loads(plan_text) if plan_text else None
            except ValueError:
                plan = None
            if isinstance(plan, dict):
                sessions = [s for s in plan.get("sessions") or [] if isinstance(s, dict)]
                days = [str(s.get("start", ""))[:10] for s in sessions if s.get("status") != "cancelled"]
                finish = max(days) if days else None
                done = sum(1 for s in sessions if s.get("status") == "done")
            out.append(Version(int(version), saved_at, note, bool(tracked), finish, done))
        return out

    def restore(self, name: str, version: int, *, expected_version: int | None = None) -> Learner:
        """Make an earlier version the learner's current state again, as a new version (so it can be undone)."""
        with self._guard(), self._connect() as conn:
            row = conn.execute("SELECT profile, plan, tracked FROM versions WHERE name = ? AND version = ?",
                               (name, version)).fetchone()
        if row is None:
            raise InputError("version", f"{name} has no saved version {version}")
        try:
            profile = json.loads(row[0])
            plan = json.loads(row[1]) if row[1] else None
        except ValueError:
            raise StoreError(self.path, f"version {version} of {name!r} is not readable JSON") from None
        return self.save(name, profile, plan, bool(row[2]) and plan is not None, expected_version=expected_version,
                         note=f"restored version {version}")

    # ------------------------------------------------------------ export / import
    def export_state(self) -> bytes:
        """Every learner's current state as one JSON file (compact: 100 tracked learners stay under the limit)."""
        with self._guard(), self._connect() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM learners ORDER BY name COLLATE NOCASE").fetchall()
        last = self.last()
        learners = [self._row(row) for row in rows]
        state = {
            "format": STATE_FORMAT,
            "exported_at": _now(),
            "last": last.name if last else None,
            "learners": [
                {"name": r.name, "profile": r.profile, "plan": r.plan, "updated_at": r.updated_at,
                 "tracked": r.tracked}
                for r in learners
            ],
        }
        text = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        files = _busy_files([source for r in learners for source in _busy_sources(r.profile)],
                            MAX_IMPORT_BYTES - len(text.encode("utf-8")) - 65536)
        return (text[:-1] + ',"files":' + json.dumps(files, separators=(",", ":")) + "}\n").encode("utf-8")

    def import_state(self, data: bytes, curriculum: Curriculum) -> Imported:
        """Validate the whole file first, then write every learner in one transaction; returns their names (with
        `notes`: what a restore could not bring along).

        A bad file raises InputError and leaves the database untouched. An imported learner that already exists
        gets a new version, so the state it replaced can be restored. Busy calendars never refuse a restore: a
        file in the backup that is not on this machine is put beside the database; one that is in neither place,
        and every calendar address (not fetched during a restore), is kept in the profile and marked to re-check.
        """
        backup = read_backup(data, curriculum)
        learners, last = backup.learners, backup.last
        learners, marks, notes = self._bring_calendars(learners, backup.files)
        notes = backup.notes + notes
        stamp = _now()
        with self._guard(), self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for name, source, reason in marks:
                    conn.execute("INSERT OR REPLACE INTO busy_recheck(name, source, reason, marked_at) "
                                 "VALUES (?, ?, ?, ?)", (name, source, reason, stamp))
                for item in learners:
                    row = conn.execute("SELECT version FROM learners WHERE name = ?", (item.name,)).fetchone()
                    version = (int(row[0]) if row else 0) + 1
                    profile_text = json.dumps(item.profile, sort_keys=True, ensure_ascii=False)
                    plan_text = json.dumps(item.plan, ensure_ascii=False) if item.plan is not None else None
                    conn.execute(
                        "INSERT INTO learners(name, profile, plan, updated_at, tracked, version) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET profile=excluded.profile, "
                        "plan=excluded.plan, updated_at=excluded.updated_at, tracked=excluded.tracked, "
                        "version=excluded.version",
                        (item.name, profile_text, plan_text, stamp, int(item.tracked), version),
                    )
                    self._add_version(conn, item.name, version, profile_text, plan_text, item.tracked, stamp,
                                      "imported")
                if last is not None:
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (last,))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return Imported([item.name for item in learners], notes)

    def _bring_calendars(self, learners: list[Learner], files: Mapping[str, bytes]
                         ) -> tuple[list[Learner], list[tuple[str, str, str]], list[str]]:
        """Each learner's busy calendar files found on this machine, or written beside the database from the
        backup (and the profile and plan pointed at the copy); the rest marked to re-check."""
        marks: list[tuple[str, str, str]] = []
        notes: list[str] = []
        out = []
        for learner in learners:
            moved: dict[str, str] = {}
            for source in _busy_sources(learner.profile):
                if _is_url(source):
                    marks.append((learner.name, source, "a calendar address is not read during a restore"))
                    continue
                if Path(source).is_file():
                    continue
                data = files.get(source)
                if data is None:
                    marks.append((learner.name, source, "the file is not on this machine nor in the backup"))
                    notes.append(f"{shown_name(learner.name)}: busy calendar {source} is not on this machine nor "
                                 f"in the backup; it is kept, marked to re-check (the next plan names it)")
                    continue
                target = self.path.parent / "busy" / (f"{_file_stem(learner.name)}-"
                                                      f"{hashlib.sha256(data).hexdigest()[:12]}.ics")
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not (target.is_file() and target.read_bytes() == data):
                        write_atomic(target, data)
                except OSError as exc:
                    marks.append((learner.name, source, f"could not be written beside the database "
                                                        f"({exc.strerror or exc})"))
                    notes.append(f"{shown_name(learner.name)}: busy calendar {source} could not be written to "
                                 f"{target.parent} ({exc.strerror or exc}); it is kept, marked to re-check")
                    continue
                moved[source] = str(target)
            if moved:
                notes.append(f"{shown_name(learner.name)}: {len(moved)} busy calendar file(s) from the backup put "
                             f"in {self.path.parent / 'busy'}")
                plan = learner.plan
                if plan is not None and isinstance(plan.get("profile"), dict):
                    plan = {**plan, "profile": _with_sources(plan["profile"], moved)}
                learner = Learner(learner.name, _with_sources(learner.profile, moved), plan, learner.updated_at,
                                  learner.tracked, learner.version)
            out.append(learner)
        return out, marks, notes

    # ------------------------------------------------------------ damage
    def _row(self, row: Sequence[Any]) -> Learner:
        try:
            profile = json.loads(row[1])
            plan = json.loads(row[2]) if row[2] else None
            if not isinstance(profile, dict) or not (plan is None or isinstance(plan, dict)):
                raise ValueError("not a mapping")
        except (ValueError, TypeError):
            raise StoreError(self.path, f"the saved data of learner {row[0]!r} is not readable") from None
        return Learner(row[0], profile, plan, row[3], bool(row[4]) and plan is not None, int(row[5]))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rows_of(conn: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Every row of `table` that still reads, in rowid order: past a damaged page the scan resumes after it."""
    columns = [d[0] for d in conn.execute(f"SELECT * FROM {_quoted(table)} LIMIT 0").description]
    rows: list[tuple[Any, ...]] = []
    after: int | None = None
    for attempt in range(1, 41):  # each attempt skips further past the damage: 2, 4, 8 ... rowids
        try:
            where = "" if after is None else f" WHERE rowid > {int(after)}"
            for row in conn.execute(f"SELECT rowid, * FROM {_quoted(table)}{where} ORDER BY rowid"):
                rows.append(tuple(row[1:]))
                after = int(row[0])
            return columns, rows
        except sqlite3.OperationalError as exc:
            if "rowid" in str(exc) and not rows:  # a WITHOUT ROWID table: what one scan gives
                try:
                    return columns, list(conn.execute(f"SELECT * FROM {_quoted(table)}"))
                except sqlite3.Error:
                    return columns, []
            after = (after or 0) + 2 ** attempt
        except sqlite3.Error:
            after = (after or 0) + 2 ** attempt
    return columns, rows


@dataclass(frozen=True)
class _Salvage:
    learners: list[Learner]
    lost: list[str]  # learners whose current row does not read
    versions: list[tuple[Any, ...]]  # (name, version, profile, plan, tracked, saved_at, note) rows that read
    tables: list[tuple[str, str, list[str], list[tuple[Any, ...]]]]  # other tables: (name, CREATE, columns, rows)
    indexes: list[str]


_MAGIC = b"SQLite format 3\x00"


def _salvage(path: Path) -> _Salvage:
    """Whatever can still be read from a damaged database: every table's rows that read, learners and versions
    only when their JSON parses (a learner that does not is named in `lost`). A file whose 100-byte header is
    damaged (the pages behind it intact) is read through a copy with the header put right."""
    found = _salvage_from(path)
    if found.learners or found.tables or found.versions:
        return found
    try:
        with open(path, "rb") as f:
            header = bytearray(f.read(100))
    except OSError:
        return found
    if len(header) < 100:
        return found
    page = int.from_bytes(header[16:18], "big")
    page_ok = page == 1 or (512 <= page <= 32768 and page & (page - 1) == 0)
    if header[:16] == _MAGIC and page_ok:
        return found  # the header is fine: the damage is elsewhere
    header[:16] = _MAGIC
    if not page_ok:
        header[16:18] = (4096).to_bytes(2, "big")
    wal = path.with_name(path.name + "-wal")
    header[18:20] = bytes([2, 2]) if wal.exists() else bytes([1, 1])
    header[21:24] = bytes([64, 32, 32])
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.repair-") as folder:
            copy = Path(folder) / path.name
            shutil.copyfile(path, copy)
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            with open(copy, "r+b") as f:
                f.write(bytes(header))
            return _salvage_from(copy)
    except OSError:  # no room for the copy: what the file gave as it is
        return found


def _salvage_from(path: Path) -> _Salvage:
    learners: list[Learner] = []
    lost: list[str] = []
    versions: list[tuple[Any, ...]] = []
    tables: list[tuple[str, str, list[str], list[tuple[Any, ...]]]] = []
    indexes: list[str] = []
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return _Salvage(learners, lost, versions, tables, indexes)
    try:
        try:
            schema = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        except sqlite3.Error:
            schema = [("table", "learners", ""), ("table", "versions", "")]  # try the known ones by name
        for kind, table, sql in schema:
            if kind == "index":
                indexes.append(str(sql))
                continue
            if kind != "table" or str(table).startswith("sqlite_"):
                continue
            try:
                columns, rows = _rows_of(conn, str(table))
            except sqlite3.Error:
                continue
            if table == "learners":
                for values in rows:
                    item = dict(zip(columns, values, strict=True))
                    try:
                        profile = json.loads(item["profile"])
                        plan = json.loads(item["plan"]) if item.get("plan") else None
                        if not isinstance(profile, dict) or not (plan is None or isinstance(plan, dict)):
                            raise ValueError("not a mapping")
                        learners.append(Learner(_clean_name(item["name"]), profile, plan,
                                                str(item.get("updated_at") or ""),
                                                bool(item.get("tracked")) and plan is not None))
                    except (ValueError, TypeError, KeyError, InputError, RecursionError):
                        lost.append(str(item.get("name")))
            elif table == "versions":
                for values in rows:
                    item = dict(zip(columns, values, strict=True))
                    try:
                        json.loads(item["profile"])
                        if item.get("plan"):
                            json.loads(item["plan"])
                        versions.append((_clean_name(item["name"]), int(item["version"]), item["profile"],
                                         item.get("plan"), int(bool(item.get("tracked"))), str(item["saved_at"]),
                                         str(item.get("note") or "")))
                    except (ValueError, TypeError, KeyError, InputError, RecursionError):
                        continue
            else:
                tables.append((str(table), str(sql), columns, rows))
    finally:
        conn.close()
    return _Salvage(learners, lost, versions, tables, indexes)


def readable_learners(path: Path) -> list[Learner]:
    """The learners that can still be read from a damaged database."""
    return _salvage(path).learners


def _write_fresh(target: Path, found: _Salvage) -> list[str]:
    """A new database at `target` holding everything in `found`; returns the learners carried over."""
    names = []
    with sqlite_db.connect(target, wal=False) as conn:
        conn.executescript(_SCHEMA + _VERSIONS + _CONTENTS + _RECHECK)
        conn.execute("ALTER TABLE learners ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        with conn:
            for table, sql, columns, rows in found.tables:
                with suppress(sqlite3.OperationalError):  # one of the store's own tables, made above
                    conn.execute(sql)
                if not columns:
                    continue
                marks = ", ".join("?" * len(columns))
                conn.executemany(f"INSERT OR IGNORE INTO {_quoted(table)}({', '.join(map(_quoted, columns))}) "
                                 f"VALUES ({marks})", rows)
            for sql in found.indexes:
                try:
                    conn.execute(sql)
                except sqlite3.Error:  # an index of a table that did not read, or a duplicate
                    continue
            conn.executemany("INSERT OR IGNORE INTO versions(name, version, profile, plan, tracked, saved_at, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", found.versions)
            stamp = _now()
            for learner in found.learners:
                row = conn.execute("SELECT max(version) FROM versions WHERE name = ?", (learner.name,)).fetchone()
                version = int(row[0] or 0) + 1
                profile_text = json.dumps(learner.profile, sort_keys=True, ensure_ascii=False)
                plan_text = json.dumps(learner.plan, ensure_ascii=False) if learner.plan is not None else None
                conn.execute("INSERT OR REPLACE INTO learners(name, profile, plan, updated_at, tracked, version) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (learner.name, profile_text, plan_text, learner.updated_at or stamp,
                              int(learner.tracked), version))
                Store._add_version(conn, learner.name, version, profile_text, plan_text, learner.tracked, stamp,
                                   "recovered")
                names.append(learner.name)
    return names


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def set_aside_and_start_fresh(path: Path) -> tuple[Path, list[str]]:
    """Move a damaged database to `<name>.corrupt` (never deleted) and put a fresh one in its place holding every
    row that still reads: learners and their versions, feed tokens (subscribed calendars keep working), CalDAV sync
    state and any other table. The fresh file is written completely beside the old one first; only then is the old
    one moved aside, so a full disk or a crash leaves the old file where it was. Returns where it went and who was
    carried over."""
    path = Path(path)
    found = _salvage(path)
    fresh = path.with_name(f".{path.name}.fresh-{os.getpid()}")
    for leftover in (fresh, fresh.with_name(fresh.name + "-journal")):
        leftover.unlink(missing_ok=True)
    try:
        names = _write_fresh(fresh, found)
    except BaseException as exc:
        for leftover in (fresh, fresh.with_name(fresh.name + "-journal")):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            err = StoreError.of(path, exc)
            raise StoreError(path, f"nothing was moved: {err.message}", fixable=False, kind=err.kind) from None
        raise
    aside = path.with_name(path.name + ".corrupt")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{n}.corrupt")
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("", "-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
                moved.append((side, aside.with_name(aside.name + suffix)))
        os.replace(fresh, path)
    except OSError as exc:
        for original, now in reversed(moved):  # put the old file back as it was
            with suppress(OSError):
                now.rename(original)
        fresh.unlink(missing_ok=True)
        raise StoreError(path, f"cannot move the file aside ({exc.strerror}); move it yourself",
                         fixable=False, kind=sqlite_db.OTHER) from None
    _fsync_folder(path.parent)
    return aside, names


def _decode(data: bytes) -> bytes:
    """A state file as exported, or gzip-compressed; the size limit applies to the uncompressed JSON too."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(MAX_IMPORT_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise InputError("import", f"not a readable gzip file ({exc})") from None
    if len(out) > MAX_IMPORT_BYTES:
        raise InputError("import", f"the file unpacks to more than {MAX_IMPORT_BYTES / 1e6:g} MB")
    return out


class Imported(list[str]):
    """The names an import wrote (a list, as before), with `notes`: what it could not bring along."""

    def __init__(self, names: Sequence[str], notes: Sequence[str] = ()):
        super().__init__(names)
        self.notes = list(notes)


@dataclass(frozen=True)
class Backup:
    learners: list[Learner]
    last: str | None
    files: dict[str, bytes]  # busy calendar files kept in the backup, by the source path the profiles name
    notes: list[str]


def _is_url(source: str) -> bool:
    return "://" in source


def _busy_sources(profile: Mapping[str, Any]) -> list[str]:
    """The busy calendars a stored profile names (a list, one string, or the plan file's {sources: [...]})."""
    raw = profile.get("busy")
    if isinstance(raw, Mapping):
        raw = raw.get("sources")
    if isinstance(raw, str):
        raw = [raw]
    return [str(v).strip() for v in raw or [] if isinstance(v, str | Path) and str(v).strip()] \
        if isinstance(raw, list | tuple) else []


def _with_sources(profile: Mapping[str, Any], moved: Mapping[str, str]) -> dict[str, Any]:
    out = dict(profile)
    raw = out.get("busy")
    if isinstance(raw, Mapping):
        out["busy"] = {**raw, "sources": [moved.get(str(v).strip(), v) for v in raw.get("sources") or []]}
    elif isinstance(raw, str):
        out["busy"] = moved.get(raw.strip(), raw)
    elif isinstance(raw, list | tuple):
        out["busy"] = [moved.get(str(v).strip(), v) for v in raw]
    return out


def _file_stem(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")[:40]
    return stem or "learner"


def _busy_files(sources: Sequence[str], room: int) -> list[dict[str, str]]:
    """The busy calendar files (uploads, and files given by path) that can be read now, for the backup: the
    smallest first while the backup stays importable (`room` bytes); one left out is marked to re-check when the
    backup is restored, as a file that is not on that machine."""
    from planner.busy import MAX_BUSY_BYTES

    out = []
    sized = []
    for source in dict.fromkeys(sources):
        if _is_url(source):
            continue
        with suppress(OSError):
            sized.append((Path(source).stat().st_size, source))
    for _, source in sorted(sized):
        try:
            path = Path(source)
            if not path.is_file() or path.stat().st_size > MAX_BUSY_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        entry = {"source": source, "sha256": hashlib.sha256(data).hexdigest(),
                 "data": base64.b64encode(data).decode("ascii")}
        room -= len(entry["data"]) + len(source) + 128
        if room < 0:
            break
        out.append(entry)
    return out


def _backup_files(raw: Any) -> tuple[dict[str, bytes], list[str]]:
    """The calendar files of a backup; an entry that does not read is skipped and named (its learner's
    calendar is then marked to re-check), never a reason to refuse the restore."""
    from planner.busy import MAX_BUSY_BYTES

    files: dict[str, bytes] = {}
    notes: list[str] = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        try:
            source = str(item["source"])
            data = base64.b64decode(str(item["data"]), validate=True)
            if len(data) > MAX_BUSY_BYTES or hashlib.sha256(data).hexdigest() != str(item.get("sha256", "")):
                raise ValueError("size or checksum")
        except (KeyError, TypeError, ValueError):
            notes.append(f"files[{i}]: not a readable calendar file; skipped")
            continue
        files[source] = data
    return files, notes


def read_backup(data: bytes, curriculum: Curriculum) -> Backup:
    """`parse_state` with the busy calendar files the backup carries."""
    learners, last, state = _parse_state(data, curriculum)
    files, notes = _backup_files(state.get("files"))
    return Backup(learners, last, files, notes)


def parse_state(data: bytes, curriculum: Curriculum) -> tuple[list[Learner], str | None]:
    """Check an exported state file: size, JSON, format key, and every profile re-validated."""
    learners, last, _ = _parse_state(data, curriculum)
    return learners, last


def _parse_state(data: bytes, curriculum: Curriculum) -> tuple[list[Learner], str | None, dict[str, Any]]:
    """Check an exported state file: size, JSON, format key, and every profile re-validated (its busy calendars
    are not read: a calendar that is elsewhere or unreachable now never refuses a restore)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InputError("import", f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                                   f"{MAX_IMPORT_BYTES / 1e6:g} MB")
    data = _decode(data)
    try:
        state = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:120]
        raise InputError("import", f"not a JSON file ({exc.__class__.__name__}: {reason})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise InputError("import", f"expected format '{STATE_FORMAT}', found {str(found)[:60]!r}")
    raw = state.get("learners")
    if not isinstance(raw, list) or not raw:
        raise InputError("import", "the file holds no learners")
    out: list[Learner] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputError(f"learners[{i}]", "expected a mapping with name and profile")
        try:  # a name this planner saved before today's rules still restores (it prints escaped)
            name = _clean_name(item.get("name", ""))
        except InputError as exc:
            raise InputError(f"learners[{i}].name", exc.message) from None
        if name in seen:
            raise InputError(f"learners[{i}].name", f"'{name}' appears twice")
        seen.add(name)
        profile = item.get("profile")
        if not isinstance(profile, dict):
            raise InputError(f"learners[{i}].profile", "expected a mapping of profile fields")
        try:
            profile_from_mapping(profile, curriculum)
        except InputError as exc:
            raise InputError(f"learners[{i}].profile.{exc.field}", exc.message) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"learners[{i}].profile", f"not a valid profile ({exc.__class__.__name__})") from None
        plan = item.get("plan")
        if plan is not None and not isinstance(plan, dict):
            raise InputError(f"learners[{i}].plan", "expected a plan mapping or null")
        tracked = bool(item.get("tracked", False)) and plan is not None
        if tracked:  # the saved plan is restored as it is, so it must read back
            from planner.export.json import plan_from_dict

            try:
                plan_from_dict(plan, curriculum, f"learners[{i}].plan")
            except InputError as exc:
                raise InputError(exc.field, exc.message) from None
            except (TypeError, ValueError, KeyError, OverflowError) as exc:
                raise InputError(f"learners[{i}].plan", f"not a readable plan ({exc.__class__.__name__})") from None
        out.append(Learner(name, profile, plan, str(item.get("updated_at") or ""), tracked))
    last = state.get("last")
    return out, last if isinstance(last, str) and last in seen else out[-1].name, state
