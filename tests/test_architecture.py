"""The engine's modules depend on each other one way: content → curriculum → profile → (busy calendars →
availability) → requirements → model → plan → views and exports.

Read from the source with `ast`, so an import hidden inside a function counts as much as one at the top: a
cycle there still ties the modules together, it only moves the failure to run time. Imports under
`if TYPE_CHECKING:` are left out: they name a type for the checker and run nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "planner"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The planner modules `module` imports anywhere in its source (functions included, TYPE_CHECKING not)."""

    def known(name: str) -> str | None:  # `planner.export.json.plan_to_json` → `planner.export.json`
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit_one(other)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" for a in node.names]
        for name in names:
            target = known(name)
            if target and target != module:
                out.add(target)
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imported(m, p, modules) for m, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = walk(start)
            if found:
                return found
    return None


def test_the_reader_sees_imports_inside_functions_and_skips_type_checking_ones(tmp_path: Path) -> None:
    """The check itself: a cycle hidden in a function is found, a type-only import is not an edge."""
    source = ("from typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from planner.b import B\n"
              "def f():\n    from planner import c\n    return c\n")
    path = tmp_path / "a.py"
    path.write_text(source)
    modules = {"planner.a": path, "planner.b": path, "planner.c": path}
    assert _imported("planner.a", path, modules) == {"planner.c"}
    assert find_cycle({"planner.a": {"planner.c"}, "planner.c": {"planner.a"}}) == ["planner.a", "planner.c",
                                                                                     "planner.a"]
    assert find_cycle({"planner.a": {"planner.c"}, "planner.c": set()}) is None


def test_planner_modules_import_each_other_without_a_cycle() -> None:
    graph = import_graph()
    assert {"planner.profile", "planner.busy", "planner.availability", "planner.plan"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_profile_is_data_it_never_reads_calendars_or_free_time() -> None:
    """Profile fields are parsed without the busy-calendar reader, the free-time resolver or the plan: reading the
    learner's world is a stage after the profile (planner.busy.with_busy), not part of building it."""
    imported = import_graph()["planner.profile"]
    assert not imported & {"planner.busy", "planner.availability", "planner.plan"}, imported


def test_the_world_stage_sits_between_the_profile_and_the_requirements() -> None:
    graph = import_graph()
    assert "planner.profile" in graph["planner.busy"]  # busy calendars are read for a profile
    assert "planner.availability" in graph["planner.requirements"]  # capacity is the free time
    assert "planner.requirements" not in graph["planner.availability"]
    assert "planner.requirements" not in graph["planner.busy"]
