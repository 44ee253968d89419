"""The calendar commands of `planner`: saved learners, their subscription feed, the feed server, CalDAV sync.

The database defaults to $PLANNER_DB (as the dashboard's). A CalDAV password is read from $PLANNER_CALDAV_PASSWORD
or typed at a prompt, never taken as a flag (flags end up in shell history and process lists) and never stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from planner.errors import InputError, one_line

COMMANDS = ("learners", "feed", "serve", "sync")
EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parsers(sub: Any) -> None:
    learners = sub.add_parser("learners", help="list saved learners (`learners add` saves a plan as a learner)")
    learners.add_argument("--db", help="database file (default: $PLANNER_DB, as the dashboard)")
    learners.add_argument("--start-fresh", action="store_true",
                          help="set a damaged database aside (as *.corrupt) and start anew with what is readable")
    what = learners.add_subparsers(dest="learners_command", required=False, parser_class=type(learners))
    add = what.add_parser("add", help="save (or replace) a learner's plan")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--plan", dest="plan_file", required=True, metavar="PLAN.json")
    add.add_argument("--content", help="the plan's learning-path YAML (default: found by the plan's path id)")
    add.add_argument("--db", dest="add_db", help="database file (default: $PLANNER_DB)")
    feed = sub.add_parser("feed", help="print a saved learner's subscription feed path")
    feed.add_argument("name", metavar="NAME")
    feed.add_argument("--db", help="database file (default: $PLANNER_DB)")
    feed.add_argument("--rotate", action="store_true", help="make a new secret URL; the old one stops working")
    feed.add_argument("--base", help="print the whole URL at this address, e.g. https://plans.example.org")
    serve = sub.add_parser("serve", help="run the subscription feed server")
    serve.add_argument("--db", help="database file (default: $PLANNER_DB)")
    serve.add_argument("--host", default=None, help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", default=None, help="port (default: 8502)")
    sync = sub.add_parser("sync", help="make a CalDAV calendar hold the plan (password: $PLANNER_CALDAV_PASSWORD "
                                       "or a prompt)")
    sync.add_argument("plan_file", metavar="PLAN.json")
    sync.add_argument("--caldav", required=True, metavar="URL", help="the calendar's URL on the CalDAV server")
    sync.add_argument("--user", help="user name on the CalDAV server")
    sync.add_argument("--content", help="the plan's learning-path YAML (default: found by the plan's path id)")
    sync.add_argument("--db", help="database file keeping the sync state (default: $PLANNER_DB)")
    sync.add_argument("--restore", action="store_true",
                      help="put back, as the plan has them, sessions you changed or deleted in your calendar app "
                           "(by default they are kept as you left them and listed)")


def _store(path: str | None) -> Any:
    from planner.store import Store

    return Store(Path(path).expanduser() if path else None)


def _read_plan(path: str, content: str | None) -> tuple[Any, dict[str, Any]]:
    """The plan (checked) and its JSON mapping; the content file is found by the plan's path id if not given."""
    from planner.curriculum import load_curriculum
    from planner.export.json import MAX_PLAN_BYTES, plan_from_dict
    from planner.feed import curriculum_for_id
    from planner.yamlio import read_text

    text = read_text(path, "plan", max_bytes=MAX_PLAN_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(str(path), "not a plan file (JSON nested too deeply)") from None
    if content:
        curriculum = load_curriculum(content)
    else:
        path_id = data.get("path", {}).get("id") if isinstance(data, dict) and isinstance(data.get("path"), dict) \
            else None
        if not isinstance(path_id, str):
            raise InputError(f"{path}: path.id", "missing: not a plan file")
        curriculum = curriculum_for_id(path_id)
    return plan_from_dict(data, curriculum, str(path)), data


def _cmd_learners(args: argparse.Namespace) -> int:
    if args.learners_command == "add":
        from planner.profile import mapping_from_dict

        store = _store(args.add_db or args.db)
        plan, data = _read_plan(args.plan_file, args.content)
        learner = store.save(args.name, mapping_from_dict(data["profile"]), data, tracked=True)
        print(f"saved learner '{learner.name}': {len(plan.active_sessions)} sessions, {plan.profile.start} to "
              f"{plan.finish} ({store.path})")
        return EXIT_OK
    from planner.store import StoreError, learners_command

    try:
        store = _store(args.db)
        names = store.names()
        records = [store.load(name) for name in names]
    except StoreError:  # damaged: one line and the way out (`--start-fresh`)
        return learners_command(args.db, args.start_fresh)
    if args.start_fresh:
        print(f"{store.path} is readable; nothing to set aside")
    if not names:
        print(f"no saved learners in {store.path}")
        return EXIT_OK
    rows = []
    for rec in records:
        if rec is None:
            continue
        if rec.plan is None:
            what = "no plan (the last inputs did not fit)"
        else:
            sessions = [s for s in rec.plan.get("sessions", []) if s.get("status") != "cancelled"]
            summary = rec.plan.get("summary") or {}
            what = f"{len(sessions)} sessions, {summary.get('start', '?')} to {summary.get('finish', '?')}"
        if rec.tracked:
            what += ", with progress"
        rows.append((rec.name, f"version {rec.version}", what, rec.updated_at[:16].replace("T", " ")))
    for name, version, what, when in rows:  # tab-separated: names may hold spaces
        print(f"{name}\t{version}\t{what}\tsaved {when} UTC")
    return EXIT_OK


def _cmd_feed(args: argparse.Namespace) -> int:
    from planner.feedtokens import feed_path, rotate_token

    store = _store(args.db)
    path = rotate_token(store, args.name) if args.rotate else feed_path(store, args.name)
    if args.base:
        if not args.base.startswith(("http://", "https://")):
            raise InputError("--base", "expected an http:// or https:// address")
        print(args.base.rstrip("/") + path)
    else:
        print(path)
    if args.rotate:
        print("the previous feed URL no longer works; subscribe again with this one", file=sys.stderr)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from planner.feed import DEFAULT_HOST, DEFAULT_PORT, serve

    host = args.host or DEFAULT_HOST
    try:
        port = int(args.port) if args.port is not None else DEFAULT_PORT
    except ValueError:
        raise InputError("--port", f"'{args.port}' is not a port number") from None
    if not 0 < port < 65536:
        raise InputError("--port", f"{port} is not a port number (1-65535)")
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError("--port", f"cannot listen on {host}:{port} ({exc.strerror})") from None
    store = _store(args.db)
    print(f"serving subscription feeds from {store.path} on http://{host}:{port}/feed/<token>.ics "
          f"(Ctrl+C stops)", flush=True)
    serve(store.path, host, port)
    return EXIT_OK


def _password(user: str | None) -> str | None:
    from planner.caldav_sync import PASSWORD_ENV

    if not user:
        return None
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        raise InputError("password", f"set {PASSWORD_ENV} (no terminal to ask on)")
    import getpass

    return getpass.getpass(f"CalDAV password for {user}: ")


def _cmd_sync(args: argparse.Namespace) -> int:
    from planner.caldav_sync import SyncError, calendar_address, sync_plan

    try:
        address = calendar_address(args.caldav)
        plan, _ = _read_plan(args.plan_file, args.content)
        user = args.user or address.user
        result = sync_plan(plan, args.caldav, user, _password(user),
                           db=Path(args.db).expanduser() if args.db else None, restore=args.restore)
    except SyncError as exc:
        print(f"planner: sync: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{result.text()} ({result.calendar}, {result.seconds:.1f} s)")
    for line in result.notes():
        print(one_line(line))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.command == "learners":
        return _cmd_learners(args)
    if args.command == "feed":
        return _cmd_feed(args)
    if args.command == "serve":
        return _cmd_serve(args)
    return _cmd_sync(args)
