"""Discovery: which devices Zigbee2MQTT knows, their models, and the HomeSafe type each one looks like.

Zigbee2MQTT publishes its device list retained on `zigbee2mqtt/bridge/devices`: a JSON list of
`{"friendly_name", "ieee_address", "type", "definition": {"model", "vendor", "description",
"exposes": [...]}, ...}` where each expose has a `name` and a `property`, and composite or specific
exposes (light, switch, climate...) nest theirs under `features`. The Coordinator and devices without
a definition (unsupported, still interviewing) are skipped. Pure: no MQTT.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

import msgspec

from edge.adapters.base import PayloadError
from edge.adapters.bed import BED_MAT_MODELS
from edge.adapters.buttons import BUTTON_MODELS
from edge.adapters.radar import RADAR_MODELS
from edge.adapters.wearable import WEARABLE_MODELS

MAX_EXPOSE_DEPTH = 8  # Zigbee2MQTT nests two levels (specific -> composite -> feature); more is garbage

# A model in one of these tables is of that type whatever it exposes (an OWON SPM915 bed pad exposes
# only `contact`; a FDS315 fall radar exposes `breathing_rate`).
_MODEL_TYPES: tuple[tuple[str, Set[str]], ...] = (
    ("wearable", WEARABLE_MODELS.keys()),
    ("radar", RADAR_MODELS.keys()),
    ("bed_mat", BED_MAT_MODELS.keys()),
    ("button", BUTTON_MODELS.keys()),
)
RADAR_FALL_PROPERTIES = frozenset(
    spec.fall_field for spec in RADAR_MODELS.values() if spec.fall_field and "fall" in spec.fall_field)
VITALS_PROPERTIES = frozenset({"heart_rate", "breathing_rate", "respiratory_rate"})
WEARABLE_PROPERTIES = frozenset({"accel", "accelerometer", "acceleration"})
# Checked in order: hazards before buttons, so a smoke detector with a test button stays a smoke detector.
_PROPERTY_TYPES: tuple[tuple[str, frozenset[str]], ...] = (
    ("smoke", frozenset({"smoke"})),
    ("gas", frozenset({"gas"})),
    ("water", frozenset({"water_leak"})),
    ("button", frozenset({"action", "sos"})),
    ("contact", frozenset({"contact"})),
    ("motion", frozenset({"occupancy"})),
)


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """One device Zigbee2MQTT has a definition for, and the HomeSafe device type it looks like (or None)."""

    model: str
    vendor: str | None
    device_type: str | None
    properties: frozenset[str]
    ieee_address: str | None = None
    description: str | None = None


def infer_device_type(model: str, properties: Set[str]) -> str | None:
    """The HomeSafe device type of a model with these exposed properties, None if it is none of ours."""
    for device_type, models in _MODEL_TYPES:
        if model in models:
            return device_type
    if properties & WEARABLE_PROPERTIES or {"action", "fall"} <= properties:
        return "wearable"
    if properties & RADAR_FALL_PROPERTIES or "presence" in properties:
        return "radar"
    if properties & VITALS_PROPERTIES:
        return "bed_mat"
    for device_type, wanted in _PROPERTY_TYPES:
        if properties & wanted:
            return device_type
    return None


def _collect(exposes: Any, where: str, depth: int, into: set[str]) -> None:
    if depth > MAX_EXPOSE_DEPTH:
        raise PayloadError(f"{where}: exposes nested deeper than {MAX_EXPOSE_DEPTH} levels")
    if not isinstance(exposes, list):
        raise PayloadError(f"{where} must be a list of exposes, got {type(exposes).__name__}")
    for j, expose in enumerate(exposes):
        here = f"{where}[{j}]"
        if not isinstance(expose, dict):
            raise PayloadError(f"{here} must be an expose object, got {type(expose).__name__}")
        prop = expose.get("property", expose.get("name"))
        if isinstance(prop, str) and prop:
            into.add(prop)
        if expose.get("features") is not None:
            _collect(expose["features"], f"{here}.features", depth + 1, into)


def _optional_str(entry: dict[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    raise PayloadError(f"{where}.{key} must be a string or null, got {type(value).__name__}")


def _device(entry: Any, where: str) -> tuple[str, DiscoveredDevice] | None:
    if not isinstance(entry, dict):
        raise PayloadError(f"{where} must be a device object, got {type(entry).__name__}")
    if entry.get("type") == "Coordinator":
        return None
    name = entry.get("friendly_name")
    if not isinstance(name, str) or not name:
        raise PayloadError(f"{where}.friendly_name must be a non-empty string, got {name!r:.60}")
    definition = entry.get("definition")
    if definition is None:
        return None  # unsupported or still interviewing
    if not isinstance(definition, dict):
        raise PayloadError(f"{where}.definition must be an object or null, got {type(definition).__name__}")
    model = definition.get("model")
    if not isinstance(model, str) or not model:
        raise PayloadError(f"{where}.definition.model must be a non-empty string, got {model!r:.60}")
    properties: set[str] = set()
    _collect(definition.get("exposes", []), f"{where}.definition.exposes", 1, properties)
    return name, DiscoveredDevice(
        model=model,
        vendor=_optional_str(definition, "vendor", f"{where}.definition"),
        device_type=infer_device_type(model, properties),
        properties=frozenset(properties),
        ieee_address=_optional_str(entry, "ieee_address", where),
        description=_optional_str(definition, "description", f"{where}.definition"),
    )


def parse_bridge_devices(payload: bytes | str | list[Any]) -> dict[str, DiscoveredDevice]:
    """`{friendly_name: DiscoveredDevice}` from a `bridge/devices` payload (JSON bytes/str or decoded list).

    Raises `PayloadError` naming the first malformed place (not JSON, not a list, a device without a
    friendly name, a definition without a model, exposes that are not lists of objects...).
    """
    if isinstance(payload, bytes | str):
        try:
            payload = msgspec.json.decode(payload)
        except (msgspec.DecodeError, RecursionError) as exc:  # msgspec raises RecursionError on deep nesting
            raise PayloadError(f"bridge/devices is not JSON: {exc}") from None
    if not isinstance(payload, list):
        raise PayloadError(f"bridge/devices must be a JSON list of devices, got {type(payload).__name__}")
    found: dict[str, DiscoveredDevice] = {}
    for i, entry in enumerate(payload):
        device = _device(entry, f"devices[{i}]")
        if device is None:
            continue
        name, discovered = device
        if name in found:
            raise PayloadError(f"devices[{i}].friendly_name {name!r} appears twice; friendly names are unique")
        found[name] = discovered
    return found


__all__ = ["DiscoveredDevice", "PayloadError", "infer_device_type", "parse_bridge_devices"]
