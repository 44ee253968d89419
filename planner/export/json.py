"""Plan JSON, format planner.plan/1 (contract in DESIGN.md; other tools read its required keys)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from planner.plan import Plan
from planner.totals import plan_totals

FORMAT = "planner.plan/1"


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    p, req = plan.profile, plan.requirements
    profile = p.to_dict()
    blackouts = [[a.isoformat(), b.isoformat()] for a, b in plan.blackout_ranges]
    profile["blackouts"] = blackouts
    phase_titles = {ph.number: ph.title for ph in plan.phases}
    totals = plan_totals(plan)
    return {
        "format": FORMAT,
        "path": {"id": plan.path_id, "title": plan.path_title},
        "summary": {
            "start": p.start.isoformat(),
            "finish": plan.finish.isoformat(),
            "timeline_months": [req.months_min, req.months_max],
            "months": round(plan.months, 2),
            "earliest_allowed_finish": plan.earliest_allowed_finish.isoformat()
            if plan.earliest_allowed_finish else None,
            "latest_allowed_finish": plan.latest_allowed_finish.isoformat() if plan.latest_allowed_finish else None,
            "total_hours": totals.scheduled_hours,
            "hours": {"required": totals.required_hours, "done": totals.done_hours,
                      "planned": totals.planned_hours, "reviews": totals.review_hours,
                      "scheduled": totals.scheduled_hours, "percent_done": round(totals.percent_done, 1)},
            "hours_per_week_offered": p.hours_per_week,
            "hours_per_week_peak": plan.peak_week_hours,
            "hours_per_week_mean": round(plan.mean_week_hours, 2),
            "paced": plan.paced,
            "paced_from_earliest_finish": plan.paced_to.isoformat() if plan.paced_to else None,
            "review_hours": totals.review_hours,
            "reviews_skipped": plan.reviews_skipped,
            "replanned_on": plan.replanned_on.isoformat() if plan.replanned_on else None,
            "sessions": len(plan.active_sessions),
            "forecast": _forecast(plan),
            "solver": {
                "status": plan.solver.status,
                "seconds": plan.solver.seconds,
                "objective": plan.solver.objective,
                "bound": plan.solver.bound,
                "build_seconds": plan.solver.build_seconds,
                "peak_percent": plan.solver.peak_percent,
                "focus_seconds": plan.solver.focus_seconds,
                "focus_changed_days": plan.solver.focus_changed_days,
                "focus_days_later": plan.solver.focus_days_later,
            },
        },
        "profile": profile,
        "phases": [
            {"number": row["phase"], "title": row["title"], "start": row["start"].isoformat(),
             "finish": row["finish"].isoformat(), "hours": row["hours"], "topics": row["topics"]}
            for row in plan.phase_rows()
        ],
        "topics": [
            {"id": t.id, "title": t.title, "phase": t.phase, "phase_title": phase_titles.get(t.phase, ""),
             "hours": t.hours, "reviews": t.reviews, "deliverable": t.deliverable, "requires": list(t.requires),
             "kind": t.kind, "optional": t.optional,
             "elective": t.elective, "resources": list(t.resources),
             **({"dropped": True} if t.dropped else {}), **_topic_progress(plan, t.id)}
            for t in req.topics
        ],
        "milestones": [
            {"stage": m.stage, "title": m.title, "date": m.date.isoformat() if m.date else None,
             "months": round(_months(plan, m.date), 2) if m.date else None,
             "range_months": [m.months_min, m.months_max], "requires": list(m.requires)}
            for m in plan.checklist
        ],
        "sessions": [
            {"uid": s.uid, "topic": s.topic, "kind": s.kind, "start": s.start.isoformat(),
             "end": s.end.isoformat(), "status": s.status, "sequence": s.sequence, "ordinal": s.ordinal,
             "hours": s.hours, "done_hours": s.credited_hours, **_cancelled_on(plan, s),
             **({"real_hours": s.real_hours} if s.status == "done" and s.real_hours is not None else {})}
            for s in plan.sessions
        ],
    }


def _topic_progress(plan: Plan, topic_id: str) -> dict[str, float]:
    """Real hours and the path's estimate, written only for topics that have them (planner.plan.TopicProgress)."""
    from planner.profile import BLOCK_MINUTES

    tp = plan.progress_of(topic_id)
    if tp is None:
        return {}
    out: dict[str, float] = {}
    if tp.estimate_blocks is not None:
        out["estimate_hours"] = tp.estimate_blocks * BLOCK_MINUTES / 60
    if tp.more_blocks:
        out["more_hours"] = tp.more_blocks * BLOCK_MINUTES / 60
    if tp.real_hours is not None:
        out["real_hours"] = tp.real_hours
    return out


def _forecast(plan: Plan) -> dict[str, Any]:
    """The forecast as of the plan's last recorded day (planner.forecast.as_of); `planner forecast` for another."""
    from planner.forecast import forecast

    return forecast(plan).to_dict()


def _cancelled_on(plan: Plan, s: Any) -> dict[str, str]:
    """The re-plan that cancelled a session; the calendar export carries only the latest re-plan's."""
    when = s.cancelled_on or plan.replanned_on
    return {"cancelled_on": when.isoformat()} if s.status == "cancelled" and when else {}


def _months(plan: Plan, day: Any) -> float:
    from planner.requirements import months_between

    return months_between(plan.profile.start, day)


def plan_to_json(plan: Plan) -> bytes:
    return (json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


MAX_PLAN_BYTES = 20_000_000
MAX_TOPIC_HOURS = 10_000  # far above any real topic; keeps hand-edited hours from overflowing the block count
MAX_SEQUENCE = 1_000_000  # an event's SEQUENCE grows by one per re-plan; RFC 5545 allows at most 2**31 - 1
MAX_JSON_DIGITS = 30


def _whole(value: Any, field: str, lo: int, hi: int) -> int:
    """A hand-edited whole number, range-checked so it cannot overflow what is built from it."""
    from planner.errors import InputError

    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or not lo <= value <= hi:
        raise InputError(field, f"expected a whole number from {lo} to {hi:,}, got {value!r}")
    return int(value)


_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(value: Any, field: str) -> str:
    """The path's title names the calendar (one line): line breaks and control characters are refused."""
    from planner.errors import InputError

    text = str(value)
    if _LINE_BREAKING.search(text):
        raise InputError(field, f"{text[:60]!r} holds a line break or control character")
    return text


def _in_years(stamp: Any, field: str) -> Any:
    """Dates a plan can hold (profile.MIN_DATE..MAX_DATE): year 9999 would overflow the first day added to it."""
    from planner.errors import InputError
    from planner.profile import MAX_DATE, MIN_DATE

    day = stamp.date() if hasattr(stamp, "date") else stamp
    if not MIN_DATE <= day <= MAX_DATE:
        raise InputError(field, f"{day} is outside the years {MIN_DATE.year}-{MAX_DATE.year}")
    return stamp


def plan_from_dict(data: Any, curriculum: Any, source: str = "plan") -> Plan:
    """Read a planner.plan/1 document back into a Plan; anything inconsistent is an InputError naming the key."""
    import datetime as dt

    from planner.curriculum import Curriculum
    from planner.errors import InputError
    from planner.plan import SESSION_KINDS, SESSION_STATUSES, PhaseInfo, Session, SolverInfo, checklist_milestones
    from planner.profile import BLOCK_MINUTES, profile_from_dict
    from planner.requirements import Requirements, TopicReq

    assert isinstance(curriculum, Curriculum)
    if not isinstance(data, dict):
        raise InputError(source, "not a plan file (expected a JSON object)")
    if data.get("format") != FORMAT:
        raise InputError(f"{source}: format", f"expected '{FORMAT}', got {data.get('format')!r}")
    try:
        path_id = data["path"]["id"]
        if path_id != curriculum.id:
            raise InputError(f"{source}: path.id", f"plan is for '{path_id}', the content file is '{curriculum.id}'")
        try:
            profile = profile_from_dict(data["profile"], curriculum)
        except InputError as exc:
            raise InputError(f"{source}: profile.{exc.field}", exc.message) from None
        summary = data["summary"]
        months_min, months_max = summary["timeline_months"]
        topics = []
        if not isinstance(data["topics"], list) or not data["topics"]:
            raise InputError(f"{source}: topics", "expected a non-empty list of topics")
        for i, t in enumerate(data["topics"]):
            hours = float(t["hours"])
            if not math.isfinite(hours) or not 0 < hours <= MAX_TOPIC_HOURS:
                raise InputError(f"{source}: topics[{i}].hours",
                                 f"must be a number of hours in 0.5-{MAX_TOPIC_HOURS:g}")
            blocks = round(hours * 60 / BLOCK_MINUTES)
            if blocks <= 0:
                raise InputError(f"{source}: topics[{i}].hours", "must be positive")
            topics.append(TopicReq(str(t["id"]), str(t["title"]),
                                   _whole(t["phase"], f"{source}: topics[{i}].phase", 0, 999), blocks,
                                   tuple(str(q) for q in t.get("requires", [])), str(t.get("kind", "study")),
                                   bool(t.get("optional", False)), t.get("elective"),
                                   tuple(t.get("resources", [])), None, t.get("deliverable"),
                                   _whole(t.get("reviews", 0) or 0, f"{source}: topics[{i}].reviews", 0, 100),
                                   dropped=t.get("dropped") is True))
        progress = _read_topic_progress(data["topics"], topics, source)
        req = Requirements(path_id, profile.background, int(months_min), int(months_max), tuple(topics))
        tz = profile.tz
        ids = {t.id for t in topics}
        for i, t in enumerate(topics):
            for q in t.requires:
                if q not in ids:
                    raise InputError(f"{source}: topics[{i}].requires", f"unknown topic '{q}'")
        replanned_on = dt.date.fromisoformat(summary["replanned_on"]) if summary.get("replanned_on") else None
        sessions = []
        for i, s in enumerate(data["sessions"]):
            field = f"{source}: sessions[{i}]"
            if not isinstance(s, dict):
                raise InputError(field, "expected a mapping of session fields")
            stamps = {}
            for key in ("start", "end"):
                try:
                    stamp = dt.datetime.fromisoformat(s[key])
                except (TypeError, ValueError):
                    stamp = None
                if stamp is None or stamp.tzinfo is None:  # a naive time would silently take the host's zone
                    raise InputError(f"{field}.{key}", f"{s[key]!r} is not an ISO 8601 date-time with offset")
                stamps[key] = _in_years(stamp, f"{field}.{key}").astimezone(tz)
            start, end = stamps["start"], stamps["end"]
            if s["topic"] not in ids:
                raise InputError(f"{field}.topic", f"unknown topic '{s['topic']}'")
            if s.get("status", "planned") not in SESSION_STATUSES:
                raise InputError(f"{field}.status", f"'{s.get('status')}' is not one of {', '.join(SESSION_STATUSES)}")
            if s.get("kind", "study") not in SESSION_KINDS:
                raise InputError(f"{field}.kind", f"'{s.get('kind')}' is not one of {', '.join(SESSION_KINDS)}")
            elapsed = end.timestamp() - start.timestamp()  # not the wall clock: DST nights gain or lose an hour
            if elapsed <= 0:
                raise InputError(f"{field}.end", "ends before it starts")
            done_hours = float(s.get("done_hours", 0.0) or 0.0)
            if not math.isfinite(done_hours) or not 0 <= done_hours <= elapsed / 3600:
                raise InputError(f"{field}.done_hours", f"{s.get('done_hours')!r} is not between 0 and the "
                                                        f"session's hours")
            status = str(s.get("status", "planned"))
            # Files from before the field: their cancellations are at the latest from the file's own re-plan.
            cancelled_on = (dt.date.fromisoformat(s["cancelled_on"]) if s.get("cancelled_on") else replanned_on) \
                if status == "cancelled" else None
            real_hours = _real_session_hours(s, status, field)
            sessions.append(Session(str(s["uid"]), str(s["topic"]), str(s.get("kind", "study")), start, end,
                                    _whole(s.get("ordinal", 1), f"{field}.ordinal", 0, 100_000), status,
                                    _whole(s.get("sequence", 0), f"{field}.sequence", 0, MAX_SEQUENCE),
                                    done_hours if status == "missed" else 0.0,  # kept for missed only
                                    cancelled_on, real_hours))
        uids = [s.uid for s in sessions]
        if len(set(uids)) != len(uids):
            raise InputError(f"{source}: sessions", "a UID appears twice")
        solver = summary.get("solver", {})
        info = SolverInfo(str(solver.get("status", "FEASIBLE")), float(solver.get("seconds", 0.0)),
                          float(solver.get("objective", 0.0)), float(solver.get("bound", 0.0)),
                          float(solver.get("build_seconds", 0.0)), int(solver.get("peak_percent", 100)),
                          float(solver.get("focus_seconds", 0.0)), int(solver.get("focus_changed_days", 0)),
                          int(solver.get("focus_days_later", 0)))
        for key in ("earliest_allowed_finish", "latest_allowed_finish", "paced_from_earliest_finish", "replanned_on"):
            if summary.get(key):
                _in_years(dt.date.fromisoformat(summary[key]), f"{source}: summary.{key}")
        ea = summary.get("earliest_allowed_finish")
        la = summary.get("latest_allowed_finish")
        return Plan(
            path_id=path_id, path_title=_one_line(data["path"].get("title", path_id), f"{source}: path.title"),
            profile=profile, requirements=req,
            sessions=tuple(sessions), solver=info,
            phases=tuple(PhaseInfo(p.number, p.title, p.objective, p.weeks) for p in curriculum.phases),
            checklist=checklist_milestones(curriculum.checklist, sessions, req, profile.start),
            reviews_skipped=int(summary.get("reviews_skipped", 0) or 0),
            paced_to=dt.date.fromisoformat(summary["paced_from_earliest_finish"])
            if summary.get("paced_from_earliest_finish") else None,
            replanned_on=replanned_on, topic_progress=progress,
            earliest_allowed_finish=dt.date.fromisoformat(ea) if ea else None,
            latest_allowed_finish=dt.date.fromisoformat(la) if la else None,
            blackout_ranges=tuple((dt.date.fromisoformat(a), dt.date.fromisoformat(b))
                                  for a, b in data["profile"].get("blackouts", [])),
        )
    except KeyError as exc:
        raise InputError(f"{source}: {exc.args[0]}", "missing required key") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise InputError(source, f"inconsistent plan file ({exc})") from None


MAX_SESSION_REAL_HOURS = 24.0  # planner.progress: a session took at most a day
MAX_TOPIC_REAL_HOURS = 100_000.0


def _hours_field(value: Any, field: str, *, lo: float, hi: float, lo_open: bool, half: bool = False) -> float:
    """A number of hours written by `planner mark`: a JSON number (not a string or boolean), finite, in range."""
    from planner.errors import InputError

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
    from planner.errors import InputError

    if "real_hours" not in s:
        return None
    if status != "done":
        raise InputError(f"{field}.real_hours", f"only a done session has real hours (this one is {status})")
    return _hours_field(s["real_hours"], f"{field}.real_hours", lo=0.0, hi=MAX_SESSION_REAL_HOURS, lo_open=True)


def _read_topic_progress(raw: list[Any], topics: list[Any], source: str) -> tuple[Any, ...]:
    """`estimate_hours`, `more_hours` and `real_hours` of the topics that have them (planner.plan.TopicProgress)."""
    from planner.errors import InputError
    from planner.plan import TopicProgress
    from planner.profile import BLOCK_MINUTES

    out = []
    for i, (t, req) in enumerate(zip(raw, topics, strict=True)):
        field = f"{source}: topics[{i}]"
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


def load_plan(path: Any, curriculum: Any) -> Plan:
    from planner.errors import InputError
    from planner.yamlio import read_text

    text = read_text(path, "plan", max_bytes=MAX_PLAN_BYTES)
    def no_constant(name: str) -> Any:
        raise InputError(str(path), f"not a plan file: {name} is not a number a plan can hold")

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise InputError(str(path), f"not a plan file: {text[:40]} is too large a number")
        return number

    def whole(text: str) -> int:
        if len(text.lstrip("-")) > MAX_JSON_DIGITS:
            raise InputError(str(path), f"not a plan file: a number with more than {MAX_JSON_DIGITS} digits")
        return int(text)

    try:
        data = json.loads(text, parse_constant=no_constant, parse_float=finite, parse_int=whole)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(str(path), "not a plan file (JSON nested too deeply)") from None
    return plan_from_dict(data, curriculum, str(path))
