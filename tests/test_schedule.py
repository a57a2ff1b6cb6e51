"""Schedules: what users may write, how SHOW TASKS prints it, and when a task fires.

Cron fire times are checked against a brute-force reference that walks every minute (or second) and
asks a tiny wall-clock matcher written here, independent of croniter, whether the zone's local time
matches. The DST days of 2026 in seven zones are covered, including Lord Howe's 30-minute shift and
the midnight transitions of Santiago and Havana.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskshell.errors import CompilationError
from taskshell.grammar.ast import CronSpec, IntervalSpec, QuotedSchedule
from taskshell.scheduler.schedule import Cron, Interval, from_json, next_fire_after, resolve, to_json


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def quoted(text: str):
    return resolve(QuotedSchedule(text))


def fires(schedule, start: datetime, end: datetime) -> list[datetime]:
    """Every fire time in (start, end), each computed from the previous one."""
    out: list[datetime] = []
    t = start
    while True:
        t = next_fire_after(schedule, t)
        if t is None or t >= end:
            return out
        out.append(t)


# ---------------------------------------------------------------- reference wall-clock matcher
_FIELD_RANGES = {"sec": (0, 59), "min": (0, 59), "hour": (0, 23), "dom": (1, 31), "mon": (1, 12),
                 "dow": (0, 6), "year": (1970, 2100)}


def _field_values(text: str, name: str) -> frozenset[int] | None:
    """The values a field allows, or None for '*'/'?' (unrestricted)."""
    if text in ("*", "?"):
        return None
    low, high = _FIELD_RANGES[name]
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step = part.partition("/")
        if rng == "*":
            a, b = low, high
        elif "-" in rng:
            a, b = (int(x) for x in rng.split("-"))
        else:
            a = int(rng)
            b = high if step else a
        values.update(range(a, b + 1, int(step or 1)))
    if name == "dow" and 7 in values:
        values.add(0)
    return frozenset(values)


class WallMatcher:
    """Standard cron matching of a naive wall time: day-of-month OR day-of-week when both are set."""

    def __init__(self, expr: str, seconds_first: bool) -> None:
        fields = expr.split()
        names = ["min", "hour", "dom", "mon", "dow"]
        if seconds_first:
            names = ["sec", *names, "year"][: len(fields)]
        self.allowed = {n: _field_values(f, n) for n, f in zip(names, fields, strict=True)}
        if not seconds_first:
            self.allowed["sec"] = frozenset({0})

    def __call__(self, w: datetime) -> bool:
        a = self.allowed

        def ok(name: str, value: int) -> bool:
            allowed = a.get(name)
            return allowed is None or value in allowed

        if not (ok("sec", w.second) and ok("min", w.minute) and ok("hour", w.hour)
                and ok("mon", w.month) and ok("year", w.year)):
            return False
        dow = (w.weekday() + 1) % 7  # cron: 0 = Sunday
        if a["dom"] is not None and a["dow"] is not None:
            return w.day in a["dom"] or dow in a["dow"]
        return ok("dom", w.day) and ok("dow", dow)


def reference_fires(expr: str, tz: str, start: datetime, end: datetime, *, seconds_first: bool = False,
                    step: timedelta = timedelta(minutes=1)) -> list[datetime]:
    """Walk every instant in (start, end) and keep those whose local wall time matches."""
    match = WallMatcher(expr, seconds_first)
    zone = ZoneInfo(tz)
    out = []
    t = start + step
    while t < end:
        if match(t.astimezone(zone).replace(tzinfo=None)):
            out.append(t)
        t += step
    return out


def transitions_2026(tz: str) -> list[datetime]:
    """Hour-resolution instants in 2026 at which the zone's UTC offset changes."""
    zone = ZoneInfo(tz)
    out = []
    t = utc(2026, 1, 1)
    prev = t.astimezone(zone).utcoffset()
    while t.year == 2026:
        t += timedelta(hours=1)
        off = t.astimezone(zone).utcoffset()
        if off != prev:
            out.append(t)
        prev = off
    return out


DST_ZONES = ["America/Los_Angeles", "Europe/London", "Europe/Berlin", "Australia/Lord_Howe",
             "America/Santiago", "America/Havana", "Asia/Tehran"]

# Wall times near every kind of transition: the hours around 01:00-03:00 and midnight.
EXPRESSIONS = ["0 1 * * *", "30 1 * * *", "45 1 * * *", "0 2 * * *", "30 2 * * *", "15 3 * * *",
               "0 0 * * *", "30 0 * * *", "59 23 * * *", "*/15 * * * *", "0 */2 * * *",
               "0,30 0-3 * * 0", "0 12 1 * *",
               # steps that do not divide the repeated half hour: a wall time in it shows twice
               "*/20 1 * * *", "*/7 * * * *", "*/25 0-2 * * *", "10-50/20 * * * *"]


def transition_windows(tz: str) -> list[tuple[datetime, datetime]]:
    moments = transitions_2026(tz)
    if not moments:  # Tehran has kept one offset since 2022: check its former switch dates
        moments = [utc(2026, 3, 21, 20), utc(2026, 9, 21, 20)]
    return [(m - timedelta(hours=12), m + timedelta(hours=12)) for m in moments]


@pytest.mark.parametrize("tz", DST_ZONES)
def test_cron_matches_wall_clock_reference_on_dst_days(tz):
    windows = transition_windows(tz)
    assert tz == "Asia/Tehran" or len(windows) == 2
    for expr in EXPRESSIONS:
        schedule = quoted(f"USING CRON {expr} {tz}")
        for start, end in windows:
            expected = reference_fires(expr, tz, start, end)
            assert fires(schedule, start, end) == expected, (expr, tz, start)


SECONDS_CASES = [  # (expression, zone, an instant near the transition)
    ("*/20 30 1 * * *", "America/Los_Angeles", utc(2026, 11, 1, 9)),
    ("10 30 2 * * *", "America/Los_Angeles", utc(2026, 3, 8, 10)),
    ("0 */10 0 * * ?", "America/Havana", utc(2026, 11, 1, 5)),
    ("*/30 45 1 * * *", "Australia/Lord_Howe", utc(2026, 4, 4, 15)),
    ("0 15 2 ? * *", "Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),
    ("5 0 0 * * * 2026", "America/Santiago", utc(2026, 9, 6, 4)),
]


@pytest.mark.parametrize(("expr", "tz", "moment"), SECONDS_CASES)
def test_seconds_first_cron_matches_reference_second_by_second(expr, tz, moment):
    schedule = resolve(CronSpec(expr, tz))
    start, end = moment - timedelta(hours=2), moment + timedelta(hours=2)
    expected = reference_fires(expr, tz, start, end, seconds_first=True, step=timedelta(seconds=1))
    assert fires(schedule, start, end) == expected


@pytest.mark.skipif(not os.environ.get("TASKSHELL_SLOW_TESTS"), reason="set TASKSHELL_SLOW_TESTS=1")
@pytest.mark.parametrize("tz", DST_ZONES)
def test_cron_matches_reference_all_year(tz):
    for expr in EXPRESSIONS:
        start, end = utc(2025, 12, 31), utc(2027, 1, 2)
        assert fires(quoted(f"USING CRON {expr} {tz}"), start, end) == reference_fires(expr, tz, start, end)


# ---------------------------------------------------------------- named DST cases
def test_fall_back_runs_one_am_job_twice():
    schedule = quoted("USING CRON 0 1 * * * America/Los_Angeles")
    day = fires(schedule, utc(2026, 11, 1, 0), utc(2026, 11, 2, 0))
    assert day == [utc(2026, 11, 1, 8), utc(2026, 11, 1, 9)]


@pytest.mark.parametrize("expr", ["0 2 * * *", "30 2 * * *"])
def test_spring_forward_skips_the_missing_hour(expr):
    schedule = quoted(f"USING CRON {expr} America/Los_Angeles")
    la = ZoneInfo("America/Los_Angeles")
    first = next_fire_after(schedule, datetime(2026, 3, 8, 0, 0, tzinfo=la))
    local = first.astimezone(la)
    assert (local.month, local.day, local.hour) == (3, 9, 2)
    assert local.minute == int(expr.split()[0])


def test_lord_howe_half_hour_fall_back_repeats_wall_time():
    schedule = quoted("USING CRON 45 1 * * * Australia/Lord_Howe")
    day = fires(schedule, utc(2026, 4, 4, 0), utc(2026, 4, 5, 0))
    assert day == [utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)]


def test_lord_howe_fall_back_repeats_every_wall_time_of_the_repeated_half_hour():
    # 01:30-02:00 comes twice on 2026-04-05 (+11:00, then +10:30): 01:40 fires at each showing
    schedule = quoted("USING CRON */20 1 * * * Australia/Lord_Howe")
    day = fires(schedule, utc(2026, 4, 4, 13, 59), utc(2026, 4, 4, 16))
    assert day == [utc(2026, 4, 4, 14, 0), utc(2026, 4, 4, 14, 20), utc(2026, 4, 4, 14, 40),
                   utc(2026, 4, 4, 15, 10)]


@pytest.mark.parametrize(("weekday", "days"), [
    ("5L", [30, 27, 27]),  # Snowflake's spelling of the month's last Friday
    ("FRIL", [30, 27, 27]),
    ("L", [3, 10, 17]),  # a bare L: the week's last day, Saturday
])
def test_last_weekday_of_the_month_in_snowflake_spelling(weekday, days):
    schedule = quoted(f"USING CRON 0 9 * * {weekday} UTC")
    assert [t.day for t in fires(schedule, utc(2026, 1, 1), utc(2026, 4, 1))][:3] == days
    assert schedule.expr == f"0 9 * * {weekday}"  # shown as written


def test_havana_midnight_runs_twice_when_midnight_repeats():
    schedule = quoted("USING CRON 0 0 * * * America/Havana")
    assert fires(schedule, utc(2026, 10, 31, 12), utc(2026, 11, 2, 0)) == [utc(2026, 11, 1, 4),
                                                                          utc(2026, 11, 1, 5)]


def test_expression_that_only_matches_inside_the_gap_never_fires():
    # 02:30 on the second Sunday of March never exists in Los Angeles.
    schedule = quoted("USING CRON 30 2 * 3 0#2 America/Los_Angeles")
    assert next_fire_after(schedule, utc(2026, 1, 1)) is None


# ---------------------------------------------------------------- cron details
def test_an_expression_that_only_matches_inside_gaps_steps_over_each_gap_whole(monkeypatch):
    # every second of 02:00 on the second Sunday of March: all inside Los Angeles' gap, every year
    from taskshell.scheduler import schedule as schedules

    looked: list[datetime] = []
    original = schedules._Croniter.get_next

    def counted(self, *args, **kwargs):  # noqa: ANN001, ANN202
        looked.append(original(self, *args, **kwargs))
        return looked[-1]

    monkeypatch.setattr(schedules._Croniter, "get_next", counted)
    assert next_fire_after(resolve(CronSpec("* * 2 * 3 0#2", "America/Los_Angeles")), utc(2026, 1, 1)) is None
    assert len(looked) < 100  # one wall time per year's gap, not its 3,600 seconds


def test_cron_results_are_utc_and_strictly_after():
    schedule = quoted("USING CRON 0 9 * * * Europe/Berlin")
    first = next_fire_after(schedule, utc(2026, 6, 1, 7, 0))
    assert first == utc(2026, 6, 2, 7, 0) and first.tzinfo is UTC
    assert next_fire_after(schedule, utc(2026, 6, 1, 6, 59, 59, 999999)) == utc(2026, 6, 1, 7)


def test_cron_accepts_after_in_any_offset():
    schedule = quoted("USING CRON 0 9 * * * UTC")
    after = datetime(2026, 6, 1, 1, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # 08:00Z
    assert next_fire_after(schedule, after) == utc(2026, 6, 1, 9)


def test_databend_weekday_zero_is_sunday():
    schedule = resolve(CronSpec("0 0 9 * * 0", None))
    first = next_fire_after(schedule, utc(2026, 6, 1))  # a Monday
    assert first == utc(2026, 6, 7, 9) and first.weekday() == 6


def test_databend_seconds_field_fires_every_few_seconds():
    schedule = resolve(CronSpec("*/5 * * * * *", None))
    assert fires(schedule, utc(2026, 1, 1), utc(2026, 1, 1, 0, 0, 16)) == [
        utc(2026, 1, 1, 0, 0, s) for s in (5, 10, 15)]


def test_year_field_fires_once_then_never():
    schedule = resolve(CronSpec("0 0 0 1 1 ? 2100", None))
    assert next_fire_after(schedule, utc(2026, 1, 1)) == utc(2100, 1, 1)
    assert next_fire_after(schedule, utc(2100, 1, 1)) is None


def test_year_in_the_past_never_fires():
    assert next_fire_after(resolve(CronSpec("0 0 0 1 1 ? 2020", None)), utc(2026, 1, 1)) is None


def test_impossible_date_never_fires():
    assert next_fire_after(quoted("USING CRON 0 9 31 2 * UTC"), utc(2026, 1, 1)) is None


def test_naive_after_is_rejected():
    with pytest.raises(ValueError, match="aware"):
        next_fire_after(quoted("5 MINUTE"), datetime(2026, 1, 1))


# ---------------------------------------------------------------- intervals
def test_interval_counts_from_resume_time():
    every10 = quoted("10 MINUTE")
    resumed = utc(2026, 1, 1, 9, 3)
    assert next_fire_after(every10, resumed, base=resumed) == utc(2026, 1, 1, 9, 13)
    assert next_fire_after(every10, utc(2026, 1, 1, 9, 13), base=resumed) == utc(2026, 1, 1, 9, 23)
    assert next_fire_after(every10, utc(2026, 1, 1, 9, 20, 30), base=resumed) == utc(2026, 1, 1, 9, 23)


def test_interval_without_base_counts_from_after():
    assert next_fire_after(quoted("2 HOURS"), utc(2026, 1, 1, 9, 3)) == utc(2026, 1, 1, 11, 3)


def test_interval_before_base_fires_one_interval_after_base():
    base = utc(2026, 1, 1, 12)
    assert next_fire_after(quoted("5 MINUTE"), utc(2026, 1, 1, 9), base=base) == utc(2026, 1, 1, 12, 5)


def test_interval_chain_does_not_drift_over_a_day():
    schedule = resolve(IntervalSpec(500, "MILLISECOND"))
    base = utc(2026, 1, 1)
    t = base
    for _ in range(1000):
        t = next_fire_after(schedule, t, base=base)
    assert t == base + timedelta(seconds=500)
    assert next_fire_after(schedule, utc(2026, 1, 2), base=base) == utc(2026, 1, 2, 0, 0, 0, 500000)


def test_interval_ignores_daylight_saving():
    base = utc(2026, 11, 1, 8, 30)
    assert fires(quoted("30 MINUTE"), base, base + timedelta(hours=2)) == [
        base + timedelta(minutes=30 * k) for k in (1, 2, 3)]


# ---------------------------------------------------------------- resolving and errors
@pytest.mark.parametrize(("text", "ms"), [
    ("5 MINUTE", 300_000), ("1 minute", 60_000), ("11520 MINUTES", 691_200_000), ("2 HOURS", 7_200_000),
    ("1 HOUR", 3_600_000), ("10 SECONDS", 10_000), ("  15  second ", 15_000)])
def test_snowflake_interval_forms(text, ms):
    assert quoted(text).ms == ms


@pytest.mark.parametrize("text", ["0 MINUTE", "-5 MINUTE", "11521 MINUTE", "193 HOURS", "691201 SECONDS"])
def test_snowflake_interval_out_of_range(text):
    with pytest.raises(CompilationError, match="at most 11520 MINUTES"):
        quoted(text)


@pytest.mark.parametrize("text", ["every 5 minutes", "5", "MINUTE 5", "5 DAYS", ""])
def test_unreadable_snowflake_schedule(text):
    with pytest.raises(CompilationError, match="expected '<num> MINUTE'"):
        quoted(text)


def test_snowflake_cron_needs_a_time_zone():
    with pytest.raises(CompilationError, match="a time zone must follow"):
        quoted("USING CRON 0 9 * * *")


@pytest.mark.parametrize(("text", "message"), [
    ("USING CRON 61 9 * * * UTC", "invalid cron expression 61 9 * * *"),
    ("USING CRON 0 0 9 * * * UTC", "invalid cron expression 0 0 9 * * * UTC"),
    ("USING CRON H 9 * * * UTC", "invalid cron expression H 9 * * *"),
    ("USING CRON 0 9 * * * Mars/Olympus", "invalid time zone Mars/Olympus"),
])
def test_snowflake_cron_errors(text, message):
    with pytest.raises(CompilationError) as err:
        quoted(text)
    assert err.value.message == message


def test_time_zone_spelling_is_normalised():
    assert quoted("using cron 0 9 * * * america/los_angeles").timezone == "America/Los_Angeles"


def test_databend_intervals():
    assert resolve(IntervalSpec(5, "MINUTE")) == Interval(ms=300_000)
    assert resolve(IntervalSpec(30, "SECOND")) == Interval(ms=30_000)
    assert resolve(IntervalSpec(1, "HOUR")) == Interval(ms=3_600_000)
    assert resolve(IntervalSpec(500, "MILLISECOND")) == Interval(ms=500)


@pytest.mark.parametrize("amount", [499, 1000, 0])
def test_databend_milliseconds_must_be_sub_second(amount):
    with pytest.raises(CompilationError) as err:
        resolve(IntervalSpec(amount, "MILLISECOND"))
    assert err.value.message == f"invalid milliseconds_interval value {amount}, must be in [500, 1000)"


def test_databend_zero_interval_is_an_error():
    with pytest.raises(CompilationError, match="must be greater than 0"):
        resolve(IntervalSpec(0, "SECOND"))


@pytest.mark.parametrize("expr", ["0 9 * * *", "0 0 9 * * * 2026 1", "0 0 25 * * *", "x 0 9 * * *"])
def test_databend_cron_errors(expr):
    with pytest.raises(CompilationError) as err:
        resolve(CronSpec(expr, None))
    assert err.value.message == f"invalid cron expression {expr}"


def test_databend_bad_time_zone():
    with pytest.raises(CompilationError) as err:
        resolve(CronSpec("0 0 9 * * *", "Nowhere/City"))
    assert err.value.message == "invalid time zone Nowhere/City"


def test_databend_cron_zone_defaults_to_utc():
    assert resolve(CronSpec("0 0 9 * * *", None)) == Cron("0 0 9 * * *", "UTC", True, zone_given=False)


# ---------------------------------------------------------------- SHOW TASKS text and storage
@pytest.mark.parametrize(("spec", "snowflake", "databend"), [
    (QuotedSchedule("5 MINUTE"), "5 MINUTE", "INTERVAL 300 SECOND"),
    (QuotedSchedule("10 SECONDS"), "10 SECONDS", "INTERVAL 10 SECOND"),
    (QuotedSchedule("2 HOURS"), "2 HOURS", "INTERVAL 7200 SECOND"),
    (IntervalSpec(5, "MINUTE"), "5 MINUTE", "INTERVAL 300 SECOND"),
    (IntervalSpec(45, "SECOND"), "45 SECONDS", "INTERVAL 45 SECOND"),
    (IntervalSpec(500, "MILLISECOND"), "500 MILLISECONDS", "INTERVAL 0 SECOND 500 MILLISECOND"),
    (QuotedSchedule("USING CRON  0 9 * * *   America/Los_Angeles"),
     "USING CRON 0 9 * * * America/Los_Angeles", "CRON 0 9 * * * TIMEZONE America/Los_Angeles"),
    (CronSpec("0 0 9 * * *", None), "USING CRON 0 0 9 * * * UTC", "CRON 0 0 9 * * *"),
    (CronSpec("0 0 9 * * *", "Asia/Tokyo"), "USING CRON 0 0 9 * * * Asia/Tokyo",
     "CRON 0 0 9 * * * TIMEZONE Asia/Tokyo"),
])
def test_describe(spec, snowflake, databend):
    schedule = resolve(spec)
    assert schedule.describe("snowflake") == snowflake
    assert schedule.describe("databend") == databend


@pytest.mark.parametrize("spec", [QuotedSchedule("5 MINUTE"), IntervalSpec(500, "MILLISECOND"),
                                  CronSpec("0 0 0 1 1 ? 2100", None),
                                  QuotedSchedule("USING CRON 0 9 * * * Europe/London")])
def test_json_round_trip(spec):
    schedule = resolve(spec)
    assert from_json(to_json(schedule)) == schedule


def test_from_json_rejects_other_payloads():
    with pytest.raises(ValueError):
        from_json('{"kind": "weekly"}')
