"""The greedy baseline of bench/greedy.py runs and the validator reports the rules it breaks (no timing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from planner.curriculum import load_curriculum
from planner.profile import profile_from_mapping
from planner.validate import validate_plan

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def greedy():
    spec = importlib.util.spec_from_file_location("bench_greedy", ROOT / "bench" / "greedy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_greedy"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ml():
    return load_curriculum(ROOT / "content" / "ml-ai-engineer.yaml")


def _profile(ml, hours: float, **extra):
    data = {"background": "ml_background", "hours_per_week": hours, "start": "2027-01-04",
            "timezone": "Europe/Berlin", **extra}
    return profile_from_mapping(data, ml)


def test_greedy_covers_every_hour_in_file_order(greedy, ml):
    plan = greedy.greedy_plan(ml, _profile(ml, 15))
    assert plan.sessions
    assert plan.total_hours == pytest.approx(plan.requirements.total_hours)
    rules = {v.rule for v in validate_plan(plan)}
    assert not rules & {"hours-covered", "prerequisite", "session-length", "midnight", "overlap", "unique-uids"}


def test_validator_reports_greedy_holidays_and_month_range(greedy, ml):
    plan = greedy.greedy_plan(ml, _profile(ml, 8, holidays="DE"))
    rules = {v.rule for v in validate_plan(plan)}
    assert "blackout" in rules  # greedy ignores public holidays
    assert "month-range" in rules  # 637.5 h at 8 h/week cannot finish within 12 months


def test_greedy_whole_hours_at_least_one(greedy, ml):
    profile = _profile(ml, 5)
    blocks = [greedy.greedy_day_blocks(profile, w) for w in range(7)]
    assert all(b >= 2 and b % 2 == 0 for b in blocks)
