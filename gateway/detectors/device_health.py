"""Device health for the maintenance queue: silent or offline devices, low batteries, tampering.

These alerts have maintenance severity: the server routes them to technicians, never to an elder's
family. Each is raised once per episode and re-armed when the device is healthy again.
"""

from __future__ import annotations

from typing import Any

from gateway.detectors.base import alert_for_event
from gateway.protocol import Alert, AlertType, Event, EventKind

LOW_BATTERY_PERCENT = 15.0
BATTERY_REARM_PERCENT = 30.0  # hysteresis: a reading hovering at the threshold is one episode


class DeviceHealth:
    """DEVICE_SILENT on availability lost, BATTERY_LOW on a low battery, TAMPER on a tamper switch."""

    __slots__ = ("_active",)
    kinds = frozenset({EventKind.AVAILABILITY, EventKind.DEVICE_HEALTH})

    def __init__(self) -> None:
        self._active: set[str] = set()  # "TYPE/device" episodes already alerted

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        if event.kind is EventKind.AVAILABILITY:
            return self._episode(AlertType.DEVICE_SILENT, event, raised_at, active=event.value is False,
                                 healthy=event.value is True)
        data = event.data
        battery = data.get("battery") if isinstance(data.get("battery"), int | float) else None
        flag = data.get("battery_low") if isinstance(data.get("battery_low"), bool) else None
        low = flag is True or (battery is not None and battery <= LOW_BATTERY_PERCENT)
        ok = (battery is not None or flag is not None) and not low and (
            battery is None or battery >= BATTERY_REARM_PERCENT)
        alerts = self._episode(AlertType.BATTERY_LOW, event, raised_at, active=low, healthy=ok)
        alerts += self._episode(AlertType.TAMPER, event, raised_at, active=data.get("tamper") is True,
                                healthy=data.get("tamper") is False)
        return alerts

    def _episode(self, alert_type: AlertType, event: Event, raised_at: float, *, active: bool,
                 healthy: bool) -> list[Alert]:
        key = f"{alert_type.value}/{event.device}"
        if healthy:
            self._active.discard(key)
        if not active or key in self._active:
            return []
        self._active.add(key)
        evidence: dict[str, Any] = {"kind": event.kind.value, "value": event.value, **event.data}
        if event.room:
            evidence["room"] = event.room
        return [alert_for_event(alert_type, event, raised_at, evidence)]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {"active": sorted(self._active)}

    def restore(self, state: dict[str, Any]) -> None:
        self._active = {str(k) for k in state.get("active", [])}
