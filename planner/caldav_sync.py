"""CalDAV sync: make a calendar on a CalDAV server hold exactly the plan's live sessions, writing only what changed.

Each session is its own resource (Radicale and RFC 4791 want one UID per resource) at an address derived from its
UID, without METHOD, with SEQUENCE as the plan has it. A local table in the planner's SQLite file records, per
calendar and UID, the resource's address, the content hash written and the server's ETag after the write; it is
saved after every single write, so an interrupted sync resumes where it stopped. An event is rewritten when its
content changed or the server's ETag is not the one recorded (someone edited it), and deleted when the session is
gone from the plan; every write is conditional (If-None-Match/If-Match), and nothing this sync did not write is
ever touched. The password is only held in memory for the connection; errors are reported in words chosen here,
never with the library's text (which may quote request details).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from planner import sqlite_db
from planner.livecal import Resource, live_calendar, set_stamp
from planner.plan import UID_DOMAIN, Plan

PASSWORD_ENV = "PLANNER_CALDAV_PASSWORD"
TIMEOUT_SECONDS = 30

_SCHEMA = """
CREATE TABLE IF NOT EXISTS caldav_sync (
    calendar TEXT NOT NULL,
    uid TEXT NOT NULL,
    href TEXT NOT NULL,
    hash TEXT NOT NULL,
    etag TEXT,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (calendar, uid)
);
"""


class SyncError(Exception):
    """A sync that could not finish: one line for the learner, never the password."""


@dataclass(frozen=True)
class SyncResult:
    calendar: str
    created: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float

    def text(self) -> str:
        return (f"created {self.created}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}")


@dataclass(frozen=True)
class _Row:
    href: str
    hash: str
    etag: str | None


class SyncState:
    """The sync table in the planner's database: what this planner wrote to which calendar."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn, conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        # A record per write must not cost an fsync each (~9 ms here). In WAL mode NORMAL survives a killed
        # process; a power cut may lose the last records, and then the next sync finds those events at their
        # addresses with this planner's UIDs and rewrites them in place.
        return sqlite_db.connect(self.path, synchronous_normal=True)

    def rows(self, calendar: str) -> dict[str, _Row]:
        with self._connect() as conn:
            found = conn.execute("SELECT uid, href, hash, etag FROM caldav_sync WHERE calendar = ?",
                                 (calendar,)).fetchall()
        return {uid: _Row(href, h, etag) for uid, href, h, etag in found}

    def put(self, conn: sqlite3.Connection, calendar: str, uid: str, row: _Row) -> None:
        with conn:
            conn.execute("INSERT INTO caldav_sync(calendar, uid, href, hash, etag, synced_at) VALUES (?,?,?,?,?,?) "
                         "ON CONFLICT(calendar, uid) DO UPDATE SET href=excluded.href, hash=excluded.hash, "
                         "etag=excluded.etag, synced_at=excluded.synced_at",
                         (calendar, uid, row.href, row.hash, row.etag, dt.datetime.now(dt.UTC).isoformat()))

    def drop(self, conn: sqlite3.Connection, calendar: str, uid: str) -> None:
        with conn:
            conn.execute("DELETE FROM caldav_sync WHERE calendar = ? AND uid = ?", (calendar, uid))


def check_url(url: str) -> str:
    """An http(s) URL without a password in it (the password comes from the environment or a prompt)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(f"--caldav: '{_safe(url)}' is not an http:// or https:// URL of a calendar")
    if parts.password is not None:
        raise SyncError(f"--caldav: put the password in {PASSWORD_ENV} (or type it when asked), not in the URL")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _safe(url: str) -> str:
    """The URL as it may be shown: no user info, no query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unreadable URL)"


def resource_name(uid: str) -> str:
    """The resource's file name inside the calendar, derived from the UID (stable, URL-safe)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", uid) + ".ics"


def is_ours(uid: str) -> bool:
    return uid.endswith("@" + UID_DOMAIN)


class _Server:
    """The few requests a sync needs, through the caldav client, with failures turned into SyncError."""

    def __init__(self, url: str, user: str | None, password: str | None):
        from caldav.davclient import DAVClient

        self.url = url
        parts = urlsplit(url)
        if user is None and parts.username:
            user = unquote(parts.username)
        self.user = user
        self.client = DAVClient(url, username=user, password=password if user else None,
                                timeout=TIMEOUT_SECONDS, enable_rfc6764=False)

    def close(self) -> None:
        self.client.close()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        from caldav.lib import error

        try:
            response = fn()
        except error.AuthorizationError:
            who = f"user '{self.user}'" if self.user else "no user (give --user)"
            raise SyncError(f"{_safe(self.url)}: the server refused the login for {who}; check the user name and "
                            f"{PASSWORD_ENV}") from None
        except error.DAVError as exc:
            raise SyncError(f"{_safe(self.url)}: {what} failed ({type(exc).__name__})") from None
        except OSError as exc:  # connection refused, DNS, TLS, timeouts (the HTTP library's errors are OSErrors)
            raise SyncError(f"{_safe(self.url)}: cannot reach the server ({_reason(exc)})") from None
        status = int(response.status)
        if status >= 500:
            raise SyncError(f"{_safe(self.url)}: server error {status} on {what}")
        return response

    def calendar_etags(self) -> dict[str, str]:
        """Check the URL is a calendar and list its resources: path → ETag."""
        r = self._call("reading the calendar", lambda: self.client.propfind(
            self.url, ["resourcetype", "getetag", "displayname"], depth=1))
        if int(r.status) == 404:
            raise SyncError(f"{_safe(self.url)}: no calendar at this address (create a calendar in your calendar "
                            f"app or on the server first, then use its URL)")
        if int(r.status) not in (200, 207):
            raise SyncError(f"{_safe(self.url)}: the server answered {r.status} when listing the calendar")
        base = urlsplit(self.url).path
        own = None
        children: dict[str, str] = {}
        calendars: list[str] = []
        for res in getattr(r, "results", None) or []:
            path = urlsplit(urljoin(self.url, res.href)).path
            kinds = res.properties.get("{DAV:}resourcetype") or []
            if unquote(path).rstrip("/") == unquote(base).rstrip("/"):
                own = kinds
                continue
            if any(str(k).endswith("}calendar") for k in kinds):
                calendars.append(path)
            elif not any(str(k).endswith("}collection") for k in kinds):
                etag = res.properties.get("{DAV:}getetag")
                children[unquote(path)] = str(etag) if etag else ""
        if own is None or not any(str(k).endswith("}calendar") for k in own):
            hint = f"; calendars there: {', '.join(calendars)}" if calendars else ""
            raise SyncError(f"{_safe(self.url)}: not a calendar{hint}")
        return children

    def put(self, href: str, body: bytes, *, if_match: str | None) -> tuple[int, str | None]:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if if_match is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = if_match
        r = self._call("writing an event", lambda: self.client.put(self._abs(href), body.decode("utf-8"), headers))
        return int(r.status), r.headers.get("ETag")

    def delete(self, href: str, if_match: str | None) -> int:
        headers = {"If-Match": if_match} if if_match else {}
        r = self._call("deleting an event", lambda: self.client.delete(self._abs(href), headers))
        return int(r.status)

    def get_uid(self, href: str) -> str | None:
        r = self._call("reading an event", lambda: self.client.request(self._abs(href), "GET"))
        if int(r.status) != 200 or not r._raw:
            return None
        raw = r._raw if isinstance(r._raw, bytes) else str(r._raw).encode()
        m = re.search(rb"^UID:(.*?)\r?$", raw, re.M)
        return m.group(1).decode("utf-8", "replace").strip() if m else None

    def _abs(self, href: str) -> str:
        return urljoin(self.url, quote(href))


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, words in (("refused", "connection refused"), ("timed out", "timed out"),
                          ("name or service", "unknown host"), ("nodename", "unknown host"),
                          ("certificate", "TLS certificate not accepted"), ("ssl", "TLS error")):
        if needle in text:
            return words
    return type(exc).__name__


def sync_plan(plan: Plan, url: str, user: str | None, password: str | None, *, db: str | Path | None = None,
              on_write: Callable[[str, str], None] | None = None) -> SyncResult:
    """Make the CalDAV calendar at `url` hold the plan's live sessions; returns the counts.

    `db` is the planner's database (default $PLANNER_DB), where the sync state is kept. `on_write(action, uid)`
    is called after each write is recorded ('created', 'updated', 'deleted'). Raises SyncError.
    """
    from planner.store import default_db_path

    t0 = time.perf_counter()
    calendar = check_url(url)
    state = SyncState(db if db is not None else default_db_path())
    resources: list[Resource] = list(live_calendar(plan).resources())
    server = _Server(calendar, user, password)
    try:
        on_server = server.calendar_etags()
        known = state.rows(calendar)
        base = urlsplit(calendar).path
        counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        wanted = {r.uid for r in resources}
        missing_etag = False
        with state._connect() as conn:
            for res in resources:
                row = known.get(res.uid)
                href = row.href if row else unquote(base) + resource_name(res.uid)
                current = on_server.get(href)
                if row and current is not None and row.hash == res.hash and row.etag == current:
                    counts["unchanged"] += 1
                    continue
                if current is not None and row is None and server.get_uid(href) != res.uid:
                    raise SyncError(f"{_safe(calendar)}: {href} holds an event this planner did not write; "
                                    f"left alone (use a calendar of its own for the plan)")
                body = set_stamp(res.body, dt.datetime.now(dt.UTC))
                status, etag = server.put(href, body, if_match=None if current is None else current or "*")
                if status == 409:  # RFC 4791 §5.3.2.1 no-uid-conflict: the UID is in another resource
                    raise SyncError(f"{_safe(calendar)}: the calendar already holds {res.uid} at another address "
                                    f"(an imported plan file?); sync into a calendar of its own, or delete the "
                                    f"imported events first")
                if status == 412:
                    raise SyncError(f"{_safe(calendar)}: {res.uid} changed on the server during the sync; "
                                    f"run the sync again")
                if status not in (200, 201, 204):
                    raise SyncError(f"{_safe(calendar)}: the server answered {status} when writing {res.uid}")
                missing_etag = missing_etag or not etag
                state.put(conn, calendar, res.uid, _Row(href, res.hash, etag))
                action = "created" if current is None else "updated"
                counts[action] += 1
                if on_write is not None:
                    on_write(action, res.uid)
            for uid, row in known.items():
                if uid in wanted or not is_ours(uid):
                    continue
                current = on_server.get(row.href)
                if current is not None:
                    status = server.delete(row.href, current or None)
                    if status == 412:
                        raise SyncError(f"{_safe(calendar)}: {uid} changed on the server during the sync; "
                                        f"run the sync again")
                    if status not in (200, 204, 404):
                        raise SyncError(f"{_safe(calendar)}: the server answered {status} when deleting {uid}")
                    counts["deleted"] += 1
                state.drop(conn, calendar, uid)
                if on_write is not None and current is not None:
                    on_write("deleted", uid)
            if missing_etag:  # the server rewrote some bodies without saying their new ETag: record it now
                fresh = server.calendar_etags()
                for uid, row in state.rows(calendar).items():
                    if not row.etag and row.href in fresh:
                        state.put(conn, calendar, uid, _Row(row.href, row.hash, fresh[row.href]))
    finally:
        server.close()
    return SyncResult(_safe(calendar), counts["created"], counts["updated"], counts["deleted"], counts["unchanged"],
                      time.perf_counter() - t0)
