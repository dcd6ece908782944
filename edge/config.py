"""One home's agent configuration, read from YAML once at start-up and validated there."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from gateway.protocol import BrokerSettings, valid_home_id

DEVICE_TYPES = ("button", "motion", "contact", "smoke", "gas", "water", "radar", "wearable", "bed_mat")


class ConfigError(ValueError):
    """The configuration file is unusable; the message names the field."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """A paired device: its Zigbee2MQTT friendly name, what it is, and where it is.

    Only the name, room and role must be written by hand: type and model are learned from
    Zigbee2MQTT's retained device list when left out.
    """

    name: str
    type: str | None  # None: learned from Zigbee2MQTT's bridge/devices list
    room: str | None = None
    role: str | None = None
    model: str | None = None  # Zigbee2MQTT model id; picks a model-specific mapping where one exists
    checkin_s: float | None = None  # longest silence of a working device; default by type (edge.health)


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """Everything one home's agent needs: its id, both brokers, its spool and its devices."""

    home: str
    local: BrokerSettings
    uplink: BrokerSettings
    spool_path: str
    z2m_base_topic: str = "zigbee2mqtt"
    heartbeat_s: float = 60.0
    devices: tuple[DeviceConfig, ...] = field(default_factory=tuple)
    spool_max_events: int = 200_000
    timezone: str | None = None  # IANA zone of the home, e.g. Asia/Shanghai; default: the hub's own zone

    @property
    def device_by_name(self) -> dict[str, DeviceConfig]:
        return {d.name: d for d in self.devices}


def _broker(section: Any, where: str) -> BrokerSettings:
    if isinstance(section, str):
        return BrokerSettings.from_url(section)
    if not isinstance(section, dict) or "url" not in section:
        raise ConfigError(f"{where}: expected a broker URL or a mapping with 'url', got {section!r}")
    extra = {k: section[k] for k in ("ca_file", "cert_file", "key_file", "tls_insecure", "tls") if k in section}
    settings = BrokerSettings.from_url(section["url"], **extra)
    if section.get("username") is not None:
        settings = replace(settings, username=str(section["username"]), password=section.get("password"))
    return settings


def _device(raw: Any, index: int) -> DeviceConfig:
    where = f"devices[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with name and type, got {raw!r}")
    name, kind = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: expected the device's Zigbee2MQTT friendly name, got {name!r}")
    if kind is not None and kind not in DEVICE_TYPES:
        raise ConfigError(f"{where}.type: expected one of {', '.join(DEVICE_TYPES)} (or leave it out to learn it "
                          f"from Zigbee2MQTT), got {kind!r}")
    for text_field in ("room", "role", "model"):
        value = raw.get(text_field)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}.{text_field}: expected a string, got {value!r}")
    checkin = raw.get("checkin_s")
    if checkin is not None and (not isinstance(checkin, int | float) or checkin <= 0):
        raise ConfigError(f"{where}.checkin_s: expected a positive number of seconds, got {checkin!r}")
    return DeviceConfig(name=name, type=kind, room=raw.get("room"), role=raw.get("role"), model=raw.get("model"),
                        checkin_s=float(checkin) if checkin is not None else None)


def parse_config(raw: Any, *, base_dir: Path | None = None) -> EdgeConfig:
    """Validate a decoded YAML document into an `EdgeConfig`."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a YAML mapping")
    home = raw.get("home")
    if not isinstance(home, str) or not valid_home_id(home):
        raise ConfigError(f"home: expected a home id (no '/', '+', '#', spaces), got {home!r}")
    for key in ("local_broker", "uplink"):
        if key not in raw:
            raise ConfigError(f"{key}: missing; expected a broker URL such as mqtt://127.0.0.1:1883")
    try:
        local, uplink = _broker(raw["local_broker"], "local_broker"), _broker(raw["uplink"], "uplink")
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    spool = str(raw.get("spool_path") or f"{home}-spool.db")
    if base_dir is not None and not Path(spool).is_absolute():
        spool = str(base_dir / spool)
    devices = tuple(_device(d, i) for i, d in enumerate(raw.get("devices") or []))
    names = [d.name for d in devices]
    if len(set(names)) != len(names):
        raise ConfigError(f"devices: friendly names must be unique, got {names}")
    return EdgeConfig(
        home=home,
        local=local,
        uplink=uplink,
        spool_path=spool,
        z2m_base_topic=str(raw.get("z2m_base_topic", "zigbee2mqtt")).rstrip("/"),
        heartbeat_s=float(raw.get("heartbeat_s", 60.0)),
        devices=devices,
        spool_max_events=int(raw.get("spool_max_events", 200_000)),
        timezone=_timezone(raw.get("timezone")),
    )


def _timezone(name: Any) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: expected an IANA zone such as Asia/Shanghai, got {name!r}") from None
    return str(name)


def load_config(path: str | Path) -> EdgeConfig:
    """Read and validate an agent configuration file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return parse_config(raw, base_dir=path.parent)


EXAMPLE_CONFIG = """\
# HomeSafe edge agent: one home's hub. Runs as it is against brokers on 127.0.0.1:1883.
home: h0001                          # the home's id, as registered on the server
local_broker: mqtt://127.0.0.1:1883  # the hub's broker, where Zigbee2MQTT publishes
uplink:                              # the central broker the gateway reads
  url: mqtt://127.0.0.1:1883         # mqtts://host:8883 for TLS
  username: null                     # optional credentials
  password: null
  # ca_file: /etc/homesafe/ca.pem    # TLS: CA bundle; cert_file/key_file for client certificates
z2m_base_topic: zigbee2mqtt          # Zigbee2MQTT's base_topic setting
spool_path: h0001-spool.db           # durable store-and-forward queue (relative to this file)
heartbeat_s: 60                      # status heartbeat period
spool_max_events: 200000             # bound of the spool; bulk telemetry is dropped first, alarms never
# timezone: Asia/Shanghai            # the home's zone (routines are learned in local time); default: the hub's
devices:                             # Zigbee2MQTT friendly name, type, room, role (type and model are
  - {name: sos_button, type: button, room: bedroom, role: pendant}   # learned from Zigbee2MQTT if left out)
  - {name: hall_motion, type: motion, room: hallway}
  - {name: front_door, type: contact, room: hallway, role: front_door}
"""
