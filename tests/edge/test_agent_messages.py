"""The agent's device side, without brokers: Zigbee2MQTT topics in, stamped events into the spool."""

from pathlib import Path

import pytest
import yaml

from edge.adapters import ADAPTERS
from edge.agent import EdgeAgent
from edge.config import EXAMPLE_CONFIG, ConfigError, DeviceConfig, EdgeConfig, parse_config
from gateway.protocol import BrokerSettings, EventKind


@pytest.fixture
def agent(tmp_path: Path) -> EdgeAgent:
    devices = (DeviceConfig("sos_button", "button", "bedroom", "pendant"), DeviceConfig("door", "contact", "hall",
                                                                                       "front_door"))
    config = EdgeConfig(home="h1", local=BrokerSettings(), uplink=BrokerSettings(),
                        spool_path=str(tmp_path / "spool.db"), devices=devices)
    return EdgeAgent(config, clock=lambda: 1_800_000_000.0)


def test_press_is_stamped_and_spooled(agent: EdgeAgent) -> None:
    [event, health] = agent.on_device_message("zigbee2mqtt/sos_button", b'{"action":"single","battery":93}')
    assert (health.kind, health.data) == (EventKind.DEVICE_HEALTH, {"battery": 93})
    assert (event.home, event.device, event.kind, event.seq, event.ts) == ("h1", "sos_button", EventKind.SOS, 0,
                                                                           1_800_000_000.0)
    assert (event.room, event.role) == ("bedroom", "pendant")
    [again] = agent.on_device_message("zigbee2mqtt/sos_button", b'{"action":"hold"}')
    assert again.seq == 2 and again.id != event.id  # seq 1 went to the health reading
    assert agent.spool.depth() == 3


def test_sequence_survives_a_restart(agent: EdgeAgent, tmp_path: Path) -> None:
    agent.on_device_message("zigbee2mqtt/sos_button", b'{"action":"single"}')
    agent.spool.close()
    restarted = EdgeAgent(agent.config)
    [event] = restarted.on_device_message("zigbee2mqtt/sos_button", b'{"action":"single"}')
    assert event.seq == 1
    assert restarted.spool.depth() == 2


def test_availability_accepts_json_and_legacy_plain_text(agent: EdgeAgent) -> None:
    [online] = agent.on_device_message("zigbee2mqtt/door/availability", b'{"state":"online"}')
    [offline] = agent.on_device_message("zigbee2mqtt/door/availability", b"offline")
    assert (online.kind, online.value, offline.value) == (EventKind.AVAILABILITY, True, False)


@pytest.mark.parametrize("payload", [b"{broken", b"[1,2]", b'{"contact":"closed"}'])
def test_bad_payloads_are_counted_and_the_next_message_still_works(agent: EdgeAgent, payload: bytes) -> None:
    assert agent.on_device_message("zigbee2mqtt/door", payload) == []
    assert agent.payload_errors["door"] == 1
    [event] = agent.on_device_message("zigbee2mqtt/door", b'{"contact":false}')
    assert event.kind is EventKind.DOOR and event.value is True


def test_unknown_devices_are_reported_once_and_bridge_and_commands_ignored(agent: EdgeAgent) -> None:
    assert agent.on_device_message("zigbee2mqtt/new_sensor", b'{"occupancy":true}') == []
    assert agent.on_device_message("zigbee2mqtt/new_sensor", b'{"occupancy":true}') == []
    assert agent.unknown_devices == {"new_sensor"}
    assert agent.on_device_message("zigbee2mqtt/bridge/state", b'{"state":"online"}') == []
    assert agent.on_device_message("zigbee2mqtt/sos_button/set", b'{"alarm":"on"}') == []
    assert agent.spool.depth() == 0


def test_example_config_parses_as_printed() -> None:
    config = parse_config(yaml.safe_load(EXAMPLE_CONFIG))
    assert config.home == "h0001" and config.uplink.port == 1883
    assert {d.role for d in config.devices} >= {"front_door", "pendant"}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"home": "a/b"}, "home"), ({"devices": [{"name": "x", "type": "toaster"}]}, "devices[0].type"),
     ({"uplink": "http://x"}, "scheme")],
)
def test_config_errors_name_the_field(change: dict[str, object], field: str) -> None:
    raw = {**yaml.safe_load(EXAMPLE_CONFIG), **change}
    with pytest.raises(ConfigError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_config(raw)


def test_an_adapter_bug_costs_one_message_not_the_agent(agent: EdgeAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_adapter(payload: dict[str, object], model: str | None) -> list[object]:
        raise KeyError("bug")

    monkeypatch.setitem(ADAPTERS, "contact", broken_adapter)
    assert agent.on_device_message("zigbee2mqtt/door", b'{"contact":true}') == []
    assert agent.payload_errors["door"] == 1
    [press] = agent.on_device_message("zigbee2mqtt/sos_button", b'{"action":"single"}')
    assert press.kind is EventKind.SOS


def test_repeated_health_is_not_forwarded_but_a_change_is(agent: EdgeAgent) -> None:
    first = agent.on_device_message("zigbee2mqtt/sos_button", b'{"battery":93,"linkquality":120}')
    again = agent.on_device_message("zigbee2mqtt/sos_button", b'{"battery":93,"linkquality":80}')
    low = agent.on_device_message("zigbee2mqtt/sos_button", b'{"battery":9,"linkquality":80}')
    assert [e.kind for e in first] == [EventKind.DEVICE_HEALTH]
    assert again == []
    assert [e.data["battery"] for e in low] == [9]


def test_a_silent_device_is_reported_and_its_return_too(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    config = EdgeConfig(home="h1", local=BrokerSettings(), uplink=BrokerSettings(),
                        spool_path=str(tmp_path / "spool.db"),
                        devices=(DeviceConfig("pendant", "button", "bedroom", checkin_s=600),))
    agent = EdgeAgent(config, clock=lambda: now[0])
    now[0] += 601
    [silent] = agent.check_silence()
    assert (silent.kind, silent.value, silent.data["reason"]) == (EventKind.AVAILABILITY, False, "silent")
    assert agent.check_silence() == []
    assert agent.availability["pendant"] is False
    back = agent.on_device_message("zigbee2mqtt/pendant", b'{"battery":80}')
    assert [(e.kind, e.value) for e in back] == [(EventKind.AVAILABILITY, True), (EventKind.DEVICE_HEALTH, None)]
    assert agent.availability["pendant"] is True
