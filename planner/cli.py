"""The `planner` command: plan a learning path, check a content file. Exit 0 ok, 2 bad input, 3 infeasible."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from planner.cli_calendar import COMMANDS as CALENDAR_COMMANDS
from planner.cli_calendar import add_parsers as add_calendar_parsers
from planner.cli_calendar import run as run_calendar
from planner.errors import InputError, one_line

EXIT_OK, EXIT_BAD_INPUT, EXIT_INFEASIBLE = 0, 2, 3

# profile field -> the flag that sets it, so errors name what the learner typed
FLAG_FOR = {
    "background": "--background", "hours_per_week": "--hours-per-week", "start": "--start", "days": "--days",
    "day_hours": "--day-hours", "timezone": "--timezone", "session_start": "--session-start",
    "blackouts": "--blackout", "holidays": "--holidays", "skip": "--skip", "electives": "--elective",
    "max_session_hours": "--max-session-hours", "reminder_minutes": "--reminder",
    "windows": "--window", "busy": "--busy", "all_day_events": "--all-day-events",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"planner: error: {one_line(message)}\n")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="planner", description="Personal study plans that finish inside your path's month range.")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    plan = sub.add_parser("plan", help="make a dated study plan")
    plan.add_argument("--content", help="learning-path YAML (default: the ML & AI Engineer path)")
    plan.add_argument("--profile", help="profile YAML; flags override its fields")
    plan.add_argument("--background")
    plan.add_argument("--hours-per-week", dest="hours_per_week")
    plan.add_argument("--start", help="YYYY-MM-DD (default: next Monday)")
    plan.add_argument("--days", help="study weekdays, e.g. mon,tue,thu,sat (default: every day)")
    plan.add_argument("--day-hours", dest="day_hours", help="hours per weekday, e.g. mon=1.5,sat=4")
    plan.add_argument("--timezone", help="IANA timezone, e.g. Europe/Berlin (default: UTC)")
    plan.add_argument("--session-start", dest="session_start",
                      help="HH:MM for every day, or per day: mon=18:30,sat=09:00")
    plan.add_argument("--blackout", dest="blackouts", action="append", help="YYYY-MM-DD..YYYY-MM-DD (repeatable)")
    plan.add_argument("--holidays", help="public holidays of a country (DE, US, GB, DE-BY, ...)")
    plan.add_argument("--skip", action="append", help="topic id you already know (repeatable)")
    plan.add_argument("--elective", dest="electives", action="append", help="elective id to add (repeatable)")
    plan.add_argument("--max-session-hours", dest="max_session_hours")
    plan.add_argument("--reminder", dest="reminder_minutes", help="minutes before a session; 'off' for none")
    plan.add_argument("--window", dest="windows", action="append", metavar="DAYS=HH:MM-HH:MM[,HH:MM-HH:MM]",
                      help="study window, e.g. mon-fri=18:30-22:00 or sat,sun=09:00-12:00,14:00-17:00 (repeatable)")
    plan.add_argument("--busy", action="append", metavar="SOURCE",
                      help="a calendar to plan around: .ics file or http(s) URL (repeatable)")
    plan.add_argument("--all-day-events", dest="all_day_events", choices=("busy", "free"),
                      help="whether all-day events in --busy calendars block the day (default: busy)")
    plan.add_argument("--calendar-name", dest="calendar_name")
    plan.add_argument("--json", dest="json_out")
    plan.add_argument("--ics", dest="ics_out")
    plan.add_argument("--csv", dest="csv_out")
    mark = sub.add_parser("mark", help="record progress in a plan JSON file (rewritten atomically)")
    mark.add_argument("plan_file", metavar="PLAN.json")
    mark.add_argument("--content", help="the plan's learning-path YAML (default: the ML & AI Engineer path)")
    what = mark.add_mutually_exclusive_group(required=True)
    what.add_argument("--done", nargs="+", metavar="UID")
    what.add_argument("--missed", nargs="+", metavar="UID")
    what.add_argument("--done-through", dest="done_through", metavar="YYYY-MM-DD")
    what.add_argument("--topic-done", dest="topic_done", nargs="+", metavar="TOPIC_ID[=HOURS]",
                      help="topic finished; HOURS: the real time it took in all (default: the hours done on it)")
    what.add_argument("--more-hours", dest="more_hours", nargs="+", metavar="TOPIC_ID=HOURS",
                      help="its sessions are done but it needs HOURS more: the next re-plan schedules them")
    mark.add_argument("--partial", type=str, default=None, help="with --missed: hours studied anyway")
    mark.add_argument("--hours", type=str, default=None,
                      help="with --done: the time each session really took (default: as planned)")
    mark.add_argument("--rating", choices=("again", "hard", "good", "easy"), default=None,
                      help="with --done, on a review or a topic's last session: how well you recalled it "
                           "(default: good); sets when the next review is due")
    replan = sub.add_parser("replan", help="regenerate the plan from today, keeping what is done")
    replan.add_argument("plan_file", metavar="PLAN.json")
    replan.add_argument("--today", required=True, metavar="YYYY-MM-DD")
    replan.add_argument("--content", help="the plan's learning-path YAML (default: the ML & AI Engineer path)")
    replan.add_argument("--done-through", dest="done_through", metavar="YYYY-MM-DD")
    replan.add_argument("--allow-late", dest="allow_late", action="store_true",
                        help="accept a finish after the range's end")
    replan.add_argument("--hours-per-week", dest="hours_per_week", help="new weekly hours from today on")
    replan.add_argument("--keep-buffer", dest="keep_buffer", action="store_true",
                        help="catch up without the free share of each week (buffer_percent); it stays free")
    replan.add_argument("--cut-reviews", dest="cut_reviews", action="store_true",
                        help="give spaced reviews only the time study leaves (the summary says how many go)")
    replan.add_argument("--drop", action="append", metavar="TOPIC_ID", help="drop an optional topic (repeatable)")
    replan.add_argument("--busy-drop", dest="busy_drop", action="append", metavar="SOURCE",
                        help="plan without this busy calendar, as the plan or an error shows it (repeatable)")
    replan.add_argument("--busy-replace", dest="busy_replace", action="append", metavar="OLD=NEW",
                        help="read this busy calendar from a new file or address from now on (repeatable)")
    replan.add_argument("--pace", choices=("plan", "measured"), default="plan",
                        help="plan open topics at the path's hours (plan, default) or at your measured pace")
    replan.add_argument("--json", dest="json_out")
    replan.add_argument("--ics", dest="ics_out")
    replan.add_argument("--csv", dest="csv_out")
    fc = sub.add_parser("forecast", help="when you will really finish, with the odds, at your measured pace")
    fc.add_argument("plan_file", metavar="PLAN.json")
    fc.add_argument("--today", metavar="YYYY-MM-DD", help="forecast as of this day (default: the plan's last "
                                                          "recorded day)")
    fc.add_argument("--content", help="the plan's learning-path YAML (default: the ML & AI Engineer path)")
    fc.add_argument("--json", dest="json_out", help="write the forecast as JSON")
    check = sub.add_parser("check", help="validate a learning-path YAML file")
    check.add_argument("path")
    batch = sub.add_parser("batch", help="plan a cohort: one CSV row per learner, on a process pool or Ray")
    batch.add_argument("learners", metavar="LEARNERS.csv", nargs="?",
                       help="header: name and profile fields; lists as a;b")
    batch.add_argument("--out", required=True, metavar="DIR", help="<name>.json, <name>.ics and summary.csv")
    batch.add_argument("--content", help="learning-path YAML (default: the ML & AI Engineer path)")
    batch.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    batch.add_argument("--engine", choices=("local", "ray"), default="local")
    batch.add_argument("--ray-address", dest="ray_address", metavar="ADDR", help="a Ray cluster's head, e.g. auto")
    batch.add_argument("--resume", action="store_true", help="keep learners whose profile has not changed")
    batch.add_argument("--replan", metavar="DIR", help="re-plan every saved plan in DIR (marks kept) into --out")
    batch.add_argument("--db", metavar="STORE", help="re-plan the dashboard's learners in this database (new "
                                                     "versions) and write summary.csv into --out")
    batch.add_argument("--today", metavar="YYYY-MM-DD", help="with --replan or --db: the day the re-plans start")
    add_calendar_parsers(sub)  # learners, feed, serve, sync
    return ap


def _profile_data(args: argparse.Namespace) -> tuple[dict[str, Any], set[str], dict[str, int]]:
    from planner.yamlio import MAX_PROFILE_BYTES, LineDict, load_yaml_file

    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if args.profile:
        raw = load_yaml_file(args.profile, "--profile", MAX_PROFILE_BYTES)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InputError("--profile", f"{args.profile} must hold a mapping of profile fields")
        data.update(raw)
        if isinstance(raw, LineDict):
            lines = {k: raw.line_of(k) for k in raw}
        if isinstance(raw.get("busy"), list | str):  # calendar files named in a profile are found next to it
            from pathlib import Path

            from planner.profile import normalise_source

            items = raw["busy"] if isinstance(raw["busy"], list) else [raw["busy"]]
            base = Path(args.profile).resolve().parent
            data["busy"] = [normalise_source(v, f"busy[{i}]", base) for i, v in enumerate(items)]
    from_flags = set()
    for key in FLAG_FOR:
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
            from_flags.add(key)
    return data, from_flags, lines


def _cmd_plan(args: argparse.Namespace) -> int:
    from planner.curriculum import default_content_path, load_curriculum
    from planner.profile import profile_from_mapping

    inputs = [("--content", args.content or str(default_content_path()))]  # the shipped path is an input too
    inputs += [("--profile", args.profile)] if args.profile else []
    outputs = _output_paths(args, inputs=inputs + _busy_inputs(args.busy or (), "--busy"))
    calendar_name = _calendar_name(args.calendar_name)
    data, from_flags, lines = _profile_data(args)
    curriculum = load_curriculum(args.content or default_content_path())
    with _named_by_input(args, from_flags, lines):
        profile = profile_from_mapping(data, curriculum)  # the fields only: calendars are read next
    if profile.busy_sources:  # the profile's calendars too (found beside it): before anything is read or planned
        _output_paths(args, inputs=inputs + _busy_inputs(profile.busy_sources, "--busy"))
    reading = None
    if profile.busy_sources:  # read in a child process while this one loads the solver
        from planner.busy import BackgroundRead, busy_horizon

        months = curriculum.background(profile.background).months_max
        reading = BackgroundRead(profile.busy_sources, profile.timezone, profile.start,
                                 busy_horizon(profile.start, months))
    # the solver (ortools, pandas: ~0.5 s) is loaded only once the input is known good, so bad input answers at once
    from planner.solve import Infeasible, make_plan
    from planner.summary import plan_summary
    from planner.validate import validate_plan

    if reading is not None:
        from dataclasses import replace

        with _named_by_input(args, from_flags, lines):
            profile = replace(profile, busy=reading.result())
        _print_busy_warnings(profile.busy)
    result = make_plan(curriculum, profile)
    if isinstance(result, Infeasible):
        print(result.message(), file=sys.stderr)
        return EXIT_INFEASIBLE
    problems = validate_plan(result)
    if problems:  # never hand a learner a plan that breaks their rules
        print("planner: internal error: the plan breaks a rule: " + str(problems[0]), file=sys.stderr)
        return 1
    written = _write_outputs(outputs, result, calendar_name)
    print(plan_summary(result))
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _print_busy_warnings(busy: Any) -> None:
    """Events of a busy calendar that could not be read (skipped, `file:line`) and zones guessed: on stderr,
    so the learner knows which commitments the plan does not see."""
    for warning in busy.warnings if busy is not None else ():
        print(f"planner: warning: {warning}", file=sys.stderr)


@contextmanager
def _named_by_input(args: argparse.Namespace, from_flags: set[str], lines: dict[str, int]) -> Iterator[None]:
    """An InputError named as the learner wrote the value: the flag (`--busy[1]`) or the profile's file:line."""
    try:
        yield
    except InputError as exc:
        base = exc.field.split(".")[0].split("[")[0]
        if base in from_flags:
            exc.field = FLAG_FOR[base] + exc.field[len(base):]
        elif args.profile and exc.source is None:
            exc.source, exc.line = args.profile, lines.get(base)
        raise


def _output_paths(args: argparse.Namespace, inputs: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(kind, path) of every requested output, checked before any work: a bad path fails fast and changes nothing,
    and no output is one of the command's input files (`inputs`: (what it is, path))."""
    from planner.atomic import check_outputs

    outputs = [(kind, path) for kind, path in (("json", args.json_out), ("ics", args.ics_out),
                                               ("csv", args.csv_out)) if path is not None]
    check_outputs([(f"--{kind}", path) for kind, path in outputs], inputs)
    return outputs


def _busy_inputs(sources: Sequence[str], what: str) -> list[tuple[str, str]]:
    """The calendar files among busy sources (addresses are not files), as inputs no output may overwrite."""
    from planner.busy import is_url

    return [(what, source) for source in sources if source and not is_url(source) and "://" not in source]


def _write_outputs(outputs: list[tuple[str, str]], plan: Any, calendar_name: str | None = None) -> list[str]:
    """Render every file first, then write them all or none (planner.atomic.write_all)."""
    from planner.atomic import write_all

    rendered: list[tuple[str, bytes]] = []
    for kind, path in outputs:  # each writer imported only when asked for (icalendar takes ~0.1 s to load)
        if kind == "json":
            from planner.export.json import plan_to_json
            rendered.append((path, plan_to_json(plan)))
        elif kind == "ics":
            from planner.export.ics import plan_to_ics
            rendered.append((path, plan_to_ics(plan, calendar_name=calendar_name)))
        else:
            from planner.export.csv import plan_to_csv
            rendered.append((path, plan_to_csv(plan)))
    write_all(rendered)
    return [path for path, _ in rendered]


MAX_CALENDAR_NAME = 100


def _calendar_name(value: str | None) -> str | None:
    """A calendar name is one line of printable text: calendar apps show it in a single-line list."""
    if value is None:
        return None
    name = value.strip()
    if not name or not name.isprintable() or len(name) > MAX_CALENDAR_NAME:
        raise InputError("--calendar-name", f"use up to {MAX_CALENDAR_NAME} printable characters on one line, "
                                            f"got {value!r}")
    return name


def _load_plan_and_content(args: argparse.Namespace) -> tuple[Any, Any]:
    from planner.curriculum import default_content_path, load_curriculum
    from planner.planfile import load_plan, lock_plan

    curriculum = load_curriculum(args.content or default_content_path())
    with lock_plan(args.plan_file, shared=True):  # a `mark` changing the file finishes first, or waits for this read
        return load_plan(args.plan_file, curriculum), curriculum


def _cmd_mark(args: argparse.Namespace) -> int:
    from planner.atomic import write_atomic
    from planner.curriculum import default_content_path, load_curriculum
    from planner.export import plan_to_json
    from planner.planfile import load_plan, lock_plan
    from planner.profile import parse_date, parse_hours
    from planner.progress import mark_done, mark_done_through, mark_missed, mark_topic_done
    from planner.totals import plan_totals

    if args.hours is not None and not args.done:
        raise InputError("--hours", "goes with --done (the time the session really took)")
    if args.rating is not None and not args.done:
        raise InputError("--rating", "goes with --done (how well a review or a topic's last session went)")
    curriculum = load_curriculum(args.content or default_content_path())
    real = parse_hours(args.hours, "--hours", hi=24) if args.done and args.hours is not None else None
    partial = parse_hours(args.partial, "--partial", allow_zero=True, hi=24) if args.missed and args.partial \
        else 0.0
    through = parse_date(args.done_through, "--done-through") if args.done_through else None
    more = _topic_hours(args.more_hours, "--more-hours", required=True) if args.more_hours else None
    given = _topic_hours(args.topic_done, "--topic-done", required=False) if args.topic_done else None
    with lock_plan(args.plan_file):  # read, tick and rewrite in one turn: a second `mark` waits, no tick is lost
        plan = load_plan(args.plan_file, curriculum)
        if args.done:
            plan = mark_done(plan, args.done, real, rating=args.rating)
        elif more is not None:
            from planner.progress import mark_more_hours

            plan = mark_more_hours(plan, more)
        elif args.missed:
            plan = mark_missed(plan, args.missed, partial)
        elif through is not None:
            plan = mark_done_through(plan, through)
        else:
            assert given is not None
            plan = mark_topic_done(plan, list(given), {k: v for k, v in given.items() if v is not None})
        write_atomic(args.plan_file, plan_to_json(plan))
    print(f"{args.plan_file}: {plan_totals(plan).text()}")
    return EXIT_OK


def _topic_hours(items: Sequence[str], flag: str, *, required: bool) -> dict[str, Any]:
    """`ID=HOURS` (or a bare `ID` when the hours are optional) per item, hours checked; an id given twice is
    refused, as a repeated key is everywhere else."""
    from planner.profile import parse_hours

    out: dict[str, Any] = {}
    for item in items:
        tid, eq, text = item.partition("=")
        tid = tid.strip()
        if not tid or (required and not eq):
            raise InputError(flag, f"expected TOPIC_ID=HOURS, got {item!r}")
        if tid in out:
            raise InputError(flag, f"topic '{tid}' given twice")
        out[tid] = parse_hours(text, f"{flag} {tid}", hi=100_000,
                               allow_zero=not required) if eq else None
    return out


def _cmd_forecast(args: argparse.Namespace) -> int:
    import json

    from planner.atomic import check_outputs, write_all
    from planner.forecast import forecast
    from planner.profile import parse_date

    if args.json_out:
        check_outputs([args.json_out], [p for p in (args.content, args.plan_file) if p])
    plan, _ = _load_plan_and_content(args)
    today = parse_date(args.today, "--today") if args.today else None
    result = forecast(plan, today)
    if args.json_out:
        write_all([(args.json_out, (json.dumps(result.to_dict(), indent=2) + "\n").encode("utf-8"))])
    print(result.text())
    if args.json_out:
        print(f"wrote {args.json_out}")
    return EXIT_OK


def _cmd_replan(args: argparse.Namespace) -> int:
    from planner.curriculum import default_content_path
    from planner.profile import parse_date, parse_hours
    from planner.progress import mark_done_through
    from planner.replan import CatchUpMenu, price_of, replan
    from planner.validate import validate_plan

    inputs = [("PLAN.json, the plan being re-planned", args.plan_file),
              ("--content", args.content or str(default_content_path()))]
    outputs = _output_paths(args, inputs=inputs)
    plan, curriculum = _load_plan_and_content(args)
    if plan.profile.busy_sources:  # the calendars the re-plan reads again are inputs too
        _output_paths(args, inputs=inputs + _busy_inputs(plan.profile.busy_sources, "the plan's busy calendar"))
    today = parse_date(args.today, "--today")
    if args.done_through:
        plan = mark_done_through(plan, parse_date(args.done_through, "--done-through"))
    hours = parse_hours(args.hours_per_week, "--hours-per-week", lo=0.5) if args.hours_per_week else None
    drop = tuple(args.drop or ())
    for tid in drop:
        known = {t.id: t for t in plan.requirements.topics}
        if tid not in known:
            raise InputError("--drop", f"unknown topic '{tid}' in this plan")
        if not known[tid].optional:
            raise InputError("--drop", f"'{tid}' is required by the path, not optional")
    from planner.replan import parse_busy_replace

    busy_replace = tuple(parse_busy_replace(v, plan.profile.busy_sources) for v in args.busy_replace or ())
    if busy_replace:  # a replacement calendar file is an input too
        _output_paths(args, inputs=inputs + _busy_inputs([new for _, new in busy_replace], "--busy-replace"))
    pace = None
    if args.pace == "measured":  # open topics at estimate × the learner's multiplier; the menu at that pace too
        from planner.pace import measure_pace

        pace = measure_pace(plan)
        print(f"Planning at your pace: {pace.text()}")
    result = replan(curriculum, plan, today, allow_late=args.allow_late, drop=drop, hours_per_week=hours,
                    busy_drop=tuple(args.busy_drop or ()), busy_replace=busy_replace, pace=pace,
                    keep_buffer=args.keep_buffer, cut_reviews=args.cut_reviews)
    if isinstance(result, CatchUpMenu):
        print(result.message(), file=sys.stderr)
        return EXIT_INFEASIBLE
    problems = [p for p in validate_plan(result.plan) if not (args.allow_late and p.rule == "month-range")]
    if problems:
        print("planner: internal error: the new plan breaks a rule: " + str(problems[0]), file=sys.stderr)
        return 1
    _print_busy_warnings(result.plan.profile.busy)
    written = _write_outputs(outputs, result.plan)
    print(result.diff.text())
    print(price_of(plan, result.plan, today).sentence())
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from planner.curriculum import load_curriculum

    c = load_curriculum(args.path)
    timed = [p for p in c.phases if p.weeks is not None]
    extra = [p for p in c.phases if p.weeks is None]
    parts = [f"{len(timed)} phases with {sum(len(p.topic_ids) for p in timed)} topics"]
    parts += [f"{p.title.lower()} ({len(p.topic_ids)} topics)" for p in extra]
    print(f"{args.path}: ok — {c.display_name}: " + ", ".join(parts)
          + f"; {len(c.electives)} electives, {len(c.checklist)} checklist items; backgrounds "
          + ", ".join(f"{b.key} ({b.months_min}-{b.months_max} months)" for b in c.backgrounds))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "plan":
            return _cmd_plan(args)
        if args.command == "mark":
            return _cmd_mark(args)
        if args.command == "replan":
            return _cmd_replan(args)
        if args.command == "forecast":
            return _cmd_forecast(args)
        if args.command == "batch":
            from planner.batch import run_batch

            return run_batch(args)
        if args.command in CALENDAR_COMMANDS:
            return run_calendar(args)
        return _cmd_check(args)
    except InputError as exc:
        print(f"planner: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
