"""FALL alerts from wearables' raw acceleration, judged by the shipped `models.falls` detector.

Wearables send bursts of samples around suspected impacts. Each wearable gets its own stream; a burst
that does not continue the previous one (a gap of more than `MAX_GAP_S`) starts a fresh stream, so
interpolation never bridges two unrelated bursts. A stream's few seconds of buffer are not carried
across a gateway restart: a burst cut by a restart is re-sent by the edge spool, whose events are
acknowledged only after processing.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import numpy as np

from gateway.detectors.base import alert_for_event
from gateway.protocol import Alert, AlertType, Event, EventKind
from models.falls import FallDetector

_LOGGER = logging.getLogger(__name__)

MAX_GAP_S = 1.0


@cache
def shipped_fall_detector() -> FallDetector:
    """The default model, loaded once per process."""
    return FallDetector.from_artifact()


class WearableFalls:
    """One fall stream per wearable, fed by ACCEL bursts (`data`: fs, t0, x, y, z in g)."""

    __slots__ = ("_detector", "_streams")
    kinds = frozenset({EventKind.ACCEL})

    def __init__(self, detector: FallDetector | None = None) -> None:
        self._detector = detector or shipped_fall_detector()
        self._streams: dict[str, tuple[Any, float]] = {}  # device -> (stream, time of its last sample)

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        data = event.data
        try:
            fs, t0 = float(data["fs"]), float(data["t0"])
            xyz = np.column_stack([np.asarray(data[axis], dtype=np.float64) for axis in ("x", "y", "z")])
        except (KeyError, TypeError, ValueError) as exc:
            _LOGGER.warning("home %s: unusable acceleration burst from %s: %s", event.home, event.device, exc)
            return []
        if len(xyz) == 0:
            return []
        t = t0 + np.arange(len(xyz)) / fs
        stream, last_t = self._streams.get(event.device, (None, -np.inf))
        if stream is None or t[0] - last_t > MAX_GAP_S or t[0] <= last_t or stream.fs != fs:
            stream = self._detector.stream(fs=fs)
        try:
            alarms = stream.push(t, xyz)
        except ValueError as exc:
            _LOGGER.warning("home %s: acceleration burst from %s refused: %s", event.home, event.device, exc)
            return []
        self._streams[event.device] = (stream, float(t[-1]))
        return [
            alert_for_event(AlertType.FALL, event, raised_at,
                            {"source": "wearable", "score": round(alarm.score, 3), "stage": alarm.stage,
                             "impact_t": alarm.t_impact, "decided_t": alarm.t, **({"room": event.room}
                                                                               if event.room else {})},
                            model_version=self._detector_version())
            for alarm in alarms
        ]

    def _detector_version(self) -> str:
        return str(getattr(self._detector, "card_", {}).get("version", "falls-unversioned"))

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def snapshot(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        self._streams = {}
