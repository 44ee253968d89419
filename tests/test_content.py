"""Learning-path files: loader errors name the field and file:line; the shipped paths are complete and sensible."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.cli import main
from planner.curriculum import load_curriculum
from planner.errors import InputError
from tests.conftest import ML_PATH, SQL_PATH

SEED = Path("/work/shared/seeds/000_ae2feec27056d70a.txt")
SQL_TEXT = SQL_PATH.read_text(encoding="utf-8")


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the test text"
    return hits[occurrence - 1]


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[Path, str]:
    assert SQL_TEXT.count(old) >= count, f"{old!r} not in sql-foundations.yaml"
    text = SQL_TEXT.replace(old, new, count)
    path = tmp_path / "path.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as exc:
        load_curriculum(path)
    return exc.value


def _assert_names(err: InputError, path: Path, field: str, line: int) -> str:
    msg = str(err)
    assert err.field == field
    assert err.source == str(path)
    assert err.line == line
    assert msg.startswith(f"{path}:{line}: {field}: "), msg
    return msg


def test_unknown_field(tmp_path):
    path, text = _broken(tmp_path, '        title: "SELECT, WHERE and ORDER BY"\n',
                         '        title: "SELECT, WHERE and ORDER BY"\n        colour: red\n')
    msg = _assert_names(_load_error(path), path, "phases[0].topics[0].colour", _line_of(text, "colour: red"))
    assert "unknown field" in msg


def test_unknown_top_level_field(tmp_path):
    path, text = _broken(tmp_path, "total_weeks: 8\n", "total_weeks: 8\nauthor: me\n")
    msg = _assert_names(_load_error(path), path, "author", _line_of(text, "author: me"))
    assert "unknown field" in msg


def test_missing_field(tmp_path):
    path, text = _broken(tmp_path, '        title: "Aggregates, GROUP BY and window functions"\n        hours: 8\n',
                         '        title: "Aggregates, GROUP BY and window functions"\n')
    msg = _assert_names(_load_error(path), path, "phases[0].topics[2].hours", _line_of(text, "id: sql-aggregates"))
    assert "missing" in msg


def test_wrong_type(tmp_path):
    path, text = _broken(tmp_path, "        title: Keys and normalisation\n        hours: 6\n",
                         "        title: Keys and normalisation\n        hours: six\n")
    msg = _assert_names(_load_error(path), path, "phases[1].topics[0].hours", _line_of(text, "hours: six"))
    assert "expected a number" in msg and "six" in msg


@pytest.mark.parametrize("value", ["0", "-2"])
def test_non_positive_hours(tmp_path, value):
    path, text = _broken(tmp_path, "        title: Keys and normalisation\n        hours: 6\n",
                         f"        title: Keys and normalisation\n        hours: {value}\n")
    msg = _assert_names(_load_error(path), path, "phases[1].topics[0].hours", _line_of(text, f"hours: {value}"))
    assert "positive" in msg


def test_hours_not_multiple_of_half(tmp_path):
    path, text = _broken(tmp_path, "        hours: 5\n", "        hours: 5.25\n")
    msg = _assert_names(_load_error(path), path, "phases[1].topics[1].hours", _line_of(text, "hours: 5.25"))
    assert "0.5" in msg


def test_hours_by_background_not_multiple_of_half(tmp_path):
    path, text = _broken(tmp_path, "hours_by_background: {developer: 2}", "hours_by_background: {developer: 2.2}")
    _assert_names(_load_error(path), path, "phases[0].topics[0].hours_by_background.developer",
                  _line_of(text, "developer: 2.2"))


def test_duplicate_id(tmp_path):
    path, text = _broken(tmp_path, "      - id: sql-indexes\n", "      - id: sql-joins\n")
    err = _load_error(path)
    msg = _assert_names(err, path, "phases[1].topics[1].id", _line_of(text, "id: sql-joins", 2))
    assert "duplicate" in msg and "sql-joins" in msg
    assert f"line {_line_of(text, 'id: sql-joins', 1)}" in msg  # and where the first one is


def test_unknown_prerequisite(tmp_path):
    path, text = _broken(tmp_path, "requires: [sql-normalisation]\n", "requires: [sql-nope]\n", count=1)
    msg = _assert_names(_load_error(path), path, "topic sql-project.requires", _line_of(text, "[sql-nope]"))
    assert "unknown topic 'sql-nope'" in msg


def test_prerequisite_cycle(tmp_path):
    # sql-select -> sql-project -> sql-normalisation -> sql-joins -> sql-select
    path, text = _broken(tmp_path, "        requires: []\n", "        requires: [sql-project]\n")
    err = _load_error(path)
    msg = str(err)
    assert "prerequisite cycle" in msg
    for tid in ("sql-select", "sql-joins", "sql-normalisation", "sql-project"):
        assert tid in msg
    assert "sql-aggregates" not in msg and "sql-indexes" not in msg
    # the error points at the requires line of a topic on the cycle
    m = re.match(r"topic ([a-z-]+)\.requires$", err.field)
    assert m and m.group(1) in {"sql-select", "sql-joins", "sql-normalisation", "sql-project"}
    lines = text.splitlines()
    assert err.line is not None and "requires:" in lines[err.line - 1]
    assert msg.startswith(f"{path}:{err.line}: {err.field}: ")


def test_timeline_min_exceeds_max(tmp_path):
    path, text = _broken(tmp_path, "timeline_months: {min: 2, max: 4}", "timeline_months: {min: 5, max: 4}")
    msg = _assert_names(_load_error(path), path, "backgrounds.beginner.timeline_months",
                        _line_of(text, "{min: 5, max: 4}"))
    assert "5" in msg and "4" in msg


def test_yaml_syntax_error(tmp_path):
    path, text = _broken(tmp_path, "        title: Joins and set operations\n",
                         "        title: Joins: and set: operations\n")
    msg = _assert_names(_load_error(path), path, "yaml", _line_of(text, "Joins: and set"))
    assert "not allowed" in msg


def test_unknown_background_in_hours_by_background(tmp_path):
    path, text = _broken(tmp_path, "hours_by_background: {developer: 4}", "hours_by_background: {developr: 4}")
    msg = _assert_names(_load_error(path), path, "phases[0].topics[1].hours_by_background.developr",
                        _line_of(text, "developr: 4"))
    assert "unknown background" in msg and "beginner" in msg and "developer" in msg


def test_shipped_sql_file_loads():
    c = load_curriculum(SQL_PATH)
    assert c.id == "sql-foundations"
    assert [len(p.topic_ids) for p in c.phases] == [3, 3]


# ---------------------------------------------------------------- the shipped ML path


def _seed_phases(text: str) -> dict[int, tuple[str, list[str]]]:
    phases: dict[int, tuple[str, list[str]]] = {}
    current: int | None = None
    for line in text.splitlines():
        m = re.match(r"^### Phase (\d+): (.+?)(?: \(Weeks [^)]*\))?\s*$", line)
        if m:
            current = int(m.group(1))
            phases[current] = (m.group(2).strip(), [])
            continue
        if line.startswith("#"):
            current = None
            continue
        if current is not None and line.startswith("- "):
            phases[current][1].append(line[2:].strip())
    return phases


def test_ml_path_phases_and_topic_counts(ml):
    seed_phases = [p for p in ml.phases if p.number != 0]
    assert [p.number for p in seed_phases] == [1, 2, 3, 4, 5, 6, 7]
    counts = [len(p.topic_ids) for p in seed_phases]
    assert counts == [8, 10, 11, 16, 7, 7, 7]
    assert sum(counts) == 66
    # the only extra phase is the prerequisite foundations, phase 0
    extra = [p for p in ml.phases if p.number == 0]
    assert len(extra) <= 1
    for p in extra:
        assert "foundation" in p.title.lower()


def test_ml_path_titles_match_seed(ml):
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is not on this machine")
    seed = _seed_phases(SEED.read_text(encoding="utf-8"))
    assert sorted(seed) == [1, 2, 3, 4, 5, 6, 7]
    for number, (title, bullets) in seed.items():
        phase = ml.phase(number)
        assert phase.title == title
        assert [ml.topic(t).title for t in phase.topic_ids] == bullets, f"phase {number}"


def test_ml_path_weekly_bands_are_sensible(ml):
    weeks_per_month = 365.25 / 12 / 7
    for b in ml.backgrounds:
        total = sum(t.hours_for(b.key) for t in ml.topics if t.elective is None)
        assert total > 0
        low = total / (b.months_max * weeks_per_month)
        high = total / (b.months_min * weeks_per_month)
        assert 8 <= low <= high <= 40, (b.key, round(low, 1), round(high, 1))


@pytest.mark.parametrize("path", [ML_PATH, SQL_PATH], ids=["ml", "sql"])
def test_planner_check_shipped_files(path, capsys):
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: ok")


def test_planner_check_reports_bad_file(tmp_path, capsys):
    path, text = _broken(tmp_path, "        hours: 5\n", "        hours: 5.25\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{path}:{_line_of(text, 'hours: 5.25')}:" in err
    assert "Traceback" not in err
