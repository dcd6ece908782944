"""The simulated clock: real time, faster, or virtual; injectable so tests never sleep for real."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from simulators.clock import SimClock

START = datetime(2025, 1, 15, 3, 0, tzinfo=timezone(timedelta(hours=8)))


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_speed_scales_real_time() -> None:
    """Guards against a speed applied the wrong way round (an hour of scenario taking 60 hours)."""
    fake = FakeTime()
    clock = SimClock(START, speed=60, monotonic=fake.monotonic, sleep=fake.sleep)
    assert clock.now() == START
    fake.now += 2.0
    assert clock.now() == START + timedelta(minutes=2)
    asyncio.run(clock.sleep(600))  # ten simulated minutes ...
    assert sum(fake.slept) == pytest.approx(10.0)  # ... are ten real seconds at 60x
    assert clock.now().utcoffset() == timedelta(hours=8)


def test_virtual_clock_jumps_without_sleeping() -> None:
    """Guards against a max-speed run that still waits (a week-long test taking a week)."""
    fake = FakeTime()
    clock = SimClock(START, speed=math.inf, monotonic=fake.monotonic, sleep=fake.sleep)
    asyncio.run(clock.sleep_until(START.timestamp() + 7 * 86400))
    assert clock.now() == START + timedelta(days=7)
    assert sum(fake.slept) == 0
    clock.restart()
    assert clock.now() == START


def test_clock_refuses_naive_times_and_bad_speeds() -> None:
    """Guards against naive datetimes (STYLE #6): local hours would silently be the machine's."""
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2025, 1, 15, 3, 0))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="speed must be positive"):
        SimClock(START, speed=0)
    assert SimClock().now().tzinfo == UTC
