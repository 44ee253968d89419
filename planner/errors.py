"""Errors a learner can act on: each names the field (and file:line) so the fix is obvious."""

from __future__ import annotations


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
        return f"{where}{self.field}: {self.message}"


class PlanningTimeout(InputError):
    """The solver ran out of time: reported like bad input, with what was being planned."""

    def __init__(self, what: str, seconds: float):
        super().__init__("content", f"planning {what} did not finish within {seconds:g} s; split the path or "
                                    f"shorten its month range")
