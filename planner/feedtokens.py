"""Feed tokens: the secret in a learner's subscription URL, kept in the dashboard's SQLite file.

A calendar app can only subscribe to a URL, so the URL itself is the credential (as with any calendar's "secret
address"): 32 random bytes from `secrets`, looked up by comparing against every stored token in constant time, and
replaced on request (the old URL then answers 404). The tables live beside the learners table but belong to this
module, so the store itself does not change. A second table keeps when each learner's feed content was first
seen, which becomes its DTSTAMP and Last-Modified: re-saving the same plan (or marking progress, which does not
change the calendar) leaves the feed byte-identical.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import re
import secrets
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from planner import sqlite_db
from planner.errors import InputError
from planner.store import Store, shown_name

TOKEN_BYTES = 32
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters, no padding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_tokens (
    name TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_published (
    name TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    published_at TEXT NOT NULL
);
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class FeedTokens:
    """The feed tables of one database file (the same file as `Store`)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self._writable():  # a read-only file still answers for the links it holds
            with self._connect() as conn, conn:
                conn.executescript(_SCHEMA)

    def _writable(self) -> bool:
        return not self.path.exists() or os.access(self.path, os.W_OK)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        """sqlite3 errors leave as one-line `DatabaseFileError`s (full disk, read-only, damaged)."""
        writable = self._writable()
        return sqlite_db.connect(self.path, wal=writable, read_only=not writable)

    def token(self, name: str) -> str:
        """The learner's token, made on first use."""
        with self._connect() as conn, conn:
            row = conn.execute("SELECT token FROM feed_tokens WHERE name = ?", (name,)).fetchone()
            if row:
                return str(row[0])
            token = secrets.token_urlsafe(TOKEN_BYTES)
            conn.execute("INSERT INTO feed_tokens(name, token, created_at) VALUES (?, ?, ?)",
                         (name, token, _now().isoformat()))
            return token

    def rotate(self, name: str) -> str:
        """A new token for the learner; the old one stops working at once."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._connect() as conn, conn:
            conn.execute("INSERT INTO feed_tokens(name, token, created_at) VALUES (?, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET token=excluded.token, created_at=excluded.created_at",
                         (name, token, _now().isoformat()))
        return token

    def learner_for(self, token: str) -> str | None:
        """The learner a token belongs to. Every stored token is compared, in constant time, so neither the
        lookup's duration nor an index walk tells how close a guess was."""
        if not TOKEN_RE.fullmatch(token):
            return None
        with self._connect() as conn:
            rows = conn.execute("SELECT name, token FROM feed_tokens").fetchall()
        found = None
        given = token.encode("ascii")
        for name, stored in rows:
            if hmac.compare_digest(given, str(stored).encode("ascii")):
                found = str(name)
        return found

    def forget(self, name: str) -> None:
        """Drop a learner's token and feed record (a later learner of the same name gets a new URL)."""
        with self._connect() as conn, conn:
            conn.execute("DELETE FROM feed_tokens WHERE name = ?", (name,))
            conn.execute("DELETE FROM feed_published WHERE name = ?", (name,))

    def published(self, name: str, content_hash: str, saved: dt.datetime) -> dt.datetime:
        """When this content of the learner's feed was saved: the plan's save time when the content is new, the
        recorded time while it stays the same (re-saving an unchanged plan does not change the feed). On a full
        disk or a read-only file the time is not recorded, and the feed is served all the same."""
        with self._connect() as conn, conn:
            row = conn.execute("SELECT content_hash, published_at FROM feed_published WHERE name = ?",
                               (name,)).fetchone()
            if row and row[0] == content_hash:
                return dt.datetime.fromisoformat(row[1])
            when = min(saved.astimezone(dt.UTC).replace(microsecond=0), _now())
            if row:  # new content always gets a later time, even within the same second (If-Modified-Since)
                when = max(when, dt.datetime.fromisoformat(row[1]) + dt.timedelta(seconds=1))
            try:
                conn.execute("INSERT INTO feed_published(name, content_hash, published_at) VALUES (?, ?, ?) "
                             "ON CONFLICT(name) DO UPDATE SET content_hash=excluded.content_hash, "
                             "published_at=excluded.published_at", (name, content_hash, when.isoformat()))
                conn.commit()
            except sqlite3.Error as exc:  # a full disk or read-only file: serve the plan, record the time later
                if sqlite_db.kind_of(self.path, exc) not in (sqlite_db.FULL, sqlite_db.READ_ONLY):
                    raise
                conn.rollback()
            return when


def _saved_name(store: Store, name: str) -> str:
    learner = store.load(" ".join(str(name).split()))
    if learner is None:
        raise InputError("learner", f"no saved learner '{shown_name(str(name))}' (see `planner learners`)")
    return learner.name


def feed_path(store: Store, name: str) -> str:
    """`/feed/<token>.ics` for a saved learner (the token is made on first use)."""
    return f"/feed/{FeedTokens(store.path).token(_saved_name(store, name))}.ics"


def feed_url(store: Store, name: str, base: str) -> str:
    """The learner's feed at `base` (e.g. http://127.0.0.1:8502 or https://plans.example.org)."""
    return base.rstrip("/") + feed_path(store, name)


def webcal_url(url: str) -> str:
    """The same feed as a webcal:// link, which calendar apps open as a subscription."""
    return re.sub(r"^https?://", "webcal://", url)


def rotate_token(store: Store, name: str) -> str:
    """A new secret URL path for the learner; the old one answers 404 from now on."""
    return f"/feed/{FeedTokens(store.path).rotate(_saved_name(store, name))}.ics"


def forget_learner(store: Store, name: str) -> None:
    """Call when deleting a learner: its feed URL stops working and is never handed to a later namesake."""
    FeedTokens(store.path).forget(" ".join(str(name).split()))
