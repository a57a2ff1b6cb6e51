"""Task schedules: what the user wrote, how it prints, and when it fires next.

Two kinds exist. An `Interval` fires every `ms` milliseconds counted from a base instant (the time the
task was resumed). A `Cron` fires on the wall clock of its zone: a wall time that occurs twice (fall
back) fires at both instants, one that never occurs (spring forward) fires at none. croniter walks
the naive wall times that match, and each becomes the instants that show it (zoneinfo's two folds,
kept when the instant shows that wall time again): walking croniter over aware instants instead
misses the second showing of some repeated wall times (a 30-minute shift, a step that does not
divide it) and moves times inside a gap to the first instant after it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, CroniterError, croniter

from taskshell.errors import CompilationError
from taskshell.grammar.ast import CronSpec, IntervalSpec, QuotedSchedule
from taskshell.scheduler.clock import canonical_zone_name, zone

# Snowflake's longest interval is 11520 minutes (eight days), whatever unit spells it; the shortest is
# one of the unit written.
MAX_INTERVAL_MS = 11_520 * 60_000

_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000}
_QUOTED_INTERVAL = re.compile(r"^\s*([+-]?\d+)\s+(MINUTES?|HOURS?|SECONDS?)\s*$", re.IGNORECASE)
_QUOTED_CRON = re.compile(r"^\s*USING\s+CRON\s+(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_QUOTED_FORMS = "'<num> MINUTE', '<num> HOURS', '<num> SECONDS' or 'USING CRON <expr> <time_zone>'"


@dataclass(frozen=True)
class Interval:
    ms: int
    unit: str | None = None  # Snowflake unit word as written ('MINUTE', 'HOURS', ...), for SHOW TASKS

    def describe(self, dialect: str) -> str:
        if dialect.lower() == "databend":
            secs, ms = divmod(self.ms, 1000)
            return f"INTERVAL {secs} SECOND" + (f" {ms} MILLISECOND" if ms else "")
        unit = self.unit
        if unit is None:
            unit = "MINUTE" if self.ms % 60_000 == 0 else "SECONDS"
        if unit.upper().startswith("SECOND") and self.ms % 1000:
            return f"{self.ms} MILLISECONDS"
        return f"{self.ms // _UNIT_MS[unit.upper().rstrip('S')]} {unit}"


@dataclass(frozen=True)
class Cron:
    expr: str  # as written, single-spaced: 5 fields (Snowflake) or 6/7 seconds-first (Databend)
    timezone: str = "UTC"  # IANA name
    seconds_first: bool = False
    zone_given: bool = True  # Databend prints ' TIMEZONE <tz>' only when the zone was written

    def describe(self, dialect: str) -> str:
        if dialect.lower() == "databend":
            return f"CRON {self.expr}" + (f" TIMEZONE {self.timezone}" if self.zone_given else "")
        return f"USING CRON {self.expr} {self.timezone}"


Schedule = Interval | Cron


# ---------------------------------------------------------------- resolving what the parser saw
def resolve(spec: IntervalSpec | CronSpec | QuotedSchedule) -> Schedule:
    """Validate a parsed SCHEDULE and return the schedule it denotes (CompilationError otherwise)."""
    if isinstance(spec, IntervalSpec):
        return _resolve_databend_interval(spec)
    if isinstance(spec, CronSpec):
        return _resolve_databend_cron(spec)
    if isinstance(spec, QuotedSchedule):
        return _resolve_quoted(spec.text)
    raise TypeError(f"not a schedule: {spec!r}")


def _resolve_databend_interval(spec: IntervalSpec) -> Interval:
    unit = spec.unit.upper()
    if unit not in _UNIT_MS:
        raise CompilationError(f"invalid schedule unit {spec.unit}")
    if unit == "MILLISECOND":
        if not 500 <= spec.amount < 1000:
            raise CompilationError(
                f"invalid milliseconds_interval value {spec.amount}, must be in [500, 1000)")
    elif spec.amount <= 0:
        raise CompilationError(f"invalid interval value {spec.amount} {unit}, must be greater than 0")
    return Interval(ms=spec.amount * _UNIT_MS[unit])


def _resolve_databend_cron(spec: CronSpec) -> Cron:
    expr = " ".join(spec.expr.split())
    if len(expr.split()) not in (6, 7):
        raise CompilationError(f"invalid cron expression {spec.expr}")
    _check_cron(expr, seconds_first=True, written=spec.expr)
    if spec.timezone is None:
        return Cron(expr=expr, timezone="UTC", seconds_first=True, zone_given=False)
    return Cron(expr=expr, timezone=canonical_zone_name(spec.timezone), seconds_first=True)


def _resolve_quoted(text: str) -> Schedule:
    match = _QUOTED_INTERVAL.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2).upper()
        ms = amount * _UNIT_MS[unit.rstrip("S")]
        if amount < 1 or ms > MAX_INTERVAL_MS:
            raise CompilationError(
                f"invalid schedule '{text}': the interval must be at least 1 and at most "
                "11520 MINUTES (192 HOURS, 691200 SECONDS)")
        return Interval(ms=ms, unit=unit)
    match = _QUOTED_CRON.match(text)
    if not match:
        raise CompilationError(f"invalid schedule '{text}': expected {_QUOTED_FORMS}")
    words = match.group(1).split()
    if len(words) == 5 and not _looks_like_zone(words[-1]):
        raise CompilationError(
            f"invalid cron expression {' '.join(words)}: a time zone must follow the 5 cron fields")
    if len(words) != 6:
        raise CompilationError(f"invalid cron expression {match.group(1)}")
    expr = " ".join(words[:5])
    _check_cron(expr, seconds_first=False, written=expr)
    return Cron(expr=expr, timezone=canonical_zone_name(words[5]), seconds_first=False)


def _looks_like_zone(word: str) -> bool:
    return (any(c.isalpha() for c in word) and "/" in word) or word.upper() in ("UTC", "GMT")


_WEEKDAYS = {name: str(i) for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


def _for_croniter(expr: str, seconds_first: bool) -> str:
    """The expression in croniter's spelling: the day-of-week field's `5L` (the month's last
    Friday, as Snowflake and Quartz write it) is croniter's `L5`, and a bare `L` is the week's
    last day, Saturday."""
    fields = expr.split()
    at = 5 if seconds_first else 4
    if len(fields) <= at or "L" not in fields[at].upper():
        return expr
    items = []
    for item in fields[at].split(","):
        word = item.upper()
        if word == "L":
            item = "6"
        elif word.endswith("L") and _WEEKDAYS.get(word[:-1], word[:-1]).isdigit():
            item = "L" + _WEEKDAYS.get(word[:-1], word[:-1])
        items.append(item)
    fields[at] = ",".join(items)
    return " ".join(fields)


def _check_cron(expr: str, *, seconds_first: bool, written: str) -> None:
    try:
        _Croniter(_for_croniter(expr, seconds_first), datetime(2000, 1, 1), second_at_beginning=seconds_first)
    except (CroniterError, ValueError, TypeError, KeyError, IndexError):
        raise CompilationError(f"invalid cron expression {written}") from None


class _Croniter(croniter):
    """croniter with the year field reaching 2100, the last year Databend's cron accepts."""

    RANGES = croniter.RANGES[:6] + ((1970, 2100),)
    LEN_MEANS_ALL = croniter.LEN_MEANS_ALL[:6] + (131,)


# ---------------------------------------------------------------- fire times
# How far ahead a cron search looks. Weekday/date patterns repeat within 28 years, so an expression
# without a year field that has not matched in 30 years only ever matches inside a spring-forward gap
# (e.g. 02:30 on the second Sunday of March in Los Angeles); a year field ends at 2100.
_SEARCH_YEARS = 30
_LAST_YEAR_END = datetime(2101, 1, 1, tzinfo=UTC)
_YEARS_AHEAD = 131
_MAX_CANDIDATES = 1_000_000  # a backstop only; the horizon ends every real search first
_TRANSITION_REACH = timedelta(hours=3)  # more than any zone's offset ever moves at once


def next_fire_after(schedule: Schedule, after: datetime, *, base: datetime | None = None) -> datetime | None:
    """The first fire time strictly after `after` (aware, UTC), or None when the schedule never fires again.

    Interval: base + k*interval for the least k >= 1 beyond `after` (base defaults to `after`).
    Pass the previous scheduled instant as `after`, not "now", so fire times never drift.
    """
    after = _aware(after, "after")
    if isinstance(schedule, Interval):
        return _next_interval(schedule.ms, after, after if base is None else _aware(base, "base"))
    return _next_cron(schedule, after)


def _next_interval(ms: int, after: datetime, base: datetime) -> datetime:
    if ms <= 0:
        raise ValueError(f"an interval must be positive, got {ms} ms")
    step_us = ms * 1000
    elapsed_us = (after - base) // timedelta(microseconds=1)
    k = max(1, elapsed_us // step_us + 1)
    return (base + timedelta(microseconds=k * step_us)).astimezone(UTC)


def _next_cron(cron: Cron, after: datetime) -> datetime | None:
    """The first instant after `after` whose wall time in the cron's zone matches the expression.

    Instants after `after` show wall times that only ever increase, except at a fall-back, where
    they go back and a span of wall times shows a second time. So the search walks croniter over
    naive wall times from the wall time of `after` up to the fall-back ahead (if one is near), then,
    if nothing matched, from where the clock went back; wall times inside a spring-forward gap
    never show and are stepped over whole."""
    tz = zone(cron.timezone)
    after = after.astimezone(UTC)
    local = after.astimezone(tz)
    expr = _for_croniter(cron.expr, cron.seconds_first)
    has_year = len(cron.expr.split()) == 7
    wall = local.replace(tzinfo=None)
    horizon = _LAST_YEAR_END.replace(tzinfo=None) if has_year else wall + timedelta(days=366 * _SEARCH_YEARS)
    back = _fall_back_after(after, tz)
    if back is None:
        return _first_shown(cron, expr, tz, wall, horizon, local.fold)
    instant, before, behind = back  # the clock goes back at `instant` from wall `before` to `behind`
    found = _first_shown(cron, expr, tz, wall, min(before, horizon), local.fold)
    if found is not None:
        return found
    return _first_shown(cron, expr, tz, behind - timedelta(seconds=1), horizon, 1)


def _first_shown(cron: Cron, expr: str, tz: ZoneInfo, after_wall: datetime, end_wall: datetime,
                 fold: int) -> datetime | None:
    """The instant of the first wall time after `after_wall`, before `end_wall`, that matches and
    that the clock shows (a repeated one as its `fold` showing)."""
    walker = _Croniter(expr, after_wall, ret_type=datetime, second_at_beginning=cron.seconds_first,
                       max_years_between_matches=_YEARS_AHEAD)
    for _ in range(_MAX_CANDIDATES):
        try:
            wall = walker.get_next()
        except CroniterBadDateError:
            return None
        if wall >= end_wall:
            return None
        instant = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            return instant
        # a wall time inside a spring-forward gap: go on from the first one the clock shows
        walker = _Croniter(expr, _gap_end(wall, tz) - timedelta(seconds=1), ret_type=datetime,
                           second_at_beginning=cron.seconds_first, max_years_between_matches=_YEARS_AHEAD)
    return None


def _shown(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def _gap_end(wall: datetime, tz: ZoneInfo) -> datetime:
    """The first wall time (to the second) the clock shows after `wall`, which is inside a gap."""
    low, high = wall, wall + _TRANSITION_REACH  # no gap is longer
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if _shown(middle, tz):
            high = middle
        else:
            low = middle
    return high


def _fall_back_after(after: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, datetime] | None:
    """The fall-back within reach after `after`, if any: its instant, the wall time the clock showed
    just before it, and the wall time it shows from then on (earlier)."""
    end = after + _TRANSITION_REACH
    if end.astimezone(tz).utcoffset() >= after.astimezone(tz).utcoffset():  # type: ignore[operator]
        return None
    offset = after.astimezone(tz).utcoffset()
    low, high = int(after.timestamp()), int(end.timestamp()) + 1  # whole seconds: the offset drops in (low, high]
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    instant = datetime.fromtimestamp(high, UTC)
    before = (instant - timedelta(microseconds=1)).astimezone(tz).replace(tzinfo=None)
    behind = instant.astimezone(tz).replace(tzinfo=None)
    return instant, before, behind


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {value.isoformat()}")
    return value


# ---------------------------------------------------------------- storage form
def to_json(s: Schedule) -> str:
    if isinstance(s, Interval):
        payload: dict[str, object] = {"kind": "interval", "ms": s.ms, "unit": s.unit}
    else:
        payload = {"kind": "cron", "expr": s.expr, "timezone": s.timezone,
                   "seconds_first": s.seconds_first, "zone_given": s.zone_given}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> Schedule:
    data = json.loads(text)
    kind = data.get("kind")
    if kind == "interval":
        return Interval(ms=int(data["ms"]), unit=data.get("unit"))
    if kind == "cron":
        return Cron(expr=data["expr"], timezone=data.get("timezone", "UTC"),
                    seconds_first=bool(data.get("seconds_first", False)),
                    zone_given=bool(data.get("zone_given", True)))
    raise ValueError(f"not a stored schedule: {text}")
