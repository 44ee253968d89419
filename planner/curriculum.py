"""Learning paths as data: schema, validation with file:line errors, and the prerequisite graph."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from planner.errors import InputError
from planner.yamlio import LineDict, load_yaml_file, parse_yaml

TOPIC_KINDS = ("study", "project")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HOURS_STEP = 0.5  # content hours are whole 30-minute blocks, the planner's unit
MAX_TIMELINE_MONTHS = 60  # bounds the solver's horizon (one variable per day)
# Every input within the limits answers in under 10 s on one core (README, "Limits"): the solver and the focus pass
# grow with topics x days, and 2,000 topics over 60 months took 30 s of CPU; 500 take at most ~7 s.
MAX_TOPICS = 500
MAX_TOPIC_HOURS = 10_000  # far above any real topic; keeps a typo (1e30) from overflowing the block count
MAX_WEEKS = 520  # phase weeks and total_weeks: ten years, far past the 60-month limit
MAX_LINE_CHARS = 300  # titles, ids, labels: shown on one line in calendars and tables
MAX_TEXT_CHARS = 20_000  # descriptions and notes
# Characters that break a one-line field (titles end up in calendar SUMMARY lines and terminal tables)
_LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TEXT_BREAKING = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Background:
    key: str
    label: str
    description: str
    months_min: int
    months_max: int


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    phase: int
    hours: float
    hours_by_background: tuple[tuple[str, float], ...]
    requires: tuple[str, ...]
    kind: str
    optional: bool
    resources: tuple[str, ...]
    group: str | None = None
    elective: str | None = None
    notes: str | None = None
    deliverable: str | None = None

    def hours_for(self, background: str) -> float:
        """Hours this background needs; 0 means the background skips the topic."""
        return dict(self.hours_by_background).get(background, self.hours)


@dataclass(frozen=True)
class Phase:
    number: int
    title: str
    objective: str
    weeks: tuple[int, int] | None
    topic_ids: tuple[str, ...]  # the phase's topics (its project, if any, is project_id)
    project_id: str | None = None


@dataclass(frozen=True)
class Elective:
    id: str
    title: str
    description: str
    topic_ids: tuple[str, ...]


@dataclass(frozen=True)
class ChecklistItem:
    stage: str
    months_min: int | None
    months_max: int | None
    title: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Curriculum:
    id: str
    display_name: str
    title: str
    description: str
    total_weeks: int | None
    backgrounds: tuple[Background, ...]
    phases: tuple[Phase, ...]
    topics: tuple[Topic, ...]  # file order: phases first, then electives
    electives: tuple[Elective, ...]
    checklist: tuple[ChecklistItem, ...]
    resources: tuple[str, ...]
    next_steps: tuple[str, ...]
    expertise: tuple[str, ...]
    salary_range: tuple[tuple[str, str], ...]
    technology_stack: tuple[tuple[str, tuple[str, ...]], ...]
    source: str

    def topic(self, topic_id: str) -> Topic:
        return self._by_id()[topic_id]

    def has_topic(self, topic_id: str) -> bool:
        return topic_id in self._by_id()

    def _by_id(self) -> dict[str, Topic]:
        return {t.id: t for t in self.topics}

    def background(self, key: str) -> Background:
        for b in self.backgrounds:
            if b.key == key:
                return b
        raise KeyError(key)

    @property
    def background_keys(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.backgrounds)

    def phase(self, number: int) -> Phase:
        for p in self.phases:
            if p.number == number:
                return p
        raise KeyError(number)


class _Reader:
    """Walks the parsed YAML with the field path and line at hand, so every error can name them."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, node: Any, field: str, message: str, key: str | None = None) -> InputError:
        line = None
        if isinstance(node, LineDict):
            line = node.line_of(key) if key is not None else node.line
        return InputError(field, message, source=self.source, line=line)

    def mapping(self, node: Any, field: str, allowed: set[str], required: set[str], parent: Any = None,
                key: str | None = None) -> LineDict:
        if not isinstance(node, LineDict):
            raise self.fail(parent, field, f"expected a mapping, got {_typename(node)}", key)
        for k in node:
            if k not in allowed:
                raise self.fail(node, f"{field}.{k}" if field else k,
                                f"unknown field (allowed: {', '.join(sorted(allowed))})", k)
        for k in sorted(required):
            if k not in node:
                raise self.fail(node, f"{field}.{k}" if field else k, "missing required field")
        return node

    def string(self, node: LineDict, key: str, field: str, *, optional: bool = False,
               multiline: bool = False) -> str | None:
        """Non-empty text; one line (no control characters) unless multiline, and of a bounded length."""
        value = node.get(key)
        if value is None and optional:
            return None
        name = f"{field}.{key}" if field else key
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, name, f"expected non-empty text, got {_typename(value)}", key)
        self.check_text(node, key, name, value.strip(), multiline)
        return value.strip()

    def check_text(self, node: LineDict, key: str, name: str, text: str, multiline: bool = False) -> None:
        limit, bad = (MAX_TEXT_CHARS, _TEXT_BREAKING) if multiline else (MAX_LINE_CHARS, _LINE_BREAKING)
        hit = bad.search(text)
        if hit:
            raise self.fail(node, name, f"control character U+{ord(hit.group()):04X} is not allowed here"
                                        + ("" if multiline else " (this field is one line of text)"), key)
        if len(text) > limit:
            raise self.fail(node, name, f"{len(text):,} characters is more than the limit of {limit:,}", key)

    def number(self, node: LineDict, key: str, field: str, *, allow_zero: bool = False) -> float:
        value = node.get(key)
        name = f"{field}.{key}" if field else key
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, name, f"expected a number, got {_typename(value)}", key)
        if not math.isfinite(value) or value > MAX_TOPIC_HOURS:
            raise self.fail(node, name, f"must be at most {MAX_TOPIC_HOURS:,} h, got {value}", key)
        if value < 0 or (value == 0 and not allow_zero):
            raise self.fail(node, name, f"must be {'≥ 0' if allow_zero else 'positive'}, got {value}", key)
        return float(value)

    def integer(self, node: LineDict, key: str, field: str, lo: int = 0, hi: int = MAX_WEEKS) -> int:
        value = node.get(key)
        name = f"{field}.{key}" if field else key
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(node, name, f"expected a whole number, got {_typename(value)}", key)
        if not lo <= value <= hi:
            raise self.fail(node, name, f"must be between {lo} and {hi}, got {value}", key)
        return value

    def str_list(self, node: LineDict, key: str, field: str, multiline: bool = False) -> tuple[str, ...]:
        value = node.get(key, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(node, f"{field}.{key}", "expected a list of text items", key)
        for i, v in enumerate(value):
            self.check_text(node, key, f"{field}.{key}[{i}]", v.strip(), multiline)
        return tuple(v.strip() for v in value)


def _typename(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'" if len(value) < 40 else "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TOP_FIELDS = {
    "schema", "id", "display_name", "title", "description", "expertise", "salary_range", "total_weeks",
    "backgrounds", "phases", "electives", "checklist", "next_steps", "resources", "technology_stack",
}
_TOPIC_FIELDS = {"id", "title", "group", "hours", "hours_by_background", "requires", "kind", "optional",
                 "resources", "notes", "deliverable"}


def load_curriculum(path: str | Path) -> Curriculum:
    """Load and validate a learning-path YAML file."""
    return curriculum_from_data(load_yaml_file(path, "content"), str(path))


def parse_curriculum(text: str, source: str = "<content>") -> Curriculum:
    return curriculum_from_data(parse_yaml(text, source), source)


def curriculum_from_data(data: Any, source: str) -> Curriculum:
    r = _Reader(source)
    if not isinstance(data, LineDict):
        raise InputError("content", f"expected a mapping at the top level, got {_typename(data)}", source=source,
                         line=1)
    root = r.mapping(data, "", _TOP_FIELDS, {"id", "title", "backgrounds", "phases"})
    if "schema" in root and root["schema"] != 1:
        raise r.fail(root, "schema", f"unsupported schema {root['schema']!r} (this planner reads schema 1)", "schema")
    path_id = r.string(root, "id", "")
    assert path_id is not None
    if not ID_RE.match(path_id):
        raise r.fail(root, "id", "use lowercase letters, digits and '-'", "id")
    title = r.string(root, "title", "") or path_id
    display_name = r.string(root, "display_name", "", optional=True) or title
    description = r.string(root, "description", "", optional=True, multiline=True) or ""
    total_weeks = None
    if root.get("total_weeks") is not None:
        total_weeks = r.integer(root, "total_weeks", "", lo=1)

    backgrounds = _read_backgrounds(r, root)
    bg_keys = {b.key for b in backgrounds}

    topics: list[Topic] = []
    seen: dict[str, int] = {}
    phases: list[Phase] = []
    raw_phases = root["phases"]
    if not isinstance(raw_phases, list) or not raw_phases:
        raise r.fail(root, "phases", "expected a non-empty list of phases", "phases")
    numbers: set[int] = set()
    for i, ph in enumerate(raw_phases):
        field = f"phases[{i}]"
        ph = r.mapping(ph, field, {"number", "title", "objective", "weeks", "topics", "project"},
                       {"number", "title", "topics"}, root, "phases")
        number = r.integer(ph, "number", field, hi=999)
        if number in numbers:
            raise r.fail(ph, f"{field}.number", f"phase {number} appears twice", "number")
        numbers.add(number)
        weeks = None
        if ph.get("weeks") is not None:
            w = r.mapping(ph["weeks"], f"{field}.weeks", {"start", "end"}, {"start", "end"}, ph, "weeks")
            ws, we = r.integer(w, "start", f"{field}.weeks", lo=1), r.integer(w, "end", f"{field}.weeks", lo=1)
            if ws < 1 or we < ws:
                raise r.fail(w, f"{field}.weeks", f"week span {ws}-{we} must satisfy 1 ≤ start ≤ end")
            weeks = (ws, we)
        raw_topics = ph["topics"]
        if not isinstance(raw_topics, list) or not raw_topics:
            raise r.fail(ph, f"{field}.topics", "expected a non-empty list of topics", "topics")
        ids = []
        for j, tn in enumerate(raw_topics):
            t = _read_topic(r, tn, f"{field}.topics[{j}]", ph, number, None, bg_keys, seen)
            topics.append(t)
            ids.append(t.id)
        project_id = None
        if ph.get("project") is not None:
            # The phase's portfolio project: a topic of kind project that, unless it says otherwise,
            # needs every topic of its phase.
            pn = ph["project"]
            if isinstance(pn, LineDict) and "requires" not in pn:
                pn["requires"] = list(ids)
                pn.key_lines["requires"] = pn.line
            if isinstance(pn, LineDict) and "kind" not in pn:
                pn["kind"] = "project"
            t = _read_topic(r, pn, f"{field}.project", ph, number, None, bg_keys, seen)
            if t.kind != "project":
                raise r.fail(pn, f"{field}.project.kind", "a phase project has kind project", "kind")
            topics.append(t)
            project_id = t.id
        phases.append(Phase(number, r.string(ph, "title", field) or "", r.string(ph, "objective", field,
                                                                                   optional=True, multiline=True) or "",
                            weeks, tuple(ids), project_id))

    electives: list[Elective] = []
    raw_el = root.get("electives") or []
    if not isinstance(raw_el, list):
        raise r.fail(root, "electives", "expected a list", "electives")
    for i, en in enumerate(raw_el):
        field = f"electives[{i}]"
        en = r.mapping(en, field, {"id", "title", "description", "topics"}, {"id", "title", "topics"}, root,
                       "electives")
        eid = r.string(en, "id", field) or ""
        if not ID_RE.match(eid):
            raise r.fail(en, f"{field}.id", "use lowercase letters, digits and '-'", "id")
        if any(e.id == eid for e in electives):
            raise r.fail(en, f"{field}.id", f"elective '{eid}' appears twice", "id")
        raw_topics = en["topics"]
        if not isinstance(raw_topics, list) or not raw_topics:
            raise r.fail(en, f"{field}.topics", "expected a non-empty list of topics", "topics")
        last_phase = max(p.number for p in phases)
        ids = []
        for j, tn in enumerate(raw_topics):
            t = _read_topic(r, tn, f"{field}.topics[{j}]", en, last_phase, eid, bg_keys, seen)
            topics.append(t)
            ids.append(t.id)
        electives.append(Elective(eid, r.string(en, "title", field) or eid,
                                  r.string(en, "description", field, optional=True, multiline=True) or "",
                                  tuple(ids)))

    if len(topics) > MAX_TOPICS:
        raise r.fail(root, "phases", f"{len(topics)} topics is more than the planner's limit of {MAX_TOPICS}",
                     "phases")
    _check_prerequisites(r, raw_phases, raw_el, topics, seen)
    checklist = _read_checklist(r, root, seen)
    stack_raw = root.get("technology_stack") or {}
    stack: list[tuple[str, tuple[str, ...]]] = []
    if stack_raw:
        if not isinstance(stack_raw, LineDict):
            raise r.fail(root, "technology_stack", "expected a mapping of category to list", "technology_stack")
        for k in stack_raw:
            stack.append((k, r.str_list(stack_raw, k, "technology_stack")))
    salary_raw = root.get("salary_range") or {}
    if not isinstance(salary_raw, dict):
        raise r.fail(root, "salary_range", "expected a mapping", "salary_range")
    return Curriculum(
        id=path_id, display_name=display_name, title=title, description=description, total_weeks=total_weeks,
        backgrounds=backgrounds, phases=tuple(phases), topics=tuple(topics), electives=tuple(electives),
        checklist=checklist, resources=r.str_list(root, "resources", ""), next_steps=r.str_list(root, "next_steps", ""),
        expertise=r.str_list(root, "expertise", ""),
        salary_range=tuple((str(k), str(v)) for k, v in salary_raw.items()),
        technology_stack=tuple(stack), source=source,
    )


def _read_backgrounds(r: _Reader, root: LineDict) -> tuple[Background, ...]:
    raw = r.mapping(root["backgrounds"], "backgrounds", set(root["backgrounds"] or {}) if isinstance(
        root["backgrounds"], dict) else set(), set(), root, "backgrounds")
    if not raw:
        raise r.fail(root, "backgrounds", "define at least one background", "backgrounds")
    out = []
    for key in raw:
        field = f"backgrounds.{key}"
        if not re.match(r"^[a-z][a-z0-9_]*$", key):
            raise r.fail(raw, field, "background keys use lowercase letters, digits and '_'", key)
        b = r.mapping(raw[key], field, {"label", "description", "timeline_months"}, {"timeline_months"}, raw, key)
        tm = r.mapping(b["timeline_months"], f"{field}.timeline_months", {"min", "max"}, {"min", "max"}, b,
                       "timeline_months")
        lo, hi = r.integer(tm, "min", f"{field}.timeline_months"), r.integer(tm, "max", f"{field}.timeline_months")
        if lo < 1:
            raise r.fail(tm, f"{field}.timeline_months.min", f"must be at least 1, got {lo}", "min")
        if lo > hi:
            raise r.fail(tm, f"{field}.timeline_months", f"min {lo} exceeds max {hi}", "min")
        if hi > MAX_TIMELINE_MONTHS:
            raise r.fail(tm, f"{field}.timeline_months.max", f"{hi} months is more than the planner's limit of "
                                                             f"{MAX_TIMELINE_MONTHS}", "max")
        label = r.string(b, "label", field, optional=True) or key.replace("_", " ").capitalize()
        out.append(Background(key, label, r.string(b, "description", field, optional=True, multiline=True) or "",
                              lo, hi))
    return tuple(out)


def _read_topic(r: _Reader, node: Any, field: str, parent: LineDict, phase: int, elective: str | None,
                bg_keys: set[str], seen: dict[str, int]) -> Topic:
    t = r.mapping(node, field, _TOPIC_FIELDS, {"id", "title", "hours"}, parent, "topics")
    tid = r.string(t, "id", field) or ""
    if not ID_RE.match(tid):
        raise r.fail(t, f"{field}.id", f"'{tid}': use lowercase letters, digits and '-'", "id")
    if tid in seen:
        raise r.fail(t, f"{field}.id", f"duplicate topic id '{tid}' (first at line {seen[tid]})", "id")
    seen[tid] = t.line_of("id")
    hours = r.number(t, "hours", field)
    _check_step(r, t, "hours", f"{field}.hours", hours)
    by_bg: list[tuple[str, float]] = []
    if t.get("hours_by_background") is not None:
        hb = t["hours_by_background"]
        if not isinstance(hb, LineDict):
            raise r.fail(t, f"{field}.hours_by_background", "expected a mapping of background to hours",
                         "hours_by_background")
        for k in hb:
            if k not in bg_keys:
                raise r.fail(hb, f"{field}.hours_by_background.{k}",
                             f"unknown background (defined: {', '.join(sorted(bg_keys))})", k)
            v = r.number(hb, k, f"{field}.hours_by_background", allow_zero=True)
            _check_step(r, hb, k, f"{field}.hours_by_background.{k}", v)
            by_bg.append((k, v))
    kind = t.get("kind", "study")
    if kind not in TOPIC_KINDS:
        raise r.fail(t, f"{field}.kind", f"'{kind}' is not one of {', '.join(TOPIC_KINDS)}", "kind")
    optional = t.get("optional", elective is not None)
    if not isinstance(optional, bool):
        raise r.fail(t, f"{field}.optional", f"expected true or false, got {_typename(optional)}", "optional")
    group = r.string(t, "group", field, optional=True) if t.get("group") is not None else None
    notes = r.string(t, "notes", field, optional=True, multiline=True) if t.get("notes") is not None else None
    deliverable = (r.string(t, "deliverable", field, optional=True, multiline=True)
                   if t.get("deliverable") is not None else None)
    # a topic's title and resources may hold line breaks (calendar files escape them); the path's title may not,
    # since it names the calendar
    return Topic(tid, r.string(t, "title", field, multiline=True) or tid, phase, hours, tuple(by_bg),
                 r.str_list(t, "requires", field), kind, optional, r.str_list(t, "resources", field, multiline=True),
                 group, elective, notes, deliverable)


def _check_step(r: _Reader, node: LineDict, key: str, field: str, value: float) -> None:
    if abs(value / HOURS_STEP - round(value / HOURS_STEP)) > 1e-9:
        raise r.fail(node, field, f"{value} is not a multiple of {HOURS_STEP} h (plans use 30-minute blocks)", key)


def _topic_nodes(raw_phases: list[Any], raw_el: list[Any]) -> dict[str, LineDict]:
    nodes: dict[str, LineDict] = {}
    for group in [*raw_phases, *raw_el]:
        for tn in group.get("topics", []):
            nodes[tn["id"]] = tn
        if isinstance(group.get("project"), dict):
            nodes[group["project"]["id"]] = group["project"]
    return nodes


def _check_prerequisites(r: _Reader, raw_phases: list[Any], raw_el: list[Any], topics: list[Topic],
                         seen: dict[str, int]) -> None:
    nodes = _topic_nodes(raw_phases, raw_el)
    graph: dict[str, tuple[str, ...]] = {}
    for t in topics:
        for req in t.requires:
            if req not in seen:
                raise r.fail(nodes[t.id], f"topic {t.id}.requires", f"unknown topic '{req}'", "requires")
            if req == t.id:
                raise r.fail(nodes[t.id], f"topic {t.id}.requires", "a topic cannot require itself", "requires")
        graph[t.id] = t.requires
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = list(exc.args[1])
        first = cycle[0]
        raise r.fail(nodes[first], f"topic {first}.requires",
                     "prerequisite cycle: " + " → ".join(reversed(cycle)), "requires") from None


def _read_checklist(r: _Reader, root: LineDict, seen: Mapping[str, int]) -> tuple[ChecklistItem, ...]:
    raw = root.get("checklist") or []
    if not isinstance(raw, list):
        raise r.fail(root, "checklist", "expected a list of stages", "checklist")
    items: list[ChecklistItem] = []
    for i, sn in enumerate(raw):
        field = f"checklist[{i}]"
        s = r.mapping(sn, field, {"stage", "months", "items"}, {"stage", "items"}, root, "checklist")
        lo = hi = None
        if s.get("months") is not None:
            m = r.mapping(s["months"], f"{field}.months", {"min", "max"}, {"min"}, s, "months")
            lo = r.integer(m, "min", f"{field}.months", hi=2 * MAX_TIMELINE_MONTHS)
            if m.get("max") is not None:
                hi = r.integer(m, "max", f"{field}.months", hi=2 * MAX_TIMELINE_MONTHS)
                if hi < lo:
                    raise r.fail(m, f"{field}.months", f"min {lo} exceeds max {hi}", "min")
        stage = r.string(s, "stage", field) or ""
        if not isinstance(s["items"], list):
            raise r.fail(s, f"{field}.items", "expected a list", "items")
        for j, itn in enumerate(s["items"]):
            it = r.mapping(itn, f"{field}.items[{j}]", {"title", "requires"}, {"title"}, s, "items")
            reqs = r.str_list(it, "requires", f"{field}.items[{j}]")
            for q in reqs:
                if q not in seen:
                    raise r.fail(it, f"{field}.items[{j}].requires", f"unknown topic '{q}'", "requires")
            items.append(ChecklistItem(stage, lo, hi, r.string(it, "title", f"{field}.items[{j}]") or "", reqs))
    return tuple(items)


def default_content_path() -> Path:
    """The path shipped with the product: the ML & AI Engineer mastery path."""
    return Path(__file__).resolve().parent.parent / "content" / "ml-ai-engineer.yaml"


@lru_cache(maxsize=8)
def _curricula() -> dict[str, Path]:
    """Path id → content file, for the paths shipped beside the default one."""
    out: dict[str, Path] = {}
    for path in sorted(default_content_path().parent.glob("*.yaml")):
        try:
            out.setdefault(load_curriculum(path).id, path)
        except InputError:
            continue
    return out


@lru_cache(maxsize=8)
def curriculum_for_id(path_id: str) -> Curriculum:
    path = _curricula().get(path_id)
    if path is None:
        raise InputError("plan: path.id", f"no content file for path '{path_id}'")
    return load_curriculum(path)
