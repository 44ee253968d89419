"""The learner's form: background bands, widget values <-> the raw profile fields the engine reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner.curriculum import Curriculum
from planner.errors import InputError
from planner.profile import (
    WEEKDAYS,
    next_monday,
    parse_windows,
    parse_windows_text,
    profile_from_mapping,
    windows_text,
    windows_to_dict,
)
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
    total_hours: float  # topic hours (planner.totals.topic_hours of a plan for this background)
    low: float | None  # h/week to finish at the range maximum (None: nothing up to 100 h/week fits)
    high: float | None  # h/week to finish at the range minimum; more only paces the plan
    review_hours: float = 0.0  # reviews at full length, before a plan places them (a plan holds these or fewer)

    @property
    def hours_text(self) -> str:
        if self.low is None:
            return "does not fit"
        return f"{self.low:g}–{self.high:g}" if self.high is not None else f"{self.low:g}+"

    @property
    def caption(self) -> str:
        return (f"{self.label}: {self.months_min}–{self.months_max} months, {self.total_hours:g} h of topics "
                f"→ {self.hours_text} h/week")


def background_bands(curriculum: Curriculum, start: dt.date | None = None) -> dict[str, Band]:
    """Recommended weekly-hours band per background, computed by the planner for a default learner: the least
    that finishes inside the range, and the most that is still used (beyond it the plan only paces itself).
    Reviews, projects, checkpoints and the catch-up buffer are included."""
    from planner.solve import recommended_band
    from planner.totals import estimated_review_hours

    start = start or dt.date(2027, 1, 4)
    out = {}
    for b in curriculum.backgrounds:
        profile = profile_from_mapping({"background": b.key, "hours_per_week": 10, "start": start.isoformat()},
                                       curriculum)
        req = build_requirements(curriculum, profile)
        low, high = recommended_band(curriculum, profile)
        out[b.key] = Band(b.key, b.label, b.months_min, b.months_max, req.total_hours, low, high,
                          estimated_review_hours(req.review_count))
    return out


# ---------------------------------------------------------------- form <-> profile fields


def form_defaults(today: dt.date | None = None, timezone: str | None = None) -> dict[str, Any]:
    """Widget values for a new learner: one click on "Make my plan" gives a plan (in the browser's timezone)."""
    return {
        "background": DEFAULT_BACKGROUND, "hours_per_week": DEFAULT_HOURS, "days": list(WEEKDAYS),
        "day_hours": "", "start": next_monday(today or dt.date.today()), "timezone": browser_timezone(timezone),
        "session_start_weekday": None, "session_start_weekend": None, "blackouts": [], "holidays": "",
        "skip": [], "electives": [], "windows": "", "busy": [], "all_day_busy": True,
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
    country = check_holidays(values.get("holidays"))
    if country:
        raw["holidays"] = country
    if values.get("skip"):
        raw["skip"] = list(values["skip"])
    if values.get("electives"):
        raw["electives"] = list(values["electives"])
    _windows_to_raw(values.get("windows"), raw)
    busy = [str(p) for p in values.get("busy") or []]
    if busy:
        raw["busy"] = busy
    if values.get("all_day_busy") is False:
        raw["all_day_events"] = "free"
    if values.get("finish_months"):  # a later finish the learner chose (the does-not-fit panel)
        raw["finish_months"] = int(values["finish_months"])
    return raw


# The windows table's Days column: the usual groups first, then single days (a saved profile may add others)
WINDOW_DAYS = ("mon-fri", "sat-sun", "mon-sun", *WEEKDAYS)


def windows_table(value: Any) -> pd.DataFrame:
    """The windows editor's rows (Days, Time), one per window: from the form's windows text (consecutive days
    with the same windows shown as one group, `mon-fri`), or the rows as the learner left them. Two narrow
    columns, so the table fits the sidebar at 1280 px without cutting a cell."""
    rows: list[tuple[str | None, str | None]] = []
    if isinstance(value, list | tuple):  # as left after an error: kept as typed
        rows = [(_cell_text(r[0]) or None, _cell_text(r[1]) or None) for r in value]
    elif str(value or "").strip():
        try:
            windows = parse_windows(str(value), "windows")
        except InputError:
            windows = None
        if windows is not None:
            d = 0
            while d < 7:
                end = d
                while end + 1 < 7 and windows[end + 1] == windows[d]:
                    end += 1
                if windows[d]:
                    days = WEEKDAYS[d] if end == d else f"{WEEKDAYS[d]}-{WEEKDAYS[end]}"
                    rows.extend((days, f"{_hhmm(a)}-{_hhmm(b)}") for a, b in windows[d])
                d = end + 1
    return pd.DataFrame({"Days": pd.Series([r[0] for r in rows], dtype="object"),
                         "Time": pd.Series([r[1] for r in rows], dtype="object")})


def window_day_options(table: pd.DataFrame) -> list[str]:
    return [*WINDOW_DAYS, *sorted({str(d) for d in table["Days"] if d and str(d) not in WINDOW_DAYS})]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _cell_text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def windows_rows_text(rows: Sequence[Sequence[Any]]) -> str:
    """The editor's rows as the windows text the engine reads (`mon-fri 18:30-22:00`, one per row): the engine's
    parser checks the times and names the days. Blank rows are dropped; a half-filled row names its number."""
    lines = []
    for i, row in enumerate(rows, start=1):
        days, times = _cell_text(row[0]), _cell_text(row[1])
        if not days and not times:
            continue
        if not days:
            raise InputError(f"windows.row {i}", "choose the days")
        if not times:
            raise InputError(f"windows.row {i}", "give the time, e.g. 18:30-22:00")
        lines.append(f"{days} {times}")
    return "\n".join(lines)


def _windows_to_raw(value: Any, raw: dict[str, Any]) -> None:
    """The windows editor (its rows, or the windows text) into the profile's `windows` mapping; the study weekdays
    narrowed to the days that have a window (the engine's rule: a day without a window is no study day)."""
    text = windows_rows_text(value) if isinstance(value, list | tuple) else str(value or "")
    windows = parse_windows_text(text) if text.strip() else None
    if windows is None:
        return
    raw["windows"] = {day: spans for day, spans in windows_to_dict(windows).items() if spans}
    days = [d for d in raw["days"] if d in WEEKDAYS and windows[WEEKDAYS.index(d)]]
    if not days:
        raise InputError("windows", "no window falls on a chosen study weekday; add a window for one of them "
                                    f"({', '.join(raw['days'])}) or choose other weekdays")
    raw["days"] = days


def busy_list(value: Any) -> list[str]:
    """The profile's `busy` field as a list of sources (a single string and the plan file's echo too)."""
    if isinstance(value, Mapping):
        value = value.get("sources")
    if value in (None, "", []):
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


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
    values["windows"] = _windows_from_raw(raw.get("windows"))
    values["busy"] = busy_list(raw.get("busy"))
    if raw.get("finish_months"):  # a later finish the learner chose
        values["finish_months"] = raw["finish_months"]
    values["all_day_busy"] = str(raw.get("all_day_events") or "busy").strip().lower() != "free"
    return values


def _windows_from_raw(value: Any) -> str:
    try:
        windows = parse_windows(value, "windows")
    except InputError:  # a stored profile this version no longer reads: show it as it was, the form says why
        return value if isinstance(value, str) else ""
    return windows_text(windows) if windows is not None else ""


def calendar_line(result: Any) -> str | None:
    """The engine's own free-time sentence of an infeasible answer (windows or busy calendars set), word for
    word, for the dashboard's panel."""
    if getattr(result, "free_time", None) is None:
        return None
    for line in result.message().splitlines():
        if line.startswith("- Your calendar leaves"):
            return line[2:]
    return None


# ---------------------------------------------------------------- busy calendars kept with the learner


def safe_file_stem(name: str) -> str:
    """A learner's name as a file-name stem: letters, digits, "-" and "_" only, never empty or hidden."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")[:40]
    return stem or "learner"


def busy_file_path(folder: Path, learner: str, data: bytes) -> Path:
    """Where an uploaded calendar is kept: named by learner and content, so one upload is one file and a
    changed calendar a new one (older saved versions keep reading theirs)."""
    return folder / "busy" / f"{safe_file_stem(learner)}-{hashlib.sha256(data).hexdigest()[:12]}.ics"


def check_busy_size(data: bytes, max_bytes: int | None = None) -> None:
    """An upload larger than the engine reads back is refused at once, not on the next plan."""
    from planner.busy import MAX_BUSY_BYTES

    limit = MAX_BUSY_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise InputError("busy", f"{len(data):,} bytes is more than the limit of {limit:,}")


def keep_busy_file(folder: Path, learner: str, data: bytes, *, max_bytes: int | None = None) -> Path:
    """Write the upload beside the database (atomically; an identical file already there is reused)."""
    from planner.atomic import write_atomic

    check_busy_size(data, max_bytes)

    path = busy_file_path(folder, learner, data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("busy", f"cannot keep the calendar in {path.parent} ({exc.strerror or exc})") from None
    if not (path.is_file() and path.read_bytes() == data):
        write_atomic(path, data)
    return path


def free_hours_in_windows(raw: Mapping[str, Any], curriculum: Curriculum) -> float:
    """Free hours a week inside the learner's windows over the path's month range, busy events taken out:
    the figure the upload preview shows, measured as the planner measures it."""
    from planner.availability import free_time
    from planner.busy import with_busy
    from planner.requirements import add_months

    profile = with_busy(profile_from_mapping(fit_unset_day_hours(raw, curriculum), curriculum), curriculum)
    months = curriculum.background(profile.background).months_max
    return free_time(profile, profile.start, add_months(profile.start, months)).free_hours_per_week


def blackout_table(rows: Sequence[tuple[dt.date | None, dt.date | None]]) -> pd.DataFrame:
    return pd.DataFrame({"From": pd.Series([a for a, _ in rows], dtype="object"),
                         "To": pd.Series([b for _, b in rows], dtype="object")})




def browser_timezone(name: str | None) -> str:
    """The browser's IANA timezone when this machine knows it, else UTC."""
    from zoneinfo import available_timezones

    return name if name and name in _timezones(available_timezones) else "UTC"


_TZ_CACHE: set[str] = set()


def _timezones(source: Any) -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(source())
    return _TZ_CACHE


def check_holidays(value: Any) -> str | None:
    """The holidays field: one code, a country (DE) or a country-region (DE-BY), checked against the holidays
    library's own list so that names like MON (an attribute there, not a country) are refused, not crashed on."""
    import holidays as holidays_lib

    text = str(value or "").strip()
    if not text:
        return None
    codes = [c for c in text.replace(";", ",").replace(" ", ",").split(",") if c]
    if len(codes) > 1:
        raise InputError("holidays", f"enter one code, not {len(codes)} ({', '.join(codes[:4])}): the plan follows "
                                     "one country's public holidays")
    code = codes[0].upper()
    country, _, region = code.partition("-")
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise InputError("holidays", f"'{codes[0][:20]}' is not a country code the holidays calendar knows "
                                     "(e.g. DE, US, FR)")
    if region and region not in {r.upper() for r in supported[country]}:
        some = ", ".join(f"{country}-{r}" for r in list(supported[country])[:3]) or f"just {country}"
        raise InputError("holidays", f"'{codes[0][:20]}' is not a region of {country} (e.g. {some})")
    return code


# The dates the README promises (2000–2110); the date pickers offer this range, not Streamlit's ±10 years.
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2110, 12, 31)

# Engine field names -> the form's own labels, so an error reads like the form the learner filled in.
FIELD_LABELS = {
    "background": "Background", "hours_per_week": "Hours per week", "days": "Study weekdays",
    "day_hours": "Hours per weekday", "start": "Start date", "timezone": "Timezone",
    "session_start": "Weekday start / Weekend start", "blackouts": "Blackout periods", "holidays": "Public holidays of",
    "skip": "Topics I already know", "electives": "Specializations to add", "--today": "As of",
    "today": "As of", "learner": "Name", "import": "Import", "status": "Status", "windows": "Study windows",
    "busy": "Busy calendar", "all_day_events": "All-day events", "learners": "Backup file",
}
# The form widget an error belongs to: the page shows the message right under that field.
FIELD_WIDGETS = {
    "background": "background", "hours_per_week": "hours_per_week", "days": "days", "day_hours": "day_hours",
    "start": "start", "timezone": "timezone", "session_start": "session_start", "blackouts": "blackouts",
    "holidays": "holidays", "skip": "skip", "electives": "electives", "windows": "windows", "busy": "busy",
    "all_day_events": "busy",
}


@dataclass(frozen=True)
class FieldError:
    widget: str  # a key of FIELD_WIDGETS' values ("form" when no single field is to blame)
    label: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.message}"


# The engine's messages name its own keys and formats (the CLI's words); the form says them in its labels.
_PLAIN = (
    (re.compile(r"expected format '[^']*', found .*"), "this is not a backup the planner exported (Learners → "
                                                       "Backup and restore → Export)"),
    (re.compile(r"not a JSON file \(.*"), "not a backup file: it is not the text the planner exports"),
    (re.compile(r" ?\((?:[A-Z]\w*(?:Error|Exception))(?:: ([^)]*))?\)"), r" (\1)"),
    (re.compile(r"is not DAYS=HH:MM-HH:MM \(e\.g\. mon-fri=18:30-22:00\)"),
     "is not days and a time, e.g. mon-fri 18:30-22:00"),
    (re.compile(r"\bhours_per_week\b"), "Hours per week"),
    (re.compile(r"\bday_hours\b"), "Hours per weekday"),
    (re.compile(r"\bsession_start\b"), "Weekday start / Weekend start"),
    (re.compile(r"\b(?:None|null)\b"), "nothing"),
)


def plain_message(message: str) -> str:
    """An engine message in the learner's words: no exception names, format ids, field keys or `None`."""
    for pattern, words in _PLAIN:
        message = pattern.sub(words, message)
    return message.replace(" ()", "")


def field_error(field: str, message: str) -> FieldError:
    """An InputError's field (`day_hours.mon`, `blackouts[0]`, `--today`) in the form's words."""
    head = re.split(r"[.\[]", field.lstrip("-") if field.startswith("--") else field, maxsplit=1)[0]
    head = "--today" if field == "--today" else head
    label = FIELD_LABELS.get(head, FIELD_LABELS.get(field, "Your input"))
    detail = ""
    if (head == "day_hours" and "." in field) or (head == "session_start" and "." in field):
        detail = f" ({WEEKDAY_NAMES.get(field.split('.', 1)[1][:3], field.split('.', 1)[1])})"
    elif head == "windows" and "." in field:
        detail = f" ({field.split('.', 1)[1]})"
    elif head == "learners":  # a backup's learner: "learners[0].profile.hours_per_week"
        found = re.match(r"learners\[(\d+)\]\.?\w*\.?(\w*)", field)
        if found:
            inner = FIELD_LABELS.get(found.group(2), "")
            detail = f" (learner {int(found.group(1)) + 1}{', ' + inner if inner else ''})"
    elif head == "blackouts":
        found = re.match(r"blackouts\[(\d+)\]", field)
        if found:
            detail = f", row {int(found.group(1)) + 1}"
    return FieldError(FIELD_WIDGETS.get(head, "form"), label + detail, plain_message(message))


WEEKDAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
                 "sat": "Saturday", "sun": "Sunday"}


def fit_unset_day_hours(raw: Mapping[str, Any], curriculum: Curriculum) -> dict[str, Any]:
    """High weekly hours with no day hours of the learner's own: when the default split (weekends double) puts
    more on a day than fits before midnight, spread the week evenly over the chosen days and start early enough,
    so the plan never fails on day hours the learner did not set."""
    out = dict(raw)
    if out.get("day_hours"):
        return out
    try:
        profile_from_mapping(out, curriculum)
        return out
    except InputError as exc:
        if not exc.field.startswith("day_hours"):
            return out
    days = [d for d in WEEKDAYS if d in (out.get("days") or WEEKDAYS)]
    hours = float(out.get("hours_per_week") or 0)
    per_day = math.ceil(hours / len(days) * 2) / 2
    out["day_hours"] = ",".join(f"{d}={per_day:g}" for d in days)
    if not out.get("session_start"):
        latest = max(0, 24 - math.ceil(per_day))
        out["session_start"] = {d: f"{min(latest, 9 if d in WEEKDAYS[:5] else 10):02d}:00" for d in WEEKDAYS}
    return out


def typed_profile(raw: Mapping[str, Any], curriculum: Curriculum) -> dict[str, Any]:
    """The fields of a saved profile the learner typed: day hours and start times that fit_unset_day_hours
    derived (exactly what it gives for the other fields) are left out. The saved profile keeps them, so it plans
    and restores as it is; the form shows only what was typed, so a changed form (other days, windows, fewer
    hours) derives them again instead of carrying them as if typed."""
    out = dict(raw)
    if not out.get("day_hours"):
        return out
    for derived in (("day_hours", "session_start"), ("day_hours",)):
        rest = {k: v for k, v in out.items() if k not in derived}
        try:
            if fit_unset_day_hours(rest, curriculum) == out:
                return rest
        except (InputError, ValueError, TypeError):
            continue
    return out


def profile_at_hours(raw: Mapping[str, Any], hours_per_week: float, curriculum: Curriculum) -> dict[str, Any]:
    """A saved profile at other weekly hours (a re-plan's "study N h/week from now"): the learner's own day-hours
    pattern scaled by the same factor, day hours and start times the planner derived derived again (never
    scaled and kept as if typed)."""
    old = float(raw.get("hours_per_week") or 0)
    out = typed_profile(raw, curriculum)
    out["hours_per_week"] = hours_per_week
    if out.get("day_hours"):
        out["day_hours"] = scaled_day_hours(str(out["day_hours"]), old, hours_per_week)
    return fit_unset_day_hours(out, curriculum)


def derived_note(raw: Mapping[str, Any] | None, curriculum: Curriculum) -> str | None:
    """The day hours and start times the planner chose for the learner's last plan, in words for the form's
    caption (None: everything was typed): shown, never written into the form."""
    if not raw:
        return None
    typed = typed_profile(raw, curriculum)
    if typed == dict(raw):
        return None
    hours = sorted({v for _, _, v in (p.partition("=") for p in str(raw.get("day_hours")).split(","))})
    per_day = f"{hours[0]} h a day" if len(hours) == 1 else "the hours of each day"
    starts = sorted(set((raw.get("session_start") or {}).values())) if "session_start" not in typed else []
    when = f" from {starts[0]}" if len(starts) == 1 else ""
    return (f"Your {float(raw.get('hours_per_week') or 0):g} h a week do not fit the usual split (weekends "
            f"double), so your plan spreads them: {per_day}{when}. Type your own hours per weekday or start "
            "times to change that.")


def scaled_day_hours(day_hours: str, old_week: float, new_week: float) -> str:
    """The learner's own day-hours pattern at another weekly total: each day scaled by the same factor (30-minute
    steps), days without hours stay free — a fix keeps the pattern instead of rewriting it."""
    pairs = []
    for part in day_hours.split(","):
        name, _, value = part.partition("=")
        try:
            pairs.append((name.strip(), float(value)))
        except ValueError:
            return day_hours
    if old_week <= 0:
        return day_hours
    factor = new_week / old_week
    return ",".join(f"{name}={math.ceil(h * factor * 2) / 2:g}" for name, h in pairs)
