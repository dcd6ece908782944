"""Faults on demand, between the simulated devices and the broker: duplicates, reordering, malformed payloads.

Clock skew is a device's own fault (its `last_seen` and burst timestamps run off), so it lives in the
device's state (`DeviceState.clock_skew_s`); flapping and going offline are Zigbee2MQTT availability,
done by scenario steps. An uplink drop cannot be made here at all: the simulator publishes to the home's
local broker and never sees the edge agent's uplink (see `simulators.steps`, `uplink_drop`).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace

from simulators.schedule import SimMessage

MALFORMED_KINDS = ("not_json", "truncated", "wrong_type", "empty", "not_object", "binary")
HOLD_S = 30.0  # a message held back to be reordered goes out at the latest this long after it was due


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Per-message probabilities of each fault, for some devices (friendly names) and homes, or all."""

    duplicate: float = 0.0
    out_of_order: float = 0.0
    malformed: float = 0.0
    devices: frozenset[str] | None = None
    homes: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.duplicate or self.out_of_order or self.malformed)

    def applies_to(self, message: SimMessage) -> bool:
        if message.device is None or message.topic.endswith("/availability"):
            return False  # bridge and availability messages come from Zigbee2MQTT itself, not the radio
        return (self.devices is None or message.device in self.devices) and (
            self.homes is None or message.home in self.homes)


def corrupt(payload: bytes, kind: str) -> bytes:
    """A malformed version of a JSON payload, the way broken firmware or a bad bridge sends them."""
    if kind == "not_json":
        return b"occupancy=1;battery=87"
    if kind == "truncated":
        return payload[: max(1, len(payload) // 2)]
    if kind == "wrong_type":
        return b'{"occupancy":"yes","contact":"open","action":17,"battery":"full","smoke":1}'
    if kind == "empty":
        return b""
    if kind == "not_object":
        return b"[1, 2, 3]"
    if kind == "binary":
        return bytes(range(0x80, 0xA0))
    raise ValueError(f"unknown malformed kind {kind!r}; expected one of {', '.join(MALFORMED_KINDS)}")


class FaultInjector:
    """Passes messages on, duplicating, holding back (to send after a later one) or corrupting some.

    Call it with each message in time order; it returns what to publish now. `flush()` releases what is
    still held. `counts` tells how many of each fault were injected.
    """

    def __init__(self, rng: random.Random, settings: FaultSettings | None = None) -> None:
        self.rng = rng
        self.settings = settings or FaultSettings()
        self.counts: Counter[str] = Counter()
        self._held: list[SimMessage] = []

    def __call__(self, message: SimMessage) -> list[SimMessage]:
        out: list[SimMessage] = []
        s = self.settings
        if s.active and s.applies_to(message):
            if self.rng.random() < s.malformed:
                kind = self.rng.choice(MALFORMED_KINDS)
                message = replace(message, payload=corrupt(message.payload, kind))
                self.counts[f"malformed:{kind}"] += 1
            if self.rng.random() < s.out_of_order:
                self.counts["out_of_order"] += 1
                self._held.append(message)
                return self._release(message.t, after=None)
            out.append(message)
            if self.rng.random() < s.duplicate:
                self.counts["duplicate"] += 1
                out.append(message)
        else:
            out.append(message)
        return out + self._release(message.t, after=message)

    def _release(self, t: float, after: SimMessage | None) -> list[SimMessage]:
        """Held messages overtaken by a later one on their topic, or held for too long, go out now."""
        due, kept = [], []
        for m in self._held:
            overtaken = after is not None and m.topic == after.topic
            (due if overtaken or t - m.t >= HOLD_S else kept).append(m)
        self._held = kept
        return due

    def flush(self) -> list[SimMessage]:
        held, self._held = self._held, []
        return held
