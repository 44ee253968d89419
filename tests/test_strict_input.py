"""Values that YAML 1.1 or a loose parser would read as something else are read as written (or refused, see
test_bad_input.py); long prerequisite chains need no recursion; commands import only what they use."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import yaml

from planner.curriculum import MAX_TOPICS, parse_curriculum
from planner.errors import InputError, one_line
from planner.profile import parse_weekday, profile_from_mapping
from planner.requirements import build_requirements
from planner.yamlio import _LineLoader, parse_yaml
from tests.conftest import ROOT


def test_yaml_scalars_follow_the_core_schema() -> None:
    data = parse_yaml("holidays: NO\nsession_start: 19:07\nweeks: 010\nflag: yes\nstart: 2027-01-04\n"
                      "big: 1_000\nhours: 1.5\ndone: true\nnothing: ~\n", "me.yaml")
    assert data == {"holidays": "NO", "session_start": "19:07", "weeks": 10, "flag": "yes", "start": "2027-01-04",
                    "big": "1_000", "hours": 1.5, "done": True, "nothing": None}


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_content_is_parsed_by_libyaml_with_line_numbers() -> None:
    assert "CParser" in [c.__name__ for c in _LineLoader.__mro__]
    with pytest.raises(InputError) as exc:
        parse_yaml("a: 1\nb:\n  c: 2\n  c: 3\n", "x.yaml")
    assert str(exc.value) == "x.yaml:4: yaml: duplicate key 'c'"


def test_norway_sexagesimal_times_and_full_day_names_are_read_as_written(sql) -> None:
    data = parse_yaml("background: beginner\nhours_per_week: 6\nstart: 2027-05-03\nholidays: NO\n"
                      "session_start: {Monday: 19:00, sat: 09:30}\ndays: [Monday, wed, Saturday]\n"
                      "reminder_minutes: 30\nreviews: no\n", "me.yaml")
    p = profile_from_mapping(data, sql)
    assert p.holiday_country == "NO" and p.is_blackout(dt.date(2027, 5, 17))  # Norway's Constitution Day
    assert p.session_starts[0] == dt.time(19, 0) and p.session_starts[5] == dt.time(9, 30)
    assert [i for i, h in enumerate(p.weekday_hours) if h > 0] == [0, 2, 5]
    assert p.reminder_minutes == 30 and p.reviews is False
    assert profile_from_mapping({**data, "holidays": "de-by"}, sql).holiday_country == "DE-BY"


@pytest.mark.parametrize("word", ["monkey", "mo", "sundae", "tuesdays", "", "1"])
def test_only_real_weekday_names_are_weekdays(word: str) -> None:
    with pytest.raises(InputError):
        parse_weekday(word, "days")


def test_a_long_chain_of_skipped_prerequisites_needs_no_recursion() -> None:
    n = MAX_TOPICS
    lines = ["id: chain", "title: Chain", "backgrounds:", "  anyone:", "    timeline_months: {min: 1, max: 60}",
             "phases:", "  - number: 1", "    title: All", "    topics:"]
    for i in range(n):
        lines += [f"      - {{id: t{i}, title: T{i}, hours: 1, requires: [{f't{i - 1}' if i else ''}]}}"]
    curriculum = parse_curriculum("\n".join(lines) + "\n", "chain.yaml")
    profile = profile_from_mapping({"background": "anyone", "hours_per_week": 5, "start": "2027-01-04",
                                    "skip": [f"t{i}" for i in range(n - 1)]}, curriculum)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # far below the chain's length: any recursion over it would fail
    try:
        req = build_requirements(curriculum, profile)
    finally:
        sys.setrecursionlimit(old)
    assert [t.id for t in req.topics if not t.id.startswith("checkpoint")] == [f"t{n - 1}"]


def test_error_text_is_one_line_whatever_the_input_holds() -> None:
    text = one_line("a\nb\rc\x85d\u2028e\x1bf")
    assert text == "a\\nb\\rc\\x85d\\u2028e\\x1bf" and len(text.splitlines()) == 1
    assert len(str(InputError("f", "x" * 10_000))) <= 400


def _modules_after(argv: list[str]) -> set[str]:
    code = ("import sys, json\nfrom planner.cli import main\nrc = main(json.loads(sys.argv[1]))\n"
            "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(argv)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=True)
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_commands_import_only_what_they_use(tmp_path) -> None:
    check = _modules_after(["check", str(ROOT / "content" / "sql-foundations.yaml")])
    assert not check & {"ortools", "pandas", "numpy", "holidays", "icalendar", "streamlit", "altair"}
    plan = _modules_after(["plan", "--content", str(ROOT / "content" / "sql-foundations.yaml"), "--background",
                           "beginner", "--hours-per-week", "5", "--start", "2027-01-04", "--json",
                           str(tmp_path / "p.json")])
    assert "ortools" in plan and not plan & {"holidays", "icalendar", "streamlit", "altair"}


@pytest.mark.parametrize("window", ["mon-fri=１８:３０-２２:００", "mon-fri=١٨:٣٠-٢٢:٠٠", "sat=09:00-1２:00",
                                    "mon-fri=۱۸:۳۰-22:00"])
def test_window_times_take_ascii_digits_only(sql, window: str) -> None:
    """Full-width and Arabic-Indic digits look like times but are not what the learner's calendar app shows:
    refused in one line naming the field, as every other number the planner reads."""
    raw = {"background": "beginner", "hours_per_week": 6, "start": "2027-01-04", "windows": [window]}
    with pytest.raises(InputError) as caught:
        profile_from_mapping(raw, sql)
    assert caught.value.field.startswith("windows") and "\n" not in str(caught.value)
    ok = {**raw, "windows": ["mon-fri=18:30-22:00", "sat=09:00-12:00"]}
    assert profile_from_mapping(ok, sql).windows is not None
