"""Zigbee2MQTT payloads as real devices send them (field names from zigbee-herdsman-converters).

Every builder returns the JSON bytes Zigbee2MQTT publishes on `zigbee2mqtt/<friendly_name>`. Field
names and enum values come from the converters' device definitions (model in each docstring);
wearables are not Zigbee2MQTT devices and follow the HomeSafe wearable convention documented in
`edge/adapters/wearable.py`. This module deliberately does not import the edge adapters: it is the
device side of the round-trip tests, written from the device documentation, not from our parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode

DEFAULT_RADAR_MODEL = "MIR-HE200-TY"
DEFAULT_BED_MAT_MODEL = "homesafe_bed_mat_v1"
DEFAULT_WEARABLE_MODEL = "homesafe_wearable_v1"


def button_press(action: str = "single", *, battery: int = 93, linkquality: int = 120) -> bytes:
    """A call button / SOS pendant press, e.g. Heiman HS1EB: `{"action":"single","battery":93,...}`."""
    return _encode({"action": action, "battery": battery, "linkquality": linkquality})


def motion(occupancy: bool, *, battery: int = 88, linkquality: int = 96) -> bytes:
    """A PIR sensor report (OWON PIR313-P): `occupancy` true on motion, false after its timeout."""
    return _encode({"occupancy": occupancy, "battery": battery, "linkquality": linkquality,
                    "tamper": False, "battery_low": False})


def contact(door_open: bool, *, battery: int = 91, linkquality: int = 102) -> bytes:
    """A door contact (e.g. OWON DWS312): Zigbee2MQTT says `contact: true` when the door is closed."""
    return _encode({"contact": not door_open, "battery": battery, "linkquality": linkquality})


def availability(online: bool, *, legacy: bool = False) -> bytes:
    """`{"state":"online"}` (current Zigbee2MQTT) or plain `online` (legacy)."""
    state = "online" if online else "offline"
    return state.encode() if legacy else _encode({"state": state})


def payload(fields: dict[str, Any]) -> bytes:
    """Any other payload, for faults and new device types."""
    return _encode(fields)


def smoke(alarm: bool, *, battery_low: bool = False, tamper: bool = False, battery: int = 95) -> bytes:
    """A smoke detector (Heiman HS1SA, IAS zone `ias_smoke_alarm_1`): smoke, tamper, battery_low, test."""
    return _encode({"smoke": alarm, "tamper": tamper, "battery_low": battery_low, "test": False,
                    "battery": battery, "linkquality": 87})


def gas(alarm: bool, *, linkquality: int = 110) -> bytes:
    """A mains-powered combustible gas sensor (Heiman HS1CG): gas, tamper, battery_low."""
    return _encode({"gas": alarm, "tamper": False, "battery_low": False, "linkquality": linkquality})


def water_leak(leak: bool, *, battery: int = 90, battery_low: bool = False) -> bytes:
    """A water leak sensor (Aqara SJCGQ11LM): water_leak plus battery, voltage and diagnostics."""
    return _encode({"water_leak": leak, "battery_low": battery_low, "battery": battery, "voltage": 3005,
                    "device_temperature": 24, "power_outage_count": 2, "trigger_count": 1, "linkquality": 72})


def _radar_mir_he200_ty(presence: bool, fall: bool) -> dict[str, Any]:
    # tuya.ts MIR-HE200-TY: fall_down_status is one of none / maybe_fall / fall (tuyaRadar.fallDown).
    return {"presence": presence, "occupancy": presence, "illuminance": 112, "motion_speed": 0,
            "motion_direction": "standing_still", "radar_sensitivity": 7, "radar_scene": "bedroom",
            "tumble_switch": "ON", "fall_sensitivity": 5, "tumble_alarm_time": 1,
            "fall_down_status": "fall" if fall else "none", "static_dwell_alarm": "", "linkquality": 148}


def _radar_hs2fd(presence: bool, fall: bool) -> dict[str, Any]:
    # heiman.ts HS2FD-EF1-3.0: occupancy, sensor_status none/activity/unknown,
    # fall_status normal/fall_warning/fall_alarm/unknown.
    return {"occupancy": presence, "sensor_status": "activity" if presence else "none",
            "fall_status": "fall_alarm" if fall else "normal", "enable_indicator": 1, "sensitivity": 2,
            "installation_method": 1, "linkquality": 132}


def _radar_fds315(presence: bool, fall: bool) -> dict[str, Any]:
    # owon.ts FDS315: one status enum unoccupied/occupied/sitting/on_the_bed/low_posture/falling.
    status = "falling" if fall else ("occupied" if presence else "unoccupied")
    return {"status": status, "breathing_rate": 16 if presence else 0, "location_x": 40, "location_y": 120,
            "linkquality": 120}


_RADARS = {"MIR-HE200-TY": _radar_mir_he200_ty, "HS2FD-EF1-3.0": _radar_hs2fd, "FDS315": _radar_fds315}


def radar(presence: bool, *, fall: bool = False, model: str | None = None) -> bytes:
    """An mmWave presence / fall radar; `model` picks the field convention (default Tuya MIR-HE200-TY)."""
    build = _RADARS.get(model or DEFAULT_RADAR_MODEL)
    if build is None:
        raise ValueError(f"no radar payload for model {model!r}; known: {', '.join(sorted(_RADARS))}")
    return _encode(build(presence, fall))


def _check_samples(fs: float, samples: Iterable[Sequence[float]]) -> tuple[list[float], list[float], list[float]]:
    x: list[float] = []
    y: list[float] = []
    z: list[float] = []
    for i, row in enumerate(samples):
        values = [float(v) for v in row]
        if len(values) != 3:
            raise ValueError(f"sample {i}: expected 3 axes (x, y, z) in g, got {len(values)} values")
        x.append(values[0])
        y.append(values[1])
        z.append(values[2])
    if not math.isfinite(fs) or fs <= 0:
        raise ValueError(f"fs must be a positive sample rate in Hz, got {fs!r}")
    return x, y, z


def wearable_burst(t0: float, fs: float, samples: Any) -> bytes:
    """A raw 3-axis burst around a suspected impact: `{"accel": {"fs","t0","x","y","z"}}` in g.

    Args:
        t0: epoch seconds of the first sample.
        fs: sample rate in Hz.
        samples: N x 3 samples in g (a list of [x, y, z], or anything iterable of 3-sequences,
            such as a numpy array).
    """
    x, y, z = _check_samples(float(fs), samples)
    return _encode({"accel": {"fs": float(fs), "t0": float(t0), "x": x, "y": y, "z": z}})


def wearable_sos() -> bytes:
    """The wearable's SOS key."""
    return _encode({"action": "sos"})


def wearable_fall() -> bytes:
    """The wearable's own on-device fall flag."""
    return _encode({"fall": True})


def wearable_summary(*, battery: int = 80, steps: int = 0) -> bytes:
    """The wearable's periodic summary."""
    return _encode({"battery": battery, "steps": steps})


def _bed_default(in_bed: bool, vitals: dict[str, float | None]) -> dict[str, Any]:
    # The HomeSafe bed-mat convention: in-bed as Zigbee2MQTT's `occupancy`, vitals by their own names.
    fields: dict[str, Any] = {"occupancy": in_bed}
    fields.update({k: v for k, v in vitals.items() if v is not None})
    fields["linkquality"] = 140
    return fields


def _bed_tuya_strap(in_bed: bool, vitals: dict[str, float | None]) -> dict[str, Any]:
    # tuya.ts TS0601_bed_presence_sensor: occupancy; `illuminance` carries the raw pressure value.
    _no_vitals("TS0601_bed_presence_sensor", vitals)
    return {"occupancy": in_bed, "battery": 100, "illuminance": 2400 if in_bed else 35, "sensitivity": "middle",
            "interval_time": 5, "presence_delay": 30, "presence_time": 0,
            "work_state": "presence" if in_bed else "none", "linkquality": 116}


def _bed_owon_spm915(in_bed: bool, vitals: dict[str, float | None]) -> dict[str, Any]:
    # owon.ts SPM915 is an IAS contact zone: alarm_1 (someone on the pad) reads as `contact: false`.
    _no_vitals("SPM915", vitals)
    return {"contact": not in_bed, "battery_low": False, "tamper": False, "battery": 100, "voltage": 3000,
            "linkquality": 90}


def _no_vitals(model: str, vitals: dict[str, float | None]) -> None:
    given = [k for k, v in vitals.items() if v is not None]
    if given:
        raise ValueError(f"model {model!r} reports in-bed presence only, not {', '.join(given)}")


_BED_MATS = {DEFAULT_BED_MAT_MODEL: _bed_default, "TS0601_bed_presence_sensor": _bed_tuya_strap,
             "SPM915": _bed_owon_spm915}


def bed_mat(*, in_bed: bool, heart_rate: float | None = None, breathing_rate: float | None = None,
            movement: float | None = None, model: str | None = None) -> bytes:
    """A home-care bed's mat: in-bed presence and, where the model measures them, vitals."""
    build = _BED_MATS.get(model or DEFAULT_BED_MAT_MODEL)
    if build is None:
        raise ValueError(f"no bed-mat payload for model {model!r}; known: {', '.join(sorted(_BED_MATS))}")
    vitals = {"heart_rate": heart_rate, "breathing_rate": breathing_rate, "movement": movement}
    return _encode(build(in_bed, vitals))


# -- bridge/devices ---------------------------------------------------------------------------------------

def _binary(name: str, description: str, *, on: Any = True, off: Any = False, category: str | None = None,
            access: int = 1) -> dict[str, Any]:
    expose = {"access": access, "description": description, "label": name.replace("_", " ").capitalize(),
              "name": name, "property": name, "type": "binary", "value_off": off, "value_on": on}
    if category:
        expose["category"] = category
    return expose


def _numeric(name: str, description: str, *, unit: str | None = None, low: float | None = None,
             high: float | None = None, category: str | None = None, access: int = 1) -> dict[str, Any]:
    expose: dict[str, Any] = {"access": access, "description": description,
                              "label": name.replace("_", " ").capitalize(), "name": name, "property": name,
                              "type": "numeric"}
    if unit:
        expose["unit"] = unit
    if low is not None:
        expose["value_min"] = low
    if high is not None:
        expose["value_max"] = high
    if category:
        expose["category"] = category
    return expose


def _enum(name: str, description: str, values: list[str], *, access: int = 1) -> dict[str, Any]:
    return {"access": access, "description": description, "label": name.replace("_", " ").capitalize(),
            "name": name, "property": name, "type": "enum", "values": values}


def _battery() -> dict[str, Any]:
    return _numeric("battery", "Remaining battery in %, can take up to 24 hours before reported", unit="%",
                    low=0, high=100, category="diagnostic")


def _battery_low() -> dict[str, Any]:
    return _binary("battery_low", "Indicates if the battery of this device is almost empty",
                   category="diagnostic")


def _tamper() -> dict[str, Any]:
    return _binary("tamper", "Indicates whether the device is tampered")


def _linkquality() -> dict[str, Any]:
    return _numeric("linkquality", "Link quality (signal strength)", unit="lqi", low=0, high=255,
                    category="diagnostic")


def _action(values: list[str]) -> dict[str, Any]:
    return _enum("action", "Triggered action (e.g. a button click)", values)


# model -> (vendor, description, exposes); exposes as in each model's converter definition.
_DEFINITIONS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "HS1EB/HS1EB-E": ("Heiman", "Smart emergency button", [_battery(), _action(["off", "single", "double", "hold"])]),
    "TS0215A_sos": ("Tuya", "SOS button", [_battery(), _action(["emergency"])]),
    "MIR-SO100": ("MultIR", "SOS Button", [_action(["single", "double", "hold"]), _battery()]),
    "SNZB-03": ("SONOFF", "Motion sensor", [
        _binary("occupancy", "Indicates whether the device detected occupancy"), _battery_low(), _battery(),
        _numeric("voltage", "Voltage of the battery in millivolts", unit="mV", category="diagnostic")]),
    "SNZB-04": ("SONOFF", "Contact sensor", [
        _binary("contact", "Indicates whether the device is opened or closed", on=False, off=True), _battery_low(),
        _battery(), _numeric("voltage", "Voltage of the battery in millivolts", unit="mV", category="diagnostic")]),
    "SNZB-01": ("SONOFF", "Wireless button", [_battery(), _action(["single", "double", "long"])]),
    "PIR313-P": ("OWON", "Motion sensor", [
        _battery(), _binary("occupancy", "Indicates whether the device detected occupancy"), _battery_low(),
        _tamper()]),
    "DWS312": ("OWON", "Door/window sensor", [
        _battery(), _binary("contact", "Indicates whether the device is opened or closed", on=False, off=True),
        _battery_low(), _tamper()]),
    "HS1SA": ("Heiman", "Smoke detector", [
        _binary("smoke", "Indicates whether the device detected smoke"), _battery_low(), _battery(),
        _binary("test", "Indicates whether the device is being tested")]),
    "HS1CG": ("Heiman", "Smart combustible gas sensor", [
        _binary("gas", "Indicates whether the device detected gas"), _battery_low(), _tamper()]),
    "SJCGQ11LM": ("Aqara", "Water leak sensor", [
        _battery(), _numeric("voltage", "Voltage of the battery in millivolts", unit="mV", category="diagnostic"),
        _numeric("device_temperature", "Temperature of the device", unit="°C", category="diagnostic"),
        _binary("water_leak", "Indicates whether the device detected a water leak"), _battery_low()]),
    "MIR-HE200-TY": ("Tuya", "Human presence sensor with fall function", [
        _numeric("illuminance", "Measured illuminance", unit="lx"),
        _binary("presence", "Indicates whether the device detected presence"),
        _binary("occupancy", "Indicates whether the device detected occupancy"),
        _numeric("motion_speed", "Speed of movement"),
        _enum("motion_direction", "direction of movement from the point of view of the radar",
              ["standing_still", "moving_forward", "moving_backward"]),
        _enum("fall_down_status", "fall down status", ["none", "maybe_fall", "fall"]),
        _enum("static_dwell_alarm", "static dwell alarm", [])]),
    "HS2FD-EF1-3.0": ("HEIMAN", "Fall Detection Sensor", [
        _binary("occupancy", "Indicates if someone is present"),
        _enum("sensor_status", "Sensor activity status", ["none", "activity", "unknown"]),
        _enum("fall_status", "Fall detection status", ["normal", "fall_warning", "fall_alarm", "unknown"])]),
    "FDS315": ("OWON", "Fall Detection Sensor", [
        _enum("status", "", ["unoccupied", "occupied", "sitting", "on_the_bed", "low_posture", "falling"]),
        _numeric("breathing_rate", "Breathing rate.", unit="breaths/min"),
        _numeric("location_x", "X coordinate of human activity.", unit="cm"),
        _numeric("location_y", "Y coordinate of human activity.", unit="cm")]),
    "TS0601_bed_presence_sensor": ("Tuya", "Pressure Sensing Strap/Bed Occupancy Sensor", [
        _binary("occupancy", "Indicates whether the device detected occupancy"), _battery(),
        _numeric("illuminance", "Raw pressure value.", unit="lux", low=0, high=10000),
        _enum("work_state", "Summary of the state of the device.",
              ["presence", "none", "presence_5min", "presence_30min", "none_5min", "none_30min"])]),
    "SPM915": ("OWON", "Sleeping pad monitor", [
        _battery(), _numeric("voltage", "Voltage of the battery in millivolts", unit="mV", category="diagnostic"),
        _binary("contact", "Indicates whether the device is opened or closed", on=False, off=True),
        _tamper(), _battery_low()]),
    DEFAULT_BED_MAT_MODEL: ("HomeSafe", "Home-care bed mat (HomeSafe convention)", [
        _binary("occupancy", "Someone is in bed"),
        _numeric("heart_rate", "Heart rate, 0 when not measured", unit="bpm", low=0, high=250),
        _numeric("breathing_rate", "Breathing rate, 0 when not measured", unit="breaths/min", low=0, high=80),
        _numeric("movement", "Body movement index")]),
    DEFAULT_WEARABLE_MODEL: ("HomeSafe", "Wearable with accelerometer (HomeSafe convention)", [
        _action(["sos"]), _binary("fall", "The wearable detected a fall"), _battery(),
        _numeric("steps", "Steps today"),
        {"access": 1, "description": "Raw 3-axis burst around a suspected impact", "label": "Accel",
         "name": "accel", "property": "accel", "type": "composite",
         "features": [_numeric("fs", "Sample rate", unit="Hz"), _numeric("t0", "First sample, epoch", unit="s"),
                      *({"access": 1, "name": axis, "property": axis, "type": "list", "label": axis.upper(),
                         "item_type": {"access": 1, "name": axis, "type": "numeric", "unit": "g"}}
                        for axis in ("x", "y", "z"))]}]),
}

# A device type's usual model, for devices the builder has no definition for.
_TYPE_MODELS = {"button": "HS1EB/HS1EB-E", "motion": "PIR313-P", "contact": "DWS312", "smoke": "HS1SA",
                "gas": "HS1CG", "water": "SJCGQ11LM", "radar": DEFAULT_RADAR_MODEL, "bed_mat": DEFAULT_BED_MAT_MODEL,
                "wearable": DEFAULT_WEARABLE_MODEL}
_MAINS = {"gas", "radar", "bed_mat"}


def bridge_devices(devices: list[tuple[str, str, str]]) -> bytes:
    """The retained `zigbee2mqtt/bridge/devices` list for (friendly_name, model, device_type) triples.

    The Coordinator comes first, as Zigbee2MQTT publishes it; each device gets its model's definition
    (vendor, description, exposes as in the converter), or its type's usual exposes when the model is
    not one this module knows, plus the `linkquality` expose Zigbee2MQTT adds to every device.
    """
    entries: list[dict[str, Any]] = [{
        "ieee_address": "0x00124b0024c2a5b1", "type": "Coordinator", "network_address": 0, "supported": True,
        "disabled": False, "friendly_name": "Coordinator", "definition": None, "power_source": None,
        "date_code": None, "model_id": None, "endpoints": {"1": {"bindings": [], "configured_reportings": [],
                                                                 "clusters": {"input": [], "output": []}}},
        "interviewing": False, "interview_completed": True}]
    for index, (name, model, device_type) in enumerate(devices, start=1):
        known = _DEFINITIONS.get(model)
        if known is None:
            template = _TYPE_MODELS.get(device_type)
            if template is None:
                raise ValueError(f"{name}: unknown device type {device_type!r}; known: {', '.join(_TYPE_MODELS)}")
            vendor, description, exposes = "Generic", f"{device_type} ({model})", _DEFINITIONS[template][2]
        else:
            vendor, description, exposes = known
        entries.append({
            "ieee_address": f"0x00158d00{index:08x}", "type": "Router" if device_type in _MAINS else "EndDevice",
            "network_address": 1000 + index, "supported": True, "disabled": False, "friendly_name": name,
            "description": None,
            "definition": {"model": model, "vendor": vendor, "description": description, "supports_ota": False,
                           "options": [], "exposes": [*exposes, _linkquality()]},
            "power_source": "Mains (single phase)" if device_type in _MAINS else "Battery",
            "model_id": model, "manufacturer": vendor, "date_code": "20240101",
            "endpoints": {"1": {"bindings": [], "configured_reportings": [],
                                "clusters": {"input": ["genBasic"], "output": []}}},
            "interviewing": False, "interview_completed": True})
    return _encode(entries)
