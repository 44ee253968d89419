"""Safety: safe YAML only, no code execution paths, size caps with clear messages, adversarial content that
plans or answers within the solver's time limit and never hangs."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.curriculum import MAX_TIMELINE_MONTHS, MAX_TOPICS
from planner.errors import InputError
from planner.export.json import MAX_PLAN_BYTES, load_plan
from planner.model import SOLVER_TIME_LIMIT_S
from planner.store import MAX_IMPORT_BYTES, parse_state
from planner.yamlio import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, load_yaml_file, parse_yaml
from tests.conftest import ROOT

PACKAGE = ROOT / "planner"
FORBIDDEN = {
    r"\byaml\.load\(": "yaml.load (use the SafeLoader-based parse_yaml)",
    r"\byaml\.(unsafe_load|full_load|load_all|unsafe_load_all)\b": "an unsafe or full YAML loader",
    r"\b(Unsafe|Full)Loader\b|\byaml\.Loader\b": "an unsafe or full YAML loader class",
    r"(?<![.\w])eval\(": "eval",
    r"(?<![.\w])exec\(": "exec",
    r"\bos\.(system|popen|exec\w*|spawn\w*)\(": "a shell or process call",
    r"\bshell\s*=\s*True\b": "subprocess with shell=True",
    r"\bpickle\b|\bmarshal\b|\bshelve\b": "pickle-style deserialisation",
    r"\b__import__\(": "dynamic import",
}


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 15
    return files


@pytest.mark.parametrize("pattern", list(FORBIDDEN), ids=list(FORBIDDEN.values()))
def test_package_has_no_unsafe_calls(pattern: str) -> None:
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in _sources() for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(pattern, line) and not line.lstrip().startswith("#")]
    assert hits == [], f"{FORBIDDEN[pattern]} found:\n" + "\n".join(hits)


def test_yaml_loader_is_safe() -> None:
    with pytest.raises(InputError) as exc:
        parse_yaml("x: !!python/object/apply:os.system ['echo pwned']\n", "evil.yaml")
    assert str(exc.value).startswith("evil.yaml:1: yaml: ")
    with pytest.raises(InputError):
        parse_yaml("x: !!python/name:os.system\n", "evil.yaml")


def test_yaml_alias_bomb_and_depth_are_refused_fast() -> None:
    text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for k in range(1, 10):
        text += f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]\n"
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        parse_yaml(text, "bomb.yaml")
    assert "anchors and aliases" in str(exc.value) and f"{MAX_YAML_NODES:,}" in str(exc.value)
    with pytest.raises(InputError) as exc:
        parse_yaml("a: " + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1), "deep.yaml")
    assert "nested more than" in str(exc.value)
    assert time.perf_counter() - t0 < 5
    assert parse_yaml("a: &x [1, 2]\nb: *x\n", "ok.yaml") == {"a": [1, 2], "b": [1, 2]}  # small aliases still work


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def test_size_caps_have_clear_messages(tmp_path: Path, sql) -> None:
    with pytest.raises(InputError) as exc:
        load_yaml_file(_sparse(tmp_path / "big.yaml", MAX_YAML_BYTES + 1), "content")
    assert str(exc.value).startswith("content: ") and f"the limit is {MAX_YAML_BYTES:,}" in str(exc.value)
    with pytest.raises(InputError) as exc:
        load_yaml_file(_sparse(tmp_path / "me.yaml", MAX_YAML_BYTES + 1), "--profile")
    assert str(exc.value).startswith("--profile: ") and "limit" in str(exc.value)
    with pytest.raises(InputError) as exc:
        load_plan(_sparse(tmp_path / "plan.json", MAX_PLAN_BYTES + 1), sql)
    assert str(exc.value).startswith("plan: ") and f"the limit is {MAX_PLAN_BYTES:,}" in str(exc.value)
    with pytest.raises(InputError) as exc:
        parse_state(b" " * (MAX_IMPORT_BYTES + 1), sql)
    assert str(exc.value).startswith("import: ") and "the limit is" in str(exc.value)


def _content(topics: int, months: int, hours: float) -> str:
    lines = ["schema: 1", "id: adversarial", "title: Adversarial path", "backgrounds:", "  anyone:",
             f"    timeline_months: {{min: 1, max: {months}}}", "phases:", "  - number: 1", "    title: Everything",
             "    topics:"]
    for i in range(topics):
        req = f"[t{i - 1}]" if i % 7 else "[]"  # short prerequisite chains
        lines += [f"      - id: t{i}", f"        title: Topic {i}", f"        hours: {hours:g}",
                  f"        requires: {req}"]
    return "\n".join(lines) + "\n"


def _run(args: list[str], limit: float) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "planner", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=limit)
    return proc, time.perf_counter() - t0


@pytest.mark.parametrize("topics,months,hours_per_week,expect", [
    (MAX_TOPICS, 12, 0.5, 3),  # 250 h at 0.5 h/week cannot fit a year: an answer with numbers
    (MAX_TOPICS, MAX_TIMELINE_MONTHS, 40, 0),  # the most hours a week: many topics a week, all plan
    (MAX_TOPICS, MAX_TIMELINE_MONTHS, 6, 0),  # a 60-month horizon, one variable per day: plans
], ids=["most-topics-one-year", "60-months-40-hours", "60-months-plans"])
def test_adversarial_content_answers_within_the_time_limit(tmp_path: Path, topics: int, months: int,
                                                           hours_per_week: float, expect: int) -> None:
    content = tmp_path / "adversarial.yaml"
    content.write_text(_content(topics, months, 0.5), encoding="utf-8")
    out = tmp_path / "plan.json"
    budget = SOLVER_TIME_LIMIT_S + 40  # the solver's limit plus loading, checks and exports on a slow CI box
    proc, seconds = _run(["plan", "--content", str(content), "--background", "anyone", "--start", "2027-01-04",
                          "--hours-per-week", str(hours_per_week), "--json", str(out)], limit=budget + 60)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (expect, 2), proc.stderr  # 2 only for a clear PlanningTimeout message
    if proc.returncode == 2:
        assert proc.stderr.strip().count("\n") == 0 and "did not finish within" in proc.stderr
    elif expect == 3:
        assert "h/week" in proc.stderr and "study at least" in proc.stderr.lower()
        assert not out.exists()
    else:
        assert out.exists() and "wrote" in proc.stdout
    assert seconds < budget, f"took {seconds:.1f} s"


def test_too_many_topics_is_refused_clearly(tmp_path: Path) -> None:
    content = tmp_path / "huge.yaml"
    content.write_text(_content(MAX_TOPICS + 1, 12, 0.5), encoding="utf-8")
    proc, seconds = _run(["check", str(content)], limit=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"limit of {MAX_TOPICS}" in proc.stderr and proc.stderr.strip().count("\n") == 0
    assert seconds < 60
