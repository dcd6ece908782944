"""VITALS alerts from the bed mats of home-care beds, judged by `models.vitals` per bed."""

from __future__ import annotations

from typing import Any

from gateway.detectors.base import alert_for_event
from gateway.protocol import Alert, AlertType, Event, EventKind
from models.vitals import VitalsMonitor


class BedVitals:
    """One `VitalsMonitor` per bed mat in the home, fed by BED and VITALS events."""

    __slots__ = ("_beds",)
    kinds = frozenset({EventKind.BED, EventKind.VITALS})

    def __init__(self) -> None:
        self._beds: dict[str, VitalsMonitor] = {}

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        monitor = self._beds.get(event.device)
        if monitor is None:
            monitor = self._beds[event.device] = VitalsMonitor()
        if event.kind is EventKind.BED:
            monitor.on_bed(event.ts, event.value is True)
            return []
        if event.kind is EventKind.VITALS and not monitor.in_bed and event.data:
            monitor.on_bed(event.ts, True)  # a mat that measures a pulse has someone on it
        readings = {k: float(v) for k, v in event.data.items()
                    if k in ("heart_rate", "breathing_rate") and isinstance(v, int | float)}
        return [
            alert_for_event(AlertType.VITALS, event, raised_at,
                            {"reason": alarm.reason, "metric": alarm.metric, "since": alarm.since, **alarm.evidence},
                            model_version=alarm.model_version)
            for alarm in monitor.on_reading(event.ts, readings)
        ]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {device: monitor.to_dict() for device, monitor in self._beds.items()}

    def restore(self, state: dict[str, Any]) -> None:
        self._beds = {}
        for device, saved in state.items():
            monitor = self._beds[device] = VitalsMonitor()
            monitor.load_dict(saved)
