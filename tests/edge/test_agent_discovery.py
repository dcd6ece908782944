"""The agent learns models and types from Zigbee2MQTT's bridge/devices; nothing paired is silently dropped."""

from pathlib import Path

import pytest

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.protocol import BrokerSettings, EventKind
from simulators import z2m


@pytest.fixture
def agent(tmp_path: Path) -> EdgeAgent:
    devices = (DeviceConfig("bath_radar", None, "bathroom"), DeviceConfig("pendant", "button", "bedroom", "pendant"))
    config = EdgeConfig(home="h1", local=BrokerSettings(), uplink=BrokerSettings(),
                        spool_path=str(tmp_path / "spool.db"), devices=devices)
    return EdgeAgent(config, clock=lambda: 1_800_000_000.0)


def test_a_device_without_type_waits_for_discovery_then_its_model_decides_the_fields(agent: EdgeAgent) -> None:
    # Guards against reading an OWON radar with the default Tuya fields, which would miss its falls.
    fall = z2m.radar(True, fall=True, model="FDS315")
    assert agent.on_device_message("zigbee2mqtt/bath_radar", fall) == []
    assert "bath_radar" in agent.unknown_devices
    agent.on_device_message("zigbee2mqtt/bridge/devices", z2m.bridge_devices([("bath_radar", "FDS315", "radar")]))
    events = agent.on_device_message("zigbee2mqtt/bath_radar", fall)
    assert EventKind.FALL in {e.kind for e in events}
    assert {e.room for e in events} == {"bathroom"}


def test_a_paired_but_unconfigured_button_still_raises_sos_and_is_reported(agent: EdgeAgent) -> None:
    agent.on_device_message("zigbee2mqtt/bridge/devices",
                            z2m.bridge_devices([("new_button", "TS0215A_sos", "button")]))
    events = agent.on_device_message("zigbee2mqtt/new_button", z2m.button_press("emergency"))
    assert events[0].kind is EventKind.SOS
    assert events[0].room is None
    assert "new_button" in agent.unknown_devices
    assert b'"unconfigured":["new_button"]' in agent.status(online=True)


def test_an_unreadable_device_list_is_reported_and_changes_nothing(agent: EdgeAgent) -> None:
    agent.on_device_message("zigbee2mqtt/bridge/devices", b'{"not": "a list"}')
    assert agent.discovered == {}
    [press, _health] = agent.on_device_message("zigbee2mqtt/pendant", z2m.button_press("single"))
    assert press.kind is EventKind.SOS


def test_deeply_nested_garbage_is_a_payload_error(agent: EdgeAgent) -> None:
    assert agent.on_device_message("zigbee2mqtt/pendant", b"[" * 100_000 + b"]" * 100_000) == []
    assert agent.payload_errors["pendant"] == 1
