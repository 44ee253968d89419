"""Fetching a busy calendar from an address: one total deadline and one size cap, whatever the server does.

A socket timeout bounds each read, not the exchange: a server that sends a byte a second never trips it. So the
whole exchange (connect, redirects, headers, body) runs against one deadline, enforced by a timer that shuts the
socket down, and the body is read in chunks against the cap. A password in the address (`https://ada:secret@…`)
is sent as HTTP Basic authentication and never appears in a message: `display_source` is what errors show.
"""

from __future__ import annotations

import time
import urllib.parse

from planner.errors import InputError

FETCH_DEADLINE_S = 15.0  # connect to last byte, redirects included
MAX_REDIRECTS = 5
CHUNK = 65536


def display_source(source: str) -> str:
    """The source as it may be shown: an address without the password it carries (the user name stays)."""
    try:
        parts = urllib.parse.urlsplit(source)
    except ValueError:
        return _strip_userinfo_roughly(source)
    if parts.password is None and "@" not in parts.netloc:
        return source
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{user}:***@{host}" if parts.password is not None else f"{user}@{host}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _strip_userinfo_roughly(source: str) -> str:
    scheme, sep, rest = source.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return source
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def fetch(source: str, field: str, *, max_bytes: int, deadline_s: float = FETCH_DEADLINE_S) -> bytes:
    """The body of an http(s)/webcal address, or an InputError naming it (without its password)."""
    import http.client  # here, not at the top: every plan loads the busy modules, few fetch (~40 ms)
    import ssl

    shown = display_source(source)
    url = source.strip()
    low = url.lower()
    if low.startswith(("webcal://", "webcals://")):
        url = "https://" + url.split("://", 1)[1]
    end = time.monotonic() + deadline_s
    try:
        for _ in range(MAX_REDIRECTS + 1):
            status, reason, location, body = _exchange(url, end, max_bytes, shown, field)
            if location is None:
                if status >= 400:
                    raise InputError(field, f"cannot fetch {shown}: HTTP {status} {reason}".rstrip())
                return body
            url = urllib.parse.urljoin(url, location)
        raise InputError(field, f"cannot fetch {shown}: more than {MAX_REDIRECTS} redirects")
    except InputError:
        raise
    except _Deadline:
        raise InputError(field, f"cannot fetch {shown}: timed out (no complete answer within {deadline_s:g} s, "
                                f"the limit for a calendar address)") from None
    except ssl.SSLError as exc:
        raise InputError(field, f"cannot fetch {shown}: TLS error ({exc.reason or exc})") from None
    except TimeoutError:
        raise InputError(field, f"cannot fetch {shown}: timed out") from None
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
        text = (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
        raise InputError(field, f"cannot fetch {shown}: {_scrub(text, source)}") from None


class _Deadline(Exception):
    pass


def _scrub(text: str, source: str) -> str:
    """A library message with any password of the address taken out."""
    try:
        password = urllib.parse.urlsplit(source).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***").replace(urllib.parse.unquote(password), "***")
    return text.splitlines()[0][:200] if text.strip() else text


def _exchange(url: str, end: float, max_bytes: int, shown: str,
              field: str) -> tuple[int, str, str | None, bytes]:
    import base64
    import contextlib
    import http.client
    import socket
    import ssl
    import threading

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(field, f"cannot fetch {shown}: not an http(s) address")
    port = parts.port  # ValueError for a port that is not a number
    remaining = end - time.monotonic()
    if remaining <= 0:
        raise _Deadline
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=remaining,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=remaining)
    expired = threading.Event()

    def cut() -> None:  # wakes a read blocked on a trickling server
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(remaining, cut)
    timer.daemon = True
    timer.start()
    try:
        headers = {"User-Agent": "study-planner busy-calendar reader", "Accept": "text/calendar, */*;q=0.5",
                   "Accept-Encoding": "identity", "Connection": "close"}
        if parts.username is not None:
            credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                return response.status, response.reason, response.getheader("Location"), b""
            if response.status >= 400:
                return response.status, response.reason, None, b""
            length = response.getheader("Content-Length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise InputError(field, f"{shown} is {int(length):,} bytes; the limit is {max_bytes:,}")
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
                if expired.is_set():
                    raise _Deadline
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(field, f"{shown} is more than {max_bytes:,} bytes; the limit")
                if time.monotonic() > end:
                    raise _Deadline
            return response.status, response.reason, None, b"".join(chunks)
        except (OSError, http.client.HTTPException):
            if expired.is_set():
                raise _Deadline from None
            raise
    finally:
        timer.cancel()
        conn.close()
