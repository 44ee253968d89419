"""Local persistence for the dashboard: one SQLite file with a row per learner and every saved plan as a version.

The profile is stored as the raw field mapping `profile_from_mapping` reads (with the start date fixed), so a
restored learner without progress re-plans to exactly the same plan; the plan JSON is kept alongside. Once the
learner records progress or accepts a re-plan, the row is marked `tracked`: the saved plan JSON (with session
statuses, UIDs and SEQUENCE numbers) is then the learner's plan, restored as it is rather than re-planned.

Nothing is lost: every save also appends a row to `versions`, so any earlier plan can be restored (a restore is
itself a new version). Each learner row carries a version number; a save that names the version it was based on
is refused with `StaleVersion` when another tab saved in between, instead of silently overwriting that tab's work.
Every write is a single transaction; the database runs in WAL mode so a reader never blocks the writer.

A damaged file (not SQLite, a newer schema, an unreadable row, read-only) raises `StoreError` with one line to
show; `set_aside_and_start_fresh` keeps the bad file as `*.corrupt` and carries every readable learner over.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner import sqlite_db
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import profile_from_mapping

STATE_FORMAT = "planner.state/1"
# Sized from real exports: a tracked plan is ~300 kB of JSON, so 100 learners take ~30 MB (gzip: ~2 MB).
MAX_IMPORT_BYTES = 64_000_000
MAX_NAME_LENGTH = 60
SCHEMA_VERSION = 2  # 1: learners + meta (no user_version set); 2: + learners.version and the versions table
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

_COLUMNS = "name, profile, plan, updated_at, tracked, version"


class StoreError(Exception):
    """The database cannot be used as it is; `message` is the one line the dashboard and CLI show."""

    def __init__(self, path: Path, message: str, *, fixable: bool = True):
        self.path = path
        self.message = message
        self.fixable = fixable  # setting the file aside and starting fresh is a way out
        super().__init__(f"{path}: {message}")


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


def check_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not clean:
        raise InputError("learner", "enter a name")
    if len(clean) > MAX_NAME_LENGTH:
        raise InputError("learner", f"use at most {MAX_NAME_LENGTH} characters")
    return clean


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "readonly" in text or "read-only" in text:
        return "the file is read-only, so nothing can be saved (fix its permissions, or set it aside)"
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return "the file is damaged or not a planner database"
    return text or exc.__class__.__name__


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(self.path, f"cannot create its folder ({exc.strerror})", fixable=False) from None
        try:
            self._open()
        except sqlite3.Error as exc:
            raise StoreError(self.path, _describe(exc)) from None

    def _open(self) -> None:
        with self._connect() as conn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise StoreError(self.path, f"it was written by a newer version of the planner (schema {found}, "
                                            f"this one reads up to {SCHEMA_VERSION})")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if found == SCHEMA_VERSION and {"learners", "meta", "versions"} <= tables:
                return
            if self._readonly():
                raise sqlite3.OperationalError("attempt to write a readonly database")
            with conn:  # migrate in one transaction: a crash leaves the old schema
                conn.executescript("BEGIN;" + _SCHEMA + _VERSIONS)
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
        return sqlite_db.connect(self.path, wal=writable, synchronous_normal=writable)

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """sqlite3 errors after opening (a file damaged or made read-only while in use) as one StoreError."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(self.path, _describe(exc)) from None

    # ------------------------------------------------------------ learners
    def save(self, name: str, profile: Mapping[str, Any], plan: Mapping[str, Any] | None,
             tracked: bool = False, *, expected_version: int | None = None, note: str = "") -> Learner:
        """Insert or replace one learner, record the save as a new version and mark it the last one used.

        `tracked=True` means `plan` carries progress or an accepted re-plan and is restored as saved; a plain
        save (a new plan from the form) clears it. With `expected_version` (the version the caller read), a save
        after someone else's raises StaleVersion and changes nothing.
        """
        name = check_name(name)
        if tracked and plan is None:
            raise InputError("plan", "a tracked learner needs a plan")
        stamp = _now()
        profile_text = json.dumps(dict(profile), sort_keys=True, ensure_ascii=False)
        plan_text = json.dumps(dict(plan), ensure_ascii=False) if plan is not None else None
        with self._guard(), self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # the version check and the write see the same row
            try:
                row = conn.execute("SELECT version FROM learners WHERE name = ?", (name,)).fetchone()
                current = int(row[0]) if row else 0
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

    def version_of(self, name: str) -> int:
        with self._guard(), self._connect() as conn:
            row = conn.execute("SELECT version FROM learners WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def names(self) -> list[str]:
        with self._guard(), self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM learners ORDER BY name COLLATE NOCASE")]

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
        state = {
            "format": STATE_FORMAT,
            "exported_at": _now(),
            "last": last.name if last else None,
            "learners": [
                {"name": r.name, "profile": r.profile, "plan": r.plan, "updated_at": r.updated_at,
                 "tracked": r.tracked}
                for r in (self._row(row) for row in rows)
            ],
        }
        return (json.dumps(state, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")

    def import_state(self, data: bytes, curriculum: Curriculum) -> list[str]:
        """Validate the whole file first, then write every learner in one transaction; returns their names.

        A bad file raises InputError and leaves the database untouched. An imported learner that already exists
        gets a new version, so the state it replaced can be restored.
        """
        learners, last = parse_state(data, curriculum)
        stamp = _now()
        with self._guard(), self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
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
        return [item.name for item in learners]

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


def readable_learners(path: Path) -> list[tuple[Learner, list[tuple[int, str, str | None, bool, str, str]]]]:
    """Whatever can still be read from a damaged database: learners whose rows parse, with their versions."""
    out: list[tuple[Learner, list[tuple[int, str, str | None, bool, str, str]]]] = []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return out
    try:
        rows = conn.execute("SELECT * FROM learners").fetchall()
        columns = [d[0] for d in conn.execute("SELECT * FROM learners LIMIT 0").description]
    except sqlite3.Error:
        conn.close()
        return out
    for values in rows:
        item = dict(zip(columns, values, strict=True))
        try:
            profile = json.loads(item["profile"])
            plan = json.loads(item["plan"]) if item.get("plan") else None
            if not isinstance(profile, dict) or not (plan is None or isinstance(plan, dict)):
                continue
            learner = Learner(check_name(item["name"]), profile, plan, str(item.get("updated_at") or ""),
                              bool(item.get("tracked")) and plan is not None)
        except (ValueError, TypeError, KeyError, InputError):
            continue
        history: list[tuple[int, str, str | None, bool, str, str]] = []
        try:
            for v in conn.execute("SELECT version, profile, plan, tracked, saved_at, note FROM versions "
                                  "WHERE name = ? ORDER BY version", (learner.name,)):
                json.loads(v[1])
                if v[2]:
                    json.loads(v[2])
                history.append((int(v[0]), v[1], v[2], bool(v[3]), str(v[4]), str(v[5])))
        except (sqlite3.Error, ValueError, TypeError):
            history = []
        out.append((learner, history))
    conn.close()
    return out


def set_aside_and_start_fresh(path: Path) -> tuple[Path, list[str]]:
    """Move a damaged database to `<name>.corrupt` (never deleted), create a fresh one and copy every readable
    learner (and its readable versions) into it. Returns where the old file went and who was carried over."""
    salvaged = readable_learners(path)
    aside = path.with_name(path.name + ".corrupt")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.{n}.corrupt")
    try:
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise StoreError(path, f"cannot move the file aside ({exc.strerror}); move it yourself",
                         fixable=False) from None
    fresh = Store(path)
    names = []
    with fresh._connect() as conn, conn:
        for learner, history in salvaged:
            last_version = 0
            for version, profile, plan, tracked, saved_at, note in history:
                Store._add_version(conn, learner.name, version, profile, plan, tracked, saved_at, note)
                last_version = version
            version = last_version + 1
            profile_text = json.dumps(learner.profile, sort_keys=True, ensure_ascii=False)
            plan_text = json.dumps(learner.plan, ensure_ascii=False) if learner.plan is not None else None
            conn.execute("INSERT OR REPLACE INTO learners(name, profile, plan, updated_at, tracked, version) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (learner.name, profile_text, plan_text, learner.updated_at or _now(), int(learner.tracked),
                          version))
            Store._add_version(conn, learner.name, version, profile_text, plan_text, learner.tracked, _now(),
                               "recovered")
            names.append(learner.name)
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


def parse_state(data: bytes, curriculum: Curriculum) -> tuple[list[Learner], str | None]:
    """Check an exported state file: size, JSON, format key, and every profile re-validated."""
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
        try:
            name = check_name(item.get("name", ""))
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
    return out, last if isinstance(last, str) and last in seen else out[-1].name


def learners_command(db: str | None, start_fresh: bool) -> int:
    """`planner learners`: the saved learners, one a line; a damaged database is one line on stderr and exit 2,
    with `--start-fresh` as the way out (the file kept aside as *.corrupt, readable learners carried over)."""
    import sys

    path = Path(db).expanduser() if db else default_db_path()
    if not path.exists():
        print(f"no dashboard database at {path} yet")
        return 0
    try:
        store = Store(path)
        rows = [store.load(name) for name in store.names()]
    except StoreError as exc:
        if start_fresh and exc.fixable:
            aside, kept = set_aside_and_start_fresh(path)
            print(f"set {path} aside as {aside.name}; {len(kept)} learner(s) carried over to a fresh database")
            return 0
        way_out = " (run `planner learners --start-fresh` to set it aside and start anew)" if exc.fixable else ""
        print(f"planner: error: database {exc.path}: {exc.message}{way_out}", file=sys.stderr)
        return 2
    for rec in rows:
        if rec is not None:
            plan = "with progress" if rec.tracked else ("planned" if rec.plan else "no plan that fits")
            print(f"{rec.name}\tversion {rec.version}\t{plan}\tsaved {rec.updated_at[:19]}")
    return 0
