"""Safe YAML reading that remembers line numbers, so content errors can say file:line."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from planner.errors import InputError

MAX_YAML_BYTES = 2_000_000  # a learning path
MAX_PROFILE_BYTES = 200_000  # a learner profile: a few dozen fields, up to 200 blackout ranges and 2,000 skipped ids
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


class _StrictResolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema scalars: only true/false are booleans (Norway's `NO` stays text), only ASCII decimal
    numbers are numbers (`19:07` is text, not the base-60 integer 1147; `010` is ten, not octal eight), and dates
    stay text so the fields that hold them can check them and name themselves."""


_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictResolver.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_StrictResolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
_StrictResolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                      ["~", "n", "N", ""])
_StrictResolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])

try:  # libyaml: parses ~10x faster than the pure-Python parser
    from yaml._yaml import CParser as _CParser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None  # type: ignore[assignment,misc]

if _CParser is not None:
    class _LineLoader(_CParser, yaml.constructor.SafeConstructor, _StrictResolver):  # type: ignore[misc]
        """libyaml's parser (its nodes carry marks, so errors keep file:line), PyYAML's safe constructor (no
        arbitrary objects), strict scalars, LineDict mappings."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _StrictResolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    class _LineLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,  # type: ignore[no-redef]
                      yaml.composer.Composer, yaml.constructor.SafeConstructor, _StrictResolver):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            _StrictResolver.__init__(self)


MAX_DIGITS = 30  # a number written with more digits is a typo or an attack, never a real value


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not re.fullmatch(rf"[-+]?[0-9]{{1,{MAX_DIGITS}}}", text):
        raise yaml.constructor.ConstructorError(None, None, f"'{text[:40]}' is not a whole number of at most "
                                                f"{MAX_DIGITS} ASCII digits", node.start_mark)
    return int(text, 10)


def _construct_float(loader: _LineLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    special = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
    if text.lower() in special:
        return special[text.lower()]
    if len(text) > 2 * MAX_DIGITS or not re.fullmatch(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
                                                      text):
        raise yaml.constructor.ConstructorError(None, None, f"'{text[:40]}' is not a plain decimal number",
                                                node.start_mark)
    return float(text)


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


for _tag, _build in ((yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping),
                     ("tag:yaml.org,2002:int", _construct_int), ("tag:yaml.org,2002:float", _construct_float)):
    _LineLoader.add_constructor(_tag, _build)  # type: ignore[type-var,arg-type]


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


# Characters YAML does not allow (C0/C1 controls other than tab and line breaks, surrogates, non-characters), and
# the Unicode line separators that would split an error message: refused wherever they appear, comments included.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u2028\u2029\ud800-\udfff"
                              "\ufeff\ufffe\uffff]")


def _check_characters(text: str, source: str) -> None:
    bad = _FORBIDDEN_CHARS.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise InputError("yaml", f"control character U+{ord(bad.group()):04X} is not allowed (not even in a "
                                 f"comment)", source=source, line=line)


_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_depth(text: str, source: str) -> None:
    """Refuse flow or block nesting deeper than MAX_YAML_DEPTH before the recursive composer sees it."""
    depth = 0
    events = yaml.parse(text, Loader=_EVENT_LOADER)
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
    """Parse YAML safely and strictly; every problem becomes a one-line InputError with the line."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is allowed at the very start only
    _check_characters(text, source)
    try:
        loader = _LineLoader(text)
    except yaml.YAMLError as exc:
        raise InputError("yaml", str(exc).splitlines()[0], source=source) from None
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
        problem = (exc.problem or str(exc)).strip()
        if "maximum nesting depth" in problem:  # libyaml's own cap, met before ours while scanning
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep"
        raise InputError("yaml", problem, source=source, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError("yaml", str(exc).splitlines()[0], source=source) from None
    except (ValueError, TypeError, OverflowError) as exc:  # an explicitly tagged value its constructor refuses
        raise InputError("yaml", f"unreadable value ({exc})", source=source) from None
    finally:
        loader.dispose()


def read_text(path: str | Path, what: str, max_bytes: int = MAX_YAML_BYTES) -> str:
    """Read a small regular file as UTF-8 or say, in one line, why not.

    Opened without blocking and checked with fstat before any read, so a FIFO, /dev/zero or a terminal is refused
    instead of hanging or filling memory; at most max_bytes + 1 bytes are ever read.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(what, f"file not found: {p}") from None
    except IsADirectoryError:
        raise InputError(what, f"{p} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(what, f"cannot read {p}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(what, f"{p} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(what, f"{p} is not a regular file (a pipe, device or socket cannot be read)")
        if info.st_size > max_bytes:
            raise InputError(what, f"{p} is {info.st_size:,} bytes; the limit is {max_bytes:,}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # the file grew after fstat
            raise InputError(what, f"{p} is more than {max_bytes:,} bytes, the limit")
    except OSError as exc:
        raise InputError(what, f"cannot read {p}: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(what, f"{p} is not UTF-8 text") from None


def load_yaml_file(path: str | Path, what: str, max_bytes: int = MAX_YAML_BYTES) -> Any:
    return parse_yaml(read_text(path, what, max_bytes), str(path))
