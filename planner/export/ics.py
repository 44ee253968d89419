"""iCalendar export: stable UIDs, SEQUENCE, TZID with a VTIMEZONE that other clients read right.

icalendar's generated VTIMEZONE (one 1970 DTSTART plus RDATE lists) is misread by ical.js and vobject, so the
VTIMEZONE here is built from the zone's own rule: the POSIX TZ string at the end of its TZif file, turned
into STANDARD/DAYLIGHT components with yearly RRULEs. Zones whose rule cannot be expressed that way are
written in UTC, which every client reads right; so are single events whose local start or end falls in a
repeated or skipped hour of a daylight-saving night, where parsers disagree.

Two writers give the same bytes: plan_to_ics_objects builds icalendar objects (the definition), plan_to_ics
assembles the same lines with icalendar's escaping and is the one the CLI and dashboard use (faster).
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
import zoneinfo
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vDDDTypes, vText

from planner import __version__
from planner.plan import PhaseInfo, Plan, Session
from planner.requirements import TopicReq

PRODID = f"-//Study Planner//planner {__version__}//EN"
_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_NAME = r"(<[^>]+>|[A-Za-z]{3,})"
_OFF = r"([+-]?\d{1,2}(?::\d{2}){0,2})"
_POSIX = re.compile(rf"^{_NAME}{_OFF}(?:{_NAME}{_OFF}?(?:,(M[\d.]+(?:/{_OFF})?),(M[\d.]+(?:/{_OFF})?))?)?$")


@dataclass(frozen=True)
class _Rule:
    month: int
    week: int  # 1..5, 5 = last
    weekday: int  # 0 = Sunday
    at: dt.timedelta  # local wall time of the change


@dataclass(frozen=True)
class _ZoneRule:
    std_name: str
    std_offset: dt.timedelta
    dst_name: str | None = None
    dst_offset: dt.timedelta | None = None
    dst_start: _Rule | None = None
    dst_end: _Rule | None = None


def _parse_offset(text: str) -> dt.timedelta:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * dt.timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])


def _parse_rule(text: str) -> _Rule | None:
    spec, _, at = text.partition("/")
    m = re.fullmatch(r"M(\d{1,2})\.(\d)\.(\d)", spec)
    if not m:
        return None
    when = _parse_offset(at) if at else dt.timedelta(hours=2)
    if not dt.timedelta(0) <= when < dt.timedelta(hours=24):
        return None
    return _Rule(int(m.group(1)), int(m.group(2)), int(m.group(3)), when)


def _posix_string(key: str) -> str | None:
    data = None
    for base in zoneinfo.TZPATH:
        path = os.path.join(base, *key.split("/"))
        if os.path.isfile(path):
            with open(path, "rb") as fh:
                data = fh.read()
            break
    if data is None:
        try:
            data = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).read_bytes()
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            return None
    if not data.startswith(b"TZif") or not data.endswith(b"\n"):
        return None
    footer = data.rsplit(b"\n", 2)[-2]
    return footer.decode("ascii", "replace") or None


def zone_rule(key: str) -> _ZoneRule | None:
    """The zone's current rule from its POSIX TZ string, or None when it cannot be expressed with RRULEs."""
    text = _posix_string(key)
    if not text:
        return None
    m = _POSIX.match(text)
    if not m:
        return None
    std_name, std_off, dst_name, dst_off, start, _, end, _ = m.groups()
    std = -_parse_offset(std_off)  # POSIX offsets count west of Greenwich
    if dst_name is None:
        return _ZoneRule(std_name.strip("<>"), std)
    if not start or not end:
        return None
    dst = -_parse_offset(dst_off) if dst_off else std + dt.timedelta(hours=1)
    rs, re_ = _parse_rule(start), _parse_rule(end)
    if rs is None or re_ is None:
        return None
    return _ZoneRule(std_name.strip("<>"), std, dst_name.strip("<>"), dst, rs, re_)


def _nth_weekday(year: int, rule: _Rule) -> dt.date:
    if rule.week == 5:
        last = dt.date(year, rule.month % 12 + 1, 1) - dt.timedelta(days=1) if rule.month < 12 else dt.date(year, 12,
                                                                                                             31)
        shift = (last.isoweekday() % 7 - rule.weekday) % 7
        return last - dt.timedelta(days=shift)
    first = dt.date(year, rule.month, 1)
    shift = (rule.weekday - first.isoweekday() % 7) % 7
    return first + dt.timedelta(days=shift + 7 * (rule.week - 1))


def _rrule(rule: _Rule) -> dict[str, object]:
    week = -1 if rule.week == 5 else rule.week
    return {"FREQ": "YEARLY", "BYMONTH": rule.month, "BYDAY": f"{week}{_DAYS[rule.weekday]}"}


def vtimezone(key: str, first_year: int) -> Timezone | None:
    rule = zone_rule(key)
    if rule is None:
        return None
    tz = Timezone()
    tz.add("tzid", key)
    if rule.dst_start is None or rule.dst_end is None or rule.dst_offset is None:
        std = TimezoneStandard()
        std.add("dtstart", dt.datetime(first_year, 1, 1))
        std.add("tzoffsetfrom", rule.std_offset)
        std.add("tzoffsetto", rule.std_offset)
        std.add("tzname", rule.std_name)
        tz.add_component(std)
        return tz
    year = first_year - 1
    daylight = TimezoneDaylight()
    daylight.add("dtstart", dt.datetime.combine(_nth_weekday(year, rule.dst_start), dt.time()) + rule.dst_start.at)
    daylight.add("tzoffsetfrom", rule.std_offset)
    daylight.add("tzoffsetto", rule.dst_offset)
    daylight.add("tzname", rule.dst_name or "DST")
    daylight.add("rrule", _rrule(rule.dst_start))
    standard = TimezoneStandard()
    standard.add("dtstart", dt.datetime.combine(_nth_weekday(year, rule.dst_end), dt.time()) + rule.dst_end.at)
    standard.add("tzoffsetfrom", rule.dst_offset)
    standard.add("tzoffsetto", rule.std_offset)
    standard.add("tzname", rule.std_name)
    standard.add("rrule", _rrule(rule.dst_end))
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def _rule_offset(rule: _ZoneRule, local: dt.datetime) -> dt.timedelta:
    """UTC offset the VTIMEZONE gives a local wall time, to check it against the zone database."""
    if rule.dst_start is None or rule.dst_end is None or rule.dst_offset is None:
        return rule.std_offset
    on = dt.datetime.combine(_nth_weekday(local.year, rule.dst_start), dt.time()) + rule.dst_start.at
    off = dt.datetime.combine(_nth_weekday(local.year, rule.dst_end), dt.time()) + rule.dst_end.at
    naive = local.replace(tzinfo=None)
    in_dst = on <= naive < off if on < off else (naive >= on or naive < off)
    return rule.dst_offset if in_dst else rule.std_offset


def _rule_matches(key: str, times: list[dt.datetime]) -> bool:
    """True when the rule-based VTIMEZONE agrees with the zone database at every local time written."""
    rule = zone_rule(key)
    if rule is None:
        return False
    return all(_rule_offset(rule, t) == t.utcoffset() for t in times)


def edge_time(t: dt.datetime, tz: dt.tzinfo) -> bool:
    """True when t's wall time in tz is repeated (fall back) or skipped (spring forward).

    Parsers resolve such a local time differently (Python's take the first of a repeated hour as RFC 5545
    says, ical.js and libical the second), so events there are written in UTC, which all read alike.
    """
    wall = t.astimezone(tz).replace(tzinfo=None)
    return wall.replace(tzinfo=tz, fold=0).utcoffset() != wall.replace(tzinfo=tz, fold=1).utcoffset()


def _dtstamp() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so an export can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _summary(t: TopicReq, s: Session) -> str:
    phase = "Foundations" if t.phase == 0 else f"Phase {t.phase}"
    if t.elective:
        phase = "Elective"
    if s.kind == "review":
        return f"Review · {t.title}"
    if s.kind == "checkpoint":
        return f"{phase} · Checkpoint"
    return f"{phase} · {t.title}"


def _description(plan: Plan, topics: dict[str, TopicReq], ph: PhaseInfo | None, s: Session) -> str:
    """What the session is, from the session and its topic alone: no count of the topic's sessions ("session 8
    of 12"), which a re-plan changes for every session of a topic it adds to or cancels from, so that a re-plan
    rewrites only the events that moved (and a count of ordinals would outrun the live sessions anyway)."""
    t = topics[s.topic]
    lines: list[str] = []
    if s.kind == "review":
        # No gap to the topic's last session: a re-plan that moves that session would rewrite every review's text.
        lines.append(f"Spaced review {s.ordinal} of {t.title}, timed for when your recall of it is due.")
        lines.append("Recall the key ideas without notes first, then check against your notes and redo one "
                     "exercise.")
    elif s.kind == "checkpoint":
        lines.append(f"{t.title}. Self-check questions:")
        for q in t.requires:
            member = topics[q]
            if member.kind == "project":
                lines.append(f"- Review your project: {member.title}"
                             + (f" — {member.deliverable}" if member.deliverable else ""))
            else:
                lines.append(f"- Can you explain {member.title} without notes and use it in a small example?")
    else:
        lines.append(f"A {s.hours:g} h session of {t.title} ({t.hours:g} h in all).")
        if t.deliverable:
            lines.append(f"Deliverable: {t.deliverable}")
    if ph is not None:
        lines.append(f"Phase {ph.number}: {ph.title}" + (f" — {ph.objective}" if ph.objective else ""))
    if t.requires and s.kind not in ("checkpoint", "review"):
        lines.append("Builds on: " + ", ".join(topics[q].title for q in t.requires))
    if t.resources:
        lines.append("Resources: " + "; ".join(t.resources))
    lines.append(f"Path: {plan.path_title}")
    return "\n".join(lines)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean_text(text: str) -> str:
    """TEXT may not hold control characters (RFC 5545 3.3.11): line breaks stay (written as \n), any other
    control character becomes a space."""
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def calendar_title(plan: Plan, calendar_name: str | None = None) -> str:
    """The calendar's one-line name: control characters (newlines included) become spaces."""
    name = _NAME_CONTROL.sub(" ", calendar_name or "").strip()
    return name or f"Study plan · {plan.path_title.split(' — ')[0]}"


def calendar_sessions(plan: Plan) -> list[Session]:
    """The sessions a calendar file carries: every active one, and the cancelled ones of the latest re-plan.

    A CANCELLED event only matters to a calendar that still holds the event from an earlier file; one
    cancelled by an older re-plan was already sent as CANCELLED in that re-plan's file. Carrying all of them
    would grow the file with every re-plan, towards the ~1 MB that calendar imports accept.
    """
    latest = plan.replanned_on
    keep = [s for s in plan.sessions
            if s.status != "cancelled" or latest is None or (s.cancelled_on or latest) >= latest]
    return sorted(keep, key=lambda s: (s.start.timestamp(), s.uid))


@dataclass(frozen=True)
class _Item:
    session: Session
    in_utc: bool
    summary: str
    description: str
    categories: tuple[str, str]


@dataclass(frozen=True)
class _Export:
    name: str
    key: str
    tz: dt.tzinfo
    zone: Timezone | None
    stamp: dt.datetime
    reminder: int | None
    items: tuple[_Item, ...]


def _prepare(plan: Plan, calendar_name: str | None, utc: bool) -> _Export:
    """What both writers emit, decided once: the zone, which events are in UTC, and every text value."""
    key = plan.profile.timezone
    tz = plan.profile.tz
    sessions = calendar_sessions(plan)
    edges = {s.uid for s in sessions if edge_time(s.start, tz) or edge_time(s.end, tz)}
    local = [t.astimezone(tz) for s in sessions if s.uid not in edges for t in (s.start, s.end)]
    zone = None
    if not utc and key not in ("UTC", "Etc/UTC") and sessions and _rule_matches(key, local):
        zone = vtimezone(key, sessions[0].start.astimezone(tz).year)
    topics = {t.id: t for t in plan.requirements.topics}
    phases = {p.number: p for p in plan.phases}
    items = []
    for s in sessions:
        t = topics[s.topic]
        ph = phases.get(t.phase)
        summary = clean_text(_summary(t, s))
        items.append(_Item(s, zone is None or s.uid in edges, summary,
                           clean_text(_description(plan, topics, ph, s)),
                           (clean_text(ph.title) if ph else "Study", s.kind)))
    return _Export(calendar_title(plan, calendar_name), key, tz, zone, _dtstamp(), plan.profile.reminder_minutes,
                   tuple(items))


def _calendar(x: _Export) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # No METHOD: METHOD:PUBLISH needs an ORGANIZER (RFC 5546, libical's restriction check) and must not
    # appear in a CalDAV resource (RFC 4791); imports and subscriptions do not need it.
    # Typed as TEXT explicitly: icalendar would write these two raw, commas and semicolons unescaped.
    cal.add("name", vText(x.name))
    cal.add("x-wr-calname", vText(x.name))
    if x.zone is not None:
        cal.add("x-wr-timezone", x.key)
        cal.add_component(x.zone)
    return cal


def _event(x: _Export, item: _Item) -> Event:
    s = item.session
    ev = Event()
    ev.add("uid", s.uid)
    ev.add("dtstamp", x.stamp)
    ev.add("sequence", s.sequence)
    if item.in_utc:
        ev.add("dtstart", s.start.astimezone(dt.UTC))
        ev.add("dtend", s.end.astimezone(dt.UTC))
    else:
        ev.add("dtstart", s.start.astimezone(x.tz))
        ev.add("dtend", s.end.astimezone(x.tz))
    ev.add("summary", item.summary)
    ev.add("description", item.description)
    ev.add("categories", list(item.categories))
    ev.add("status", "CANCELLED" if s.status == "cancelled" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    if x.reminder is not None and s.status != "cancelled":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", dt.timedelta(minutes=-x.reminder))
        alarm.add("description", item.summary)
        ev.add_component(alarm)
    return ev


def plan_to_ics_objects(plan: Plan, *, calendar_name: str | None = None, utc: bool = False) -> bytes:
    """The .ics built from icalendar objects: the definition plan_to_ics must match byte for byte."""
    x = _prepare(plan, calendar_name, utc)
    cal = _calendar(x)
    for item in x.items:
        cal.add_component(_event(x, item))
    return cal.to_ical()


def _fold(line: str) -> str:
    """icalendar's line folding, done on the UTF-8 bytes instead of character by character.

    Each physical line holds at most 74 octets of content (a fold never splits a character), and a backslash
    or caret that would end a line moves to the next one, so a TEXT escape is never split across a fold.
    """
    data = line.encode()
    if len(data) < 75:
        return line
    parts: list[str] = []
    i, n = 0, len(data)
    while n - i > 74:
        j = i + 74
        while data[j] & 0xC0 == 0x80:  # inside a multi-byte character: fold before it
            j -= 1
        if data[j - 1] in b"\\^":
            j -= 1
        parts.append(data[i:j].decode())
        i = j
    parts.append(data[i:].decode())
    return "\r\n ".join(parts)


def plan_to_ics(plan: Plan, *, calendar_name: str | None = None, utc: bool = False) -> bytes:
    """The plan as an iCalendar file; UIDs and content depend only on the plan, DTSTAMP on the export time.

    The same bytes as plan_to_ics_objects (a test pins it), about ten times faster: the calendar's head and
    VTIMEZONE still come from icalendar, events are assembled as lines with icalendar's own TEXT escaping.
    """
    x = _prepare(plan, calendar_name, utc)
    head = _calendar(x).to_ical().decode()
    end = "END:VCALENDAR\r\n"
    out = [head[: -len(end)]]
    stamp = f"DTSTAMP:{x.stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}\r\n"
    probe = Event()
    probe.add("dtstart", dt.datetime(2000, 1, 1, tzinfo=x.tz))
    line = probe.content_line("DTSTART", probe["DTSTART"])  # the TZID parameter as icalendar writes it
    local_start = line[: line.rindex(":")]
    local_end = "DTEND" + local_start[len("DTSTART"):]
    trigger = None
    if x.reminder is not None:
        trigger = vDDDTypes(dt.timedelta(minutes=-x.reminder)).to_ical().decode()
    esc: dict[str, str] = {}

    def text(value: str) -> str:
        got = esc.get(value)
        if got is None:
            got = esc[value] = vText(value).to_ical().decode()
        return got

    for item in x.items:
        s = item.session
        summary = text(item.summary)
        if item.in_utc:
            start = f"DTSTART:{s.start.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
            stop = f"DTEND:{s.end.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        else:
            start = f"{local_start}:{s.start.astimezone(x.tz):%Y%m%dT%H%M%S}"
            stop = f"{local_end}:{s.end.astimezone(x.tz):%Y%m%dT%H%M%S}"
        cancelled = s.status == "cancelled"
        out.append(
            "BEGIN:VEVENT\r\n"
            f"{_fold('SUMMARY:' + summary)}\r\n{_fold(start)}\r\n{_fold(stop)}\r\n{stamp}"
            f"{_fold('UID:' + text(s.uid))}\r\nSEQUENCE:{s.sequence}\r\n"
            f"{_fold('CATEGORIES:' + text(item.categories[0]) + ',' + text(item.categories[1]))}\r\n"
            f"{_fold('DESCRIPTION:' + text(item.description))}\r\n"
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}\r\nTRANSP:OPAQUE\r\n")
        if trigger is not None and not cancelled:
            out.append(f"BEGIN:VALARM\r\nACTION:DISPLAY\r\n{_fold('DESCRIPTION:' + summary)}\r\n"
                       f"TRIGGER:{trigger}\r\nEND:VALARM\r\n")
        out.append("END:VEVENT\r\n")
    out.append(end)
    return "".join(out).encode("utf-8")
