"""Local persistence for the dashboard: one SQLite file with a row per learner (profile, plan, when saved).

The profile is stored as the raw field mapping `profile_from_mapping` reads (with the start date fixed), so a
restored learner without progress re-plans to exactly the same plan; the plan JSON is kept alongside. Once the
learner records progress or accepts a re-plan, the row is marked `tracked`: the saved plan JSON (with session
statuses, UIDs and SEQUENCE numbers) is then the learner's plan, restored as it is rather than re-planned.
Every write is a single transaction; the database runs in WAL mode so a reader never blocks the writer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import profile_from_mapping

STATE_FORMAT = "planner.state/1"
MAX_IMPORT_BYTES = 1_000_000  # 1 MB: a state file holds profiles and plans, never more than a few hundred kB
MAX_NAME_LENGTH = 60

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


@dataclass(frozen=True)
class Learner:
    name: str
    profile: dict[str, Any]  # raw profile fields, as profile_from_mapping reads them
    plan: dict[str, Any] | None  # plan JSON (planner.plan/1) or None when the last attempt did not fit
    updated_at: str
    tracked: bool = False  # the plan holds progress or an accepted re-plan: restore it, do not re-plan


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


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(learners)")}
            if "tracked" not in columns:  # a database from before progress tracking
                with conn:
                    conn.execute("ALTER TABLE learners ADD COLUMN tracked INTEGER NOT NULL DEFAULT 0")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------ learners
    def save(self, name: str, profile: Mapping[str, Any], plan: Mapping[str, Any] | None,
             tracked: bool = False) -> Learner:
        """Insert or replace one learner and mark it the last one used: one transaction.

        `tracked=True` means `plan` carries progress or an accepted re-plan and is restored as saved; a plain
        save (a new plan from the form) clears it.
        """
        name = check_name(name)
        if tracked and plan is None:
            raise InputError("plan", "a tracked learner needs a plan")
        stamp = _now()
        profile_text = json.dumps(dict(profile), sort_keys=True, ensure_ascii=False)
        plan_text = json.dumps(dict(plan), ensure_ascii=False) if plan is not None else None
        with self._connect() as conn, conn:
            conn.execute(
                "INSERT INTO learners(name, profile, plan, updated_at, tracked) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET profile=excluded.profile, plan=excluded.plan, "
                "updated_at=excluded.updated_at, tracked=excluded.tracked",
                (name, profile_text, plan_text, stamp, int(tracked)),
            )
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (name,))
        return Learner(name, dict(profile), dict(plan) if plan is not None else None, stamp, tracked)

    def set_last(self, name: str) -> None:
        with self._connect() as conn, conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (name,))

    def load(self, name: str) -> Learner | None:
        with self._connect() as conn:
            row = conn.execute("SELECT name, profile, plan, updated_at, tracked FROM learners WHERE name = ?",
                               (name,)).fetchone()
        return _row(row) if row else None

    def names(self) -> list[str]:
        with self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM learners ORDER BY name COLLATE NOCASE")]

    def last(self) -> Learner | None:
        """The learner used most recently (the one to restore on reload)."""
        with self._connect() as conn:
            meta = conn.execute("SELECT value FROM meta WHERE key = 'last'").fetchone()
            row = None
            if meta:
                row = conn.execute("SELECT name, profile, plan, updated_at, tracked FROM learners WHERE name = ?",
                                   (meta[0],)).fetchone()
            if row is None:
                row = conn.execute("SELECT name, profile, plan, updated_at, tracked FROM learners "
                                   "ORDER BY updated_at DESC LIMIT 1").fetchone()
        return _row(row) if row else None

    def delete(self, name: str) -> None:
        with self._connect() as conn, conn:
            conn.execute("DELETE FROM learners WHERE name = ?", (name,))

    # ------------------------------------------------------------ export / import
    def export_state(self) -> bytes:
        with self._connect() as conn:
            rows = conn.execute("SELECT name, profile, plan, updated_at, tracked FROM learners "
                                "ORDER BY name COLLATE NOCASE").fetchall()
        last = self.last()
        state = {
            "format": STATE_FORMAT,
            "exported_at": _now(),
            "last": last.name if last else None,
            "learners": [
                {"name": r.name, "profile": r.profile, "plan": r.plan, "updated_at": r.updated_at,
                 "tracked": r.tracked}
                for r in (_row(row) for row in rows)
            ],
        }
        return (json.dumps(state, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def import_state(self, data: bytes, curriculum: Curriculum) -> list[str]:
        """Validate the whole file first, then write every learner in one transaction; returns their names.

        A bad file raises InputError and leaves the database untouched.
        """
        learners, last = parse_state(data, curriculum)
        stamp = _now()
        with self._connect() as conn, conn:
            for item in learners:
                conn.execute(
                    "INSERT INTO learners(name, profile, plan, updated_at, tracked) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET profile=excluded.profile, plan=excluded.plan, "
                    "updated_at=excluded.updated_at, tracked=excluded.tracked",
                    (item.name, json.dumps(item.profile, sort_keys=True, ensure_ascii=False),
                     json.dumps(item.plan, ensure_ascii=False) if item.plan is not None else None, stamp,
                     int(item.tracked)),
                )
            if last is not None:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('last', ?)", (last,))
        return [item.name for item in learners]


def _row(row: Sequence[Any]) -> Learner:
    return Learner(row[0], json.loads(row[1]), json.loads(row[2]) if row[2] else None, row[3],
                   bool(row[4]) and bool(row[2]))


def parse_state(data: bytes, curriculum: Curriculum) -> tuple[list[Learner], str | None]:
    """Check an exported state file: size, JSON, format key, and every profile re-validated."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InputError("import", f"the file is {len(data) / 1e6:.1f} MB; the limit is "
                                   f"{MAX_IMPORT_BYTES / 1e6:g} MB")
    try:
        state = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError("import", f"not a JSON file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise InputError("import", f"expected format '{STATE_FORMAT}', found {found!r}")
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
        out.append(Learner(name, profile, plan, str(item.get("updated_at") or ""), tracked))
    last = state.get("last")
    return out, last if isinstance(last, str) and last in seen else out[-1].name
