"""Connections to the planner's SQLite file, shared by the learners store, the feed tokens and the CalDAV sync state.

sqlite3's own context manager only commits or rolls back; this one also closes the connection, so no file handle
outlives a call. WAL mode lets a reader (the feed server, a second tab) read while another process writes.

Every sqlite3 error raised while connecting or inside the `with` block leaves as a `DatabaseFileError`: one line
that says what is wrong with the file in the learner's words (the disk is full, the file is read-only, damaged,
locked by another program). A full disk is never called damage: nothing about the file is wrong, and setting it
aside would only lose it. `DatabaseFileError` is both an `InputError` (the CLI prints it on one line, exit 2) and a
`sqlite3.DatabaseError` (code that already catches sqlite3 errors keeps catching it).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import InputError, one_line

TIMEOUT_SECONDS = 10  # how long a writer waits for another one before sqlite3 gives up ("database is locked")
LOW_SPACE_BYTES = 8 << 20  # an I/O error with less free space than this is a full disk (SQLite says SHMSIZE, WRITE)

FULL = "full"
READ_ONLY = "read-only"
DAMAGED = "damaged"
MISSING = "missing"
LOCKED = "locked"
DISK = "disk"
OTHER = "other"

MESSAGES = {
    FULL: "the disk is full: free space and try again (nothing was changed)",
    READ_ONLY: "the file is read-only, so nothing can be saved (fix its permissions, or set it aside)",
    DAMAGED: "the file is damaged or not a planner database",
    LOCKED: f"another program kept it locked for {TIMEOUT_SECONDS} s; try again",
    DISK: "the disk could not read or write it (disk I/O error); check the disk",
}


class DatabaseFileError(InputError, sqlite3.DatabaseError):
    """The planner's database file cannot be used right now; `kind` says why (FULL, READ_ONLY, DAMAGED, ...)."""

    def __init__(self, path: str | Path, message: str, kind: str = OTHER):
        self.path = Path(path)
        self.kind = kind
        InputError.__init__(self, f"database {self.path}", message)


def free_bytes(path: str | Path) -> int | None:
    """Free space on the disk holding `path` (its folder when the file does not exist), None when unknown."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def kind_of(path: str | Path, exc: BaseException) -> str:
    """Which of the kinds above a sqlite3 error is (by its result code, else its words)."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = " ".join(str(exc).split()).lower()
    if name == "SQLITE_FULL" or "disk is full" in text:
        return FULL
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        space = free_bytes(path)
        return FULL if space is not None and space < LOW_SPACE_BYTES else DISK
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return READ_ONLY
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "not a database" in text or "malformed" in text \
            or "disk image" in text:
        return DAMAGED
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return LOCKED
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return MISSING
    return OTHER


def explain(path: str | Path, exc: BaseException) -> DatabaseFileError:
    """The sqlite3 error `exc` about the file at `path` as one line the learner can act on."""
    if isinstance(exc, DatabaseFileError):
        return exc
    kind = kind_of(path, exc)
    if kind == MISSING:
        folder = Path(path).parent
        if not folder.is_dir():
            message = f"the folder {folder} does not exist"
        elif Path(path).exists() and not (os.access(path, os.W_OK) and os.access(folder, os.W_OK)):
            kind, message = READ_ONLY, MESSAGES[READ_ONLY]  # e.g. a read-only disk: SQLite cannot open its -shm
        else:
            kind = OTHER if Path(path).exists() else MISSING
            message = "the file cannot be opened (check that you may read it, and write in its folder)"
    else:
        message = MESSAGES.get(kind) or one_line(" ".join(str(exc).split()) or exc.__class__.__name__)
    return DatabaseFileError(path, message, kind)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """mode=ro; on a read-only disk a WAL database cannot make its -shm file, so then it is read as immutable
    (nothing can write it there) unless a -wal file holds commits that only that way would be skipped."""
    uri = path.absolute().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=TIMEOUT_SECONDS)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        wal = path.with_name(path.name + "-wal")
        if not str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_CANTOPEN") or (
                wal.exists() and wal.stat().st_size > 0):
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=TIMEOUT_SECONDS)


@contextmanager
def connect(path: str | Path, *, wal: bool = True, synchronous_normal: bool = False,
            read_only: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to `path`, closed on leaving. `wal=False` sets no pragma at all (switching the journal mode
    writes to the file, which a read-only one refuses); `synchronous_normal` spares an fsync per commit, which WAL
    mode makes safe against a killed process (a power cut may lose the last commits). `read_only` opens the file
    with mode=ro: it must exist, and nothing is created or written. sqlite3 errors leave as DatabaseFileError."""
    try:
        conn = _open_read_only(Path(path)) if read_only else sqlite3.connect(path, timeout=TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
    try:
        if wal and not read_only:
            conn.execute("PRAGMA journal_mode=WAL")
            if synchronous_normal:
                conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    except DatabaseFileError:
        raise
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
    finally:
        conn.close()
