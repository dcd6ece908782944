"""Issue 5's acceptance path, from a simulated SOS press to a person, through every real part.

simulated pendant -> Mosquitto -> edge agent -> gateway -> HTTP -> `homesafe server` (a real process,
killed with SIGKILL mid-ladder) -> the real `twilio` library -> a strict local Twilio -> signed webhooks
back -> the ack down the home's `cmd` topic. Escalation waits run at `HOMESAFE_TIME_SCALE=0.05`, so the
default SOS ladder's 60 s steps take 3 s.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings, downlink_topic
from gateway.service import Gateway
from simulators import z2m
from tests.fakes.twilio_server import FakeTwilio
from tests.harness import LoopThread, Publisher, Recorder, forget_session, wait_until

ACCOUNT_SID = "AC" + "fedcba9876543210" * 2
AUTH_TOKEN = "e2e-auth-token-0123456789abcdef"
FROM = "+15005550006"
PUBLIC = "https://homesafe.test/hs"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TIME_SCALE = 0.05
STEP_WAIT_S = 60 * TIME_SCALE  # the default SOS ladder (category "other") waits 60 s a step
FIRST = "+8613800000101"  # on duty in the home's community, first on the list
SECOND = "+8613800000102"  # on duty, next
STRANGER = "+8613800000201"  # a responder of another community


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """`homesafe server` as its own process, so the test can kill it the way a power cut would."""

    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "homesafe.cli", "server", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        wait_until(self._answers, timeout_s=30.0, what=f"the server on {self.url} (log: {self.log_path})")

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"server exited with {self.process.returncode}: {self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly as when the machine dies."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Bench:
    server: ServerProcess
    twilio: FakeTwilio
    http: httpx.Client
    home: str
    stranger_token: str

    def alert(self) -> dict[str, Any]:
        alerts = self.http.get("/api/alerts", params={"home": self.home}).raise_for_status().json()
        assert len(alerts) <= 1, alerts
        return alerts[0] if alerts else {}

    def detail(self, alert_id: str) -> dict[str, Any]:
        return self.http.get(f"/api/alerts/{alert_id}").raise_for_status().json()

    def sms_to(self, number: str) -> list[Any]:
        return [m for m in self.twilio.messages if m.to == number]

    def calls_to(self, number: str) -> list[Any]:
        return [c for c in self.twilio.calls if c.to == number]


@pytest.fixture
def bench(broker: BrokerSettings, tmp_path: Path, home_id: str) -> Iterator[Bench]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, numbers=(FROM,), callback_delay_s=0.05) as fake:
        env = {
            **os.environ,
            "HOMESAFE_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}",
            "HOMESAFE_ADMIN_TOKEN": ADMIN_TOKEN,
            "HOMESAFE_NOTIFIER": "twilio",
            "HOMESAFE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "HOMESAFE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HOMESAFE_TWILIO_FROM": FROM,
            "HOMESAFE_TWILIO_API_URL": fake.url,
            "HOMESAFE_PUBLIC_BASE_URL": PUBLIC,
            "HOMESAFE_LINK_SECRET": "e2e-link-secret-0123456789",
            "HOMESAFE_TIME_SCALE": str(TIME_SCALE),
            "HOMESAFE_MQTT_URL": f"mqtt://{broker.host}:{broker.port}",
            "HOMESAFE_OPERATOR_PHONE": "+8613800000999",
        }
        server = ServerProcess(env=env, port=_free_port(), log_path=tmp_path / "server.log")
        server.start()
        fake.forward(PUBLIC, server.url)
        http = httpx.Client(base_url=server.url, timeout=5.0, headers=ADMIN)
        try:
            http.post("/api/homes", json={"id": home_id, "community": "c-east"}).raise_for_status()
            for name, phone, community in (("First", FIRST, "c-east"), ("Second", SECOND, "c-east"),
                                           ("Stranger", STRANGER, "c-west")):
                http.post("/api/responders", json={"name": name, "phone": phone, "community": community}
                          ).raise_for_status()
            stranger_id = next(r["id"] for r in http.get("/api/responders").json() if r["phone"] == STRANGER)
            token = http.post("/api/tokens", json={"name": "stranger", "role": "responder",
                                                   "responder_id": stranger_id})
            token.raise_for_status()
            yield Bench(server, fake, http, home_id, token.json()["token"])
        finally:
            http.close()
            server.stop()


@contextmanager
def _pressed(bench: Bench, broker: BrokerSettings, tmp_path: Path, loop_thread: LoopThread) -> Iterator[Bench]:
    """The home's edge agent and a gateway running, and the pendant pressed once."""
    gateway_config = GatewayConfig(broker=broker, server_url=bench.server.url,
                                   worker_id=f"e2e-{uuid.uuid4().hex[:8]}", outbox_path=str(tmp_path / "outbox.db"))
    gateway = Gateway(gateway_config)
    gateway.start()
    gateway.wait_connected()
    agent = EdgeAgent(EdgeConfig(home=bench.home, local=broker, uplink=broker, spool_path=str(tmp_path / "spool.db"),
                                 z2m_base_topic=f"zigbee2mqtt/{bench.home}",
                                 devices=(DeviceConfig("sos_button", "button", "bedroom", "pendant"),)))
    loop_thread.spawn(agent.run())
    wait_until(lambda: agent.uplink_connected.is_set() and agent.local_connected.is_set(), what="edge connected")
    pendant = Publisher(broker, f"sim-{bench.home}")
    try:
        pendant.publish(f"zigbee2mqtt/{bench.home}/sos_button", z2m.button_press("single"))
        yield bench
    finally:
        pendant.close()
        gateway.stop()
        forget_session(broker, gateway_config.client_id)


@pytest.fixture
def pressed(bench: Bench, broker: BrokerSettings, tmp_path: Path, loop_thread: LoopThread) -> Iterator[Bench]:
    """A bench whose pendant was just pressed."""
    with _pressed(bench, broker, tmp_path, loop_thread) as ready:
        yield ready


def test_sos_climbs_survives_a_kill_and_stops_when_the_responder_replies_1(
    pressed: Bench, broker: BrokerSettings
) -> None:
    bench = pressed
    acks = Recorder(broker, f"hub-{bench.home}", topic_filter=downlink_topic(bench.home))
    try:
        # 1. The on-duty responder gets the SMS (and the call) within seconds of the press.
        wait_until(lambda: bench.sms_to(FIRST), timeout_s=5.0, what="the SMS to the on-duty responder")
        first_sms = bench.sms_to(FIRST)[0]
        alert = bench.alert()
        assert alert["type"] == "SOS" and alert["ref"] in first_sms.body
        assert bench.calls_to(FIRST), "a critical alert calls as well"
        assert not bench.sms_to(SECOND), "the next responder is not told before the step's wait"

        # 2. Nobody answers: the server dies mid-wait, comes back, and the next step still fires on time.
        bench.server.kill()
        bench.server.start()
        bench.twilio.forward(PUBLIC, bench.server.url)
        wait_until(lambda: bench.sms_to(SECOND), timeout_s=STEP_WAIT_S + 10.0, what="the next responder's SMS")
        waited = bench.sms_to(SECOND)[0].created - first_sms.created
        assert STEP_WAIT_S - 0.5 <= waited <= STEP_WAIT_S + 8.0, f"step 2 came {waited:.1f} s after step 1"

        # 3. The second responder replies "1": acknowledged through SMS, the ladder stops, the hub hears it.
        reply = bench.twilio.inbound_sms(from_=SECOND, body="1", url=f"{PUBLIC}/webhooks/twilio/sms")
        assert reply.status_code == 200
        detail = wait_until(lambda: (d := bench.detail(alert["id"]))["status"] == "acknowledged" and d,
                            what="the acknowledgement")
        assert detail["ack_channel"] == "sms"
        ack = wait_until(lambda: acks.messages, timeout_s=5.0, what="the ack on the home's cmd topic")
        assert json.loads(ack[0][1])["alert_id"] == alert["id"]

        time.sleep(STEP_WAIT_S + 1.0)  # a ladder that did not stop would send its next step now
    finally:
        acks.close()
    # Nothing was sent twice, even across the kill: one SMS and one call per person reached, nobody else.
    assert len(bench.sms_to(FIRST)) == 1 and len(bench.sms_to(SECOND)) == 1
    assert len(bench.calls_to(FIRST)) == 1 and len(bench.calls_to(SECOND)) == 1
    reached = {m.to for m in bench.twilio.messages} | {c.to for c in bench.twilio.calls}
    assert reached == {FIRST, SECOND}
    timeline = bench.detail(alert["id"])["timeline"]
    sent_steps = [e["step"] for e in timeline if e["entry"] == "transition" and e["kind"] == "step_sent"]
    assert sent_steps == [0, 1]
    assert bench.server.starts == 2


def test_undelivered_sms_reaches_the_next_person_at_once(bench: Bench, broker: BrokerSettings,
                                                         tmp_path: Path, loop_thread: LoopThread) -> None:
    bench.twilio.undeliverable(FIRST)
    bench.twilio.call_outcome(FIRST, "no-answer")
    with _pressed(bench, broker, tmp_path, loop_thread):
        wait_until(lambda: bench.sms_to(FIRST), timeout_s=5.0, what="the first SMS")
        started = time.monotonic()
        wait_until(lambda: bench.sms_to(SECOND), timeout_s=STEP_WAIT_S, what="the next step, before its wait")
        assert time.monotonic() - started < STEP_WAIT_S - 1.0


def test_unsigned_webhook_and_other_community_are_refused(pressed: Bench) -> None:
    bench = pressed
    wait_until(lambda: bench.sms_to(FIRST), timeout_s=5.0, what="the SMS to the on-duty responder")
    alert = bench.alert()
    unsigned = httpx.post(f"{bench.server.url}/webhooks/twilio/sms", data={"From": FIRST, "Body": "1"}, timeout=5.0)
    assert unsigned.status_code == 403
    stranger = {"Authorization": f"Bearer {bench.stranger_token}"}
    assert bench.http.get(f"/api/alerts/{alert['id']}", headers=stranger).status_code == 403
    assert bench.http.post(f"/api/alerts/{alert['id']}/ack", headers=stranger).status_code == 403
    assert alert["id"] not in {a["id"] for a in bench.http.get("/api/alerts", headers=stranger).json()}
    assert bench.detail(alert["id"])["status"] == "notified", "neither refused request changed the alert"

