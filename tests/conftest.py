"""Shared fixtures: the shipped paths and a helper that plans and validates in one step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planner.busy import with_busy
from planner.curriculum import Curriculum, load_curriculum
from planner.plan import Plan
from planner.profile import profile_from_mapping
from planner.solve import Infeasible, make_plan
from planner.validate import validate_plan

ROOT = Path(__file__).resolve().parent.parent
ML_PATH = ROOT / "content" / "ml-ai-engineer.yaml"
SQL_PATH = ROOT / "content" / "sql-foundations.yaml"


@pytest.fixture(scope="session")
def ml() -> Curriculum:
    return load_curriculum(ML_PATH)


@pytest.fixture(scope="session")
def sql() -> Curriculum:
    return load_curriculum(SQL_PATH)


def plan_ok(curriculum: Curriculum, **fields: Any) -> Plan:
    """Plan and assert the result is a plan that passes the validator."""
    fields.setdefault("start", "2027-01-04")
    profile = with_busy(profile_from_mapping(fields, curriculum), curriculum)
    result = make_plan(curriculum, profile)
    assert not isinstance(result, Infeasible), result.message()
    problems = validate_plan(result)
    assert problems == [], [str(p) for p in problems]
    return result


def plan_result(curriculum: Curriculum, **fields: Any) -> Plan | Infeasible:
    fields.setdefault("start", "2027-01-04")
    return make_plan(curriculum, with_busy(profile_from_mapping(fields, curriculum), curriculum))


@pytest.fixture
def fresh_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For dashboard tests: Streamlit's caches cleared (they leak between AppTests) and a temporary database."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    db = tmp_path / "planner.db"
    monkeypatch.setenv("PLANNER_DB", str(db))
    return db
