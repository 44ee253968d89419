// Read a planner .ics with Mozilla's ical.js (the parser in Thunderbird) and print each event's UID and
// start and end instants in UTC (and the calendar's X-WR-CALNAME), so the Python tests can compare them with the plan.
// Usage: node check_ics.mjs FILE.ics
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(process.argv[2], "utf8");
const root = new ICAL.Component(ICAL.parse(text));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}
const out = root.getAllSubcomponents("vevent").map((ve) => {
  const ev = new ICAL.Event(ve);
  return {
    uid: ev.uid,
    start_utc_iso: ev.startDate.toJSDate().toISOString(),
    end_utc_iso: ev.endDate.toJSDate().toISOString(),
    name: root.getFirstPropertyValue("x-wr-calname"),
  };
});
process.stdout.write(JSON.stringify(out) + "\n");
