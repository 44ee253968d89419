// Read many planner .ics files with Mozilla's ical.js (the parser in Thunderbird) in one process and print, per
// file, each event's UID and start instant in UTC, so a Python test can compare them with the plans' JSON.
// Usage: node check_ics_many.mjs FILE.ics...
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const out = {};
for (const file of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  const events = {};
  for (const ve of root.getAllSubcomponents("vevent")) {
    const ev = new ICAL.Event(ve);
    events[ev.uid] = ev.startDate.toJSDate().toISOString();
  }
  out[file] = events;
}
process.stdout.write(JSON.stringify(out) + "\n");
