"""A cohort in one command: one CSV row per learner, planned on a process pool or on Ray tasks.

Each learner costs about 0.06 s of solving but a `planner plan` process costs a second of start-up; here the
workers load OR-Tools and the curriculum once and plan chunk after chunk. The worker function (plan_chunk) is the
same on both engines, and it is the same code as `planner plan` (profile_from_mapping → with_busy → make_plan →
validate_plan → the JSON and .ics writers), so a learner's files equal that command's byte for byte (DTSTAMP aside).
Workers return bytes; only this process writes DIR, atomically (planner.atomic), so a Ray cluster's outputs land
on the machine that runs the command.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import logging
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError, one_line

MAX_COHORT_BYTES = 256 * 1024 * 1024  # a CSV of a few hundred thousand learners fits many times over
LIST_FIELDS = ("blackouts", "skip", "electives", "busy", "review_days", "windows", "days")  # `;`-separated cells
SUMMARY_COLUMNS = ("name", "status", "finish", "months", "min_hours_per_week", "message")
STATE_FILE = ".planner-batch.json"  # per learner: file stem, profile hash and summary row, for --resume
MAX_NAME_CHARS = 100
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}
STATE_EVERY_S = 2.0  # the resume state is saved this often while planning, and at the end


@dataclass(frozen=True)
class Row:
    """One learner as read from the CSV: the raw name, its line, its profile fields, or why it cannot be planned."""

    line: int
    name: str
    data: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class Task:
    """What a worker needs for one learner: picklable, so it crosses to a process or a Ray node."""

    key: str  # the file stem
    profile: Any = None  # planner.profile.Profile: plan it as `planner plan` does
    plan_path: str | None = None  # or re-plan this saved plan (its marks kept) from `today`, as `planner replan`
    today: Any = None  # datetime.date
    learner: str | None = None  # or re-plan this dashboard learner (store name) from `today`, as "Re-plan from today"
    plan_data: Any = None  # its current plan (planner.plan/1 mapping), filled in just before the task is sent
    content_text: tuple[str, str] | None = None  # the learning path kept with the learner, when not a shipped one


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str  # planned | does-not-fit | error
    finish: str = ""
    months: str = ""
    min_hours_per_week: str = ""
    message: str = ""
    json_bytes: bytes | None = None
    ics_bytes: bytes | None = None
    plan_data: Any = None  # --db: the new plan to save as the learner's next version (None: nothing to save)

    def summary(self) -> dict[str, str]:
        return {"status": self.status, "finish": self.finish, "months": self.months,
                "min_hours_per_week": self.min_hours_per_week, "message": self.message}


# ---------------------------------------------------------------------------------------------------- reading

def read_cohort(path: str | Path) -> list[Row]:
    """Every row of the cohort CSV; an unreadable file or header is an InputError (exit 2), a bad row is a Row
    with its error, so it never stops the others."""
    from planner.profile import PROFILE_FIELDS

    p = Path(path)
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_COHORT_BYTES + 1)
    except OSError as exc:
        raise InputError("LEARNERS.csv", f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_COHORT_BYTES:
        raise InputError("LEARNERS.csv", f"{path} is larger than {MAX_COHORT_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("LEARNERS.csv", f"{path} is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise InputError("LEARNERS.csv", f"{path} holds a NUL byte: not a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InputError("LEARNERS.csv", f"{path} is empty: expected a header row naming profile fields")
        columns = [h.strip() for h in header]
        if "name" not in columns:
            raise InputError("LEARNERS.csv", f"{path}:1: the header has no 'name' column")
        for c in columns:
            if c != "name" and c not in PROFILE_FIELDS:
                raise InputError("LEARNERS.csv", f"{path}:1: unknown column '{c}' (allowed: name, "
                                                 f"{', '.join(sorted(PROFILE_FIELDS))})")
            if columns.count(c) > 1:
                raise InputError("LEARNERS.csv", f"{path}:1: column '{c}' appears twice")
        rows: list[Row] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # a blank line is no learner
            rows.append(_row(line, columns, cells, p.resolve().parent))
    except csv.Error as exc:
        raise InputError("LEARNERS.csv", f"{path}:{reader.line_num}: {exc}") from None
    return rows


def _row(line: int, columns: list[str], cells: list[str], base: Path) -> Row:
    from planner.profile import normalise_source

    name = cells[columns.index("name")].strip() if len(cells) > columns.index("name") else ""
    if len(cells) > len(columns):
        return Row(line, name, {}, f"line {line}: {len(cells)} cells for {len(columns)} columns")
    cells = cells + [""] * (len(columns) - len(cells))  # trailing empty cells left out: the defaults
    if not name:
        return Row(line, name, {}, f"line {line}: name: missing")
    data: dict[str, Any] = {}
    try:
        for column, cell in zip(columns, cells, strict=True):
            value = cell.strip()
            if column == "name" or not value:
                continue
            if column in LIST_FIELDS:
                items: Any = [v.strip() for v in value.split(";") if v.strip()]
                if column == "busy":  # calendar files are found next to the CSV, as a profile's are next to it
                    items = [normalise_source(v, f"busy[{i}]", base) for i, v in enumerate(items)]
                data[column] = items
            else:
                data[column] = value
    except InputError as exc:
        return Row(line, name, {}, f"line {line}: {one_line(str(exc))}")
    return Row(line, name, data)


def safe_names(names: Sequence[str]) -> list[str]:
    """A file stem per name: no directories, no control characters, no Windows device names, no hidden files,
    and two names that become the same stem (case aside, for case-blind file systems) get -2, -3, ..."""
    taken: set[str] = set()
    out = []
    for name in names:
        stem = _safe_stem(name)
        candidate, n = stem, 1
        while candidate.casefold() in taken or candidate.casefold() == Path(STATE_FILE).stem.casefold():
            n += 1
            candidate = f"{stem}-{n}"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


def _safe_stem(name: str) -> str:
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch if (ch.isalnum() or ch in "-_.") else "_" for ch in text
                   if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"_+", "_", text).strip("._ ")[:MAX_NAME_CHARS].rstrip("._ ")
    if not text:
        text = "learner"
    if text.split(".")[0].upper() in WINDOWS_RESERVED or text.casefold() == "summary":
        text = "_" + text
    return text


def profile_hash(profile: Any, content_digest: str) -> str:
    """What a learner's outputs depend on: the resolved profile (defaults filled in) and the content file."""
    blob = json.dumps(profile.to_dict(), sort_keys=True, default=str) + content_digest
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------------- workers

_LOADED: dict[str, Any] = {}


def _init_worker(content: str) -> None:
    """Load OR-Tools, the writers and the curriculum once per worker process (a Ray worker does it on first use)."""
    if _LOADED.get("content") == content:
        return
    from planner.curriculum import load_curriculum
    from planner.export.ics import plan_to_ics  # noqa: F401  (loaded now, not on the first learner)
    from planner.export.json import plan_to_json  # noqa: F401
    from planner.solve import make_plan  # noqa: F401  (OR-Tools)

    _LOADED["curriculum"] = load_curriculum(content)
    _LOADED["content"] = content
    gc.freeze()  # what is loaded once (OR-Tools, the path) is never garbage: the collector stops walking it


def plan_chunk(content: str, tasks: Sequence[Task]) -> list[Outcome]:
    """Plan each learner of a chunk as `planner plan` would; a learner's failure is its own Outcome."""
    _init_worker(content)
    return [_plan_one(_LOADED["curriculum"], t) for t in tasks]


def _plan_one(curriculum: Any, task: Task) -> Outcome:
    from planner.busy import with_busy
    from planner.export.ics import plan_to_ics
    from planner.export.json import plan_to_json
    from planner.solve import Infeasible, make_plan
    from planner.validate import validate_plan

    try:
        if task.learner is not None:
            return _replan_learner(curriculum, task)
        if task.plan_path is not None:
            return _replan_one(curriculum, task)
        profile = with_busy(task.profile, curriculum)
        result = make_plan(curriculum, profile)
        if isinstance(result, Infeasible):
            low = result.min_hours_per_week
            return Outcome(task.key, "does-not-fit", months=f"{result.earliest_finish_months:.1f}"
                           if result.earliest_finish_months is not None else "",
                           finish=result.earliest_finish.isoformat() if result.earliest_finish else "",
                           min_hours_per_week=f"{low:g}" if low is not None else "",
                           message=result.message().splitlines()[0])
        problems = validate_plan(result)
        if problems:
            return Outcome(task.key, "error", message=one_line(f"internal error: the plan breaks a rule: "
                                                                f"{problems[0]}"))
        return Outcome(task.key, "planned", finish=result.finish.isoformat(), months=f"{result.months:.1f}",
                       json_bytes=plan_to_json(result), ics_bytes=plan_to_ics(result))
    except InputError as exc:
        return Outcome(task.key, "error", message=one_line(str(exc)))
    except Exception as exc:  # a bad learner never stops the others
        return Outcome(task.key, "error", message=one_line(f"{type(exc).__name__}: {exc}"))


def _replan_one(curriculum: Any, task: Task) -> Outcome:
    from planner.export.ics import plan_to_ics
    from planner.export.json import plan_to_json
    from planner.planfile import load_plan, lock_plan
    from planner.replan import CatchUpMenu, replan
    from planner.validate import validate_plan

    assert task.plan_path is not None
    with lock_plan(task.plan_path, shared=True):  # a `mark` in progress finishes first
        plan = load_plan(task.plan_path, curriculum)
    result = replan(curriculum, plan, task.today)
    if isinstance(result, CatchUpMenu):
        low = result.hours_per_week_needed
        return Outcome(task.key, "does-not-fit", finish=result.late_finish.isoformat() if result.late_finish else "",
                       min_hours_per_week=f"{low:g}" if low is not None else "", message=one_line(result.header()))
    problems = validate_plan(result.plan)
    if problems:
        return Outcome(task.key, "error", message=one_line(f"internal error: the new plan breaks a rule: "
                                                            f"{problems[0]}"))
    new = result.plan
    return Outcome(task.key, "planned", finish=new.finish.isoformat(), months=f"{new.months:.1f}",
                   json_bytes=plan_to_json(new), ics_bytes=plan_to_ics(new))


_OTHER_PATHS: dict[str, Any] = {}  # a worker's learning paths besides --content: kept ones (by hash) and shipped


def _learner_curriculum(curriculum: Any, task: Task) -> Any:
    """The path a dashboard learner's plan is read with: the one kept with it in the store, else --content when
    it is the plan's path, else the shipped path the plan names (as the feed reads it)."""
    from planner.curriculum import curriculum_for_id, parse_curriculum

    if task.content_text is not None:
        source, text = task.content_text
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if key not in _OTHER_PATHS:
            _OTHER_PATHS[key] = parse_curriculum(text, source)
        return _OTHER_PATHS[key]
    path = task.plan_data.get("path") if isinstance(task.plan_data, dict) else None
    path_id = str(path.get("id", "")) if isinstance(path, dict) else ""
    if path_id == curriculum.id:
        return curriculum
    if path_id not in _OTHER_PATHS:
        _OTHER_PATHS[path_id] = curriculum_for_id(path_id)
    return _OTHER_PATHS[path_id]


def same_plan(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two plan mappings alike but for the solver's record (its timings and objective differ between any two
    solves of the same plan): a second nightly run from the same day finds nothing to save."""
    def bare(d: Mapping[str, Any]) -> str:  # as JSON text: a tuple and the list it is stored as are alike
        summary = d.get("summary")
        summary = {k: v for k, v in summary.items() if k != "solver"} if isinstance(summary, dict) else summary
        return json.dumps({**d, "summary": summary}, sort_keys=True, ensure_ascii=False, default=str)

    return bare(a) == bare(b)


def _replan_learner(curriculum: Any, task: Task) -> Outcome:
    """A dashboard learner re-planned from `today` as its "Re-plan from today" does (replan() with no choice);
    the driver saves the plan as the learner's next version, so the plan is sent back as a mapping."""
    from planner.export.json import plan_from_dict, plan_to_dict
    from planner.replan import CatchUpMenu, replan
    from planner.validate import validate_plan

    if not isinstance(task.plan_data, dict):
        return Outcome(task.key, "error", message="no plan saved (the last inputs did not fit): make a plan on the "
                                                  "dashboard first")
    curriculum = _learner_curriculum(curriculum, task)
    plan = plan_from_dict(task.plan_data, curriculum)
    result = replan(curriculum, plan, task.today)
    if isinstance(result, CatchUpMenu):
        low = result.hours_per_week_needed
        return Outcome(task.key, "does-not-fit", finish=result.late_finish.isoformat() if result.late_finish else "",
                       min_hours_per_week=f"{low:g}" if low is not None else "",
                       message=one_line(result.header()) + " (not saved: choose on the dashboard)")
    problems = validate_plan(result.plan)
    if problems:
        return Outcome(task.key, "error", message=one_line(f"internal error: the new plan breaks a rule: "
                                                            f"{problems[0]}"))
    new = result.plan
    data = plan_to_dict(new)
    unchanged = same_plan(data, task.plan_data)
    return Outcome(task.key, "planned", finish=new.finish.isoformat(), months=f"{new.months:.1f}",
                   message=f"unchanged since the last re-plan from {task.today}: no new version" if unchanged
                   else result.diff.text(), plan_data=None if unchanged else data)


# ---------------------------------------------------------------------------------------------------- engines

def _chunks(tasks: Sequence[Task], size: int) -> Iterator[list[Task]]:
    for i in range(0, len(tasks), size):
        yield list(tasks[i:i + size])


def _chunk_size(n: int, workers: int) -> int:
    """Small enough that every worker gets several chunks (an even finish), large enough to amortise pickling."""
    return max(1, min(16, n // (workers * 8) or 1))


Prepare = Callable[[list[Task]], list[Task]]


def _same(chunk: list[Task]) -> list[Task]:
    return chunk


def run_local(content: str, tasks: Sequence[Task], workers: int, prepare: Prepare = _same
              ) -> Iterator[list[Outcome]]:
    """`prepare` fills a chunk's tasks just before it is sent (a store's plans are read chunk by chunk, so the
    driver never holds a whole cohort's plans)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    size = _chunk_size(len(tasks), workers)
    chunks = _chunks(tasks, size)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(content,)) as pool:
        pending: dict[Future[list[Outcome]], list[Task]] = {}
        for chunk in chunks:  # at most a few chunks per worker in flight: memory stays flat for any cohort
            chunk = prepare(chunk)
            pending[pool.submit(plan_chunk, content, chunk)] = chunk
            if len(pending) >= workers * 3:
                yield from _collect(pending, wait(pending, return_when=FIRST_COMPLETED).done)
        while pending:
            yield from _collect(pending, wait(pending, return_when=FIRST_COMPLETED).done)


def _collect(pending: dict[Any, list[Task]], done: Any) -> Iterator[list[Outcome]]:
    for future in done:
        chunk = pending.pop(future)
        try:
            yield future.result()
        except Exception as exc:  # a worker died (killed, out of memory): its learners are errors, not a crash
            yield [Outcome(t.key, "error", message=one_line(f"worker failed: {type(exc).__name__}: {exc}"))
                   for t in chunk]


def run_ray(content: str, tasks: Sequence[Task], workers: int, address: str | None, prepare: Prepare = _same
            ) -> Iterator[list[Outcome]]:
    try:
        import ray
    except ImportError:
        raise InputError("--engine", "ray is not installed: pip install 'study-planner[cluster]'") from None
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        else:  # a Ray of this machine's own, as big as --workers
            here = str(Path(__file__).resolve().parent.parent)  # its workers import this very planner package
            path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
            ray.init(num_cpus=workers, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONPATH": path}})
    try:
        remote = ray.remote(plan_chunk)
        size = _chunk_size(len(tasks), workers)
        room = max(workers, int(ray.cluster_resources().get("CPU", workers))) * 3  # in flight: memory stays flat
        refs: dict[Any, list[Task]] = {}
        chunks = _chunks(tasks, size)
        for chunk in chunks:
            chunk = prepare(chunk)
            refs[remote.remote(content, chunk)] = chunk
            if len(refs) >= room:
                yield from _ray_done(ray, refs)
        while refs:
            yield from _ray_done(ray, refs)
    finally:
        if started:
            ray.shutdown()


def _ray_done(ray: Any, refs: dict[Any, list[Task]]) -> Iterator[list[Outcome]]:
    done, _ = ray.wait(list(refs), num_returns=1)
    for ref in done:
        chunk = refs.pop(ref)
        try:
            yield ray.get(ref)
        except Exception as exc:
            yield [Outcome(t.key, "error", message=one_line(f"worker failed: {type(exc).__name__}: {exc}"))
                   for t in chunk]


# ---------------------------------------------------------------------------------------------------- the command

def run_batch(args: Any) -> int:
    """`planner batch`: plan every learner of the CSV into DIR; exit 2 only when the CSV cannot be read."""
    from planner.curriculum import default_content_path, load_curriculum
    from planner.profile import profile_from_mapping

    content = str(Path(args.content or default_content_path()).resolve())
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise InputError("--workers", f"expected 1 or more, got {workers}")
    if args.engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise InputError("--engine", "ray is not installed: pip install 'study-planner[cluster]'") from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a directory")
    if args.db is not None:
        return _run_db(args, content, workers, out)
    if args.replan is not None:
        return _run_replan(args, content, workers, out)
    if args.learners is None:
        raise InputError("LEARNERS.csv", "name the cohort CSV (or --replan DIR of saved plans, or --db STORE of "
                                         "the dashboard's learners)")
    if args.today is not None:
        raise InputError("--today", "goes with --replan DIR or --db STORE")
    rows = read_cohort(args.learners)
    curriculum = load_curriculum(content)
    digest = hashlib.sha256(Path(content).read_bytes()).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    state = _read_state(out) if args.resume else {}
    stems = safe_names([r.name for r in rows])
    results: dict[str, dict[str, str]] = {}
    new_state: dict[str, dict[str, str]] = {}
    tasks: list[Task] = []
    first: dict[str, str] = {}  # profile hash -> the stem of the first learner with it
    twins: dict[str, list[str]] = {}  # that stem -> the other learners with the very same resolved profile
    for row, stem in zip(rows, stems, strict=True):
        if row.error is not None:
            results[stem] = {"status": "error", "message": row.error}
            continue
        try:
            profile = profile_from_mapping(row.data, curriculum)
        except InputError as exc:
            results[stem] = {"status": "error", "message": f"line {row.line}: {one_line(str(exc))}"}
            continue
        h = profile_hash(profile, digest)
        old = state.get(stem)
        if old is not None and old.get("hash") == h and old.get("name") == row.name and _outputs_there(out, stem,
                                                                                                       old):
            results[stem] = {k: old.get(k, "") for k in SUMMARY_COLUMNS[1:]}
            new_state[stem] = old
            continue
        new_state[stem] = {"hash": h, "name": row.name}
        if h in first:  # the same inputs make the same plan (byte for byte): plan it once, write it for each
            twins.setdefault(first[h], []).append(stem)
            continue
        first[h] = stem
        tasks.append(Task(stem, profile))
    skipped = len(rows) - len(tasks) - sum(len(v) for v in twins.values())
    _plan_all(args, content, tasks, workers, out, state, new_state, results, twins=twins)
    _write_summary(out, rows, stems, results)
    planned = sum(1 for r in results.values() if r["status"] == "planned")
    unfit = sum(1 for r in results.values() if r["status"] == "does-not-fit")
    errors = sum(1 for r in results.values() if r["status"] == "error")
    print(f"{len(rows)} learners: {planned} planned, {unfit} do not fit, {errors} errors"
          + (f" ({skipped} unchanged, kept from the last run)" if args.resume and skipped else "")
          + f"; wrote {out / 'summary.csv'}")
    return 0


def _run_replan(args: Any, content: str, workers: int, out: Path) -> int:
    """`--replan DIR --today D`: every saved plan in DIR re-planned from D (its marks kept) into --out."""
    from planner.profile import parse_date

    if args.learners is not None:
        raise InputError("--replan", "re-plans a directory of saved plans: give it without LEARNERS.csv")
    if args.today is None:
        raise InputError("--today", "missing: the day --replan plans from (YYYY-MM-DD)")
    if args.resume:
        raise InputError("--resume", "goes with LEARNERS.csv, not --replan")
    today = parse_date(args.today, "--today")
    src = Path(args.replan)
    if not src.is_dir():
        raise InputError("--replan", f"{src} is not a directory of saved plans")
    if out.exists() and out.resolve() == src.resolve():
        raise InputError("--out", "must not be the --replan directory: the saved plans are the learners' history")
    plans = sorted(p for p in src.glob("*.json") if not p.name.startswith("."))
    rows = [Row(0, p.stem, {}) for p in plans]
    stems = safe_names([r.name for r in rows])
    out.mkdir(parents=True, exist_ok=True)
    tasks = [Task(stem, plan_path=str(p), today=today) for stem, p in zip(stems, plans, strict=True)]
    results: dict[str, dict[str, str]] = {}
    new_state: dict[str, dict[str, str]] = {t.key: {} for t in tasks}
    _plan_all(args, content, tasks, workers, out, {}, new_state, results)
    _write_summary(out, rows, stems, results)
    counts = {s: sum(1 for r in results.values() if r["status"] == s) for s in ("planned", "does-not-fit", "error")}
    print(f"{len(rows)} saved plans re-planned from {today}: {counts['planned']} planned, {counts['does-not-fit']} "
          f"behind beyond the range, {counts['error']} errors; wrote {out / 'summary.csv'}")
    return 0


def _run_db(args: Any, content: str, workers: int, out: Path) -> int:
    """`--db STORE --today D`: every dashboard learner re-planned from D as "Re-plan from today" does, saved as
    its next version (note "re-planned from D (planner batch)"), based on the version read: a learner saved on the
    dashboard meanwhile is left as it is (error: run again). A plan that comes out the same (a second run from the
    same day) adds no version; one behind beyond the range is not saved (its choices are the learner's)."""
    from planner.profile import parse_date
    from planner.store import StaleVersion, Store, StoreError

    if args.learners is not None or args.replan is not None:
        raise InputError("--db", "re-plans the dashboard's learners: give it without LEARNERS.csv or --replan")
    if args.today is None:
        raise InputError("--today", "missing: the day --db re-plans from (YYYY-MM-DD)")
    if args.resume:
        raise InputError("--resume", "goes with LEARNERS.csv, not --db")
    today = parse_date(args.today, "--today")
    store = Store(Path(args.db).expanduser(), create=False, make_folder=False)  # a damaged file: one line, exit 2
    if store.readonly:
        raise InputError(f"database {store.path}", "the file is read-only, so no re-plan could be saved")
    names = store.names()
    rows = [Row(0, n, {}) for n in names]
    stems = safe_names(names)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [Task(stem, learner=name, today=today) for stem, name in zip(stems, names, strict=True)]
    read: dict[str, Any] = {}  # stem -> (name, version, profile) of the learner as read, until saved
    note = f"re-planned from {today} (planner batch)"

    def prepare(chunk: list[Task]) -> list[Task]:
        filled = []
        for t in chunk:
            assert t.learner is not None
            try:
                rec = store.load(t.learner)
                kept = store.content(t.learner)
            except StoreError as exc:
                rec, kept = None, None
                read[t.key] = one_line(exc.message)
            if rec is not None:
                read[t.key] = rec
                filled.append(Task(t.key, learner=t.learner, today=today, plan_data=rec.plan, content_text=kept))
            else:  # deleted meanwhile, or its row unreadable: the worker reports it
                filled.append(Task(t.key, learner=t.learner, today=today))
        return filled

    def keep(o: Outcome) -> Outcome:
        rec = read.pop(o.key, None)
        if isinstance(rec, str):
            return Outcome(o.key, "error", message=f"cannot read this learner: {rec}")
        if rec is None:
            return Outcome(o.key, "error", message="no longer saved (deleted on the dashboard meanwhile)")
        if o.plan_data is None:
            return o
        try:
            saved = store.save(rec.name, rec.profile, o.plan_data, tracked=True, expected_version=rec.version,
                               note=note)
        except StaleVersion as exc:
            return Outcome(o.key, "error", message=f"saved on the dashboard meanwhile (version {exc.current}): "
                                                   f"left as it is; run again to re-plan it")
        except InputError as exc:  # StoreError too: the disk filled, the file turned read-only
            return Outcome(o.key, "error", message=f"not saved: {one_line(str(exc))}")
        return Outcome(o.key, o.status, o.finish, o.months, o.min_hours_per_week,
                       f"version {saved.version}: {o.message}")

    results: dict[str, dict[str, str]] = {}
    new_state: dict[str, dict[str, str]] = {t.key: {} for t in tasks}
    _plan_all(args, content, tasks, workers, out, {}, new_state, results, prepare, keep)
    _write_summary(out, rows, stems, results)
    counts = {s: sum(1 for r in results.values() if r["status"] == s) for s in ("planned", "does-not-fit", "error")}
    same = sum(1 for r in results.values() if r["status"] == "planned" and "no new version" in r["message"])
    print(f"{len(rows)} learners of {store.path} re-planned from {today}: {counts['planned'] - same} new versions, "
          f"{same} unchanged, {counts['does-not-fit']} behind beyond the range (not saved), {counts['error']} "
          f"errors; wrote {out / 'summary.csv'}")
    return 0


def _plan_all(args: Any, content: str, tasks: list[Task], workers: int, out: Path, state: Mapping[str, Any],
              new_state: dict[str, dict[str, str]], results: dict[str, dict[str, str]], prepare: Prepare = _same,
              keep: Callable[[Outcome], Outcome] | None = None, twins: Mapping[str, list[str]] | None = None
              ) -> None:
    """Every task through the engine; outcomes written into `out` as they come (or handed to `keep`, which saves
    them elsewhere and returns the outcome to report). `twins`: learners planned by another's task (the same
    resolved profile), each written from that outcome under its own name."""
    from dataclasses import replace

    from tqdm import tqdm

    from planner.atomic import write_all

    if args.engine == "ray":
        batches = run_ray(content, tasks, workers, args.ray_address, prepare)
    else:
        batches = run_local(content, tasks, min(workers, max(1, len(tasks))), prepare)
    tqdm.monitor_interval = 0  # no monitor thread: the pool's workers are forked while the bar is shown
    saved = time.monotonic()
    twins = twins or {}
    total = len(tasks) + sum(len(v) for v in twins.values())
    with tqdm(total=total, file=sys.stderr, unit="learner", mininterval=0.5, desc="planning") as bar:
        if not tasks:
            return
        for batch in batches:
            batch = [replace(o, key=k) for o in batch for k in (o.key, *twins.get(o.key, ()))]
            for o in batch:
                if keep is not None:
                    o = keep(o)
                elif o.status == "planned":
                    assert o.json_bytes is not None and o.ics_bytes is not None
                    write_all([(out / f"{o.key}.json", o.json_bytes), (out / f"{o.key}.ics", o.ics_bytes)])
                elif state.get(o.key, {}).get("status") == "planned":  # the files of a plan this run replaces
                    for ext in (".json", ".ics"):
                        (out / f"{o.key}{ext}").unlink(missing_ok=True)
                results[o.key] = o.summary()
                if o.status != "error":
                    new_state[o.key].update(o.summary())
                else:
                    new_state.pop(o.key, None)
            bar.update(len(batch))
            if time.monotonic() - saved > STATE_EVERY_S:
                _write_state(out, {k: v for k, v in new_state.items() if "status" in v})
                saved = time.monotonic()
    _write_state(out, {k: v for k, v in new_state.items() if "status" in v})


def _outputs_there(out: Path, stem: str, old: Mapping[str, str]) -> bool:
    if old.get("status") == "planned":
        return (out / f"{stem}.json").is_file() and (out / f"{stem}.ics").is_file()
    return old.get("status") == "does-not-fit"


def _read_state(out: Path) -> dict[str, dict[str, str]]:
    """The last run's hashes; a missing or damaged state file only means every learner is planned again."""
    try:
        data = json.loads((out / STATE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    learners = data.get("learners") if isinstance(data, dict) else None
    return {k: v for k, v in learners.items() if isinstance(v, dict)} if isinstance(learners, dict) else {}


def _write_state(out: Path, learners: Mapping[str, Mapping[str, str]]) -> None:
    from planner.atomic import write_atomic

    body = json.dumps({"version": 1, "learners": learners}, sort_keys=True, indent=1) + "\n"
    write_atomic(out / STATE_FILE, body.encode("utf-8"))


def _write_summary(out: Path, rows: Sequence[Row], stems: Sequence[str], results: Mapping[str, Mapping[str, str]]
                   ) -> None:
    from planner.atomic import write_atomic
    from planner.export.csv import neutralise  # a name like =HYPERLINK(...) is text in a spreadsheet too

    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for row, stem in zip(rows, stems, strict=True):
        r = results.get(stem, {"status": "error", "message": "not planned"})
        w.writerow([neutralise(row.name)] + [neutralise(r.get(k, "")) for k in SUMMARY_COLUMNS[1:]])
    write_atomic(out / "summary.csv", buf.getvalue().encode("utf-8"))
