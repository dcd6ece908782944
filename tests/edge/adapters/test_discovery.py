"""Discovery: Zigbee2MQTT's retained bridge/devices list becomes models and HomeSafe device types."""

import json
from pathlib import Path
from typing import Any

import pytest

from edge.adapters.discovery import DiscoveredDevice, PayloadError, infer_device_type, parse_bridge_devices

BRIDGE_DEVICES = Path(__file__).resolve().parents[2] / "fixtures" / "z2m" / "bridge" / "devices.json"


def test_recorded_bridge_devices() -> None:
    """Guards against misreading Zigbee2MQTT's documented bridge/devices format (incl. nested features)."""
    found = parse_bridge_devices(BRIDGE_DEVICES.read_bytes())
    assert {name: d.device_type for name, d in found.items()} == {
        "kitchen/plug": None, "hall/light": None, "bedroom/sos_button": "button", "bathroom/radar": "radar",
        "bedroom/bed_strap": "bed_mat", "kitchen/leak": "water"}
    button = found["bedroom/sos_button"]
    assert button == DiscoveredDevice(model="HS1EB/HS1EB-E", vendor="Heiman", device_type="button",
                                      properties=frozenset({"battery", "action", "linkquality"}),
                                      ieee_address="0x00124b0029113a01", description="Smart emergency button")
    assert {"state", "brightness", "color", "x", "y"} <= found["hall/light"].properties  # nested under features


def test_coordinator_unsupported_and_interviewing_devices_are_skipped() -> None:
    found = parse_bridge_devices(BRIDGE_DEVICES.read_bytes())
    assert not {"Coordinator", "my_sensor", "0x0017880108b5a4c3"} & found.keys()


def test_accepts_bytes_str_and_decoded_list_alike() -> None:
    raw = BRIDGE_DEVICES.read_bytes()
    assert parse_bridge_devices(raw) == parse_bridge_devices(raw.decode()) == parse_bridge_devices(json.loads(raw))


@pytest.mark.parametrize(
    ("model", "properties", "device_type"),
    [
        ("X1", {"action", "battery"}, "button"),
        ("X2", {"sos", "battery_low"}, "button"),
        ("X3", {"occupancy", "illuminance"}, "motion"),
        ("X4", {"contact", "battery"}, "contact"),
        ("X5", {"smoke", "battery_low", "test"}, "smoke"),
        ("X6", {"gas", "tamper"}, "gas"),
        ("X7", {"water_leak"}, "water"),
        ("X8", {"presence", "illuminance"}, "radar"),
        ("X9", {"occupancy", "fall_status"}, "radar"),  # a fall field makes an occupancy device a radar
        ("X10", {"heart_rate", "breathing_rate", "occupancy"}, "bed_mat"),
        ("X11", {"action", "accel", "battery"}, "wearable"),  # action, but with an accelerometer
        ("X12", {"action", "fall"}, "wearable"),
        ("X13", {"smoke", "action"}, "smoke"),  # a smoke detector with a button is a smoke detector
        ("X14", {"state", "power"}, None),
        ("SPM915", {"contact", "battery"}, "bed_mat"),  # the model table wins over what it exposes
        ("FDS315", {"status", "breathing_rate"}, "radar"),
        ("TS0601_bed_presence_sensor", {"occupancy"}, "bed_mat"),
        ("TS0215A_sos", set(), "button"),
    ],
)
def test_type_inference(model: str, properties: set[str], device_type: str | None) -> None:
    """Guards against a discovered device being monitored as the wrong kind of thing."""
    assert infer_device_type(model, frozenset(properties)) == device_type


def device(name: Any = "d1", **definition: Any) -> dict[str, Any]:
    return {"friendly_name": name, "ieee_address": "0x01", "type": "EndDevice",
            "definition": {"model": "M", "vendor": "V", "description": "", "exposes": [], **definition}}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b'{"devices": []}', "must be a JSON list"),
        ([1], r"devices\[0\] must be a device object"),
        ([device(name=None)], r"devices\[0\].friendly_name"),
        ([device(name="")], r"devices\[0\].friendly_name"),
        ([{"friendly_name": "a", "definition": []}], r"devices\[0\].definition must be an object"),
        ([device(model=None)], r"definition.model"),
        ([device(exposes={"action": 1})], "must be a list of exposes"),
        ([device(exposes=["action"])], r"exposes\[0\] must be an expose object"),
        ([device(exposes=[{"type": "light", "features": "state"}])], r"exposes\[0\].features must be a list"),
        ([device(vendor=7)], r"definition.vendor must be a string"),
        ([device(), device()], "appears twice"),
    ],
)
def test_malformed_input_is_a_payload_error_naming_the_place(payload: Any, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_bridge_devices(payload)


def test_absurdly_nested_exposes_are_refused_not_a_recursion_error() -> None:
    """Guards against a hostile payload crashing the agent with RecursionError."""
    expose: dict[str, Any] = {"name": "leaf", "property": "leaf", "type": "numeric"}
    for _ in range(5000):
        expose = {"type": "composite", "features": [expose]}
    with pytest.raises(PayloadError, match="nested deeper"):
        parse_bridge_devices([device(exposes=[expose])])


def test_deeply_nested_json_bytes_are_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        parse_bridge_devices(b"[" * 100_000 + b"]" * 100_000)


def test_an_empty_network_is_an_empty_dict() -> None:
    assert parse_bridge_devices(b"[]") == {}
