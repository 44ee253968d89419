"""Connections to the planner's SQLite file, shared by the learners store, the feed tokens and the CalDAV sync state.

sqlite3's own context manager only commits or rolls back; this one also closes the connection, so no file handle
outlives a call. WAL mode lets a reader (the feed server, a second tab) read while another process writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TIMEOUT_SECONDS = 10  # how long a writer waits for another one before sqlite3 gives up ("database is locked")


@contextmanager
def connect(path: str | Path, *, wal: bool = True, synchronous_normal: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to `path`, closed on leaving. `wal=False` sets no pragma at all (switching the journal mode
    writes to the file, which a read-only one refuses); `synchronous_normal` spares an fsync per commit, which WAL
    mode makes safe against a killed process (a power cut may lose the last commits)."""
    conn = sqlite3.connect(path, timeout=TIMEOUT_SECONDS)
    try:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
            if synchronous_normal:
                conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    finally:
        conn.close()
