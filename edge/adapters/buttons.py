"""Call buttons and SOS pendants: which actions of which model mean "help".

Models differ: some send `action: "emergency"` or `sos: true`, plain buttons send
single/double/hold. A long press is never ignored, whatever the configured pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.adapters.base import PayloadError, Reading, health_data
from gateway.protocol import EventKind

LONG_PRESS_ACTIONS = frozenset({"hold", "long", "long_press", "press_long"})


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """How one button model asks for help."""

    sos_actions: frozenset[str]


DEFAULT_SPEC = ButtonSpec(sos_actions=frozenset({"single", "double", "emergency", "sos"}) | LONG_PRESS_ACTIONS)
BUTTON_MODELS: dict[str, ButtonSpec] = {
    "HS1EB": ButtonSpec(sos_actions=frozenset({"single", "double", "hold"})),  # Heiman emergency button
    "HS1EB-E": ButtonSpec(sos_actions=frozenset({"single", "double", "hold"})),
    "TS0215A_sos": ButtonSpec(sos_actions=frozenset({"emergency"})),  # Tuya SOS button
    "SR-ZG9001K2-DIM": ButtonSpec(sos_actions=frozenset({"emergency", "sos"})),
}


def button_readings(payload: dict[str, Any], model: str | None) -> list[Reading]:
    """An SOS reading when the payload is a help request; health is carried along as data."""
    spec = BUTTON_MODELS.get(model or "", DEFAULT_SPEC)
    action = payload.get("action")
    if action is not None and not isinstance(action, str):
        raise PayloadError(f"field 'action' must be a string, got {action!r}")
    sos_flag = payload.get("sos")
    if sos_flag is not None and not isinstance(sos_flag, bool):
        raise PayloadError(f"field 'sos' must be true or false, got {sos_flag!r}")
    health = health_data(payload)
    if sos_flag or (action and (action in spec.sos_actions or action in LONG_PRESS_ACTIONS)):
        return [Reading(EventKind.SOS, True, {"action": action or "sos", **health})]
    if health:
        return [Reading(EventKind.DEVICE_HEALTH, None, health)]
    return []
