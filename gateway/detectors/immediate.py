"""Alarms that need no model: a call-button press, smoke, gas, water, a device-reported fall.

They go out on the first event that asserts them. Zigbee2MQTT republishes a device's cached state, so a
sounding smoke detector says `smoke: true` in every message: an episode stays one alert until the
device clears it (value False) or stops asserting it for `rearm_s`. Repeated presses of a call button
within `rearm_s` join the alert already raised (the server merges later ones into the open alert).
"""

from __future__ import annotations

from typing import Any

from gateway.detectors.base import alert_for_event, event_evidence
from gateway.protocol import Alert, AlertType, Event, EventKind

DEFAULT_REARM_S = 60.0

_ALERT_FOR_KIND: dict[EventKind, AlertType] = {
    EventKind.SOS: AlertType.SOS,
    EventKind.SMOKE: AlertType.SMOKE,
    EventKind.GAS: AlertType.GAS,
    EventKind.WATER: AlertType.WATER,
    EventKind.FALL: AlertType.FALL,
}
IMMEDIATE_KINDS = frozenset(_ALERT_FOR_KIND)


class ImmediateAlarms:
    """Raises SOS, SMOKE, GAS, WATER and FALL alerts, one per episode per device."""

    __slots__ = ("_last_asserted", "rearm_s")
    kinds = IMMEDIATE_KINDS

    def __init__(self, rearm_s: float = DEFAULT_REARM_S) -> None:
        self.rearm_s = rearm_s
        self._last_asserted: dict[str, float] = {}  # "TYPE/device" -> event time it was last asserted

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        alert_type = _ALERT_FOR_KIND[event.kind]
        key = f"{alert_type.value}/{event.device}"
        # An SOS is asserted by the press itself; the others by value True (False clears the episode).
        if event.kind is not EventKind.SOS and event.value is not True:
            self._last_asserted.pop(key, None)
            return []
        last = self._last_asserted.get(key)
        self._last_asserted[key] = event.ts if last is None else max(last, event.ts)
        if last is not None and abs(event.ts - last) < self.rearm_s:
            return []  # the same episode (a late event of it too)
        return [alert_for_event(alert_type, event, raised_at, event_evidence(event))]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {"last_asserted": dict(self._last_asserted)}

    def restore(self, state: dict[str, Any]) -> None:
        self._last_asserted = {str(k): float(v) for k, v in state.get("last_asserted", {}).items()}
