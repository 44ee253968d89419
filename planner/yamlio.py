"""Safe YAML reading that remembers line numbers, so content errors can say file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError

MAX_YAML_BYTES = 2_000_000


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


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML safely; syntax errors become InputError with the line."""
    loader = _LineLoader(text)
    try:
        return loader.get_single_data()
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
