"""One contract over every adapter and every recorded payload (STYLE #4, #12).

- Every fixture under tests/fixtures/z2m/<model>/ maps to exactly the readings it states: guards
  against a model's field names or polarity drifting from what the device sends.
- Every model in a spec table has a fixture: a new model is a table row *plus* a recorded payload.
- On hostile JSON objects every adapter returns readings the gateway accepts or raises PayloadError,
  never another exception, and never changes its input: guards against one bad device message
  costing more than itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import msgspec
import pytest

from edge.adapters import (
    ADAPTERS,
    BED_MAT_MODELS,
    BUTTON_MODELS,
    RADAR_MODELS,
    WEARABLE_MODELS,
    PayloadError,
    Reading,
    readings_for,
)
from gateway.protocol import Event, EventKind, Rejected, decode_event, encode

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "z2m"
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*/*.json") if p.parent.name != "bridge")
NOW = 1_800_000_000.0

# Hand-configured names for a model whose Zigbee2MQTT name has a fixture ("HS1EB/HS1EB-E").
ALIASES = {"HS1EB", "HS1EB-E"}
MODEL_TABLES: dict[str, dict[str, Any]] = {
    "button": BUTTON_MODELS, "radar": RADAR_MODELS, "bed_mat": BED_MAT_MODELS, "wearable": WEARABLE_MODELS,
}


def load(path: Path) -> dict[str, Any]:
    case = json.loads(path.read_text())
    assert {"model", "device_type", "source", "payload", "expect"} <= case.keys(), path
    return case


def assert_on_the_wire(readings: list[Reading]) -> None:
    """Each reading, stamped as the agent does, is an event the gateway's decoder accepts."""
    for seq, reading in enumerate(readings):
        assert isinstance(reading, Reading)
        assert isinstance(reading.kind, EventKind)
        assert reading.value is None or isinstance(reading.value, bool | float)
        if isinstance(reading.value, float):
            assert math.isfinite(reading.value)
        event = Event(id=f"e{seq}", home="h1", device="d1", kind=reading.kind, ts=NOW, seq=seq,
                      value=reading.value, data=reading.data)
        decoded = decode_event(encode(event), "h1", NOW)
        assert not isinstance(decoded, Rejected), decoded
        assert decoded == event, "data must survive JSON unchanged (no NaN, no tuples, no sets)"


def test_there_are_fixtures() -> None:
    assert len(FIXTURE_FILES) >= 40


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_maps_to_its_stated_readings(path: Path) -> None:
    case = load(path)
    readings = readings_for(case["device_type"], case["payload"], case["model"])
    assert [r.kind.value for r in readings] == [e["kind"] for e in case["expect"]], readings
    for reading, expected in zip(readings, case["expect"], strict=True):
        if "value" in expected:
            assert reading.value == expected["value"] and type(reading.value) is type(expected["value"]), reading
        for key, value in expected.get("data", {}).items():
            assert reading.data.get(key) == value, (key, reading)
    assert_on_the_wire(readings)


def test_every_model_in_a_spec_table_has_a_recorded_payload() -> None:
    recorded = {(c["device_type"], c["model"]) for c in map(load, FIXTURE_FILES)}
    missing = [(t, m) for t, table in MODEL_TABLES.items() for m in table
               if m not in ALIASES and (t, m) not in recorded]
    assert not missing, f"add tests/fixtures/z2m/<model>/*.json for {missing}"


def test_every_fixture_names_a_model_its_type_knows() -> None:
    for case in map(load, FIXTURE_FILES):
        table = MODEL_TABLES.get(case["device_type"])
        assert case["device_type"] in ADAPTERS
        assert table is None or case["model"] in table, f"{case['model']} is no row of the {case['device_type']} table"


# -- hostile payloads ---------------------------------------------------------------------------------------

KNOWN_FIELDS = [
    "action", "sos", "occupancy", "contact", "smoke", "gas", "water_leak", "test", "presence", "status",
    "fall_down_status", "fall_status", "accel", "fall", "heart_rate", "breathing_rate", "movement", "steps",
    "battery", "battery_low", "linkquality", "tamper", "voltage",
]
BAD_VALUES: list[Any] = [
    None, "true", "1", "", "x" * 10_000, 1, 0, -1, 256, 1e308, -1e308, math.nan, math.inf, -math.inf, True, False,
    [], [1] * 20_000, [None], {}, {"nested": {"deeper": [None, {"x": []}]}},
]
GOOD_BURST = {"fs": 50, "t0": NOW, "x": [0.0] * 50, "y": [0.0] * 50, "z": [1.0] * 50}
BURSTS: list[Any] = [
    {**GOOD_BURST, "y": [0.0] * 49},
    {**GOOD_BURST, "fs": math.nan}, {**GOOD_BURST, "fs": "50"}, {**GOOD_BURST, "fs": 4}, {**GOOD_BURST, "fs": 1001},
    {**GOOD_BURST, "fs": True}, {**GOOD_BURST, "t0": -1}, {**GOOD_BURST, "t0": None}, {**GOOD_BURST, "t0": "now"},
    {**GOOD_BURST, "x": [0.0] * 49 + [None]}, {**GOOD_BURST, "x": [0.0] * 49 + [True]},
    {**GOOD_BURST, "x": [0.0] * 49 + [math.nan]}, {**GOOD_BURST, "x": [0.0] * 49 + [[1.0]]},
    {**GOOD_BURST, "x": [0.0] * 49 + [1e9]}, {**GOOD_BURST, "x": "0,0,0"}, {**GOOD_BURST, "x": None},
    {"fs": 5, "t0": NOW, "x": [0.0] * 300_000, "y": [0.0] * 300_000, "z": [0.0] * 300_000},
    {"fs": 50, "t0": NOW, "x": [], "y": [], "z": []}, {}, [], "burst", 7,
]
HOSTILE: list[dict[str, Any]] = [
    {}, {"": None}, {"unknown": {"a": [1, 2, {"b": None}]}}, {"ü\u0000": "\u0000"},
    {"action": "\ud800"}, {"status": "\ud800"}, {"fall_down_status": "\ud800"},
    *({name: value} for name in KNOWN_FIELDS for value in BAD_VALUES),
    *({"accel": burst} for burst in BURSTS),
    {"action": "sos", "battery": "low"}, {"smoke": True, "battery": math.nan, "linkquality": [1]},
    {"occupancy": True, "heart_rate": "60", "breathing_rate": -3, "movement": math.inf},
    dict.fromkeys(KNOWN_FIELDS), {name: "x" for name in KNOWN_FIELDS}, {name: [] for name in KNOWN_FIELDS},
]
# repr snapshots of the small payloads, to check adapters leave their input alone (repr: NaN == NaN)
SNAPSHOTS = [text if len(text) < 5_000 else None for text in map(repr, HOSTILE)]
ADAPTER_MODELS = [(t, None) for t in ADAPTERS] + [("button", "unknown-model")] + [
    (t, m) for t, table in MODEL_TABLES.items() for m in table]


@pytest.mark.parametrize(("device_type", "model"), ADAPTER_MODELS, ids=str)
def test_hostile_payloads_give_readings_or_payload_error_only(device_type: str, model: str | None) -> None:
    errors = 0
    for payload, before in zip(HOSTILE, SNAPSHOTS, strict=True):
        try:
            readings = readings_for(device_type, payload, model)
        except PayloadError as exc:
            errors += 1
            assert str(exc), "a PayloadError must say what was expected and what came"
        except Exception as exc:  # the failure this test exists for
            pytest.fail(f"{device_type}/{model} raised {type(exc).__name__}: {exc} on {str(payload)[:200]}")
        else:
            assert_on_the_wire(readings)
        assert before is None or repr(payload) == before, "adapters must not change their input"
    assert errors > 0, "wrong types for this type's own fields must be refused"


@pytest.mark.parametrize("payload", [[], "text", 3, None, [{"action": "sos"}]])
def test_a_non_object_payload_is_a_payload_error(payload: Any) -> None:
    with pytest.raises(PayloadError, match="expected a JSON object"):
        readings_for("button", payload, None)


def test_a_model_that_is_not_a_string_is_a_payload_error_not_a_type_error() -> None:
    """Guards against a YAML `model: [a, b]` crashing every lookup with an unhashable-type TypeError."""
    with pytest.raises(PayloadError, match="model must be"):
        readings_for("button", {"action": "sos"}, ["HS1EB"])  # type: ignore[arg-type]


def test_an_unknown_device_type_is_a_payload_error_naming_the_known_ones() -> None:
    with pytest.raises(PayloadError, match="bed_mat"):
        readings_for("toaster", {}, None)


def test_payload_errors_say_what_was_expected_and_what_came() -> None:
    with pytest.raises(PayloadError, match=r"field 'smoke' must be true or false, got 'yes'"):
        readings_for("smoke", {"smoke": "yes"}, None)


def test_json_decoded_payload_from_msgspec_works_like_a_dict_literal() -> None:
    payload = msgspec.json.decode(b'{"water_leak":true,"battery":90}')
    assert [r.kind for r in readings_for("water", payload, None)] == [EventKind.WATER, EventKind.DEVICE_HEALTH]
