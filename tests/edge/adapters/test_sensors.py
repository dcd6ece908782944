"""Binary room and hazard sensors: motion, door, smoke, gas, water."""

import pytest

from edge.adapters import PayloadError, readings_for
from edge.adapters.sensors import SENSOR_TYPES
from gateway.protocol import EventKind


def kinds_values(device_type: str, payload: dict[str, object]) -> list[tuple[EventKind, object]]:
    return [(r.kind, r.value) for r in readings_for(device_type, payload, None)]


def test_contact_true_means_closed() -> None:
    """Guards against the classic Zigbee2MQTT trap: `contact: true` is a closed door."""
    assert kinds_values("contact", {"contact": True}) == [(EventKind.DOOR, False)]
    assert kinds_values("contact", {"contact": False}) == [(EventKind.DOOR, True)]


@pytest.mark.parametrize(
    ("device_type", "field", "kind"),
    [("motion", "occupancy", EventKind.MOTION), ("smoke", "smoke", EventKind.SMOKE), ("gas", "gas", EventKind.GAS),
     ("water", "water_leak", EventKind.WATER)],
)
@pytest.mark.parametrize("state", [True, False])
def test_each_hazard_field_maps_to_its_kind(device_type: str, field: str, kind: EventKind, state: bool) -> None:
    """Guards against a sensor type reading the wrong field or inverting a hazard."""
    assert kinds_values(device_type, {field: state}) == [(kind, state)]


def test_every_type_in_the_table_has_an_adapter() -> None:
    for device_type, spec in SENSOR_TYPES.items():
        assert readings_for(device_type, {spec.field: True}, None)[0].kind is spec.kind


def test_tamper_with_smoke_clear_still_reaches_device_health() -> None:
    """Guards against losing tamper because the payload also carries `smoke: false` (the trap in the brief)."""
    payload = {"smoke": False, "tamper": True, "battery_low": False, "battery": 83}
    smoke, health = readings_for("smoke", payload, "HS1SA")
    assert (smoke.kind, smoke.value) == (EventKind.SMOKE, False)
    assert (health.kind, health.data) == (EventKind.DEVICE_HEALTH, {"tamper": True, "battery_low": False,
                                                                    "battery": 83})


def test_smoke_during_self_test_says_so() -> None:
    """Guards against a drill looking exactly like a fire to the gateway."""
    [smoke] = readings_for("smoke", {"smoke": True, "test": True}, "HS1SA")
    assert smoke.value is True and smoke.data == {"test": True}


def test_a_garbled_side_field_never_costs_the_alarm() -> None:
    """Guards against dropping a smoke alarm because `test` or `battery` is unreadable."""
    smoke, health = readings_for("smoke", {"smoke": True, "test": "maybe", "battery": -5}, None)
    assert (smoke.kind, smoke.value, smoke.data) == (EventKind.SMOKE, True, {})
    assert health.data["invalid"] == ["field 'battery' must be a number in [0, 100], got -5"]


def test_null_fields_are_absent_not_errors() -> None:
    """Zigbee2MQTT publishes null for attributes not reported yet; that is no reading and no error."""
    [health] = readings_for("gas", {"gas": None, "tamper": None, "linkquality": 110}, None)
    assert (health.kind, health.data) == (EventKind.DEVICE_HEALTH, {"linkquality": 110})


def test_payload_without_the_sensor_field_or_health_is_empty() -> None:
    assert readings_for("water", {"device_temperature": 23, "trigger_count": 1}, "SJCGQ11LM") == []


@pytest.mark.parametrize(("device_type", "payload"), [("water", {"water_leak": "true"}), ("motion", {"occupancy": 1}),
                                                      ("contact", {"contact": "closed"}), ("gas", {"gas": [True]})])
def test_wrong_types_for_the_sensor_field_are_payload_errors(device_type: str, payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be true or false"):
        readings_for(device_type, payload, None)


def test_only_unreadable_health_is_a_payload_error() -> None:
    """Guards against silently swallowing a payload that has nothing readable: the agent must count it."""
    with pytest.raises(PayloadError, match="linkquality"):
        readings_for("motion", {"linkquality": "good"}, None)
