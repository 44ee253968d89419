"""A plan's live calendar: the events of `plan_to_ics` minus the cancelled ones, for a feed or a CalDAV sync.

A subscription feed and a synced calendar both replace the whole set of events, so a cancelled session is simply
absent (a client deletes what disappears); the .ics file keeps its CANCELLED events for one-off imports. DTSTAMP is
set here, not by the export: a feed must stay byte-identical while the plan does not change (or every poll looks
like an update), and a CalDAV resource is compared by content without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from icalendar import Calendar, Component, Event, vDDDTypes

from planner.export.ics import plan_to_ics
from planner.plan import Plan

# Written as every event's DTSTAMP, then replaced with the real stamp once the bytes are fixed: the content hash
# of a feed or a resource is taken with it, so it does not depend on when the bytes were made.
PLACEHOLDER_STAMP = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PLACEHOLDER_LINE = b"DTSTAMP:19700101T000000Z\r\n"


def _stamp_line(when: dt.datetime) -> bytes:
    return b"DTSTAMP:" + when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ").encode() + b"\r\n"


def set_stamp(data: bytes, when: dt.datetime) -> bytes:
    """Put the real DTSTAMP where the placeholder is (a whole content line, never folded: it is 26 octets)."""
    return data.replace(_PLACEHOLDER_LINE, _stamp_line(when))


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def live_calendar(plan: Plan) -> Calendar:
    """The plan's calendar from the .ics export, without cancelled events and with placeholder DTSTAMPs."""
    cal = Calendar.from_ical(plan_to_ics(plan))
    keep: list[Component] = []
    for comp in cal.subcomponents:
        if comp.name == "VEVENT":
            if str(comp.get("STATUS", "")).upper() == "CANCELLED":
                continue
            comp["DTSTAMP"] = vDDDTypes(PLACEHOLDER_STAMP)
        keep.append(comp)
    cal.subcomponents[:] = keep
    return cal


@dataclass(frozen=True)
class Resource:
    """One event as its own calendar object: what a CalDAV server stores under one URL."""

    uid: str
    body: bytes  # with the placeholder DTSTAMP; `set_stamp` before writing
    hash: str


def event_resources(cal: Calendar) -> Iterator[Resource]:
    """One VCALENDAR per VEVENT, with the VTIMEZONE it refers to and no METHOD (RFC 4791 §4.1)."""
    zones = {str(c["TZID"]): c for c in cal.subcomponents if c.name == "VTIMEZONE"}
    head = [(key, cal[key]) for key in ("PRODID", "VERSION", "CALSCALE") if key in cal]
    for ev in cal.subcomponents:
        if not isinstance(ev, Event):
            continue
        one = Calendar()
        for key, value in head:
            one[key] = value
        used = {str(ev[k].params["TZID"]) for k in ("DTSTART", "DTEND") if k in ev and "TZID" in ev[k].params}
        for tzid in sorted(used):
            if tzid in zones:
                one.add_component(zones[tzid])
        one.add_component(ev)
        body = one.to_ical()
        yield Resource(str(ev["UID"]), body, content_hash(body))
