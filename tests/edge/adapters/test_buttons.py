"""Call buttons: every model's way of asking for help is an SOS; a long press never is ignored."""

import pytest

from edge.adapters import PayloadError, readings_for
from gateway.protocol import EventKind


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        ({"action": "single", "battery": 93, "linkquality": 120}, "HS1EB"),
        ({"action": "hold"}, "HS1EB"),
        ({"action": "emergency"}, "TS0215A_sos"),
        ({"sos": True, "battery": 70}, None),
        ({"action": "long"}, "TS0215A_sos"),  # not in this model's pattern, but a long press is never ignored
        ({"action": "double"}, None),
    ],
)
def test_help_requests_become_sos(payload: dict[str, object], model: str | None) -> None:
    readings = readings_for("button", payload, model)
    assert [r.kind for r in readings] == [EventKind.SOS]
    assert readings[0].value is True


def test_battery_report_without_press_is_device_health_not_sos() -> None:
    readings = readings_for("button", {"battery": 12, "linkquality": 40}, "HS1EB")
    assert [(r.kind, r.data) for r in readings] == [(EventKind.DEVICE_HEALTH, {"battery": 12, "linkquality": 40})]


def test_action_outside_the_models_pattern_is_not_sos() -> None:
    assert readings_for("button", {"action": "single"}, "TS0215A_sos") == []


@pytest.mark.parametrize("payload", [{"action": 3}, {"sos": "yes"}])
def test_wrong_types_are_payload_errors(payload: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="must be"):
        readings_for("button", payload, None)


def test_contact_true_means_closed() -> None:
    assert readings_for("contact", {"contact": True}, None)[0].value is False
    assert readings_for("contact", {"contact": False}, None)[0].value is True


def test_motion_occupancy() -> None:
    assert [(r.kind, r.value) for r in readings_for("motion", {"occupancy": True}, None)] == [(EventKind.MOTION, True)]
