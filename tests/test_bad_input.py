"""Bad input, one table: every case is refused with one line naming the field (file:line for YAML), exit 2, no
traceback, and every file that existed before the command is byte-identical afterwards (no partial writes, no
temp files left). Categories: CLI flags, profile YAML, content YAML, plan JSON, progress, dashboard import.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from planner.cli import main
from planner.errors import InputError
from planner.export import plan_to_json
from planner.profile import profile_from_mapping
from planner.solve import make_plan
from planner.store import MAX_IMPORT_BYTES, Store
from planner.yamlio import MAX_PROFILE_BYTES, MAX_YAML_BYTES
from tests.conftest import ROOT, SQL_PATH

SQL_TEXT = SQL_PATH.read_text(encoding="utf-8")
GOOD_PROFILE = {"background": "beginner", "hours_per_week": 5, "start": "2027-01-04"}


@dataclass
class Workspace:
    """The tmp dir every case starts from: a good plan, a good content copy, old outputs that must survive."""

    dir: Path
    plan: Path
    content: Path
    out_json: Path
    out_ics: Path

    def write(self, name: str, data: str | bytes) -> Path:
        p = self.dir / name
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)
        return p

    def plan_dict(self) -> dict[str, Any]:
        return json.loads(self.plan.read_text(encoding="utf-8"))

    def edited_plan(self, change: Callable[[dict[str, Any]], Any]) -> Path:
        data = self.plan_dict()
        change(data)
        return self.write("edited.json", json.dumps(data, indent=2))

    def content_with(self, old: str, new: str, name: str = "bad.yaml") -> tuple[Path, int]:
        """A content file with one edit, and the 1-based line of the edit's first line."""
        assert old in SQL_TEXT, old
        text = SQL_TEXT.replace(old, new, 1)
        line = text[: text.index(new)].count("\n") + 1
        return self.write(name, text), line

    def plan_args(self, *extra: str) -> list[str]:
        return ["plan", "--content", str(self.content), "--start", "2027-01-04", *extra, "--json", str(self.out_json),
                "--ics", str(self.out_ics)]

    def mark(self, plan: Path | None, *extra: str) -> list[str]:
        return ["mark", str(plan or self.plan), "--content", str(self.content), *extra]

    def replan(self, plan: Path | None, *extra: str) -> list[str]:
        return ["replan", str(plan or self.plan), "--content", str(self.content), *extra, "--json", str(self.out_json),
                "--ics", str(self.out_ics)]


Build = Callable[[Workspace], tuple[Any, list[str]]]


@dataclass
class Case:
    id: str
    build: Build  # -> (argv for the CLI, or bytes for the dashboard import; substrings the error must name)
    category: str
    subprocess: bool = False
    marks: list[Any] = field(default_factory=list)


def _uid(ws: Workspace, i: int = 0) -> str:
    return ws.plan_dict()["sessions"][i]["uid"]


def _yaml_line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _profile(ws: Workspace, text: str, needle: str, *fields: str) -> tuple[list[str], list[str]]:
    p = ws.write("me.yaml", text)
    return (ws.plan_args("--profile", str(p)), [f"{p}:{_yaml_line(text, needle)}: ", *fields])


def _bomb(head: str, key: str) -> str:
    """A 'billion laughs' document: nine levels of nine aliases (~387 million values when expanded)."""
    text = head + f"{key}:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for k in range(1, 9):
        text += f"  - &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]\n"
    return text


def _content(ws: Workspace, old: str, new: str, field_name: str, *words: str,
             offset: int = 0) -> tuple[list[str], list[str]]:
    """`offset`: the error's line relative to the edit (PyYAML reports some problems on the next line)."""
    path, line = ws.content_with(old, new)
    return ["check", str(path)], [f"{path}:{line + offset}: {field_name}", *words]


def _state(ws: Workspace, change: Callable[[dict[str, Any]], Any] | None = None) -> bytes:
    state = {"format": "planner.state/1", "last": "ada",
             "learners": [{"name": "ada", "profile": dict(GOOD_PROFILE), "plan": None}]}
    if change:
        change(state)
    return json.dumps(state).encode()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A plan edit: set a dotted path (ints index lists) to value."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]

    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return change


def _dup_uid(data: dict[str, Any]) -> None:
    data["sessions"][1]["uid"] = data["sessions"][0]["uid"]


def _fifo(ws: Workspace, name: str) -> Path:
    path = ws.dir / name
    os.mkfifo(path)
    return path


def _flags(ws: Workspace, *extra: str) -> list[str]:
    return ws.plan_args("--background", "beginner", "--hours-per-week", "5", *extra)


def _plan_text(ws: Workspace, old: str, new: str) -> Path:
    text = ws.plan.read_text(encoding="utf-8")
    assert old in text, old
    return ws.write("edited.json", text.replace(old, new, 1))


def _end_before_start(data: dict[str, Any]) -> None:
    s = data["sessions"][0]
    s["start"], s["end"] = s["end"], s["start"]


CASES = [
    # ------------------------------------------------------------------ CLI flags
    Case("flag-hours-nan", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "nan"),
                                       ["--hours-per-week", "nan"]), "flags"),
    Case("flag-start-out-of-range", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "5",
                                                             "--start", "1999-12-31"), ["--start"]), "flags"),
    Case("flag-session-start-24h", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "5",
                                                            "--session-start", "24:00"), ["--session-start"]),
         "flags"),
    Case("flag-reminder-negative", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "5",
                                                            "--reminder", "-5"), ["--reminder"]), "flags"),
    Case("flag-holidays-unknown", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "5",
                                                           "--holidays", "XX"), ["--holidays", "XX"]), "flags"),
    Case("flag-timezone-traversal", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week", "5",
                                                             "--timezone", "../../etc/passwd"), ["--timezone"]),
         "flags", subprocess=True),
    Case("flag-unknown-option", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-weak", "5"),
                                            ["--hours-per-weak"]), "flags"),
    Case("flag-mark-needs-an-action", lambda ws: (ws.mark(None), ["--done"]), "flags"),
    Case("flag-replan-needs-today", lambda ws: (ws.replan(None), ["--today"]), "flags"),
    Case("flag-replan-today-not-a-date", lambda ws: (ws.replan(None, "--today", "2027-02-30"), ["--today"]),
         "flags"),
    Case("flag-replan-hours-zero", lambda ws: (ws.replan(None, "--today", "2027-02-01", "--hours-per-week", "0"),
                                               ["--hours-per-week"]), "flags"),
    Case("flag-replan-drop-unknown", lambda ws: (ws.replan(None, "--today", "2027-02-01", "--drop", "nope"),
                                                 ["--drop", "nope"]), "flags"),
    Case("flag-replan-drop-required", lambda ws: (ws.replan(None, "--today", "2027-02-01", "--drop", "sql-joins"),
                                                  ["--drop", "sql-joins", "required"]), "flags"),
    Case("flag-check-missing-file", lambda ws: (["check", str(ws.dir / "none.yaml")], ["content", "not found"]),
         "flags"),
    # ------------------------------------------------------------------ profile YAML (--profile)
    Case("profile-unknown-field", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\ncolour: red\n",
                                                      "colour", "colour", "unknown field"), "profile"),
    Case("profile-bad-hours", lambda ws: _profile(ws, "background: beginner\nhours_per_week: lots\n",
                                                  "hours_per_week", "hours_per_week", "lots"), "profile"),
    Case("profile-bad-timezone", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                         "timezone: Mars/Olympus\n", "timezone", "timezone"),
         "profile"),
    Case("profile-bad-blackout", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\nblackouts:\n"
                                                         "  - 2027-03-10..2027-03-01\n", "blackouts", "blackouts"),
         "profile"),
    Case("profile-syntax-error", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                         "days: mon, tue: wed\n", "days", "yaml"), "profile"),
    Case("profile-python-tag", lambda ws: _profile(ws, "background: !!python/object/apply:os.system ['true']\n",
                                                   "python", "yaml", "constructor"), "profile"),
    Case("profile-not-a-mapping", lambda ws: (ws.plan_args("--profile", str(ws.write("me.yaml", "- a\n- b\n"))),
                                              ["--profile", "mapping"]), "profile"),
    Case("profile-alias-bomb", lambda ws: _profile(ws, _bomb("background: beginner\nhours_per_week: 5\n", "skip"),
                                                   "&a5", "yaml", "aliases"), "profile", subprocess=True),
    # ------------------------------------------------------------------ content YAML (--content, check)
    Case("content-negative-hours", lambda ws: _content(ws, "        hours: 6\n", "        hours: -6\n",
                                                       "phases[0].topics[0].hours"), "content"),
    Case("content-unknown-prerequisite", lambda ws: _content(ws, "requires: [sql-select]\n",
                                                             "requires: [sql-nothing]\n",
                                                             "topic sql-joins.requires", "sql-nothing"),
         "content"),
    Case("content-range-over-60-months", lambda ws: _content(ws, "{min: 2, max: 4}", "{min: 2, max: 61}",
                                                             "backgrounds.beginner.timeline_months.max"), "content"),
    Case("content-duplicate-key", lambda ws: _content(ws, "total_weeks: 8\n", "total_weeks: 8\ntotal_weeks: 9\n",
                                                      "yaml", "duplicate key", offset=1), "content"),
    Case("content-syntax-error", lambda ws: _content(ws, "      - id: sql-joins\n", "      - id: [sql-joins\n",
                                                     "yaml", offset=1), "content"),
    Case("content-deep-nesting", lambda ws: (["check", str(ws.write("deep.yaml", "a: " + "[" * 50_000
                                                                    + "]" * 50_000 + "\n"))],
                                             [f"{ws.dir / 'deep.yaml'}:1: yaml", "nested"]), "content"),
    Case("content-alias-bomb-via-plan", lambda ws: (["plan", "--content", str(ws.write("bomb.yaml", _bomb("", "a"))),
                                                     "--background", "beginner", "--hours-per-week", "5"],
                                                    [f"{ws.dir / 'bomb.yaml'}:", "yaml", "aliases"]), "content"),
    Case("content-not-utf8", lambda ws: (["check", str(ws.write("latin.yaml", "title: caf\xe9\n".encode("latin-1")))],
                                         ["content", "not UTF-8"]), "content"),
    Case("content-oversize", lambda ws: (["check", str(ws.write("big.yaml", "#" * (MAX_YAML_BYTES + 1)))],
                                         ["content", "limit"]), "content"),
    Case("content-is-a-directory", lambda ws: (["plan", "--content", str(ws.dir), "--background", "beginner",
                                                "--hours-per-week", "5"], ["content", "directory"]), "content"),
    # ------------------------------------------------------------------ plan JSON (mark / replan)
    Case("plan-truncated", lambda ws: (ws.mark(ws.write("t.json", ws.plan.read_text()[:500]), "--done", "x"),
                                       ["t.json", "not JSON"]), "plan"),
    Case("plan-not-json", lambda ws: (ws.replan(ws.write("p.csv", "uid,topic\n1,2\n"), "--today", "2027-02-01"),
                                      ["p.csv", "not JSON"]), "plan"),
    Case("plan-wrong-format", lambda ws: (ws.mark(ws.write("s.json", _state(ws)), "--done", "x"),
                                          ["format", "planner.plan/1"]), "plan"),
    Case("plan-wrong-version", lambda ws: (ws.mark(ws.edited_plan(_set("format", "planner.plan/2")), "--done", "x"),
                                           ["format", "planner.plan/2"]), "plan"),
    Case("plan-other-path", lambda ws: (["mark", str(ws.plan), "--done", "x"], ["path.id", "sql-foundations"]),
         "plan"),
    Case("plan-unknown-topic", lambda ws: (ws.mark(ws.edited_plan(_set("sessions.0.topic", "sql-magic")), "--done",
                                                   "x"), ["sessions[0].topic", "sql-magic"]), "plan"),
    Case("plan-end-before-start", lambda ws: (ws.replan(ws.edited_plan(_end_before_start), "--today", "2027-02-01"),
                                              ["sessions[0].end"]), "plan"),
    Case("plan-duplicate-uid", lambda ws: (ws.mark(ws.edited_plan(_dup_uid), "--done", "x"), ["sessions", "twice"]),
         "plan"),
    Case("plan-unknown-timezone", lambda ws: (ws.replan(ws.edited_plan(_set("profile.timezone", "Mars/Base")),
                                                        "--today", "2027-02-01"),
                                              ["profile.timezone", "Mars/Base"]), "plan"),
    Case("plan-naive-time", lambda ws: (ws.replan(ws.edited_plan(_set("sessions.0.start", "2027-01-04T19:00:00")),
                                                  "--today", "2027-02-01"), ["sessions[0].start", "offset"]), "plan"),
    Case("plan-huge-topic-hours", lambda ws: (ws.mark(ws.edited_plan(_set("topics.0.hours", 1e308)), "--done", "x"),
                                              ["topics[0].hours"]), "plan"),
    Case("plan-nan-done-hours", lambda ws: (ws.replan(ws.edited_plan(_set("sessions.0.done_hours", "NaN")),
                                                      "--today", "2027-02-01"), ["sessions[0].done_hours"]), "plan"),
    Case("plan-unknown-prerequisite", lambda ws: (ws.replan(ws.edited_plan(_set("topics.1.requires", ["nope"])),
                                                            "--today", "2027-02-01"),
                                                  ["topics[1].requires", "nope"]), "plan"),
    Case("plan-no-topics", lambda ws: (ws.mark(ws.edited_plan(_set("topics", [])), "--done-through", "2027-02-01"),
                                       ["topics"]), "plan"),
    Case("plan-missing-sessions", lambda ws: (ws.mark(ws.edited_plan(lambda d: d.pop("sessions")), "--done", "x"),
                                              ["sessions", "missing"]), "plan"),
    Case("plan-deep-nesting", lambda ws: (ws.mark(ws.write("deep.json", "[" * 200_000 + "]" * 200_000), "--done",
                                                  "x"), ["deep.json", "nested"]), "plan", subprocess=True),
    Case("plan-oversize", lambda ws: (ws.mark(_sparse(ws.dir / "huge.json", 20_000_001), "--done", "x"),
                                      ["plan", "limit"]), "plan"),
    # ------------------------------------------------------------------ progress
    Case("progress-unknown-uid", lambda ws: (ws.mark(None, "--done", "no-such-uid"), ["--done", "no-such-uid"]),
         "progress"),
    Case("progress-unknown-topic", lambda ws: (ws.mark(None, "--topic-done", "sql-magic"),
                                               ["--topic-done", "sql-magic"]), "progress"),
    Case("progress-bad-done-through", lambda ws: (ws.mark(None, "--done-through", "2027-13-01"), ["--done-through"]),
         "progress"),
    Case("progress-partial-not-a-number", lambda ws: (ws.mark(None, "--missed", _uid(ws), "--partial", "abc"),
                                                      ["--partial", "abc"]), "progress"),
    Case("progress-partial-negative", lambda ws: (ws.mark(None, "--missed", _uid(ws), "--partial", "-1"),
                                                  ["--partial"]), "progress"),
    Case("progress-partial-over-a-day", lambda ws: (ws.mark(None, "--missed", _uid(ws), "--partial", "25"),
                                                    ["--partial", "24"]), "progress"),
    Case("progress-today-before-start", lambda ws: (ws.replan(None, "--today", "2026-12-01"),
                                                    ["--today", "before"]), "progress"),
    Case("progress-today-far-past-finish", lambda ws: (ws.replan(None, "--today", "2029-06-01"),
                                                       ["--today", "after"]), "progress"),
    # ------------------------------------------------------------------ dashboard import (Store.import_state)
    Case("import-not-json", lambda ws: (b"{not json", ["import", "JSON"]), "import"),
    Case("import-not-utf8", lambda ws: (b"\xff\xfe{}", ["import"]), "import"),
    Case("import-wrong-format", lambda ws: (_state(ws, _set("format", "planner.plan/1")),
                                            ["import", "planner.state/1"]), "import"),
    Case("import-oversize", lambda ws: (b" " * (MAX_IMPORT_BYTES + 1), ["import", "limit"]), "import"),
    Case("import-bad-profile", lambda ws: (_state(ws, _set("learners.0.profile.timezone", "Mars/Base")),
                                           ["learners[0].profile.timezone", "Mars/Base"]), "import"),
    Case("import-no-learners", lambda ws: (_state(ws, _set("learners", [])), ["import", "no learners"]), "import"),
    Case("import-duplicate-name", lambda ws: (_state(ws, lambda s: s["learners"].append(dict(s["learners"][0]))),
                                              ["learners[1].name", "twice"]), "import"),
    Case("import-deep-nesting", lambda ws: (b"[" * 400_000 + b"]" * 400_000, ["import"]), "import"),
    # ------------------------------------------------------------------ loosely read values, refused or read right
    Case("flag-hours-arabic-indic-digits", lambda ws: (ws.plan_args("--background", "beginner", "--hours-per-week",
                                                                    "\u0665"), ["--hours-per-week"]), "flags"),
    Case("flag-days-monkey", lambda ws: (_flags(ws, "--days", "monkey,wed"), ["--days", "monkey"]), "flags"),
    Case("flag-day-hours-day-twice", lambda ws: (_flags(ws, "--day-hours", "mon=1,monday=2"),
                                                 ["--day-hours", "mon", "twice"]), "flags"),
    Case("flag-session-start-day-twice", lambda ws: (_flags(ws, "--session-start", "sat=09:00,sat=10:00"),
                                                     ["--session-start", "sat", "twice"]), "flags"),
    Case("flag-holidays-MON", lambda ws: (_flags(ws, "--holidays", "MON"), ["--holidays", "MON"]), "flags"),
    Case("flag-holidays-SAT", lambda ws: (_flags(ws, "--holidays", "SAT"), ["--holidays", "SAT"]), "flags"),
    Case("flag-holidays-JAN", lambda ws: (_flags(ws, "--holidays", "jan"), ["--holidays", "jan"]), "flags"),
    Case("flag-holidays-bad-subdivision", lambda ws: (_flags(ws, "--holidays", "DE-XX"), ["--holidays", "DE-XX"]),
         "flags"),
    Case("flag-start-week-date", lambda ws: (_flags(ws, "--start", "2027-W01-1"), ["--start", "YYYY-MM-DD"]),
         "flags"),
    Case("flag-start-year-9999", lambda ws: (_flags(ws, "--start", "9999-01-04"), ["--start", "9999"]), "flags"),
    Case("flag-reminder-fraction", lambda ws: (_flags(ws, "--reminder", "15.5"), ["--reminder", "15.5"]), "flags"),
    Case("flag-calendar-name-newline", lambda ws: (_flags(ws, "--calendar-name", "Study\nBEGIN:VEVENT"),
                                                   ["--calendar-name", "\\n"]), "flags"),
    Case("flag-background-newline", lambda ws: (ws.plan_args("--background", "begin\nner\u2028x", "--hours-per-week",
                                                             "5"), ["--background", "\\n"]), "flags"),
    Case("flag-unknown-option-newline", lambda ws: (["plan", "--bogus\nsecond line"], ["--bogus\\n"]), "flags",
         subprocess=True),
    Case("flag-replan-hours-infinite", lambda ws: (ws.replan(None, "--today", "2027-02-01", "--hours-per-week",
                                                             "1e999"), ["--hours-per-week"]), "flags"),
    Case("profile-holidays-MON", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\nholidays: MON\n",
                                                     "holidays", "holidays", "MON"), "profile"),
    Case("profile-monkey", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\ndays: [monkey]\n",
                                               "days", "days", "monkey"), "profile"),
    Case("profile-duplicate-day-key", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                              "day_hours:\n  sat: 3\n  sat: 2\n", "sat: 2", "yaml",
                                                          "duplicate key"), "profile"),
    Case("profile-day-twice-by-name", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                              "day_hours: {sat: 3, Saturday: 2}\n", "day_hours",
                                                          "day_hours", "sat", "twice"), "profile"),
    Case("profile-true-as-minutes", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                            "reminder_minutes: true\n", "reminder_minutes",
                                                        "reminder_minutes", "True"), "profile"),
    Case("profile-sexagesimal-time", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                             "session_start: 19:07\n", "session_start",
                                                         "session_start", "19:07"), "profile"),
    Case("profile-arabic-indic-digits", lambda ws: _profile(ws, "background: beginner\nhours_per_week: \u0665\n",
                                                            "hours_per_week", "hours_per_week"), "profile"),
    Case("profile-infinite-hours", lambda ws: _profile(ws, "background: beginner\nhours_per_week: .inf\n",
                                                       "hours_per_week", "hours_per_week"), "profile"),
    Case("profile-date-year-9999", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\nblackouts:\n"
                                                           "  - 2027-03-01..9999-12-31\n", "blackouts", "blackouts",
                                                       "9999"), "profile"),
    Case("profile-control-char-in-comment", lambda ws: _profile(ws, "background: beginner  # \x1b[31mred\n"
                                                                    "hours_per_week: 5\n", "background", "yaml",
                                                                "U+001B"), "profile"),
    Case("profile-newline-in-value", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\n"
                                                             "timezone: \"Europe/Berlin\\nX\"\n", "timezone",
                                                         "timezone", "\\n"), "profile"),
    Case("profile-too-many-blackouts", lambda ws: _profile(ws, "background: beginner\nhours_per_week: 5\nblackouts:\n"
                                                               + _every_other_day(300), "blackouts", "blackouts",
                                                           "limit of 200"), "profile"),
    Case("profile-fifo", lambda ws: (ws.plan_args("--profile", str(_fifo(ws, "me.yaml"))),
                                     ["--profile", "not a regular file"]), "profile", subprocess=True),
    Case("profile-dev-zero", lambda ws: (ws.plan_args("--profile", "/dev/zero"),
                                         ["--profile", "not a regular file"]), "profile"),
    Case("profile-oversize", lambda ws: (ws.plan_args("--profile", str(_sparse(ws.dir / "me.yaml",
                                                                               MAX_PROFILE_BYTES + 1))),
                                         ["--profile", "limit"]), "profile"),
    Case("content-control-char-in-comment", lambda ws: _content(ws, "total_weeks: 8\n", "total_weeks: 8  # \x07\n",
                                                                "yaml", "U+0007"), "content"),
    Case("content-infinite-hours", lambda ws: _content(ws, "        hours: 6\n", "        hours: .inf\n",
                                                       "phases[0].topics[0].hours"), "content"),
    Case("content-absurd-hours", lambda ws: _content(ws, "        hours: 6\n", "        hours: 1e30\n",
                                                     "phases[0].topics[0].hours", "10,000"), "content"),
    Case("content-absurd-weeks", lambda ws: _content(ws, "weeks: {start: 1, end: 4}", "weeks: {start: 1, end: "
                                                     + "9" * 25 + "}", "phases[0].weeks.end"), "content"),
    Case("content-31-digit-number", lambda ws: _content(ws, "total_weeks: 8\n", "total_weeks: 1" + "0" * 30 + "\n",
                                                        "yaml", "digits"), "content"),
    Case("content-arabic-indic-hours", lambda ws: _content(ws, "        hours: 6\n", "        hours: \u0666\n",
                                                           "phases[0].topics[0].hours", "number"), "content"),
    Case("content-path-title-newline", lambda ws: _content(ws, 'title: "SQL Foundations',
                                                           'title: "SQL\\nFoundations', "title", "one line"),
         "content"),
    Case("content-phase-title-newline", lambda ws: _content(ws, "    title: Querying\n",
                                                            "    title: \"Query\\ning\"\n", "phases[0].title",
                                                            "one line"), "content"),
    Case("content-optional-yes", lambda ws: _content(ws, "        requires: [sql-select]\n      - id: sql-aggregates",
                                                     "        requires: [sql-select]\n        optional: yes\n"
                                                     "      - id: sql-aggregates", "phases[0].topics[1].optional",
                                                     "yes", offset=1), "content"),
    Case("content-fifo", lambda ws: (["check", str(_fifo(ws, "path.yaml"))], ["content", "not a regular file"]),
         "content", subprocess=True),
    Case("content-dev-zero", lambda ws: (["check", "/dev/zero"], ["content", "not a regular file"]), "content"),
    Case("plan-sequence-huge", lambda ws: (ws.replan(_plan_text(ws, '"sequence": 0', '"sequence": ' + "9" * 25),
                                                     "--today", "2027-02-01"), ["sessions[0].sequence"]), "plan"),
    Case("plan-sequence-10-to-the-30", lambda ws: (ws.mark(_plan_text(ws, '"sequence": 0', '"sequence": 1' + "0" * 30),
                                                           "--done", "x"), ["edited.json", "digits"]), "plan"),
    Case("plan-year-9999", lambda ws: (ws.replan(ws.edited_plan(_set("sessions.0.end", "9999-12-31T20:00:00+00:00")),
                                                 "--today", "2027-02-01"), ["sessions[0].end", "9999"]), "plan"),
    Case("plan-path-title-newline", lambda ws: (ws.replan(ws.edited_plan(_set("path.title", "SQL\nBEGIN:VEVENT")),
                                                          "--today", "2027-02-01"), ["path.title"]), "plan"),
    Case("plan-nan-literal", lambda ws: (ws.mark(_plan_text(ws, '"done_hours": 0.0', '"done_hours": NaN'), "--done",
                                                 "x"), ["edited.json", "NaN"]), "plan"),
    Case("plan-infinite-number", lambda ws: (ws.mark(_plan_text(ws, '"done_hours": 0.0', '"done_hours": 1e999'),
                                                     "--done", "x"), ["edited.json", "1e999"]), "plan"),
    Case("plan-true-as-hours", lambda ws: (ws.replan(ws.edited_plan(_set("profile.hours_per_week", True)), "--today",
                                                     "2027-02-01"), ["profile.hours_per_week"]), "plan"),
    Case("plan-fifo", lambda ws: (ws.mark(_fifo(ws, "p.json"), "--done", "x"), ["plan", "not a regular file"]),
         "plan", subprocess=True),
    Case("plan-dev-zero", lambda ws: (ws.mark(Path("/dev/zero"), "--done", "x"), ["plan", "not a regular file"]),
         "plan"),
    # ------------------------------------------------------------------ output files (nothing written on refusal)
    Case("out-same-path-twice", lambda ws: (_flags(ws, "--csv", str(ws.out_json)), ["out.json", "same file"]),
         "outputs"),
    Case("out-same-file-through-symlink", lambda ws: (_flags(ws, "--csv", str(_link(ws, ws.out_ics))),
                                                      ["link", "same file"]), "outputs"),
    Case("out-directory", lambda ws: (_flags(ws, "--csv", str(ws.dir)), [str(ws.dir),
                                                                         "directory"]), "outputs"),
    Case("out-fifo", lambda ws: (_flags(ws, "--csv", str(_fifo(ws, "out.csv"))), ["out.csv", "not a regular file"]),
         "outputs", subprocess=True),
    Case("out-device", lambda ws: (_flags(ws, "--csv", "/dev/null"), ["/dev/null", "not a regular file"]), "outputs"),
    Case("out-unwritable", lambda ws: (_flags(ws, "--csv", "/proc/planner.csv"), ["/proc/planner.csv",
                                                                                 "cannot write"]), "outputs"),
    Case("out-no-such-folder", lambda ws: (_flags(ws, "--csv", str(ws.dir / "nope" / "p.csv")),
                                           ["p.csv", "no directory"]), "outputs"),
    Case("out-overwrites-content", lambda ws: (_flags(ws, "--csv", str(ws.content)), ["sql.yaml", "overwrite"]),
         "outputs"),
    Case("out-overwrites-busy-calendar", lambda ws: (_flags(ws, "--busy", str(ws.out_ics), "--ics",
                                                            str(ws.out_ics)), ["--ics", "out.ics", "(--busy)"]),
         "outputs"),
    Case("out-replan-overwrites-its-plan", lambda ws: (["replan", str(ws.plan), "--content", str(ws.content),
                                                        "--today", "2027-02-01", "--json", str(ws.plan)],
                                                       ["--json", "plan.json", "the plan being re-planned"]),
         "outputs"),
    Case("out-replan-same-path-twice", lambda ws: (ws.replan(None, "--today", "2027-02-01", "--csv",
                                                             str(ws.out_ics)), ["out.ics", "same file"]), "outputs"),
]


def _every_other_day(n: int) -> str:
    """n one-day blackout ranges with a study day between each (they cannot be merged)."""
    first = dt.date(2027, 1, 1)
    return "".join(f"  - {first + dt.timedelta(days=2 * i)}..{first + dt.timedelta(days=2 * i)}\n" for i in range(n))


def _link(ws: Workspace, target: Path) -> Path:
    link = ws.dir / "link.ics"
    link.symlink_to(target)
    return link


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)  # a sparse file: the size check must refuse it before reading
    return path


@pytest.fixture(scope="module")
def good_plan_bytes(sql) -> bytes:
    plan = make_plan(sql, profile_from_mapping(GOOD_PROFILE, sql))
    return plan_to_json(plan)


@pytest.fixture
def ws(tmp_path: Path, good_plan_bytes: bytes) -> Workspace:
    content = tmp_path / "sql.yaml"
    content.write_text(SQL_TEXT, encoding="utf-8")
    w = Workspace(tmp_path, tmp_path / "plan.json", content, tmp_path / "out.json", tmp_path / "out.ics")
    w.plan.write_bytes(good_plan_bytes)
    w.out_json.write_bytes(b'{"old": true}\n')
    w.out_ics.write_bytes(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    return w


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p) if p.is_symlink() else b""
            for p in sorted(root.rglob("*"))}


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _run_process(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "planner", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr


def test_table_size_and_categories():
    assert len(CASES) >= 30
    assert {c.category for c in CASES} == {"flags", "profile", "content", "plan", "progress", "import", "outputs"}
    assert len({c.id for c in CASES}) == len(CASES)
    assert sum(c.subprocess for c in CASES) >= 2


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, ws: Workspace, capsys: pytest.CaptureFixture[str], sql) -> None:
    payload, expected = case.build(ws)
    if case.category == "import":
        store = Store(ws.dir / "planner.db")
        store.save("grace", GOOD_PROFILE, None)
        before = _snapshot(ws.dir)
        with pytest.raises(InputError) as exc:
            store.import_state(payload, sql)
        message = str(exc.value)
        assert store.names() == ["grace"]
    else:
        before = _snapshot(ws.dir)
        if case.subprocess:
            rc, out, err = _run_process(payload, ws.dir)
        else:
            rc, out, err = _run_cli(payload, capsys)
        assert rc == 2, (rc, out, err)
        assert "Traceback" not in err and "Traceback" not in out
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        message = lines[0]
        assert message.startswith("planner: error: ") or message.startswith("planner: error:"), message
    assert "\n" not in message
    for word in expected:
        assert word in message, f"{word!r} not in {message!r}"
    assert len(message) < 600, message  # one readable line, not a dump of the input
    assert _snapshot(ws.dir) == before  # every file byte-identical, and no temp files left behind
