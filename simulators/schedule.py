"""Discrete-event scheduling in simulated time, and what a simulation emits: MQTT messages.

Homes put callbacks on a `Scheduler` at simulated instants; `drive` runs them in time order on a
`SimClock` and publishes what they emit. The same homes run without MQTT (a week in a second) by
running the scheduler alone and keeping the messages.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from simulators.clock import SimClock

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One MQTT message a simulated device (or Zigbee2MQTT's bridge) publishes at simulated time `t`."""

    t: float
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    home: str = ""
    device: str | None = None


class Publisher(Protocol):
    """What a simulation needs from an MQTT client (`aiomqtt.Client` fits)."""

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> Any: ...


Sink = Callable[[SimMessage], None]


class Scheduler:
    """A heap of callbacks `fn(t, *args)` keyed by simulated epoch seconds; ties run in insertion order."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        """Run `fn(t, *args)` at `t` (never before the current time)."""
        heapq.heappush(self._heap, (max(t, self.now), next(self._seq), fn, args))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_until(self, t_end: float) -> int:
        """Run every callback due at or before `t_end`, in time order; returns how many ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= t_end:
            t, _, fn, args = heapq.heappop(self._heap)
            self.now = t
            fn(t, *args)
            ran += 1
        self.now = max(self.now, t_end)
        return ran


async def drive(scheduler: Scheduler, clock: SimClock, publisher: Publisher, outbox: list[SimMessage], *,
                until: float | None = None, on_publish: Callable[[SimMessage], None] | None = None) -> int:
    """Run `scheduler` on `clock` until `until` (or forever), publishing what lands in `outbox`.

    Returns the number of messages published. The callbacks append to `outbox` (through the homes'
    sinks); each batch is published in order as soon as the clock reaches it.
    """
    sent = 0
    while True:
        t = scheduler.next_time()
        if t is None or (until is not None and t > until):
            break
        await clock.sleep_until(t)
        scheduler.run_until(t)
        batch, outbox[:] = outbox[:], []
        for message in batch:
            await publisher.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
            if on_publish is not None:
                on_publish(message)
        sent += len(batch)
    if until is not None:
        await clock.sleep_until(until)
    return sent
