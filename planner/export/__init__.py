"""Pure functions Plan -> bytes: the same plan always gives the same bytes (the .ics apart from DTSTAMP)."""

from planner.export.csv import plan_to_csv
from planner.export.ics import plan_to_ics
from planner.export.json import plan_to_dict, plan_to_json

__all__ = ["plan_to_csv", "plan_to_dict", "plan_to_ics", "plan_to_json"]
