"""Reading a plan file back: the one reader behind `mark`, `replan`, `learners add`, `sync`, the feed and imports.

A plan JSON is the learner's file: hand-edited, half-copied or years old. Every guard lives here, so no command can
read a plan another way: strict JSON (no NaN or Infinity, numbers of at most 30 digits, nesting at most 64 deep,
at most 20 MB), every field checked with a message naming its path (`plan.json: sessions[12].start: …`),
prerequisites (no topic requires itself, an unknown or a circular one), known kinds, ordinals present and unique
per topic, dates within 2000–2110. Anything wrong is an InputError, never another exception; anything the planner
writes reads back (tests/test_plan_reader.py).

`lock_plan` serialises the commands that read and rewrite one plan file (`mark`), so no tick is lost to a second
process changing the file at the same moment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import math
import os
import re
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from planner.curriculum import MAX_TIMELINE_MONTHS, Curriculum, curriculum_for_id
from planner.errors import InputError
from planner.plan import (
    SESSION_KINDS,
    SESSION_STATUSES,
    PhaseInfo,
    Plan,
    Session,
    SolverInfo,
    TopicProgress,
    checklist_milestones,
)
from planner.profile import BLOCK_MINUTES, MAX_DATE, MIN_DATE, profile_from_dict
from planner.requirements import Requirements, TopicReq

FORMAT = "planner.plan/1"
MAX_PLAN_BYTES = 20_000_000
MAX_TOPIC_HOURS = 10_000  # far above any real topic; keeps hand-edited hours from overflowing the block count
MAX_SEQUENCE = 1_000_000  # an event's SEQUENCE grows by one per re-plan; RFC 5545 allows at most 2**31 - 1
MAX_JSON_DIGITS = 30
MAX_DEPTH = 64  # a plan nests 5 deep; anything far deeper is not a plan
MAX_ORDINAL = 100_000
MAX_SESSION_HOURS = 25  # no session crosses midnight: at most a day, and a day of a clock change is 25 h
TOPIC_KINDS = ("study", "project", "checkpoint")
LOCK_WAIT_S = 60.0  # a mark holds the lock well under a second; six at once on a busy machine, a few seconds
_LIMIT = 10 ** MAX_JSON_DIGITS
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# ------------------------------------------------------------------ JSON, strictly
def parse_plan_json(text: str, source: str) -> Any:
    """JSON as a plan may hold it: finite numbers of at most 30 digits, no NaN/Infinity, not nested past 64."""

    def no_constant(name: str) -> Any:
        raise InputError(source, f"not a plan file: {name} is not a number a plan can hold")

    def finite(number_text: str) -> float:
        number = float(number_text)
        if not math.isfinite(number):
            raise InputError(source, f"not a plan file: {number_text[:40]} is too large a number")
        return number

    def whole(number_text: str) -> int:
        if len(number_text.lstrip("-")) > MAX_JSON_DIGITS:  # before int(): 5,000 digits must not reach it
            raise InputError(source, f"not a plan file: a number with more than {MAX_JSON_DIGITS} digits")
        return int(number_text)

    try:
        data = json.loads(text, parse_constant=no_constant, parse_float=finite, parse_int=whole)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(source, "not a plan file (JSON nested too deeply)") from None
    check_values(data, source)
    return data


def check_values(data: Any, source: str) -> None:
    """What JSON text guards at parse time, for a mapping that came another way (a saved learner's plan):
    finite numbers of at most 30 digits, nesting at most MAX_DEPTH deep. Iterative: no recursion to exhaust."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(source, f"not a plan file (nested more than {MAX_DEPTH} deep)")
        for value in node.values() if type(node) is dict else node if type(node) is list else (node,):
            kind = type(value)
            if kind is str or kind is bool or value is None:
                continue
            if kind is dict or kind is list:
                stack.append((value, depth + 1))
            elif kind is float or isinstance(value, float):
                if not math.isfinite(value):
                    raise InputError(source, f"not a plan file: {value} is not a number a plan can hold")
            elif isinstance(value, int) and not -_LIMIT < value < _LIMIT:
                raise InputError(source, f"not a plan file: a number with more than {MAX_JSON_DIGITS} digits")


# ------------------------------------------------------------------ field readers (each names the field)
def _mapping(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(field, f"expected a mapping, got {_shown(value)}")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(field, f"expected a list, got {_shown(value)}")
    return value


def _key(node: Mapping[str, Any], key: str, field: str) -> Any:
    if key not in node:
        raise InputError(f"{field}.{key}" if field else key, "missing required key")
    return node[key]


def _text(value: Any, field: str, *, one_line: bool = False) -> str:
    if not isinstance(value, str):
        raise InputError(field, f"expected text, got {_shown(value)}")
    if one_line and _LINE_BREAKING.search(value):
        raise InputError(field, f"{value[:60]!r} holds a line break or control character")
    return value


def _optional_text(value: Any, field: str) -> str | None:
    return None if value is None else _text(value, field)


def _texts(value: Any, field: str) -> tuple[str, ...]:
    return tuple(_text(v, f"{field}[{i}]") for i, v in enumerate(_list(value, field)))


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(field, f"expected true or false, got {_shown(value)}")
    return value


def _whole(value: Any, field: str, lo: int, hi: int) -> int:
    """A hand-edited whole number, range-checked so it cannot overflow what is built from it."""
    if (isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi
            or value != int(value)):  # the range first: NaN and infinities fail it, and int() of them would raise
        raise InputError(field, f"expected a whole number from {lo} to {hi:,}, got {_shown(value)}")
    return int(value)


def _number(value: Any, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise InputError(field, f"expected a number from {lo:g} to {hi:g}, got {_shown(value)}")
    return float(value)


def _date(value: Any, field: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(field, f"{_shown(value)} is not a date (YYYY-MM-DD)")
    if not MIN_DATE <= day <= MAX_DATE:
        raise InputError(field, f"{day} is outside the years {MIN_DATE.year}-{MAX_DATE.year}")
    return day


def _optional_date(value: Any, field: str) -> dt.date | None:
    return None if value is None or value == "" else _date(value, field)


def _stamp(value: Any, field: str) -> dt.datetime:
    try:
        stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:  # a naive time would silently take the host's zone
        raise InputError(field, f"{_shown(value)} is not an ISO 8601 date-time with offset")
    if not MIN_DATE <= stamp.date() <= MAX_DATE:
        raise InputError(field, f"{stamp.date()} is outside the years {MIN_DATE.year}-{MAX_DATE.year}")
    return stamp


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------ the plan
def plan_from_dict(data: Any, curriculum: Curriculum, source: str = "plan", *, checked: bool = False) -> Plan:
    """Read a planner.plan/1 document back into a Plan; anything inconsistent is an InputError naming the key.
    `checked`: the mapping came from parse_plan_json, whose values are already known to be sound."""
    if not isinstance(data, dict):
        raise InputError(source, "not a plan file (expected a JSON object)")
    if not checked:
        check_values(data, source)
    try:
        return _plan(data, curriculum)
    except InputError as exc:
        raise InputError(f"{source}: {exc.field}", exc.message, source=exc.source, line=exc.line) from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, IndexError) as exc:  # a last net
        raise InputError(source, f"inconsistent plan file ({exc.__class__.__name__}: {exc})") from None


def _plan(data: dict[str, Any], curriculum: Curriculum) -> Plan:
    if data.get("format") != FORMAT:
        raise InputError("format", f"expected '{FORMAT}', got {_shown(data.get('format'))}")
    path = _mapping(_key(data, "path", ""), "path")
    path_id = _text(_key(path, "id", "path"), "path.id")
    if path_id != curriculum.id:
        raise InputError("path.id", f"plan is for '{path_id}', the content file is '{curriculum.id}'")
    title = _text(path.get("title", path_id), "path.title", one_line=True)
    raw_profile = _mapping(_key(data, "profile", ""), "profile")
    try:
        profile = profile_from_dict(raw_profile, curriculum)
    except InputError as exc:
        raise InputError(f"profile.{exc.field}", exc.message) from None
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        missing = f"missing key {exc.args[0]!r}" if isinstance(exc, KeyError) else exc.__class__.__name__
        raise InputError("profile", f"not a profile the planner wrote ({missing})") from None
    blackouts = []
    for i, pair in enumerate(_list(raw_profile.get("blackouts", []), "profile.blackouts")):
        field = f"profile.blackouts[{i}]"
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError(field, "expected [first day, last day]")
        first, last = _date(pair[0], f"{field}[0]"), _date(pair[1], f"{field}[1]")
        if last < first:
            raise InputError(field, f"ends {last}, before it starts {first}")
        blackouts.append((first, last))

    summary = _mapping(_key(data, "summary", ""), "summary")
    months = _list(_key(summary, "timeline_months", "summary"), "summary.timeline_months")
    if len(months) != 2:
        raise InputError("summary.timeline_months", "expected [min, max] months")
    months_min = _whole(months[0], "summary.timeline_months[0]", 1, MAX_TIMELINE_MONTHS)
    months_max = _whole(months[1], "summary.timeline_months[1]", months_min, MAX_TIMELINE_MONTHS)
    dates = {key: _optional_date(summary.get(key), f"summary.{key}")
             for key in ("earliest_allowed_finish", "latest_allowed_finish", "paced_from_earliest_finish",
                         "replanned_on")}
    replanned_on = dates["replanned_on"]

    topics = _topics(_key(data, "topics", ""))
    progress = _read_topic_progress(_list(data["topics"], "topics"), topics)
    kinds = {t.id: t.kind for t in topics}
    req = Requirements(path_id, profile.background, months_min, months_max, tuple(topics))
    sessions = _sessions(_key(data, "sessions", ""), kinds, profile.tz, replanned_on)

    solver = _mapping(summary.get("solver", {}), "summary.solver")
    big = float(_LIMIT)

    def num(key: str, default: float) -> float:
        return _number(solver.get(key, default), f"summary.solver.{key}", -big, big)

    def count(key: str, default: int) -> int:
        return _whole(solver.get(key, default), f"summary.solver.{key}", 0, 10**9)

    info = SolverInfo(_text(solver.get("status", "FEASIBLE"), "summary.solver.status"), num("seconds", 0.0),
                      num("objective", 0.0), num("bound", 0.0), num("build_seconds", 0.0),
                      count("peak_percent", 100), num("focus_seconds", 0.0), count("focus_changed_days", 0),
                      count("focus_days_later", 0))
    return Plan(
        path_id=path_id, path_title=title, profile=profile, requirements=req, sessions=tuple(sessions), solver=info,
        phases=tuple(PhaseInfo(p.number, p.title, p.objective, p.weeks) for p in curriculum.phases),
        checklist=checklist_milestones(curriculum.checklist, sessions, req, profile.start),
        reviews_skipped=_whole(summary.get("reviews_skipped", 0) or 0, "summary.reviews_skipped", 0, 10**9),
        paced_to=dates["paced_from_earliest_finish"], replanned_on=replanned_on, topic_progress=progress,
        earliest_allowed_finish=dates["earliest_allowed_finish"], latest_allowed_finish=dates["latest_allowed_finish"],
        blackout_ranges=tuple(blackouts),
    )


def _topics(raw: Any) -> list[TopicReq]:
    items = _list(raw, "topics")
    if not items:
        raise InputError("topics", "expected a non-empty list of topics")
    topics: list[TopicReq] = []
    seen: set[str] = set()
    for i, t in enumerate(items):
        field = f"topics[{i}]"
        t = _mapping(t, field)
        tid = _text(_key(t, "id", field), f"{field}.id")
        if not tid:
            raise InputError(f"{field}.id", "empty topic id")
        if tid in seen:
            raise InputError(f"{field}.id", f"'{tid}' appears twice")
        seen.add(tid)
        hours = _number(_key(t, "hours", field), f"{field}.hours", 0, MAX_TOPIC_HOURS)
        blocks = round(hours * 60 / BLOCK_MINUTES)
        if blocks <= 0:
            raise InputError(f"{field}.hours", f"must be a number of hours in 0.5-{MAX_TOPIC_HOURS:g}")
        kind = t.get("kind", "study")
        if kind not in TOPIC_KINDS:
            raise InputError(f"{field}.kind", f"{_shown(kind)} is not one of {', '.join(TOPIC_KINDS)}")
        elective = t.get("elective")
        topics.append(TopicReq(
            tid, _text(_key(t, "title", field), f"{field}.title"), _whole(_key(t, "phase", field), f"{field}.phase",
                                                                          0, 999),
            blocks, _texts(t.get("requires", []), f"{field}.requires"), kind,
            _flag(t.get("optional", False), f"{field}.optional"),
            None if elective is None else _text(elective, f"{field}.elective"),
            _texts(t.get("resources", []), f"{field}.resources"), None,
            _optional_text(t.get("deliverable"), f"{field}.deliverable"),
            _whole(t.get("reviews", 0) or 0, f"{field}.reviews", 0, 100),
            dropped=_flag(t.get("dropped", False), f"{field}.dropped")))
    _check_prerequisites(topics)
    return topics


def _check_prerequisites(topics: list[TopicReq]) -> None:
    """No topic requires itself, an unknown topic or (through others) a topic that requires it."""
    index = {t.id: i for i, t in enumerate(topics)}
    for i, t in enumerate(topics):
        for q in t.requires:
            if q == t.id:
                raise InputError(f"topics[{i}].requires", f"'{t.id}' requires itself")
            if q not in index:
                raise InputError(f"topics[{i}].requires", f"unknown topic '{q}'")
    waiting = {t.id: len(set(t.requires)) for t in topics}  # Kahn: a topic is free once its prerequisites are
    needed_by: dict[str, list[str]] = defaultdict(list)
    for t in topics:
        for q in set(t.requires):
            needed_by[q].append(t.id)
    free = deque(tid for tid, n in waiting.items() if n == 0)
    while free:
        for tid in needed_by[free.popleft()]:
            waiting[tid] -= 1
            if waiting[tid] == 0:
                free.append(tid)
    stuck = [tid for tid, n in waiting.items() if n > 0]
    if stuck:
        first = min(stuck, key=index.__getitem__)
        raise InputError(f"topics[{index[first]}].requires", f"'{first}' is part of a circle of prerequisites")


def _sessions(raw: Any, kinds: dict[str, str], tz: Any, replanned_on: dt.date | None) -> list[Session]:
    sessions: list[Session] = []
    uids: dict[str, int] = {}
    ordinals: dict[tuple[str, bool, int], int] = {}
    for i, s in enumerate(_list(raw, "sessions")):
        field = f"sessions[{i}]"
        s = _mapping(s, field)
        uid = _text(_key(s, "uid", field), f"{field}.uid", one_line=True)
        if not uid:
            raise InputError(f"{field}.uid", "empty UID")
        if uid in uids:
            raise InputError(f"{field}.uid", f"the UID of sessions[{uids[uid]}] again: a UID appears twice")
        uids[uid] = i
        start = _stamp(_key(s, "start", field), f"{field}.start").astimezone(tz)
        end = _stamp(_key(s, "end", field), f"{field}.end").astimezone(tz)
        topic = _key(s, "topic", field)
        if not isinstance(topic, str) or topic not in kinds:
            raise InputError(f"{field}.topic", f"unknown topic {_shown(topic)}")
        status = s.get("status", "planned")
        if status not in SESSION_STATUSES:
            raise InputError(f"{field}.status", f"{_shown(status)} is not one of {', '.join(SESSION_STATUSES)}")
        kind = s.get("kind", "study")
        if kind not in SESSION_KINDS:
            raise InputError(f"{field}.kind", f"{_shown(kind)} is not one of {', '.join(SESSION_KINDS)}")
        if kind not in ("review", kinds[topic]):
            raise InputError(f"{field}.kind", f"a '{kind}' session of '{topic}', a topic of kind {kinds[topic]}")
        elapsed = end.timestamp() - start.timestamp()  # not the wall clock: DST nights gain or lose an hour
        if elapsed <= 0:
            raise InputError(f"{field}.end", "ends before it starts")
        if elapsed > MAX_SESSION_HOURS * 3600:
            raise InputError(f"{field}.end", f"a session of {elapsed / 3600:,.1f} h; a session lasts at most a day")
        done_hours = _number(s.get("done_hours", 0.0) or 0.0, f"{field}.done_hours", 0, _LIMIT)
        if done_hours > elapsed / 3600 + 1e-9:
            raise InputError(f"{field}.done_hours", f"{done_hours:g} is more than the session's "
                                                    f"{elapsed / 3600:g} hours")
        ordinal = _whole(_key(s, "ordinal", field), f"{field}.ordinal", 0, MAX_ORDINAL)
        # A study session's ordinal is its place in the topic, never reused (cancelled ones included); a review's
        # is which review it is, placed again after a miss or a cancellation, so unique among live ones only.
        review = kind == "review"
        if not review or status in ("planned", "done"):
            key = (topic, review, ordinal)
            if key in ordinals:
                what = "review" if review else "session"
                raise InputError(f"{field}.ordinal", f"{topic} has {what} {ordinal} twice (also sessions"
                                                     f"[{ordinals[key]}])")
            ordinals[key] = i
        cancelled_on = None
        if status == "cancelled":  # files from before the field: cancelled at the latest by the file's re-plan
            cancelled_on = _optional_date(s.get("cancelled_on"), f"{field}.cancelled_on") or replanned_on
        sessions.append(Session(uid, topic, kind, start, end, ordinal, status,
                                _whole(s.get("sequence", 0), f"{field}.sequence", 0, MAX_SEQUENCE),
                                done_hours if status == "missed" else 0.0,  # kept for missed only
                                cancelled_on, _real_session_hours(s, status, field), _rating(s, status, field)))
    return sessions


# ------------------------------------------------------------------ real hours (planner mark)
MAX_SESSION_REAL_HOURS = 24.0  # planner.progress: a session took at most a day
MAX_TOPIC_REAL_HOURS = 100_000.0


def _hours_field(value: Any, field: str, *, lo: float, hi: float, lo_open: bool, half: bool = False) -> float:
    """A number of hours written by `planner mark`: a JSON number (not a string or boolean), finite, in range."""

    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    ok = ok and (lo < value if lo_open else lo <= value) and value <= hi
    if ok and half and value * 2 != int(value * 2):
        ok = False
    if not ok:
        bound = f"more than {lo:g}" if lo_open else f"{lo:g}"
        raise InputError(field, f"expected hours from {bound} to {hi:g}{' in half hours' if half else ''}, "
                                f"got {value!r}")
    return float(value)


def _real_session_hours(s: dict[str, Any], status: str, field: str) -> float | None:
    """`real_hours` of a session: the time a done session really took; no other session carries it."""

    if "real_hours" not in s:
        return None
    if status != "done":
        raise InputError(f"{field}.real_hours", f"only a done session has real hours (this one is {status})")
    return _hours_field(s["real_hours"], f"{field}.real_hours", lo=0.0, hi=MAX_SESSION_REAL_HOURS, lo_open=True)


def _rating(s: dict[str, Any], status: str, field: str) -> str | None:
    """`rating` of a session: how well a done review (or a topic's last session) was recalled (planner.recall)."""
    from planner.recall import RATINGS

    if "rating" not in s:
        return None
    if status != "done":
        raise InputError(f"{field}.rating", f"only a done session has a rating (this one is {status})")
    if s["rating"] not in RATINGS:
        raise InputError(f"{field}.rating", f"expected one of {', '.join(RATINGS)}, got {_shown(s['rating'])}")
    return str(s["rating"])


def _check_review_log(raw: Any, field: str) -> None:
    """`review_log` of a topic: its card history as `planner mark` left it, [{date, rating}, ...] in date order.
    It is written from the done sessions and their ratings (the plan's record), so only its form is checked."""
    from planner.recall import RATINGS

    previous = None
    for i, e in enumerate(_list(raw, field)):
        e = _mapping(e, f"{field}[{i}]")
        day = _date(_key(e, "date", f"{field}[{i}]"), f"{field}[{i}].date")
        if _key(e, "rating", f"{field}[{i}]") not in RATINGS:
            raise InputError(f"{field}[{i}].rating", f"expected one of {', '.join(RATINGS)}, got "
                                                     f"{_shown(e['rating'])}")
        if previous is not None and day < previous:
            raise InputError(f"{field}[{i}].date", f"{day} is before the entry above it ({previous})")
        previous = day


def _read_topic_progress(raw: list[Any], topics: list[TopicReq]) -> tuple[TopicProgress, ...]:
    """`estimate_hours`, `more_hours` and `real_hours` of the topics that have them (planner.plan.TopicProgress)."""

    out = []
    for i, (t, req) in enumerate(zip(raw, topics, strict=True)):
        t = _mapping(t, f"topics[{i}]")
        field = f"topics[{i}]"
        if "review_log" in t:
            _check_review_log(t["review_log"], f"{field}.review_log")
        estimate = more = real = None
        if "estimate_hours" in t:
            estimate = _hours_field(t["estimate_hours"], f"{field}.estimate_hours", lo=0.0, hi=MAX_TOPIC_HOURS,
                                    lo_open=True, half=True)
        if "more_hours" in t:
            more = _hours_field(t["more_hours"], f"{field}.more_hours", lo=0.0, hi=MAX_TOPIC_HOURS, lo_open=True,
                                half=True)
            if more >= req.hours:
                raise InputError(f"{field}.more_hours", f"{more:g} h is not less than the topic's {req.hours:g} h")
        if "real_hours" in t:
            real = _hours_field(t["real_hours"], f"{field}.real_hours", lo=0.0, hi=MAX_TOPIC_REAL_HOURS,
                                lo_open=False)
        if estimate is None and more is None and real is None:
            continue
        per_hour = 60 // BLOCK_MINUTES
        out.append(TopicProgress(req.id, round(estimate * per_hour) if estimate is not None else None,
                                 round(more * per_hour) if more is not None else 0, real))
    return tuple(out)


# ------------------------------------------------------------------ files
def read_plan_file(path: str | Path, content: str | Path | None = None,
                   curriculum: Curriculum | None = None) -> tuple[Plan, dict[str, Any]]:
    """The plan in a file and its JSON mapping, every guard applied. The learning path is `curriculum`, else the
    `content` file, else the shipped path the plan names."""
    from planner.yamlio import read_text

    source = str(path)
    data = parse_plan_json(read_text(path, "plan", max_bytes=MAX_PLAN_BYTES), source)
    if curriculum is None:
        if content:
            from planner.curriculum import load_curriculum

            curriculum = load_curriculum(content)
        else:
            path_id = data.get("path", {}).get("id") if isinstance(data, dict) and isinstance(data.get("path"),
                                                                                                dict) else None
            if not isinstance(path_id, str):
                raise InputError(f"{source}: path.id", "missing: not a plan file")
            curriculum = curriculum_for_id(path_id)
    return plan_from_dict(data, curriculum, source, checked=True), data


def load_plan(path: str | Path, curriculum: Curriculum) -> Plan:
    return read_plan_file(path, curriculum=curriculum)[0]


@contextlib.contextmanager
def lock_plan(path: str | Path, *, shared: bool = False, wait: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold an advisory lock on a plan file across a read-modify-write, so two commands take turns.

    The lock is on the file itself (through symlinks); a rewrite replaces it by rename, so a waiter that gets the
    lock on the old file sees the name now points at a new one and locks that instead. A missing or unopenable
    file is left to the reader to report."""
    target = os.path.realpath(path)
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC)
        except OSError:
            fd = -1
        if fd < 0:
            yield
            return
        try:
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise InputError(str(path), _BUSY.format(wait=wait)) from None
                    time.sleep(0.02)
                except OSError:  # a file system without locks: read as before
                    break
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(target))
            except OSError:
                same = False
            if same:
                yield
                return
            if time.monotonic() > deadline:  # replaced again and again while we waited
                raise InputError(str(path), _BUSY.format(wait=wait))
        finally:
            os.close(fd)


_BUSY = "another planner command has been changing this plan for {wait:g} s; try again when it has finished"
