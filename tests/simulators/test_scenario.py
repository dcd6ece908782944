"""Scenario files: every bundled one loads and validates; broken ones say which field is wrong."""

from __future__ import annotations

import copy
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from simulators.runner import ScenarioRunner
from simulators.scenario import (
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    parse_at,
    parse_duration,
    parse_scenario,
    read_yaml,
)

REQUIRED = {  # the scenarios, one file each: name -> action that must be in its timeline
    "bathroom_fall_night": "fall", "pendant_hold": "press", "kitchen_smoke": "smoke",
    "afternoon_inactivity": "stop_moving", "night_bed_exit": "bed_exit", "abnormal_vitals": "vitals",
    "device_offline": "offline", "battery_low": "battery",
}
VALID: dict[str, Any] = {
    "name": "t", "start": "2025-01-15T02:50:00+08:00", "homes": ["h0001"], "speed": 60, "duration": "30m",
    "timeline": [{"at": "03:00", "do": "fall", "kind": "forward", "room": "bathroom"}],
}


def test_the_required_scenarios_exist() -> None:
    """Guards against a scenario the issue asks for going missing or losing its point."""
    names = {p.stem: p for p in bundled_scenarios()}
    for name, action in REQUIRED.items():
        assert name in names, f"missing scenario {name}"
        assert action in {s.action for s in load_scenario(names[name]).steps}, name


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_scenario_loads_and_runs_dry(path) -> None:
    """Guards against a bundled scenario that validates but fails when run (a step the homes cannot do)."""
    scenario = load_scenario(path)
    assert scenario.description
    if scenario.end_s is None:
        return  # `everyday` runs until stopped
    runner = ScenarioRunner(scenario, speed=math.inf, echo=lambda _line: None)
    messages = runner.messages()
    assert messages and all(m.t >= scenario.start.timestamp() for m in messages)
    assert runner.report.messages == len(messages)


def test_scenario_times_and_durations() -> None:
    """Guards against a 03:00 step running at 3 minutes, or a clock time before start running in the past."""
    start = datetime(2025, 1, 15, 2, 50, tzinfo=timezone(timedelta(hours=8)))
    assert parse_at("03:00", start, "at") == 600
    assert parse_at("02:00", start, "at") == 23 * 3600 + 600  # tomorrow's 02:00
    assert parse_at("1h30m", start, "at") == 5400
    assert parse_at("+90s", start, "at") == 90
    assert parse_at(45, start, "at") == 45
    assert parse_duration("250ms", "d") == pytest.approx(0.25)
    raw = yaml.safe_dump(VALID).replace("'03:00'", "3:00")  # YAML 1.1 would read 3:00 as 180
    scenario = parse_scenario(read_yaml(raw))
    assert scenario.steps[0].at == 600


def _broken(path: str, value: Any) -> dict[str, Any]:
    """VALID with the field at `path` (dots and [i]) set to `value` (or removed, for ...)."""
    raw = copy.deepcopy(VALID)
    keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]
    node = raw
    for key in keys[:-1]:
        node = node[key]
    if value is ...:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return raw


@pytest.mark.parametrize(("path", "value", "message"), [
    ("start", ..., "start: missing"),
    ("start", "2025-01-15T02:50:00", "start: 2025-01-15T02:50:00 has no UTC offset"),
    ("start", "yesterday", "start: expected an ISO 8601"),
    ("name", "", "name: expected"),
    ("colour", "red", "colour: unknown field"),
    ("homes", ["h 1"], r"homes\[0\]: expected a home id"),
    ("speed", -1, "speed: expected"),
    ("duration", "ten minutes", "duration: expected a duration"),
    ("routine", "busy", "routine: expected everyday"),
    ("residents", [{"wake": "late"}], r"residents\[0\]\.wake: expected a number"),
    ("timeline[0].do", "jump", r"timeline\[0\]\.do: expected one of press, fall"),
    ("timeline[0].at", ..., r"timeline\[0\]\.at: missing"),
    ("timeline[0].at", "25:00", r"timeline\[0\]\.at: '25:00' is not a clock time"),
    ("timeline[0].kind", "sideways", r"timeline\[0\]\.kind: expected one of forward"),
    ("timeline[0].knd", "forward", r"timeline\[0\]\.knd: unknown parameter; expected kind, room"),
    ("timeline[0].room", "attic", r"timeline\[0\]\.room: expected a room"),
    ("timeline[0].resident", 2, r"timeline\[0\]\.resident: 2 is out of range"),
    ("timeline[0].home", "h0009", r"timeline\[0\]\.home: 'h0009' is not one of the scenario's homes"),
    ("faults", {"duplicate": 2}, r"faults\.duplicate: expected a number in \[0.0, 1.0\]"),
    ("last_seen", "sometimes", "last_seen: expected disable"),
])
def test_a_broken_scenario_names_the_field(path: str, value: Any, message: str) -> None:
    """Guards against errors that say 'invalid scenario' and leave the author guessing (STYLE #9)."""
    with pytest.raises(ScenarioError, match=message) as info:
        parse_scenario(_broken(path, value), source="broken.yaml")
    assert str(info.value).startswith("broken.yaml: ")


@pytest.mark.parametrize(("step", "message"), [
    ({"at": 0, "do": "offline"}, r"timeline\[0\]\.device: missing"),
    ({"at": 0, "do": "offline", "device": "toaster"}, r"timeline\[0\]\.device: no device 'toaster'"),
    ({"at": 0, "do": "battery", "device": "sos_button", "level": 120}, r"timeline\[0\]\.level: expected a battery"),
    ({"at": 0, "do": "vitals"}, "give at least one of heart_rate"),
    ({"at": 0, "do": "vitals", "heart_rate": [50, 40]}, r"timeline\[0\]\.heart_rate: expected a number"),
    ({"at": 0, "do": "smoke", "room": "bathroom"}, "no smoke device in the bathroom"),
    ({"at": 0, "do": "publish", "payload": {"a": 1}}, "give exactly one of device"),
    ({"at": 0, "do": "fall", "kind": "from_bed"}, r"timeline\[0\]\.room: a fall from_bed happens in the bedroom"),
    ({"at": 0, "do": "uplink_drop"}, r"timeline\[0\]\.for: missing"),
    ({"at": 0, "do": "malformed", "device": "front_door", "kind": "garbled"}, r"timeline\[0\]\.kind: expected"),
])
def test_a_broken_step_names_the_field(step: dict[str, Any], message: str) -> None:
    """Guards against step parameters that are wrong only at run time, hours into a bench run."""
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({**VALID, "timeline": [step]})


def test_a_missing_file_lists_the_bundled_scenarios(tmp_path) -> None:
    """Guards against a bare 'file not found' when the user typed a bundled scenario's name wrong."""
    with pytest.raises(ScenarioError, match="bathroom_fall_night"):
        load_scenario("bathroom_fall")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(bad)
    assert load_scenario("pendant_hold").name == "pendant-press-and-hold"  # bundled, by name


def test_a_fall_at_night_leaves_the_bed_empty_and_the_home_still() -> None:
    """Guards against the fall scenario's point being lost: after the impact nobody moves and nobody goes
    back to bed, while the radar and the wearable report the fall."""
    scenario = load_scenario("bathroom_fall_night")
    messages = ScenarioRunner(scenario, echo=lambda _line: None).messages()
    impact = (scenario.start + timedelta(minutes=30)).timestamp()
    by_device = {d.name: d.type for d in scenario.devices}
    radar_falls = [m for m in messages if m.topic.endswith("/bathroom_radar")
                   and json.loads(m.payload)["fall_down_status"] == "fall"]
    assert radar_falls and impact <= radar_falls[0].t <= impact + 5
    bursts = [json.loads(m.payload)["accel"] for m in messages if m.device == "wearable" and b"accel" in m.payload
              and m.t >= impact]
    assert bursts and len(bursts[0]["x"]) == 500
    peak = max(math.dist((0, 0, 0), v) for v in zip(bursts[0]["x"], bursts[0]["y"], bursts[0]["z"], strict=True))
    assert peak >= 2.0
    after = [m for m in messages if m.t > impact + 5 and by_device.get(m.device or "") == "motion"
             and json.loads(m.payload)["occupancy"]]
    assert after == []
    bed = [(m.t, json.loads(m.payload)["occupancy"]) for m in messages if m.topic.endswith("/bed_mat")]
    assert bed[-1][1] is False and not any(in_bed for t, in_bed in bed if t > impact - 100)
    assert any(in_bed for t, in_bed in bed if t < impact - 150)  # asleep before the lead-in


def test_a_step_for_a_home_the_run_does_not_have_is_refused() -> None:
    """Guards against `--homes 1` silently dropping a step written for h0002."""
    scenario = parse_scenario({**VALID, "homes": ["h0001", "h0002"],
                               "timeline": [{"at": 0, "do": "press", "home": "h0002"}]})
    with pytest.raises(ValueError, match=r"timeline\[0\]\.home: 'h0002' is not among the homes of this run"):
        ScenarioRunner(scenario, homes=1)
    assert len(ScenarioRunner(scenario, echo=lambda _l: None).homes) == 2
