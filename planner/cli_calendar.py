"""The calendar commands of `planner`: saved learners, their subscription feed, the feed server, CalDAV sync.

The database defaults to $PLANNER_DB (as the dashboard's). A CalDAV password is read from $PLANNER_CALDAV_PASSWORD
or typed at a prompt, never taken as a flag (flags end up in shell history and process lists) and never stored.
"""

from __future__ import annotations

import argparse
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


def _store(path: str | None, *, create: bool = True) -> Any:
    """The store at --db (its folder must exist: a typo makes no folders), else the default one. `create=False`:
    a missing file is a StoreError of kind MISSING and nothing is created (listing and the feed only read)."""
    from planner.store import Store

    return Store(Path(path).expanduser() if path else None, create=create, make_folder=not path)


def _database_error(exc: Any) -> int:
    """A store problem as one line on stderr, exit 2; a damaged file names the way out."""
    from planner.sqlite_db import DAMAGED

    way_out = " (run `planner learners --start-fresh` to set it aside and start anew with what still reads)" \
        if exc.kind == DAMAGED else ""
    print(f"planner: error: {exc}{way_out}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _read_plan(path: str, content: str | None) -> tuple[Any, dict[str, Any]]:
    """The plan (checked) and its JSON mapping; the content file is found by the plan's path id if not given."""
    from planner.planfile import read_plan_file

    return read_plan_file(path, content)


def _cmd_learners(args: argparse.Namespace) -> int:
    from planner.store import StoreError

    if args.learners_command == "add":
        return _cmd_learners_add(args)
    from planner.sqlite_db import MISSING
    from planner.store import default_db_path, set_aside_and_start_fresh, shown_name

    path = Path(args.db).expanduser() if args.db else default_db_path()
    try:
        store = _store(args.db, create=False)
        records = [store.load(name) for name in store.names()]
    except StoreError as exc:
        if exc.kind == MISSING and (path.parent.is_dir() or not args.db):
            print(f"no saved learners: no database at {path} yet")
            return EXIT_OK
        if args.start_fresh and exc.fixable:
            aside, kept = set_aside_and_start_fresh(path)
            print(f"set {path} aside as {aside.name}; {len(kept)} learner(s) carried over to a fresh database "
                  f"(feed links and sync records too)")
            return EXIT_OK
        return _database_error(exc)
    if args.start_fresh:
        print(f"{store.path} is readable; nothing to set aside")
    if not records:
        print(f"no saved learners in {store.path}")
        return EXIT_OK
    for rec in records:
        if rec is None:
            continue
        if rec.plan is None:
            what = "no plan (the last inputs did not fit)"
        else:
            sessions = [s for s in rec.plan.get("sessions") or [] if isinstance(s, dict)]
            live = [s for s in sessions if s.get("status") != "cancelled"]
            summary = rec.plan.get("summary") if isinstance(rec.plan.get("summary"), dict) else {}
            what = f"{len(live)} sessions, {summary.get('start', '?')} to {summary.get('finish', '?')}"
            done = sum(1 for s in live if s.get("status") == "done")
            missed = sum(1 for s in live if s.get("status") == "missed")
            if done or missed:  # progress is what the learner recorded, not how the plan was saved
                what += f", {done} done" + (f", {missed} missed" if missed else "")
        recheck = store.rechecks(rec.name)
        if recheck:  # restored from a backup without being read
            what += f", {len(recheck)} busy calendar(s) to re-check"
        when = rec.updated_at[:16].replace("T", " ")
        # tab-separated: names may hold spaces; odd characters print escaped, never raw to the terminal
        print(f"{shown_name(rec.name)}\tversion {rec.version}\t{what}\tsaved {when} UTC")
    return EXIT_OK


def _cmd_learners_add(args: argparse.Namespace) -> int:
    from planner.curriculum import default_content_path
    from planner.profile import mapping_from_dict
    from planner.store import StoreError, shown_name
    from planner.yamlio import read_text

    plan, data = _read_plan(args.plan_file, args.content)
    content = None
    if args.content and Path(args.content).resolve().parent != default_content_path().parent.resolve():
        # a learning path not shipped with the planner: keep it with the plan, so the feed can read the plan
        # even after the file has moved
        content = (str(Path(args.content).resolve()), read_text(args.content, "--content"))
    try:
        store = _store(args.add_db or args.db)
        learner = store.save(args.name, mapping_from_dict(data["profile"]), data, tracked=True, content=content)
    except StoreError as exc:
        return _database_error(exc)
    print(f"saved learner '{shown_name(learner.name)}': {len(plan.active_sessions)} sessions, {plan.profile.start} "
          f"to {plan.finish} ({store.path})")
    return EXIT_OK


def _cmd_feed(args: argparse.Namespace) -> int:
    from planner.feedtokens import feed_path, rotate_token
    from planner.sqlite_db import MISSING, DatabaseFileError
    from planner.store import shown_name

    if args.base and not args.base.startswith(("http://", "https://")):
        raise InputError("--base", "expected an http:// or https:// address")
    try:
        store = _store(args.db, create=False)
        path = rotate_token(store, args.name) if args.rotate else feed_path(store, args.name)
    except DatabaseFileError as exc:
        if exc.kind == MISSING and exc.path.parent.is_dir():
            raise InputError("learner", f"no saved learner '{shown_name(args.name)}' (no database at {exc.path} "
                                        f"yet)") from None
        return _database_error(exc)
    if args.base:
        print(args.base.rstrip("/") + path)
    else:
        print(path)
    if args.rotate:
        print("the previous feed URL no longer works; subscribe again with this one", file=sys.stderr)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from planner.feed import DEFAULT_HOST, DEFAULT_PORT, create_app, serve

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
    from planner.sqlite_db import DatabaseFileError

    try:
        store = _store(args.db)
        app = create_app(store.path)
    except DatabaseFileError as exc:
        return _database_error(exc)
    print(f"serving subscription feeds from {store.path} on http://{host}:{port}/feed/<token>.ics "
          f"(Ctrl+C stops)", flush=True)
    serve(app, host, port)
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
    from planner.caldav_sync import SyncError, calendar_address, check_folder, sync_plan

    try:
        address = calendar_address(args.caldav)
        if args.db:  # before the password is asked for: a typo in the folder makes nothing
            check_folder(Path(args.db).expanduser(), make_folder=False)
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
