"""Everything the gateway knows about one home: per-device sequence tracking and its detectors.

Small and bounded by the number of devices in the home; the worker owns one per home it serves and
never reaches inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.detectors import Detector, ImmediateAlarms
from gateway.protocol import Alert, Event, EventKind

_NO_ALERTS: tuple[Alert, ...] = ()


@dataclass(slots=True)
class SequenceStats:
    """What the per-device sequence numbers revealed: messages lost upstream or arriving late."""

    gaps: int = 0  # events still missing: skipped by a newer seq and not arrived since
    late: int = 0  # events that arrived after a newer one of the same device


class HomeState:
    """One home's streaming state; `on_event` returns the alerts the event caused."""

    __slots__ = ("_by_kind", "_detectors", "_last_seq", "home", "last_event_ts", "seq_stats")

    def __init__(self, home: str, detectors: list[Detector] | None = None) -> None:
        self.home = home
        self.last_event_ts = 0.0
        self.seq_stats = SequenceStats()
        self._last_seq: dict[str, int] = {}
        self._detectors: list[Detector] = detectors if detectors is not None else [ImmediateAlarms()]
        # Most events (motion, vitals) concern few detectors; index them once instead of asking each.
        self._by_kind: dict[EventKind, tuple[Detector, ...]] = {
            kind: tuple(d for d in self._detectors if kind in d.kinds) for kind in EventKind
        }

    def on_event(self, event: Event, raised_at: float) -> Sequence[Alert]:
        """Track the device's sequence, then run the detectors that read this kind of event."""
        device, seq = event.device, event.seq
        last = self._last_seq.get(device, -1)
        if seq > last:
            if last >= 0 and seq > last + 1:
                self.seq_stats.gaps += seq - last - 1
            self._last_seq[device] = seq
        else:
            # Alarms drain before telemetry after an outage, so an older seq can arrive late; it fills a
            # gap counted when the newer one came (redeliveries never get here: they are caught by id).
            self.seq_stats.late += 1
            if self.seq_stats.gaps > 0:
                self.seq_stats.gaps -= 1
        self.last_event_ts = max(self.last_event_ts, event.ts)
        detectors = self._by_kind[event.kind]
        if not detectors:
            return _NO_ALERTS
        if len(detectors) == 1:
            return detectors[0].on_event(event, raised_at)
        return [alert for detector in detectors for alert in detector.on_event(event, raised_at)]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return [alert for detector in self._detectors for alert in detector.on_tick(now, raised_at)]

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (det.next_deadline() for det in self._detectors) if d is not None]
        return min(deadlines) if deadlines else None
