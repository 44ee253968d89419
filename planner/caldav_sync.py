"""CalDAV sync: make a calendar on a CalDAV server hold the plan's live sessions, writing only what changed and
leaving what the learner changed in their calendar app as they left it.

Each session is its own resource (Radicale and RFC 4791 want one UID per resource) at an address derived from its
UID, without METHOD. A local table in the planner's SQLite file records, per calendar and UID, the resource's
address, the content hash of the plan's version, the server's ETag after the write and the bytes written; each
write is recorded as soon as the server accepts it, so an interrupted sync resumes where it stopped.

The calendar is keyed by what names it on the network — scheme, host, port and path — never by the user info in
the URL, so `https://ada@host/cal/` and `https://host/cal/ --user ada` share one state.

The learner's calendar is theirs. A resource whose ETag is not the one recorded was changed in a calendar app: it
is read back and compared with what was written. A change of what the event says (time, title, description,
status, …) is kept and reported, never reverted; additions an app makes on its own (X- properties such as
X-MOZ-LASTACK, alarm acknowledgements, LAST-MODIFIED) are carried into the next write. A session deleted in the
app is reported and not put back (`restore=True` puts both back as the plan has them). SEQUENCE never goes below
what the server holds, and goes above it whenever a write changes the time or status.

Writes run concurrently on a few kept-alive connections. Every write is conditional (If-None-Match/If-Match), and
nothing this sync did not write is ever touched. Every request has a total deadline (connect to last byte) and
every answer a size cap, and the whole sync a deadline in proportion to its events: a server that trickles, hangs
or sends without end ends the sync in one line, with what was written recorded. The password is only held in
memory for the connection; errors are reported in words chosen here, never with the library's text (which may
quote request details).
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

from icalendar import Calendar, Event

from planner import sqlite_db
from planner.livecal import Resource, live_calendar, set_stamp
from planner.plan import UID_DOMAIN, Plan

PASSWORD_ENV = "PLANNER_CALDAV_PASSWORD"
TIMEOUT_SECONDS = 30  # the longest silence on a connection (connect, or between two reads)
REQUEST_DEADLINE_S = 30.0  # one request, connect to last byte: a server trickling a byte a second is cut here
SYNC_DEADLINE_BASE_S = 60.0  # the whole sync: this, plus SYNC_DEADLINE_PER_EVENT_S per event of the plan or the
SYNC_DEADLINE_PER_EVENT_S = 1.0  # state (a slow server is given time in proportion to the work, never forever)
MAX_RESPONSE_BYTES = 20 << 20  # one answer (the calendar's listing, an event read back), as a busy calendar's cap
_CHUNK = 16384
WORKERS = 8  # concurrent requests, each on its own kept-alive connection (Radicale serves 8 at once by default)
_LIST_NOTES = 5  # events named per note line; the rest are counted

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
# Added later: the bytes last written (to tell a learner's edit from an app's annotations) and what the learner
# did to the event ('edited', 'deleted'), which the sync then leaves alone.
_COLUMNS = (("body", "BLOB"), ("learner", "TEXT"))


class SyncError(Exception):
    """A sync that could not finish: one line for the learner, never the password."""


class _Cut(Exception):
    """A request cut at its deadline (`whole`: the sync's, else the request's own)."""

    def __init__(self, whole: bool):
        super().__init__("deadline")
        self.whole = whole


class _TooBig(Exception):
    """An answer larger than MAX_RESPONSE_BYTES: not read further."""


@dataclass(frozen=True)
class Note:
    """An event the sync left as the learner has it."""

    uid: str
    summary: str
    start: str  # as the calendar shows it, e.g. "2027-01-12 18:00"


@dataclass(frozen=True)
class SyncResult:
    calendar: str
    created: int
    updated: int
    deleted: int
    unchanged: int
    seconds: float
    kept: tuple[Note, ...] = ()  # changed in the calendar app: kept as the learner has it
    skipped: tuple[Note, ...] = ()  # deleted in the calendar app: not put back
    left: tuple[Note, ...] = ()  # changed in the app, then cancelled by a re-plan: left in the calendar

    def text(self) -> str:
        return (f"created {self.created}, updated {self.updated}, deleted {self.deleted}, "
                f"unchanged {self.unchanged}")

    def notes(self) -> list[str]:
        """One line per kind of thing the sync left as the learner has it (empty when there is none)."""
        out = []
        if self.kept:
            out.append(f"kept as you changed them in your calendar ({len(self.kept)}): {_names(self.kept)}")
        if self.skipped:
            out.append(f"not put back, you deleted them in your calendar ({len(self.skipped)}): "
                       f"{_names(self.skipped)}; to fit them in elsewhere, mark them missed and re-plan "
                       f"(planner mark PLAN.json --missed UID…, then planner replan)")
        if self.left:
            out.append(f"left in your calendar although the plan cancelled them, as you had changed them "
                       f"({len(self.left)}): {_names(self.left)}")
        if self.kept or self.skipped:
            out.append("to put these back as the plan has them, sync again with --restore")
        return out


def _names(notes: tuple[Note, ...]) -> str:
    shown = [f"{n.summary} ({n.start}, {n.uid})" for n in notes[:_LIST_NOTES]]
    more = len(notes) - _LIST_NOTES
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class _Row:
    href: str
    hash: str
    etag: str | None
    body: bytes | None = None
    learner: str | None = None


@dataclass(frozen=True)
class CalendarAddress:
    """A calendar URL taken apart: where requests go, the key of its sync state, the user named in it."""

    url: str  # scheme://host[:port]/path/ without user info or query
    key: str  # scheme://host:port/path/ with the port always written and the path's escapes normalised
    user: str | None  # the user info of the URL, if any
    shown: str  # as it may be printed


def calendar_address(url: str) -> CalendarAddress:
    """Parse a calendar URL; SyncError (one line, no password) when it is not an http(s) URL of a calendar."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:  # "http://[::1", a port that is not a number or out of range
        raise SyncError(f"--caldav: '{_safe(url)}' is not a readable URL (check the brackets around an IPv6 "
                        f"address and the port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise SyncError(f"--caldav: '{_safe(url)}' is not an http:// or https:// URL of a calendar")
    if parts.password is not None:
        raise SyncError(f"--caldav: put the password in {PASSWORD_ENV} (or type it when asked), not in the URL")
    name = f"[{host}]" if ":" in host else host
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    path = quote(unquote(path), safe="/~!$&'()*+,;=:@")
    plain = urlunsplit((scheme, name + (f":{port}" if port else ""), path, "", ""))
    key = urlunsplit((scheme, f"{name}:{port or (443 if scheme == 'https' else 80)}", path, "", ""))
    user = unquote(parts.username) if parts.username else None
    return CalendarAddress(plain, key, user or None, plain)


def check_url(url: str) -> str:
    """An http(s) URL without a password in it (the password comes from the environment or a prompt)."""
    return calendar_address(url).url


def _safe(url: str) -> str:
    """The URL as it may be shown: no user info, no query."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unreadable URL)"


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the table to this version: the new columns, and rows keyed by the URL as typed (user info and all,
    before the key was the calendar's) moved to the calendar's key; where both exist the later write wins."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(caldav_sync)")}
    for name, kind in _COLUMNS:
        if name not in have:
            conn.execute(f"ALTER TABLE caldav_sync ADD COLUMN {name} {kind}")
    for (old,) in conn.execute("SELECT DISTINCT calendar FROM caldav_sync").fetchall():
        try:
            new = calendar_address(old).key
        except SyncError:
            continue
        if new == old:
            continue
        conn.execute("DELETE FROM caldav_sync AS n WHERE n.calendar = ? AND EXISTS (SELECT 1 FROM caldav_sync o "
                     "WHERE o.calendar = ? AND o.uid = n.uid AND o.synced_at > n.synced_at)", (new, old))
        conn.execute("DELETE FROM caldav_sync AS o WHERE o.calendar = ? AND EXISTS (SELECT 1 FROM caldav_sync n "
                     "WHERE n.calendar = ? AND n.uid = o.uid)", (old, new))
        conn.execute("UPDATE caldav_sync SET calendar = ? WHERE calendar = ?", (new, old))


def check_folder(path: Path, *, make_folder: bool) -> None:
    """The database's folder must exist when the learner named the file (`--db typo/x.db` is a one-line error,
    as in the store commands, and nothing is created); the default database's folder is made."""
    if path.parent.is_dir():
        return
    if not make_folder:
        raise sqlite_db.DatabaseFileError(path, f"the folder {path.parent} does not exist (check the path)",
                                          sqlite_db.MISSING)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise sqlite_db.DatabaseFileError(path, f"cannot create its folder ({exc.strerror})",
                                          sqlite_db.MISSING) from None


class SyncState:
    """The sync table in the planner's database: what this planner wrote to which calendar."""

    def __init__(self, path: str | Path, *, make_folder: bool = True):
        self.path = Path(path)
        check_folder(self.path, make_folder=make_folder)
        with self._connect() as conn, conn:
            conn.executescript(_SCHEMA)
        with self._connect() as conn, conn:
            _migrate(conn)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        # A record per write must not cost an fsync each (~9 ms here). In WAL mode NORMAL survives a killed
        # process; a power cut may lose the last records, and then the next sync finds those events at their
        # addresses with this planner's UIDs and rewrites them in place.
        return sqlite_db.connect(self.path, synchronous_normal=True)

    def rows(self, calendar: str) -> dict[str, _Row]:
        with self._connect() as conn:
            found = conn.execute("SELECT uid, href, hash, etag, body, learner FROM caldav_sync WHERE calendar = ?",
                                 (calendar,)).fetchall()
        return {uid: _Row(href, h, etag, body, learner) for uid, href, h, etag, body, learner in found}

    def put(self, conn: sqlite3.Connection, calendar: str, uid: str, row: _Row) -> None:
        with conn:
            conn.execute("INSERT INTO caldav_sync(calendar, uid, href, hash, etag, synced_at, body, learner) "
                         "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(calendar, uid) DO UPDATE SET href=excluded.href, "
                         "hash=excluded.hash, etag=excluded.etag, synced_at=excluded.synced_at, "
                         "body=excluded.body, learner=excluded.learner",
                         (calendar, uid, row.href, row.hash, row.etag, dt.datetime.now(dt.UTC).isoformat(),
                          row.body, row.learner))

    def drop(self, conn: sqlite3.Connection, calendar: str, uid: str) -> None:
        with conn:
            conn.execute("DELETE FROM caldav_sync WHERE calendar = ? AND uid = ?", (calendar, uid))


def resource_name(uid: str) -> str:
    """The resource's file name inside the calendar, derived from the UID (stable, URL-safe)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", uid) + ".ics"


def is_ours(uid: str) -> bool:
    return uid.endswith("@" + UID_DOMAIN)


class _Server:
    """The few requests a sync needs, through the caldav client, with failures turned into SyncError. One per
    thread: each holds its own kept-alive connection."""

    def __init__(self, address: CalendarAddress, user: str | None, password: str | None, sync_end: float,
                 budget: float):
        from caldav.davclient import DAVClient

        self.url = address.url
        self.shown = address.shown
        self.user = user
        self.sync_end, self.budget = sync_end, budget
        self.client = DAVClient(self.url, username=user, password=password if user else None,
                                timeout=TIMEOUT_SECONDS, enable_rfc6764=False)
        session = self.client.session
        send = session.request

        def bounded(method: str, url: str, *args: Any, **kw: Any) -> Any:
            return _bounded_request(send, session, method, url, sync_end, *args, **kw)

        # every request the library makes goes through the deadline and the cap
        session.request = bounded  # type: ignore[method-assign]

    def close(self) -> None:
        self.client.close()

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        from caldav.lib import error

        try:
            response = fn()
        except _Cut as cut:
            if cut.whole:
                raise SyncError(f"{self.shown}: the sync did not finish within {self.budget:g} s (the limit for "
                                f"this plan: {SYNC_DEADLINE_BASE_S:g} s + {SYNC_DEADLINE_PER_EVENT_S:g} s per "
                                f"event), cut while {what}; what was written is recorded: sync again to "
                                f"finish") from None
            raise SyncError(f"{self.shown}: no complete answer to {what} within {REQUEST_DEADLINE_S:g} s (the "
                            f"limit per request); what was written is recorded: sync again to finish") from None
        except _TooBig:
            raise SyncError(f"{self.shown}: the answer to {what} is larger than {MAX_RESPONSE_BYTES >> 20} MB "
                            f"(the limit per answer); not read further, nothing more written") from None
        except error.AuthorizationError:
            who = f"user '{self.user}'" if self.user else "no user (give --user)"
            raise SyncError(f"{self.shown}: the server refused the login for {who}; check the user name and "
                            f"{PASSWORD_ENV}") from None
        except error.DAVError as exc:
            raise SyncError(f"{self.shown}: {what} failed ({type(exc).__name__})") from None
        except OSError as exc:  # connection refused, DNS, TLS, timeouts (the HTTP library's errors are OSErrors)
            raise SyncError(f"{self.shown}: cannot reach the server ({_reason(exc)})") from None
        except SyntaxError:  # lxml's XMLSyntaxError: an answer that should be XML and is not
            raise SyncError(f"{self.shown}: the server's answer to {what} is not a CalDAV answer (not XML); "
                            f"is this the address of a CalDAV calendar?") from None
        except Exception as exc:  # anything else the HTTP or XML layer raises: one line, not its text
            raise SyncError(f"{self.shown}: {what} failed (the server's answer could not be read: "
                            f"{type(exc).__name__})") from None
        status = int(response.status)
        if status >= 500:
            raise SyncError(f"{self.shown}: server error {status} on {what}")
        return response

    def calendar_etags(self) -> dict[str, str]:
        """Check the URL is a calendar and list its resources: path → ETag."""
        r = self._call("listing the calendar", lambda: self.client.propfind(
            self.url, ["resourcetype", "getetag", "displayname"], depth=1))
        if int(r.status) in (404, 410):
            raise SyncError(f"{self.shown}: no calendar at this address (create a calendar in your calendar "
                            f"app or on the server first, then use its URL)")
        if int(r.status) not in (200, 207):
            raise SyncError(f"{self.shown}: the server answered {r.status} when listing the calendar")
        if getattr(r, "tree", None) is None:
            raise SyncError(f"{self.shown}: the server's answer to listing the calendar is not a CalDAV answer "
                            f"(not XML); is this the address of a CalDAV calendar?")
        base = urlsplit(self.url).path
        own = None
        children: dict[str, str] = {}
        calendars: list[str] = []
        try:
            results = getattr(r, "results", None) or []
        except Exception:
            results = []
        for res in results:
            try:
                path = urlsplit(urljoin(self.url, res.href)).path
                kinds = res.properties.get("{DAV:}resourcetype") or []
            except (ValueError, AttributeError, TypeError):
                raise SyncError(f"{self.shown}: the server's list of the calendar holds an unreadable "
                                f"address") from None
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
            raise SyncError(f"{self.shown}: not a calendar{hint}")
        return children

    def exists(self) -> bool:
        r = self._call("checking the calendar", lambda: self.client.propfind(self.url, ["resourcetype"], depth=0))
        return int(r.status) not in (404, 410)

    def put(self, href: str, body: bytes, *, if_match: str | None) -> tuple[int, str | None, bytes]:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if if_match is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = if_match
        r = self._call("writing an event", lambda: self.client.put(self._abs(href), body.decode("utf-8"), headers))
        return int(r.status), r.headers.get("ETag"), _raw(r)

    def delete(self, href: str, if_match: str | None) -> int:
        headers = {"If-Match": if_match} if if_match else {}
        r = self._call("deleting an event", lambda: self.client.delete(self._abs(href), headers))
        return int(r.status)

    def get(self, href: str) -> tuple[bytes | None, str | None]:
        """The resource's body and ETag, or (None, None) when it is not there."""
        r = self._call("reading an event", lambda: self.client.request(self._abs(href), "GET"))
        if int(r.status) != 200:
            return None, None
        return _raw(r) or None, r.headers.get("ETag")

    def _abs(self, href: str) -> str:
        return urljoin(self.url, quote(href))


def _bounded_request(send: Callable[..., Any], session: Any, method: str, url: str, sync_end: float,
                     *args: Any, **kw: Any) -> Any:
    """One HTTP request of the caldav library with a total deadline and a size cap. A socket timeout bounds each
    read, not the exchange, so a timer shuts the connection's socket at the deadline (as busy_fetch does), and
    the body is streamed in chunks against the cap."""
    now = time.monotonic()
    end = min(now + REQUEST_DEADLINE_S, sync_end)
    whole = end == sync_end
    remaining = end - now
    if remaining <= 0:
        raise _Cut(whole)
    expired = threading.Event()

    def cut() -> None:  # wakes a read blocked on a trickling server
        expired.set()
        socks = _sockets(session)
        for sock in socks:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if not socks:
            with suppress(Exception):
                session.close()

    timer = threading.Timer(remaining, cut)
    timer.daemon = True
    timer.start()
    response = None
    try:
        kw["timeout"] = min(float(TIMEOUT_SECONDS), remaining)
        kw["stream"] = True
        response = send(method, url, *args, **kw)
        length = str(response.headers.get("Content-Length") or "").strip()
        if length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
            raise _TooBig
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            if expired.is_set():
                raise _Cut(whole)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise _TooBig
            chunks.append(chunk)
        if expired.is_set():
            raise _Cut(whole)
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response
    except (_Cut, _TooBig):
        if response is not None:
            with suppress(Exception):
                response.close()
        raise
    except Exception:
        if expired.is_set():
            raise _Cut(whole) from None
        raise
    finally:
        timer.cancel()


def _sockets(session: Any) -> list[socket.socket]:
    """The sockets of the HTTP session's connections (niquests keeps them in its pools' registries)."""
    found: list[socket.socket] = []
    try:
        for adapter in list(session.adapters.values()):
            pools = getattr(getattr(getattr(adapter, "poolmanager", None), "pools", None), "_registry", {})
            for pool in list(pools.values()):
                for conn in list(getattr(getattr(pool, "pool", None), "_registry", {}).values()):
                    sock = getattr(conn, "sock", None)
                    if isinstance(sock, socket.socket):
                        found.append(sock)
    except Exception:
        return found
    return found


def _raw(r: Any) -> bytes:
    raw = getattr(r, "_raw", b"") or b""
    return raw if isinstance(raw, bytes) else str(raw).encode()


def _reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, words in (("refused", "connection refused"), ("timed out", "timed out"),
                          ("name or service", "unknown host"), ("nodename", "unknown host"),
                          ("certificate", "TLS certificate not accepted"), ("ssl", "TLS error")):
        if needle in text:
            return words
    return type(exc).__name__


# ------------------------------------------------------------------ what the learner changed

# Properties an app changes on its own when it stores, shows or rings an event: not the learner's edit.
_APP_OWNED = {"DTSTAMP", "SEQUENCE", "LAST-MODIFIED", "CREATED", "UID", "ACKNOWLEDGED"}
# What the planner writes and owns: replaced on a write; everything else on the server's copy is kept.
_PLANNER_OWNED = ("SUMMARY", "DTSTART", "DTEND", "DURATION", "DESCRIPTION", "CATEGORIES", "STATUS", "TRANSP",
                  "SEQUENCE", "DTSTAMP")


def _event_of(body: bytes) -> Event | None:
    try:
        cal = Calendar.from_ical(body)
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    found = next(iter(cal.walk("VEVENT")), None)
    return found if isinstance(found, Event) else None


def _instant(ev: Event, name: str) -> Any:
    prop: Any = ev.get(name)
    if prop is None:
        duration: Any = ev.get("DURATION")
        if name == "DTEND" and duration is not None and ev.get("DTSTART") is not None:
            return _instant(ev, "DTSTART") + duration.dt
        return None
    value = getattr(prop, "dt", prop)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _what_it_says(ev: Event) -> dict[str, object]:
    """The learner-visible content of an event: its own properties except those apps change by themselves and
    X- properties, with times as instants (an app may rewrite a TZID or a DURATION)."""
    out: dict[str, object] = {"DTSTART": _instant(ev, "DTSTART"), "DTEND": _instant(ev, "DTEND")}
    for name in ev:
        if name in _APP_OWNED or name.startswith("X-") or name in ("DTSTART", "DTEND", "DURATION"):
            continue
        raw: Any = ev[name]
        values = raw if isinstance(raw, list) else [raw]
        if name == "CATEGORIES":  # one line with commas or one line per category: the same categories
            out[name] = tuple(sorted(str(c) for v in values for c in getattr(v, "cats", [v])))
        else:
            out[name] = tuple(sorted(_text(v) for v in values))
    for name, default in (("STATUS", "CONFIRMED"), ("TRANSP", "OPAQUE"), ("CLASS", "PUBLIC"), ("PRIORITY", "0")):
        out.setdefault(name, (default,))  # an app writing out a default has changed nothing
    return out


def _text(value: object) -> str:
    to_ical = getattr(value, "to_ical", None)
    data = to_ical() if callable(to_ical) else str(value)
    return data.decode() if isinstance(data, bytes) else str(data)


def _sequence(ev: Event | None) -> int:
    try:
        return int(ev.get("SEQUENCE", 0)) if ev is not None else 0
    except (TypeError, ValueError):
        return 0


def _note(ev: Event | None, res_or_uid: Resource | str, tz: dt.tzinfo | None) -> Note:
    uid = res_or_uid if isinstance(res_or_uid, str) else res_or_uid.uid
    if ev is None and isinstance(res_or_uid, Resource):
        ev = _event_of(res_or_uid.body)
    summary = str(ev.get("SUMMARY", "")) if ev is not None else ""
    start = _instant(ev, "DTSTART") if ev is not None else None
    if isinstance(start, dt.datetime):
        shown = (start.astimezone(tz) if tz is not None else start).strftime("%Y-%m-%d %H:%M")
    else:
        shown = str(start or "?")
    return Note(uid, re.sub(r"[\x00-\x1f\x7f]", " ", summary), shown)


def _with_sequence(body: bytes, seq: int) -> bytes:
    return re.sub(rb"(?m)^SEQUENCE:\d+\r$", b"SEQUENCE:%d\r" % seq, body, count=1)


def _merged(ours: bytes, theirs: Event, seq: int) -> bytes:
    """The plan's event as the server's copy: the planner's own properties from the plan, everything the app
    added (X- properties, its alarms with their acknowledgements, CREATED, LAST-MODIFIED, …) kept."""
    cal = Calendar.from_ical(ours)
    mine = next(iter(cal.walk("VEVENT")))
    for name in list(theirs):
        if (name.startswith("X-") or name in _APP_OWNED) and name not in _PLANNER_OWNED and name not in mine:
            mine[name] = theirs[name]
    theirs_alarms = [c for c in theirs.subcomponents if c.name == "VALARM"]
    if theirs_alarms:  # the app's alarms are the learner's (dismissed, snoozed, added or removed): kept
        mine.subcomponents = [c for c in mine.subcomponents if c.name != "VALARM"] + theirs_alarms
    mine.pop("SEQUENCE", None)
    mine.add("sequence", seq)
    return bytes(cal.to_ical())


def _moves(a: Event | None, b: Event | None) -> bool:
    """True when the two differ in time or status: RFC 5545 then wants a higher SEQUENCE."""
    if a is None or b is None:
        return True
    return any(_instant(a, n) != _instant(b, n) for n in ("DTSTART", "DTEND")) or \
        str(a.get("STATUS", "CONFIRMED")).upper() != str(b.get("STATUS", "CONFIRMED")).upper()


# ------------------------------------------------------------------ the sync


@dataclass
class _Write:
    uid: str
    action: str  # created, updated, deleted
    href: str
    body: bytes | None  # None for a delete
    if_match: str | None
    hash: str = ""


class _Pool:
    """Up to WORKERS servers (one connection each) shared by a thread pool."""

    def __init__(self, address: CalendarAddress, user: str | None, password: str | None, first: _Server):
        self.address, self.user, self.password = address, user, password
        self.free: queue.SimpleQueue[_Server] = queue.SimpleQueue()
        self.free.put(first)
        self.first = first
        self.all = [first]
        self.lock = threading.Lock()

    @contextmanager
    def server(self) -> Iterator[_Server]:
        try:
            srv = self.free.get_nowait()
        except queue.Empty:
            srv = _Server(self.address, self.user, self.password, self.first.sync_end, self.first.budget)
            with self.lock:
                self.all.append(srv)
        try:
            yield srv
        finally:
            self.free.put(srv)

    def close(self) -> None:
        for srv in self.all:
            srv.close()


@contextmanager
def _quiet_library() -> Iterator[None]:
    """The caldav library logs warnings ("Deviation from expectations", with request details) on stderr: the
    sync says what happened in its own words instead."""
    log = logging.getLogger("caldav")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def sync_plan(plan: Plan, url: str, user: str | None, password: str | None, *, db: str | Path | None = None,
              on_write: Callable[[str, str], None] | None = None, restore: bool = False) -> SyncResult:
    """Make the CalDAV calendar at `url` hold the plan's live sessions; returns the counts and what was left as
    the learner has it.

    `db` is the planner's database (default $PLANNER_DB), where the sync state is kept. `on_write(action, uid)`
    is called after each write is recorded ('created', 'updated', 'deleted'). `restore` puts events the learner
    changed or deleted in their calendar back as the plan has them. Raises SyncError.
    """
    from planner.store import default_db_path

    t0 = time.perf_counter()
    t0_mono = time.monotonic()
    address = calendar_address(url)
    user = user or address.user
    state = SyncState(db if db is not None else default_db_path(), make_folder=db is None)
    resources: list[Resource] = list(live_calendar(plan).resources())
    tz = plan.profile.tz
    budget = SYNC_DEADLINE_BASE_S + SYNC_DEADLINE_PER_EVENT_S * (len(resources) + len(state.rows(address.key)))
    with _quiet_library():
        first = _Server(address, user, password, t0_mono + budget, budget)
        pool = _Pool(address, user, password, first)
        try:
            return _sync(plan, address, state, resources, pool, first, tz, on_write, restore, t0)
        finally:
            pool.close()


def _run(pool: _Pool, jobs: list[Any], fn: Callable[[_Server, Any], Any],
         done: Callable[[Any, Any], None]) -> None:
    """Run fn(server, job) for every job on the pool's connections; `done(job, result)` in this thread as each
    finishes. On the first failure (or an interruption) nothing more is started, what is running is waited for
    and recorded, and the failure is raised."""
    if not jobs:
        return
    if len(jobs) == 1:
        with pool.server() as srv:
            done(jobs[0], fn(srv, jobs[0]))
        return

    def task(job: Any) -> Any:
        with pool.server() as srv:
            return fn(srv, job)

    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="caldav") as ex:
        pending: dict[Future[Any], Any] = {}
        queue_ = list(reversed(jobs))
        try:
            while queue_ or pending:
                while queue_ and len(pending) < WORKERS and failure is None:
                    job = queue_.pop()
                    pending[ex.submit(task, job)] = job
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = pending.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        failure = failure or exc
                        continue
                    if failure is None:
                        done(job, fut.result())
                    else:  # accepted by the server after another request failed: still recorded
                        with suppress(SyncError):
                            done(job, fut.result())
                if failure is not None:
                    queue_.clear()
        except BaseException:  # interrupted (Ctrl+C, or on_write raised): record what the server accepted
            queue_.clear()
            for fut, job in list(pending.items()):
                try:
                    result = fut.result()
                except BaseException:
                    continue
                try:
                    done(job, result)
                except BaseException:
                    continue
            raise
    if failure is not None:
        raise failure


def _sync(plan: Plan, address: CalendarAddress, state: SyncState, resources: list[Resource], pool: _Pool,
          first: _Server, tz: dt.tzinfo, on_write: Callable[[str, str], None] | None, restore: bool,
          t0: float) -> SyncResult:
    key, shown = address.key, address.shown
    on_server = first.calendar_etags()
    known = state.rows(key)
    base = unquote(urlsplit(address.url).path)
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    kept: list[Note] = []
    skipped: list[Note] = []
    left: list[Note] = []
    wanted = {r.uid: r for r in resources}

    # 1. Read back what changed on the server since it was written (and unknown resources at our addresses).
    to_read: list[tuple[str, str]] = []  # (uid, href)
    for res in resources:
        row = known.get(res.uid)
        href = row.href if row else base + resource_name(res.uid)
        current = on_server.get(href)
        if current is not None and (row is None or row.etag != current or (restore and row.learner == "edited")):
            to_read.append((res.uid, href))
    for uid, row in known.items():
        if uid not in wanted and is_ours(uid) and row.href in on_server and on_server[row.href] != row.etag:
            to_read.append((uid, row.href))
    read: dict[str, tuple[bytes | None, str | None]] = {}
    _run(pool, to_read, lambda srv, job: srv.get(job[1]), lambda job, got: read.__setitem__(job[0], got))

    # 2. Decide, event by event.
    writes: list[_Write] = []
    with state._connect() as conn:
        for res in resources:
            row = known.get(res.uid)
            href = row.href if row else base + resource_name(res.uid)
            current = on_server.get(href)
            if row is None:
                if current is None:
                    writes.append(_Write(res.uid, "created", href, res.body, None, res.hash))
                    continue
                body, _ = read.get(res.uid, (None, None))
                theirs = _event_of(body) if body else None
                if theirs is None or str(theirs.get("UID", "")) != res.uid:
                    raise SyncError(f"{shown}: {href} holds an event this planner did not write; left alone "
                                    f"(use a calendar of its own for the plan)")
                # written by a sync cut off before its record: rewritten in place
                seq = max(res_seq(res), _sequence(theirs) + (1 if _moves(theirs, _event_of(res.body)) else 0))
                writes.append(_Write(res.uid, "updated", href, _with_sequence(res.body, seq), current or "*",
                                     res.hash))
                continue
            if current is None:  # deleted in the calendar app (or never there)
                if restore:
                    writes.append(_Write(res.uid, "created", href, _with_sequence(
                        res.body, max(res_seq(res), _sequence(_event_of(row.body)) if row.body else 0)), None,
                        res.hash))
                    continue
                skipped.append(_note(None, res, tz))
                if row.learner != "deleted":
                    state.put(conn, key, res.uid, _Row(row.href, row.hash, row.etag, row.body, "deleted"))
                continue
            if row.etag == current and row.hash == res.hash and row.learner is None:  # the common case: cheap
                counts["unchanged"] += 1
                continue
            pushed = _event_of(row.body) if row.body else None
            if row.etag == current and row.learner == "edited" and not restore:  # as the learner left it
                kept.append(_note(pushed, res, tz))
                continue
            if row.etag == current and row.learner != "edited":  # as this planner left it
                ours = _event_of(res.body)
                seq = max(res_seq(res), _sequence(pushed) + (1 if _moves(pushed, ours) else 0)) \
                    if pushed is not None else res_seq(res)
                writes.append(_Write(res.uid, "updated", href, _with_sequence(res.body, seq), current or "*",
                                     res.hash))
                continue
            body, _ = read.get(res.uid, (None, None))
            theirs = _event_of(body) if body else None
            if theirs is None:
                if body is None:  # gone between the listing and the read
                    skipped.append(_note(None, res, tz))
                    state.put(conn, key, res.uid, _Row(row.href, row.hash, row.etag, row.body, "deleted"))
                    continue
                raise SyncError(f"{shown}: {href} (the session {res.uid}) no longer reads as an event; left "
                                f"alone")
            reference = pushed if pushed is not None else (_event_of(res.body) if row.hash == res.hash else None)
            edited = row.learner == "edited" or (
                reference is not None and _what_it_says(theirs) != _what_it_says(reference))
            if edited and not restore:
                kept.append(_note(theirs, res, tz))
                # from now on the record holds the learner's version: the event is theirs until --restore
                state.put(conn, key, res.uid, _Row(row.href, row.hash, current, body, "edited"))
                continue
            ours = _event_of(res.body)
            if not edited and row.hash == res.hash:  # only the app's own additions: nothing to write
                counts["unchanged"] += 1
                state.put(conn, key, res.uid, _Row(row.href, row.hash, current, row.body, None))
                continue
            seq = max(res_seq(res), _sequence(theirs) + (1 if _moves(theirs, ours) else 0))
            writes.append(_Write(res.uid, "updated", href, _merged(res.body, theirs, seq), current or "*",
                                 res.hash))
        for uid, row in known.items():
            if uid in wanted or not is_ours(uid):
                continue
            current = on_server.get(row.href)
            if current is None:
                state.drop(conn, key, uid)
                continue
            body, _ = read.get(uid, (None, None))
            theirs = _event_of(body) if body else None
            pushed = _event_of(row.body) if row.body else None
            edited = row.learner == "edited" or (
                current != row.etag and theirs is not None and pushed is not None
                and _what_it_says(theirs) != _what_it_says(pushed))
            if edited and not restore:
                left.append(_note(theirs or pushed, uid, tz))
                state.drop(conn, key, uid)  # the learner's event now: never touched again
                continue
            writes.append(_Write(uid, "deleted", row.href, None, current or None))

    # 3. Write, concurrently; each write recorded as the server accepts it.
    missing_etag = False

    def write(srv: _Server, w: _Write) -> tuple[int, str | None, bytes]:
        if w.body is None:
            return srv.delete(w.href, w.if_match), None, b""
        return srv.put(w.href, set_stamp(w.body, dt.datetime.now(dt.UTC)), if_match=w.if_match)

    with state._connect() as conn:
        def done(w: _Write, answer: tuple[int, str | None, bytes]) -> None:
            nonlocal missing_etag
            status, etag, raw = answer
            if w.body is None:
                if status == 412:
                    raise SyncError(f"{shown}: {w.uid} changed in your calendar during the sync; run the sync "
                                    f"again")
                if status not in (200, 204, 404):
                    raise SyncError(f"{shown}: the server answered {status} when deleting {w.uid}")
                state.drop(conn, key, w.uid)
                counts["deleted"] += 1
            else:
                if status == 409:
                    if b"no-uid-conflict" in raw:  # RFC 4791 §5.3.2.1: the UID is in another resource
                        raise SyncError(f"{shown}: the calendar already holds {w.uid} at another address (an "
                                        f"imported plan file?); sync into a calendar of its own, or delete the "
                                        f"imported events first")
                    if not _exists(pool):
                        raise SyncError(f"{shown}: the calendar is gone from the server (deleted during the "
                                        f"sync?); create it again or sync into another calendar")
                    raise SyncError(f"{shown}: the server refused writing {w.uid} (409 Conflict)")
                if status in (404, 410) and not _exists(pool):
                    raise SyncError(f"{shown}: the calendar is gone from the server (deleted during the sync?); "
                                    f"create it again or sync into another calendar")
                if status == 412:
                    raise SyncError(f"{shown}: {w.uid} changed in your calendar during the sync; run the sync "
                                    f"again")
                if status not in (200, 201, 204):
                    raise SyncError(f"{shown}: the server answered {status} when writing {w.uid}")
                missing_etag = missing_etag or not etag
                state.put(conn, key, w.uid, _Row(w.href, w.hash, etag, w.body, None))
                counts[w.action] += 1
            if on_write is not None:
                on_write(w.action, w.uid)

        _run(pool, writes, write, done)
        if missing_etag:  # the server rewrote some bodies without saying their new ETag: record it now
            fresh = first.calendar_etags()
            for uid, row in state.rows(key).items():
                if not row.etag and row.href in fresh and row.learner is None:
                    state.put(conn, key, uid, _Row(row.href, row.hash, fresh[row.href], row.body, None))
    return SyncResult(shown, counts["created"], counts["updated"], counts["deleted"], counts["unchanged"],
                      time.perf_counter() - t0, tuple(kept), tuple(skipped), tuple(left))


def _exists(pool: _Pool) -> bool:
    with pool.server() as srv:
        return srv.exists()


def res_seq(res: Resource) -> int:
    m = re.search(rb"(?m)^SEQUENCE:(\d+)\r?$", res.body)
    return int(m.group(1)) if m else 0
