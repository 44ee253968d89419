"""Benchmark: the default plan with a busy calendar of 2,000 events a year, with and without study windows.

    python bench/busy.py                 # writes the figures into docs/busy-calendars.md
    python bench/busy.py --runs 3 --out /tmp/busy.md
    python bench/busy.py --reading       # only the reading speed of 20 MB calendars (MB/s)

The calendar is synthetic but shaped like a real work calendar exported from Google: weekly meetings written as
RRULEs in Europe/Berlin with EXDATEs and moved instances, one-off meetings in UTC with X-WR-TIMEZONE, some
evening commitments, all-day events (transparent and opaque), tentative and cancelled ones. Solve time is the
solver's own figure (`summary.solver.seconds` of the plan file); end to end is the wall time of the `planner plan`
command in a fresh process, reading the calendar included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "busy-calendars.md"
START = dt.date(2027, 1, 4)
ZONE = "Europe/Berlin"
EVENTS_PER_YEAR = 2000
BASE = ("plan", "--background", "ml_background", "--hours-per-week", "30", "--start", START.isoformat())
WINDOWS = ("--window", "mon-fri=06:30-08:30,17:00-23:00", "--window", "sat,sun=09:00-13:00,14:00-20:00")
TARGET_CASE = "default plan + busy calendar"  # what the targets are set for
WINDOWS_CASE = "default plan + busy calendar + windows"
TARGET_SOLVE_S = 0.3
TARGET_E2E_S = 1.0
MARK_BEGIN = "<!-- bench/busy.py: begin -->"
MARK_END = "<!-- bench/busy.py: end -->"


def work_calendar(seed: int = 14) -> tuple[str, int]:
    """An .ics of about EVENTS_PER_YEAR busy occurrences in the year from START, and the exact count."""
    rng = random.Random(seed)
    tz = ZoneInfo(ZONE)
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Work", f"X-WR-TIMEZONE:{ZONE}"]
    count = 0
    uid = 0

    def event(props: list[str], same_uid: bool = False) -> None:
        nonlocal uid
        uid += 0 if same_uid else 1
        lines.extend(["BEGIN:VEVENT", f"UID:bench-{uid}@example.org", "DTSTAMP:20261126T101500Z", *props,
                      "END:VEVENT"])

    # 24 weekly series through the year (work meetings, two evening ones), a few weeks skipped, some moved
    for _ in range(24):
        weekday = rng.randrange(5)
        hour = rng.choice([8, 9, 10, 11, 13, 14, 15, 16, 18, 19])
        minute = rng.choice([0, 0, 15, 30, 45])
        minutes = rng.choice([30, 45, 60, 60, 90])
        first = START + dt.timedelta(days=(weekday - START.weekday()) % 7)
        begin = dt.datetime.combine(first, dt.time(hour, minute))
        skipped = sorted(rng.sample(range(52), 4))
        moved = rng.choice([k for k in range(52) if k not in skipped])
        exdates = ",".join((begin + dt.timedelta(weeks=k)).strftime("%Y%m%dT%H%M%S") for k in skipped)
        event([f"DTSTART;TZID={ZONE}:{begin:%Y%m%dT%H%M%S}", f"DURATION:PT{minutes}M",
               "RRULE:FREQ=WEEKLY;COUNT=52", f"EXDATE;TZID={ZONE}:{exdates}", "SUMMARY:Weekly meeting"])
        original = begin + dt.timedelta(weeks=moved)
        event([f"RECURRENCE-ID;TZID={ZONE}:{original:%Y%m%dT%H%M%S}",
               f"DTSTART;TZID={ZONE}:{original + dt.timedelta(days=1):%Y%m%dT%H%M%S}", f"DURATION:PT{minutes}M",
               "SUMMARY:Weekly meeting (moved)"], same_uid=True)
        count += 52 - len(skipped)
    # one-off meetings in UTC (Google writes single events so), some tentative, some cancelled
    while count < EVENTS_PER_YEAR - 40:
        day = START + dt.timedelta(days=rng.randrange(365))
        if day.weekday() >= 5 and rng.random() < 0.8:
            continue
        begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 21), rng.choice([0, 10, 15, 30, 45])),
                                    tzinfo=tz).astimezone(dt.UTC)
        end = begin + dt.timedelta(minutes=rng.choice([15, 30, 30, 45, 60, 90, 120]))
        status = rng.choices(["CONFIRMED", "TENTATIVE", "CANCELLED"], [85, 10, 5])[0]
        event([f"DTSTART:{begin:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}", f"STATUS:{status}",
               "SUMMARY:Meeting"])
        count += status != "CANCELLED"
    # all-day events: Google marks them transparent unless "busy" is chosen
    for k in range(40):
        day = START + dt.timedelta(days=rng.randrange(365))
        transp = "TRANSPARENT" if k % 4 else "OPAQUE"
        event([f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
               f"TRANSP:{transp}", "SUMMARY:All day"])
        count += transp == "OPAQUE"
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n", count


def run_cli(args: tuple[str, ...], out: Path) -> tuple[float, float, dict]:
    """Wall time and CPU time (user + system) of one `planner plan` process: on a shared machine the CPU time
    says what the command costs when the wall time also says how busy the machine was."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "planner", *args, "--json", str(out)], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"planner failed ({proc.returncode}): {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.read_text())


def p50(xs: list[float]) -> float:
    return statistics.median(xs)


def measure(runs: int) -> dict:
    text, busy_count = work_calendar()
    with tempfile.TemporaryDirectory() as tmp:
        cal = Path(tmp) / "work.ics"
        cal.write_text(text)
        out = Path(tmp) / "plan.json"
        cases = {
            "default plan, no calendar": BASE,
            TARGET_CASE: (*BASE, "--busy", str(cal)),
            WINDOWS_CASE: (*BASE, "--busy", str(cal), *WINDOWS),
        }
        results: dict[str, dict] = {name: {"wall": [], "cpu": [], "solve": [], "focus": []} for name in cases}
        load = os.getloadavg()[0]
        for _ in range(runs):  # interleaved, so a busy moment of the machine hits every case alike
            for name, args in cases.items():
                wall, cpu, plan = run_cli(args, out)
                results[name]["wall"].append(wall)
                results[name]["cpu"].append(cpu)
                results[name]["solve"].append(plan["summary"]["solver"]["seconds"])
                results[name]["focus"].append(plan["summary"]["solver"]["focus_seconds"])
                results[name]["plan"] = plan
        sys.path.insert(0, str(ROOT))
        from planner.busy import load_busy

        t0 = time.perf_counter()
        busy = load_busy([str(cal)], ZONE, START, START + dt.timedelta(days=365))
        read_year = time.perf_counter() - t0
        size = cal.stat().st_size
    load = max(load, os.getloadavg()[0])
    return {"results": results, "load": load, "busy_count": busy_count, "read_events": busy.events,
            "read_year_s": read_year, "bytes": size, "runs": runs}


def report(m: dict) -> str:
    lines = [MARK_BEGIN, "",
             f"Measured {dt.date.today()} on {platform.machine()} with Python {platform.python_version()} "
             f"(`python bench/busy.py`, {m['runs']} runs per case, interleaved; a shared 2-core machine, load "
             f"average {m['load']:.1f} while measuring).",
             "",
             f"Calendar: {m['busy_count']:,} busy events in the year from {START} ({m['bytes'] / 1e6:.2f} MB "
             f".ics): 24 weekly series with EXDATEs and moved instances, one-off meetings in UTC with "
             f"X-WR-TIMEZONE, tentative and cancelled ones, 40 all-day events (a quarter opaque). Reading one "
             f"year of it in-process: {m['read_year_s']:.2f} s ({m['read_events']:,} busy occurrences).",
             "",
             "| case | solve p50 s | focus pass p50 s | end to end p50 s | end to end runs s | CPU p50 s | finish "
             "| sessions |",
             "|---|---:|---:|---:|---|---:|---|---:|"]
    for name, r in m["results"].items():
        plan = r["plan"]
        lines.append(f"| {name} | {p50(r['solve']):.3f} | {p50(r['focus']):.3f} | {p50(r['wall']):.3f} | "
                     f"{', '.join(f'{x:.2f}' for x in r['wall'])} | {p50(r['cpu']):.3f} | "
                     f"{plan['summary']['finish']} | "
                     f"{plan['summary']['sessions']} |")
    lines.append("")
    target = m["results"][TARGET_CASE]
    solve, e2e = p50(target["solve"]), p50(target["wall"])
    ok_solve = "met" if solve <= TARGET_SOLVE_S else "**MISSED**"
    ok_e2e = "met" if e2e <= TARGET_E2E_S else "**MISSED**"
    windows = m["results"][WINDOWS_CASE]
    lines.append(f"Targets, for the default plan with the calendar: solve p50 ≤ {TARGET_SOLVE_S} s — {ok_solve} "
                 f"({solve:.3f} s); end to end p50 ≤ {TARGET_E2E_S} s — {ok_e2e} ({e2e:.3f} s). With study "
                 f"windows as well (not the default plan): solve {p50(windows['solve']):.3f} s, end to end "
                 f"{p50(windows['wall']):.3f} s; its wider days give the focus pass more loads to try "
                 f"({p50(windows['focus']):.3f} s against {p50(target['focus']):.3f} s).")
    base_cpu = p50(next(iter(m["results"].values()))["cpu"])
    extra = {name: p50(r["cpu"]) - base_cpu for name, r in m["results"].items()}
    lines.append("")
    base_wall = p50(next(iter(m["results"].values()))["wall"])
    wall = {name: p50(r["wall"]) - base_wall for name, r in m["results"].items()}
    lines.append("What the calendar adds to the command, in CPU time over the case without one: "
                 + "; ".join(f"{name}: {x:+.3f} s" for name, x in list(extra.items())[1:])
                 + ". In wall time, since the calendar is read in a child process while the solver loads: "
                 + "; ".join(f"{name}: {x:+.3f} s" for name, x in list(wall.items())[1:]) + ".")
    lines.append("")
    lines.append("Command: `python -m planner plan --background ml_background --hours-per-week 30 --start "
                 f"{START} --json <tmp>` plus `--busy work.ics` and `{' '.join(WINDOWS)}`.")
    lines += ["", MARK_END]
    return "\n".join(lines)


READ_BEGIN = "<!-- bench/busy.py reading: begin -->"
READ_END = "<!-- bench/busy.py reading: end -->"
READ_TARGET_MB_S = 5.0
READ_SIZE = int(os.environ.get("BENCH_BUSY_BYTES", "20000000"))  # the size cap of a busy calendar


def big_calendar(size: int, first: dt.date, years: int, seed: int = 19) -> tuple[str, int]:
    """An .ics of about `size` bytes, shaped like a long-kept Google work calendar: one-off meetings written in
    UTC with full descriptions over `years` years from `first`, and a weekly series every ~50 events (each a
    year long, with an EXDATE and a moved instance). Returns the text and the number of one-off events."""
    rng = random.Random(seed)
    out = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0",
           f"X-WR-TIMEZONE:{ZONE}"]
    total, n = 0, 0
    while total < size - 2000:
        day = first + dt.timedelta(days=rng.randrange(365 * years))
        begin = dt.datetime.combine(day, dt.time(rng.randrange(7, 19), rng.choice([0, 15, 30, 45])))
        end = begin + dt.timedelta(minutes=rng.choice([30, 45, 60, 90]))
        if n % 50 == 49:
            props = [f"DTSTART;TZID={ZONE}:{begin:%Y%m%dT%H%M%S}", f"DTEND;TZID={ZONE}:{end:%Y%m%dT%H%M%S}",
                     "RRULE:FREQ=WEEKLY;COUNT=52",
                     f"EXDATE;TZID={ZONE}:{begin + dt.timedelta(weeks=3):%Y%m%dT%H%M%S}"]
        else:
            props = [f"DTSTART:{begin:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}"]
        block = ["BEGIN:VEVENT", *props, "DTSTAMP:20261126T101500Z", f"UID:{n:08d}-big@example.org",
                 "CREATED:20170101T000000Z", "DESCRIPTION:Agenda: review the quarterly numbers and plan the next "
                 "steps with the team", "LAST-MODIFIED:20170101T000000Z", "LOCATION:Room 4.12", "SEQUENCE:0",
                 "STATUS:CONFIRMED", "SUMMARY:Meeting with the team", "TRANSP:OPAQUE", "END:VEVENT"]
        if n % 50 == 49:
            moved = begin + dt.timedelta(weeks=5)
            block += ["BEGIN:VEVENT", f"RECURRENCE-ID;TZID={ZONE}:{moved:%Y%m%dT%H%M%S}",
                      f"DTSTART;TZID={ZONE}:{moved + dt.timedelta(days=1):%Y%m%dT%H%M%S}",
                      f"DTEND;TZID={ZONE}:{moved + dt.timedelta(days=1, hours=1):%Y%m%dT%H%M%S}",
                      "DTSTAMP:20261126T101500Z", f"UID:{n:08d}-big@example.org", "END:VEVENT"]
        out.extend(block)
        total += sum(len(line) + 2 for line in block)
        n += 1
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n", n


def measure_reading(runs: int) -> dict:
    """MB/s of `load_busy` on 20 MB calendars, each read in a fresh process (nothing cached), CPU and wall."""
    horizon = 31 * 12 + 366  # the span a default plan reads (12 months and a year)
    cases = {"a decade of meetings, the plan's span inside it": (START - dt.timedelta(days=365 * 8), 10),
             "every event inside the plan's span": (START, 2)}
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (first, years) in cases.items():
            text, n = big_calendar(READ_SIZE, first, years)
            cal = Path(tmp) / "big.ics"
            cal.write_text(text)
            code = ("import datetime as dt, json, sys, time; from planner.busy import load_busy, parse_busy; "
                    "from zoneinfo import ZoneInfo; import planner.busy_parse, icalendar, recurring_ical_events, "
                    "x_wr_timezone, dateutil.rrule\n"
                    "t, c = time.perf_counter(), time.process_time()\n"
                    f"b = load_busy([{str(cal)!r}], {ZONE!r}, dt.date.fromisoformat({START.isoformat()!r}), "
                    f"dt.date.fromisoformat({(START + dt.timedelta(days=horizon)).isoformat()!r}))\n"
                    "w, u = time.perf_counter() - t, time.process_time() - c\n"
                    "data = open(sys.argv[1], 'rb').read(); t = time.perf_counter()\n"
                    f"parse_busy(data, {str(cal)!r}, 'busy', ZoneInfo({ZONE!r}), "
                    f"dt.date.fromisoformat({START.isoformat()!r}), "
                    f"dt.date.fromisoformat({(START + dt.timedelta(days=horizon)).isoformat()!r}))\n"
                    "print(json.dumps([w, u, time.perf_counter() - t, b.events, len(b.warnings)]))")
            walls, cpus, again = [], [], []
            for _ in range(runs):
                proc = subprocess.run([sys.executable, "-c", code, str(cal)], capture_output=True, text=True,
                                      cwd=ROOT, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
                if proc.returncode:
                    raise SystemExit(f"reading failed: {proc.stderr.strip()}")
                wall, cpu, cached, events, warnings = json.loads(proc.stdout)
                walls.append(wall)
                cpus.append(cpu)
                again.append(cached)
            out[name] = {"bytes": cal.stat().st_size, "events": n, "busy": events, "warnings": warnings,
                         "wall": walls, "cpu": cpus, "again": again}
    return {"cases": out, "runs": runs, "load": os.getloadavg()[0], "horizon": horizon}


def report_reading(m: dict) -> str:
    lines = [READ_BEGIN, "", f"Measured {dt.date.today()} on {platform.machine()} with Python "
             f"{platform.python_version()} (`python bench/busy.py --reading`, {m['runs']} runs each in a fresh "
             f"process; a shared 2-core machine, load average {m['load']:.1f}). The span read is the default "
             f"plan's: {m['horizon']} days from {START}.", "",
             "| calendar | size MB | events in the file | busy occurrences read | CPU p50 s | MB/s (CPU) | "
             "wall p50 s | MB/s (wall) | read again (cached) s |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    speeds = []
    for name, c in m["cases"].items():
        mb = c["bytes"] / 1e6
        cpu, wall = p50(c["cpu"]), p50(c["wall"])
        speeds.append(mb / cpu)
        lines.append(f"| {name} | {mb:.1f} | {c['events']:,} | {c['busy']:,} | {cpu:.2f} | {mb / cpu:.1f} | "
                     f"{wall:.2f} | {mb / wall:.1f} | {p50(c['again']):.4f} |")
    ok = "met" if speeds[0] >= READ_TARGET_MB_S else "**MISSED**"
    stress = "also met" if speeds[1] >= READ_TARGET_MB_S else "**not met** there"
    lines += ["", f"Target: ≥ {READ_TARGET_MB_S:g} MB/s of CPU time for a real calendar at the 20 MB cap (years of "
              f"history, the plan's span inside it), so it is read inside the 10 s every answer has — {ok} "
              f"({speeds[0]:.1f} MB/s). The second calendar is a stress case (75 events a day, every one parsed "
              f"and laid out): {speeds[1]:.1f} MB/s, the target {stress}. CPU time is the figure to go by on a "
              "shared machine; wall time also says how busy the machine was.", "", READ_END]
    return "\n".join(lines)


def _write_block(path: Path, block: str, begin: str, end: str) -> None:
    if path.exists() and begin in path.read_text():
        text = path.read_text()
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1] if end in rest else ""
        path.write_text(head + block + tail)
    elif path.exists():  # a document without the markers: add the block at its end, keep the rest
        path.write_text(path.read_text().rstrip("\n") + "\n\n" + block + "\n")
    else:
        path.write_text(block + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", type=Path, default=DOC)
    ap.add_argument("--reading", action="store_true", help="only the reading speed of 20 MB calendars")
    args = ap.parse_args()
    if not args.reading:
        block = report(measure(args.runs))
        _write_block(args.out, block, MARK_BEGIN, MARK_END)
        print(block)
    block = report_reading(measure_reading(min(args.runs, 3)))
    _write_block(args.out, block, READ_BEGIN, READ_END)
    print(block)


if __name__ == "__main__":
    main()
