"""Pure functions Plan -> bytes: the same plan always gives the same bytes (the .ics apart from DTSTAMP).

Each writer is imported on first use, so a command that writes JSON alone does not load icalendar.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.export.csv import plan_to_csv
    from planner.export.ics import plan_to_ics
    from planner.export.json import plan_to_dict, plan_to_json

__all__ = ["plan_to_csv", "plan_to_dict", "plan_to_ics", "plan_to_json"]
_HOME = {"plan_to_csv": "csv", "plan_to_ics": "ics", "plan_to_dict": "json", "plan_to_json": "json"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"planner.export.{_HOME[name]}"), name)
    raise AttributeError(f"module 'planner.export' has no attribute {name!r}")
