"""Where "now" comes from, how waiting works, and how instants print.

Everything that needs the time asks a `Clock`. `RealClock` is the wall clock; `VirtualClock` stands
still until something advances it (SYSTEM$WAIT in a script or a task body), which makes runs,
overlaps and timeouts reproducible without real sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from taskshell.errors import CompilationError


class Clock(Protocol):
    virtual: bool

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`: really (RealClock) or by moving time forward (VirtualClock)."""
        ...


class RealClock:
    virtual = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


Listener = Callable[[datetime, datetime], None]


class VirtualClock:
    """A clock that only moves when told to; safe to read from the scheduler thread.

    Listeners run after the lock is released, so a listener may read the clock (or advance it)
    without deadlocking.
    """

    virtual = True

    def __init__(self, start: datetime) -> None:
        self._now = _require_aware(start, "start").astimezone(UTC)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"a virtual clock cannot move backwards (advance by {seconds} s)")
        with self._lock:
            old = self._now
            self._now = old + timedelta(seconds=seconds)
            new = self._now
        self._notify(old, new)
        return new

    def set(self, instant: datetime) -> None:
        target = _require_aware(instant, "instant").astimezone(UTC)
        with self._lock:
            old = self._now
            if target < old:
                raise ValueError(
                    f"a virtual clock cannot move backwards (from {old.isoformat()} to {target.isoformat()})")
            self._now = target
        if target != old:
            self._notify(old, target)

    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)

    def _notify(self, old: datetime, new: datetime) -> None:
        with self._lock:
            listeners = tuple(self._listeners)
        for fn in listeners:
            fn(old, new)


def _require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a UTC offset, got {value.isoformat()}")
    return value


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant with an offset ('2026-11-01T00:00:00-07:00', '...Z'), returned in UTC."""
    cleaned = text.strip()
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"'{text}' is not an ISO-8601 instant; write it like 2026-11-01T00:00:00-07:00") from None
    if value.tzinfo is None:
        raise ValueError(
            f"'{text}' has no UTC offset; add one, e.g. {cleaned}-07:00 or {cleaned}Z")
    return value.astimezone(UTC)


# ---------------------------------------------------------------- time zones
@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (case-insensitive); raises `invalid time zone <name>`."""
    return ZoneInfo(canonical_zone_name(name))


@lru_cache(maxsize=256)
def canonical_zone_name(name: str) -> str:
    """The IANA spelling of `name` ('america/los_angeles' -> 'America/Los_Angeles')."""
    try:
        ZoneInfo(name)
        return name
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError for directories
        pass
    found = _zones_by_folded_name().get(name.casefold())
    if found is None:
        raise CompilationError(f"invalid time zone {name}")
    return found


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {z.casefold(): z for z in available_timezones()}


# ---------------------------------------------------------------- printing instants
def format_timestamp(instant: datetime, tz: str) -> str:
    """'2026-11-01 01:00:00.000 -0700': the instant on the wall clock of `tz`, milliseconds, offset."""
    local = _require_aware(instant, "instant").astimezone(zone(tz))
    return _format_local(local)


def format_timestamp_us(us: int | None, tz: str) -> str | None:
    """Like format_timestamp for epoch microseconds (the catalog's storage form); None stays None."""
    if us is None:
        return None
    secs, micros = divmod(us, 1_000_000)
    return _format_local(datetime.fromtimestamp(secs, zone(tz)), micros // 1000)


def _format_local(local: datetime, millis: int | None = None) -> str:
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    total = abs(int(offset.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    off = f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")
    return (f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}.{local.microsecond // 1000 if millis is None else millis:03d} {off}")


# ---------------------------------------------------------------- SYSTEM$WAIT
_WAIT_UNITS: dict[str, float] = {
    "DAYS": 86400.0,
    "HOURS": 3600.0,
    "MINUTES": 60.0,
    "SECONDS": 1.0,
    "MILLISECONDS": 1e-3,
    "MICROSECONDS": 1e-6,
    "NANOSECONDS": 1e-9,
}


def _wait_unit(unit: str | None) -> str:
    if unit is None:
        return "SECONDS"
    name = unit.strip().upper()
    if name in _WAIT_UNITS:
        return name
    if name + "S" in _WAIT_UNITS:
        return name + "S"
    raise CompilationError(
        f"Invalid time unit '{unit}' for SYSTEM$WAIT; expected one of {', '.join(_WAIT_UNITS)}.")


def wait_amount_to_seconds(amount: float, unit: str | None) -> float:
    """SYSTEM$WAIT(amount [, unit]) in seconds; unit defaults to SECONDS, singular or plural, any case."""
    factor = _WAIT_UNITS[_wait_unit(unit)]
    if amount < 0:
        raise CompilationError(f"SYSTEM$WAIT cannot wait a negative amount of time ({amount}).")
    return amount * factor


def wait_message(amount: float, unit: str | None) -> str:
    """SYSTEM$WAIT's result text: 'waited 10 seconds', 'waited 2 minutes'."""
    name = _wait_unit(unit).lower()
    if isinstance(amount, float) and amount.is_integer():
        amount = int(amount)
    return f"waited {amount} {name}"
