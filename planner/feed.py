"""The subscription feed: `GET /feed/<token>.ics` serves a learner's live plan from the dashboard's database.

Calendar apps poll a subscribed URL and replace their copy with what they get, so an accepted re-plan reaches
every device at the next fetch. The body is the .ics export without cancelled events (absence is what removes an
event from a subscription), with REFRESH-INTERVAL/X-PUBLISHED-TTL of one hour and a DTSTAMP fixed to when this
content was first served. The ETag is the hash of the content, so polls between changes cost a 304. Responses vary
on Accept-Encoding (gzip cuts the default plan from ~440 kB to ~36 kB). Unknown, malformed and rotated tokens all
get the same 404; the access log is off, since every request path carries a token.

A feed that cannot be built right now (the database is full, read-only or damaged; the plan's learning path cannot
be found) answers 503 with Retry-After and one line saying why, and logs one line naming the learner: never a 500.
A learner saved with `learners add --content FILE` keeps that path's YAML in the store, so the feed reads the plan
even when the file is not beside the planner's own paths (or has moved since).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from icalendar import vDuration
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from planner.curriculum import Curriculum, curriculum_for_id, parse_curriculum
from planner.errors import InputError
from planner.export.json import plan_from_dict
from planner.feedtokens import FeedTokens
from planner.livecal import LiveCalendar, content_hash, live_calendar, set_stamp
from planner.sqlite_db import DatabaseFileError
from planner.store import Store, shown_name

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8502
REFRESH = dt.timedelta(hours=1)
MEDIA_TYPE = "text/calendar; charset=utf-8"
CACHE_ENTRIES = 32
RETRY_AFTER_S = 600  # a feed that cannot be built now: calendar apps try again in 10 minutes
log = logging.getLogger("planner.feed")


@lru_cache(maxsize=8)
def curriculum_from_text(text: str, source: str) -> Curriculum:
    """A learning path kept in the store with a learner's plan (`learners add --content`)."""
    return parse_curriculum(text, source)


class FeedUnavailable(Exception):
    """The feed cannot be built right now; `reason` is the one line the response body and the log give, `name`
    the learner when known (the log names the learner, never the token)."""

    def __init__(self, reason: str, name: str | None = None):
        self.reason = reason
        self.name = name
        super().__init__(reason)


@dataclass(frozen=True)
class FeedDocument:
    body: bytes
    etag: str  # quoted entity tag
    last_modified: dt.datetime  # UTC, whole seconds
    _gzip: list[bytes]  # filled on first use

    @property
    def gzipped(self) -> bytes:
        if not self._gzip:
            self._gzip.append(gzip.compress(self.body, compresslevel=6, mtime=0))
        return self._gzip[0]


def feed_calendar(plan_data: dict[str, Any] | None, curriculum: Curriculum | None = None) -> bytes:
    """The feed's bytes for a saved plan (placeholder DTSTAMPs); an empty calendar when there is no plan. The plan
    is read with `curriculum`, else with the shipped learning path its path id names."""
    from planner.export.ics import PRODID

    refresh = (b"REFRESH-INTERVAL;VALUE=DURATION:" + vDuration(REFRESH).to_ical(),
               b"X-PUBLISHED-TTL:" + vDuration(REFRESH).to_ical())
    if plan_data is None:
        empty = LiveCalendar((b"VERSION:2.0", b"PRODID:" + PRODID.encode(), b"NAME:Study plan",
                              b"X-WR-CALNAME:Study plan"), {}, ())
        return empty.to_ical(refresh)
    if curriculum is None:
        path = plan_data.get("path")
        curriculum = curriculum_for_id(str(path.get("id", "")) if isinstance(path, dict) else "")
    return live_calendar(plan_from_dict(plan_data, curriculum)).to_ical(refresh)


class FeedBuilder:
    """Builds learners' feeds. A learner's feed is kept per save (name and save time), so a poll between saves
    costs one read of the store; the calendar bytes are kept per plan content, so re-saving the same plan (or
    restoring an earlier one) does not rebuild them. DTSTAMP and Last-Modified always come from the published
    record, which changes whenever the content differs from what was served last."""

    def __init__(self, db: str | Path):
        self.store = Store(db)
        self.tokens = FeedTokens(self.store.path)
        self._docs: OrderedDict[tuple[str, str], FeedDocument] = OrderedDict()
        self._raw: OrderedDict[tuple[str, str], tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def document(self, token: str) -> FeedDocument | None:
        """The learner's feed, None for an unknown token; FeedUnavailable when it cannot be built right now."""
        try:
            return self._document(token)
        except DatabaseFileError as exc:
            raise FeedUnavailable(f"the planner's database cannot be read right now: {exc.message}") from None

    def _curriculum(self, name: str) -> Curriculum | None:
        kept = self.store.content(name)
        if kept is None:
            return None
        try:
            return curriculum_from_text(kept[1], kept[0])
        except InputError as exc:
            raise FeedUnavailable(f"the learning path kept with this plan does not read ({exc})", name) from None

    def _document(self, token: str) -> FeedDocument | None:
        name = self.tokens.learner_for(token)
        if name is None:
            return None
        learner = self.store.load(name)
        if learner is None:  # deleted: its URL must not serve a later learner of the same name
            self.tokens.forget(name)
            return None
        saved = (name, learner.updated_at)
        with self._lock:
            doc = self._docs.get(saved)
            if doc is not None:
                self._docs.move_to_end(saved)
                return doc
        key = (name, content_hash(json.dumps(learner.plan, sort_keys=True).encode()))
        with self._lock:
            built = self._raw.get(key)
        if built is None:
            try:
                raw = feed_calendar(learner.plan, self._curriculum(name) if learner.plan is not None else None)
            except InputError as exc:
                raise FeedUnavailable(f"this plan cannot be shown as a calendar: {exc}", name) from None
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
                raise FeedUnavailable(f"this plan cannot be shown as a calendar ({exc.__class__.__name__})",
                                      name) from None
            built = (raw, content_hash(raw))
            self._remember(self._raw, key, built)
        raw, digest = built
        published = self.tokens.published(name, digest, _saved_time(learner.updated_at))
        etag = content_hash(f"{digest} {published.isoformat()}".encode())[:32]  # new bytes, new tag
        doc = FeedDocument(set_stamp(raw, published), f'"{etag}"', published, [])
        self._remember(self._docs, saved, doc)
        return doc

    def _remember(self, cache: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> None:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > CACHE_ENTRIES:
                cache.popitem(last=False)


def _saved_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _wants_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = 1.0
            for p in params.split(";"):
                k, _, v = p.strip().partition("=")
                if k.strip().lower() == "q":
                    try:
                        q = float(v)
                    except ValueError:
                        q = 0.0
            return q > 0
    return False


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): a gzip variant's tag matches too."""
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") in (opaque, opaque[:-1] + '-gz"') for tag in header.split(","))


def _not_modified_since(header: str, last_modified: dt.datetime) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return last_modified <= since


_NOT_FOUND = "not found\n"
_SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def create_app(db: str | Path | None = None) -> Starlette:
    """The feed app for the database at `db` (default: $PLANNER_DB, as the dashboard)."""
    builder = FeedBuilder(db if db is not None else Store().path)

    def feed(request: Request) -> Response:
        token = str(request.path_params["token"])
        try:
            doc = builder.document(token)
        except FeedUnavailable as exc:
            log.warning("feed%s unavailable (503): %s", f" of {shown_name(exc.name)}" if exc.name else "",
                        exc.reason)
            return PlainTextResponse(f"{exc.reason}\n", status_code=503,
                                     headers={"Cache-Control": "no-store", "Retry-After": str(RETRY_AFTER_S),
                                              **_SECURITY})
        if doc is None:
            return PlainTextResponse(_NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store", **_SECURITY})
        gz = _wants_gzip(request.headers.get("accept-encoding", ""))
        etag = doc.etag[:-1] + '-gz"' if gz else doc.etag
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.format_datetime(doc.last_modified, usegmt=True),
            "Cache-Control": "private, no-cache",
            "Vary": "Accept-Encoding",
            **_SECURITY,
        }
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        if (inm is not None and _etag_matches(inm, doc.etag)) or (
                inm is None and ims is not None and _not_modified_since(ims, doc.last_modified)):
            return Response(status_code=304, headers=headers)
        headers["Content-Disposition"] = 'inline; filename="study-plan.ics"'
        if gz:
            headers["Content-Encoding"] = "gzip"
            return Response(doc.gzipped, media_type=MEDIA_TYPE, headers=headers)
        return Response(doc.body, media_type=MEDIA_TYPE, headers=headers)

    def health(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(_NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store", **_SECURITY})

    app = Starlette(routes=[Route("/feed/{token}.ics", feed, methods=["GET"]), Route("/healthz", health)],
                    exception_handlers={404: not_found})
    app.router.redirect_slashes = False  # a redirect would echo the token back for any trailing-slash variant
    return app


def serve(db: str | Path | Starlette | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the feed app (or the app for the database `db`) under uvicorn until interrupted (no access log:
    request paths hold tokens)."""
    import uvicorn

    app = db if isinstance(db, Starlette) else create_app(db)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning",
                server_header=False, proxy_headers=False)
