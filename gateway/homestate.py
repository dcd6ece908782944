"""Everything the gateway knows about one home: sequence tracking, its hub's link, and its detectors.

Small and bounded by the number of devices in the home; the worker owns one per home it serves and
never reaches inside. `snapshot()`/`restore()` carry it across a gateway restart as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.detectors import BedVitals, Detector, DeviceHealth, ImmediateAlarms, Inactivity, WearableFalls
from gateway.protocol import SEVERITY_OF, Alert, AlertType, Event, EventKind, HomeStatus

SNAPSHOT_VERSION = 1
# A pendant and a wristband pressed together, a radar and a wearable seeing the same fall, two smoke
# detectors in one fire: one emergency, one alert, when they come within this window.
MERGE_WINDOW_S = 60.0
MERGED_TYPES = frozenset({AlertType.SOS, AlertType.FALL, AlertType.SMOKE, AlertType.GAS, AlertType.WATER})
HEARTBEATS_MISSED_BEFORE_OFFLINE = 3
# A broker restart disconnects every hub at once and their last wills all fire: only a hub still
# offline after this grace is an alert, or one central hiccup would page every responder in the city.
OFFLINE_GRACE_S = 300.0
_NO_ALERTS: tuple[Alert, ...] = ()


@dataclass(slots=True)
class SequenceStats:
    """What the per-device sequence numbers revealed: messages lost upstream or arriving late."""

    gaps: int = 0  # events still missing: skipped by a newer seq and not arrived since
    late: int = 0  # events that arrived after a newer one of the same device


def default_detectors(home: str) -> list[Detector]:
    """The detectors every home gets."""
    return [ImmediateAlarms(), DeviceHealth(), BedVitals(), WearableFalls(), Inactivity(home)]


class HomeState:
    """One home's streaming state; `on_event`, `on_status` and `on_tick` return the alerts they cause."""

    __slots__ = ("_by_kind", "_detectors", "_last_alert_ts", "_last_seq", "_link_deadline", "_link_reason",
                 "_offline_alerted", "home", "last_event_ts", "seq_stats")

    def __init__(self, home: str, detectors: list[Detector] | None = None) -> None:
        self.home = home
        self.last_event_ts = 0.0
        self.seq_stats = SequenceStats()
        self._last_seq: dict[str, int] = {}
        self._link_deadline: float | None = None  # when the hub's silence or last will becomes an alert
        self._link_reason = ""
        self._offline_alerted = False
        self._last_alert_ts: dict[str, float] = {}  # alert type -> event time of the last one raised
        self._detectors: list[Detector] = detectors if detectors is not None else default_detectors(home)
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
        alerts = [alert for detector in detectors for alert in detector.on_event(event, raised_at)]
        return self._merge(alerts) if alerts else _NO_ALERTS

    def _merge(self, alerts: list[Alert]) -> list[Alert]:
        kept = []
        for alert in alerts:
            if alert.type in MERGED_TYPES:
                last = self._last_alert_ts.get(alert.type)
                self._last_alert_ts[alert.type] = alert.ts if last is None else max(last, alert.ts)
                if last is not None and abs(alert.ts - last) < MERGE_WINDOW_S:
                    continue
            kept.append(alert)
        return kept

    def on_status(self, status: HomeStatus, received_at: float) -> list[Alert]:
        """A hub's heartbeat or last will: nobody is watching a home whose hub stays offline."""
        if status.utc_offset_s is not None:
            for detector in self._detectors:
                if isinstance(detector, Inactivity):
                    detector.set_utc_offset(status.utc_offset_s)
        if status.online:
            self._offline_alerted = False
            if status.heartbeat_s:
                self._link_deadline = received_at + HEARTBEATS_MISSED_BEFORE_OFFLINE * status.heartbeat_s
                self._link_reason = "no heartbeat from the hub"
            else:
                self._link_deadline = None
        else:
            self._link_deadline = received_at + OFFLINE_GRACE_S
            self._link_reason = f"the hub lost its connection (last will) and stayed offline {OFFLINE_GRACE_S:.0f} s"
        return []

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        alerts = [alert for detector in self._detectors for alert in detector.on_tick(now, raised_at)]
        if self._link_deadline is not None and now >= self._link_deadline:
            self._link_deadline = None
            alerts += self._offline(now, raised_at, self._link_reason)
        return alerts

    def next_deadline(self) -> float | None:
        deadlines = [d for d in (det.next_deadline() for det in self._detectors) if d is not None]
        if self._link_deadline is not None:
            deadlines.append(self._link_deadline)
        return min(deadlines) if deadlines else None

    def _offline(self, ts: float, raised_at: float, why: str) -> list[Alert]:
        if self._offline_alerted:
            return []
        self._offline_alerted = True
        return [Alert(id=f"home_offline-{self.home}-{ts:.0f}", home=self.home, type=AlertType.HOME_OFFLINE,
                      severity=SEVERITY_OF[AlertType.HOME_OFFLINE], ts=ts, raised_at=raised_at,
                      evidence={"reason": why, "last_event_ts": self.last_event_ts})]

    def snapshot(self) -> bytes:
        """The state as JSON, versioned, to survive a gateway restart."""
        return msgspec.json.encode({
            "version": SNAPSHOT_VERSION, "home": self.home, "last_event_ts": self.last_event_ts,
            "last_seq": self._last_seq, "link_deadline": self._link_deadline,
            "link_reason": self._link_reason, "offline_alerted": self._offline_alerted,
            "last_alert_ts": self._last_alert_ts,
            "detectors": [d.snapshot() for d in self._detectors],
        })

    @classmethod
    def restore(cls, blob: bytes, detectors: list[Detector] | None = None) -> HomeState:
        """Rebuild a home from `snapshot()`; refuses a snapshot of another version."""
        state: dict[str, Any] = msgspec.json.decode(blob)
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"home snapshot version {state.get('version')!r}, expected {SNAPSHOT_VERSION}")
        home = cls(state["home"], detectors)
        home.last_event_ts = float(state["last_event_ts"])
        home._last_seq = {str(k): int(v) for k, v in state["last_seq"].items()}
        home._link_deadline = state["link_deadline"]
        home._link_reason = str(state.get("link_reason", ""))
        home._offline_alerted = bool(state["offline_alerted"])
        home._last_alert_ts = {str(k): float(v) for k, v in state.get("last_alert_ts", {}).items()}
        saved = state["detectors"]
        if len(saved) != len(home._detectors):
            raise ValueError(f"snapshot has {len(saved)} detectors, this gateway runs {len(home._detectors)}")
        for detector, detector_state in zip(home._detectors, saved, strict=True):
            detector.restore(detector_state)
        return home
