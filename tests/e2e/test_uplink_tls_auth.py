"""TLS and username/password to the central broker are configuration, not code.

A real Mosquitto with a TLS listener (a CA and server certificate made here with openssl) and a
password file; the edge agent and the gateway reach it from their configuration alone.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from edge.agent import EdgeAgent
from edge.config import parse_config
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings
from gateway.service import Gateway
from simulators import z2m
from simulators.mosquitto import MosquittoProcess
from tests.harness import LoopThread, Publisher, wait_until

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("mosquitto_passwd") is None,
                                reason="needs openssl and mosquitto_passwd (Debian: openssl, mosquitto)")


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MosquittoProcess, Path]]:
    tmp = tmp_path_factory.mktemp("tls")
    ca_key, ca_crt, key, csr, crt = (str(tmp / n) for n in ("ca.key", "ca.crt", "server.key", "server.csr",
                                                             "server.crt"))
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt,
         "-days", "2", "-subj", "/CN=HomeSafe test CA")
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    (tmp / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-out", crt,
         "-days", "2", "-extfile", str(tmp / "san.ext"))
    passwords = tmp / "passwd"
    _run("mosquitto_passwd", "-b", "-c", str(passwords), "hub", "s3cret/with:chars")
    _run("mosquitto_passwd", "-b", str(passwords), "gateway", "gw-pass")
    for path in (key, str(passwords)):
        Path(path).chmod(0o600)
    with MosquittoProcess(password_file=str(passwords), certfile=crt, keyfile=key) as mosquitto:
        yield mosquitto, Path(ca_crt)


def _agent(home: str, local: BrokerSettings, uplink: dict[str, object], tmp_path: Path) -> EdgeAgent:
    raw = {"home": home, "local_broker": local.url, "uplink": uplink, "spool_path": str(tmp_path / "spool.db"),
           "z2m_base_topic": f"zigbee2mqtt/{home}",
           "devices": [{"name": "pendant", "type": "button", "room": "bedroom"}]}
    return EdgeAgent(parse_config(yaml.safe_load(yaml.safe_dump(raw))))


def test_agent_and_gateway_work_over_tls_with_passwords_from_configuration(
    secure_broker: tuple[MosquittoProcess, Path], broker: BrokerSettings, tmp_path: Path, loop_thread: LoopThread
) -> None:
    mosquitto, ca = secure_broker
    home = f"tls{uuid.uuid4().hex[:8]}"
    gateway = Gateway(GatewayConfig(
        broker=BrokerSettings.from_url(f"mqtts://gateway:gw-pass@127.0.0.1:{mosquitto.port}", ca_file=str(ca)),
        server_url="http://127.0.0.1:9", worker_id=f"test-{home}", outbox_path=str(tmp_path / "outbox.db")))
    gateway.start()
    agent = _agent(home, broker, {"url": f"mqtts://127.0.0.1:{mosquitto.port}", "username": "hub",
                                  "password": "s3cret/with:chars", "ca_file": str(ca)}, tmp_path)
    loop_thread.spawn(agent.run())
    device = Publisher(broker, f"dev-{home}")
    try:
        gateway.wait_connected()
        wait_until(agent.uplink_connected.is_set, what="the agent over TLS with its password")
        device.publish(f"zigbee2mqtt/{home}/pendant", z2m.button_press("single"))
        wait_until(lambda: gateway.worker.alerts_raised == 1, what="the SOS over TLS")
    finally:
        device.close()
        gateway.stop()
    assert home in gateway.worker.statuses, "the retained status arrived too"


def test_wrong_password_or_unknown_ca_never_connects(
    secure_broker: tuple[MosquittoProcess, Path], broker: BrokerSettings, tmp_path: Path, loop_thread: LoopThread
) -> None:
    mosquitto, ca = secure_broker
    wrong_password = _agent(f"bad{uuid.uuid4().hex[:6]}", broker, {
        "url": f"mqtts://hub:nope@127.0.0.1:{mosquitto.port}", "ca_file": str(ca)}, tmp_path / "a")
    no_ca = _agent(f"bad{uuid.uuid4().hex[:6]}", broker, {
        "url": f"mqtts://hub:s3cret%2Fwith%3Achars@127.0.0.1:{mosquitto.port}"}, tmp_path / "b")
    loop_thread.spawn(wrong_password.run())
    loop_thread.spawn(no_ca.run())
    time.sleep(2.0)
    assert not wrong_password.uplink_connected.is_set()
    assert not no_ca.uplink_connected.is_set(), "a server certificate from an unknown CA must be refused"
