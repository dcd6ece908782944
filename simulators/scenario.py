"""Scenarios as data: YAML files naming the homes, the simulated start, the speed, the background routine
and a timeline of steps. `load_scenario` validates a file into a `Scenario`; every error names the field.

    name: bathroom-fall-at-night
    homes: [h0001]                       # or a count: 3 -> h0001..h0003
    start: "2025-01-15T02:50:00+08:00"   # simulated clock; the offset is the homes' time zone
    speed: 60                            # simulated seconds per real second; "max" = as fast as possible
    duration: 40m                        # simulated; default: 10 minutes after the last step
    routine: everyday                    # the residents' background life, or none
    timeline:
      - at: "03:00"                      # a clock time (the first one at or after start), or an offset: 10m
        do: fall                         # the action, then its parameters
        kind: forward
        room: bathroom

Clock times must be quoted or written with two-digit hours ("03:00"): YAML 1.1 reads 3:00 as 180.
This loader reads it as a clock time anyway.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml

from gateway.protocol import valid_home_id
from simulators.devices import DEFAULT_DEVICES, LAST_SEEN_FORMATS, SimDevice, parse_devices
from simulators.faults import MALFORMED_KINDS, FaultSettings
from simulators.home import HomeOptions
from simulators.residents import OUT, ROOMS, Routine
from simulators.wearable import FALLS

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file is unusable; the message names the file and the field."""


# -- YAML without sexagesimal numbers ------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """SafeLoader, except that 3:00 stays the string "3:00" instead of YAML 1.1's integer 180."""


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


# -- values ----------------------------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_duration(value: Any, where: str) -> float:
    """Seconds from 90, 1.5, "90s", "10m", "1h30m", "2d" or "250ms"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or not math.isfinite(value):
            raise ScenarioError(f"{where}: expected a duration >= 0, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().lstrip("+").replace(" ", "")
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
            return sum(float(n) * scale[u] for n, u in parts)
    raise ScenarioError(f"{where}: expected a duration such as 90, 90s, 10m, 1h30m or 2d; got {value!r}")


def parse_at(value: Any, start: datetime, where: str) -> float:
    """Seconds after `start` for a step time: an offset (10m, +1h, 600) or a clock time ("03:00", first
    occurrence at or after start in the start's time zone)."""
    if isinstance(value, str) and (match := _CLOCK.match(value.strip())):
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ScenarioError(f"{where}: {value!r} is not a clock time (HH:MM or HH:MM:SS)")
        at = start.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if at < start:
            at += timedelta(days=1)
        return (at - start).total_seconds()
    try:
        return parse_duration(value, where)
    except ScenarioError:
        raise ScenarioError(f"{where}: expected an offset from start (10m, 1h30m, 600) or a clock time "
                            f"(\"03:00\"); got {value!r}") from None


def _parse_start(value: Any, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{where}: expected an ISO 8601 date-time with a UTC offset, e.g. "
                                f"2025-01-15T02:50:00+08:00; got {value!r}") from None
    if not isinstance(value, datetime):
        raise ScenarioError(f"{where}: expected an ISO 8601 date-time with a UTC offset, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ScenarioError(f"{where}: {value.isoformat()} has no UTC offset; write e.g. "
                            f"{value.isoformat()}+08:00 so the homes' local time is known")
    return value


# -- step parameters ---------------------------------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def _choice(*options: str) -> Check:
    def check(value: Any, where: str) -> str:
        if value not in options:
            raise ScenarioError(f"{where}: expected one of {', '.join(options)}; got {value!r}")
        return str(value)
    return check


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: expected true or false, got {value!r}")
    return value


def _number(low: float = -math.inf, high: float = math.inf) -> Check:
    def check(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ScenarioError(f"{where}: expected a number in [{low}, {high}], got {value!r}")
        return float(value)
    return check


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"{where}: expected a whole number >= 1, got {value!r}")
    return value


def _resident(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScenarioError(f"{where}: expected a resident index (0 = the first), got {value!r}")
    return value


def _level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ScenarioError(f"{where}: expected a battery level 0-100 (%), got {value!r}")
    return value


def _vital(value: Any, where: str) -> float | tuple[float, float]:
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value) and value[0] <= value[1]:
        return (float(value[0]), float(value[1]))
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise ScenarioError(f"{where}: expected a number >= 0 or a range [low, high], got {value!r}")


def _room(value: Any, where: str) -> str:
    if value not in ROOMS:
        raise ScenarioError(f"{where}: expected a room, one of {', '.join(ROOMS)}; got {value!r}")
    return str(value)


def _destination(value: Any, where: str) -> str:
    if value != OUT and value not in ROOMS:
        raise ScenarioError(f"{where}: expected a room ({', '.join(ROOMS)}) or out; got {value!r}")
    return str(value)


def _probability(value: Any, where: str) -> float:
    return float(_number(0.0, 1.0)(value, where))


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ScenarioError(f"{where}: expected a list of device friendly names, got {value!r}")
    return tuple(value)


def _qos(value: Any, where: str) -> int:
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ScenarioError(f"{where}: expected an MQTT QoS 0, 1 or 2; got {value!r}")
    return int(value)


def _payload(value: Any, where: str) -> Any:
    if not isinstance(value, dict | str):
        raise ScenarioError(f"{where}: expected a mapping (sent as JSON) or a string (sent as is), got {value!r}")
    return value


_REQUIRED = object()
_FAULTS: dict[str, tuple[Check, Any]] = {
    "duplicate": (_probability, 0.0), "out_of_order": (_probability, 0.0), "malformed": (_probability, 0.0),
    "clock_skew": (_number(-1e9, 1e9), 0.0), "devices": (_names, None),
}
# action -> parameter -> (check, default). `home` and `at` are common to all steps.
ACTIONS: dict[str, dict[str, tuple[Check, Any]]] = {
    "press": {"action": (_string, "single"), "device": (_string, None), "count": (_count, 1),
              "interval": (parse_duration, 2.0)},
    "fall": {"kind": (_choice(*FALLS), "forward"), "room": (_room, "bathroom"),
             "then": (_choice("lie", "get_up"), "lie"),
             "wearable": (_choice("burst", "event", "both", "none"), "burst"), "radar": (_boolean, True),
             "resident": (_resident, 0), "lead": (parse_duration, 120.0)},
    "stop_moving": {"room": (_room, "living_room"), "resident": (_resident, 0), "lead": (parse_duration, 120.0)},
    "bed_exit": {"to": (_destination, "bathroom"), "return": (_boolean, False), "after": (parse_duration, 600.0),
                 "resident": (_resident, 0), "lead": (parse_duration, 600.0)},
    "vitals": {"heart_rate": (_vital, None), "breathing_rate": (_vital, None), "movement": (_vital, None),
               "for": (parse_duration, 600.0), "then": (_choice("stay", "resume"), "stay"),
               "lead": (parse_duration, 300.0)},
    "smoke": {"room": (_room, None), "device": (_string, None), "clear_after": (parse_duration, None)},
    "gas": {"room": (_room, None), "device": (_string, None), "clear_after": (parse_duration, None)},
    "water_leak": {"room": (_room, None), "device": (_string, None), "clear_after": (parse_duration, None)},
    "offline": {"device": (_string, _REQUIRED), "for": (parse_duration, None)},
    "flap": {"device": (_string, _REQUIRED), "count": (_count, 6), "interval": (parse_duration, 5.0)},
    "battery": {"device": (_string, _REQUIRED), "level": (_level, _REQUIRED), "from": (_level, None),
                "over": (parse_duration, 0.0), "every": (parse_duration, 600.0)},
    "malformed": {"device": (_string, _REQUIRED), "kind": (_choice(*MALFORMED_KINDS), "not_json"),
                  "count": (_count, 1)},
    "faults": {**_FAULTS, "for": (parse_duration, None)},
    "uplink_drop": {"for": (parse_duration, _REQUIRED)},
    "visitor": {"stay": (parse_duration, 1800.0), "resident": (_resident, 0)},
    "go_out": {"for": (parse_duration, 3600.0), "resident": (_resident, 0)},
    "publish": {"device": (_string, None), "topic": (_string, None), "payload": (_payload, _REQUIRED),
                "qos": (_qos, 0), "retain": (_boolean, False)},
    "announce": {},
    "log": {"message": (_string, _REQUIRED)},
}


@dataclass(frozen=True, slots=True)
class Step:
    """At `at` seconds after the start, do `action` with `params` in `home` (None: every home)."""

    index: int
    at: float
    action: str
    params: dict[str, Any]
    home: str | None = None

    @property
    def where(self) -> str:
        return f"timeline[{self.index}]"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file."""

    name: str
    start: datetime
    homes: tuple[str, ...] = ("h0001",)
    description: str = ""
    speed: float = 60.0
    duration_s: float | None = None
    routine: bool = True
    routines: tuple[Routine, ...] = (Routine(),)
    devices: tuple[SimDevice, ...] = DEFAULT_DEVICES
    base_topic: str | None = None
    announce: bool = True
    options: HomeOptions = field(default_factory=HomeOptions)
    faults: FaultSettings = field(default_factory=FaultSettings)
    clock_skew_s: float = 0.0
    seed: int = 1
    steps: tuple[Step, ...] = ()
    source: str = "<scenario>"

    @property
    def tz(self) -> tzinfo:
        return self.start.tzinfo or UTC

    @property
    def end_s(self) -> float | None:
        """Simulated seconds the scenario runs: its duration, or 10 minutes after its last step."""
        if self.duration_s is not None:
            return self.duration_s
        if not self.steps:
            return None
        return max(_step_span(s) for s in self.steps) + 600.0


def _step_span(step: Step) -> float:
    p = step.params
    extra = sum(float(p.get(key) or 0.0) for key in ("for", "clear_after", "over", "stay"))
    if step.action in ("press", "flap"):
        extra += (p["count"] - 1) * p["interval"]
    if step.action == "bed_exit" and p["return"]:
        extra += p["after"]
    return step.at + extra


_TOP = ("name", "description", "homes", "start", "speed", "duration", "routine", "residents", "devices",
        "base_topic", "bridge_devices", "last_seen", "seed", "faults", "report", "timeline")


def parse_scenario(raw: Any, *, source: str = "<scenario>") -> Scenario:
    """Validate a decoded YAML document into a `Scenario`; `ScenarioError` names the field at fault."""
    try:
        return _parse(raw, source)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def _parse(raw: Any, source: str) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("expected a YAML mapping with name, start and timeline")
    for key in raw:
        if key not in _TOP:
            raise ScenarioError(f"{key}: unknown field; expected one of {', '.join(_TOP)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"name: expected the scenario's name, got {name!r}")
    if "start" not in raw:
        raise ScenarioError("start: missing; expected an ISO 8601 date-time with a UTC offset, e.g. "
                            "2025-01-15T02:50:00+08:00")
    start = _parse_start(raw["start"], "start")
    homes = _parse_homes(raw.get("homes", ["h0001"]))
    speed = _parse_speed(raw.get("speed", 60))
    duration = None if raw.get("duration") is None else parse_duration(raw["duration"], "duration")
    routine = raw.get("routine", "everyday")
    if routine not in ("everyday", "none"):
        raise ScenarioError(f"routine: expected everyday (residents live their day) or none, got {routine!r}")
    routines = _parse_residents(raw.get("residents", [{}]))
    devices = DEFAULT_DEVICES
    if raw.get("devices", "default") != "default":
        try:
            devices = parse_devices(raw["devices"])
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
    base_topic = raw.get("base_topic")
    if base_topic is not None and (not isinstance(base_topic, str) or not base_topic):
        raise ScenarioError(f"base_topic: expected a topic such as zigbee2mqtt/{{home}}, got {base_topic!r}")
    if len(homes) > 1 and base_topic is not None and "{home}" not in base_topic:
        raise ScenarioError(f"base_topic: several homes need distinct topics: put {{home}} in it, got {base_topic!r}")
    last_seen = raw.get("last_seen")
    if last_seen not in (None, "disable", *LAST_SEEN_FORMATS):
        raise ScenarioError(f"last_seen: expected disable, {' or '.join(LAST_SEEN_FORMATS)}; got {last_seen!r}")
    seed = raw.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(f"seed: expected a whole number, got {seed!r}")
    announce = _boolean(raw.get("bridge_devices", True), "bridge_devices")
    faults, skew = _parse_faults(raw.get("faults") or {}, "faults", set(d.name for d in devices))
    options = _parse_report(raw.get("report") or {}, last_seen if last_seen != "disable" else None)
    timeline = raw.get("timeline") or []
    if not isinstance(timeline, list):
        raise ScenarioError(f"timeline: expected a list of steps (at, do, parameters), got {timeline!r}")
    context = _Context(start, homes, {d.name for d in devices}, devices, len(routines))
    steps = tuple(sorted((_parse_step(item, i, context) for i, item in enumerate(timeline)), key=lambda s: s.at))
    if not isinstance(raw.get("description", ""), str):
        raise ScenarioError("description: expected text")
    return Scenario(name=name, description=raw.get("description", ""), start=start, homes=homes, speed=speed,
                    duration_s=duration, routine=routine == "everyday", routines=tuple(routines), devices=devices,
                    base_topic=base_topic, announce=announce, options=options, faults=faults, clock_skew_s=skew,
                    seed=seed, steps=steps, source=source)


def _parse_residents(value: Any) -> list[Routine]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"residents: expected a list of routine settings, one per resident; got {value!r}")
    routines = []
    for i, resident in enumerate(value):
        try:
            routines.append(Routine.from_mapping(resident or {}, f"residents[{i}]"))
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
    return routines


def _parse_homes(value: Any) -> tuple[str, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ScenarioError(f"homes: expected a count >= 1 or a list of home ids, got {value}")
        return tuple(f"h{i:04d}" for i in range(1, value + 1))
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"homes: expected a count or a list of home ids, got {value!r}")
    for i, home in enumerate(value):
        if not isinstance(home, str) or not valid_home_id(home):
            raise ScenarioError(f"homes[{i}]: expected a home id (no '/', '+', '#', spaces), got {home!r}")
    if len(set(value)) != len(value):
        raise ScenarioError(f"homes: home ids must be unique, got {value}")
    return tuple(value)


def _parse_speed(value: Any) -> float:
    if value in ("max", "inf"):
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ScenarioError(f"speed: expected simulated seconds per real second (> 0), or max; got {value!r}")
    return float(value)


def _parse_faults(raw: Any, where: str, names: set[str]) -> tuple[FaultSettings, float]:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a mapping of {', '.join(_FAULTS)}; got {raw!r}")
    values = _parse_params(raw, _FAULTS, where)
    for name in values["devices"] or ():
        if name not in names:
            raise ScenarioError(f"{where}.devices: no device {name!r}; the homes have {', '.join(sorted(names))}")
    devices = frozenset(values["devices"]) if values["devices"] else None
    settings = FaultSettings(duplicate=values["duplicate"], out_of_order=values["out_of_order"],
                             malformed=values["malformed"], devices=devices)
    return settings, values["clock_skew"]


def _parse_report(raw: Any, last_seen: str | None) -> HomeOptions:
    spec = {"bed_s": "bed_report_s", "bed_idle_s": "bed_idle_report_s", "wearable_s": "wearable_report_s",
            "checkin_s": "checkin_s", "wearable_fs": "wearable_fs",
            "wearable_bursts_per_day": "wearable_bursts_per_day"}
    if not isinstance(raw, dict):
        raise ScenarioError(f"report: expected a mapping of {', '.join(spec)}; got {raw!r}")
    values: dict[str, Any] = {"last_seen": last_seen}
    for key, value in raw.items():
        if key not in spec:
            raise ScenarioError(f"report.{key}: unknown setting; expected one of {', '.join(spec)}")
        if key == "wearable_bursts_per_day":
            values[spec[key]] = _number(0, 1000)(value, f"report.{key}")
        else:
            seconds = parse_duration(value, f"report.{key}") if key != "wearable_fs" else \
                _number(1, 2000)(value, f"report.{key}")
            if seconds <= 0:
                raise ScenarioError(f"report.{key}: expected a positive value, got {value!r}")
            values[spec[key]] = seconds
    return HomeOptions(**values)


@dataclass(frozen=True, slots=True)
class _Context:
    start: datetime
    homes: tuple[str, ...]
    device_names: set[str]
    devices: tuple[SimDevice, ...]
    residents: int


def _parse_params(raw: dict[str, Any], spec: dict[str, tuple[Check, Any]], where: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in spec:
            expected = ", ".join(spec) or "no parameters"
            raise ScenarioError(f"{where}.{key}: unknown parameter; expected {expected}")
        params[key] = spec[key][0](value, f"{where}.{key}") if value is not None else None
    for key, (_check, default) in spec.items():
        if params.get(key) is None:
            if default is _REQUIRED:
                raise ScenarioError(f"{where}.{key}: missing; this step needs it")
            params[key] = default
    return params


def _parse_step(item: Any, index: int, ctx: _Context) -> Step:
    where = f"timeline[{index}]"
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: expected a mapping with at, do and the action's parameters; got {item!r}")
    if "at" not in item:
        raise ScenarioError(f"{where}.at: missing; expected an offset (10m) or a clock time (\"03:00\")")
    action = item.get("do")
    if action not in ACTIONS:
        raise ScenarioError(f"{where}.do: expected one of {', '.join(ACTIONS)}; got {action!r}")
    at = parse_at(item["at"], ctx.start, f"{where}.at")
    home = item.get("home")
    if home is not None and home not in ctx.homes:
        raise ScenarioError(f"{where}.home: {home!r} is not one of the scenario's homes ({', '.join(ctx.homes)})")
    raw = {k: v for k, v in item.items() if k not in ("at", "do", "home")}
    params = _parse_params(raw, ACTIONS[action], where)
    _check_step(action, params, where, ctx)
    return Step(index=index, at=at, action=action, params=params, home=home)


def _check_step(action: str, params: dict[str, Any], where: str, ctx: _Context) -> None:
    device = params.get("device")
    if device is not None and device not in ctx.device_names:
        raise ScenarioError(f"{where}.device: no device {device!r}; the homes have "
                            f"{', '.join(sorted(ctx.device_names))}")
    if params.get("resident", 0) >= ctx.residents:
        raise ScenarioError(f"{where}.resident: {params['resident']} is out of range; the scenario has "
                            f"{ctx.residents} resident(s), numbered from 0")
    types = {"smoke": "smoke", "gas": "gas", "water_leak": "water"}
    if action in types:
        wanted = types[action]
        chosen = [d for d in ctx.devices if d.type == wanted and (device is None or d.name == device)
                  and (params["room"] is None or d.room == params["room"])]
        if not chosen:
            raise ScenarioError(f"{where}: no {wanted} device{' in the ' + params['room'] if params['room'] else ''}"
                                f"{' named ' + repr(device) if device else ''} in the homes")
    if action == "press":
        button = device or next((d.name for d in ctx.devices if d.type == "button"), None)
        if button is None:
            raise ScenarioError(f"{where}: the homes have no button; add one or name a wearable in device")
    if action == "publish" and (params["device"] is None) == (params["topic"] is None):
        raise ScenarioError(f"{where}: give exactly one of device (its Zigbee2MQTT topic) or topic "
                            f"(relative to the base topic)")
    if action == "faults":
        for name in params["devices"] or ():
            if name not in ctx.device_names:
                raise ScenarioError(f"{where}.devices: no device {name!r}")
    if action == "vitals" and all(params[k] is None for k in ("heart_rate", "breathing_rate", "movement")):
        raise ScenarioError(f"{where}: give at least one of heart_rate, breathing_rate, movement")
    if action == "fall" and params["kind"] == "from_bed" and params["room"] != "bedroom":
        raise ScenarioError(f"{where}.room: a fall from_bed happens in the bedroom, got {params['room']!r}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a bare name finds a bundled one in simulators/scenarios/."""
    path = resolve_scenario(path)
    try:
        raw = read_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    return parse_scenario(raw, source=str(path))


def read_yaml(text: str) -> Any:
    """Decode scenario YAML: safe (no arbitrary objects), and 3:00 is a clock time, not 180."""
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass


def resolve_scenario(name: str | Path) -> Path:
    """`name` as a path, or the bundled scenario of that name (with or without .yaml)."""
    path = Path(name)
    if path.exists():
        return path
    bundled = SCENARIO_DIR / (path.name if path.suffix else f"{path.name}.yaml")
    if bundled.exists():
        return bundled
    known = ", ".join(p.stem for p in bundled_scenarios())
    raise ScenarioError(f"no scenario file {str(name)!r}; give a path or one of the bundled scenarios: {known}")


def bundled_scenarios() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))
