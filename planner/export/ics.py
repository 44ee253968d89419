"""iCalendar export: stable UIDs, SEQUENCE, TZID with a VTIMEZONE that other clients read right.

icalendar's generated VTIMEZONE (one 1970 DTSTART plus RDATE lists) is misread by ical.js and vobject, so the
VTIMEZONE here is built from the zone's own rule: the POSIX TZ string at the end of its TZif file, turned
into STANDARD/DAYLIGHT components with yearly RRULEs. Zones whose rule cannot be expressed that way are
written in UTC, which every client reads right.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import os
import re
import zoneinfo
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from planner import __version__
from planner.plan import Plan, Session

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


def _rule_matches(key: str, sessions: list[Session]) -> bool:
    """True when the rule-based VTIMEZONE agrees with the zone database at every session time."""
    rule = zone_rule(key)
    if rule is None:
        return False
    return all(_rule_offset(rule, t) == t.utcoffset() for s in sessions for t in (s.start, s.end))


def _dtstamp() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set, so an export can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _summary(plan: Plan, s: Session) -> str:
    t = plan.requirements.topic(s.topic)
    phase = "Foundations" if t.phase == 0 else f"Phase {t.phase}"
    if t.elective:
        phase = "Elective"
    if s.kind == "review":
        return f"Review · {t.title}"
    if s.kind == "checkpoint":
        return f"{phase} · Checkpoint"
    return f"{phase} · {t.title}"


def _description(plan: Plan, s: Session) -> str:
    t = plan.requirements.topic(s.topic)
    ph = next((p for p in plan.phases if p.number == t.phase), None)
    lines: list[str] = []
    if s.kind == "review":
        offsets = plan.profile.review_days
        after = offsets[s.ordinal - 1] if 0 < s.ordinal <= len(offsets) else None
        lines.append(f"Spaced review {s.ordinal} of {t.title}" + (f", {after} days after its last session." if after
                                                                   else "."))
        lines.append("Recall the key ideas without notes first, then check against your notes and redo one "
                     "exercise.")
    elif s.kind == "checkpoint":
        lines.append(f"{t.title}. Self-check questions:")
        for q in t.requires:
            member = plan.requirements.topic(q)
            if member.kind == "project":
                lines.append(f"- Review your project: {member.title}"
                             + (f" — {member.deliverable}" if member.deliverable else ""))
            else:
                lines.append(f"- Can you explain {member.title} without notes and use it in a small example?")
    else:
        lines.append(f"Session {s.ordinal} of {plan.sessions_in_topic(s.topic)} for this topic ({s.hours:g} h; "
                     f"topic total {t.hours:g} h).")
        if t.deliverable:
            lines.append(f"Deliverable: {t.deliverable}")
    if ph is not None:
        lines.append(f"Phase {ph.number}: {ph.title}" + (f" — {ph.objective}" if ph.objective else ""))
    if t.requires and s.kind not in ("checkpoint", "review"):
        lines.append("Builds on: " + ", ".join(plan.requirements.topic(q).title for q in t.requires))
    if t.resources:
        lines.append("Resources: " + "; ".join(t.resources))
    lines.append(f"Path: {plan.path_title}")
    return "\n".join(lines)


def plan_to_ics(plan: Plan, *, calendar_name: str | None = None, utc: bool = False) -> bytes:
    """The plan as an iCalendar file; UIDs and content depend only on the plan, DTSTAMP on the export time."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = calendar_name or f"Study plan · {plan.path_title.split(' — ')[0]}"
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    key = plan.profile.timezone
    sessions = sorted(plan.sessions, key=lambda s: (s.start, s.uid))
    zone = None
    if not utc and key not in ("UTC", "Etc/UTC") and sessions and _rule_matches(key, sessions):
        zone = vtimezone(key, sessions[0].start.year)
    if zone is not None:
        cal.add("x-wr-timezone", key)
        cal.add_component(zone)
    stamp = _dtstamp()
    for s in sessions:
        ev = Event()
        ev.add("uid", s.uid)
        ev.add("dtstamp", stamp)
        ev.add("sequence", s.sequence)
        if zone is not None:
            ev.add("dtstart", s.start)
            ev.add("dtend", s.end)
        else:
            ev.add("dtstart", s.start.astimezone(dt.UTC))
            ev.add("dtend", s.end.astimezone(dt.UTC))
        ev.add("summary", _summary(plan, s))
        ev.add("description", _description(plan, s))
        t = plan.requirements.topic(s.topic)
        ph = next((p for p in plan.phases if p.number == t.phase), None)
        ev.add("categories", [ph.title if ph else "Study", s.kind])
        ev.add("status", "CANCELLED" if s.status == "cancelled" else "CONFIRMED")
        ev.add("transp", "OPAQUE")
        if plan.profile.reminder_minutes is not None and s.status != "cancelled":
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", dt.timedelta(minutes=-plan.profile.reminder_minutes))
            alarm.add("description", _summary(plan, s))
            ev.add_component(alarm)
        cal.add_component(ev)
    return cal.to_ical()
