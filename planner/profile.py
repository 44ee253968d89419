"""The learner: who they are and when they can study, validated field by field."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planner.busy_fetch import display_source
from planner.curriculum import Curriculum
from planner.errors import InputError

if TYPE_CHECKING:
    from planner.busy import BusyTimes

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BLOCK_MINUTES = 30  # the planner's unit: every session is a whole number of 30-minute blocks
MAX_HOURS_PER_WEEK = 100.0
MIN_HOURS_PER_WEEK = 0.5
DEFAULT_MAX_SESSION_MINUTES = 180
DEFAULT_REMINDER_MINUTES = 15
WEEKEND_WEIGHT = 2  # a weekend day gets twice a weekday's share of the weekly hours by default
EVENING_LIMIT_HOURS = 4.0  # weekday sessions up to this long start in the evening, longer ones in the morning

PROFILE_FIELDS = {
    "background", "hours_per_week", "days", "day_hours", "start", "timezone", "session_start", "blackouts",
    "holidays", "skip", "electives", "max_session_hours", "reminder_minutes", "rest_day", "buffer_percent",
    "reviews", "review_days", "review_cap_percent", "review_retention", "checkpoints",
    "windows", "busy", "all_day_events", "finish_months",
}
MAX_FINISH_MONTHS = 60  # a later finish the learner accepts: the longest month range a plan file holds
DEFAULT_BUFFER_PERCENT = 10  # of the weekly hours, kept free for catching up
DEFAULT_REVIEW_DAYS = (1, 7, 30)  # expanding intervals after a topic's last session (see docs/learning.md)
DEFAULT_REVIEW_CAP_PERCENT = 15  # reviews take at most this share of a week's hours
DEFAULT_REVIEW_RETENTION = 0.9  # FSRS desired retention: a review is due when recall is predicted to fall to this
REVIEW_RETENTION_RANGE = (0.70, 0.99)
REVIEW_MINUTES = 30
MAX_BLACKOUTS = 200  # separate blackout ranges (after merging overlaps); each day of a plan is checked against them
CHECKPOINT_MINUTES = 60
URL_SCHEMES = ("http://", "https://", "webcal://", "webcals://")  # busy calendars by address
DAY_MINUTES = 24 * 60
ALIGN_MINUTES = 15  # busy events are widened to the quarter hour, so sessions start on :00, :15, :30 or :45
Windows = tuple[tuple[tuple[int, int], ...], ...]  # per weekday Monday..Sunday: (start, end) minutes of the day
DAY_GROUPS = {"weekdays": (0, 1, 2, 3, 4), "weekends": (5, 6), "weekend": (5, 6), "daily": tuple(range(7)),
              "everyday": tuple(range(7))}


@dataclass(frozen=True)
class Profile:
    """A resolved learner profile: every default filled in, every value checked."""

    background: str
    hours_per_week: float
    weekday_hours: tuple[float, ...]  # Monday..Sunday; 0 = not a study day
    session_starts: tuple[dt.time, ...]  # Monday..Sunday
    start: dt.date
    timezone: str
    blackouts: tuple[tuple[dt.date, dt.date], ...] = ()
    holiday_country: str | None = None
    skip: tuple[str, ...] = ()
    electives: tuple[str, ...] = ()
    max_session_minutes: int = DEFAULT_MAX_SESSION_MINUTES
    reminder_minutes: int | None = DEFAULT_REMINDER_MINUTES
    explicit_day_hours: bool = False
    explicit_starts: bool = False
    rest_day: int | None = None
    buffer_percent: int = DEFAULT_BUFFER_PERCENT
    reviews: bool = True
    review_days: tuple[int, ...] = DEFAULT_REVIEW_DAYS
    review_cap_percent: int = DEFAULT_REVIEW_CAP_PERCENT
    review_retention: float = DEFAULT_REVIEW_RETENTION  # planner.recall
    checkpoints: bool = True
    checkpoint_minutes: int = CHECKPOINT_MINUTES
    # Study windows per weekday, (start, end) minutes of the day; None: the session_start shorthand.
    windows: tuple[tuple[tuple[int, int], ...], ...] | None = None
    busy_sources: tuple[str, ...] = ()  # .ics files and URLs of the learner's other calendars
    busy: BusyTimes | None = None  # their busy instants, read by planner.busy.with_busy (not in plan files)
    all_day_busy: bool = True  # all-day events block the day
    # A later finish the learner accepted: the plan may take up to this many months, past the path's range for
    # the background (None: the path's range).
    finish_months: int | None = None

    @property
    def uses_availability(self) -> bool:
        """Sessions go into free stretches of windows (planner/availability.py), not back to back."""
        return self.windows is not None or bool(self.busy_sources)

    @property
    def buffer_blocks(self) -> int:
        """Blocks of each week kept free for catching up (rounded up, so a buffer is never silently zero)."""
        return math.ceil(self.weekly_blocks * self.buffer_percent / 100 - 1e-9)

    @property
    def study_week_blocks(self) -> int:
        """What the scheduler may fill each week: the weekly hours minus the buffer."""
        return max(0, self.weekly_blocks - self.buffer_blocks)

    @property
    def review_cap_blocks(self) -> int:
        return self.weekly_blocks * self.review_cap_percent // 100

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekly_blocks(self) -> int:
        return math.floor(self.hours_per_week * 60 / BLOCK_MINUTES + 1e-9)

    def day_blocks(self, weekday: int) -> int:
        return round(self.weekday_hours[weekday] * 60 / BLOCK_MINUTES)

    def is_blackout(self, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.blackouts) or day in holiday_dates(self.holiday_country,
                                                                                        day.year)

    def holiday_names(self, first: dt.date, last: dt.date) -> dict[dt.date, str]:
        out: dict[dt.date, str] = {}
        for year in range(first.year, last.year + 1):
            for d, name in holiday_dates(self.holiday_country, year).items():
                if first <= d <= last:
                    out[d] = name
        return out

    def with_hours_per_week(self, hours: float) -> Profile:
        """The same learner at another weekly budget: day hours follow the default split, or scale if explicit."""
        if self.windows is not None:  # the windows, not the weekly hours, set each day's room
            return _with_window_hours(self, hours)
        if self.explicit_day_hours:
            factor = hours / self.hours_per_week
            day_hours = tuple(_ceil_half(h * factor) if h > 0 else 0.0 for h in self.weekday_hours)
        else:
            day_hours = default_split(hours, [i for i, h in enumerate(self.weekday_hours) if h > 0])
        starts = self.session_starts if self.explicit_starts else default_starts(day_hours)
        day_hours = tuple(min(h, _hours_to_midnight(s)) for h, s in zip(day_hours, starts, strict=True))
        # Never more weekly hours than the days hold before midnight: the rule a new profile obeys, so a plan
        # file made from this profile stays readable. Callers that take the learner's figure check it.
        hours = min(hours, math.floor(sum(day_hours) * 2 + 1e-9) / 2)
        return replace(self, hours_per_week=hours, weekday_hours=day_hours, session_starts=starts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "background": self.background,
            "hours_per_week": self.hours_per_week,
            "weekday_hours": dict(zip(WEEKDAYS, self.weekday_hours, strict=True)),
            "session_start": dict(zip(WEEKDAYS, (s.strftime("%H:%M") for s in self.session_starts), strict=True)),
            "timezone": self.timezone,
            "start": self.start.isoformat(),
            "holidays": self.holiday_country,
            "skip": list(self.skip),
            "electives": list(self.electives),
            "max_session_hours": self.max_session_minutes / 60,
            "reminder_minutes": self.reminder_minutes,
            "explicit_day_hours": self.explicit_day_hours,
            "explicit_starts": self.explicit_starts,
            "user_blackouts": [[a.isoformat(), b.isoformat()] for a, b in self.blackouts],
            "rest_day": WEEKDAYS[self.rest_day] if self.rest_day is not None else None,
            "buffer_percent": self.buffer_percent,
            "reviews": self.reviews,
            "review_days": list(self.review_days),
            "review_cap_percent": self.review_cap_percent,
            "review_retention": self.review_retention,
            "checkpoints": self.checkpoints,
            **_availability_dict(self),
            **({"finish_months": self.finish_months} if self.finish_months is not None else {}),
        }


def _availability_dict(p: Profile) -> dict[str, Any]:
    """Windows and busy calendars in the plan file: only when set, so plans without them keep their bytes."""
    out: dict[str, Any] = {}
    if p.windows is not None:
        out["windows"] = windows_to_dict(p.windows)
    if p.busy_sources:
        out["busy"] = {"sources": list(p.busy_sources), "all_day_events": "busy" if p.all_day_busy else "free",
                       **(p.busy.to_dict() if p.busy is not None else {})}
    return out


def _with_window_hours(p: Profile, hours: float) -> Profile:
    if p.explicit_day_hours:
        room = window_hours(p.windows) if p.windows is not None else p.weekday_hours
        factor = hours / p.hours_per_week
        day_hours = tuple(min(_ceil_half(h * factor), _floor_half(r)) if h > 0 else 0.0
                          for h, r in zip(p.weekday_hours, room, strict=True))
    else:  # each study day may already fill its windows
        day_hours = p.weekday_hours
    # never more weekly hours than the windows hold, as with_hours_per_week does for the days before midnight
    return replace(p, hours_per_week=min(hours, _floor_half(sum(day_hours))), weekday_hours=day_hours)


def _floor_half(h: float) -> float:
    return math.floor(h * 2 + 1e-9) / 2


@lru_cache(maxsize=256)
def _holidays_for(country: str, year: int) -> tuple[tuple[dt.date, str], ...]:
    import holidays as holidays_lib  # ~0.07 s to import: only plans with public holidays pay for it

    code, _, subdiv = country.partition("-")
    cal = holidays_lib.country_holidays(code, subdiv=subdiv or None, years=year)
    return tuple(sorted((d, str(n)) for d, n in cal.items()))


def holiday_dates(country: str | None, year: int) -> dict[dt.date, str]:
    if not country:
        return {}
    return dict(_holidays_for(country, year))


def _ceil_half(h: float) -> float:
    return math.ceil(h * 2 - 1e-9) / 2


def _hours_to_midnight(t: dt.time) -> float:
    return 24 - (t.hour + t.minute / 60)


def default_split(hours: float, days: Iterable[int]) -> tuple[float, ...]:
    """Weekly hours spread over the chosen days in 30-minute blocks, a weekend day weighted double.

    Largest-remainder rounding makes the day hours add up to the weekly hours exactly (to the block), so the
    plan has no arbitrary choice of which day to leave short.
    """
    day_set = sorted(set(days))
    weights = {d: (WEEKEND_WEIGHT if d >= 5 else 1) for d in day_set}
    total_weight = sum(weights.values())
    if total_weight == 0:
        return (0.0,) * 7
    blocks = math.floor(hours * 60 / BLOCK_MINUTES + 1e-9)
    exact = {d: blocks * w / total_weight for d, w in weights.items()}
    alloc = {d: math.floor(x) for d, x in exact.items()}
    left = blocks - sum(alloc.values())
    for d in sorted(day_set, key=lambda d: (-(exact[d] - alloc[d]), -weights[d], d))[:left]:
        alloc[d] += 1
    return tuple(alloc.get(d, 0) * BLOCK_MINUTES / 60 for d in range(7))


def default_starts(day_hours: Iterable[float]) -> tuple[dt.time, ...]:
    """19:00 on weekdays (09:00 when a weekday holds more than 4 h), 10:00 at weekends."""
    out = []
    for i, h in enumerate(day_hours):
        if i >= 5:
            out.append(dt.time(10, 0))
        else:
            out.append(dt.time(19, 0) if h <= EVENING_LIMIT_HOURS else dt.time(9, 0))
    return tuple(out)


def next_monday(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)


# ---------------------------------------------------------------- parsing raw values


MIN_DATE, MAX_DATE = dt.date(2000, 1, 1), dt.date(2110, 12, 31)  # a plan starts by 2100 and runs up to 60 months


def parse_date(value: Any, field: str) -> dt.date:
    """A date as YYYY-MM-DD in ASCII digits (no week dates, no compact forms), within MIN_DATE..MAX_DATE."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif not isinstance(value, str):
        raise InputError(field, f"expected a date YYYY-MM-DD, got {value!r}")
    elif not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise InputError(field, f"'{value}' is not a date (use YYYY-MM-DD)")
    else:
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(field, f"'{value}' is not a real date (use YYYY-MM-DD)") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise InputError(field, f"{day} is outside the years {MIN_DATE.year}-{MAX_DATE.year}")
    return day


_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")


def _number(value: Any) -> float | None:
    """A finite number from an int, float or plain ASCII decimal text; None for anything else (true, '٥', 'inf',
    '1_000', '1e3')."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and len(value) <= 40 and _DECIMAL.fullmatch(value):
        number = float(value)
    else:
        return None
    return number if math.isfinite(number) else None


def parse_whole(value: Any, field: str, lo: int, hi: int, what: str) -> int:
    """A whole number in lo..hi from an int or ASCII digits; true/false, fractions and other digits are refused."""
    number = _number(value)
    if number is None or number != int(number):
        raise InputError(field, f"expected whole {what}, got {value!r}")
    if not lo <= number <= hi:
        raise InputError(field, f"must be between {lo} and {hi}, got {value!r}")
    return int(number)


def parse_hours(value: Any, field: str, *, lo: float = 0.0, hi: float = MAX_HOURS_PER_WEEK,
                allow_zero: bool = False) -> float:
    number = _number(value)
    if number is None:
        raise InputError(field, f"expected a number of hours, got {value!r}")
    hours = number
    if hours < 0 or (hours == 0 and not allow_zero) or hours < lo:
        raise InputError(field, f"must be at least {max(lo, 0.5 if not allow_zero else 0):g} h, got {hours:g}")
    if hours > hi:
        raise InputError(field, f"must be at most {hi:g} h, got {hours:g}")
    return hours


_DAY_NAMES = {**{d: i for i, d in enumerate(WEEKDAYS)},
              **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                             "sunday"))}}


def parse_weekday(value: Any, field: str) -> int:
    """mon..sun or the full English name, any case; 'monkey' is not Monday."""
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in _DAY_NAMES:
        raise InputError(field, f"unknown weekday {value!r} (use {', '.join(WEEKDAYS)})")
    return _DAY_NAMES[key]


def parse_days(value: Any, field: str) -> list[int]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise InputError(field, "expected a list of weekdays such as mon,wed,sat")
    days = sorted({parse_weekday(v, field) for v in items if str(v).strip()})
    if not days:
        raise InputError(field, "choose at least one weekday")
    return days


def parse_time(value: Any, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    m = re.fullmatch(r"\s*([0-9]{1,2}):([0-9]{2})\s*", value) if isinstance(value, str) else None
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise InputError(field, f"'{value}' is not a time of day (use HH:MM, e.g. 19:00)")
    t = dt.time(int(m.group(1)), int(m.group(2)))
    if t.minute % 15:
        raise InputError(field, f"{t:%H:%M}: use a quarter-hour start (:00, :15, :30, :45)")
    return t


def parse_range(value: Any, field: str) -> tuple[dt.date, dt.date]:
    if isinstance(value, str):
        parts = value.split("..")
        if len(parts) != 2:
            raise InputError(field, f"'{value}' is not a range (use YYYY-MM-DD..YYYY-MM-DD)")
        a, b = parts
    elif isinstance(value, list | tuple) and len(value) == 2:
        a, b = value
    elif isinstance(value, Mapping) and set(value) == {"start", "end"}:
        a, b = value["start"], value["end"]
    else:
        raise InputError(field, f"{value!r} is not a range (use YYYY-MM-DD..YYYY-MM-DD)")
    start, end = parse_date(a, field), parse_date(b, field)
    if end < start:
        raise InputError(field, f"ends {end} before it starts {start}")
    return start, end


def parse_timezone(value: Any, field: str = "timezone") -> str:
    name = str(value).strip() if value is not None else ""
    if not name or ".." in name or name.startswith("/"):
        raise InputError(field, f"unknown timezone '{value}' (use an IANA name such as Europe/Berlin)")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        raise InputError(field, f"unknown timezone '{value}' (use an IANA name such as Europe/Berlin)") from None
    return name


def parse_country(value: Any, field: str = "holidays") -> str | None:
    """A country (DE, NO, US) or country-subdivision (DE-BY) code the holidays library has a calendar for.

    Checked against the library's list, never looked up by attribute: codes such as MON or JAN name other things
    inside the library."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InputError(field, f"expected a country code such as DE, US or DE-BY, got {value!r}")
    code = value.strip().upper()
    country, _, subdiv = code.partition("-")
    from holidays.utils import list_supported_countries

    supported = list_supported_countries()
    subdivs = {s.upper(): s for s in supported.get(country, [])} if re.fullmatch(r"[A-Z]{2,3}", country) else {}
    if country not in supported or (subdiv and subdiv not in subdivs):
        raise InputError(field, f"no public-holiday calendar for {value!r} (use a country code such as DE, US, "
                                f"or DE-BY)")
    return f"{country}-{subdivs[subdiv]}" if subdiv else country


MAX_LIST_ITEMS = 2000  # skip / electives: at most one per topic of the largest path the planner reads


def _str_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list | tuple):
        raise InputError(field, "expected a list of ids")
    if len(value) > MAX_LIST_ITEMS:
        raise InputError(field, f"{len(value):,} ids is more than the limit of {MAX_LIST_ITEMS:,}")
    return [str(v).strip() for v in value if str(v).strip()]


def _merged(ranges: list[tuple[dt.date, dt.date]]) -> tuple[tuple[dt.date, dt.date], ...]:
    """Sorted ranges with overlapping and touching ones joined: the same days, fewer ranges to check."""
    out: list[tuple[dt.date, dt.date]] = []
    for a, b in ranges:
        if out and a <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


# ---------------------------------------------------------------- study windows


def _clock(text: str, field: str, *, end: bool) -> int:
    m = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})", text.strip())  # ASCII digits only, as every number the planner reads
    if not m or int(m.group(2)) > 59 or int(m.group(1)) > 24 or (int(m.group(1)) == 24 and int(m.group(2))):
        raise InputError(field, f"'{text.strip()}' is not a time of day (use HH:MM, e.g. 18:30)")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes == DAY_MINUTES and not end:
        raise InputError(field, "a window cannot start at 24:00")
    if minutes % ALIGN_MINUTES:
        raise InputError(field, f"{text.strip()}: use quarter hours (:00, :15, :30, :45)")
    return minutes


def parse_days_spec(spec: Any, field: str) -> tuple[int, ...]:
    """`mon`, `mon-fri` (wrapping: `fri-mon`), `sat,sun`, `weekdays`, `weekends` or `daily`."""
    out: list[int] = []
    for part in str(spec).replace(" ", "").lower().split(","):
        if not part:
            continue
        if part in DAY_GROUPS:
            out.extend(DAY_GROUPS[part])
        elif "-" in part:
            a_text, _, b_text = part.partition("-")
            a, b = parse_weekday(a_text, field), parse_weekday(b_text, field)
            out.extend((a + k) % 7 for k in range((b - a) % 7 + 1))
        else:
            out.append(parse_weekday(part, field))
    if not out:
        raise InputError(field, f"'{spec}' names no weekday (use mon, mon-fri or sat,sun)")
    return tuple(sorted(set(out)))


def parse_ranges(value: Any, field: str) -> list[tuple[int, int]]:
    """`18:30-22:00`, several separated by commas, or a list of them."""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    out = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        m = re.fullmatch(r"(\S+)\s*(?:-|–|to)\s*(\S+)", text)
        if not m:
            raise InputError(field, f"'{text}' is not a window (use HH:MM-HH:MM, e.g. 18:30-22:00)")
        a, b = _clock(m.group(1), field, end=False), _clock(m.group(2), field, end=True)
        if b <= a:
            raise InputError(field, f"{text} ends before it starts; a window cannot cross midnight "
                                    f"(split it: 22:00-24:00 and the next day's 00:00-01:00)")
        if b - a < BLOCK_MINUTES:
            raise InputError(field, f"{text} is shorter than a {BLOCK_MINUTES}-minute session")
        out.append((a, b))
    if not out:
        raise InputError(field, "no time range given (use HH:MM-HH:MM)")
    return out


def parse_windows(value: Any, field: str = "windows") -> Windows | None:
    """Windows from the profile YAML (`{mon: ["18:30-22:00"], sat-sun: "09:00-12:00,14:00-17:00"}`), from
    repeated flags (`["mon-fri=18:30-22:00", "sat=09:00-12:00,14:00-17:00"]`) or from text, one `DAYS
    HH:MM-HH:MM[,...]` (or `DAYS=...`) per line or separated by `;`. Windows of the same day are joined."""
    if value in (None, "", {}, []):
        return None
    pairs: list[tuple[Any, Any, str]] = []
    if isinstance(value, Mapping):
        pairs = [(k, v, f"{field}.{k}") for k, v in value.items()]
    else:
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, Mapping):
                pairs.extend((k, v, f"{field}.{k}") for k, v in item.items())
                continue
            for line in re.split(r"[;\n]", str(item)):
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                m = re.fullmatch(r"([A-Za-z,\- ]+?)\s*[= ]\s*([0-9].*)", text)
                if not m:
                    raise InputError(field, f"'{text}' is not DAYS=HH:MM-HH:MM (e.g. mon-fri=18:30-22:00)")
                pairs.append((m.group(1), m.group(2), f"{field}.{m.group(1).strip()}"))
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for days, ranges, where in pairs:
        if ranges in (None, "", []):  # `sun: []` says "no window on Sunday"
            parse_days_spec(days, where)
            continue
        spans = parse_ranges(ranges, where)
        for d in parse_days_spec(days, where):
            per_day[d].extend(spans)
    out = tuple(_join(spans) for spans in per_day)
    if not any(out):
        raise InputError(field, "no study window on any day")
    return out


def _join(spans: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return tuple(out)


def parse_windows_text(text: str) -> Windows | None:
    """For a form's text area: one `DAYS HH:MM-HH:MM[,HH:MM-HH:MM]` per line; errors name `windows`."""
    return parse_windows(text, "windows")


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_to_dict(windows: Windows) -> dict[str, list[str]]:
    """The echo in the plan file and profile YAML form: `{mon: ["18:30-22:00"], ...}` (days without one: [])."""
    return {WEEKDAYS[d]: [f"{hhmm(a)}-{hhmm(b)}" for a, b in windows[d]] for d in range(7)}


def windows_text(windows: Windows) -> str:
    """Text a form can show and parse back (parse_windows_text)."""
    return "\n".join(f"{WEEKDAYS[d]} {','.join(f'{hhmm(a)}-{hhmm(b)}' for a, b in windows[d])}"
                     for d in range(7) if windows[d])


def window_hours(windows: Windows) -> tuple[float, ...]:
    return tuple(sum(b - a for a, b in windows[d]) / 60 for d in range(7))


def window_blocks(windows: Windows) -> tuple[int, ...]:
    """Whole sessions each weekday's windows hold (a window's odd quarter hour is no block)."""
    return tuple(sum((b - a) // BLOCK_MINUTES for a, b in windows[d]) for d in range(7))


def profile_from_mapping(data: Mapping[str, Any], curriculum: Curriculum, *,
                         today: dt.date | None = None) -> Profile:
    """Build a Profile from raw values (flags and/or profile YAML); every problem names its field.

    Only the fields: busy calendars are named here, never read (planner.busy.with_busy reads them, the stage
    between the profile and the requirements), so a profile is data and checking one costs no file or network."""
    unknown = sorted(set(data) - PROFILE_FIELDS)
    if unknown:
        raise InputError(unknown[0], f"unknown field (allowed: {', '.join(sorted(PROFILE_FIELDS))})")
    if data.get("background") in (None, ""):
        raise InputError("background", f"missing (one of {', '.join(curriculum.background_keys)})")
    background = str(data["background"]).strip()
    if background not in curriculum.background_keys:
        raise InputError("background", f"unknown background '{background}' (one of "
                                       f"{', '.join(curriculum.background_keys)})")
    if data.get("hours_per_week") is None:
        raise InputError("hours_per_week", "missing: how many hours a week can you study?")
    hours = parse_hours(data["hours_per_week"], "hours_per_week", lo=MIN_HOURS_PER_WEEK)

    explicit: dict[int, float] = {}
    raw_dh = data.get("day_hours")
    if raw_dh not in (None, "", {}):
        if isinstance(raw_dh, str):
            pairs: list[tuple[Any, Any]] = []
            for part in raw_dh.split(","):
                if not part.strip():
                    continue
                if "=" not in part:
                    raise InputError("day_hours", f"'{part.strip()}' is not day=hours (e.g. mon=1.5)")
                k, v = part.split("=", 1)
                pairs.append((k, v))
        elif isinstance(raw_dh, Mapping):
            pairs = list(raw_dh.items())
        else:
            raise InputError("day_hours", "expected day=hours pairs such as mon=1.5,sat=4")
        for k, v in pairs:
            day = parse_weekday(k, "day_hours")
            if day in explicit:
                raise InputError("day_hours", f"{WEEKDAYS[day]} is given twice")
            h = parse_hours(v, f"day_hours.{WEEKDAYS[day]}", hi=24, allow_zero=True)
            if abs(h * 2 - round(h * 2)) > 1e-9:
                raise InputError(f"day_hours.{WEEKDAYS[day]}", f"{h:g} h is not a multiple of 0.5 h "
                                                               f"(plans use 30-minute blocks)")
            explicit[day] = h
    if data.get("days") not in (None, ""):
        days = parse_days(data["days"], "days")
        for d in explicit:
            if d not in days and explicit[d] > 0:
                raise InputError("day_hours", f"{WEEKDAYS[d]} has hours but is not among days "
                                              f"({', '.join(WEEKDAYS[x] for x in days)})")
    elif explicit:
        days = sorted(d for d, h in explicit.items() if h > 0)
    else:
        days = list(range(7))
    rest_day = None
    if data.get("rest_day") not in (None, "", "none", False):
        rest_day = parse_weekday(data["rest_day"], "rest_day")
        if explicit.get(rest_day, 0) > 0:
            raise InputError("rest_day", f"{WEEKDAYS[rest_day]} has day_hours but is the rest day")
        days = [d for d in days if d != rest_day]
        if not days:
            raise InputError("rest_day", "no study day left once the rest day is taken out")
    free_days = [d for d in days if d not in explicit]
    explicit_total = sum(explicit.values())
    split = default_split(max(hours - explicit_total, 0.0), free_days) if free_days else (0.0,) * 7
    day_hours = tuple(explicit.get(d, split[d]) if d in days else 0.0 for d in range(7))
    windows = _windows_field(data)
    if windows is not None:
        day_hours = _window_day_hours(windows, data, explicit, rest_day)

    starts = list(default_starts(day_hours))
    raw_start = data.get("session_start")
    explicit_starts = raw_start not in (None, "", {})
    if windows is not None:
        if explicit_starts:
            raise InputError("session_start", "give study windows or a session start, not both (a window's "
                                              "start is where the day's sessions begin)")
        starts = [dt.time(w[0][0] // 60, w[0][0] % 60) if w else s for w, s in zip(windows, starts, strict=True)]
    if explicit_starts:
        start_pairs: list[tuple[Any, Any]] | None = None
        if isinstance(raw_start, Mapping):
            start_pairs = list(raw_start.items())
        elif isinstance(raw_start, str) and "=" in raw_start:
            start_pairs = [(k, v) for k, _, v in (part.partition("=") for part in raw_start.split(","))]
        if start_pairs is not None:
            given: set[int] = set()
            for k, v in start_pairs:
                day = parse_weekday(k, "session_start")
                if day in given:
                    raise InputError("session_start", f"{WEEKDAYS[day]} is given twice")
                given.add(day)
                starts[day] = parse_time(v, f"session_start.{WEEKDAYS[day]}")
        else:
            t = parse_time(raw_start, "session_start")
            starts = [t] * 7
    for d in range(7):
        if day_hours[d] > _hours_to_midnight(starts[d]) + 1e-9:
            raise InputError(f"day_hours.{WEEKDAYS[d]}",
                             f"{day_hours[d]:g} h from {starts[d]:%H:%M} runs past midnight; start earlier "
                             f"(session_start) or study fewer hours that day")
    weekly_capacity = sum(day_hours)
    if weekly_capacity + 1e-9 < hours:
        raise InputError("windows" if windows is not None else "day_hours",
                         f"the {'windows' if windows is not None else 'study days'} hold {weekly_capacity:g} h a "
                         f"week, less than "
                                      f"hours_per_week {hours:g}; add days or hours per day, or lower "
                                      f"hours_per_week")

    if data.get("start") in (None, ""):
        start = next_monday(today or dt.date.today())
    else:
        start = parse_date(data["start"], "start")
        if not dt.date(2000, 1, 1) <= start <= dt.date(2100, 1, 1):
            raise InputError("start", f"{start} is outside the years 2000-2100")
    timezone = parse_timezone(data.get("timezone") or "UTC")
    busy_sources, all_day_busy = _busy_fields(data)

    raw_bo = data.get("blackouts") or []
    if isinstance(raw_bo, str):
        raw_bo = [raw_bo]
    if not isinstance(raw_bo, list | tuple):
        raise InputError("blackouts", "expected a list of ranges YYYY-MM-DD..YYYY-MM-DD")
    if len(raw_bo) > 50 * MAX_BLACKOUTS:
        raise InputError("blackouts", f"{len(raw_bo):,} ranges is more than the limit of {MAX_BLACKOUTS}")
    blackouts = _merged(sorted(parse_range(b, f"blackouts[{i}]") for i, b in enumerate(raw_bo)))
    if len(blackouts) > MAX_BLACKOUTS:
        raise InputError("blackouts", f"{len(blackouts):,} separate ranges is more than the limit of {MAX_BLACKOUTS}; "
                                      f"join neighbouring ones (YYYY-MM-DD..YYYY-MM-DD)")

    skip = _str_list(data.get("skip"), "skip")
    topic_ids = {t.id for t in curriculum.topics}
    for s in skip:
        if s not in topic_ids:
            raise InputError("skip", f"unknown topic '{s}' in {curriculum.id}")
    skip = list(dict.fromkeys(skip))
    electives = list(dict.fromkeys(_str_list(data.get("electives"), "electives")))
    elective_ids = {e.id for e in curriculum.electives}
    for e in electives:
        if e not in elective_ids:
            raise InputError("electives", f"unknown elective '{e}' (one of {', '.join(sorted(elective_ids))})")

    max_session = DEFAULT_MAX_SESSION_MINUTES
    if data.get("max_session_hours") not in (None, ""):
        msh = parse_hours(data["max_session_hours"], "max_session_hours", lo=0.5, hi=12)
        if abs(msh * 2 - round(msh * 2)) > 1e-9:
            raise InputError("max_session_hours", f"{msh:g} h is not a multiple of 0.5 h")
        max_session = int(msh * 60)
    reminder: int | None = DEFAULT_REMINDER_MINUTES
    if "reminder_minutes" in data:
        rv = data["reminder_minutes"]
        if rv in (None, "", "none", "off", False):
            reminder = None
        else:
            reminder = parse_whole(rv, "reminder_minutes", 0, 24 * 60, "minutes")

    buffer_percent = _percent(data, "buffer_percent", DEFAULT_BUFFER_PERCENT, hi=50)
    review_cap = _percent(data, "review_cap_percent", DEFAULT_REVIEW_CAP_PERCENT, hi=50)
    reviews = _flag(data, "reviews", True)
    checkpoints = _flag(data, "checkpoints", True)
    review_days: tuple[int, ...] = DEFAULT_REVIEW_DAYS
    if data.get("review_days") not in (None, ""):
        raw_rd = data["review_days"]
        items = raw_rd.split(",") if isinstance(raw_rd, str) else raw_rd
        if not isinstance(items, list | tuple) or len(items) > 20:
            raise InputError("review_days", f"expected up to 20 whole days such as 1,7,30, got {raw_rd!r}")
        review_days = tuple(sorted({parse_whole(x, "review_days", 1, 365, "days such as 1,7,30") for x in items}))
        if not review_days or review_days[0] < 1 or review_days[-1] > 365:
            raise InputError("review_days", "use 1 to 365 days after a topic's last session")
    retention = DEFAULT_REVIEW_RETENTION
    if data.get("review_retention") not in (None, ""):
        lo, hi = REVIEW_RETENTION_RANGE
        number = _number(data["review_retention"])
        if number is None or not lo - 1e-9 <= number <= hi + 1e-9:
            raise InputError("review_retention", f"expected a share of reviews recalled from {lo:.2f} to {hi:.2f} "
                                                 f"(such as 0.9), got {data['review_retention']!r}")
        retention = round(number, 4)
    return Profile(
        rest_day=rest_day, buffer_percent=buffer_percent, reviews=reviews, review_days=review_days,
        review_cap_percent=review_cap, review_retention=retention, checkpoints=checkpoints,
        background=background, hours_per_week=hours, weekday_hours=day_hours, session_starts=tuple(starts),
        start=start, timezone=timezone, blackouts=blackouts, holiday_country=parse_country(data.get("holidays")),
        skip=tuple(skip), electives=tuple(electives), max_session_minutes=max_session, reminder_minutes=reminder,
        explicit_day_hours=bool(explicit), explicit_starts=explicit_starts,
        windows=windows, busy_sources=busy_sources, all_day_busy=all_day_busy,
        finish_months=None if data.get("finish_months") in (None, "") else parse_whole(
            data["finish_months"], "finish_months", 1, MAX_FINISH_MONTHS, "months such as 24"),
    )


def _windows_field(data: Mapping[str, Any]) -> tuple[tuple[tuple[int, int], ...], ...] | None:
    return parse_windows(data.get("windows"), "windows")


def _window_day_hours(windows: tuple[tuple[tuple[int, int], ...], ...], data: Mapping[str, Any],
                      explicit: dict[int, float], rest_day: int | None) -> tuple[float, ...]:
    """Day hours under windows: each study day may fill its windows (the weekly hours cap the week), or the
    learner's own day hours, which must fit in them. Days without a window are not study days."""
    room = [b * BLOCK_MINUTES / 60 for b in window_blocks(windows)]
    days = set(parse_days(data["days"], "days")) if data.get("days") not in (None, "") else set(range(7))
    for d, h in explicit.items():
        if h > room[d] + 1e-9:
            raise InputError(f"day_hours.{WEEKDAYS[d]}", f"{h:g} h does not fit in the {WEEKDAYS[d]} windows "
                                                         f"({room[d]:g} h)")
    if data.get("days") not in (None, ""):
        for d in sorted(days):
            if not windows[d]:
                raise InputError("days", f"{WEEKDAYS[d]} is a study day but has no study window")
    return tuple(explicit.get(d, room[d]) if d in days and d != rest_day else 0.0 for d in range(7))


def is_url(source: str) -> bool:
    return source.strip().lower().startswith(URL_SCHEMES)


def normalise_source(value: Any, field: str, base: Path | None = None) -> str:
    """A URL as given (webcal:// read as https://), or a file path made absolute so a re-plan run from
    another directory reads the same file."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise InputError(field, "empty busy source (give a .ics file or an http(s) URL)")
    if is_url(text):
        return text
    if "://" in text:
        raise InputError(field, f"'{display_source(text)}' is not a .ics file or an http(s) URL")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return str(path.resolve())


def _busy_fields(data: Mapping[str, Any]) -> tuple[tuple[str, ...], bool]:
    raw = data.get("busy")
    if isinstance(raw, Mapping):  # the plan file's echo: {sources: [...], all_day_events: ...}
        raw = raw.get("sources")
    if raw in (None, "", []):
        items: list[Any] = []
    elif isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise InputError("busy", "expected a list of .ics files or http(s) URLs")
    sources = tuple(dict.fromkeys(normalise_source(v, f"busy[{i}]") for i, v in enumerate(items)))
    value = data.get("all_day_events")
    if value in (None, ""):
        return sources, True
    text = str(value).strip().lower()
    if text not in ("busy", "free"):
        raise InputError("all_day_events", f"expected busy or free, got {value!r}")
    return sources, text == "busy"


def _percent(data: Mapping[str, Any], key: str, default: int, *, hi: int) -> int:
    value = data.get(key)
    if value in (None, ""):
        return default
    return parse_whole(value, key, 0, hi, "a whole percentage")


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise InputError(key, f"expected on or off, got {value!r}")


def profile_from_dict(data: Mapping[str, Any], curriculum: Curriculum) -> Profile:
    """Rebuild a profile from its to_dict() form (plan JSON, saved state)."""
    p = profile_from_mapping(mapping_from_dict(data), curriculum)
    return replace(p, explicit_day_hours=bool(data.get("explicit_day_hours", True)),
                   explicit_starts=bool(data.get("explicit_starts", True)))


def mapping_from_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    """The raw profile fields (what `profile_from_mapping` reads and the store keeps) of a to_dict() form."""
    raw: dict[str, Any] = {
        "background": data["background"],
        "hours_per_week": data["hours_per_week"],
        "start": data["start"],
        "timezone": data["timezone"],
        "holidays": data.get("holidays"),
        "skip": data.get("skip", []),
        "electives": data.get("electives", []),
        "max_session_hours": data.get("max_session_hours"),
        "reminder_minutes": data.get("reminder_minutes", DEFAULT_REMINDER_MINUTES),
        "blackouts": data.get("user_blackouts", []),
        "day_hours": {k: v for k, v in data["weekday_hours"].items()},
        "days": [k for k, v in data["weekday_hours"].items() if v > 0] or None,
        "session_start": data.get("session_start"),
        "buffer_percent": data.get("buffer_percent", 0),
        "reviews": data.get("reviews", False),
        "review_days": data.get("review_days"),
        "review_cap_percent": data.get("review_cap_percent"),
        "review_retention": data.get("review_retention"),  # plans from before FSRS: the default
        "checkpoints": data.get("checkpoints", False),
        "rest_day": None,
    }
    if data.get("finish_months") is not None:
        raw["finish_months"] = data["finish_months"]
    if data.get("windows") is not None:  # the windows set the start times
        raw.update(windows=data["windows"], session_start=None, day_hours=None if not data.get(
            "explicit_day_hours") else raw["day_hours"])
    if data.get("busy"):
        raw.update(busy=data["busy"].get("sources"), all_day_events=data["busy"].get("all_day_events"))
    return raw
