"""Write files so a reader sees the old bytes or the new, never half of either — and a set of files all or none.

Rules (README, "Output files"): every byte is rendered before the first file is touched; each file is written to a
temporary file beside it and renamed over the old one; if any rename fails, the files already replaced get their
old bytes back (and new ones are removed), so a failed run changes nothing. A symbolic link is written through:
its target gets the new bytes and the link stays. A directory, FIFO, device or socket is refused, never replaced.
A new file gets the usual permissions (0666 less the umask), a replaced file keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from planner.errors import InputError


@dataclass
class _Pending:
    name: str  # what the learner typed, for messages
    target: Path  # where the bytes go (a symlink resolved to its target)
    tmp: Path | None = None
    backup: Path | None = None  # a hard link to the old file while the set is being replaced
    existed: bool = False
    replaced: bool = False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _prepare(name: str, seen: dict[tuple[int, int] | str, str], label: str | None = None) -> _Pending:
    """Resolve one output path and refuse what must never be replaced."""
    if not name:
        raise InputError(label or "output", "an empty file name")
    shown = f"{label} {name}" if label else name
    target = Path(os.path.realpath(name))  # through symlinks (also dangling ones: the link's target is created)
    key: tuple[int, int] | str = str(target)
    existed = False
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(shown, f"cannot write: {exc.strerror}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise InputError(shown, "is a directory; give a file name")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(shown, "is not a regular file (a pipe, device or socket is never replaced)")
        existed = True
        key = (info.st_dev, info.st_ino)  # hard links to one file count as the same output
    if key in seen or str(target) in seen:
        other = seen.get(key) or seen.get(str(target)) or ""
        if other.startswith("the input "):
            raise InputError(shown, f"would overwrite {other}; an output never replaces an input, "
                                    f"write it to another file")
        raise InputError(shown, f"is the same file as {other}; give each output its own file")
    seen[key] = seen[str(target)] = shown
    parent = target.parent
    if not parent.is_dir():
        raise InputError(shown, f"cannot write: no directory {parent}")
    return _Pending(name, target, existed=existed)


def _stage(p: _Pending, data: bytes, mask: int) -> None:
    """Write the new bytes to a temporary file beside the target, with the target's mode, and flush to disk."""
    try:
        mode = stat.S_IMODE(os.stat(p.target).st_mode) if p.existed else 0o666 & ~mask
        fd, tmp = tempfile.mkstemp(prefix=f".{p.target.name}.", suffix=".tmp", dir=p.target.parent)
        p.tmp = Path(tmp)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        if p.existed:  # keep the old bytes reachable until every file of the set is in place
            backup = p.target.parent / f".{p.target.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
            try:
                os.link(p.target, backup)  # instant, and fails rather than overwrite if the name were taken
            except OSError:  # a file system without hard links: a copy does
                shutil.copyfile(p.target, backup)
            p.backup = backup
    except OSError as exc:
        raise InputError(p.name, f"cannot write: {exc.strerror or exc}") from None


def _cleanup(pending: Sequence[_Pending]) -> None:
    for p in pending:
        for leftover in (p.tmp, p.backup):
            if leftover is not None:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)


def _roll_back(pending: Sequence[_Pending]) -> None:
    for p in pending:
        if not p.replaced:
            continue
        with contextlib.suppress(OSError):
            if p.backup is not None:
                os.replace(p.backup, p.target)
                p.backup = None
            else:
                os.unlink(p.target)


Labelled = tuple[str, str | Path]  # (what the learner typed it as: a flag, "PLAN.json", ...; the path)


def _labelled(items: Sequence[str | Path | Labelled]) -> list[tuple[str | None, str]]:
    return [(str(item[0]), str(item[1])) if isinstance(item, tuple) else (None, str(item)) for item in items]


def check_outputs(paths: Sequence[str | Path | Labelled], inputs: Sequence[str | Path | Labelled] = ()) -> None:
    """Refuse bad output paths (the same file twice, a directory, a FIFO, no such folder, one of the command's own
    input files) before any work is done. "The same file" is the same inode: through symbolic links, hard links and
    other spellings of the path alike. Labels (flags) name both sides in the one-line message."""
    seen: dict[tuple[int, int] | str, str] = {}
    for label, path in _labelled(inputs):
        name = f"the input {path} ({label})" if label else f"the input {path}"
        seen.setdefault(os.path.realpath(path), name)
        with contextlib.suppress(OSError, ValueError):
            info = os.stat(path)
            seen.setdefault((info.st_dev, info.st_ino), name)
    for label, path in _labelled(paths):
        _prepare(path, seen, label)


def write_all(outputs: Sequence[tuple[str | Path, bytes]]) -> None:
    """Write every (path, bytes) or none: on any failure the files are as they were and InputError names the path."""
    seen: dict[tuple[int, int] | str, str] = {}
    pending = [_prepare(str(path), seen) for path, _ in outputs]
    mask = _umask()
    try:
        for p, (_, data) in zip(pending, outputs, strict=True):
            _stage(p, data, mask)
        for p in pending:
            assert p.tmp is not None
            try:
                os.replace(p.tmp, p.target)
            except OSError as exc:
                raise InputError(p.name, f"cannot write: {exc.strerror or exc}") from None
            p.tmp, p.replaced = None, True
    except BaseException:
        _roll_back(pending)
        raise
    finally:
        _cleanup(pending)


def write_atomic(path: str | Path, data: bytes) -> None:
    """One file, old bytes or new (see write_all for the rules)."""
    write_all([(path, data)])
