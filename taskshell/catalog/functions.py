"""The engine's SQL function library: what translated SQL calls where SQLite lacks Snowflake's meaning.

Registered on every connection by `install`. A function that fails raises a `TaskshellError`; the
`sql_function` wrapper keeps it (per thread) so that `translate_sqlite_error` can hand the user the
error's own code and text instead of SQLite's "user-defined function raised exception".
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, TypeVar

from taskshell.errors import DIVISION_BY_ZERO, CompilationError, ExecutionError, TaskshellError

F = TypeVar("F", bound=Callable[..., Any])

_pending = threading.local()


def sql_function(fn: F) -> F:
    """Wrap a UDF so that the error it raises survives SQLite's generic message."""

    @functools.wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except TaskshellError as exc:
            _pending.error = exc
            raise
        except Exception as exc:  # a bug or bad input inside a UDF still deserves its own text
            _pending.error = ExecutionError(f"{fn.__name__}: {exc}")
            raise

    return wrapper  # type: ignore[return-value]


def take_pending_error() -> TaskshellError | None:
    error = getattr(_pending, "error", None)
    _pending.error = None
    return error


_NO_SUCH_TABLE = re.compile(r"no such (?:table|view): (?:\w+\.)?(.+)$")
_NO_SUCH_COLUMN = re.compile(r"(?:no such column: |has no column named )(.+)$")
_NO_SUCH_FUNCTION = re.compile(r"no such function: (.+)$")
_ALREADY_EXISTS = re.compile(r"(?:table|view|index) (?:\"?)(.+?)(?:\"?) already exists")


def translate_sqlite_error(exc: sqlite3.Error) -> TaskshellError:
    """The pending UDF error if there is one, else SQLite's complaint in Snowflake's words."""
    pending = take_pending_error()  # taken either way, so a stale one cannot leak into a later error
    text = str(exc)
    if pending is not None and "user-defined function raised exception" in text:
        return pending
    if m := _NO_SUCH_TABLE.search(text):
        return CompilationError(f"Object '{m.group(1).upper()}' does not exist or not authorized.",
                                code="002003", sqlstate="42S02")
    if m := _NO_SUCH_COLUMN.search(text):
        name = m.group(1).split(".")[-1]
        return CompilationError(f"invalid identifier '{name.upper()}'", code="000904", sqlstate="42000")
    if m := _NO_SUCH_FUNCTION.search(text):
        return CompilationError(f"Unknown function {m.group(1).upper()}", code="002140", sqlstate="42601")
    if m := _ALREADY_EXISTS.search(text):
        return CompilationError(f"Object '{m.group(1).upper()}' already exists.", code="002002",
                                sqlstate="42710")
    if "NOT NULL constraint failed" in text:
        return ExecutionError("NULL result in a non-nullable column", code="100072", sqlstate="22000")
    if "UNIQUE constraint failed" in text or "PRIMARY KEY" in text:
        return ExecutionError(f"Duplicate key value violates unique constraint ({text.split(': ')[-1]})",
                              code="100116", sqlstate="23505")
    if "interrupted" in text:
        return ExecutionError("SQL execution canceled", code="000604", sqlstate="57014")
    if "syntax error" in text or "incomplete input" in text:
        return CompilationError(f"SQL compilation error: {text}", code="001003", sqlstate="42000")
    if "database is locked" in text or "database is busy" in text:
        return ExecutionError("The catalog is busy (another process holds its write lock); try again.",
                              code="000625", sqlstate="57014")
    if isinstance(exc, sqlite3.OperationalError) and (
            "has no column" in text or "no such" in text or "ambiguous" in text):
        return CompilationError(text, code="002003")
    return ExecutionError(text)


# ---------------------------------------------------------------- numbers
def _number(value: Any) -> int | float:
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isnan(number) or text.lower() == "nan":
            return number
    raise ExecutionError(f"Numeric value '{value}' is not recognized", code="100038", sqlstate="22018")


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _round_half_away(value: float, scale: int) -> float:
    factor = 10 ** scale
    return math.copysign(math.floor(abs(value) * factor + 0.5), value) / factor


@sql_function
def ts_div(a: Any, b: Any) -> int | float | None:
    """Snowflake `/`: integers divide to 6 decimal places; zero divisors are an error."""
    if a is None or b is None:
        return None
    x, y = _number(a), _number(b)
    if y == 0:
        raise ExecutionError(f"divided by zero while evaluating function `divide({_shown(a)}, {_shown(b)})`",
                             code=DIVISION_BY_ZERO, sqlstate="22012")
    if isinstance(x, int) and isinstance(y, int):
        return _round_half_away(x / y, 6)
    return x / y


# ---------------------------------------------------------------- dates and times
_TS = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*$")


class _Moment:
    """A parsed date, time or timestamp plus what its text looked like, so output keeps the shape."""

    def __init__(self, value: datetime, shape: str, digits: int) -> None:
        self.value = value
        self.shape = shape  # 'date' | 'timestamp' | 'time'
        self.digits = digits  # fractional-second digits in the input


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _moment(value: Any) -> _Moment:
    if isinstance(value, int | float) and not isinstance(value, bool):
        instant = datetime(1970, 1, 1) + timedelta(seconds=value)  # Snowflake reads numbers as epoch seconds
        return _Moment(instant, "timestamp", 3 if value != int(value) else 0)
    text = str(value)
    if m := _TS.match(text):
        year, month, day, hour, minute, second, frac, tz = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        try:
            instant = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                               int(second or 0), micro, _offset(tz))
        except ValueError:
            instant = None
        if instant is not None:
            return _Moment(instant, "timestamp" if hour is not None else "date", len(frac or ""))
    if m := _TIME.match(text):
        hour, minute, second, frac = m.groups()
        micro = int((frac or "0")[:6].ljust(6, "0"))
        if int(hour) < 24:
            return _Moment(datetime(1970, 1, 1, int(hour), int(minute), int(second or 0), micro),
                           "time", len(frac or ""))
    raise ExecutionError(f"Timestamp '{text}' is not recognized", code="100035", sqlstate="22007")


def _fraction(micro: int, digits: int) -> str:
    needed = len(f"{micro:06d}".rstrip("0")) if micro else 0
    width = min(6, max(digits, -(-needed // 3) * 3))
    return "." + f"{micro:06d}"[:width] if width else ""


def format_date(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def format_timestamp(value: datetime, digits: int = 0) -> str:
    text = f"{format_date(value)} {format_time(value.time(), digits)}"
    if value.tzinfo is not None:
        text += " " + value.strftime("%z")
    return text


def format_time(value: time, digits: int = 0) -> str:
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond, digits)}"


_UNITS = {
    "year": ("year", "y", "yy", "yyy", "yyyy", "yr", "years", "yrs"),
    "quarter": ("quarter", "q", "qtr", "qtrs", "quarters"),
    "month": ("month", "mm", "mon", "mons", "months"),
    "week": ("week", "w", "wk", "weekofyear", "woy", "wy", "weeks"),
    "day": ("day", "d", "dd", "days", "dayofmonth"),
    "hour": ("hour", "h", "hh", "hr", "hours", "hrs"),
    "minute": ("minute", "m", "mi", "min", "minutes", "mins"),
    "second": ("second", "s", "sec", "seconds", "secs"),
    "millisecond": ("millisecond", "ms", "msec", "milliseconds"),
    "microsecond": ("microsecond", "us", "usec", "microseconds"),
    "nanosecond": ("nanosecond", "ns", "nsec", "nanosec", "nsecond", "nanoseconds", "nanosecs"),
}
UNIT_ALIASES = {alias: unit for unit, aliases in _UNITS.items() for alias in aliases}
_DATE_UNITS = ("year", "quarter", "month", "week", "day")
_FIXED = {"week": timedelta(weeks=1), "day": timedelta(days=1), "hour": timedelta(hours=1),
          "minute": timedelta(minutes=1), "second": timedelta(seconds=1),
          "millisecond": timedelta(milliseconds=1), "microsecond": timedelta(microseconds=1)}


def date_unit(unit: Any) -> str:
    name = UNIT_ALIASES.get(str(unit).strip().strip("'\"").lower())
    if name is None:
        raise CompilationError(f"Invalid date/time part '{unit}'", code="002018")
    return name


def _add_months(value: datetime, months: int) -> datetime:
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])  # DATEADD clamps; it does not keep month ends
    return value.replace(year=year, month=month + 1, day=day)


@sql_function
def ts_dateadd(unit: Any, amount: Any, value: Any) -> str | None:
    """DATEADD / TIMESTAMPADD keeping the time of day and the input's shape (date or timestamp)."""
    if unit is None or amount is None or value is None:
        return None
    part = date_unit(unit)
    n = _number(amount)
    n = int(_round_half_away(n, 0)) if isinstance(n, float) else n
    moment = _moment(value)
    if part in ("year", "quarter", "month"):
        result = _add_months(moment.value, n * {"year": 12, "quarter": 3, "month": 1}[part])
    elif part == "nanosecond":
        result = moment.value + timedelta(microseconds=n // 1000)
    else:
        result = moment.value + n * _FIXED[part]
    if moment.shape == "time":
        return format_time(result.time(), moment.digits)
    if moment.shape == "date" and part in _DATE_UNITS:
        return format_date(result)
    return format_timestamp(result, moment.digits)


def _floor(value: datetime, part: str) -> datetime:
    if part == "hour":
        return value.replace(minute=0, second=0, microsecond=0)
    if part == "minute":
        return value.replace(second=0, microsecond=0)
    if part == "second":
        return value.replace(microsecond=0)
    if part == "millisecond":
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


@sql_function
def ts_datediff(unit: Any, start: Any, end: Any) -> int | None:
    """DATEDIFF / TIMESTAMPDIFF: how many `unit` boundaries lie between start and end (Snowflake's rule)."""
    if unit is None or start is None or end is None:
        return None
    part = date_unit(unit)
    a, b = _moment(start).value, _moment(end).value
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    if part == "year":
        return b.year - a.year
    if part == "quarter":
        return (b.year * 4 + (b.month - 1) // 3) - (a.year * 4 + (a.month - 1) // 3)
    if part == "month":
        return (b.year * 12 + b.month) - (a.year * 12 + a.month)
    if part == "week":  # weeks start on Monday (WEEK_START = 0)
        monday_a = a.date() - timedelta(days=a.weekday())
        monday_b = b.date() - timedelta(days=b.weekday())
        return (monday_b - monday_a).days // 7
    if part == "day":
        return (b.date() - a.date()).days
    if part == "nanosecond":
        return ((b - a) // timedelta(microseconds=1)) * 1000
    return (_floor(b, part) - _floor(a, part)) // _FIXED[part]


# ---------------------------------------------------------------- casts
_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}


def _to_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, bytes):
        return value.hex().upper()
    return str(value)


def _to_boolean(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value != 0)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise ExecutionError(f"Boolean value '{value}' is not recognized", code="100037", sqlstate="22018")


def _to_number(value: Any, scale: int) -> int | float:
    number = _number(value)
    if isinstance(number, float) and not math.isfinite(number):
        raise ExecutionError(f"Numeric value '{value}' is not recognized", code="100038", sqlstate="22018")
    if scale == 0:
        return int(_round_half_away(number, 0)) if isinstance(number, float) else number
    return _round_half_away(float(number), scale)


def _cast(value: Any, target: str) -> Any:
    kind, _, arg = target.partition(":")
    if kind == "number":
        return _to_number(value, int(arg or 0))
    if kind == "float":
        return float(_number(value))
    if kind == "text":
        return _to_text(value)
    if kind == "bool":
        return _to_boolean(value)
    if kind == "date":
        return format_date(_moment(value).value)
    if kind == "timestamp":
        moment = _moment(value)
        return format_timestamp(moment.value, moment.digits)
    if kind == "time":
        moment = _moment(value)
        return format_time(moment.value.time(), moment.digits)
    return value  # variant, binary: stored as given


@sql_function
def ts_cast(value: Any, target: str, strict: int = 1) -> Any:
    """CAST / :: / TRY_CAST to a Snowflake type family (see taskshell.translate.types.cast_target)."""
    if value is None:
        return None
    try:
        return _cast(value, target)
    except TaskshellError:
        if strict:
            raise
        return None


_FORMAT_TOKENS = (
    ("YYYY", "%Y"), ("YY", "%y"), ("MMMM", "%B"), ("MON", "%b"), ("MM", "%m"), ("DD", "%d"),
    ("DY", "%a"), ("HH24", "%H"), ("HH12", "%I"), ("HH", "%H"), ("AM", "%p"), ("PM", "%p"),
    ("MI", "%M"), ("SS", "%S"),
)


def _strftime_format(fmt: str) -> tuple[str, int]:
    """Snowflake's date format tokens as strftime, plus the FF digits wanted (-1: none)."""
    out, i, ff = [], 0, -1
    upper = fmt.upper()
    while i < len(fmt):
        if upper.startswith("FF", i):
            digits = fmt[i + 2] if i + 2 < len(fmt) and fmt[i + 2].isdigit() else "9"
            ff = int(digits)
            out.append("\ue000")
            i += 3 if fmt[i + 2:i + 3].isdigit() else 2
            continue
        for token, code in _FORMAT_TOKENS:
            if upper.startswith(token, i):
                out.append(code)
                i += len(token)
                break
        else:
            if fmt[i] == '"':  # quoted literal text
                end = fmt.find('"', i + 1)
                end = len(fmt) if end < 0 else end
                out.append(fmt[i + 1:end].replace("%", "%%"))
                i = end + 1
            else:
                out.append(fmt[i].replace("%", "%%"))
                i += 1
    return "".join(out), ff


@sql_function
def ts_to_char(value: Any, fmt: Any) -> str | None:
    """TO_VARCHAR / TO_CHAR of a date or timestamp with a Snowflake format string."""
    if value is None or fmt is None:
        return None
    moment = _moment(value).value
    pattern, ff = _strftime_format(str(fmt))
    text = moment.strftime(pattern)
    if ff >= 0:
        text = text.replace("\ue000", f"{moment.microsecond:06d}000"[:ff])
    return text


@sql_function
def ts_raise(code: str, message: str, sqlstate: str | None = None) -> None:
    """Fail the statement with this error; used by translations that check what they run on.

    Without a SQL state it is a compilation error; with one, an execution error.
    """
    if sqlstate is None:
        raise CompilationError(str(message), code=str(code))
    raise ExecutionError(str(message), code=str(code), sqlstate=str(sqlstate))


def install(conn: sqlite3.Connection) -> None:
    conn.create_function("ts_div", 2, ts_div, deterministic=True)
    conn.create_function("ts_dateadd", 3, ts_dateadd, deterministic=True)
    conn.create_function("ts_datediff", 3, ts_datediff, deterministic=True)
    conn.create_function("ts_cast", 2, ts_cast, deterministic=True)
    conn.create_function("ts_cast", 3, ts_cast, deterministic=True)
    conn.create_function("ts_to_char", 2, ts_to_char, deterministic=True)
    conn.create_function("ts_raise", 2, ts_raise)
    conn.create_function("ts_raise", 3, ts_raise)
