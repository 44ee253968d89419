"""Re-plan chains through the `planner` command: every file the planner wrote is valid input to `mark` and
`replan` at any later date, and each step gives a valid plan or a one-line answer (exit 2 or 3), never exit 1.

One test per way a learner's year used to break: re-planning again later, re-planning twice while behind, working
ahead, partial hours in any amount, fewer hours from now on, dropping an optional topic, a late finish.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.cli import main
from planner.curriculum import load_curriculum
from planner.export.json import load_plan
from planner.totals import plan_totals
from planner.validate import validate_plan
from tests.conftest import ML_PATH

ML = ["--background", "ml_background", "--hours-per-week", "18", "--start", "2027-01-04"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "internal error" not in out.err, out.err
    return rc, out.out, out.err


def sessions(path: Path) -> dict[str, dict[str, Any]]:
    return {s["uid"]: s for s in json.loads(path.read_text())["sessions"]}


def assert_valid(path: Path, *, late: bool = False) -> None:
    plan = load_plan(path, load_curriculum(ML_PATH))
    problems = [str(v) for v in validate_plan(plan) if not (late and v.rule == "month-range")]
    assert problems == []
    uids = [s.uid for s in plan.sessions]
    assert len(uids) == len(set(uids))


def assert_history_kept(before: Path, after: Path) -> None:
    """Done sessions keep everything; SEQUENCE of a UID never goes down."""
    old, new = sessions(before), sessions(after)
    for uid, s in old.items():
        assert uid in new, f"{uid} lost"
        assert new[uid]["sequence"] >= s["sequence"]
        if s["status"] == "done":
            assert {k: new[uid][k] for k in ("start", "end", "status", "done_hours")} == \
                {k: s[k] for k in ("start", "end", "status", "done_hours")}


@pytest.fixture(scope="module")
def first_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "p.json"
    assert main(["plan", *ML, "--json", str(path)]) == 0
    return path


def test_replan_again_a_month_later(first_plan, tmp_path, capsys):
    """The buffer used by one re-plan's catch-up is history for the next: no 'buffer' failure."""
    n1, n2, n3 = tmp_path / "n1.json", tmp_path / "n2.json", tmp_path / "n3.json"
    assert run(capsys, "replan", str(first_plan), "--today", "2027-02-15", "--done-through", "2027-01-31",
               "--json", str(n1))[0] == 0
    assert run(capsys, "replan", str(n1), "--today", "2027-03-15", "--done-through", "2027-03-01",
               "--json", str(n2))[0] == 0
    assert run(capsys, "replan", str(n2), "--today", "2027-05-03", "--json", str(n3))[0] == 0
    for before, after in ((first_plan, n1), (n1, n2), (n2, n3)):
        assert_valid(after)
        assert_history_kept(before, after)


def test_replan_twice_while_behind_keeps_uids_unique(first_plan, tmp_path, capsys):
    """A review cancelled by one re-plan and placed again by the next gets a UID of its own."""
    n1, n2 = tmp_path / "n1.json", tmp_path / "n2.json"
    assert run(capsys, "replan", str(first_plan), "--today", "2027-02-15", "--json", str(n1))[0] == 0
    assert run(capsys, "replan", str(n1), "--today", "2027-03-01", "--json", str(n2))[0] == 0
    assert_valid(n2)
    assert_history_kept(n1, n2)
    cancelled = {u for u, s in sessions(n1).items() if s["status"] == "cancelled"}
    for uid, s in sessions(n2).items():
        if uid in cancelled:
            assert s["status"] == "cancelled", f"a cancelled UID came back as {s['status']}"


def test_work_ahead_then_replan(first_plan, tmp_path, capsys):
    """Next week's sessions done early: they stay where they are and no day holds more than its limit."""
    work = tmp_path / "w.json"
    work.write_bytes(first_plan.read_bytes())
    assert run(capsys, "mark", str(work), "--done-through", "2027-01-24")[0] == 0
    new = tmp_path / "n.json"
    assert run(capsys, "replan", str(work), "--today", "2027-01-13", "--json", str(new))[0] == 0
    assert_valid(new)
    assert_history_kept(work, new)
    plan = load_plan(new, load_curriculum(ML_PATH))
    done_days = {s.day for s in plan.sessions if s.status == "done"}
    assert not any(s.status == "planned" and s.kind != "review" and s.day in done_days for s in plan.sessions)


@pytest.mark.parametrize("partial", ["0.25", "0.1", "1.75", "0.33"])
def test_partial_hours_in_any_amount(first_plan, tmp_path, capsys, partial):
    """Partial hours count as given; what is left is rounded up to whole 30-minute blocks."""
    work = tmp_path / "w.json"
    work.write_bytes(first_plan.read_bytes())
    first = next(s for s in sessions(work).values() if s["kind"] == "study")
    assert run(capsys, "mark", str(work), "--missed", first["uid"], "--partial", partial)[0] == 0
    new = tmp_path / "n.json"
    assert run(capsys, "replan", str(work), "--today", "2027-01-11", "--json", str(new))[0] == 0
    assert_valid(new)
    topic = first["topic"]
    data = json.loads(new.read_text())
    required = next(t["hours"] for t in data["topics"] if t["id"] == topic)
    planned = sum(s["hours"] for s in data["sessions"] if s["topic"] == topic and s["kind"] != "review"
                  and s["status"] == "planned")
    done = sum(s["done_hours"] for s in data["sessions"] if s["topic"] == topic and s["kind"] != "review"
               and s["status"] in ("done", "missed"))
    assert done == pytest.approx(min(float(partial), first["hours"]))
    assert required <= done + planned < required + 0.5


def test_fewer_hours_and_a_late_finish(first_plan, tmp_path, capsys):
    """Past weeks are history, not measured against the new weekly limit."""
    new = tmp_path / "n.json"
    rc, _, err = run(capsys, "replan", str(first_plan), "--today", "2027-04-05", "--done-through", "2027-04-04",
                     "--hours-per-week", "10", "--json", str(new))
    assert rc == 3 and "--allow-late" in err and not new.exists()
    rc, _, _ = run(capsys, "replan", str(first_plan), "--today", "2027-04-05", "--done-through", "2027-04-04",
                   "--hours-per-week", "10", "--allow-late", "--json", str(new))
    assert rc == 0
    assert_valid(new, late=True)
    again = tmp_path / "again.json"
    assert run(capsys, "mark", str(new), "--done-through", "2027-05-01")[0] == 0
    assert run(capsys, "replan", str(new), "--today", "2027-05-17", "--allow-late", "--json", str(again))[0] == 0
    assert_valid(again, late=True)


def test_too_many_hours_is_a_one_line_answer(first_plan, tmp_path, capsys):
    rc, _, err = run(capsys, "replan", str(first_plan), "--today", "2027-02-01", "--hours-per-week", "100",
                     "--json", str(tmp_path / "n.json"))
    assert rc == 2 and err.count("\n") == 1 and "--hours-per-week" in err


def test_drop_an_optional_topic_then_keep_going(first_plan, tmp_path, capsys):
    """Dropping a topic keeps its history; the file stays readable by mark and replan."""
    work = tmp_path / "w.json"
    work.write_bytes(first_plan.read_bytes())
    new, again = tmp_path / "n.json", tmp_path / "again.json"
    assert run(capsys, "replan", str(work), "--today", "2027-03-01", "--done-through", "2027-02-28",
               "--drop", "arch-gnns", "--json", str(new))[0] == 0
    assert_valid(new)
    data = json.loads(new.read_text())
    assert not any(s["topic"] == "arch-gnns" and s["status"] == "planned" for s in data["sessions"])
    assert run(capsys, "mark", str(new), "--done-through", "2027-03-20")[0] == 0
    rc, _, err = run(capsys, "replan", str(new), "--today", "2027-04-01", "--drop", "arch-gnns",
                     "--json", str(again))
    assert rc in (0, 2), err
    assert run(capsys, "replan", str(new), "--today", "2027-04-01", "--json", str(again))[0] == 0
    assert_valid(again)


def test_progress_never_passes_100_percent(first_plan, tmp_path, capsys):
    """Done through far ahead: all required hours done, not more; reviews are counted apart."""
    work = tmp_path / "w.json"
    work.write_bytes(first_plan.read_bytes())
    rc, out, _ = run(capsys, "mark", str(work), "--done-through", "2030-01-01")
    assert rc == 0
    plan = load_plan(work, load_curriculum(ML_PATH))
    totals = plan_totals(plan)
    assert totals.done_hours == pytest.approx(totals.required_hours)
    assert totals.percent_done == 100
    assert f"{totals.required_hours:g} of {totals.required_hours:g} h done (100 %)" in out
    summary = json.loads(work.read_text())["summary"]
    assert summary["hours"]["percent_done"] == 100
    assert summary["hours"]["required"] == totals.required_hours


def test_missed_sessions_do_not_grow_the_total(first_plan, tmp_path, capsys):
    """The plan's total is done + planned + reviews: missing sessions and re-planning keeps it."""
    before = json.loads(first_plan.read_text())["summary"]
    new = tmp_path / "n.json"
    assert run(capsys, "replan", str(first_plan), "--today", "2027-03-01", "--json", str(new))[0] == 0
    after = json.loads(new.read_text())["summary"]
    assert after["hours"]["required"] == before["hours"]["required"]
    h = after["hours"]
    assert h["done"] == 0 and h["planned"] == pytest.approx(h["required"], abs=0.5)  # missed hours come back once
    assert h["scheduled"] == pytest.approx(h["done"] + h["planned"] + h["reviews"])
    assert after["total_hours"] == h["scheduled"]


def test_topics_marked_done_ahead_then_replan(first_plan, tmp_path, capsys):
    """Whole topics marked done keep their future sessions; reviews placed later start after them that day."""
    work = tmp_path / "w.json"
    work.write_bytes(first_plan.read_bytes())
    data = json.loads(work.read_text())
    # Topics that share days with the topic before them: marking them done leaves gaps inside days.
    topics = [t["id"] for t in data["topics"]][3:12:2]
    assert run(capsys, "mark", str(work), "--topic-done", *topics)[0] == 0
    new = tmp_path / "n.json"
    assert run(capsys, "replan", str(work), "--today", "2027-02-01", "--json", str(new))[0] == 0
    assert_valid(new)
    assert_history_kept(work, new)


def test_review_starts_after_a_session_done_ahead_that_day(first_plan):
    """A day holding a session done ahead (not at the day's start): a review placed there starts after it."""
    import datetime as dt
    from dataclasses import replace

    from planner.recall import projected_days
    from planner.reviews import place_reviews

    plan = load_plan(first_plan, load_curriculum(ML_PATH))
    study = [s for s in plan.sessions if s.kind == "study"]
    first = study[0]
    due = projected_days(first.day, 1, plan.profile.review_retention)[0]  # FSRS: two days after a good recall
    # The day due the first topic's session holds one session done ahead, an hour after the day's start.
    other = next(s for s in study if s.topic != first.topic)
    start = dt.datetime.combine(due, plan.profile.session_starts[due.weekday()], tzinfo=plan.profile.tz)
    ahead = replace(other, start=start + dt.timedelta(hours=1), end=start + dt.timedelta(hours=2), status="done")
    req = replace(plan.requirements, topics=tuple(replace(t, reviews=1 if t.id == first.topic else 0)
                                                  for t in plan.requirements.topics))
    got = place_reviews([first, ahead], req, plan.profile).sessions
    assert got, "the review found no room"
    review = got[0]
    assert review.day == due
    assert review.start >= ahead.end or review.end <= ahead.start
