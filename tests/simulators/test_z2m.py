"""Round trips: every simulated device payload, read by the edge adapter, is the canonical fact it means.

The builders are written from the device documentation and the adapters from the same sources but
independently; each test guards against the simulator and the edge drifting apart (a bench that
passes while real devices would not, or the other way round).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from edge.adapters import readings_for
from edge.adapters.discovery import parse_bridge_devices
from gateway.protocol import EventKind
from simulators import z2m

T0 = 1_767_225_600.0


def read(device_type: str, payload: bytes, model: str | None = None) -> list[tuple[EventKind, Any]]:
    decoded = msgspec.json.decode(payload)
    assert isinstance(decoded, dict), "Zigbee2MQTT always publishes a JSON object"
    return [(r.kind, r.value) for r in readings_for(device_type, decoded, model)]


def main(device_type: str, payload: bytes, model: str | None = None) -> list[tuple[EventKind, Any]]:
    """The readings other than DEVICE_HEALTH."""
    return [kv for kv in read(device_type, payload, model) if kv[0] is not EventKind.DEVICE_HEALTH]


@pytest.mark.parametrize(("action", "model"), [("single", "HS1EB/HS1EB-E"), ("hold", "HS1EB/HS1EB-E"),
                                               ("emergency", "TS0215A_sos"), ("double", None)])
def test_button_press_is_sos(action: str, model: str | None) -> None:
    assert main("button", z2m.button_press(action), model) == [(EventKind.SOS, True)]


@pytest.mark.parametrize("occupancy", [True, False])
def test_motion(occupancy: bool) -> None:
    assert main("motion", z2m.motion(occupancy)) == [(EventKind.MOTION, occupancy)]


@pytest.mark.parametrize("door_open", [True, False])
def test_contact_builder_speaks_zigbee2mqtt_polarity(door_open: bool) -> None:
    assert json.loads(z2m.contact(door_open))["contact"] is (not door_open)
    assert main("contact", z2m.contact(door_open)) == [(EventKind.DOOR, door_open)]


@pytest.mark.parametrize("alarm", [True, False])
def test_smoke_gas_water(alarm: bool) -> None:
    assert main("smoke", z2m.smoke(alarm), "HS1SA") == [(EventKind.SMOKE, alarm)]
    assert main("gas", z2m.gas(alarm), "HS1CG") == [(EventKind.GAS, alarm)]
    assert main("water", z2m.water_leak(alarm), "SJCGQ11LM") == [(EventKind.WATER, alarm)]


def test_smoke_tamper_and_battery_low_reach_device_health() -> None:
    readings = readings_for("smoke", msgspec.json.decode(z2m.smoke(False, tamper=True, battery_low=True,
                                                                   battery=7)), "HS1SA")
    assert readings[-1].kind is EventKind.DEVICE_HEALTH
    assert {"tamper": True, "battery_low": True, "battery": 7}.items() <= readings[-1].data.items()


@pytest.mark.parametrize("model", [None, "MIR-HE200-TY", "HS2FD-EF1-3.0", "FDS315"])
@pytest.mark.parametrize(("presence", "fall", "expected"), [
    (True, False, [(EventKind.PRESENCE, True)]),
    (False, False, [(EventKind.PRESENCE, False)]),
    (True, True, [(EventKind.FALL, True), (EventKind.PRESENCE, True)]),
])
def test_radar_each_models_convention(model: str | None, presence: bool, fall: bool,
                                      expected: list[tuple[EventKind, Any]]) -> None:
    assert main("radar", z2m.radar(presence, fall=fall, model=model), model) == expected


def test_radar_default_model_is_the_adapters_default() -> None:
    assert z2m.DEFAULT_RADAR_MODEL == "MIR-HE200-TY"
    assert "fall_down_status" in json.loads(z2m.radar(True))


def test_unknown_radar_or_bed_model_is_refused_by_the_builder() -> None:
    with pytest.raises(ValueError, match="known: FDS315"):
        z2m.radar(True, model="ZY-M100")
    with pytest.raises(ValueError, match="known"):
        z2m.bed_mat(in_bed=True, model="nope")


def test_wearable_burst_from_lists_round_trips_in_g() -> None:
    samples = [[0.0, 0.01 * i, 1.0] for i in range(100)]
    [accel] = readings_for("wearable", msgspec.json.decode(z2m.wearable_burst(T0, 50, samples)), None)
    assert accel.kind is EventKind.ACCEL
    assert accel.data["fs"] == 50.0 and accel.data["t0"] == T0
    assert accel.data["y"] == [0.01 * i for i in range(100)] and accel.data["z"] == [1.0] * 100


def test_wearable_burst_accepts_any_iterable_of_triples() -> None:
    """Guards the documented signature: tuples, generators (and numpy arrays) of 3-sequences."""
    payload = json.loads(z2m.wearable_burst(T0, 25.0, ((x, 0, 1) for x in range(3))))
    assert payload["accel"]["x"] == [0.0, 1.0, 2.0]


def test_wearable_burst_from_numpy() -> None:
    np = pytest.importorskip("numpy")
    samples = np.zeros((50, 3))
    samples[:, 2] = 1.0
    assert main("wearable", z2m.wearable_burst(T0, 50, samples)) == [(EventKind.ACCEL, None)]


def test_wearable_burst_refuses_rows_that_are_not_triples() -> None:
    with pytest.raises(ValueError, match="3 axes"):
        z2m.wearable_burst(T0, 50, [[0.0, 1.0]])


def test_wearable_sos_fall_summary() -> None:
    assert main("wearable", z2m.wearable_sos()) == [(EventKind.SOS, True)]
    assert main("wearable", z2m.wearable_fall()) == [(EventKind.FALL, True)]
    assert read("wearable", z2m.wearable_summary(battery=55, steps=900)) == [(EventKind.DEVICE_HEALTH, None)]


def test_bed_mat_with_vitals() -> None:
    readings = readings_for("bed_mat", msgspec.json.decode(
        z2m.bed_mat(in_bed=True, heart_rate=61, breathing_rate=14, movement=2)), None)
    assert [(r.kind, r.value) for r in readings[:2]] == [(EventKind.BED, True), (EventKind.VITALS, None)]
    assert readings[1].data == {"heart_rate": 61.0, "breathing_rate": 14.0, "movement": 2.0}


def test_bed_mat_unmeasured_vitals_are_not_sent_and_not_read() -> None:
    assert main("bed_mat", z2m.bed_mat(in_bed=False)) == [(EventKind.BED, False)]
    assert main("bed_mat", z2m.bed_mat(in_bed=True, heart_rate=0)) == [(EventKind.BED, True)]


@pytest.mark.parametrize("model", ["TS0601_bed_presence_sensor", "SPM915"])
@pytest.mark.parametrize("in_bed", [True, False])
def test_bed_presence_models(model: str, in_bed: bool) -> None:
    assert main("bed_mat", z2m.bed_mat(in_bed=in_bed, model=model), model) == [(EventKind.BED, in_bed)]


def test_presence_only_bed_models_refuse_vitals() -> None:
    with pytest.raises(ValueError, match="presence only"):
        z2m.bed_mat(in_bed=True, heart_rate=60, model="SPM915")


def test_availability_shapes() -> None:
    assert json.loads(z2m.availability(True)) == {"state": "online"}
    assert z2m.availability(False, legacy=True) == b"offline"


def test_bridge_devices_discovers_the_intended_types() -> None:
    """Guards the discovery path end to end: the simulated network is typed as it was built."""
    devices = [
        ("sos", "HS1EB/HS1EB-E", "button"), ("pendant", "TS0215A_sos", "button"), ("sos2", "MIR-SO100", "button"),
        ("hall_pir", "PIR313-P", "motion"), ("pir2", "SNZB-03", "motion"), ("door", "DWS312", "contact"),
        ("door2", "SNZB-04", "contact"), ("sos4", "SNZB-01", "button"),
        ("smoke", "HS1SA", "smoke"), ("gas", "HS1CG", "gas"), ("leak", "SJCGQ11LM", "water"),
        ("radar1", "MIR-HE200-TY", "radar"), ("radar2", "HS2FD-EF1-3.0", "radar"), ("radar3", "FDS315", "radar"),
        ("watch", "homesafe_wearable_v1", "wearable"), ("mat", "homesafe_bed_mat_v1", "bed_mat"),
        ("strap", "TS0601_bed_presence_sensor", "bed_mat"), ("pad", "SPM915", "bed_mat"),
        # models the builder has no definition for get their type's usual exposes
        ("pir3", "ACME-PIR", "motion"), ("mat2", "ACME-MAT", "bed_mat"), ("radar4", "ACME-RADAR", "radar"),
        ("sos3", "ACME-SOS", "button"), ("band", "ACME-BAND", "wearable"),
    ]
    payload = z2m.bridge_devices(devices)
    entries = json.loads(payload)
    assert entries[0]["type"] == "Coordinator" and len(entries) == len(devices) + 1
    assert all("linkquality" in {e["property"] for e in d["definition"]["exposes"]} for d in entries[1:])
    found = parse_bridge_devices(payload)
    assert {name: (d.model, d.device_type) for name, d in found.items()} == {
        name: (model, device_type) for name, model, device_type in devices}


def test_bridge_devices_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown device type"):
        z2m.bridge_devices([("x", "ACME", "toaster")])
