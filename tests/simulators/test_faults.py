"""Fault injection between devices and the broker: duplicates, reordering, corruption, only where asked."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from simulators.faults import HOLD_S, MALFORMED_KINDS, FaultInjector, FaultSettings, corrupt
from simulators.schedule import SimMessage


def _messages(n: int, device: str = "living_motion", home: str = "h0001") -> list[SimMessage]:
    return [SimMessage(float(i), f"zigbee2mqtt/{device}", json.dumps({"occupancy": True, "i": i}).encode(),
                       home=home, device=device) for i in range(n)]


def _run(injector: FaultInjector, messages: list[SimMessage]) -> list[SimMessage]:
    out = [m for message in messages for m in injector(message)]
    return out + injector.flush()


def test_no_faults_passes_everything_through_in_order() -> None:
    """Guards against the injector itself losing or reordering messages when no fault is asked for."""
    messages = _messages(50)
    assert _run(FaultInjector(random.Random(1)), messages) == messages


def test_duplicates_are_the_same_message_twice_in_a_row() -> None:
    """Guards against 'duplicates' that differ (a redelivery is byte-identical) or are not adjacent."""
    injector = FaultInjector(random.Random(1), FaultSettings(duplicate=1.0))
    out = _run(injector, _messages(10))
    assert len(out) == 20
    assert all(out[2 * i] == out[2 * i + 1] for i in range(10))
    assert injector.counts["duplicate"] == 10


def test_out_of_order_messages_arrive_after_a_later_one_and_none_is_lost() -> None:
    """Guards against reordering that drops messages, or never releases the held one."""
    injector = FaultInjector(random.Random(3), FaultSettings(out_of_order=0.3))
    messages = _messages(200)
    out = _run(injector, messages)
    assert sorted(m.t for m in out) == [m.t for m in messages]
    inversions = sum(1 for a, b in itertools.pairwise(out) if a.t > b.t)
    assert inversions >= 20 and injector.counts["out_of_order"] >= 40
    held_for = max(out.index(m) - i for i, m in enumerate(messages))
    assert held_for < 40  # released by the next message on its topic, or after HOLD_S at the latest
    assert HOLD_S > 0


def test_malformed_payloads_are_not_valid_device_json() -> None:
    """Guards against 'malformed' payloads an edge adapter would accept as ordinary readings."""
    for kind in MALFORMED_KINDS:
        payload = corrupt(b'{"occupancy":true,"battery":80}', kind)
        try:
            decoded = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            continue
        assert not isinstance(decoded, dict) or not isinstance(decoded.get("occupancy"), bool), kind
    with pytest.raises(ValueError, match="expected one of not_json"):
        corrupt(b"{}", "weird")


def test_faults_only_touch_the_chosen_devices_and_homes_and_never_availability() -> None:
    """Guards against faults leaking onto devices a bench wants clean, or onto Zigbee2MQTT's own messages."""
    injector = FaultInjector(random.Random(1), FaultSettings(duplicate=1.0, devices=frozenset({"front_door"}),
                                                             homes=frozenset({"h0002"})))
    assert len(_run(injector, _messages(5, "living_motion", "h0002"))) == 5
    assert len(_run(injector, _messages(5, "front_door", "h0001"))) == 5
    assert len(_run(injector, _messages(5, "front_door", "h0002"))) == 10
    availability = SimMessage(0.0, "zigbee2mqtt/front_door/availability", b'{"state":"online"}', home="h0002",
                              device="front_door")
    assert injector(availability) == [availability]
