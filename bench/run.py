"""Benchmark of the planner: grid, greedy baseline, scaling, re-planning, dashboard, profiles, CLI end to end.

    python bench/run.py                       # full run, writes docs/benchmarks.md and docs/bench-scaling.png
    python bench/run.py --quick               # a smaller grid, for a smoke check
    python bench/run.py --out /tmp/bench.md   # write the report elsewhere
    python bench/run.py --before e6b80f6      # also the slow cases and the CLI on that revision's engine, alternating

Every case runs in its own subprocess, so peak RSS (ru_maxrss) is per case and timings start cold, as in the CLI.
Re-planning and the dashboard (streamlit AppTest) are timed warm inside their worker; the profiles need pyinstrument
(`pip install pyinstrument`, not a project dependency).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content" / "ml-ai-engineer.yaml"
START = "2027-01-04"
TIMEZONE = "Europe/Berlin"
HOLIDAYS = "DE"
BACKGROUNDS = ("complete_beginner", "ml_background", "full_time_accelerated")
HOURS = (5, 8, 10, 12, 15, 20, 25, 30, 40)
HOURS_QUICK = (8, 15, 30)
FACTORS = (1, 2, 4, 8)
FACTORS_QUICK = (1, 8)
HORIZONS = (6, 12, 24, 36)
HORIZONS_QUICK = (12, 36)
CLI_RUNS = 9  # alternating with the bare import; the median of each
CLI_RUNS_QUICK = 7
CLI_HOURS = 18
LONG_RANGE = (30, 36)  # the complete beginner's range stretched to these months, for long-range answers
LONG_HOURS = (5, 8, 9, 10, 11)
LONG_HOURS_QUICK = (9, 11)
COMPARE_RUNS = 3  # before/after: each side this many times, alternating
COMPARE_RUNS_QUICK = 1
SCALE_MARGIN = 1.1  # synthetic weekly hours = needed hours / weeks in the horizon × this, rounded up to 0.5 h
MAX_WEEKLY = 100.0  # the planner's limit on hours_per_week
MAX_DAY = 14.0  # explicit day hours stay ≤ 14 h (a weekend day from 10:00 to midnight)
REPLAN_CASES = (("complete_beginner", 15), ("ml_background", 15), ("ml_background", 30),
                ("full_time_accelerated", 30))
REPLAN_CASES_QUICK = (("ml_background", 15), ("full_time_accelerated", 30))
REPLAN_TODAY = "2027-03-08"  # a Monday, about two months after START
REPLAN_RUNS = 5
DASH_RUNS = 3
DASH_RUNS_QUICK = 1
SUBMIT_LABEL = "Make my plan"  # the form's submit button, as tests/test_app.py finds it
PROFILE_CASES = (("grid", "complete_beginner", 30), ("scale", 8, 36))

TARGETS = {
    "optimal": "OPTIMAL in ≥ 95 % of the grid",
    "median": "median solve ≤ 0.3 s",
    "worst": "worst solve ≤ 1 s",
    "bound": "0 days over the lower bound where the range allows it, apart from ≤ 14 days the focus rules take",
    "scale8": "8× path ≤ 2 s with gap ≤ 1 %",
    "scale1": "1× path over 36 months ≤ 1 s",
    "infeasible": "worst infeasible answer ≤ 1 s (grid and a 30-36-month range)",
    "rss": "peak RSS ≤ 300 MB",
    "cli": "CLI ≤ 2× bare import",
    "replan": "re-plan ≤ 0.5 s (median of 5, warm)",
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------- workers (run in a subprocess each)


def _profile(curriculum: Any, background: str, hours: float) -> Any:
    from planner.profile import profile_from_mapping

    return profile_from_mapping({"background": background, "hours_per_week": hours, "start": START,
                                 "timezone": TIMEZONE, "holidays": HOLIDAYS}, curriculum)


def _calendar_and_window(curriculum: Any, profile: Any) -> tuple[Any, Any, Any]:
    from planner.requirements import add_months, build_requirements, finish_window, study_calendar

    req = build_requirements(curriculum, profile)
    try:  # the engine's own calendar (it may hold capacity back, e.g. a weekly review reserve)
        from planner.solve import _calendar as engine_calendar

        cal = engine_calendar(profile, req)
    except ImportError:
        cal = study_calendar(profile, (add_months(profile.start, req.months_max) - profile.start).days)
    return req, cal, finish_window(req, cal)


def worker_grid(background: str, hours: float) -> dict[str, Any]:
    from greedy import greedy_plan

    from planner.curriculum import load_curriculum
    from planner.solve import Infeasible, make_plan
    from planner.validate import validate_plan

    curriculum = load_curriculum(CONTENT)
    profile = _profile(curriculum, background, hours)
    t0, c0 = time.perf_counter(), time.process_time()
    result = make_plan(curriculum, profile)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out: dict[str, Any] = {"background": background, "hours": hours, "wall": wall, "cpu": cpu}
    if isinstance(result, Infeasible):
        out.update(status="INFEASIBLE", min_hours=result.min_hours_per_week,
                   earliest=result.earliest_finish.isoformat() if result.earliest_finish else None,
                   earliest_months=result.earliest_finish_months)
    else:
        req, cal, window = _calendar_and_window(curriculum, profile)
        finish_idx = cal.index(result.finish)
        lower = cal.earliest_finish(req.total_blocks)
        paced = lower is not None and window.earliest is not None and lower < window.earliest
        over = finish_idx - (window.earliest if paced else lower)
        out.update(status=result.solver.status, build=result.solver.build_seconds, solve=result.solver.seconds,
                   finish=result.finish.isoformat(), months=result.months, paced=paced, over=over,
                   peak_percent=result.solver.peak_percent, sessions=len(result.sessions),
                   focus=result.solver.focus_seconds, focus_later=result.solver.focus_days_later,
                   violations=len(validate_plan(result)))
    t1 = time.perf_counter()
    greedy = greedy_plan(curriculum, profile)
    g_seconds = time.perf_counter() - t1
    g_viol = Counter(v.rule for v in validate_plan(greedy))
    out.update(greedy_seconds=g_seconds, greedy_finish=greedy.finish.isoformat(), greedy_months=greedy.months,
               greedy_violations=dict(sorted(g_viol.items())))
    out["rss_mb"] = _rss_mb()
    return out


def synthetic_curriculum(factor: int, months: int) -> Any:
    """The default path's required topics `factor` times over (new ids, copies chained), one background."""
    from planner.curriculum import Background, load_curriculum

    base = load_curriculum(CONTENT)
    core = [t for t in base.topics if t.elective is None]
    topics = []
    previous_last: str | None = None
    for k in range(factor):
        suffix = "" if k == 0 else f"-x{k + 1}"
        for t in core:
            requires = tuple(q + suffix for q in t.requires)
            if not requires and previous_last is not None:
                requires = (previous_last,)
            topics.append(dataclasses.replace(t, id=t.id + suffix, requires=requires, hours_by_background=()))
        previous_last = core[-1].id + suffix
    phases = tuple(dataclasses.replace(p, topic_ids=tuple(x.id for x in topics if x.phase == p.number))
                   for p in base.phases)
    bg = Background("synthetic", "Synthetic", f"{factor}x the default path over {months} months", 1, months)
    return dataclasses.replace(base, id=f"synthetic-{factor}x", backgrounds=(bg,), topics=tuple(topics),
                               phases=phases, electives=())


def _ceil_half(hours: float) -> float:
    return math.ceil(hours * 2 - 1e-9) / 2


def scale_hours(total_hours: float, months: int) -> dict[str, Any]:
    """Weekly hours for a synthetic case: needed hours / weeks in the horizon × SCALE_MARGIN, in half hours.

    The day hours are given explicitly, the same on all 7 days (each the weekly figure / 7 rounded up to 0.5 h,
    at most MAX_DAY), so the default weekend-weighted split never caps the week below the weekly hours. Returns
    `possible=False` when the bare need (no margin) is more than the 7 × MAX_DAY = 98 h a week can hold.
    """
    from planner.requirements import add_months

    start = dt.date.fromisoformat(START)
    weeks = (add_months(start, months) - start).days / 7
    need = _ceil_half(total_hours / weeks)
    week_limit = min(MAX_WEEKLY, 7 * MAX_DAY)
    hours = min(_ceil_half(total_hours / weeks * SCALE_MARGIN), week_limit)
    day = min(_ceil_half(hours / 7), MAX_DAY)
    return {"need": need, "hours": hours, "day_hours": day, "possible": need <= week_limit,
            "weeks": weeks}


def worker_scale(factor: int, months: int) -> dict[str, Any]:
    from planner.profile import WEEKDAYS, profile_from_mapping
    from planner.solve import Infeasible, make_plan
    from planner.validate import validate_plan

    curriculum = synthetic_curriculum(factor, months)
    total_hours = sum(t.hours for t in curriculum.topics)
    out: dict[str, Any] = {"factor": factor, "months": months, "topics": len(curriculum.topics),
                           "total_hours": total_hours}
    choice = scale_hours(total_hours, months)
    out.update(need=choice["need"])
    if not choice["possible"]:
        out.update(status="impossible", rss_mb=_rss_mb())
        return out
    week_limit = min(MAX_WEEKLY, 7 * MAX_DAY)

    def attempt(hours: float) -> tuple[Any, Any, float]:
        day = min(_ceil_half(hours / 7), MAX_DAY)
        profile = profile_from_mapping({"background": "synthetic", "hours_per_week": hours, "start": START,
                                        "timezone": TIMEZONE, "holidays": HOLIDAYS,
                                        "day_hours": {d: day for d in WEEKDAYS}}, curriculum)
        t0, c0 = time.perf_counter(), time.process_time()
        result = make_plan(curriculum, profile)
        cpu_time[0] = time.process_time() - c0
        return profile, result, time.perf_counter() - t0

    cpu_time = [0.0]
    hours = choice["hours"]
    profile, result, wall = attempt(hours)
    # Capacity the margin does not cover (the engine's weekly review reserve): step up to the engine's own
    # minimum weekly hours, as long as 7 days × MAX_DAY can hold it. Only the feasible solve is timed.
    for _ in range(10):
        if not isinstance(result, Infeasible) or result.min_hours_per_week is None:
            break
        nxt = max(result.min_hours_per_week, hours + 0.5)
        if nxt > week_limit:
            break
        hours = nxt
        profile, result, wall = attempt(hours)
    out.update(hours=hours, margin_hours=choice["hours"], day_hours=min(_ceil_half(hours / 7), MAX_DAY), wall=wall,
               cpu=cpu_time[0])
    if isinstance(result, Infeasible):
        out.update(status="impossible" if result.min_hours_per_week is None else "INFEASIBLE",
                   min_hours=result.min_hours_per_week)
    else:
        s = result.solver
        gap = abs(s.objective - s.bound) / max(abs(s.objective), 1e-9)
        out.update(status=s.status, sessions=len(result.sessions), days=(result.finish - profile.start).days + 1,
                   finish_months=result.months, build=s.build_seconds, solve=s.seconds, objective=s.objective,
                   bound=s.bound, gap=gap, peak_percent=s.peak_percent, violations=len(validate_plan(result)))
    out["rss_mb"] = _rss_mb()
    return out


def long_range_content(folder: Path) -> Path:
    """A copy of the default path with the complete beginner's range stretched to LONG_RANGE months."""
    text = CONTENT.read_text(encoding="utf-8")
    old = "timeline_months: {min: 14, max: 20}"
    if old not in text:
        raise RuntimeError(f"{CONTENT.name}: the complete beginner's range is no longer {old!r}; update the bench")
    path = folder / "long-range.yaml"
    path.write_text(text.replace(old, f"timeline_months: {{min: {LONG_RANGE[0]}, max: {LONG_RANGE[1]}}}"),
                    encoding="utf-8")
    return path


def _case_inputs(spec: dict[str, Any], folder: Path) -> tuple[Any, Any]:
    """Curriculum and profile of one timed case: a grid case, a long-range case or a synthetic path."""
    from planner.curriculum import load_curriculum
    from planner.profile import WEEKDAYS, profile_from_mapping

    if spec["path"] == "default":
        curriculum = load_curriculum(CONTENT)
        return curriculum, _profile(curriculum, spec["background"], spec["hours"])
    if spec["path"] == "long":
        curriculum = load_curriculum(long_range_content(folder))
        return curriculum, _profile(curriculum, "complete_beginner", spec["hours"])
    curriculum = synthetic_curriculum(spec["factor"], spec["months"])
    return curriculum, profile_from_mapping({"background": "synthetic", "hours_per_week": spec["hours"],
                                             "start": START, "timezone": TIMEZONE, "holidays": HOLIDAYS,
                                             "day_hours": {d: spec["day_hours"] for d in WEEKDAYS}}, curriculum)


def _answer(result: Any) -> dict[str, Any]:
    """What a case answered, compact enough to compare two engines: figures, or a digest of the sessions."""
    import hashlib

    from planner.solve import Infeasible

    if isinstance(result, Infeasible):
        return {"status": "INFEASIBLE", "min_hours": result.min_hours_per_week,
                "earliest": result.earliest_finish.isoformat() if result.earliest_finish else None,
                "earliest_months": result.earliest_finish_months,
                "drop_finish": result.drop.finish.isoformat() if result.drop and result.drop.finish else None}
    h = hashlib.sha256()
    for x in result.sessions:
        h.update(f"{x.uid}|{x.topic}|{x.kind}|{x.start.isoformat()}|{x.end.isoformat()}\n".encode())
    return {"status": result.solver.status, "finish": result.finish.isoformat(), "months": result.months,
            "sessions": len(result.sessions), "digest": h.hexdigest()[:16],
            "focus_later": result.solver.focus_days_later, "solve": result.solver.seconds,
            "focus": result.solver.focus_seconds}


def worker_case(spec: dict[str, Any]) -> dict[str, Any]:
    """One make_plan call, cold, timed end to end (whichever engine is first on the path)."""
    from planner.solve import make_plan

    with tempfile.TemporaryDirectory() as tmp:
        curriculum, profile = _case_inputs(spec, Path(tmp))
        t0, c0 = time.perf_counter(), time.process_time()
        result = make_plan(curriculum, profile)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {**spec, "wall": wall, "cpu": cpu, **_answer(result), "rss_mb": _rss_mb()}


def worker_replan(background: str, hours: float) -> dict[str, Any]:
    """Make a plan, mark it done through a day ~2 months in, miss the last week, time replan() (warm)."""
    from planner.curriculum import load_curriculum
    from planner.progress import mark_done_through, mark_missed
    from planner.replan import Replanned, replan
    from planner.solve import Infeasible, make_plan

    curriculum = load_curriculum(CONTENT)
    asked = hours
    plan = make_plan(curriculum, _profile(curriculum, background, hours))
    if isinstance(plan, Infeasible):  # the engine's capacity rules changed: use its own minimum instead
        assert plan.min_hours_per_week is not None, (background, hours)
        hours = plan.min_hours_per_week
        plan = make_plan(curriculum, _profile(curriculum, background, hours))
        assert not isinstance(plan, Infeasible), (background, hours)
    today = dt.date.fromisoformat(REPLAN_TODAY)
    out: dict[str, Any] = {"background": background, "hours": hours, "asked": asked, "today": REPLAN_TODAY,
                           "cases": []}
    for missed in (True, False):
        if missed:
            marked = mark_done_through(plan, today - dt.timedelta(days=8))
            week = [s.uid for s in marked.sessions if today - dt.timedelta(days=7) <= s.day < today]
            marked = mark_missed(marked, week)
            missed_hours = sum(s.hours for s in marked.sessions if s.uid in set(week))
        else:
            marked = mark_done_through(plan, today - dt.timedelta(days=1))
            week, missed_hours = [], 0.0
        replan(curriculum, marked, today)  # warm-up
        times = []
        for _ in range(REPLAN_RUNS):
            t0 = time.perf_counter()
            result = replan(curriculum, marked, today)
            times.append(time.perf_counter() - t0)
        case: dict[str, Any] = {"missed": missed, "missed_sessions": len(week), "missed_hours": missed_hours,
                                "median": statistics.median(times), "all": times}
        if isinstance(result, Replanned):
            d, s = result.diff, result.plan.solver
            case.update(kind="replanned", kept=len(d.kept), moved=len(d.moved), added=len(d.added),
                        removed=len(d.removed), old_finish=d.old_finish.isoformat(),
                        new_finish=d.new_finish.isoformat(), days_later=d.days_later, inside=d.inside_range,
                        status=s.status, build=s.build_seconds, solve=s.seconds)
        else:
            case.update(kind="menu", message=result.message())
        out["cases"].append(case)
    out["rss_mb"] = _rss_mb()
    return out


def worker_dashboard(runs: int) -> dict[str, Any]:
    """First render and form submit → rendered plan through Streamlit's AppTest (new weekly hours each round)."""
    import logging

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PLANNER_DB"] = str(Path(tmp) / "planner.db")  # never touch the user's store
        logging.disable(logging.WARNING)
        from streamlit.testing.v1 import AppTest

        sys.path.insert(0, str(ROOT))  # the dashboard package, not bench/dashboard.py beside this script
        sys.modules.pop("dashboard", None)
        app = str(ROOT / "app.py")
        sources = [app, *map(str, sorted((ROOT / "dashboard").glob("*.py")))]
        text = "".join(Path(f).read_text(encoding="utf-8") for f in sources)
        has_form = "st.form(" in text and "form_submit_button" in text
        first: list[float] = []
        submit: list[float] = []
        notes: list[str] = []
        for i in range(runs):
            at = AppTest.from_file(app, default_timeout=120)
            t0 = time.perf_counter()
            at.run()
            first.append(time.perf_counter() - t0)
            if at.exception:
                notes.append(f"first render raised: {at.exception[0].message[:200]}")
                break
            if not has_form:
                continue
            if not [b for b in at.button if b.label == SUBMIT_LABEL]:  # a saved plan opens on Today
                at.switch_page("dashboard/plan_page.py").run()
            buttons = [b for b in at.button if b.label == SUBMIT_LABEL]
            if not buttons:
                notes.append(f"no {SUBMIT_LABEL!r} button on the Plan page")
                break
            at.number_input(key="f_hours_per_week").set_value(18.0 + 0.5 * i)  # never planned before: a solve
            t1 = time.perf_counter()
            buttons[0].click().run()
            submit.append(time.perf_counter() - t1)
            if at.exception:
                notes.append(f"submit raised: {at.exception[0].message[:200]}")
                break
            if not [m.label for m in at.metric]:
                notes.append("no plan metrics rendered after submit")
        return {"has_form": has_form, "button": SUBMIT_LABEL, "first": first, "submit": submit, "notes": notes,
                "rss_mb": _rss_mb()}


def _categorise(root: Any) -> dict[str, float]:
    """Self time of every sampled frame, attributed to the innermost engine stage on its stack."""
    stages = {
        ("CpSolver.solve", "solve"): "CP-SAT solve (CpSolver.solve)",
        ("solve_day_loads",): "model building (solve_day_loads minus solve)",
        ("solve_catch_up",): "model building (solve_catch_up minus solve)",
        ("peak_percent_bound",): "calendar arithmetic: peak bound (cumulative × ~7)",
        ("study_calendar",): "calendar arithmetic: study_calendar",
        ("StudyCalendar.cumulative", "cumulative", "StudyCalendar.earliest_finish", "earliest_finish",
         "finish_window"): "calendar arithmetic: cumulative / earliest finish",
        ("Profile.is_blackout", "is_blackout", "holiday_dates", "_holidays_for"): "holidays / blackout lookup",
        ("sessions_from_day_loads",): "session cutting (sessions_from_day_loads)",
        ("checklist_milestones",): "checklist milestones",
        ("place_reviews",): "spaced-review placement (place_reviews)",
        ("build_requirements",): "requirements (build_requirements)",
        ("explain_infeasible", "minimum_hours_per_week"): "infeasible answer",
    }
    by_name = {name: label for names, label in stages.items() for name in names}
    out: dict[str, float] = {}

    def walk(frame: Any, label: str) -> None:
        fn = frame.function or ""
        key = "" if fn == "solve" and "cp_model" not in (frame.file_path or "") else fn
        here = by_name.get(key, label)
        child_time = sum(c.time for c in frame.children)
        out[here] = out.get(here, 0.0) + max(frame.time - child_time, 0.0)
        for c in frame.children:
            walk(c, here)

    walk(root, "other (make_plan glue, dataclasses, imports)")
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def worker_profile(kind: str, a: Any, b: Any) -> dict[str, Any]:
    """pyinstrument on one make_plan call (after a warm-up call in the same process), plus the cold wall."""
    from pyinstrument import Profiler

    from planner.curriculum import load_curriculum
    from planner.solve import make_plan

    if kind == "grid":
        curriculum = load_curriculum(CONTENT)
        profile = _profile(curriculum, a, b)
        name = f"{a} {b} h/week"
    else:
        from planner.profile import WEEKDAYS, profile_from_mapping

        curriculum = synthetic_curriculum(a, b)
        chosen = worker_scale(a, b)  # the weekly hours the scaling table used (raised to a feasible figure)
        if "hours" not in chosen:
            raise RuntimeError(f"{a}x/{b} months is impossible: nothing to profile")
        profile = profile_from_mapping({"background": "synthetic", "hours_per_week": chosen["hours"],
                                        "start": START, "timezone": TIMEZONE, "holidays": HOLIDAYS,
                                        "day_hours": {d: chosen["day_hours"] for d in WEEKDAYS}}, curriculum)
        name = f"{a}× path, {b} months, {chosen['hours']:g} h/week ({chosen['status']})"
    t0 = time.perf_counter()
    make_plan(curriculum, profile)
    cold = time.perf_counter() - t0
    profiler = Profiler(interval=0.0005)
    profiler.start()
    t1 = time.perf_counter()
    make_plan(curriculum, profile)
    warm = time.perf_counter() - t1
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    tree = text[text.index("\n\n", text.index("Profile at")):].strip("\n").splitlines()
    stages = _categorise(profiler.last_session.root_frame())
    return {"name": name, "cold": cold, "warm": warm, "tree": tree[:40], "stages": stages, "rss_mb": _rss_mb()}


IMPORT_COMMANDS = (("check", str(CONTENT.relative_to(ROOT))),
                   ("plan", "--background", "ml_background", "--hours-per-week", "30", "--start", START))


def importtime(cli_args: tuple[str, ...], top: int = 10) -> dict[str, Any]:
    """`python -X importtime -m planner <args>`: the modules with the largest cumulative import time."""
    cmd = [sys.executable, "-X", "importtime", "-m", "planner", *cli_args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cum_us, raw = line[len("import time:"):].split("|")
        name = raw[1:]  # one space after the bar, then two more per nesting level
        depth = (len(name) - len(name.lstrip())) // 2 + 1
        rows.append((int(cum_us.strip()), int(self_us.strip()), name.strip(), depth))
    total = sum(c for c, _, _, depth in rows if depth == 1)
    rows.sort(key=lambda r: -r[0])
    return {"args": " ".join(cli_args), "wall": wall, "rc": proc.returncode, "total_import_s": total / 1e6,
            "modules": len(rows),
            "top": [{"module": n, "cumulative_s": c / 1e6, "self_s": s / 1e6, "depth": d}
                    for c, s, n, d in rows[:top]]}


def run_worker(kind: str, *args: Any, engine: Path | None = None) -> dict[str, Any]:
    """A worker in its own process; `engine`: a source tree whose `planner` package is used instead of ours."""
    spec = json.dumps([kind, *args])
    env = dict(os.environ)
    if engine is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(engine), *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", spec],
                          capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {spec} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- CLI end to end


def cli_command(out_dir: Path) -> list[str]:
    return [sys.executable, "-m", "planner", "plan", "--background", "ml_background", "--hours-per-week",
            str(CLI_HOURS), "--start", START, "--json", str(out_dir / "plan.json"), "--ics", str(out_dir / "plan.ics")]


BARE_IMPORT = "import ortools.sat.python.cp_model, pandas, icalendar"


def cli_timing(runs: int, before: Path | None = None) -> dict[str, Any]:
    """The CLI against a bare import of its heavy dependencies, alternating in one loop (and the CLI of the
    `before` tree, run from there, when given), so drift in machine load hits each the same way."""
    bare = [sys.executable, "-c", BARE_IMPORT]
    times: dict[str, list[float]] = {"bare": [], "cli": [], "before": []}
    with tempfile.TemporaryDirectory() as tmp:
        commands = [("bare", bare, ROOT), ("cli", cli_command(Path(tmp)), ROOT)]
        if before is not None:  # `-m planner` imports from the working directory first
            commands.append(("before", cli_command(Path(tmp)), before))
        for _ in range(runs):
            for name, cmd, cwd in commands:
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=cwd)
                times[name].append(time.perf_counter() - t0)
                if proc.returncode not in (0, 3):  # 3: the plan does not fit (an answer, not a failure)
                    last = (proc.stderr.strip().splitlines() or ["?"])[-1]
                    return {"cli": math.nan, "bare": math.nan, "ratio": math.inf, "runs": runs, "cli_all": [],
                            "bare_all": [], "error": f"`{' '.join(cmd[1:3])} …` ({name}) exit {proc.returncode}: "
                                                     f"{last}"}
    cli_med, bare_med = statistics.median(times["cli"]), statistics.median(times["bare"])
    out = {"cli": cli_med, "bare": bare_med, "ratio": cli_med / bare_med, "runs": runs,
           "cli_all": times["cli"], "bare_all": times["bare"]}
    if before is not None:
        out.update(before=statistics.median(times["before"]), before_all=times["before"],
                   before_ratio=statistics.median(times["before"]) / bare_med)
    return out


# ---------------------------------------------------------------- before and after, in one run


def checkout(rev: str, folder: Path) -> Path:
    """The source tree of `rev` (git archive), to run its engine next to ours."""
    import io
    import tarfile

    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    dest = folder / "before"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def compare_cases(grid: list[dict[str, Any]], scale: list[dict[str, Any]],
                  long: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The slow cases of the issue: the slowest infeasible answers of the grid and of the long range, and the
    36-month synthetic paths at the weekly hours the scaling table used."""
    cases: list[dict[str, Any]] = []
    slow_grid = sorted((r for r in grid if r["status"] == "INFEASIBLE"), key=lambda r: -r["wall"])[:2]
    cases += [{"path": "default", "background": r["background"], "hours": r["hours"]} for r in slow_grid]
    cases += [{"path": "long", "hours": r["hours"]} for r in long]
    cases += [{"path": "synthetic", "factor": r["factor"], "months": r["months"], "hours": r["hours"],
               "day_hours": r["day_hours"]} for r in scale if r["months"] == 36 and "sessions" in r]
    return cases


def compare(before: Path, cases: list[dict[str, Any]], runs: int) -> list[dict[str, Any]]:
    out = []
    for spec in cases:
        walls: dict[str, list[float]] = {"before": [], "after": []}
        cpus: dict[str, list[float]] = {"before": [], "after": []}
        answers: dict[str, dict[str, Any]] = {}
        for _ in range(runs):
            for side, engine in (("before", before), ("after", None)):
                r = run_worker("case", spec, engine=engine)
                walls[side].append(r["wall"])
                cpus[side].append(r["cpu"])
                answers[side] = r
        row = {"spec": spec, "before": statistics.median(walls["before"]), "after": statistics.median(walls["after"]),
               "before_all": walls["before"], "after_all": walls["after"],
               "before_cpu": statistics.median(cpus["before"]), "after_cpu": statistics.median(cpus["after"]),
               "answer_before": answers["before"],
               "answer_after": answers["after"]}
        out.append(row)
        print(f"compare {_case_name(spec):38s} before {row['before']:.3f} s after {row['after']:.3f} s "
              f"{_same(row)}", flush=True)
    return out


def _case_name(spec: dict[str, Any]) -> str:
    if spec["path"] == "default":
        return f"{spec['background']} {spec['hours']:g} h/week"
    if spec["path"] == "long":
        return f"complete_beginner {LONG_RANGE[0]}-{LONG_RANGE[1]} months, {spec['hours']:g} h/week"
    return f"{spec['factor']}× path, {spec['months']} months, {spec['hours']:g} h/week"


def _same(row: dict[str, Any]) -> str:
    a, b = row["answer_before"], row["answer_after"]
    if a["status"] == "INFEASIBLE" or b["status"] == "INFEASIBLE":
        if a["status"] != b["status"]:
            return f"answer changed: {a['status']} → {b['status']}"
        keys = ("min_hours", "earliest", "drop_finish")
        return "same answer" if all(a[k] == b[k] for k in keys) else \
            "changed: " + ", ".join(f"{k} {a[k]} → {b[k]}" for k in keys if a[k] != b[k])
    if a["digest"] == b["digest"]:
        return "same sessions"
    return (f"other sessions: finish {a['finish']} → {b['finish']}, focus days {a['focus_later']} → "
            f"{b['focus_later']}, sessions {a['sessions']} → {b['sessions']}")


# ---------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import ortools

        ortools_version = ortools.__version__
    except Exception:  # pragma: no cover - the planner needs ortools anyway
        ortools_version = "unknown"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": str(affinity), "cpu": cpu, "python": platform.python_version(), "ortools": ortools_version,
            "platform": platform.platform()}


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _viol(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def evaluate(grid: list[dict[str, Any]], scale: list[dict[str, Any]], cli: dict[str, Any],
             rss_max: float, replans: list[dict[str, Any]],
             long: list[dict[str, Any]] | None = None) -> dict[str, tuple[bool, str]]:
    solved = [r for r in grid if r["status"] != "INFEASIBLE"]
    optimal = sum(r["status"] == "OPTIMAL" for r in solved)
    infeasible = len(grid) - len(solved)
    share = (optimal + infeasible) / len(grid)
    solves = [r["solve"] for r in solved]
    median = statistics.median(solves) if solves else 0.0
    worst = max(solves, default=0.0)
    over = [r for r in solved if r["over"] != r["focus_later"] or r["focus_later"] > 14]
    eight = [r for r in scale if r["factor"] == 8 and r["status"] != "impossible"]
    eight_bad = [r for r in eight if r["status"] == "INFEASIBLE" or r["wall"] > 2 or r["gap"] > 0.01]
    one = [r for r in scale if r["factor"] == 1 and r["months"] == 36 and "sessions" in r]
    name, worst_answer = worst_infeasible(grid, long or [])
    out = {
        "optimal": (share >= 0.95, f"{optimal}/{len(solved)} solved cases OPTIMAL, {infeasible} correct "
                                   f"infeasible answers: {share:.0%} of {len(grid)}"),
        "median": (median <= 0.3, f"{median:.3f} s"),
        "worst": (worst <= 1.0, f"{worst:.3f} s"),
        "bound": (not over, ("all solved cases at the bound; the focus rules moved "
                             f"{sum(1 for r in solved if r['focus_later'])} finishes by "
                             f"{max((r['focus_later'] for r in solved), default=0)} days at most")
                  if not over else
                  "over: " + ", ".join(f"{r['background']} {r['hours']} h +{r['over']} d" for r in over)),
        "scale8": (bool(eight) and not eight_bad,
                   f"{len(eight)} feasible 8× cases, worst make_plan {max((r['wall'] for r in eight), default=0):.2f}"
                   f" s (CPU {max((r.get('cpu', 0) for r in eight), default=0):.2f} s), worst gap "
                   f"{max((r.get('gap', 1) for r in eight), default=0):.2e}"
                   + ("" if not eight_bad else "; missed: " + ", ".join(f"{r['months']} mo" for r in eight_bad))),
        "scale1": (bool(one) and all(r["wall"] <= 1 for r in one),
                   ", ".join(f"{r['wall']:.2f} s ({r['hours']:g} h/week, {r['sessions']} sessions)" for r in one)
                   or "not run"),
        "infeasible": (worst_answer <= 1, f"{worst_answer:.2f} s ({name})"),
        "rss": (rss_max <= 300, f"{rss_max:.0f} MB"),
        "cli": (cli["ratio"] <= 2.0, f"{cli['cli']:.2f} s vs {cli['bare']:.2f} s = {cli['ratio']:.2f}×"
                if "error" not in cli else f"not measured: {cli['error']}"),
    }
    cases = [(r, c) for r in replans for c in r["cases"]]
    slow = [(r, c) for r, c in cases if c["median"] > 0.5]
    worst_replan = max(cases, key=lambda rc: rc[1]["median"]) if cases else None
    out["replan"] = (bool(cases) and not slow,
                     f"{len(cases)} cases, worst {worst_replan[1]['median']:.3f} s ({_replan_name(*worst_replan)})"
                     if worst_replan else "not run")
    if slow:
        out["replan"] = (False, out["replan"][1] + "; over 0.5 s: " + ", ".join(_replan_name(r, c) for r, c in slow))
    return out


def _replan_name(r: dict[str, Any], c: dict[str, Any]) -> str:
    return f"{r['background']} {r['hours']:g} h, {'week missed' if c['missed'] else 'nothing missed'}"


def render(args: argparse.Namespace, grid: list[dict[str, Any]], scale: list[dict[str, Any]],
           cli: dict[str, Any], plot_note: str, total_seconds: float, parent_rss: float,
           extra: dict[str, Any]) -> str:
    m = machine()
    replans, dash, profiles, imports = extra["replan"], extra["dashboard"], extra["profiles"], extra["imports"]
    long, compared = extra["long"], extra["compared"]
    rss_max = max([r["rss_mb"] for r in grid + scale + replans + profiles + long] + [parent_rss])
    targets = evaluate(grid, scale, cli, rss_max, replans, long)
    cmd = "python bench/run.py" + (" --quick" if args.quick else "") + (
        f" --out {args.out}" if args.out != "docs/benchmarks.md" else "") + (
        f" --before {args.before}" if args.before else "")
    lines = [
        "# Benchmarks",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `{cmd}` ({total_seconds:.0f} s in all"
        + (", **quick mode: reduced grid**" if args.quick else "") + ").",
        "",
        f"Machine: {m['nproc']} CPUs available ({m['cpu']}), {m['platform']}, Python {m['python']}, "
        f"OR-Tools {m['ortools']}. The solver runs with one worker (deterministic plans). Load average "
        f"(1 min) at the start / end of the run: {extra['load'][0]:.2f} / {os.getloadavg()[0]:.2f} — other jobs on "
        "this machine make wall times noisier than the solver's deterministic work.",
        "",
        "Every grid and scaling case runs in a fresh subprocess: times are cold (first call in a process, as in the",
        "CLI) and peak RSS is that process's `ru_maxrss`. Build and solve seconds are the engine's own `SolverInfo`",
        "figures; wall is `make_plan` end to end (for an infeasible case: the whole answer, minimum weekly hours,",
        "earliest finish and what dropping optional topics gives). Re-planning and the dashboard are",
        "timed warm (after a warm-up in the same process), as a running dashboard sees them. No target is",
        "asserted in the test suite; this report is where they are checked.",
        "",
        "## Targets",
        "",
        "| target | result | |",
        "|---|---|---|",
    ]
    for key, text in TARGETS.items():
        ok, detail = targets[key]
        lines.append(f"| {text} | {detail} | {'met' if ok else '**MISSED**'} |")
    lines += _render_dashboard_target(dash)
    lines += [
        "",
        "## Other figures",
        "",
        "Measured by their own scripts and reported next to the feature they belong to:",
        "",
        "- [calendar-sync.md](calendar-sync.md) — `bench/calendar_sync.py`: first CalDAV sync and re-plan sync of the",
        "  default plan against a local Radicale, the feed's bytes plain and gzipped, and its 304 rate.",
        "- [calendar.md](calendar.md) — the `.ics` writer before and after (byte-identical output).",
        "- [busy-calendars.md](busy-calendars.md) — `bench/busy.py`: the default plan with a busy calendar of ~2,000",
        "  events a year, solve and end to end.",
        "- [dashboard-speed.md](dashboard-speed.md) — `bench/dashboard.py`: page load, Make my plan, regenerate and a",
        "  Done click, measured in Chromium.",
        "- [reliability.md](reliability.md) — the learner-year test's counts (simulated learners, re-plans, menus).",
        "- [pace-and-forecast.md](pace-and-forecast.md#speed) — `bench/forecast.py`: one forecast, cold and warm",
        "  (target 0.3 s), and the calibration figures of the slow simulation.",
        "",
        "## Grid: default path, start " + START + f", {TIMEZONE}, holidays {HOLIDAYS}",
        "",
        "Days over bound: finish day minus `StudyCalendar.earliest_finish(total)`; for paced plans (more hours than",
        "the range needs) minus the range-minimum day the plan is paced to (marked *p*). Focus s and focus days: the",
        "focus pass after the CP-SAT solve (`planner/focus.py`) and the days it moved the finish to keep its rules.",
        "",
        "| background | h/week | status | build s | solve s | focus s | wall s | finish | months | days over bound "
        "| focus days | sessions | violations | RSS MB | min h/week (answer) |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in grid:
        if r["status"] == "INFEASIBLE":
            ans = f"{r['min_hours']:g} h in {r['wall']:.3f} s" if r["min_hours"] is not None else \
                f"none ({r['wall']:.3f} s)"
            lines.append(f"| {r['background']} | {r['hours']:g} | INFEASIBLE | — | — | — | {r['wall']:.3f} | "
                         f"(earliest {r['earliest'] or '—'}) | {_f(r['earliest_months'], 1)} | — | — | — | — | "
                         f"{r['rss_mb']:.0f} | {ans} |")
        else:
            over = f"{r['over']}" + (" *p*" if r["paced"] else "")
            lines.append(f"| {r['background']} | {r['hours']:g} | {r['status']} | {r['build']:.3f} | "
                         f"{r['solve']:.3f} | {r['focus']:.3f} | {r['wall']:.3f} | {r['finish']} | "
                         f"{r['months']:.1f} | {over} | {r['focus_later']} | {r['sessions']} | {r['violations']} | "
                         f"{r['rss_mb']:.0f} | — |")
    lines += _render_long(long)
    lines += _render_compared(compared, extra["before"], cli)
    lines += [
        "",
        "## Baseline: greedy earliest fit (`bench/greedy.py`) next to the solver",
        "",
        "The spreadsheet approach: topics in file order, each study day filled to its weekday hours in whole",
        "hours (at least one), ignoring weekly caps, holidays and the month range. Violations are counted by",
        "`planner.validate.validate_plan`, per rule. At 5 h/week the default split gives weekdays 0.5 h, which the",
        "spreadsheet rounds up to 1 h: hence its day-cap and week-cap violations there.",
        "",
        "| background | h/week | greedy s | greedy finish | greedy months | greedy violations by rule "
        "| solver wall s | solver finish | solver violations |",
        "|---|---:|---:|---|---:|---|---:|---|---:|",
    ]
    for r in grid:
        solver_finish = r.get("finish") or "INFEASIBLE answer"
        solver_viol = r.get("violations", "—")
        lines.append(f"| {r['background']} | {r['hours']:g} | {r['greedy_seconds']:.3f} | {r['greedy_finish']} | "
                     f"{r['greedy_months']:.1f} | {_viol(r['greedy_violations'])} | {r['wall']:.3f} | "
                     f"{solver_finish} | {solver_viol} |")
    lines += [
        "",
        "## Scaling: synthetic paths",
        "",
        "The default path's required topics (no electives) repeated 1×, 2×, 4×, 8× with new ids, each copy's",
        "first topics requiring the previous copy's last topic; one background with a month range of 1 to H",
        "months; start " + START + f", {TIMEZONE}, holidays {HOLIDAYS}. Weekly hours per case = needed hours ÷",
        f"weeks in the horizon × {SCALE_MARGIN:g} (rounded up to 0.5 h, at most {7 * MAX_DAY:g}); explicit day hours,",
        f"the same on all 7 days (weekly ÷ 7 rounded up to 0.5 h, ≤ {MAX_DAY:g} h), so the default weekend-weighted",
        "split does not cap capacity. The finish months column shows where each plan ends.",
        f"Impossible: the bare need exceeds what 7 days × {MAX_DAY:g} h = {7 * MAX_DAY:g} h/week (below the",
        f"{MAX_WEEKLY:g} h/week limit) can hold. Where the margin does not cover the engine's weekly review",
        "reserve (up to 15 % of the week held back for spaced reviews), the weekly hours are raised to the",
        "engine's own minimum (shown as margin → used); impossible also when no weekly hours up to 98 fit.",
        "Only the feasible solve is timed. Gap = |objective − bound| / |objective| from CP-SAT. CPU s: the",
        "process's CPU time over the same call, about what the wall would be on an idle machine. Solve s 0.000:",
        "the pace hint already sat on the even-pace line (deviation 0, the least there is), so it is the answer",
        "CP-SAT would return, without a search.",
        "",
        "| path | topics | hours | horizon (months) | h/week (day h) | status | finish months | sessions | build s | "
        "solve s | wall s | CPU s | gap | RSS MB |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in scale:
        head = f"| {r['factor']}× | {r['topics']} | {r['total_hours']:g} | {r['months']} |"
        if r["status"] == "impossible" and "hours" in r:
            lines.append(head + f" ≤ {r['hours']:g} ({r['day_hours']:g}) | impossible (needs {r['need']:g} h/week of "
                         f"study plus the review reserve; none ≤ {7 * MAX_DAY:g} fits) | — | — | — | — | — | — | — | "
                         f"{r['rss_mb']:.0f} |")
        elif r["status"] == "impossible":
            lines.append(head + f" — | impossible (needs {r['need']:g} h/week) | — | — | — | — | — | — | — | "
                         f"{r['rss_mb']:.0f} |")
        elif r["status"] == "INFEASIBLE":
            lines.append(head + f" {r['hours']:g} ({r['day_hours']:g}) | INFEASIBLE (min {r.get('min_hours')}) "
                         f"| — | — | — | — | {r['wall']:.3f} | {r['cpu']:.3f} | — | {r['rss_mb']:.0f} |")
        else:
            raised = f"{r['margin_hours']:g} → " if r["margin_hours"] != r["hours"] else ""
            lines.append(head + f" {raised}{r['hours']:g} ({r['day_hours']:g}) | {r['status']} | "
                         f"{r['finish_months']:.1f} | "
                         f"{r['sessions']} | {r['build']:.3f} | {r['solve']:.3f} | {r['wall']:.3f} | {r['cpu']:.3f} | "
                         f"{r['gap']:.1e} | {r['rss_mb']:.0f} |")
    lines += ["", plot_note, ""]
    lines += _render_replan(replans)
    lines += _render_dashboard(dash)
    lines += _render_profiles(profiles, imports)
    lines += ["## CLI end to end",
              "",
              f"Median of {cli['runs']} runs each, alternating in one loop (bare import, CLI"
              + (", CLI of the engine before" if "before" in cli else "") + "):",
              "",
              "| command | median s | all runs s |",
              "|---|---:|---|",
              f"| `python -m planner plan --background ml_background --hours-per-week {CLI_HOURS} --start {START} "
              f"--json <tmp> --ics <tmp>` | {cli['cli']:.3f} | {', '.join(f'{x:.2f}' for x in cli['cli_all'])} |",
              *([f"| the same, engine before | {cli['before']:.3f} | "
                 f"{', '.join(f'{x:.2f}' for x in cli['before_all'])} |"] if "before" in cli else []),
              f"| `python -c \"{BARE_IMPORT}\"` | {cli['bare']:.3f} | "
              f"{', '.join(f'{x:.2f}' for x in cli['bare_all'])} |",
              "",
              f"Ratio: **{cli['ratio']:.2f}×** (target ≤ 2×).",
              "",
              f"Process-level peak RSS of the driver itself: {parent_rss:.0f} MB; the largest engine case: "
              f"{max(r['rss_mb'] for r in grid + scale + replans + profiles):.0f} MB; the dashboard worker "
              f"(Streamlit + AppTest, not counted in the target): {dash['rss_mb']:.0f} MB.",
              ""]
    return "\n".join(lines)


def _render_long(long: list[dict[str, Any]]) -> list[str]:
    if not long:
        return []
    lines = ["", f"## Long range: the complete beginner over {LONG_RANGE[0]}-{LONG_RANGE[1]} months", "",
             f"A copy of the default path (made in a temporary directory) with the complete beginner's range "
             f"stretched to {LONG_RANGE[0]}-{LONG_RANGE[1]}",
             "months; otherwise as the grid. Wall: `make_plan` end to end, the whole answer.", "",
             "| h/week | answer | wall s | finish or earliest finish | min h/week |", "|---:|---|---:|---|---:|"]
    for r in long:
        if r["status"] == "INFEASIBLE":
            lines.append(f"| {r['hours']:g} | does not fit | {r['wall']:.3f} | earliest {r['earliest'] or '—'} "
                         f"({_f(r['earliest_months'], 1)} months) | {r['min_hours'] if r['min_hours'] else '—'} |")
        else:
            lines.append(f"| {r['hours']:g} | {r['status']}, {r['sessions']} sessions | {r['wall']:.3f} | "
                         f"{r['finish']} ({r['months']:.1f} months) | — |")
    return lines


def _render_compared(compared: list[dict[str, Any]], rev: str | None, cli: dict[str, Any]) -> list[str]:
    if not compared:
        return []
    lines = ["", f"## Before and after, side by side in this run (before: `{rev}`)", "",
             f"The engine of `{rev}` (`git archive` into a temporary directory, first on `PYTHONPATH`) and this one,",
             "each case in a fresh process, the two sides alternating, median of "
             f"{len(compared[0]['after_all'])} each. Wall: `make_plan` end to end.",
             "CPU s: the process's CPU time over the same call (median), what the wall would be on an idle machine.",
             "The last column compares the answers: the sessions (uid, topic, times) of a plan, the figures of",
             "a does-not-fit answer.", "",
             "| case | before s | after s | speed-up | before CPU s | after CPU s | before runs | after runs "
             "| answer |",
             "|---|---:|---:|---:|---:|---:|---|---|---|"]
    for row in compared:
        lines.append(f"| {_case_name(row['spec'])} | {row['before']:.3f} | {row['after']:.3f} | "
                     f"{row['before'] / max(row['after'], 1e-9):.1f}× | {row['before_cpu']:.3f} | "
                     f"{row['after_cpu']:.3f} | "
                     f"{', '.join(f'{x:.2f}' for x in row['before_all'])} | "
                     f"{', '.join(f'{x:.2f}' for x in row['after_all'])} | {_same(row)} |")
    lines += [
        "",
        "What changed (`planner/solve.py`, `planner/focus.py`, one hunk in `planner/model.py`):",
        "",
        "- A does-not-fit answer (minimum weekly hours, earliest finish, the drop option) no longer solves at all:",
        "  `focus.earliest_obeying` is an exact search over running totals under the focus rules and every day and",
        "  week limit (for each total only the least used of the week's limit is kept), cheap because it keeps",
        "  only the totals that can still finish. The focus pass now finds loads whenever that search says some",
        "  exist, so its answer is the plan's answer and no confirming solve is needed.",
        "- `make_plan` starts at the earliest finish the rules allow instead of trying finish days one after",
        "  another with a CP-SAT solve and a focus pass each (7 solves for the 1× 36-month path before).",
        "- When the pace model's hint already sits on the even-pace line, it is the solver's answer without a",
        "  search (CP-SAT spent seconds setting up a long horizon before returning that very hint).",
        "",
        "Answers stay the same, except where the engine before skipped a day: its finish steps (0, 1, 2, 3, 5,",
        "7, … days past the capacity bound) never tried 6 days, where the 1× 36-month path fits, so it finished a",
        "day later. The default grid's 27 answers are pinned by `tests/test_speed.py` (sessions of every plan,",
        "figures of every does-not-fit answer) against digests made with the engine before.",
    ]
    if "before" in cli:
        lines += ["", f"CLI (`planner plan … --json … --ics …`, the same alternating loop as below): before "
                      f"{cli['before']:.3f} s = {cli['before_ratio']:.2f}× the bare import, after {cli['cli']:.3f} s "
                      f"= {cli['ratio']:.2f}×."]
    return lines


def _render_dashboard_target(dash: dict[str, Any]) -> list[str]:
    first = f"{statistics.median(dash['first']):.2f} s" if dash["first"] else "—"
    submit = f"{statistics.median(dash['submit']):.2f} s" if dash["submit"] else "not measured"
    return ["", f"Dashboard (no target set, reported only): first render {first}, form submit → rendered plan "
                f"{submit} (median of {len(dash['first'])}, AppTest)."]


def _render_replan(replans: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Re-planning: `replan(curriculum, plan, today)`",
        "",
        f"Per case: `make_plan` (start {START}, {TIMEZONE}, holidays {HOLIDAYS}), then `mark_done_through` the day",
        f"8 days before today = {REPLAN_TODAY} and `mark_missed` every session of the 7 days before today (real",
        "catch-up work); second row: everything done through yesterday, nothing missed. Seconds: median of",
        f"{REPLAN_RUNS} calls in one process after a warm-up call; build and solve are the catch-up model's own",
        "figures.",
        "Finish change: new finish minus old finish. Target ≤ 0.5 s.",
        "",
        "| background | h/week | missed | median s | all runs s | build s | solve s | kept | moved | added | removed "
        "| finish | finish change | in range | ≤ 0.5 s |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    bumped = [r for r in replans if r["hours"] != r["asked"]]
    if bumped:
        names = ", ".join(f"{r['background']} {r['asked']:g} → {r['hours']:g} h/week" for r in bumped)
        lines[-3:-3] = ["", f"Infeasible at the planned weekly hours, so run at the engine's minimum instead: {names}."]
    for r in replans:
        for c in r["cases"]:
            missed = f"{c['missed_sessions']} sessions, {c['missed_hours']:g} h" if c["missed"] else "nothing"
            runs = ", ".join(f"{x:.3f}" for x in c["all"])
            ok = "met" if c["median"] <= 0.5 else "**MISSED**"
            if c["kind"] == "menu":
                lines.append(f"| {r['background']} | {r['hours']:g} | {missed} | {c['median']:.3f} | {runs} | — | — "
                             f"| — | — | — | — | catch-up menu (behind the range) | — | no | {ok} |")
                continue
            change = f"+{c['days_later']} d" if c["days_later"] > 0 else f"{c['days_later']} d"
            lines.append(f"| {r['background']} | {r['hours']:g} | {missed} | {c['median']:.3f} | {runs} | "
                         f"{c['build']:.3f} | {c['solve']:.3f} | {c['kept']} | {c['moved']} | {c['added']} | "
                         f"{c['removed']} | {c['old_finish']} → {c['new_finish']} | {change} | "
                         f"{'yes' if c['inside'] else 'NO'} | {ok} |")
    lines += [
        "",
    ]
    for r in replans:
        for c in r["cases"]:
            if c["missed"] and c["kind"] == "replanned":
                future = c["kept"] + c["moved"] + c["removed"]
                lines.append(f"- {r['background']} {r['hours']:g} h/week, a missed week: {c['kept']} of {future} "
                             f"future sessions kept ({c['kept'] / max(future, 1):.0%}), finish change "
                             f"{c['days_later']:+d} days.")
    lines += [
        "",
        "Moved = same UID at another time (SEQUENCE + 1). A plan at 100 % of its day capacity has no slack, so a",
        "missed week shifts every later session (and the finish) by that week; with slack the catch-up fits",
        "into it and most sessions are kept.",
        "",
    ]
    return lines


def _render_dashboard(dash: dict[str, Any]) -> list[str]:
    lines = ["## Dashboard: form submit to rendered plan", ""]
    if not dash["has_form"]:
        lines += ["The dashboard has no form: only the first render is timed.", ""]
    lines += [
        "`AppTest.from_file(\"app.py\", default_timeout=120)` in one worker process (`PLANNER_DB` in a temporary",
        "directory): `run()` once (first render: the Plan page with the form for a new learner, Today once a plan",
        f"is saved, then the Plan page), then set new weekly hours, click the \"{dash['button']}\" button (found by",
        "label, as `tests/test_app.py` does) and time that `run()`: the solve, the save, the metrics, charts and",
        "tables. The hours differ every round, so every submit solves again; the parsed path stays cached after the",
        "first round, and the first round's first render also pays Streamlit's own imports inside the script.",
        "The timings a learner sees in a browser are in [dashboard-speed.md](dashboard-speed.md).",
        "",
        "| measurement | median s | all runs s |",
        "|---|---:|---|",
        f"| first render | {_median(dash['first'])} | {', '.join(f'{x:.2f}' for x in dash['first'])} |",
        f"| submit → rendered plan | {_median(dash['submit'])} | {', '.join(f'{x:.2f}' for x in dash['submit'])} |",
        "",
    ]
    if dash["notes"]:
        lines += ["Notes: " + "; ".join(dash["notes"]), ""]
    return lines


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.3f}" if xs else "—"


def _render_profiles(profiles: list[dict[str, Any]], imports: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Where the time goes: pyinstrument",
        "",
        "One `make_plan` call per case, profiled with pyinstrument (0.5 ms sampling) after a warm-up call in",
        "the same process (cold wall of that first call shown too). Stages: each sample's self time goes to the",
        "innermost engine stage on its stack, so the stage seconds add up to the profiled wall.",
        "",
    ]
    for p in profiles:
        total = sum(p["stages"].values()) or 1.0
        lines += [f"### {p['name']}: {p['warm']:.3f} s warm, {p['cold']:.3f} s cold", "",
                  "| stage | s | share |", "|---|---:|---:|"]
        for label, secs in p["stages"].items():
            if secs > 0:
                lines.append(f"| {label} | {secs:.4f} | {secs / total:.1%} |")

        def share(prefix: str, p: dict[str, Any] = p, total: float = total) -> str:
            return f"{sum(s for k, s in p['stages'].items() if k.startswith(prefix)) / total:.1%}"

        lines += ["", f"In short: solving {share('CP-SAT')}, model building {share('model building')}, calendar and "
                      f"holiday arithmetic {share('calendar')} + {share('holidays')}, session cutting "
                      f"{share('session cutting')}.", "", "```text", *p["tree"], "```", ""]
    for imp in imports:
        lines += _render_imports(imp)
    return lines


def _render_imports(imports: dict[str, Any]) -> list[str]:
    lines = [
        f"### CLI import path: `python -X importtime -m planner {imports['args']}`",
        "",
        f"Whole command {imports['wall']:.2f} s wall (exit {imports['rc']}, stdout discarded); imports "
        f"{imports['total_import_s']:.3f} s cumulative over {imports['modules']} modules. Top 10 by cumulative time",
        "(nested modules are included in their parents' figures; depth 1 = imported at top level):",
        "",
        "| module | cumulative s | self s | depth |",
        "|---|---:|---:|---:|",
    ]
    for row in imports["top"]:
        lines.append(f"| `{row['module']}` | {row['cumulative_s']:.3f} | {row['self_s']:.4f} | {row['depth']} |")
    depth = {row["module"]: row["depth"] for row in imports["top"]}
    if depth.get("pandas", 0) > depth.get("ortools.sat.python.cp_model", 99):
        lines += ["", "pandas is imported by `ortools.sat.python.cp_model` itself (it sits below it in the tree), so"
                      " the planner cannot avoid it while it imports CP-SAT at module level."]
    lines.append("")
    return lines


def plot(scale: list[dict[str, Any]], path: Path) -> str:
    rows = [r for r in scale if r["status"] not in ("impossible", "INFEASIBLE")]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "No plot: matplotlib is not installed (`pip install matplotlib`, then re-run)."
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for factor in sorted({r["factor"] for r in rows}):
        pts = sorted((r["sessions"], r["solve"], r["wall"], r["months"]) for r in rows if r["factor"] == factor)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"{factor}× solve")
        ax.plot([p[0] for p in pts], [p[2] for p in pts], "x:", color=ax.lines[-1].get_color(), alpha=0.6,
                label=f"{factor}× make_plan wall")
        for p in pts:
            ax.annotate(f"{p[3]} mo", (p[0], p[1]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("sessions in the plan")
    ax.set_ylabel("seconds")
    ax.set_title("Solve time against plan size (synthetic paths, horizon in months)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"![seconds against sessions]({path.name}) (`{shown}`, matplotlib)."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller grid and fewer CLI runs")
    ap.add_argument("--out", default="docs/benchmarks.md", help="report path (default: docs/benchmarks.md)")
    ap.add_argument("--before", metavar="REV",
                    help="also time the slow cases and the CLI with the engine of this git revision, side by side")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, *rest = json.loads(args.worker)
        workers = {"grid": worker_grid, "scale": worker_scale, "replan": worker_replan,
                   "dashboard": worker_dashboard, "profile": worker_profile, "case": worker_case}
        result = workers[kind](*rest)
        print(json.dumps(result))
        return 0

    t0 = time.perf_counter()
    load_start = os.getloadavg()[0]
    hours = HOURS_QUICK if args.quick else HOURS
    grid = []
    for bg in BACKGROUNDS:
        for h in hours:
            r = run_worker("grid", bg, h)
            grid.append(r)
            print(f"grid {bg:22s} {h:>3} h: {r['status']:10s} wall {r['wall']:.3f} s", flush=True)
    scale = []
    for factor in FACTORS_QUICK if args.quick else FACTORS:
        for months in HORIZONS_QUICK if args.quick else HORIZONS:
            r = run_worker("scale", factor, months)
            scale.append(r)
            print(f"scale {factor}x {months:>2} mo: {r['status']:10s} {r.get('hours', r['need'])} h/week "
                  f"sessions {r.get('sessions', '-')} wall {r.get('wall', math.nan):.3f} s", flush=True)
    long = []
    for h in LONG_HOURS_QUICK if args.quick else LONG_HOURS:
        r = run_worker("case", {"path": "long", "hours": h})
        long.append(r)
        print(f"long range {LONG_RANGE[0]}-{LONG_RANGE[1]} months {h:>3} h: {r['status']:10s} wall {r['wall']:.3f} s",
              flush=True)
    replans = []
    for bg, h in REPLAN_CASES_QUICK if args.quick else REPLAN_CASES:
        r = run_worker("replan", bg, h)
        replans.append(r)
        print(f"replan {bg:22s} {h:>3} h: " + ", ".join(f"{c['median']:.3f} s" for c in r["cases"]), flush=True)
    dash = run_worker("dashboard", DASH_RUNS_QUICK if args.quick else DASH_RUNS)
    print(f"dashboard first render {dash['first']} submit {dash['submit']} {dash['notes']}", flush=True)
    profiles = []
    for case in PROFILE_CASES:
        p = run_worker("profile", *case)
        profiles.append(p)
        print(f"profile {p['name']}: {p['warm']:.3f} s", flush=True)
    imports = [importtime(a) for a in IMPORT_COMMANDS]
    print("importtime: " + ", ".join(f"{i['args'].split()[0]} {i['total_import_s']:.2f} s" for i in imports),
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        before = checkout(args.before, Path(tmp)) if args.before else None
        compared = []
        if before is not None:
            compared = compare(before, compare_cases(grid, scale, long),
                               COMPARE_RUNS_QUICK if args.quick else COMPARE_RUNS)
        cli = cli_timing(CLI_RUNS_QUICK if args.quick else CLI_RUNS, before)
    print(f"cli {cli['cli']:.3f} s vs bare {cli['bare']:.3f} s: {cli['ratio']:.2f}x {cli.get('error', '')}",
          flush=True)
    out = Path(args.out)
    if not out.is_absolute():
        out = ROOT / out
    plot_note = plot(scale, out.parent / "bench-scaling.png")
    extra = {"replan": replans, "dashboard": dash, "profiles": profiles, "imports": imports, "load": (load_start,),
             "long": long, "compared": compared, "before": args.before}
    text = render(args, grid, scale, cli, plot_note, time.perf_counter() - t0, _rss_mb(), extra)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print("\n".join(summary(grid, scale, cli, long)))
    print(f"wrote {out}")
    return 0


def summary(grid: list[dict[str, Any]], scale: list[dict[str, Any]], cli: dict[str, Any],
            long: list[dict[str, Any]]) -> list[str]:
    """The figures the issue asks for, on the terminal: CLI ratio, worst infeasible answer, scaling table."""
    lines = ["", f"CLI ratio: {cli['ratio']:.2f}× ({cli['cli']:.3f} s vs bare import {cli['bare']:.3f} s, median of "
                 f"{cli['runs']} alternating runs)"]
    if "before" in cli:
        lines.append(f"  before: {cli['before']:.3f} s = {cli['before_ratio']:.2f}×")
    name, wall = worst_infeasible(grid, long)
    lines += [f"Worst infeasible answer: {wall:.3f} s ({name})", "", "Scaling (make_plan wall s):",
              "  path  " + "".join(f"{m:>9} mo" for m in sorted({r['months'] for r in scale}))]
    for factor in sorted({r["factor"] for r in scale}):
        cells = []
        for r in sorted((r for r in scale if r["factor"] == factor), key=lambda r: r["months"]):
            cells.append(f"{r['wall']:>12.3f}" if "sessions" in r else f"{'—':>12}")
        lines.append(f"  {factor}×    " + "".join(cells))
    return lines


def worst_infeasible(grid: list[dict[str, Any]], long: list[dict[str, Any]]) -> tuple[str, float]:
    rows = [(f"{r['background']} {r['hours']:g} h/week", r["wall"]) for r in grid if r["status"] == "INFEASIBLE"]
    rows += [(f"complete_beginner over {LONG_RANGE[0]}-{LONG_RANGE[1]} months, {r['hours']:g} h/week", r["wall"])
             for r in long if r["status"] == "INFEASIBLE"]
    return max(rows, key=lambda x: x[1]) if rows else ("none", 0.0)


if __name__ == "__main__":
    sys.exit(main())
