"""Everything the gateway knows about one home: per-device sequence tracking and its detectors.

Small and bounded by the number of devices in the home; the worker owns one per home it serves and
never reaches inside.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.detectors import Detector, ImmediateAlarms
from gateway.protocol import Alert, Event


@dataclass(slots=True)
class SequenceStats:
    """What the per-device sequence numbers revealed: messages lost upstream or arriving late."""

    gaps: int = 0  # events missing between two consecutive seqs
    late: int = 0  # events older (by seq) than one already seen


class HomeState:
    """One home's streaming state; `on_event` returns the alerts the event caused."""

    __slots__ = ("_detectors", "_last_seq", "home", "last_event_ts", "seq_stats")

    def __init__(self, home: str, detectors: list[Detector] | None = None) -> None:
        self.home = home
        self.last_event_ts = 0.0
        self.seq_stats = SequenceStats()
        self._last_seq: dict[str, int] = {}
        self._detectors: list[Detector] = detectors if detectors is not None else [ImmediateAlarms()]

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        self._track_sequence(event.device, event.seq)
        self.last_event_ts = max(self.last_event_ts, event.ts)
        alerts: list[Alert] = []
        for detector in self._detectors:
            alerts.extend(detector.on_event(event, raised_at))
        return alerts

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        alerts: list[Alert] = []
        for detector in self._detectors:
            alerts.extend(detector.on_tick(now, raised_at))
        return alerts

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (det.next_deadline() for det in self._detectors) if d is not None]
        return min(deadlines) if deadlines else None

    def _track_sequence(self, device: str, seq: int) -> None:
        last = self._last_seq.get(device)
        if last is None or seq > last:
            if last is not None and seq > last + 1:
                self.seq_stats.gaps += seq - last - 1
            self._last_seq[device] = seq
        else:
            self.seq_stats.late += 1
