"""A learner's whole plan, lived: the stateful property test of re-plan chains.

Each simulated learner makes a plan, then week after week ticks what they did, misses some of it (partly, in any
amount of hours), works ahead, marks whole topics done, changes their weekly hours, drops an optional topic or
accepts a late finish, and re-plans on random dates — through the functions the CLI and the dashboard call. After
every step:

- the validator passes the plan (only `month-range` is allowed once the learner accepted a late finish);
- history is unchanged: every session done or missed earlier keeps its times, status and hours;
- UIDs are unique, and a UID's SEQUENCE never decreases;
- progress never passes 100 % and the hour figures add up (planner.totals);
- the JSON round-trips to the same plan, and the .ics is read by icalendar and vobject at the JSON's instants
  (and, for every file of the run at once, by ical.js when node is there).

Hypothesis profiles (HYPOTHESIS_PROFILE): `ci` (default) runs 50 learner-years, derandomized; `slow` runs 1,000
with random exploration (`pytest -m slow tests/test_learner_year.py`). PLANNER_LEARNER_YEARS=N overrides either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from planner.curriculum import Curriculum, load_curriculum
from planner.errors import InputError
from planner.export import plan_to_ics, plan_to_json
from planner.export.json import plan_from_dict
from planner.plan import Plan, Session
from planner.profile import profile_from_mapping
from planner.progress import mark_done, mark_done_through, mark_missed, mark_topic_done
from planner.replan import CatchUpMenu, Replanned, replan
from planner.solve import Infeasible, make_plan
from planner.totals import plan_totals
from planner.validate import validate_plan

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "tests" / "js"
PATHS = {"ml": ROOT / "content" / "ml-ai-engineer.yaml", "sql": ROOT / "content" / "sql-foundations.yaml"}
_CURRICULA: dict[str, Curriculum] = {}

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
YEARS = int(os.environ.get("PLANNER_LEARNER_YEARS", "1000" if PROFILE == "slow" else "50"))
STEPS = 12  # a step is a few days to four weeks of a learner's life
TIMEZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Auckland",
             "America/Sao_Paulo", "Australia/Lord_Howe"]
ICS_DIR = Path(tempfile.mkdtemp(prefix="learner-year-"))
COUNTS = {"learners": 0, "steps": 0, "replans": 0, "menus": 0, "late": 0, "drops": 0, "hour_changes": 0, "refused": 0}


def curriculum(name: str) -> Curriculum:
    if name not in _CURRICULA:
        _CURRICULA[name] = load_curriculum(PATHS[name])
    return _CURRICULA[name]


def _fingerprint(s: Session) -> tuple[Any, ...]:
    return (s.uid, s.topic, s.kind, s.start, s.end, s.status, round(s.done_hours, 9))


class LearnerYear(RuleBasedStateMachine):
    """One learner's plan from the first day to the end, with every action a learner can take."""

    def __init__(self) -> None:
        super().__init__()
        self.plan: Plan | None = None
        self.path = "ml"
        self.today = dt.date(2027, 1, 4)
        self.late_ok = False
        self.history: dict[str, tuple[Any, ...]] = {}  # done sessions: never altered
        self.missed: dict[str, tuple[Any, ...]] = {}  # missed sessions: times fixed (a topic marked done may
        # turn them done)
        self.sequences: dict[str, int] = {}
        self.files = 0
        self.last_ics = b""

    # ------------------------------------------------------------------ start
    @initialize(path=st.sampled_from(["ml", "sql", "sql"]),
                background=st.integers(0, 2), hours=st.integers(0, 12), tz=st.sampled_from(TIMEZONES),
                start=st.integers(0, 365), days=st.sampled_from(["", "mon,tue,wed,thu,sat", "mon,wed,fri,sat,sun"]))
    def make(self, path: str, background: int, hours: int, tz: str, start: int, days: str) -> None:
        c = curriculum(path)
        self.path = path
        names = sorted(b.key for b in c.backgrounds)
        fields: dict[str, Any] = {"background": names[background % len(names)],
                                  "start": (dt.date(2027, 1, 1) + dt.timedelta(days=start)).isoformat(),
                                  "timezone": tz, "hours_per_week": 10 + hours * 2}  # low ones: the minimum
        if days:
            fields["days"] = days.split(",")
        result = make_plan(c, profile_from_mapping(fields, c))
        if isinstance(result, Infeasible):
            assert result.min_hours_per_week is not None, result.message()
            fields["hours_per_week"] = result.min_hours_per_week
            result = make_plan(c, profile_from_mapping(fields, c))
            assert not isinstance(result, Infeasible), "the minimum weekly hours given did not fit: " + \
                result.message()
        self.plan = result
        self.today = result.profile.start
        COUNTS["learners"] += 1

    # ------------------------------------------------------------------ a learner's actions
    @precondition(lambda self: self.plan is not None)
    @rule(days=st.integers(3, 28), done_share=st.integers(0, 10), partial=st.integers(0, 8),
          minutes=st.integers(1, 179), seed=st.integers(0, 2**16))
    def live(self, days: int, done_share: int, partial: int, minutes: int, seed: int) -> None:
        """Time passes: of the sessions since the last check-in, some are done, some missed (a few partly)."""
        assert self.plan is not None
        end = self.today + dt.timedelta(days=days)
        past = [s for s in self.plan.sessions if s.status == "planned" and self.today <= s.day < end]
        done, missed, partly = [], [], []
        for i, s in enumerate(past):
            roll = (seed + i * 7919) % 10
            if roll < done_share:
                done.append(s.uid)
            elif roll < done_share + partial // 4:
                partly.append(s.uid)
            else:
                missed.append(s.uid)
        plan = self.plan
        if done:
            plan = mark_done(plan, done)
        if partly:
            plan = mark_missed(plan, partly, minutes / 60)  # any amount, capped at each session's length
        if missed:
            plan = mark_missed(plan, missed)
        self.plan = plan
        self.today = end

    @precondition(lambda self: self.plan is not None)
    @rule(ahead=st.integers(1, 14))
    def work_ahead(self, ahead: int) -> None:
        """Sessions of the coming days done already."""
        assert self.plan is not None
        self.plan = mark_done_through(self.plan, self.today + dt.timedelta(days=ahead))

    @precondition(lambda self: self.plan is not None)
    @rule(pick=st.integers(0, 10_000))
    def topic_done(self, pick: int) -> None:
        """A whole topic marked done (studied elsewhere, or already known)."""
        assert self.plan is not None
        open_topics = sorted({s.topic for s in self.plan.sessions if s.status == "planned" and s.kind != "review"})
        if open_topics:
            self.plan = mark_topic_done(self.plan, [open_topics[pick % len(open_topics)]])

    @precondition(lambda self: self.plan is not None)
    @rule(hours=st.one_of(st.none(), st.integers(-6, 10)), drop=st.booleans(), late=st.booleans(),
          choice=st.integers(0, 2))
    def re_plan(self, hours: int | None, drop: bool, late: bool, choice: int) -> None:
        """'Regenerate from today', sometimes with other weekly hours, an optional topic dropped or a late finish
        accepted; when the planner answers with its menu, the learner takes one of the choices it offers."""
        assert self.plan is not None
        plan = self.plan
        new_hours = None
        if hours is not None:
            new_hours = min(100.0, max(1.0, plan.profile.hours_per_week + hours))
            COUNTS["hour_changes"] += 1
        drops: tuple[str, ...] = ()
        if drop:
            optional = sorted(t.id for t in plan.requirements.topics if t.optional and not t.dropped)
            if optional:
                drops = (optional[choice % len(optional)],)
                COUNTS["drops"] += 1
        self.late_ok = self.late_ok or late
        try:
            result = replan(curriculum(self.path), plan, self.today, allow_late=self.late_ok, drop=drops,
                            hours_per_week=new_hours)
        except InputError as exc:  # a one-line answer, the plan unchanged: more hours than the study days hold,
            # or so few that even a late finish lies past the planner's horizon
            assert (exc.field == "--hours-per-week" and new_hours is not None) or \
                (exc.field == "--allow-late" and self.late_ok and "h/week" in exc.message), str(exc)
            COUNTS["refused"] += 1
            return
        if isinstance(result, CatchUpMenu):
            COUNTS["menus"] += 1
            result = self._choose(result, plan, drops, new_hours, choice)
            if result is None:
                return
        assert isinstance(result, Replanned)
        COUNTS["replans"] += 1
        self.plan = result.plan

    def _choose(self, menu: CatchUpMenu, plan: Plan, drops: tuple[str, ...], hours: float | None,
                choice: int) -> Replanned | None:
        """Each choice the menu offers must lead to a plan."""
        options: list[tuple[tuple[str, ...], float | None, bool]] = []
        if menu.hours_per_week_needed is not None:
            options.append((drops, menu.hours_per_week_needed, False))
        if menu.drop and menu.drop_finish is not None:
            options.append((drops + tuple(t for t, _, _ in menu.drop), hours, False))
        if menu.late_finish is not None:
            options.append((drops, hours, True))
        if not options:  # nothing fits even late (far past the horizon): the menu says so and the plan stays
            assert "None of the usual choices fits" in menu.message()
            COUNTS["refused"] += 1
            return None
        d, h, late = options[choice % len(options)]
        if late:
            self.late_ok = True
            COUNTS["late"] += 1
        result = replan(curriculum(self.path), plan, self.today, allow_late=self.late_ok or late, drop=d,
                        hours_per_week=h)
        assert isinstance(result, Replanned), f"the menu's choice {d, h, late} did not give a plan: {result}"
        return result

    # ------------------------------------------------------------------ after every step
    def _after_step(self) -> None:
        assert self.plan is not None
        COUNTS["steps"] += 1
        plan = self.plan
        problems = [str(v) for v in validate_plan(plan) if not (self.late_ok and v.rule == "month-range")]
        assert problems == [], problems[:5]
        uids = [s.uid for s in plan.sessions]
        assert len(uids) == len(set(uids)), "a UID appears twice"
        by_uid = {s.uid: s for s in plan.sessions}
        for uid, before in self.history.items():
            assert uid in by_uid, f"a done session was lost: {uid}"
            assert _fingerprint(by_uid[uid]) == before, f"a done session changed: {before} → {by_uid[uid]}"
        for uid, before in self.missed.items():
            assert uid in by_uid, f"a missed session was lost: {uid}"
            now = by_uid[uid]
            assert (now.uid, now.topic, now.kind, now.start, now.end) == before[:5], f"history moved: {uid}"
            assert now.status in ("missed", "done"), f"a missed session became {now.status}: {uid}"
        for s in plan.sessions:
            assert s.sequence >= self.sequences.get(s.uid, 0), f"SEQUENCE of {s.uid} went down"
            self.sequences[s.uid] = s.sequence
            if s.status == "done":
                self.history.setdefault(s.uid, _fingerprint(s))
            elif s.status == "missed":
                self.missed.setdefault(s.uid, _fingerprint(s))
        totals = plan_totals(plan)
        assert 0 <= totals.done_hours <= totals.required_hours + 1e-6
        assert totals.percent_done <= 100
        self._round_trip(plan)

    def _round_trip(self, plan: Plan) -> None:
        data = json.loads(plan_to_json(plan))
        back = plan_from_dict(data, curriculum(self.path))
        assert [(*_fingerprint(s), s.sequence) for s in back.sessions] == \
            [(*_fingerprint(s), s.sequence) for s in plan.sessions]
        assert [replace(t, group=None) for t in back.requirements.topics] == \
            [replace(t, group=None) for t in plan.requirements.topics]  # the JSON does not carry groups
        ics = plan_to_ics(plan)
        content = hashlib.sha256(re.sub(rb"DTSTAMP:[^\r\n]*", b"", ics)).digest()
        if content == self.last_ics:
            return  # the same calendar as after the step before (ticks do not move events): already read
        self.last_ics = content
        instants = {s["uid"]: dt.datetime.fromisoformat(s["start"]) for s in data["sessions"]}
        ends = {s["uid"]: dt.datetime.fromisoformat(s["end"]) for s in data["sessions"]}
        _check_icalendar(ics, instants, ends)
        _check_vobject(ics, instants)
        self.files += 1
        name = f"{COUNTS['learners']:05d}-{self.files:03d}"
        (ICS_DIR / f"{name}.ics").write_bytes(ics)
        (ICS_DIR / f"{name}.json").write_text(json.dumps({u: t.isoformat() for u, t in instants.items()}))

    @invariant()
    def checked(self) -> None:
        if self.plan is not None:
            self._after_step()


def _check_icalendar(ics: bytes, starts: dict[str, dt.datetime], ends: dict[str, dt.datetime]) -> None:
    import icalendar

    cal = icalendar.Calendar.from_ical(ics)
    seen = 0
    for ev in cal.walk("VEVENT"):
        uid = str(ev["UID"])
        if uid not in starts:
            continue  # a cancellation the plan no longer carries in full is the exporter's business
        seen += 1
        assert ev.decoded("DTSTART") == starts[uid], uid
        assert ev.decoded("DTEND") == ends[uid], uid
    assert seen > 0


def _check_vobject(ics: bytes, starts: dict[str, dt.datetime]) -> None:
    import vobject

    cal = vobject.readOne(io.StringIO(ics.decode("utf-8")))
    for ev in cal.vevent_list:
        uid = ev.uid.value
        if uid in starts:
            assert ev.dtstart.value == starts[uid], uid


LearnerYear.TestCase.settings = settings(
    max_examples=YEARS, stateful_step_count=STEPS, deadline=None, database=None,
    derandomize=PROFILE != "slow", suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
    # A learner-year is long and each step solves: shrinking a failure can take many minutes, so it is opt-in.
    phases=list(Phase) if os.environ.get("PLANNER_SHRINK") else [Phase.explicit, Phase.reuse, Phase.generate])
TestLearnerYear = pytest.mark.slow(LearnerYear.TestCase) if PROFILE == "slow" else LearnerYear.TestCase


def test_ical_js_reads_every_file_of_the_run() -> None:
    """Every .ics the learner-years wrote, read by Thunderbird's parser at the JSON's instants (batched)."""
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.skip("node or ical.js is not installed")
    files = sorted(ICS_DIR.glob("*.ics"))
    if not files:
        pytest.skip("the learner-year test did not run in this session")
    print(f"\nlearner-years: {COUNTS}; {len(files)} calendar files read by ical.js")
    for chunk in range(0, len(files), 100):
        batch = files[chunk:chunk + 100]
        proc = subprocess.run([node, str(JS_DIR / "check_ics_many.mjs"), *map(str, batch)], capture_output=True,
                              text=True, timeout=600, check=True)
        got = json.loads(proc.stdout)
        for f in batch:
            events = got[str(f)]
            want = json.loads(f.with_suffix(".json").read_text())
            for uid, start in want.items():
                if uid in events:
                    instant = dt.datetime.fromisoformat(start).astimezone(dt.UTC)
                    assert events[uid] == instant.strftime("%Y-%m-%dT%H:%M:%S.000Z"), (f.name, uid)


def _replay(steps: list[tuple[str, dict[str, Any]]]) -> None:
    machine = LearnerYear()
    for name, kwargs in steps:
        getattr(machine, name)(**kwargs)
        machine.checked()


def test_replay_review_taking_an_old_reviews_uid() -> None:
    """Found by the slow run: a new review that landed on an old review's slot took its UID, which a moved review
    kept as well (a UID twice)."""
    _replay([
        ("make", {"start": 216, "path": "ml", "hours": 4, "days": "mon,tue,wed,thu,sat", "background": 0,
                  "tz": "America/New_York"}),
        ("live", {"days": 10, "done_share": 5, "minutes": 56, "partial": 0, "seed": 854}),
        ("live", {"days": 3, "done_share": 5, "minutes": 104, "partial": 0, "seed": 405}),
        ("re_plan", {"choice": 2, "drop": False, "hours": None, "late": True}),
        ("topic_done", {"pick": 303}), ("topic_done", {"pick": 132}), ("topic_done", {"pick": 1514}),
        ("re_plan", {"choice": 2, "drop": False, "hours": -1, "late": False}),
        ("re_plan", {"choice": 1, "drop": True, "hours": None, "late": True}),
    ])


def test_replay_review_over_a_session_done_ahead() -> None:
    """Found by the slow run: after topics were marked done ahead, a review overlapped one of their sessions."""
    _replay([
        ("make", {"days": "mon,tue,wed,thu,sat", "hours": 6, "path": "sql", "tz": "America/Sao_Paulo",
                  "background": 0, "start": 100}),
        ("re_plan", {"choice": 1, "drop": False, "hours": None, "late": True}),
        ("topic_done", {"pick": 2000}),
        ("re_plan", {"choice": 0, "drop": True, "hours": None, "late": False}),
        ("re_plan", {"choice": 0, "drop": True, "hours": None, "late": True}),
        ("live", {"days": 22, "done_share": 10, "minutes": 12, "partial": 2, "seed": 41514}),
        ("topic_done", {"pick": 3701}), ("topic_done", {"pick": 230}),
        ("re_plan", {"choice": 0, "drop": True, "hours": None, "late": True}),
    ])


def test_replay_menu_offering_a_drop_that_still_finished_late() -> None:
    """Found by the slow run: the catch-up menu offered dropping optional topics although the finish stayed past
    the range's end, so taking that choice gave the menu again."""
    _replay([
        ("make", {"tz": "Pacific/Auckland", "hours": 6, "start": 295, "days": "mon,tue,wed,thu,sat", "path": "ml",
                  "background": 1}),
        ("live", {"days": 23, "done_share": 9, "minutes": 178, "partial": 0, "seed": 5457}),
        ("work_ahead", {"ahead": 11}),
        ("live", {"days": 24, "done_share": 1, "minutes": 67, "partial": 3, "seed": 183}),
        ("work_ahead", {"ahead": 12}), ("work_ahead", {"ahead": 4}),
        ("topic_done", {"pick": 391}),
        ("live", {"days": 5, "done_share": 7, "minutes": 136, "partial": 6, "seed": 1}),
        ("re_plan", {"choice": 1, "drop": False, "hours": -6, "late": False}),
    ])


def test_replay_missed_completion_before_a_replan_keeps_reviews_valid() -> None:
    """Found after reviews followed recall: a topic's last session missed (not yet re-planned) moved its card's
    completion earlier, so a review placed from the original completion looked early to the validator. Until a
    re-plan, missed sessions count as planned for review due dates, as they do for hours."""
    _replay([
        ("make", {"hours": 4, "days": "mon,tue,wed,thu,sat", "path": "sql", "background": 0, "start": 66,
                  "tz": "America/Sao_Paulo"}),
        ("live", {"days": 19, "done_share": 1, "minutes": 129, "partial": 0, "seed": 8349}),
    ])


def test_replay_topic_done_after_a_review_was_missed_and_placed_again() -> None:
    """Found after reviews followed recall: a topic marked done turned a missed review done although a re-plan had
    placed it again under the same number (review 1 twice); a missed review stays missed."""
    _replay([
        ("make", {"days": "mon,tue,wed,thu,sat", "start": 174, "hours": 9, "tz": "Pacific/Auckland",
                  "background": 0, "path": "sql"}),
        ("re_plan", {"choice": 2, "drop": False, "hours": 9, "late": True}),
        ("topic_done", {"pick": 4437}),
        ("re_plan", {"choice": 0, "drop": False, "hours": -1, "late": False}),
        ("live", {"days": 20, "done_share": 1, "minutes": 61, "partial": 0, "seed": 2146}),
        ("work_ahead", {"ahead": 8}),
        ("re_plan", {"choice": 2, "drop": True, "hours": 3, "late": False}),
        ("topic_done", {"pick": 6241}), ("topic_done", {"pick": 253}),
    ])
