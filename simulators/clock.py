"""The simulation's clock: simulated time that runs in real time, faster, or as fast as events allow."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime


class SimClock:
    """Simulated time that starts at `start` and runs `speed` times faster than the wall clock.

    `speed=math.inf` makes a virtual clock: `sleep_until` jumps straight to its target, so a week of
    events takes as long as computing them. Time is epoch seconds (`time()`) or an aware datetime in the
    start's time zone (`now()`); both the monotonic source and the sleep are injectable for tests.

    Args:
        start: the simulated instant at which the clock starts; must be timezone-aware. Now when omitted.
        speed: simulated seconds per real second (1 = real time, 60 = an hour a minute).
    """

    def __init__(self, start: datetime | None = None, *, speed: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        start = start if start is not None else datetime.now(UTC)
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, e.g. 2025-01-15T03:00:00+08:00; got {start.isoformat()}")
        if not speed > 0:
            raise ValueError(f"speed must be positive (1 = real time, inf = as fast as possible), got {speed!r}")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._sleep = sleep
        self._t0 = start.timestamp()
        self._m0 = monotonic()
        self._virtual = self._t0

    def restart(self) -> None:
        """Start again from `start`, now (a run that begins a while after the clock was made)."""
        self._m0 = self._monotonic()
        self._virtual = self._t0

    @property
    def virtual(self) -> bool:
        """True when the clock jumps from event to event instead of following the wall clock."""
        return math.isinf(self.speed)

    def time(self) -> float:
        """Simulated epoch seconds."""
        if self.virtual:
            return self._virtual
        return self._t0 + (self._monotonic() - self._m0) * self.speed

    def now(self) -> datetime:
        """The simulated instant, aware, in the start's time zone."""
        return datetime.fromtimestamp(self.time(), self.start.tzinfo)

    async def sleep_until(self, t: float) -> None:
        """Wait until simulated epoch second `t` (at once if it has passed)."""
        if self.virtual:
            self._virtual = max(self._virtual, t)
            await self._sleep(0)
            return
        while (remaining := (t - self.time()) / self.speed) > 0:
            await self._sleep(remaining)

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time."""
        await self.sleep_until(self.time() + seconds)
