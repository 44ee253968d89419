"""Reading the learner's other calendars: when they are busy, as instants, from .ics files and feeds.

Fetching (one deadline and a size cap per address, passwords never shown) is `planner.busy_fetch`; reading the
text (fast, bounded, a bad event skipped and named `file:line`) is `planner.busy_parse`, which leaves series it
cannot lay out itself to icalendar, `x-wr-timezone` and `recurring-ical-events`. What stays here is the product's
side: sources and their errors, the cache by content, merging, the fingerprint, and the reading child process.
Transparent, cancelled and "free" events leave the time free, tentative ones keep it busy, all-day events block
the whole local day (unless the learner says otherwise), floating times are in the learner's zone.

Only instants leave this module (UTC minutes, merged), with a count, the warnings and a digest for the plan
file: the events' titles, places and people are never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from planner.busy_fetch import FETCH_DEADLINE_S, display_source
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import URL_SCHEMES as URL_SCHEMES  # busy sources are a profile field, checked there
from planner.profile import Profile, is_url
from planner.profile import normalise_source as normalise_source

MAX_BUSY_BYTES = 20_000_000  # a decade of a busy work calendar is a few MB
FETCH_TIMEOUT_S = FETCH_DEADLINE_S  # the old name: one deadline for the whole exchange, not per read
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class BusySource:
    source: str  # the file path (absolute) or URL as the learner gave it
    events: int  # busy occurrences read inside the horizon (all-day ones included)
    warnings: tuple[str, ...] = ()  # what could not be read, `file:line: …` (never a password)


@dataclass(frozen=True)
class BusyTimes:
    """Busy instants from the learner's calendars over [first, until): what the planner must keep free.

    Equality and hashing go by the digest, so a profile holding thousands of intervals stays cheap to compare
    and to use as a cache key."""

    sources: tuple[BusySource, ...]
    first: dt.date
    until: dt.date
    digest: str
    intervals: tuple[tuple[int, int], ...] = field(compare=False, repr=False)  # UTC epoch minutes [start, end)
    all_day: frozenset[dt.date] = field(compare=False, repr=False)  # local dates with an all-day busy event

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sources)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(w for s in self.sources for w in s.warnings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "events": self.events, "read_from": self.first.isoformat(), "read_until": self.until.isoformat(),
            "digest": self.digest,
            "per_source": [{"source": display_source(s.source), "events": s.events,
                            **({"warnings": list(s.warnings)} if s.warnings else {})} for s in self.sources]}
        if self.warnings:
            out["warnings"] = len(self.warnings)
        return out


def read_source(source: str, field: str, *, max_bytes: int = MAX_BUSY_BYTES,
                timeout: float = FETCH_DEADLINE_S) -> bytes:
    """The raw bytes of a busy source, or an InputError naming it: regular files only; addresses with one
    deadline for the whole exchange (`timeout`, connect to last byte); both with a size cap."""
    if is_url(source):
        from planner.busy_fetch import fetch  # here, not at the top: few plans fetch a calendar

        return fetch(source, field, max_bytes=max_bytes, deadline_s=timeout)
    try:
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(field, f"file not found: {source}") from None
    except OSError as exc:
        raise InputError(field, f"cannot read {source}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise InputError(field, f"{source} is not a regular file")
        if info.st_size > max_bytes:
            raise InputError(field, f"{source} is {info.st_size:,} bytes; the limit is {max_bytes:,}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(field, f"cannot read {source}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise InputError(field, f"{source} grew past the limit of {max_bytes:,} bytes while being read")
    return data


@dataclass(frozen=True)
class ParsedBusy:
    intervals: tuple[tuple[int, int], ...]  # UTC epoch minutes, unmerged
    all_day: frozenset[dt.date]
    events: int
    warnings: tuple[str, ...] = ()  # events skipped, zones guessed: `file:line: …`


_PARSED_CACHE: dict[tuple[str, str, str, dt.date, dt.date], ParsedBusy] = {}
_PARSED_CACHE_SIZE = 16


def parse_busy(data: bytes, source: str, field: str, tz: ZoneInfo, first: dt.date, until: dt.date) -> ParsedBusy:
    """Busy occurrences of one calendar between two local dates.

    Kept per content (SHA-256 of the bytes), name, zone and span for the life of the process: the dashboard
    plans again with the same uploaded calendar on every change of the form. A changed file is a new key, so
    nothing stale is ever used; errors are not kept."""
    key = (hashlib.sha256(data).hexdigest(), display_source(source), tz.key, first, until)
    hit = _PARSED_CACHE.get(key)
    if hit is not None:
        return hit
    parsed = _parse_busy(data, source, field, tz, first, until)
    if len(_PARSED_CACHE) >= _PARSED_CACHE_SIZE:
        _PARSED_CACHE.pop(next(iter(_PARSED_CACHE)))  # the oldest entry
    _PARSED_CACHE[key] = parsed
    return parsed


def _parse_busy(data: bytes, source: str, field: str, tz: ZoneInfo, first: dt.date, until: dt.date) -> ParsedBusy:
    from planner.busy_parse import read_calendar

    shown = display_source(source)
    try:
        reading = read_calendar(data, shown, field, tz, first, until)
    except InputError:
        raise
    except Exception as exc:  # never a traceback for a calendar: one line naming it
        raise InputError(field, f"{shown}: cannot read its events ({type(exc).__name__}: "
                                f"{_first_line(exc)})") from None
    return ParsedBusy(tuple(reading.intervals), frozenset(reading.all_day), reading.events,
                      tuple(reading.warnings))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def merge(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def digest_of(intervals: Sequence[tuple[int, int]], all_day: Iterable[dt.date]) -> str:
    """A fingerprint of the busy instants (not of the file: feeds rewrite DTSTAMP on every fetch)."""
    h = hashlib.sha256()
    for a, b in intervals:
        h.update(f"{a}-{b};".encode())
    for d in sorted(all_day):
        h.update(f"{d.isoformat()};".encode())
    return "sha256:" + h.hexdigest()[:16]


def load_busy(sources: Sequence[str], timezone: str, first: dt.date, until: dt.date, *,
              field: str = "busy") -> BusyTimes:
    """Read every source, every time (a calendar changes); the first that cannot be read is an InputError
    naming it (`busy[i]`)."""
    tz = ZoneInfo(timezone)
    all_intervals: list[tuple[int, int]] = []
    all_day: set[dt.date] = set()
    read: list[BusySource] = []
    for i, source in enumerate(sources):
        name = f"{field}[{i}]"
        parsed = parse_busy(read_source(source, name), source, name, tz, first, until)
        all_intervals.extend(parsed.intervals)
        all_day |= parsed.all_day
        read.append(BusySource(source, parsed.events, parsed.warnings))
    merged = merge(all_intervals)
    return BusyTimes(tuple(read), first, until, digest_of(merged, all_day), merged, frozenset(all_day))


class BackgroundRead:
    """`load_busy` run in a forked child while the caller goes on.

    The command line loads the solver (ortools, pandas, numpy: ~0.4 s) after the profile is known good; reading a
    year of a busy work calendar costs about as much again. On a machine with two cores the two overlap, so the
    calendar adds almost no wall time to `planner plan`. Where fork is missing or unsafe (other threads running:
    a forked child would inherit their locks held) or the child fails, the read happens in this process when the
    result is asked for, so the answer is the same either way; an unreadable source is the same InputError."""

    def __init__(self, sources: Sequence[str], timezone: str, first: dt.date, until: dt.date, *,
                 field: str = "busy", fork: bool = True):
        self._args = (tuple(sources), timezone, first, until)
        self._field = field
        self._child: tuple[int, int] | None = None
        if fork and _fork_is_safe():
            self._child = self._start()

    def _start(self) -> tuple[int, int] | None:
        parent = os.getpid()
        try:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:  # the child: read, send the answer, leave without running any of the parent's cleanup
            try:
                _die_with_parent(parent)
                os.close(read_fd)
                payload: dict[str, Any]
                try:
                    payload = {"busy": _busy_to_wire(load_busy(*self._args, field=self._field))}
                except InputError as exc:
                    payload = {"field": exc.field, "message": exc.message}
                except BaseException:  # the parent reads it again and reports it itself
                    payload = {}
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(json.dumps(payload).encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        return pid, read_fd

    def result(self) -> BusyTimes:
        """The busy times, waiting for the child if it still reads; an InputError naming the source."""
        if self._child is not None:
            pid, read_fd = self._child
            self._child = None
            with os.fdopen(read_fd, "rb") as pipe:
                data = pipe.read()  # to the end before waiting: a large answer fills the pipe
            os.waitpid(pid, 0)
            try:
                payload = json.loads(data) if data else {}
                if "busy" in payload:
                    return _busy_from_wire(payload["busy"])
            except (ValueError, KeyError, TypeError):  # a child killed mid-write: read here instead
                payload = {}
            if "field" in payload:
                raise InputError(str(payload["field"]), str(payload["message"]))
        return load_busy(*self._args, field=self._field)


def _busy_to_wire(busy: BusyTimes) -> dict[str, Any]:
    """Plain JSON for the pipe from the reading child (data, never code, crosses it)."""
    return {"sources": [[s.source, s.events, list(s.warnings)] for s in busy.sources], "first": busy.first.isoformat(),
            "until": busy.until.isoformat(), "digest": busy.digest, "intervals": busy.intervals,
            "all_day": sorted(d.isoformat() for d in busy.all_day)}


def _busy_from_wire(data: dict[str, Any]) -> BusyTimes:
    return BusyTimes(tuple(BusySource(str(s), int(n), tuple(str(w) for w in ws)) for s, n, ws in data["sources"]),
                     dt.date.fromisoformat(data["first"]), dt.date.fromisoformat(data["until"]), str(data["digest"]),
                     tuple((int(a), int(b)) for a, b in data["intervals"]),
                     frozenset(dt.date.fromisoformat(d) for d in data["all_day"]))


def _die_with_parent(parent: int) -> None:
    """The reading child never outlives the command: Linux ends it when its parent ends, however the parent
    ends (SIGTERM, SIGINT, exit, a crash); a parent already gone before this ran is noticed here."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the whole group: end, do not raise
    if os.getppid() != parent:
        os._exit(0)


def _fork_is_safe() -> bool:
    """Linux, and no other thread, Python's or a native library's (a numpy BLAS pool): a forked child cannot
    inherit a lock another thread holds. (macOS system libraries are not fork-safe; Windows has no fork.)"""
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def summarise_busy_file(data: bytes, name: str, timezone: str, first: dt.date, until: dt.date) -> dict[str, Any]:
    """What an upload holds, for a form to show before it is kept: events, busy hours, all-day days, span.
    Raises InputError (naming `name`) when it is not a calendar."""
    parsed = parse_busy(data, name, "busy", ZoneInfo(timezone), first, until)
    merged = merge(parsed.intervals)
    minutes = sum(b - a for a, b in merged)
    weeks = max(1.0, (until - first).days / 7)
    return {"source": name, "events": parsed.events, "busy_hours": round(minutes / 60, 1),
            "busy_hours_per_week": round(minutes / 60 / weeks, 1), "all_day_days": len(parsed.all_day),
            "first": first.isoformat(), "until": until.isoformat(), "warnings": list(parsed.warnings)}


BUSY_HORIZON_EXTRA_DAYS = 366  # busy calendars are read this far past the range's end (late finishes, re-plans)


def busy_horizon(first: dt.date, months_max: int) -> dt.date:
    return first + dt.timedelta(days=31 * months_max + BUSY_HORIZON_EXTRA_DAYS)


def with_busy(profile: Profile, curriculum: Curriculum) -> Profile:
    """The learner's world read: the profile with its busy calendars' instants from its start to the horizon.

    The stage between the profile (data, checked field by field) and the requirements, which see the free time
    through planner.availability; the command line runs it in a child instead (BackgroundRead), a plan file read
    back skips it (its calendars are read again only when re-planning: refresh_busy)."""
    if not profile.busy_sources:
        return profile
    months = curriculum.background(profile.background).months_max
    return replace(profile, busy=load_busy(profile.busy_sources, profile.timezone, profile.start,
                                           busy_horizon(profile.start, months)))


def refresh_busy(profile: Profile, today: dt.date, months_max: int) -> Profile:
    """The profile with its busy calendars read again from `today` on (re-planning: the past is history)."""
    if not profile.busy_sources:
        return profile
    until = max(busy_horizon(profile.start, months_max), today + dt.timedelta(days=BUSY_HORIZON_EXTRA_DAYS))
    return replace(profile, busy=load_busy(profile.busy_sources, profile.timezone, today, until))
