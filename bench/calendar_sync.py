"""Benchmark of the calendar paths: CalDAV sync against a local Radicale, and the subscription feed.

    python bench/calendar_sync.py              # measure, print, and rewrite the figures in docs/calendar-sync.md
    python bench/calendar_sync.py --runs 1     # one run of each sync (quicker)
    python bench/calendar_sync.py --out -      # print only

The plan is the dashboard's default learner (ML & AI Engineer, ml_background, 18 h/week) starting 2027-01-04 in
Europe/Berlin with German holidays; the re-plan marks it done through 2027-02-28, misses the week before
2027-03-08 and re-plans from that day (as bench/run.py does). Radicale runs with its default storage settings
(fsync on), htpasswd auth, on 127.0.0.1; every run syncs into a new calendar. The same first sync against a
local server that stores nothing gives the planner's own share of it. The feed runs under uvicorn
(`planner serve`) on the same kind of database the dashboard writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import feed_server, fetch, radicale  # noqa: E402

DOC = ROOT / "docs" / "calendar-sync.md"
START_MARK, END_MARK = "<!-- bench:calendar-sync:start -->", "<!-- bench:calendar-sync:end -->"
PROFILE = {"background": "ml_background", "hours_per_week": 18, "start": "2027-01-04", "timezone": "Europe/Berlin",
           "holidays": "DE"}
REPLAN_TODAY = dt.date(2027, 3, 8)
USER, PASSWORD = "bench", "bench-password"
RATE_SECONDS = 3.0
TARGET_REPLAN_SYNC = 3.0
TARGET_FIRST_SYNC = 5.0


def plans() -> tuple[Any, Any, Any]:
    from planner.curriculum import default_content_path, load_curriculum
    from planner.plan import Plan
    from planner.profile import profile_from_mapping
    from planner.progress import mark_done_through, mark_missed
    from planner.replan import Replanned, replan
    from planner.solve import make_plan

    curriculum = load_curriculum(default_content_path())
    plan = make_plan(curriculum, profile_from_mapping(PROFILE, curriculum))
    assert isinstance(plan, Plan), plan.message()
    marked = mark_done_through(plan, REPLAN_TODAY - dt.timedelta(days=8))
    week = [s.uid for s in marked.sessions if REPLAN_TODAY - dt.timedelta(days=7) <= s.day < REPLAN_TODAY]
    result = replan(curriculum, mark_missed(marked, week), REPLAN_TODAY)
    assert isinstance(result, Replanned), result.message()
    return plan, result.plan, result.diff


def bench_sync(plan: Any, new_plan: Any, runs: int, folder: Path) -> dict[str, Any]:
    import planner.caldav_sync as caldav_sync
    from planner.caldav_sync import sync_plan

    first, noop, resync, serial = [], [], [], []
    counts: dict[str, str] = {}
    with radicale(folder / "radicale", {USER: PASSWORD}) as server:
        for i in range(runs):
            url = server.make_calendar(USER, f"bench-{i}")
            db = folder / f"sync-{i}.db"
            r = sync_plan(plan, url, USER, PASSWORD, db=db)
            first.append(r.seconds)
            counts["first"] = r.text()
            r = sync_plan(plan, url, USER, PASSWORD, db=db)
            noop.append(r.seconds)
            counts["noop"] = r.text()
            r = sync_plan(new_plan, url, USER, PASSWORD, db=db)
            resync.append(r.seconds)
            counts["replan"] = r.text()
            writes = r.created + r.updated + r.deleted
        workers = caldav_sync.WORKERS
        try:  # the same first sync one request at a time, as before the writes ran concurrently
            caldav_sync.WORKERS = 1
            for i in range(runs):
                serial.append(sync_plan(plan, server.make_calendar(USER, f"serial-{i}"), USER, PASSWORD,
                                        db=folder / f"serial-{i}.db").seconds)
        finally:
            caldav_sync.WORKERS = workers
        baseline = _bare_put(url, new_plan)
    client = [_client_share(plan, folder / f"client-{i}.db") for i in range(runs)]
    return {"first": first, "noop": noop, "replan": resync, "serial": serial, "counts": counts, "writes": writes,
            "bare_put": baseline, "workers": workers, "client": client}


_LISTING = (b'<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            b'<response><href>/bench/cal/</href><propstat><prop><resourcetype><collection/><C:calendar/>'
            b'</resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>')


def _client_share(plan: Any, db: Path) -> float:
    """The same first sync against a local server that stores nothing (an empty calendar listed, every PUT
    answered 201 with an ETag at once): the planner's own share of a first sync — building the events, the
    requests on 8 connections, the deadlines and caps, recording each write."""
    import http.server
    import threading

    from planner.caldav_sync import sync_plan

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one send per answer, no 40 ms wait for a delayed ACK

        def _any(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.command == "PROPFIND":
                head, body = "207 Multi-Status\r\nContent-Type: application/xml; charset=utf-8", _LISTING
            else:
                head, body = f'201 Created\r\nETag: "{hash(self.path)}"', b""
            self.wfile.write(f"HTTP/1.1 {head}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)

        do_PROPFIND = do_PUT = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/bench/cal/"
        return float(sync_plan(plan, url, USER, PASSWORD, db=db).seconds)
    finally:
        srv.shutdown()
        srv.server_close()


def _bare_put(url: str, plan: Any) -> float:
    """Median round trip of rewriting one of the synced events with a bare HTTP client on one connection, in
    the same calendar right after the last re-plan sync: the server's share of a write."""
    import niquests

    from planner.caldav_sync import resource_name
    from planner.livecal import live_calendar, set_stamp

    times = []
    with niquests.Session() as session:
        for res in list(live_calendar(plan).resources())[:40]:
            body = set_stamp(res.body, dt.datetime.now(dt.UTC))
            t0 = time.perf_counter()
            r = session.put(url + resource_name(res.uid), data=body, auth=(USER, PASSWORD),
                            headers={"Content-Type": "text/calendar; charset=utf-8"})
            times.append(time.perf_counter() - t0)
            assert r.status_code in (200, 201, 204), r.status_code
    return statistics.median(times)


def _conditional_rate(base: str, path: str, headers: dict[str, str]) -> tuple[float, int]:
    """Sequential requests on one keep-alive connection for RATE_SECONDS: (requests per second, statuses seen)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    n, statuses = 0, set()
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < RATE_SECONDS:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            statuses.add(r.status)
            n += 1
    finally:
        conn.close()
    assert statuses == {304}, statuses
    return n / (time.perf_counter() - t0), n


def bench_feed(plan: Any, new_plan: Any, folder: Path) -> dict[str, Any]:
    from planner.export import plan_to_dict
    from planner.feedtokens import feed_path
    from planner.store import Store

    db = folder / "feed.db"
    store = Store(db)
    store.save("Bench", PROFILE, plan_to_dict(plan), tracked=True)
    out: dict[str, Any] = {}
    with feed_server(db) as base:
        path = feed_path(store, "Bench")
        t0 = time.perf_counter()
        status, headers, body = fetch(base + path)
        out["cold"] = time.perf_counter() - t0
        assert status == 200
        t0 = time.perf_counter()
        fetch(base + path)
        out["warm"] = time.perf_counter() - t0
        _, gz_headers, gz_body = fetch(base + path, headers={"Accept-Encoding": "gzip"})
        assert gzip.decompress(gz_body) == body
        out["plain_bytes"], out["gzip_bytes"] = len(body), len(gz_body)
        out["events"] = body.count(b"BEGIN:VEVENT")
        out["rate_etag"], out["n_etag"] = _conditional_rate(base, path, {"If-None-Match": headers["etag"]})
        out["rate_ims"], out["n_ims"] = _conditional_rate(base, path,
                                                          {"If-Modified-Since": headers["last-modified"]})
        store.save("Bench", PROFILE, plan_to_dict(new_plan), tracked=True)
        t0 = time.perf_counter()
        status, new_headers, new_body = fetch(base + path, headers={"If-None-Match": headers["etag"],
                                                                    "Accept-Encoding": "gzip"})
        out["after_replan"] = time.perf_counter() - t0
        assert status == 200 and new_headers["etag"] != gz_headers["etag"]
        out["replan_gzip_bytes"] = len(new_body)
    return out


def render(plan: Any, new_plan: Any, diff: Any, sync: dict[str, Any], feed: dict[str, Any], runs: int) -> str:
    med = {k: statistics.median(sync[k]) for k in ("first", "noop", "replan", "serial", "client")}
    ok = "met" if med["replan"] <= TARGET_REPLAN_SYNC else "NOT met"
    ok_first = "met" if med["first"] <= TARGET_FIRST_SYNC else "NOT met"
    lines = [
        START_MARK,
        f"Measured {dt.date.today().isoformat()} with `python bench/calendar_sync.py` on {platform.machine()}, "
        f"Python {platform.python_version()}, {_versions()}; median of {runs} run(s), each into a new calendar.",
        "",
        f"Default plan: {len(plan.active_sessions)} live sessions. Re-plan ({REPLAN_TODAY}, last week missed): "
        f"{diff.text()}; {len(new_plan.active_sessions)} live sessions after it.",
        "",
        "| CalDAV sync against local Radicale | seconds | counts printed |",
        "| --- | --- | --- |",
        f"| first sync (empty calendar; goal ≤ {TARGET_FIRST_SYNC:g} s: {ok_first}) | {med['first']:.2f} | "
        f"{sync['counts']['first']} |",
        f"| the same, one request at a time (1 connection instead of {sync['workers']}) | {med['serial']:.2f} | "
        f"{sync['counts']['first']} |",
        f"| the same against a local server that stores nothing (the planner's own share) | {med['client']:.2f} | "
        f"{sync['counts']['first']} |",
        f"| second sync, nothing changed | {med['noop']:.2f} | {sync['counts']['noop']} |",
        f"| re-plan sync (goal ≤ {TARGET_REPLAN_SYNC:g} s: {ok}) | {med['replan']:.2f} | "
        f"{sync['counts']['replan']} |",
        "",
        f"Writes run on {sync['workers']} kept-alive connections at once. Per write in the re-plan sync: "
        f"{(med['replan'] - med['noop']) / max(1, sync['writes']) * 1000:.0f} ms "
        f"((re-plan − no-op) / {sync['writes']} writes); rewriting one of those events with a bare HTTP client "
        f"(niquests, one connection, 40 events, same calendar) takes {sync['bare_put'] * 1000:.0f} ms (median). "
        f"Load average at the end of the run: {_load()}.",
        "",
        "All runs (s): first " + ", ".join(f"{x:.2f}" for x in sync["first"]) + "; no-op "
        + ", ".join(f"{x:.2f}" for x in sync["noop"]) + "; re-plan " + ", ".join(f"{x:.2f}" for x in sync["replan"])
        + "; first, one connection " + ", ".join(f"{x:.2f}" for x in sync["serial"]) + "; first, a server that "
        "stores nothing " + ", ".join(f"{x:.2f}" for x in sync["client"]) + ".",
        "",
        "| Subscription feed (uvicorn, 127.0.0.1) | figure |",
        "| --- | --- |",
        f"| events in the feed | {feed['events']} |",
        f"| body, plain | {feed['plain_bytes']:,} bytes ({feed['plain_bytes'] / feed['events']:.0f} bytes/event) |",
        f"| body, gzip | {feed['gzip_bytes']:,} bytes ({feed['gzip_bytes'] / feed['plain_bytes']:.1%} of plain) |",
        f"| first fetch after the server started (loads the path, builds the feed) | {feed['cold']:.2f} s |",
        f"| next fetch (cached) | {feed['warm'] * 1000:.0f} ms |",
        f"| 304 rate, If-None-Match, one keep-alive connection | {feed['rate_etag']:.0f} requests/s "
        f"({feed['n_etag']} in {RATE_SECONDS:g} s, all 304) |",
        f"| 304 rate, If-Modified-Since | {feed['rate_ims']:.0f} requests/s ({feed['n_ims']} in "
        f"{RATE_SECONDS:g} s, all 304) |",
        f"| fetch right after the re-plan was saved (200, gzip) | {feed['after_replan']:.2f} s, "
        f"{feed['replan_gzip_bytes']:,} bytes |",
        END_MARK,
    ]
    return "\n".join(lines)


def _load() -> str:
    import os

    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) + f" (1/5/15 min) on {os.cpu_count()} CPUs"


def _versions() -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in ("radicale", "caldav", "uvicorn", "starlette", "icalendar"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(DOC), help="markdown file whose figures to rewrite, or - to print only")
    args = ap.parse_args()
    plan, new_plan, diff = plans()
    with tempfile.TemporaryDirectory() as tmp:
        sync = bench_sync(plan, new_plan, args.runs, Path(tmp))
        feed = bench_feed(plan, new_plan, Path(tmp))
    text = render(plan, new_plan, diff, sync, feed, args.runs)
    print(text)
    if args.out != "-":
        out = Path(args.out)
        doc = out.read_text() if out.exists() else f"{START_MARK}\n{END_MARK}\n"
        head, _, rest = doc.partition(START_MARK)
        _, _, tail = rest.partition(END_MARK)
        out.write_text(head + text + tail)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
