"""Clocks, instants, SYSTEM$WAIT units and how catalog times print."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from taskshell.errors import CompilationError
from taskshell.scheduler.clock import (
    RealClock,
    VirtualClock,
    format_timestamp,
    format_timestamp_us,
    parse_instant,
    wait_amount_to_seconds,
    wait_message,
    zone,
)

START = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)


# ---------------------------------------------------------------- virtual clock
def test_virtual_clock_stands_still_until_advanced():
    clock = VirtualClock(START)
    assert clock.virtual is True
    assert clock.now() == START and clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.now() == START + timedelta(seconds=90)


def test_virtual_clock_reports_utc_whatever_the_start_offset():
    clock = VirtualClock(datetime(2026, 11, 1, 0, 0, tzinfo=ZoneInfo("America/Los_Angeles")))
    assert clock.now() == START and clock.now().tzinfo is UTC


def test_virtual_sleep_moves_time_instead_of_waiting():
    clock = VirtualClock(START)
    clock.sleep(3600 * 24)  # a day, instantly
    assert clock.now() == START + timedelta(days=1)


def test_virtual_clock_keeps_sub_second_steps():
    clock = VirtualClock(START)
    for _ in range(4):
        clock.advance(0.25)
    assert clock.now() == START + timedelta(seconds=1)


def test_set_moves_forward_but_never_back():
    clock = VirtualClock(START)
    later = START + timedelta(hours=2)
    clock.set(later)
    assert clock.now() == later
    with pytest.raises(ValueError, match="backwards"):
        clock.set(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert clock.now() == later


def test_naive_start_is_rejected():
    with pytest.raises(ValueError, match="offset"):
        VirtualClock(datetime(2026, 1, 1))


def test_listeners_hear_every_move_with_old_and_new_time():
    clock = VirtualClock(START)
    heard: list[tuple[datetime, datetime]] = []
    clock.add_listener(lambda old, new: heard.append((old, new)))
    clock.advance(10)
    clock.set(START + timedelta(seconds=60))
    clock.set(START + timedelta(seconds=60))  # no move, nothing to hear
    assert heard == [(START, START + timedelta(seconds=10)),
                     (START + timedelta(seconds=10), START + timedelta(seconds=60))]


def test_listener_may_read_and_advance_the_clock():
    clock = VirtualClock(START)
    seen: list[datetime] = []

    def on_move(old: datetime, new: datetime) -> None:
        seen.append(clock.now())
        if len(seen) == 1:
            clock.advance(5)  # e.g. a task body that itself waits

    clock.add_listener(on_move)
    clock.advance(1)
    assert clock.now() == START + timedelta(seconds=6)
    assert seen == [START + timedelta(seconds=1), START + timedelta(seconds=6)]


def test_concurrent_advances_are_not_lost():
    clock = VirtualClock(START)

    def worker() -> None:
        for _ in range(500):
            clock.advance(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=2000)


def test_real_clock_is_aware_utc_and_moves():
    clock = RealClock()
    assert clock.virtual is False
    first = clock.now()
    clock.sleep(0)
    assert first.tzinfo is UTC and clock.now() >= first


# ---------------------------------------------------------------- instants
@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-01T00:00:00-07:00", START),
    ("2026-11-01T07:00:00Z", START),
    ("2026-11-01 07:00:00+00:00", START),
    (" 2026-11-01T08:00:00.250+01:00 ", START + timedelta(milliseconds=250)),
])
def test_parse_instant(text, expected):
    value = parse_instant(text)
    assert value == expected and value.tzinfo is UTC


def test_parse_instant_needs_an_offset():
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_instant("2026-11-01T00:00:00")


def test_parse_instant_rejects_non_dates():
    with pytest.raises(ValueError, match="not an ISO-8601 instant"):
        parse_instant("next tuesday")


# ---------------------------------------------------------------- SYSTEM$WAIT
@pytest.mark.parametrize(("amount", "unit", "seconds"), [
    (10, None, 10), (2, "MINUTES", 120), (1, "minute", 60), (1, "Days", 86400), (3, "HOUR", 10800),
    (1500, "MILLISECONDS", 1.5), (250_000, "microseconds", 0.25), (2_000_000_000, "NANOSECONDS", 2),
    (0.5, "SECONDS", 0.5), (1, "second", 1)])
def test_wait_units(amount, unit, seconds):
    assert wait_amount_to_seconds(amount, unit) == pytest.approx(seconds)


def test_wait_unknown_unit_is_a_compilation_error():
    with pytest.raises(CompilationError, match="Invalid time unit 'FORTNIGHTS'"):
        wait_amount_to_seconds(1, "FORTNIGHTS")


def test_wait_negative_amount_is_an_error():
    with pytest.raises(CompilationError, match="negative"):
        wait_amount_to_seconds(-1, None)


@pytest.mark.parametrize(("amount", "unit", "text"), [
    (10, None, "waited 10 seconds"), (2, "MINUTES", "waited 2 minutes"), (2, "minute", "waited 2 minutes"),
    (10.0, "SECONDS", "waited 10 seconds"), (1.5, "hours", "waited 1.5 hours")])
def test_wait_message(amount, unit, text):
    assert wait_message(amount, unit) == text


# ---------------------------------------------------------------- printing catalog times
def test_both_one_am_instants_print_with_their_own_offset():
    assert format_timestamp(datetime(2026, 11, 1, 8, tzinfo=UTC), "America/Los_Angeles") == \
        "2026-11-01 01:00:00.000 -0700"
    assert format_timestamp(datetime(2026, 11, 1, 9, tzinfo=UTC), "America/Los_Angeles") == \
        "2026-11-01 01:00:00.000 -0800"


def test_half_hour_offsets_and_milliseconds():
    instant = datetime(2026, 4, 4, 15, 15, 0, 123_999, tzinfo=UTC)
    assert format_timestamp(instant, "Australia/Lord_Howe") == "2026-04-05 01:45:00.123 +1030"
    assert format_timestamp(instant, "UTC") == "2026-04-04 15:15:00.123 +0000"


def test_format_epoch_microseconds():
    us = int(datetime(2026, 11, 1, 8, tzinfo=UTC).timestamp()) * 1_000_000 + 5_678
    assert format_timestamp_us(us, "America/Los_Angeles") == "2026-11-01 01:00:00.005 -0700"
    assert format_timestamp_us(None, "UTC") is None
    assert format_timestamp_us(-1, "UTC") == "1969-12-31 23:59:59.999 +0000"


def test_format_rejects_unknown_zone():
    with pytest.raises(CompilationError, match="invalid time zone Nowhere/City"):
        format_timestamp(START, "Nowhere/City")


def test_zone_lookup_is_case_insensitive_and_cached():
    assert zone("europe/berlin") is zone("Europe/Berlin")
    assert zone("utc").key == "UTC"
    for bad in ("", "../etc/passwd", "America"):
        with pytest.raises(CompilationError):
            zone(bad)
