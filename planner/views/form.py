"""The learner's form: background bands, widget values <-> the raw profile fields the engine reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import WEEKDAYS, next_monday, profile_from_mapping
from planner.requirements import build_requirements

DEFAULT_BACKGROUND = "ml_background"
DEFAULT_HOURS = 18.0


# ---------------------------------------------------------------- backgrounds


@dataclass(frozen=True)
class Band:
    """A background's month range and the weekly hours that finish its hours inside that range."""

    key: str
    label: str
    months_min: int
    months_max: int
    total_hours: float
    low: float | None  # h/week to finish at the range maximum (None: nothing up to 100 h/week fits)
    high: float | None  # h/week to finish at the range minimum; more only paces the plan

    @property
    def hours_text(self) -> str:
        if self.low is None:
            return "does not fit"
        return f"{self.low:g}–{self.high:g}" if self.high is not None else f"{self.low:g}+"

    @property
    def caption(self) -> str:
        return (f"{self.label}: {self.months_min}–{self.months_max} months, {self.total_hours:g} h "
                f"→ {self.hours_text} h/week")


def background_bands(curriculum: Curriculum, start: dt.date | None = None) -> dict[str, Band]:
    """Recommended weekly-hours band per background, computed by the planner for a default learner: the least
    that finishes inside the range, and the most that is still used (beyond it the plan only paces itself).
    Reviews, projects, checkpoints and the catch-up buffer are included."""
    from planner.solve import recommended_band

    start = start or dt.date(2027, 1, 4)
    out = {}
    for b in curriculum.backgrounds:
        profile = profile_from_mapping({"background": b.key, "hours_per_week": 10, "start": start.isoformat()},
                                       curriculum)
        req = build_requirements(curriculum, profile)
        total = req.total_hours + req.review_count * 0.5
        low, high = recommended_band(curriculum, profile)
        out[b.key] = Band(b.key, b.label, b.months_min, b.months_max, total, low, high)
    return out


# ---------------------------------------------------------------- form <-> profile fields


def form_defaults(today: dt.date | None = None) -> dict[str, Any]:
    """Widget values for a new learner: one click on "Make my plan" gives a plan."""
    return {
        "background": DEFAULT_BACKGROUND, "hours_per_week": DEFAULT_HOURS, "days": list(WEEKDAYS),
        "day_hours": "", "start": next_monday(today or dt.date.today()), "timezone": "UTC",
        "session_start_weekday": None, "session_start_weekend": None, "blackouts": [], "holidays": "",
        "skip": [], "electives": [],
    }


def _to_date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError("blackouts", f"'{text}' is not a date (use YYYY-MM-DD)") from None


def blackout_rows(table: pd.DataFrame | Sequence[Any] | None) -> list[tuple[dt.date | None, dt.date | None]]:
    """Rows of the blackout editor (columns From/To) as date pairs; blank rows dropped."""
    if table is None:
        return []
    rows = table.itertuples(index=False) if isinstance(table, pd.DataFrame) else table
    out = []
    for row in rows:
        a, b = _to_date(row[0]), _to_date(row[1])
        if a is None and b is None:
            continue
        out.append((a, b))
    return out


def form_to_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """Widget values -> the raw profile fields profile_from_mapping reads (also what the store keeps)."""
    raw: dict[str, Any] = {
        "background": values["background"],
        "hours_per_week": float(values["hours_per_week"]) if values.get("hours_per_week") is not None else None,
        "days": list(values.get("days") or []),
        "start": values["start"].isoformat() if isinstance(values.get("start"), dt.date) else values.get("start"),
        "timezone": values.get("timezone") or "UTC",
    }
    if not raw["days"]:
        raise InputError("days", "choose at least one study weekday")
    day_hours = str(values.get("day_hours") or "").strip()
    if day_hours:
        raw["day_hours"] = day_hours
    starts: dict[str, str] = {}
    for key, days in (("session_start_weekday", WEEKDAYS[:5]), ("session_start_weekend", WEEKDAYS[5:])):
        t = values.get(key)
        if t is not None:
            text = t.strftime("%H:%M") if isinstance(t, dt.time) else str(t)
            starts.update({d: text for d in days})
    if starts:
        raw["session_start"] = starts
    blackouts = []
    for i, (a, b) in enumerate(values.get("blackouts") or []):
        if a is None or b is None:
            raise InputError(f"blackouts[{i}]", "each blackout needs a start and an end date")
        blackouts.append([a.isoformat(), b.isoformat()])
    if blackouts:
        raw["blackouts"] = blackouts
    country = str(values.get("holidays") or "").strip()
    if country:
        raw["holidays"] = country
    if values.get("skip"):
        raw["skip"] = list(values["skip"])
    if values.get("electives"):
        raw["electives"] = list(values["electives"])
    return raw


def mapping_to_form(raw: Mapping[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """A stored profile mapping -> widget values (the inverse of form_to_mapping)."""
    values = form_defaults(today)
    values["background"] = raw.get("background", DEFAULT_BACKGROUND)
    values["hours_per_week"] = float(raw.get("hours_per_week", DEFAULT_HOURS))
    days = raw.get("days")
    if isinstance(days, str):
        days = [d.strip() for d in days.split(",")]
    if days:
        values["days"] = [str(d).strip().lower()[:3] for d in days if str(d).strip().lower()[:3] in WEEKDAYS]
    dh = raw.get("day_hours")
    if isinstance(dh, Mapping):
        dh = ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in dh.items())
    values["day_hours"] = dh or ""
    if raw.get("start"):
        values["start"] = dt.date.fromisoformat(str(raw["start"]))
    values["timezone"] = raw.get("timezone") or "UTC"
    ss = raw.get("session_start")
    if isinstance(ss, Mapping):
        for key, day in (("session_start_weekday", "mon"), ("session_start_weekend", "sat")):
            if ss.get(day):
                values[key] = dt.time.fromisoformat(str(ss[day]))
    elif isinstance(ss, str) and ss and "=" not in ss:
        values["session_start_weekday"] = values["session_start_weekend"] = dt.time.fromisoformat(ss)
    values["blackouts"] = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b))
                           for a, b in (raw.get("blackouts") or [])]
    values["holidays"] = raw.get("holidays") or ""
    values["skip"] = list(raw.get("skip") or [])
    values["electives"] = list(raw.get("electives") or [])
    return values


def blackout_table(rows: Sequence[tuple[dt.date | None, dt.date | None]]) -> pd.DataFrame:
    return pd.DataFrame({"From": pd.Series([a for a, _ in rows], dtype="object"),
                         "To": pd.Series([b for _, b in rows], dtype="object")})


