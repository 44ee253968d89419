"""One plan reader (planner/planfile.py) with every guard: the planner never refuses a file it wrote, and a damaged
or hand-edited plan is one line naming the field — never another exception — in every command that reads plans
(`mark`, `replan`, `learners add`, `sync`) and in the feed and the import.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main
from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.export import plan_to_json
from planner.feed import feed_calendar
from planner.plan import Plan
from planner.planfile import parse_plan_json, plan_from_dict, read_plan_file
from planner.profile import profile_from_mapping
from planner.progress import mark_done_through, mark_missed, mark_topic_done
from planner.replan import CatchUpMenu, replan
from planner.solve import make_plan
from planner.store import Store, parse_state
from planner.totals import plan_totals
from tests.conftest import SQL_PATH

CONTENT = str(SQL_PATH)
PROFILES = [
    {"background": "beginner", "hours_per_week": 5},
    {"background": "beginner", "hours_per_week": 7, "timezone": "Europe/Berlin", "days": "mon,wed,sat",
     "holidays": "DE"},
    {"background": "beginner", "hours_per_week": 6, "timezone": "America/New_York", "reviews": False,
     "checkpoints": False, "windows": {"mon-fri": ["18:30-21:00"], "sat": ["09:00-12:00"]}},
]


def _first(sql: Curriculum, i: int) -> Plan:
    plan = make_plan(sql, profile_from_mapping({**PROFILES[i], "start": "2027-01-04"}, sql))
    assert isinstance(plan, Plan)
    return plan


def _reads_back(plan: Plan, sql: Curriculum) -> None:
    """Written, read back and written again: the same bytes (nothing refused, nothing lost)."""
    data = plan_to_json(plan)
    back = plan_from_dict(parse_plan_json(data.decode("utf-8"), "p.json"), sql, "p.json")
    assert plan_to_json(back) == data


@pytest.fixture(scope="module")
def replanned(sql: Curriculum) -> Plan:
    """A plan with every kind of session state: done, missed (partly), cancelled, reviews, a re-plan."""
    plan = mark_done_through(_first(sql, 0), dt.date(2027, 1, 20))
    plan = mark_missed(plan, [s.uid for s in plan.sessions if s.day == dt.date(2027, 1, 23)], 0.5)
    result = replan(sql, plan, dt.date(2027, 2, 1))
    assert not isinstance(result, CatchUpMenu)
    return result.plan


STEPS = st.lists(st.one_of(
    st.tuples(st.just("done-through"), st.integers(0, 40)),
    st.tuples(st.just("missed"), st.integers(0, 400), st.sampled_from([0.0, 0.25, 0.5])),
    st.tuples(st.just("topic-done"), st.integers(0, 20)),
    st.tuples(st.just("replan"), st.integers(0, 40), st.sampled_from([None, 4.0, 9.0]), st.booleans()),
), min_size=1, max_size=4)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(profile=st.integers(0, len(PROFILES) - 1), steps=STEPS)
def test_every_plan_the_planner_writes_reads_back(sql: Curriculum, profile: int, steps: list[Any]) -> None:
    """A learner's sequence of ticks, misses and re-plans (hours changed, topics dropped, late finishes accepted):
    after every step the file the planner writes is read back by the one reader, unchanged."""
    plan = _first(sql, profile)
    _reads_back(plan, sql)
    day = plan.profile.start
    for step in steps:
        live = [s for s in plan.sessions if s.status == "planned"]
        if step[0] == "done-through":
            plan = mark_done_through(plan, day + dt.timedelta(days=step[1]))
        elif step[0] == "missed" and live:
            plan = mark_missed(plan, [live[step[1] % len(live)].uid], step[2])
        elif step[0] == "topic-done":
            topics = plan.requirements.topics
            plan = mark_topic_done(plan, [topics[step[1] % len(topics)].id])
        elif step[0] == "replan":
            day = max(day, plan.replanned_on or day) + dt.timedelta(days=step[1])
            if day > plan.finish:
                continue
            optional = [t.id for t in plan.requirements.topics if t.optional and not t.dropped]
            try:
                result = replan(sql, plan, day, allow_late=step[3], hours_per_week=step[2],
                                drop=tuple(optional[:1]) if step[3] else ())
            except InputError:  # a one-line answer (e.g. more hours than the days hold): the plan stays
                continue
            if isinstance(result, CatchUpMenu):
                continue
            plan = result.plan
        _reads_back(plan, sql)


def test_the_default_path_with_electives_reads_back(ml: Curriculum) -> None:
    plan = make_plan(ml, profile_from_mapping({"background": "ml_background", "hours_per_week": 20,
                                               "start": "2027-01-04", "electives": ["llm-engineer"]}, ml))
    assert isinstance(plan, Plan)
    _reads_back(plan, ml)
    result = replan(ml, mark_done_through(plan, dt.date(2027, 2, 14)), dt.date(2027, 3, 1))
    assert not isinstance(result, CatchUpMenu)
    _reads_back(result.plan, ml)


# ------------------------------------------------------------------ what the reader refuses, naming the field
def _edit(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = out
    for k in keys[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return out


_DELETE = object()
REFUSED = [
    ("sessions.3.start", "85360-01-04T19:00:00+00:00", "sessions[3].start"),
    ("sessions.3.end", "2110-12-31T23:00:00+00:00", "sessions[3].end"),
    ("summary.timeline_months", [2, 1_000_000], "summary.timeline_months[1]"),  # would date the finish in 85360
    ("summary.replanned_on", "2111-01-01", "summary.replanned_on"),
    ("topics.1.requires", ["sql-joins"], "topics[1].requires"),  # itself
    ("topics.0.requires", ["sql-joins"], "topics[0].requires"),  # a circle: joins requires select
    ("topics.1.requires", ["sql-nothing"], "topics[1].requires"),
    ("topics.1.kind", "lecture", "topics[1].kind"),
    ("sessions.3.kind", "lecture", "sessions[3].kind"),
    ("sessions.3.kind", "project", "sessions[3].kind"),  # a project session of a study topic
    ("sessions.3.ordinal", _DELETE, "sessions[3].ordinal"),
    ("sessions.3.ordinal", 1, "sessions[3].ordinal"),  # sessions[0] is the topic's first
    ("topics.0.resources", [None], "topics[0].resources[0]"),
    ("topics.0.optional", "no", "topics[0].optional"),
    ("topics.0.id", "sql-joins", "topics[1].id"),
    ("sessions.0.done_hours", 7.0, "sessions[0].done_hours"),
    ("summary.solver.seconds", "nan", "summary.solver.seconds"),
    ("profile.blackouts", [["2027-03-01", "85360-01-01"]], "profile.blackouts[0][1]"),
    ("sessions.0", "not a session", "sessions[0]"),
    ("path", None, "path"),
]


@pytest.mark.parametrize(("path", "value", "field"), REFUSED, ids=[f"{p}={v!r}"[:40] for p, v, _ in REFUSED])
def test_a_bad_field_is_named(replanned: Plan, sql: Curriculum, path: str, value: Any, field: str) -> None:
    data = json.loads(plan_to_json(replanned))
    with pytest.raises(InputError) as exc:
        plan_from_dict(_edit(data, path, value), sql, "p.json")
    assert str(exc.value).startswith(f"p.json: {field}: "), str(exc.value)


def test_numbers_a_plan_cannot_hold_are_refused_in_text_and_in_a_saved_mapping(replanned: Plan,
                                                                               sql: Curriculum) -> None:
    text = plan_to_json(replanned).decode()
    for bad, words in (('"done_hours": NaN', "NaN"), ('"done_hours": Infinity', "Infinity"),
                       ('"done_hours": 1e999', "1e999"), ('"sequence": ' + "9" * 5000, "30 digits")):
        edited = text.replace('"done_hours": 0.0', bad, 1) if "done" in bad else text.replace('"sequence": 0', bad, 1)
        with pytest.raises(InputError, match=words):
            parse_plan_json(edited, "p.json")
    data = json.loads(text)
    for value in (math.nan, math.inf, 10**4000):  # a mapping from the store never went through the text guards
        with pytest.raises(InputError, match="not a plan file"):
            plan_from_dict(_edit(data, "sessions.0.done_hours", value), sql, "saved")
    deep: Any = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(InputError, match="nested"):
        plan_from_dict(_edit(data, "path.extra", deep), sql, "saved")


def test_the_feed_and_the_import_use_the_same_guards(replanned: Plan, sql: Curriculum) -> None:
    data = _edit(json.loads(plan_to_json(replanned)), "sessions.0.done_hours", math.nan)
    with pytest.raises(InputError, match="not a plan file"):
        feed_calendar(data)
    profile = {**PROFILES[0], "start": "2027-01-04"}
    state = {"format": "planner.state/1", "last": "ada",
             "learners": [{"name": "ada", "profile": profile, "tracked": True,
                           "plan": _edit(json.loads(plan_to_json(replanned)), "topics.1.requires", ["sql-joins"])}]}
    with pytest.raises(InputError, match=r"learners\[0\]\.plan: topics\[1\]\.requires"):
        parse_state(json.dumps(state).encode(), sql)


# ------------------------------------------------------------------ anything corrupted: InputError, never else
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40), st.floats(allow_nan=True),
              st.sampled_from(["", "x", "sql-joins", "study", "review", "project", "done", "cancelled",
                               "85360-01-04T19:00:00+00:00", "2027-01-04T19:00:00", "2027-02-30", "9999-12-31",
                               "2027-01-04T19:00:00+00:00", "2027-01-05", "Mars/Base", "\x1b[31m"]),
              st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node[:4]) if isinstance(node, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(_paths(v, (*prefix, k)))
    return out


@pytest.fixture(scope="module")
def good(replanned: Plan) -> tuple[str, list[tuple[Any, ...]]]:
    text = plan_to_json(replanned).decode()
    return text, _paths(json.loads(text))


def _corrupt(data: dict[str, Any], where: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    node: Any = data
    for k in where[:-1]:
        node = node[k]
    if delete and isinstance(node, dict):
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(data=st.data())
def test_a_corrupted_plan_is_an_input_error_or_a_plan(good: tuple[str, list[tuple[Any, ...]]], sql: Curriculum,
                                                      data: st.DataObject) -> None:
    text, paths = good
    how = data.draw(st.sampled_from(["field", "field", "field", "delete", "truncate", "byte"]))
    if how in ("field", "delete"):
        where = data.draw(st.sampled_from(paths))
        edited = json.dumps(_corrupt(json.loads(text), where, data.draw(_VALUES), how == "delete"))
    elif how == "truncate":
        edited = text[: data.draw(st.integers(0, len(text)))]
    else:
        at = data.draw(st.integers(0, len(text) - 1))
        edited = text[:at] + data.draw(st.sampled_from(list('{}[]",:0-9eE.NaI '))) + text[at + 1:]
    try:
        plan = plan_from_dict(parse_plan_json(edited, "p.json"), sql, "p.json")
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("p.json")
        return
    plan_totals(plan)  # what every command does next with a plan it read
    _reads_back(plan, sql)


# ------------------------------------------------------------------ every command: exit 2, one line
@pytest.fixture
def files(tmp_path: Path, replanned: Plan) -> dict[str, Path]:
    data = json.loads(plan_to_json(replanned))
    text = plan_to_json(replanned).decode()
    out = {
        "year-85360": _edit(data, "sessions.3.start", "85360-01-04T19:00:00+00:00"),
        "self-prerequisite": _edit(data, "topics.1.requires", ["sql-joins"]),
        "unknown-kind": _edit(data, "topics.1.kind", "lecture"),
        "no-ordinal": _edit(data, "sessions.3.ordinal", _DELETE),
        "months-to-85360": _edit(data, "summary.timeline_months", [2, 1_000_000]),
    }
    paths = {name: tmp_path / f"{name}.json" for name in [*out, "nan", "5000-digits"]}
    for name, value in out.items():
        paths[name].write_text(json.dumps(value), encoding="utf-8")
    paths["nan"].write_text(text.replace('"done_hours": 0.0', '"done_hours": NaN', 1), encoding="utf-8")
    paths["5000-digits"].write_text(text.replace('"sequence": 0', '"sequence": ' + "7" * 5000, 1), encoding="utf-8")
    return paths


def test_every_command_answers_a_bad_plan_in_one_line(files: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "planner.db"
    for name, path in files.items():
        before = path.read_bytes()
        uid = "x"
        for argv in (["replan", str(path), "--content", CONTENT, "--today", "2027-02-15", "--json",
                      str(tmp_path / "new.json")],
                     ["mark", str(path), "--content", CONTENT, "--done", uid],
                     ["learners", "add", "Ada", "--plan", str(path), "--content", CONTENT, "--db", str(db)],
                     ["sync", str(path), "--content", CONTENT, "--caldav", "http://127.0.0.1:9/cal/", "--db",
                      str(db)]):
            rc = main(argv)
            err = capsys.readouterr().err
            assert rc == 2, (name, argv[0], err)
            assert err.startswith(f"planner: error: {path}") and err.count("\n") == 1, (name, argv[0], err)
            assert "internal error" not in err and "Traceback" not in err
        assert path.read_bytes() == before and not (tmp_path / "new.json").exists()
    assert Store(db).names() == []  # nothing was saved, NaN least of all


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mark_and_learners_add_answer_any_corrupted_plan_in_one_line(
        good: tuple[str, list[tuple[Any, ...]]], sql: Curriculum, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        data: st.DataObject) -> None:
    """Through the command: exit 0 with a file that reads back, or exit 2 with one line and the file untouched."""
    text, paths = good
    where = data.draw(st.sampled_from(paths))
    edited = json.dumps(_corrupt(json.loads(text), where, data.draw(_VALUES), data.draw(st.booleans())))
    path = tmp_path / "p.json"
    path.write_text(edited, encoding="utf-8")
    for argv in (["learners", "add", "Ada", "--plan", str(path), "--content", CONTENT, "--db",
                  str(tmp_path / "planner.db")],
                 ["mark", str(path), "--content", CONTENT, "--done-through", "2027-02-14"]):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc in (0, 2) and "Traceback" not in err and "internal error" not in err, (argv[0], err)
        if rc == 2:
            assert err.count("\n") == 1 and err.startswith(f"planner: error: {path}"), err
            assert path.read_text(encoding="utf-8") == edited
            return
    read_plan_file(path, CONTENT)  # what mark wrote reads back
