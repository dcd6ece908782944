"""Wearables with an accelerometer: raw bursts for the fall model, the SOS key, the on-device fall flag.

Wearables are not standard Zigbee2MQTT devices, so HomeSafe defines their payload (one JSON object
on `zigbee2mqtt/<name>`, like any Zigbee2MQTT device; any combination of these keys in one message):

- raw burst around a suspected impact, in g:
  `{"accel": {"fs": 50, "t0": 1767225600.0, "x": [...], "y": [...], "z": [...]}}`
  (`fs` sample rate in Hz, 5..1000; `t0` epoch seconds of the first sample; equal-length axes,
  at most 30 s of samples, finite values within +-100 g) -> ACCEL with that data;
- SOS key: `{"action": "sos"}` -> SOS;
- on-device fall flag: `{"fall": true}` -> FALL;
- periodic summary: `{"battery": 80, "steps": 1200}` -> DEVICE_HEALTH (battery); steps are not
  forwarded.

A vendor with other names is a `WearableSpec` row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edge.adapters.base import PayloadError, Reading, as_number, expect_bool, with_health
from gateway.protocol import EventKind

MIN_FS_HZ = 5.0
MAX_FS_HZ = 1000.0
MAX_BURST_S = 30.0
MAX_ABS_G = 100.0  # beyond this it is not a body moving but raw counts or m/s^2 mistaken for g


@dataclass(frozen=True, slots=True)
class WearableSpec:
    """Where one wearable model puts its burst, its SOS key and its fall flag."""

    accel_field: str = "accel"
    sos_actions: frozenset[str] = frozenset({"sos"})
    fall_field: str = "fall"


DEFAULT_WEARABLE_MODEL = "homesafe_wearable_v1"
DEFAULT_SPEC = WearableSpec()
WEARABLE_MODELS: dict[str, WearableSpec] = {DEFAULT_WEARABLE_MODEL: DEFAULT_SPEC}


def _axis(burst: dict[str, Any], name: str) -> list[float]:
    values = burst.get(name)
    if not isinstance(values, list):
        raise PayloadError(f"accel.{name} must be a list of numbers in g, got {values!r:.60}")
    out = []
    for i, value in enumerate(values):
        number = as_number(value)
        if number is None or abs(number) > MAX_ABS_G:
            raise PayloadError(f"accel.{name}[{i}] must be a finite number within +-{MAX_ABS_G:g} g, "
                               f"got {value!r:.60}")
        out.append(number)
    return out


def accel_data(burst: Any) -> dict[str, Any]:
    """Validate a raw burst object into ACCEL data `{"fs", "t0", "x", "y", "z"}`; raises `PayloadError`."""
    if not isinstance(burst, dict):
        raise PayloadError(f"accel must be an object with fs, t0, x, y, z, got {burst!r:.60}")
    fs = as_number(burst.get("fs"))
    if fs is None or not MIN_FS_HZ <= fs <= MAX_FS_HZ:
        raise PayloadError(f"accel.fs must be a sample rate in {MIN_FS_HZ:g}..{MAX_FS_HZ:g} Hz, "
                           f"got {burst.get('fs')!r:.60}")
    t0 = as_number(burst.get("t0"))
    if t0 is None or t0 <= 0:
        raise PayloadError(f"accel.t0 must be the first sample's epoch seconds, got {burst.get('t0')!r:.60}")
    lengths = {}
    for name in ("x", "y", "z"):
        values = burst.get(name)
        if not isinstance(values, list):
            raise PayloadError(f"accel.{name} must be a list of numbers in g, got {values!r:.60}")
        lengths[name] = len(values)
    if len(set(lengths.values())) != 1:
        raise PayloadError(f"accel axes must have equal lengths, got {lengths}")
    n = lengths["x"]
    if n == 0:
        raise PayloadError("accel burst has no samples")
    max_samples = math.floor(MAX_BURST_S * fs)
    if n > max_samples:
        raise PayloadError(f"accel burst must be at most {MAX_BURST_S:g} s ({max_samples} samples at {fs:g} Hz), "
                           f"got {n} samples")
    return {"fs": fs, "t0": t0, "x": _axis(burst, "x"), "y": _axis(burst, "y"), "z": _axis(burst, "z")}


def wearable_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """SOS and FALL first (alarms), then ACCEL for a raw burst, then the device's health."""
    spec = WEARABLE_MODELS.get(model or "", DEFAULT_SPEC)
    readings: list[Reading] = []
    action = payload.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError(f"field 'action' must be a string, got {action!r:.60}")
    if action in spec.sos_actions:
        readings.append(Reading(EventKind.SOS, True, {"action": action}))
    if expect_bool(payload, spec.fall_field):
        readings.append(Reading(EventKind.FALL, True, {"source": "wearable"}))
    burst = payload.get(spec.accel_field)
    if burst is not None:
        readings.append(Reading(EventKind.ACCEL, None, accel_data(burst)))
    return with_health(readings, payload)
