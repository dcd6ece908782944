"""INACTIVITY, NOT_UP and BED_EXIT_NO_RETURN from a home's ambient events, by `models.inactivity`.

The monitor learns this home's routine online and is driven by event time: events feed it, and the
worker's timer calls `on_tick` at `next_deadline()`, because silence itself must raise the alarm.
"""

from __future__ import annotations

from typing import Any

from gateway.protocol import SEVERITY_OF, Alert, AlertType, Event, EventKind
from models.inactivity import InactivityAlarm, InactivityMonitor

_ALERT_TYPE = {"INACTIVITY": AlertType.INACTIVITY, "NOT_UP": AlertType.NOT_UP,
               "BED_EXIT_NO_RETURN": AlertType.BED_EXIT_NO_RETURN}


# ambient_kind's answer for the kinds that do not depend on the device's role (the door's does).
_AMBIENT_NAME = {EventKind.MOTION: EventKind.MOTION.value, EventKind.PRESENCE: EventKind.PRESENCE.value,
                 EventKind.BED: EventKind.BED.value}


def ambient_kind(event: Event) -> str:
    """The monitor's vocabulary for a canonical event (the front door marks outings)."""
    if event.kind is EventKind.DOOR:
        return "front_door" if event.role == "front_door" else "door"
    return event.kind.value  # motion, presence, bed


class Inactivity:
    """One `InactivityMonitor` per home, created at the first ambient event with the home's UTC offset."""

    __slots__ = ("_home", "_monitor", "utc_offset_s")
    kinds = frozenset({EventKind.MOTION, EventKind.DOOR, EventKind.PRESENCE, EventKind.BED})

    def __init__(self, home: str, utc_offset_s: float = 0.0) -> None:
        self._home = home
        self.utc_offset_s = utc_offset_s
        self._monitor: InactivityMonitor | None = None

    def set_utc_offset(self, utc_offset_s: float) -> None:
        """The hub reported its time zone; it applies from the home's first ambient event on."""
        if self._monitor is None:
            self.utc_offset_s = utc_offset_s

    def _ensure(self) -> InactivityMonitor:
        if self._monitor is None:
            self._monitor = InactivityMonitor(utc_offset_s=self.utc_offset_s)
        return self._monitor

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        # Three in four events of a city reach this; the usual answer is no alarm, made without extra calls.
        value = event.value
        if not isinstance(value, bool):
            return []
        monitor = self._monitor
        if monitor is None:
            monitor = self._ensure()
        kind = _AMBIENT_NAME.get(event.kind)
        alarms = monitor.on_event(event.ts, event.device, kind if kind is not None else ambient_kind(event),
                                  int(value))
        if not alarms:
            return []
        return [self._alert(alarm, raised_at) for alarm in alarms]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        if self._monitor is None:
            return []
        return [self._alert(alarm, raised_at) for alarm in self._monitor.on_tick(now)]

    def next_deadline(self) -> float | None:
        return None if self._monitor is None else self._monitor.next_deadline()

    def _alert(self, alarm: InactivityAlarm, raised_at: float) -> Alert:
        alert_type = _ALERT_TYPE[alarm.type]
        return Alert(id=f"{alert_type.value.lower()}-{self._home}-{alarm.since:.0f}", home=self._home,
                     type=alert_type, severity=SEVERITY_OF[alert_type], ts=alarm.ts, raised_at=raised_at,
                     device=alarm.evidence.get("last_sensor"), evidence={"since": alarm.since, **alarm.evidence},
                     model_version=alarm.model_version)

    def snapshot(self) -> dict[str, Any]:
        return {"utc_offset_s": self.utc_offset_s,
                "monitor": None if self._monitor is None else self._monitor.snapshot()}

    def restore(self, state: dict[str, Any]) -> None:
        self.utc_offset_s = float(state.get("utc_offset_s", self.utc_offset_s))
        saved = state.get("monitor")
        self._monitor = None if saved is None else InactivityMonitor.restore(saved)
