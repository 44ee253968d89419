"""Real servers for the calendar tests and the calendar benchmark: Radicale (CalDAV) and the feed app.

Both run as their own processes on 127.0.0.1 on a free port, with everything in a temporary folder, and are
stopped (and waited for) when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
          body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP request (no automatic decompression or redirects): status, lower-cased headers, body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=dict(headers or {}))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            fetch(url)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {seconds:g} s: {log.read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Radicale:
    url: str  # http://127.0.0.1:PORT/
    users: dict[str, str]
    folder: Path

    def make_calendar(self, user: str, cal_id: str, name: str = "Study plan") -> str:
        """A new calendar collection for `user`; returns its URL."""
        import caldav

        with caldav.DAVClient(f"{self.url}{user}/", username=user, password=self.users[user],
                              enable_rfc6764=False) as client:
            cal = client.principal().make_calendar(name=name, cal_id=cal_id)
            return str(cal.url)


@contextlib.contextmanager
def radicale(folder: Path, users: Mapping[str, str]) -> Iterator[Radicale]:
    """Radicale with htpasswd (plain) auth and its storage in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (folder / "users").write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    config = folder / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\n"
        "delay = 0\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[logging]\nlevel = warning\n"
    )
    log = folder / "radicale.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)], stdout=out,
                                stderr=subprocess.STDOUT, cwd=folder)
    try:
        _wait(f"http://127.0.0.1:{port}/.web/", proc, log)
        yield Radicale(f"http://127.0.0.1:{port}/", dict(users), folder)
    finally:
        _stop(proc)


@contextlib.contextmanager
def feed_server(db: Path, *, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`planner serve --db DB` on a free port; yields its base URL."""
    port = free_port()
    log = db.parent / f"feed-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "planner", "serve", "--db", str(db), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **(env or {})})
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


Answer = tuple[int, dict[str, str], bytes]


@contextlib.contextmanager
def local_http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on 127.0.0.1 (a free port) in a thread, each request in its own; yields the base URL (no
    trailing slash). A handler that never finishes (a trickle) does not hold up the test's end."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    srv.block_on_close = False
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def stub_server(answer: Callable[[str, str, Mapping[str, str]], Answer]) -> Iterator[str]:
    """A small HTTP server on 127.0.0.1 that answers every request with `answer(method, path, headers)`: for
    servers that misbehave in ways a real one cannot be made to (a 207 that is not XML, a 409 out of nowhere).
    Yields its base URL (no trailing slash)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = answer(self.command, self.path, dict(self.headers))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http_server(Handler) as base:
        yield base


@contextlib.contextmanager
def raw_server(reply: Callable[[str, str, Mapping[str, str]], Iterable[bytes]]) -> Iterator[str]:
    """A server on 127.0.0.1 that writes `reply(method, path, headers)` to the socket as it comes — status line,
    headers and body, each piece flushed at once — then closes the connection: for servers that trickle or send
    too much, which `stub_server` (whole answers) cannot show. Yields its base URL (no trailing slash)."""
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.close_connection = True
            try:
                for piece in reply(self.command, self.path, dict(self.headers)):
                    self.wfile.write(piece)
                    self.wfile.flush()
            except OSError:  # the client hung up (cut at its deadline)
                pass

        do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http_server(Handler) as base:
        yield base


def trickle(data: bytes, seconds_per_byte: float = 1.0) -> Iterator[bytes]:
    """`data` one byte at a time, a pause after each: a server that never stops, never quite answers."""
    for i in range(len(data)):
        yield data[i:i + 1]
        time.sleep(seconds_per_byte)
