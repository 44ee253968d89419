"""Reading busy instants out of iCalendar text: fast, bounded, and one bad event never costs the rest.

A real calendar is mostly one-off events, most of them long past: a 20 MB export is ten years of meetings. So the
text is cut into events with regular expressions and only what can fall in the span read is parsed; one-off
events are read from their DTSTART/DTEND/DURATION here, and only recurring series (and their moved instances) go
through icalendar, `x-wr-timezone` and `recurring-ical-events`, one series at a time. Every rule is checked before
it is expanded: a malformed one, INTERVAL=0, or one with more occurrences in the span than the cap is skipped with
a warning; a rule more often than daily is laid out by arithmetic, never second by second; a rule that matches no
date costs a bounded probe, never a walk to the year 9999. All-day events are clipped to the span, so an event
from 0001 to 9999 costs as much as one of a day.

An event that cannot be read (a date `20240230`, `BYDAY=MO, TU`, an end before its start) is skipped and named
in a warning `file:line: …`; the rest of the calendar is read. A TZID is read as the zone it names: an IANA name,
a Windows zone id, an Outlook display name ("(UTC-05:00) Eastern Time (US & Canada)"), or a VTIMEZONE of the
file; one that names no zone is a warning naming it (the events are then read in the learner's zone).
"""

from __future__ import annotations

import datetime as dt
import re
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from planner.errors import InputError
from planner.windows_display_zones import DISPLAY_NAME_TO_IANA

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
OCCURRENCE_CAP = 20_000  # occurrences of one event inside the span read; more is not a calendar a person keeps
MAX_WARNINGS = 50  # per calendar; the rest are counted

_SCAN = re.compile(r"\n(BEGIN|END|DTSTART|DTEND|DURATION|RRULE|RDATE|EXDATE|RECURRENCE-ID|UID"
                   r"|FREEBUSY)([;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I)
_STATUS = re.compile(r"\n(STATUS|TRANSP|X-MICROSOFT-CDO-BUSYSTATUS)([;:][^\r\n]*)", re.I)  # read for events in the span
_RECURRING = frozenset(("RRULE", "RDATE", "RECURRENCE-ID"))
_VTIMEZONE = re.compile(r"\nBEGIN:VTIMEZONE[ \t]*\r?\n.*?\nEND:VTIMEZONE[ \t]*(?=\r?\n|$)", re.S | re.I)
_FOLD = re.compile(r"\r?\n[ \t]")
_PARAM = re.compile(r';([A-Za-z0-9-]+)=("[^"]*"|[^;]*)')
_DATETIME = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?$", re.I)
_DURATION = re.compile(r"([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.I)
_DISPLAY = re.compile(r"\((?:UTC|GMT)(?:([+-])(\d{1,2}):?(\d{2}))?\)\s*(.*)$", re.I)
_WEEKDAY = re.compile(r"[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU)$")
_FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_SUB_DAILY_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600}


@dataclass
class Reading:
    intervals: list[tuple[int, int]] = field(default_factory=list)  # UTC epoch minutes, unmerged
    all_day: set[dt.date] = field(default_factory=set)
    events: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped_warnings: int = 0
    lines: list[int] = field(default_factory=list)  # the line of each warning, for the file's order


class _Skip(Exception):
    """This event cannot be read: the message says why; the line is the property's."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class _Prop:
    name: str
    params: dict[str, str]
    value: str
    offset: int  # in the whole text, for the line number


class _Event:
    """One VEVENT or VFREEBUSY: its properties kept raw (name, text after the name, offset) and parsed only
    when asked for, so an event outside the span costs a look at its dates and nothing more."""

    __slots__ = ("_parsed", "end", "kind", "raw", "recurring", "start", "text", "uid")

    def __init__(self, kind: str, start: int, end: int, raw: list[tuple[str, str, int]], uid: str,
                 recurring: bool, text: str):
        self.kind, self.start, self.end, self.raw, self.uid = kind, start, end, raw, uid
        self.recurring, self.text = recurring, text
        self._parsed: list[_Prop] | None = None

    @property
    def props(self) -> list[_Prop]:
        if self._parsed is None:
            self._parsed = [_split(name, rest, offset) for name, rest, offset in self.raw]
            for m in _STATUS.finditer(self.text, self.start, self.end):
                self._parsed.append(_split(m.group(1).upper(), m.group(2), m.start() + 1))
        return self._parsed

    def has(self, *names: str) -> bool:
        return not set(names).isdisjoint([name for name, _, _ in self.raw])

    def value(self, name: str) -> str | None:
        """The raw value of a date property (after its last colon), without parsing its parameters."""
        for n, rest, _ in self.raw:
            if n == name:
                return rest.rpartition(":")[2].strip()
        return None

    def one(self, name: str) -> _Prop | None:
        """One property parsed, the others left raw (an event in the span needs three of its lines)."""
        if self._parsed is not None:
            return self.get(name)
        for n, rest, offset in self.raw:
            if n == name:
                return _split(name, rest, offset)
        return None

    def status(self) -> dict[str, str]:
        """STATUS, TRANSP and Outlook's busy status, by name."""
        return {m.group(1).upper(): m.group(2).rpartition(":")[2].strip()
                for m in _STATUS.finditer(self.text, self.start, self.end)}

    def get(self, name: str) -> _Prop | None:
        for p in self.props:
            if p.name == name:
                return p
        return None

    def all(self, name: str) -> list[_Prop]:
        return [p for p in self.props if p.name == name]


def _split(name: str, rest: str, offset: int) -> _Prop:
    if "\n" in rest:
        rest = _FOLD.sub("", rest)
    if name in ("DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID", "FREEBUSY"):
        head, _, value = rest.rpartition(":")  # an unquoted TZID may hold colons: "(UTC-05:00) Eastern …"
    elif '"' in rest:
        head, value = _first_colon(rest)
    else:
        head, _, value = rest.partition(":")
    params = {k.upper(): v.strip().strip('"').strip() for k, v in _PARAM.findall(head)} if head else {}
    return _Prop(name, params, value.strip(), offset)


def _first_colon(rest: str) -> tuple[str, str]:
    quoted = False
    for i, ch in enumerate(rest):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return rest[:i], rest[i + 1:]
    return rest, ""


def _events(text: str) -> Iterator[_Event]:
    """Events in the order of the file, by one pass of one expression over the whole text."""
    kind = ""
    depth = 0
    start = 0
    raw: list[tuple[str, str, int]] = []
    uid = ""
    recurring = False
    for m in _SCAN.finditer(text):
        name, rest = m.groups()
        if not name.isupper():
            name = name.upper()
        if name == "BEGIN":
            what = rest[1:].strip().upper()
            if not kind:
                if what in ("VEVENT", "VFREEBUSY"):
                    kind, depth, start, raw, uid, recurring = what, 0, m.start() + 1, [], "", False
            else:
                depth += 1
        elif name == "END":
            if kind:
                if depth == 0:
                    yield _Event(kind, start, m.end(), raw, uid, recurring, text)
                    kind = ""
                else:
                    depth -= 1
        elif kind and depth == 0:
            raw.append((name, rest, m.start() + 1))
            if name == "UID":
                uid = rest.partition(":")[2].strip()
            elif name in _RECURRING:
                recurring = True
    if kind:  # a file cut short (a download stopped mid-event): what it holds is read
        yield _Event(kind, start, len(text), raw, uid, recurring, text)


class _Lines:
    """Line numbers of offsets, counted once as the events are met in order."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def of(self, offset: int) -> int:
        if offset < self.pos:
            return self.text.count("\n", 0, offset) + 1
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


# ------------------------------------------------------------------------------------------------ time zones

@lru_cache(maxsize=1)
def _zone_names_by_city() -> dict[str, str]:
    out: dict[str, str] = {}
    for key in sorted(available_timezones()):
        city = key.rsplit("/", 1)[-1].replace("_", " ").lower()
        out.setdefault(city, key)
    return out


def _offset_matches(zone: ZoneInfo, offset: dt.timedelta | None) -> bool:
    if offset is None:
        return True
    probes = (dt.datetime(2024, 1, 15, 12), dt.datetime(2024, 7, 15, 12))
    return any(zone.utcoffset(p) == offset for p in probes)


@lru_cache(maxsize=256)
def zone_named(tzid: str) -> tuple[dt.tzinfo | None, str | None]:
    """The zone a TZID names, and a note when it is only approximated (a fixed offset); (None, None) when it
    names none. IANA names, Windows ids and vendor prefixes go through icalendar's own lookup; Outlook's
    display names ("(UTC+01:00) Amsterdam, Berlin, …", "(UTC-05:00) Eastern Time (US & Canada)") by their
    cities or by their Windows id ("Eastern Standard Time"), checked against the offset they show."""
    name = tzid.strip().strip('"').strip()
    if not name:
        return None, None
    try:
        return ZoneInfo(name), None
    except (ValueError, KeyError, OSError):
        pass
    try:
        from icalendar.timezone import tzp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            zone = tzp.timezone(name)
        if zone is not None:
            return zone, None
    except Exception:  # an odd name must not stop the reading: it is reported below
        pass
    listed = DISPLAY_NAME_TO_IANA.get(" ".join(name.split()))
    if listed is not None:
        try:
            return ZoneInfo(listed), None
        except (ValueError, KeyError, OSError):
            pass
    m = _DISPLAY.match(name)
    if m is None:
        return None, None
    sign, hours, minutes, rest = m.groups()
    offset = (dt.timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
              if hours is not None else dt.timedelta(0))
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    plain = re.sub(r"\([^)]*\)", "", rest).strip()
    for candidate in (plain.replace(" Time", " Standard Time"), plain + " Standard Time", plain):
        iana = WINDOWS_TO_OLSON.get(candidate)
        if iana is not None and _offset_matches(ZoneInfo(iana), offset):
            return ZoneInfo(iana), None
    cities = _zone_names_by_city()
    for city in re.split(r",|\band\b", plain):
        key = cities.get(city.strip().lower())
        if key is not None and _offset_matches(ZoneInfo(key), offset):
            return ZoneInfo(key), None
    if hours is None or (offset == dt.timedelta(0) and re.search(r"\b(UTC|GMT|Coordinated Universal)\b", rest)):
        return dt.UTC, None  # "(UTC) Coordinated Universal Time"
    return dt.timezone(offset), f"read at the fixed offset UTC{sign or '+'}{int(hours or 0):02d}:{minutes or '00'}"


class _Zones:
    def __init__(self, text: str, learner: ZoneInfo, shown: str, reading: Reading, lines: _Lines):
        self.learner, self.shown, self.reading, self.lines = learner, shown, reading, lines
        self.vtimezones: dict[str, str] = {}
        for m in _VTIMEZONE.finditer(text):
            tm = re.search(r"^TZID[^:\r\n]*:([^\r\n]*)", m.group(0), re.M | re.I)
            if tm:
                self.vtimezones[tm.group(1).strip().strip('"')] = m.group(0).strip()
        self.cache: dict[str, tuple[dt.tzinfo, str]] = {}  # tzid -> (zone, how a series names it)
        self.floating: dt.tzinfo = learner
        self.x_wr: str | None = None
        xm = re.search(r"\nX-WR-TIMEZONE[^:\r\n]*:([^\r\n]*)", text, re.I)
        if xm:
            zone, note = zone_named(xm.group(1))
            if isinstance(zone, ZoneInfo) and note is None:
                self.floating, self.x_wr = zone, zone.key
            else:
                self.warn(None, f"X-WR-TIMEZONE '{xm.group(1).strip()}' names no time zone; floating times are "
                                f"read in {learner.key}")

    def warn(self, offset: int | None, message: str) -> None:
        if len(self.reading.warnings) >= MAX_WARNINGS:
            self.reading.skipped_warnings += 1
            return
        line = self.lines.of(offset) if offset is not None else 0
        self.reading.warnings.append(f"{self.shown}:{line}: {message}" if line else f"{self.shown}: {message}")
        self.reading.lines.append(line)

    def zone(self, prop: _Prop) -> tuple[dt.tzinfo, str]:
        """The zone of a TZID parameter, and the TZID a series is rewritten with."""
        tzid = prop.params.get("TZID", "")
        hit = self.cache.get(tzid)
        if hit is not None:
            return hit
        zone, note = zone_named(tzid)
        if zone is not None and note is None:
            result: tuple[dt.tzinfo, str] = (zone, getattr(zone, "key", None) or tzid)
        elif tzid in self.vtimezones:
            result = (self._from_vtimezone(tzid), tzid)
        elif zone is not None:
            self.warn(prop.offset, f"time zone '{tzid}' {note}")
            result = (zone, "")
        else:
            self.warn(prop.offset, f"time zone '{tzid}' names no zone (no VTIMEZONE and no known name); "
                                   f"its events are read in {self.learner.key}")
            result = (self.learner, self.learner.key)
        self.cache[tzid] = result
        return result

    def _from_vtimezone(self, tzid: str) -> dt.tzinfo:
        import icalendar

        try:
            component = icalendar.Timezone.from_ical(self.vtimezones[tzid])
            return component.to_tz()  # type: ignore[attr-defined,no-any-return]
        except Exception:
            self.warn(None, f"the VTIMEZONE '{tzid}' cannot be read; its events are read in {self.learner.key}")
            return self.learner


# ------------------------------------------------------------------------------------------------ values

def _value_dt(value: str, prop: _Prop, zone: dt.tzinfo | None) -> dt.date | dt.datetime:
    if len(value) == 16 and value[8] == "T" and value[15] == "Z" and value[:8].isdigit():  # most: UTC times
        try:
            return dt.datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]),
                               int(value[11:13]), min(int(value[13:15]), 59), tzinfo=dt.UTC)
        except ValueError:
            pass  # named below
    m = _DATETIME.match(value.strip())
    if m is None:
        raise _Skip(f"{prop.name} '{value[:40]}' is not a date or date-time", prop.offset)
    day, clock, utc = m.groups()
    try:
        if clock is None:
            return dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))
        tzinfo = dt.UTC if utc else zone
        return dt.datetime(int(day[:4]), int(day[4:6]), int(day[6:]), int(clock[:2]), int(clock[2:4]),
                           min(int(clock[4:]), 59), tzinfo=tzinfo)
    except ValueError:
        raise _Skip(f"{prop.name} '{value[:40]}' is not a real date", prop.offset) from None


@lru_cache(maxsize=65536)
def _real_day(text: str) -> bool:
    try:
        return len(text) == 8 and dt.date(int(text[:4]), int(text[4:6]), int(text[6:])) is not None
    except ValueError:
        return False


def _duration(value: str, prop: _Prop) -> dt.timedelta:
    m = _DURATION.match(value.strip())
    if m is None or value.strip().upper() in ("P", "PT", "+P", "-P"):
        raise _Skip(f"DURATION '{value[:40]}' is not a duration", prop.offset)
    sign, w, d, h, mi, s = m.groups()
    try:
        delta = dt.timedelta(weeks=int(w or 0), days=int(d or 0), hours=int(h or 0), minutes=int(mi or 0),
                             seconds=int(s or 0))
    except OverflowError:
        raise _Skip(f"DURATION '{value[:40]}' is too long", prop.offset) from None
    return -delta if sign == "-" else delta


def _minutes(t: dt.datetime, *, up: bool) -> int:
    seconds = (t - EPOCH).total_seconds()
    whole = int(seconds // 60)
    return whole + 1 if up and seconds > whole * 60 else whole


def _busy_status(get: Any) -> bool:
    status = str(get("STATUS") or "").strip().upper()
    if status == "CANCELLED":
        return False
    if str(get("TRANSP") or "").strip().upper() == "TRANSPARENT":
        return False
    return str(get("X-MICROSOFT-CDO-BUSYSTATUS") or "").strip().upper() != "FREE"


# ------------------------------------------------------------------------------------------------ the reader

class _Reader:
    def __init__(self, text: str, shown: str, tz: ZoneInfo, first: dt.date, until: dt.date, by_library: bool):
        self.text, self.shown, self.tz, self.first, self.until = text, shown, tz, first, until
        self.by_library = by_library
        self.reading = Reading()
        self.lines = _Lines(text)
        self.zones = _Zones(text, tz, shown, self.reading, self.lines)
        self.lo = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
        self.hi = dt.datetime.combine(until, dt.time(0), tzinfo=tz)
        self.lo_min, self.hi_min = _minutes(self.lo, up=False), _minutes(self.hi, up=False)
        self.first_early = first - dt.timedelta(days=2) if first > dt.date(1, 1, 3) else first
        self.until_late = until + dt.timedelta(days=2) if until < dt.date(9999, 12, 29) else until
        self.lo8 = (first - dt.timedelta(days=2)).strftime("%Y%m%d").zfill(8) if first > dt.date(1, 1, 3) else "0"
        self.hi8 = (until + dt.timedelta(days=2)).strftime("%Y%m%d").zfill(8) if until < dt.date(9999, 12, 29) \
            else "99999999"

    def run(self) -> Reading:
        singles: list[_Event] = []
        series: dict[str, list[_Event]] = {}
        for event in _events(self.text):
            if event.kind == "VFREEBUSY":
                self._guard(event, self._freebusy)
                continue
            if event.recurring:
                series.setdefault(event.uid or f"#{event.start}", []).append(event)
            else:
                singles.append(event)
        for event in singles:
            if event.uid in series:
                series[event.uid].append(event)
            else:
                self._guard(event, self._single)
        for group in series.values():
            self._guard(group[0], lambda _e, g=group: self._series(g))
        return self.reading

    def _guard(self, event: _Event, read: Any) -> None:
        try:
            read(event)
        except _Skip as exc:
            self.zones.warn(exc.offset if exc.offset is not None else event.start,
                            f"event skipped: {exc.message}")
        except (ValueError, OverflowError, KeyError, IndexError, TypeError, AttributeError) as exc:
            self.zones.warn(event.start, f"event skipped: {_first_line(exc)}")

    # -- one-off events

    def _dt(self, prop: _Prop) -> dt.date | dt.datetime:
        zone = self.zones.zone(prop)[0] if "TZID" in prop.params else self.zones.floating
        return _value_dt(prop.value, prop, zone)

    def _single(self, event: _Event) -> None:
        start_v, end_v = event.value("DTSTART"), event.value("DTEND")
        if start_v is None:
            raise _Skip("no DTSTART")
        if start_v[:8] > self.hi8 or (start_v[:8] < self.lo8 and end_v is not None and end_v[:8] < self.lo8
                                      and not event.has("DURATION")):
            # outside the span: only checked to be dates, so a broken one is still named
            if not (_real_day(start_v[:8]) and (end_v is None or _real_day(end_v[:8]))):
                for p in (event.get("DTSTART"), event.get("DTEND")):
                    if p is not None:
                        _value_dt(p.value, p, None)
            return
        if not _busy_status(event.status().get):
            return
        start_p, end_p = event.one("DTSTART"), event.one("DTEND")
        assert start_p is not None
        start = self._dt(start_p)
        self._interval(event, start, self._end(event, start, end_p))

    def _end(self, event: _Event, start: dt.date | dt.datetime, end_p: _Prop | None) -> dt.date | dt.datetime | None:
        if end_p is not None:
            return self._dt(end_p)
        dur = event.one("DURATION")
        if dur is not None:
            delta = _duration(dur.value, dur)
            if delta < dt.timedelta(0):
                raise _Skip(f"its DURATION {dur.value} is negative", dur.offset)
            if not isinstance(start, dt.datetime):
                return start + dt.timedelta(days=max(1, -(-delta // dt.timedelta(days=1))))
            return start + delta
        return None

    def _interval(self, event: _Event, start: dt.date | dt.datetime, end: dt.date | dt.datetime | None) -> None:
        if isinstance(start, dt.datetime):
            if end is None:
                return  # a moment, not a stretch of time (RFC 5545: DTSTART alone ends where it starts)
            if not isinstance(end, dt.datetime):
                end = dt.datetime.combine(end, dt.time(0), tzinfo=start.tzinfo)
            if end < start:
                raise _Skip(f"it ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})",
                            event.start)
            self._timed(start, end)
        else:
            if end is not None and isinstance(end, dt.datetime):
                end = end.date() + dt.timedelta(days=1) if end.time() != dt.time(0) else end.date()
            if end is not None and end < start:
                raise _Skip(f"it ends ({end}) before it starts ({start})", event.start)
            self._days(start, end)

    def _timed(self, start: dt.datetime, end: dt.datetime) -> None:
        start = start if start.tzinfo else start.replace(tzinfo=self.tz)
        end = end if end.tzinfo else end.replace(tzinfo=self.tz)
        if start.date() > self.until_late or end.date() < self.first_early:
            return
        a, b = _minutes(start, up=False), _minutes(end, up=True)
        if b <= self.lo_min or a >= self.hi_min:
            return
        a, b = max(a, self.lo_min), min(b, self.hi_min)
        if b > a:
            self.reading.intervals.append((a, b))
            self.reading.events += 1

    def _days(self, start: dt.date, end: dt.date | None) -> None:
        if start >= self.until:
            return
        last = end if end is not None and end > start else None
        if last is None:
            last = start + dt.timedelta(days=1)  # start < until, so no overflow
        if last <= self.first:
            return
        day, stop = max(start, self.first), min(last, self.until)
        while day < stop:
            self.reading.all_day.add(day)
            day += dt.timedelta(days=1)
        self.reading.events += 1

    # -- free/busy publications

    def _freebusy(self, event: _Event) -> None:
        for prop in event.all("FREEBUSY"):
            if prop.params.get("FBTYPE", "BUSY").upper() == "FREE":
                continue
            zone = self.zones.zone(prop)[0] if "TZID" in prop.params else self.zones.floating
            for period in prop.value.split(","):
                begin, _, finish = period.strip().partition("/")
                start = _value_dt(begin, prop, zone)
                if not isinstance(start, dt.datetime):
                    start = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
                if finish.upper().lstrip("+-").startswith("P"):
                    end: dt.date | dt.datetime = start + _duration(finish, prop)
                else:
                    end = _value_dt(finish, prop, zone)
                if not isinstance(end, dt.datetime):
                    end = dt.datetime.combine(end, dt.time(0), tzinfo=zone)
                if end < start:
                    raise _Skip(f"a FREEBUSY period ends before it starts ({period.strip()})", prop.offset)
                self._timed(start, end)

    # -- recurring series

    def _series(self, group: list[_Event]) -> None:
        masters = [e for e in group if e.get("RECURRENCE-ID") is None]
        for master in masters:
            self._check_master(master)
        rules = [(m, p) for m in masters for p in m.all("RRULE")]
        sub_daily = [(m, p) for m, p in rules if _sub_daily_by_arithmetic(_rule_parts(p))]
        if sub_daily:
            for m, p in sub_daily:
                self._guard(m, lambda e, p=p: self._sub_daily(e, p))
            rest = [e for e in group if e not in [m for m, _ in sub_daily]]
            for e in rest:
                self._guard(e, self._single if e.get("RECURRENCE-ID") is not None else lambda _e: None)
            return
        if not self.by_library and self._simple_series(group, masters):
            return
        dead = {id(p) for m, p in rules if not self._probe(m, p)}  # a rule with no date in the span: left out
        if not any(m.get("RDATE") for m in masters) and len(dead) == len(rules):
            # no occurrence of the rules in the span: only moved instances can be in it
            for e in group:
                if e.get("RECURRENCE-ID") is not None:
                    self._guard(e, self._single)
            return
        self._expand(group, dead)

    def _simple_series(self, group: list[_Event], masters: list[_Event]) -> bool:
        """The common series (one RRULE, EXDATEs, moved or cancelled instances) laid out here with dateutil,
        the engine recurring-ical-events uses too, without building a component per occurrence: a calendar
        of a thousand weekly meetings reads in a fraction of a second. Anything else goes to the library."""
        if len(masters) != 1:
            return False
        master = masters[0]
        rules = master.all("RRULE")
        if len(rules) != 1 or master.get("RDATE") is not None:
            return False
        overrides = [e for e in group if e is not master]
        if any(e.get("RECURRENCE-ID") is None or "RANGE" in e.get("RECURRENCE-ID").params  # type: ignore[union-attr]
               for e in overrides):
            return False
        start = self._dt(master.get("DTSTART"))  # type: ignore[arg-type]
        end = self._end(master, start, master.get("DTEND"))
        if isinstance(start, dt.datetime) and start.tzinfo is dt.UTC and self.zones.x_wr:
            zone = ZoneInfo(self.zones.x_wr)  # Google: UTC times that mean wall-clock times of the calendar's zone
            start = start.astimezone(zone)
            end = end.astimezone(zone) if isinstance(end, dt.datetime) else end
        moved = {self._instant(e.get("RECURRENCE-ID"), start) for e in overrides}  # type: ignore[arg-type]
        skipped = {self._instant(p, start, v) for p in master.all("EXDATE") for v in p.value.split(",")} | moved
        busy = _busy_status({p.name: p.value for p in master.props}.get)
        if isinstance(start, dt.datetime):
            length = (end if isinstance(end, dt.datetime) else dt.datetime.combine(end, dt.time(0),
                      tzinfo=start.tzinfo)) - start if end is not None else dt.timedelta(0)
        else:
            length = dt.timedelta(days=max(1, (end - start).days if isinstance(end, dt.date) else 1))
        if busy and length > dt.timedelta(0):
            for occurrence in self._occurrences(master, rules[0], start, length):
                key = occurrence if isinstance(start, dt.datetime) else occurrence.date()
                if key in skipped or (isinstance(start, dt.datetime) and occurrence.date() in skipped):
                    continue
                if isinstance(start, dt.datetime):
                    self._timed(occurrence, occurrence + length)
                else:
                    self._days(occurrence.date(), occurrence.date() + length)
        for e in overrides:
            self._guard(e, lambda ev: self._moved(ev, length))
        return True

    def _instant(self, prop: _Prop, start: dt.date | dt.datetime, value: str | None = None) -> Any:
        """An EXDATE or RECURRENCE-ID as the key of an occurrence: an instant, or a date."""
        zone = self.zones.zone(prop)[0] if "TZID" in prop.params else (
            start.tzinfo if isinstance(start, dt.datetime) else self.zones.floating)
        moment = _value_dt(value if value is not None else prop.value, prop, zone)
        if isinstance(moment, dt.datetime) and isinstance(start, dt.datetime):
            return moment.astimezone(start.tzinfo)
        return moment.date() if isinstance(moment, dt.datetime) else moment

    def _occurrences(self, master: _Event, prop: _Prop, start: dt.date | dt.datetime,
                     length: dt.timedelta) -> Iterator[Any]:
        naive = start.replace(tzinfo=None) if isinstance(start, dt.datetime) else dt.datetime.combine(
            start, dt.time(0))
        zone = start.tzinfo if isinstance(start, dt.datetime) else None
        lo = dt.datetime.combine(self.first, dt.time(0)) - length - dt.timedelta(days=2) \
            if self.first > dt.date(1, 1, 10) + length else dt.datetime.min
        hi = dt.datetime.combine(self.until + dt.timedelta(days=2), dt.time(0)) \
            if self.until < dt.date(9999, 12, 29) else dt.datetime.max
        parts = _rule_parts(prop)
        step = {"DAILY": 1, "WEEKLY": 7}.get(parts["FREQ"])
        found: Iterator[dt.datetime]
        if step and set(parts) <= {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST"}:
            found = _plain_steps(naive, dt.timedelta(days=step * int(parts.get("INTERVAL", "1"))),
                                 int(parts["COUNT"]) if "COUNT" in parts else None,
                                 _until_local(parts.get("UNTIL"), zone), max(lo, naive), hi)
        else:
            found = _bounded_rule(prop.value, naive, self.until.year + 1, zone, near=lo).xafter(max(lo, naive),
                                                                                                inc=True)
        for n, occurrence in enumerate(found):
            if occurrence > hi:
                return
            if n >= OCCURRENCE_CAP:
                raise _Skip(f"its RRULE has more than {OCCURRENCE_CAP:,} occurrences in the span read", prop.offset)
            yield occurrence.replace(tzinfo=zone) if zone is not None else occurrence

    def _moved(self, event: _Event, length: dt.timedelta) -> None:
        """A moved (or cancelled) instance: its own times; without an end, the series' length (RFC 5545)."""
        values = {p.name: p.value for p in event.props}
        if not _busy_status(values.get):
            return
        start_p = event.get("DTSTART")
        if start_p is None:
            raise _Skip("no DTSTART")
        start = self._dt(start_p)
        end = self._end(event, start, event.get("DTEND"))
        if end is None:
            end = start + length
        self._interval(event, start, end)

    def _check_master(self, master: _Event) -> None:
        start_p = master.get("DTSTART")
        if start_p is None:
            raise _Skip("no DTSTART")
        start = self._dt(start_p)
        end = self._end(master, start, master.get("DTEND"))
        if end is not None:
            self._interval_check(master, start, end)
        for p in master.all("RRULE"):
            _rule_parts(p)
        for name in ("EXDATE", "RDATE"):
            for p in master.all(name):
                zone = self.zones.zone(p)[0] if "TZID" in p.params else self.zones.floating
                for v in p.value.split(","):
                    _value_dt(v.partition("/")[0], p, zone)

    def _interval_check(self, event: _Event, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> None:
        s = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time(0))
        e = end if isinstance(end, dt.datetime) else dt.datetime.combine(end, dt.time(0), tzinfo=s.tzinfo)
        if s.tzinfo is None:
            e = e.replace(tzinfo=None)
        elif e.tzinfo is None:
            e = e.replace(tzinfo=s.tzinfo)
        if e < s:
            raise _Skip(f"it ends ({e:%Y-%m-%d %H:%M}) before it starts ({s:%Y-%m-%d %H:%M})", event.start)

    def _probe(self, master: _Event, prop: _Prop) -> bool:
        """Whether a daily-or-longer rule has an occurrence in the span, without walking past it: dateutil
        looks for a match period by period up to the year 9999, so its year limit is lowered for this rule."""
        start_p = master.get("DTSTART")
        assert start_p is not None
        start = self._dt(start_p)
        naive = start.replace(tzinfo=None) if isinstance(start, dt.datetime) else dt.datetime.combine(
            start, dt.time(0))
        lo = dt.datetime.combine(self.first - dt.timedelta(days=2), dt.time(0)) if self.first > dt.date(1, 1, 3) \
            else dt.datetime.min
        rule = _bounded_rule(prop.value, naive, self.until.year + 1,
                             start.tzinfo if isinstance(start, dt.datetime) else None,
                             near=lo - dt.timedelta(days=400) if lo > dt.datetime(2, 1, 1) else None)
        hi = dt.datetime.combine(self.until + dt.timedelta(days=2), dt.time(0)) \
            if self.until < dt.date(9999, 12, 29) else dt.datetime.max
        dur = self._end(master, start, master.get("DTEND"))
        span = dt.timedelta(0)
        if dur is not None:
            s = naive
            e = dur.replace(tzinfo=None) if isinstance(dur, dt.datetime) else dt.datetime.combine(dur, dt.time(0))
            span = max(e - s, dt.timedelta(0))
        found = 0
        for occurrence in rule.xafter(max(naive, lo - span) if lo > dt.datetime.min + span else naive, inc=True):
            if occurrence > hi:
                break
            found += 1
            if found > OCCURRENCE_CAP:
                raise _Skip(f"its RRULE has more than {OCCURRENCE_CAP:,} occurrences in the span read",
                            prop.offset)
        return found > 0

    def _sub_daily(self, master: _Event, prop: _Prop) -> None:
        """A rule more often than daily, by arithmetic: its occurrences are start + k × step (BY… parts are
        not read for these; a warning says so)."""
        parts = _rule_parts(prop)
        if any(k.startswith("BY") for k in parts):
            raise _Skip(f"RRULE {prop.value[:60]}: BY… parts of a rule more often than daily are not read",
                        prop.offset)
        start_p = master.get("DTSTART")
        assert start_p is not None
        start = self._dt(start_p)
        if not isinstance(start, dt.datetime):
            raise _Skip(f"RRULE FREQ={parts['FREQ']} on a date without a time", prop.offset)
        start = start if start.tzinfo else start.replace(tzinfo=self.tz)
        end = self._end(master, start, master.get("DTEND"))
        if end is None:
            return
        end = end if isinstance(end, dt.datetime) else dt.datetime.combine(end, dt.time(0), tzinfo=start.tzinfo)
        length = end - start
        if length <= dt.timedelta(0):
            return
        step = dt.timedelta(seconds=_SUB_DAILY_SECONDS[parts["FREQ"]] * int(parts.get("INTERVAL", "1")))
        last: dt.datetime | None = None  # start of the last occurrence
        if "COUNT" in parts:
            last = start + step * (int(parts["COUNT"]) - 1)
        if "UNTIL" in parts:
            until = _value_dt(parts["UNTIL"], prop, start.tzinfo)
            if not isinstance(until, dt.datetime):
                until = dt.datetime.combine(until, dt.time(23, 59, 59), tzinfo=start.tzinfo)
            until = until if until.tzinfo else until.replace(tzinfo=start.tzinfo)
            k = (until - start) // step
            last = start + step * k if last is None else min(last, start + step * k)
        first_k = max(0, -(-(self.lo - length - start) // step))
        if last is not None and last < start:
            return
        hi = self.hi if last is None else min(self.hi, last + length)
        if length >= step:  # occurrences touch or overlap: one stretch
            self._timed(start + step * first_k, hi)
            return
        k, n = first_k, 0
        while True:
            s = start + step * k
            if s >= hi or (last is not None and s > last):
                break
            self._timed(s, s + length)
            k, n = k + 1, n + 1
            if n >= OCCURRENCE_CAP:
                self.zones.warn(prop.offset, f"RRULE {prop.value[:60]}: only its first {OCCURRENCE_CAP:,} "
                                             f"occurrences in the span are read")
                break

    def _expand(self, group: list[_Event], dead: set[int]) -> None:
        import icalendar
        import recurring_ical_events
        import x_wr_timezone

        needed: set[str] = set()
        blocks = []
        for event in group:
            block = self._rewritten(event, needed, dead)
            blocks.append(block)
        head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//study-planner//busy//EN"]
        if self.zones.x_wr:
            head.append(f"X-WR-TIMEZONE:{self.zones.x_wr}")
        text = "\r\n".join(head + [self.zones.vtimezones[t] for t in sorted(needed)] + blocks + ["END:VCALENDAR"])
        calendar = icalendar.Calendar.from_ical(text)
        if self.zones.x_wr:
            calendar = x_wr_timezone.to_standard(calendar)
            calendar.pop("X-WR-TIMEZONE", None)
        occurrences = recurring_ical_events.of(calendar, components=["VEVENT"]).between(self.lo, self.hi)
        for n, occurrence in enumerate(occurrences):
            if n >= OCCURRENCE_CAP:
                break
            if not _busy_status(occurrence.get):
                continue
            start, end = occurrence.start, occurrence.end
            if isinstance(start, dt.datetime):
                if not isinstance(end, dt.datetime):
                    end = dt.datetime.combine(end, dt.time(0))
                self._timed(start, end)
            else:
                self._days(start, end if isinstance(end, dt.date) and end > start else None)

    def _rewritten(self, event: _Event, needed: set[str], dead: set[int]) -> str:
        """The event's text with every TZID made one icalendar knows (IANA, or a VTIMEZONE sent along), or its
        times written in UTC where only a fixed offset is known; rules without a date in the span left out."""
        text = self.text[event.start:event.end]
        for prop in event.props:
            if id(prop) in dead:
                line_end = self.text.find("\n", prop.offset)
                text = text.replace(self.text[prop.offset:line_end + 1 if line_end != -1 else len(self.text)], "", 1)
                continue
            if "TZID" not in prop.params:
                continue
            zone, name = self.zones.zone(prop)
            if name in self.zones.vtimezones and not isinstance(zone, ZoneInfo):
                needed.add(name)
            line_end = self.text.find("\n", prop.offset)
            while line_end != -1 and self.text[line_end + 1:line_end + 2] in (" ", "\t"):
                line_end = self.text.find("\n", line_end + 1)
            old = self.text[prop.offset:line_end if line_end != -1 else len(self.text)].rstrip("\r")
            if name:
                new = f"{prop.name};TZID={name}:{prop.value}"
            else:  # a fixed offset: the instants in UTC
                values = []
                for v in prop.value.split(","):
                    moment = _value_dt(v.partition("/")[0], prop, zone)
                    values.append(moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
                                  if isinstance(moment, dt.datetime) else v)
                new = f"{prop.name}:{','.join(values)}"
            text = text.replace(old, new, 1)
        return text


def _sub_daily_by_arithmetic(parts: dict[str, str]) -> bool:
    """Rules more often than daily are laid out by arithmetic, except an hourly one with BY… parts: at most
    24 dates a day, which the bounded rule search walks in a moment."""
    return parts["FREQ"] in _SUB_DAILY_SECONDS and not (
        parts["FREQ"] == "HOURLY" and any(k.startswith("BY") for k in parts))


def _rule_parts(prop: _Prop) -> dict[str, str]:
    """The parts of an RRULE, checked: a malformed rule is skipped with its line, never handed to dateutil."""
    parts: dict[str, str] = {}
    for item in prop.value.split(";"):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        if not eq or not value or value != value.strip() or " " in value:
            raise _Skip(f"RRULE '{prop.value[:80]}' is malformed (at '{item[:30]}')", prop.offset)
        parts[key.strip().upper()] = value.upper()
    freq = parts.get("FREQ")
    if freq not in _FREQS:
        raise _Skip(f"RRULE '{prop.value[:80]}' has no valid FREQ", prop.offset)
    for key in ("INTERVAL", "COUNT"):
        if key in parts and (not parts[key].isdigit() or int(parts[key]) < 1 or len(parts[key]) > 9):
            raise _Skip(f"RRULE '{prop.value[:80]}': {key} must be a whole number of 1 or more", prop.offset)
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        if not _WEEKDAY.match(day):
            raise _Skip(f"RRULE '{prop.value[:80]}': BYDAY '{day}' is not a weekday", prop.offset)
    for key in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS"):
        for v in parts.get(key, "").split(",") if key in parts else []:
            if not re.fullmatch(r"[+-]?\d{1,3}", v):
                raise _Skip(f"RRULE '{prop.value[:80]}': {key} '{v}' is not a number", prop.offset)
    if "UNTIL" in parts and not _DATETIME.match(parts["UNTIL"]):
        raise _Skip(f"RRULE '{prop.value[:80]}': UNTIL is not a date", prop.offset)
    return parts


def _bounded_rule(rule_text: str, start: dt.datetime, max_year: int, zone: dt.tzinfo | None = None,
                  near: dt.datetime | None = None) -> Any:
    """A dateutil rule whose search stops after `max_year` instead of the year 9999. A daily or weekly rule
    without COUNT starts from its last period before `near` (whole intervals on: the same dates), so a
    series begun decades ago is not walked from its first day."""
    import datetime as real_datetime

    from dateutil import rrule as du

    text = re.sub(r";?UNTIL=[^;]*", "", rule_text, flags=re.I).strip(";")  # UNTIL is applied below
    upper = text.upper()
    step_days = {"DAILY": 1, "WEEKLY": 7}.get(m.group(1)) if (m := re.search(r"FREQ=(\w+)", upper)) else None
    if near is not None and step_days and "COUNT=" not in upper and "BYSETPOS" not in upper and near > start:
        interval = int(m.group(1)) if (m := re.search(r"INTERVAL=(\d+)", upper)) else 1
        period = dt.timedelta(days=step_days * interval)
        periods = (near - start) // period - 1
        if periods > 0:
            start = start + period * periods
    rule = du.rrulestr(text, dtstart=start, cache=False)
    rule._iter = types.MethodType(_bounded_iter(min(max_year, real_datetime.MAXYEAR)), rule)
    m = re.search(r"UNTIL=([0-9TZ]+)", rule_text, re.I)
    if m:
        until = _DATETIME.match(m.group(1))
        if until:
            day, clock, utc = until.groups()
            limit = dt.datetime(int(day[:4]), int(day[4:6]), int(day[6:]),
                                *(int(clock[i:i + 2]) for i in (0, 2, 4)) if clock else (23, 59, 59))
            if utc and zone is not None:  # UNTIL in UTC, the rule in the wall time of its zone
                limit = limit.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
            return _Until(rule, limit)
    return rule


def _plain_steps(start: dt.datetime, period: dt.timedelta, count: int | None, until: dt.datetime | None,
                 lo: dt.datetime, hi: dt.datetime) -> Iterator[dt.datetime]:
    """The dates of a daily or weekly rule without BY… parts, by arithmetic (the same dates dateutil gives)."""
    k = max(0, -(-(lo - start) // period))
    while count is None or k < count:
        occurrence = start + period * k
        if occurrence > hi or (until is not None and occurrence > until):
            return
        yield occurrence
        k += 1


def _until_local(text: str | None, zone: dt.tzinfo | None) -> dt.datetime | None:
    """UNTIL as a wall-clock time of the rule's zone (RFC 5545: in UTC when DTSTART has a zone)."""
    if not text:
        return None
    m = _DATETIME.match(text)
    if m is None:
        return None
    day, clock, utc = m.groups()
    limit = dt.datetime(int(day[:4]), int(day[4:6]), int(day[6:]),
                        *(int(clock[i:i + 2]) for i in (0, 2, 4)) if clock else (23, 59, 59))
    if utc and zone is not None:
        limit = limit.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)
    return limit


@lru_cache(maxsize=8)
def _bounded_iter(max_year: int) -> Any:
    """dateutil's own search, reading its year limit from a copy of the datetime module that ends earlier."""
    import datetime as real_datetime

    from dateutil import rrule as du

    shim = types.SimpleNamespace(**{k: getattr(real_datetime, k) for k in dir(real_datetime) if not k.startswith("__")})
    shim.MAXYEAR = max_year
    return types.FunctionType(du.rrule._iter.__code__, {**vars(du), "datetime": shim}, "_iter",
                              du.rrule._iter.__defaults__, du.rrule._iter.__closure__)


class _Until:
    def __init__(self, rule: Any, limit: dt.datetime):
        self.rule, self.limit = rule, limit

    def xafter(self, when: dt.datetime, inc: bool = True) -> Iterator[dt.datetime]:
        for occurrence in self.rule.xafter(when, inc=inc):
            if occurrence > self.limit:
                return
            yield occurrence


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def read_calendar(data: bytes, shown: str, field_name: str, tz: ZoneInfo, first: dt.date,
                  until: dt.date, *, series_by_library: bool = False) -> Reading:
    """Busy instants of a calendar between two local dates, with the warnings of what could not be read.
    `series_by_library` sends every series through recurring-ical-events: the check that the planner's own
    layout of the common series gives the same instants."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Outlook's "Unicode" export: UTF-16 with its byte-order mark
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace")
    text = text.lstrip("\ufeff")
    if "\n" not in text:  # lines ended by CR alone
        text = text.replace("\r", "\r\n")
    if not re.search(r"^BEGIN:VCALENDAR", text, re.M | re.I):
        raise InputError(field_name, f"{shown} is not an iCalendar file (no VCALENDAR)")
    reading = _Reader(text, shown, tz, first, until, series_by_library).run()
    reading.warnings = [w for _, w in sorted(zip(reading.lines, reading.warnings, strict=True),
                                             key=lambda pair: pair[0])]
    if reading.skipped_warnings:
        reading.warnings.append(f"{shown}: {reading.skipped_warnings} more warnings")
    return reading
