"""The per-message job of a gateway worker: route, validate, de-duplicate, update state, raise alerts.

Kept free of MQTT so the same code runs under paho, in a replay, or in a benchmark. It never raises on
bad input: a refused message is counted by reason, logged once per reason, and the next one goes on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from gateway.dedup import RecentIds
from gateway.homestate import HomeState
from gateway.protocol import (
    DEFAULT_MAX_FUTURE_SKEW_S,
    SHARD_COUNT,
    Alert,
    Event,
    HomeStatus,
    Rejected,
    RejectReason,
    Stream,
    TopicParts,
    decode_event,
    decode_status,
    parse_topic,
    shard_of,
)

_LOGGER = logging.getLogger(__name__)

_MAX_CACHED_TOPICS = 1_000_000
AlertSink = Callable[[Sequence[Alert]], None]
EventTap = Callable[[Event], None]


class GatewayWorker:
    """Processes uplink messages of the shards it owns and hands alerts to `sink` (durably, in order)."""

    def __init__(
        self,
        *,
        sink: AlertSink,
        shards: Iterable[int] = range(SHARD_COUNT),
        wall_clock: Callable[[], float] = time.time,
        max_future_skew_s: float = DEFAULT_MAX_FUTURE_SKEW_S,
        dedup_capacity: int = 200_000,
        taps: Sequence[EventTap] = (),
    ) -> None:
        self._sink = sink
        # Observers of every accepted event (the telemetry sink, the demo's live view); keep them cheap.
        self._taps = tuple(taps)
        self._owned = frozenset(shards)
        self._wall_clock = wall_clock
        self._max_future_skew_s = max_future_skew_s
        self._recent = RecentIds(dedup_capacity)
        # Topics repeat per home; parsing and shard-checking each once saves a split and a CRC per message.
        self._topics: dict[str, TopicParts | Rejected] = {}
        self.homes: dict[str, HomeState] = {}
        self.dirty: set[str] = set()  # homes changed since their state was last saved
        self._deadlines: dict[str, float | None] = {}  # home -> cached next deadline
        self._changed: set[str] = set()  # homes whose deadline may have moved since the last tick
        self.statuses: dict[str, HomeStatus] = {}
        self.accepted = 0
        self.duplicates = 0
        self.alerts_raised = 0
        self.rejected: Counter[RejectReason] = Counter()

    def handle(self, topic: str, payload: bytes) -> None:
        """Process one message; alerts it causes are in the sink when this returns."""
        parts = self._topics.get(topic)
        if parts is None:
            parts = self._route(topic)
        if type(parts) is Rejected:
            self._reject(parts, topic, payload)
            return
        home = parts.home  # type: ignore[union-attr]
        now = self._wall_clock()
        if parts.stream is Stream.STATUS:  # type: ignore[union-attr]
            self._on_status(decode_status(payload, home), topic, payload)
            return
        event = decode_event(payload, home, now, max_future_skew_s=self._max_future_skew_s)
        if type(event) is Rejected:
            self._reject(event, topic, payload)
            return
        if self._recent.seen(event.id):  # type: ignore[union-attr]
            self.duplicates += 1
            return
        self.accepted += 1
        state = self.homes.get(home)
        if state is None:
            state = self.homes[home] = HomeState(home)
        self.dirty.add(home)
        self._changed.add(home)
        alerts = state.on_event(event, now)  # type: ignore[arg-type]
        if alerts:
            self._emit(alerts)
        for tap in self._taps:
            tap(event)  # type: ignore[arg-type]

    def tick(self, now: float) -> None:
        """Let time pass for every home whose deadline has come (silence can be an alarm).

        Deadlines are recomputed only for homes that changed since the last tick, so a tick over
        thousands of quiet homes is a scan of cached floats.
        """
        raised_at = self._wall_clock()
        deadlines = self._deadlines
        changed, self._changed = self._changed, set()
        for home in changed:
            state = self.homes.get(home)
            if state is not None:
                deadlines[home] = state.next_deadline()
        for home, deadline in list(deadlines.items()):
            if deadline is not None and deadline <= now:
                state = self.homes[home]
                self.dirty.add(home)
                alerts = state.on_tick(now, raised_at)
                deadlines[home] = state.next_deadline()
                if alerts:
                    self._emit(alerts)

    def stats(self) -> dict[str, object]:
        """Counters for logs, health checks and benchmarks."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "alerts": self.alerts_raised,
            "rejected": {reason.value: n for reason, n in self.rejected.items()},
            "homes": len(self.homes),
            "seq_gaps": sum(s.seq_stats.gaps for s in self.homes.values()),
            "seq_late": sum(s.seq_stats.late for s in self.homes.values()),
        }

    def _route(self, topic: str) -> TopicParts | Rejected:
        parts = parse_topic(topic)
        routed: TopicParts | Rejected
        if parts is None or parts.stream is Stream.CMD:
            routed = Rejected(RejectReason.BAD_TOPIC, f"not an uplink topic: {topic[:200]!r}")
        elif parts.shard != shard_of(parts.home):
            routed = Rejected(RejectReason.WRONG_SHARD,
                              f"home {parts.home!r} belongs to shard {shard_of(parts.home)}, not {parts.shard}")
        elif parts.shard not in self._owned:
            routed = Rejected(RejectReason.WRONG_SHARD, f"shard {parts.shard} is not owned by this worker")
        else:
            routed = parts
        if len(self._topics) >= _MAX_CACHED_TOPICS:
            self._topics.clear()
        self._topics[topic] = routed
        return routed

    def _on_status(self, status: HomeStatus | Rejected, topic: str, payload: bytes) -> None:
        if type(status) is Rejected:
            self._reject(status, topic, payload)
            return
        self.statuses[status.home] = status  # type: ignore[union-attr]
        alerts = self._home(status.home).on_status(status, self._wall_clock())  # type: ignore[union-attr,arg-type]
        if alerts:
            self._emit(alerts)

    def _home(self, home: str) -> HomeState:
        self.dirty.add(home)
        self._changed.add(home)
        state = self.homes.get(home)
        if state is None:
            state = self.homes[home] = HomeState(home)
        return state

    def _emit(self, alerts: Sequence[Alert]) -> None:
        self._sink(alerts)
        self.alerts_raised += len(alerts)

    def _reject(self, rejected: Rejected, topic: str, payload: bytes) -> None:
        count = self.rejected[rejected.reason] = self.rejected[rejected.reason] + 1
        if count == 1 or count % 10_000 == 0:
            _LOGGER.warning("rejected %s (%d so far) on %s: %s; payload %r", rejected.reason.value, count,
                            topic[:200], rejected.detail, payload[:200])
