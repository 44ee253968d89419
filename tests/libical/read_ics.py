"""Read a planner .ics with libical (through its GObject bindings, Debian's gir1.2-ical-3.0 and python3-gi) and
print each event's UID, start and end as Unix seconds, the calendar's X-WR-CALNAME, and whether libical's
RFC 5546 restriction check passes.

Run with the system Python, which has the bindings: /usr/bin/python3 read_ics.py FILE.ics
"""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402

with open(sys.argv[1], encoding="utf-8") as fh:
    text = fh.read()
cal = ICalGLib.Component.new_from_string(text)
restrictions_ok = bool(ICalGLib.restriction_check(cal))
errors = []
events = []
comp = cal.get_first_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
while comp is not None:
    prop = comp.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        errors.append(prop.get_xlicerror())
        prop = comp.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    start, end = comp.get_dtstart(), comp.get_dtend()
    events.append({"uid": comp.get_uid(), "start": start.as_timet_with_zone(start.get_timezone()),
                   "end": end.as_timet_with_zone(end.get_timezone()), "status": comp.get_status().value_nick})
    comp = cal.get_next_component(ICalGLib.ComponentKind.VEVENT_COMPONENT)
name = None
prop = cal.get_first_property(ICalGLib.PropertyKind.X_PROPERTY)
while prop is not None:
    if prop.get_x_name() == "X-WR-CALNAME":
        name = prop.get_x()
    prop = cal.get_next_property(ICalGLib.PropertyKind.X_PROPERTY)
prop = cal.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
while prop is not None:
    errors.append(prop.get_xlicerror())
    prop = cal.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
json.dump({"name": name, "restrictions_ok": restrictions_ok, "errors": errors, "events": events}, sys.stdout)
