"""Detections end to end on simulated time: scenario -> edge agent -> broker -> gateway -> HTTP -> server.

The edge agent and the gateway run on the simulation's clock, as in a replay or a test bench, so hours
of a home pass in seconds. The feeder only moves the clock on once the gateway has taken every event
sent so far, so no silence is judged before the events that end it have arrived.
"""

from __future__ import annotations

import io
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import BrokerSettings
from gateway.service import Gateway
from server.config import ServerSettings
from server.notifiers.console import ConsoleOutbox
from server.run import ServerThread
from simulators.home import SimulatedHome
from simulators.runner import ScenarioRunner
from simulators.scenario import load_scenario
from simulators.schedule import SimMessage
from tests.harness import LoopThread, forget_session, wait_until

pytestmark = pytest.mark.slow
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"  # the server's HOMESAFE_ADMIN_TOKEN
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
QUIET_GAP_S = 600.0  # before a silence this long, let the gateway catch up so ticks see every event


class SimClock:
    """The simulation's 'now', shared by the feeder, the edge agent and the gateway."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@dataclass
class Bench:
    clock: SimClock
    agent: EdgeAgent
    gateway: Gateway
    server: ServerThread
    loop: LoopThread

    def feed(self, messages: list[SimMessage], end: float) -> None:
        """Play the messages in order on the simulated clock, then let time run to `end`."""
        async def play(batch: list[SimMessage]) -> None:
            for message in batch:
                self.clock.now = max(self.clock.now, message.t)
                self.agent.on_device_message(message.topic, message.payload)

        batch: list[SimMessage] = []
        for index, message in enumerate(messages):
            batch.append(message)
            following = messages[index + 1].t if index + 1 < len(messages) else end
            if following - message.t >= QUIET_GAP_S or index + 1 == len(messages):
                self.loop.run(play(batch))
                batch = []
                self.catch_up()
                self.clock.now = following  # the silence passes; the gateway's ticker judges it
                self.tick()
        self.clock.now = end
        self.tick()

    def catch_up(self) -> None:
        wait_until(lambda: self.agent.spool.depth() == 0 and self.gateway.worker.accepted
                   + self.gateway.worker.duplicates >= self.agent.events_published, timeout_s=20,
                   what="the gateway to take every event")

    def tick(self) -> None:
        with self.gateway._lock:  # what the gateway's ticker does each second, without waiting for it
            self.gateway.worker.tick(self.clock.now)

    def alerts(self) -> list[dict[str, object]]:
        with httpx.Client(base_url=self.server.url, timeout=5, headers=ADMIN) as http:
            wait_until(lambda: len(self.gateway.outbox) == 0, timeout_s=10, what="alerts delivered")
            # The shared broker may hold other homes' retained statuses; this bench judges its own home.
            return http.get("/api/alerts", params={"limit": 1000, "home": self.agent.config.home}
                            ).raise_for_status().json()


@pytest.fixture
def make_bench(broker: BrokerSettings, tmp_path: Path) -> Iterator:
    made: list[Bench] = []

    def make(home: SimulatedHome, start: float, timezone: str) -> Bench:
        clock = SimClock(start)
        server = ServerThread(ServerSettings(database_url=f"sqlite:///{tmp_path / 'server.db'}", port=0,
                                             admin_token=ADMIN_TOKEN), notifier=ConsoleOutbox(stream=io.StringIO()))
        server.start()
        gateway = Gateway(GatewayConfig(broker=broker, server_url=server.url, worker_id=f"test-{home.home}",
                                        outbox_path=str(tmp_path / "outbox.db"), tick_interval_s=3600),
                          clock=clock)
        gateway.start()
        gateway.wait_connected()
        devices = tuple(DeviceConfig(name=d["name"], type=d["type"], room=d.get("room"), role=d.get("role"),
                                     model=d.get("model")) for d in home.edge_devices())
        agent = EdgeAgent(EdgeConfig(home=home.home, local=broker, uplink=broker,
                                     spool_path=str(tmp_path / "spool.db"), z2m_base_topic=home.base_topic,
                                     devices=devices, heartbeat_s=7 * 86400, timezone=timezone), clock=clock)
        loop = LoopThread()
        loop.spawn(agent.run())
        wait_until(agent.uplink_connected.is_set, what="the agent's uplink")
        bench = Bench(clock, agent, gateway, server, loop)
        made.append(bench)
        return bench

    yield make
    for bench in made:
        bench.loop.close()
        bench.gateway.stop()
        forget_session(broker, bench.gateway.config.client_id)
        bench.server.stop()


def _scenario(name: str, history_days: int = 7) -> tuple[ScenarioRunner, list[SimMessage]]:
    """A scenario's messages after `history_days` of the same home's ordinary life, so its routine is learned."""
    scenario = load_scenario(name)
    runner = ScenarioRunner(scenario, speed=float("inf"), base_topic=f"zigbee2mqtt/e2e{uuid.uuid4().hex[:8]}",
                            homes=1)
    home = runner.homes[0]
    start = datetime.fromtimestamp(runner.t0, scenario.tz)
    past = SimulatedHome(home.home, base_topic=home.base_topic, devices=scenario.devices, rng=random.Random(3),
                         routines=scenario.routines, tz=scenario.tz, options=scenario.options)
    history = past.timeline(start - timedelta(days=history_days), start) if history_days else []
    return runner, [*history, *runner.messages()]


def _types(alerts: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(a["type"]) for a in alerts)


def test_afternoon_collapse_is_one_inactivity_alert_within_two_hours(make_bench) -> None:
    runner, messages = _scenario("afternoon_inactivity")
    bench = make_bench(runner.homes[0], messages[0].t, "Asia/Shanghai")  # the scenarios are at UTC+08:00
    bench.feed(messages, runner.end)
    alerts = [a for a in bench.alerts()
              if datetime.fromisoformat(str(a["opened_at"])).timestamp() >= runner.t0]  # the scenario's own
    assert _types(alerts)["INACTIVITY"] == 1, alerts
    collapse = runner.t0 + 3600  # 14:00, an hour after the 13:00 start
    inactivity = next(a for a in alerts if a["type"] == "INACTIVITY")
    raised = datetime.fromisoformat(str(inactivity["opened_at"])).timestamp()
    assert collapse < raised < collapse + 2 * 3600


def test_night_bed_exit_without_return_is_one_alert(make_bench) -> None:
    runner, messages = _scenario("night_bed_exit")
    bench = make_bench(runner.homes[0], messages[0].t, "Asia/Shanghai")  # the scenarios are at UTC+08:00
    bench.feed(messages, runner.end)
    during = [a for a in bench.alerts() if datetime.fromisoformat(str(a["opened_at"])).timestamp() >= runner.t0]
    assert _types(during)["BED_EXIT_NO_RETURN"] == 1, during


def test_bathroom_fall_is_one_fall_alert_though_radar_and_wearable_both_see_it(make_bench) -> None:
    runner, messages = _scenario("bathroom_fall_night")
    bench = make_bench(runner.homes[0], messages[0].t, "Asia/Shanghai")  # the scenarios are at UTC+08:00
    bench.feed(messages, runner.end)
    alerts = bench.alerts()
    assert _types(alerts)["FALL"] == 1, alerts
    assert all(a["type"] in ("FALL", "BED_EXIT_NO_RETURN", "INACTIVITY") for a in alerts), alerts


def test_an_ordinary_week_raises_nothing(make_bench) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    start = datetime(2025, 3, 3, 0, 0, tzinfo=tz)
    home = SimulatedHome(f"wk{uuid.uuid4().hex[:8]}", base_topic=f"zigbee2mqtt/wk{uuid.uuid4().hex[:6]}",
                         rng=random.Random(5), tz=tz)
    messages = home.timeline(start, start + timedelta(days=7))
    bench = make_bench(home, start.timestamp(), "Asia/Shanghai")
    bench.feed(messages, (start + timedelta(days=7)).timestamp())
    alerts = bench.alerts()
    assert alerts == [], _types(alerts)
