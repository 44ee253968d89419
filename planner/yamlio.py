"""Safe YAML reading that remembers line numbers, so content errors can say file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError

MAX_YAML_BYTES = 2_000_000
# Anchors and aliases (&a / *a) let a few lines stand for billions of values (the "billion laughs"); the parsed
# document may hold at most this many values, counting every alias as the values it repeats.
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 100  # nesting depth; PyYAML's composer recurses, so deeper input would exhaust the stack


class LineDict(dict[str, Any]):
    """A mapping that also knows the source line of the mapping and of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that returns LineDict for mappings."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values", key_node.start_mark
            )
        skey = str(key)
        if skey in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{skey}'", key_node.start_mark
            )
        result[skey] = loader.construct_object(value_node, deep=True)
        result.key_lines[skey] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _check_size(node: yaml.Node, source: str) -> None:
    """Refuse documents that expand (through aliases) past MAX_YAML_NODES values; iterative, cycle-safe."""
    expanded: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, children_done = stack.pop()
        key = id(current)
        if children_done:
            on_stack.discard(key)
            kids = _children(current)
            expanded[key] = 1 + sum(expanded[id(k)] for k in kids)
            if expanded[key] > MAX_YAML_NODES:
                raise InputError("yaml", f"the document expands to more than {MAX_YAML_NODES:,} values "
                                         f"(anchors and aliases repeat too much)", source=source,
                                 line=current.start_mark.line + 1)
            continue
        if key in expanded:
            continue
        if key in on_stack:
            raise InputError("yaml", "an alias refers to itself", source=source, line=current.start_mark.line + 1)
        on_stack.add(key)
        stack.append((current, True))
        stack.extend((k, False) for k in _children(current) if id(k) not in expanded)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_depth(text: str, source: str) -> None:
    """Refuse flow or block nesting deeper than MAX_YAML_DEPTH before PyYAML's recursive composer sees it."""
    depth = 0
    events = yaml.parse(text, Loader=yaml.SafeLoader)
    try:
        for event in events:
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    mark = event.start_mark
                    raise InputError("yaml", f"nested more than {MAX_YAML_DEPTH} levels deep", source=source,
                                     line=mark.line + 1 if mark is not None else None)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML safely; syntax errors become InputError with the line."""
    loader = _LineLoader(text)
    try:
        _check_depth(text, source)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, source)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError("yaml", (exc.problem or str(exc)).strip(), source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError("yaml", str(exc).splitlines()[0], source=source) from None
    finally:
        loader.dispose()


def read_text(path: str | Path, what: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """Read a small text file or say, in one line, why it cannot be read."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(what, f"file not found: {p}") from None
    except OSError as exc:
        raise InputError(what, f"cannot read {p}: {exc.strerror}") from None
    if p.is_dir():
        raise InputError(what, f"{p} is a directory, not a file")
    if size > max_bytes:
        raise InputError(what, f"{p} is {size:,} bytes; the limit is {max_bytes:,}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(what, f"{p} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(what, f"cannot read {p}: {exc.strerror}") from None


def load_yaml_file(path: str | Path, what: str) -> Any:
    return parse_yaml(read_text(path, what), str(path))
