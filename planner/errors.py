"""Errors a learner can act on: each names the field (and file:line) so the fix is obvious."""

from __future__ import annotations

import re

# Anything that would break the message over lines, hide text or fail to print: C0/C1 controls, Unicode line and
# paragraph separators, lone surrogates (undecodable bytes in a file name)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
MAX_MESSAGE_CHARS = 400


def one_line(text: str) -> str:
    """The text as one readable line: control characters shown escaped (\\n), overlong text shortened."""
    text = _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


class InputError(Exception):
    """Bad input from the learner or a content author; shown as one line, never a traceback."""

    def __init__(self, field: str, message: str, *, source: str | None = None, line: int | None = None):
        self.field = field
        self.message = message
        self.source = source
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        return one_line(f"{where}{self.field}: {self.message}")


class PlanningTimeout(InputError):
    """The solver ran out of time: reported like bad input, with what was being planned."""

    def __init__(self, what: str, seconds: float):
        super().__init__("content", f"planning {what} did not finish within {seconds:g} s; split the path or "
                                    f"shorten its month range")
