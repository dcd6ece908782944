"""The edge agent loses nothing: not in a 30 s uplink outage, not when it is killed with SIGKILL mid-drain.

Real Mosquitto on both sides: the shared broker as the home's local broker, a private one (with
persistence, as production must run it) as the uplink, which the test stops and restarts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings, EventKind, decode_event
from gateway.service import Gateway
from simulators import z2m
from simulators.mosquitto import MosquittoProcess
from tests.harness import LoopThread, Publisher, Recorder, wait_until

pytestmark = pytest.mark.slow

DEVICES = (DeviceConfig("pendant", "button", "bedroom", "pendant"), DeviceConfig("hall_pir", "motion", "hallway"))


@pytest.fixture
def uplink() -> MosquittoProcess:
    with MosquittoProcess(persistence=True) as mosquitto:
        yield mosquitto


def _gateway(uplink: MosquittoProcess, tmp_path: Path) -> Gateway:
    config = GatewayConfig(broker=BrokerSettings(port=uplink.port), server_url="http://127.0.0.1:9",
                           worker_id=f"test-{uuid.uuid4().hex[:8]}", outbox_path=str(tmp_path / "outbox.db"))
    gateway = Gateway(config)
    gateway.start()
    gateway.wait_connected()
    return gateway


def test_uplink_outage_of_30_s_loses_nothing_and_sends_sos_first(
    broker: BrokerSettings, uplink: MosquittoProcess, home_id: str, tmp_path: Path, loop_thread: LoopThread
) -> None:
    gateway = _gateway(uplink, tmp_path)
    recorder = Recorder(BrokerSettings(port=uplink.port), f"rec-{home_id}")
    agent = EdgeAgent(EdgeConfig(home=home_id, local=broker, uplink=BrokerSettings(port=uplink.port),
                                 spool_path=str(tmp_path / "spool.db"), z2m_base_topic=f"zigbee2mqtt/{home_id}",
                                 devices=DEVICES))
    loop_thread.spawn(agent.run())
    devices = Publisher(broker, f"dev-{home_id}")
    base = f"zigbee2mqtt/{home_id}"
    try:
        wait_until(lambda: agent.uplink_connected.is_set() and agent.local_connected.is_set(), what="agent up")
        devices.publish(f"{base}/hall_pir", z2m.motion(True))
        wait_until(lambda: agent.events_stored > 0 and agent.spool.depth() == 0
                   and len(recorder.events()) == agent.events_stored, what="the first motion upstream")
        before_outage = len(recorder.events())

        uplink.stop()
        outage_started = time.time()
        sent_during_outage = 0
        for second in range(30):
            devices.publish(f"{base}/hall_pir", z2m.motion(second % 2 == 0))
            sent_during_outage += 1
            if second == 12:
                devices.publish(f"{base}/pendant", z2m.button_press("hold"))
                sent_during_outage += 1
            time.sleep(1.0)
        def spooled_kinds() -> Counter[str]:
            return Counter(decode_event(body, home_id, time.time()).kind  # type: ignore[union-attr]
                           for _, _, body in agent.spool.peek(1000))

        wait_until(lambda: spooled_kinds()[EventKind.MOTION] == sent_during_outage - 1, what="every motion spooled")
        assert spooled_kinds()[EventKind.SOS] == 1
        spooled = agent.spool.depth()
        assert len(recorder.events()) == before_outage, "nothing can have gone up while the uplink was down"

        uplink.start()
        restarted = time.time()
        wait_until(lambda: agent.spool.depth() == 0, timeout_s=30, what="the spool to drain")
        wait_until(lambda: gateway.worker.accepted == before_outage + spooled, timeout_s=15,
                   what="every event at the gateway")
        time.sleep(0.5)
    finally:
        raised = [(a.type, a.evidence) for _, a in gateway.outbox.peek()]
        devices.close()
        recorder.close()
        gateway.stop()

    events = recorder.events()
    ids = Counter(event.id for event in events)
    assert len(ids) == before_outage + spooled, "every event arrived"
    assert gateway.worker.accepted == len(ids), "the gateway counted each once"
    assert gateway.worker.alerts_raised == 1, raised
    after_outage = events[before_outage:]
    assert after_outage[0].kind is EventKind.SOS, "the SOS drained first"
    assert all(outage_started - 1 < e.ts < restarted for e in after_outage), "original timestamps kept"
    motions = [e for e in after_outage if e.kind is EventKind.MOTION]
    assert [e.seq for e in motions] == sorted(e.seq for e in motions), "order kept within a class"


def test_sigkill_mid_drain_loses_and_duplicates_nothing_at_the_gateway(
    private_broker: MosquittoProcess, uplink: MosquittoProcess, home_id: str, tmp_path: Path
) -> None:
    # The home's broker queues without limit here; a stock Mosquitto keeps only 1,000 messages for an
    # offline or slow session (max_queued_messages), which a burst of 3,000 would overflow.
    broker = BrokerSettings(port=private_broker.port)
    config_path = tmp_path / "home.yaml"
    config_path.write_text(yaml.safe_dump({
        "home": home_id, "local_broker": broker.url, "uplink": f"mqtt://127.0.0.1:{uplink.port}",
        "z2m_base_topic": f"zigbee2mqtt/{home_id}", "spool_path": "spool.db", "heartbeat_s": 5,
        "devices": [{"name": d.name, "type": d.type, "room": d.room, "role": d.role} for d in DEVICES],
    }))
    gateway = _gateway(uplink, tmp_path)
    recorder = Recorder(BrokerSettings(port=uplink.port), f"rec-{home_id}")
    devices = Publisher(broker, f"dev-{home_id}")
    command = [sys.executable, "-m", "homesafe.cli", "edge", "--config", str(config_path)]
    agent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 3000
    try:
        wait_until(lambda: recorder.messages, timeout_s=10, what="the agent's online status")
        uplink.stop()  # build a backlog in the spool, then kill the agent while it drains it
        for i in range(total - 200):
            devices.publish(f"zigbee2mqtt/{home_id}/hall_pir", z2m.motion(i % 2 == 0))
        time.sleep(1.0)
        uplink.start()
        wait_until(lambda: len(recorder.events()) >= 300, timeout_s=30, what="the drain to start")
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait(5)
        drained_before_kill = len({e.id for e in recorder.events() if e.kind is EventKind.MOTION})
        for i in range(200):  # published while the agent is dead: they wait in its local persistent session
            devices.publish(f"zigbee2mqtt/{home_id}/hall_pir", z2m.motion(i % 2 == 0))
        agent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: gateway.worker.accepted >= total, timeout_s=60, what="every event at the gateway")
        time.sleep(1.0)
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(10)
        devices.close()
        recorder.close()
        gateway.stop()

    events = recorder.events()
    motions = {e.id: e.seq for e in events if e.kind is EventKind.MOTION}
    assert drained_before_kill < total, "the kill came mid-drain"
    assert len(motions) == total, "nothing lost"
    assert gateway.worker.accepted == len({e.id for e in events}), "nothing counted twice at the gateway"
    assert gateway.worker.stats()["seq_gaps"] == 0, "per-device sequence survives the kill without gaps"
