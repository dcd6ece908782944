"""`homesafe demo`: every part in one process, with an embedded broker and SQLite.

Simulated homes publish Zigbee2MQTT payloads; an edge agent per home forwards canonical events; the
gateway turns presses into alerts; the server stores them and notifies responders through the
console outbox. What happens is printed as it happens, and a summary at the end.

The API needs a token like any deployment's: the demo's admin token is `HOMESAFE_ADMIN_TOKEN` when set,
else a random one made for this run and printed with a curl line to try it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiomqtt
import httpx

from edge.agent import EdgeAgent
from edge.config import DeviceConfig, EdgeConfig
from gateway.config import GatewayConfig
from gateway.protocol import Alert, BrokerSettings, aiomqtt_options
from gateway.service import Gateway
from homesafe.broker import start_embedded_broker
from server.config import ServerSettings
from server.run import ServerThread
from simulators.home import SimulatedHome

COMMUNITIES = ("community-east", "community-west", "community-river")
PRESS_ACTIONS = ("single", "hold", "double")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `homesafe demo` was asked to do."""

    port: int = 8000
    homes: int = 20
    duration_s: float | None = None
    broker_port: int = 11883
    press_every_s: float = 6.0
    data_dir: str | None = None
    seed: int = 7
    time_scale: float = 1.0  # multiplies every escalation wait (0.05 turns a 60 s step into 3 s)
    admin_token: str | None = None  # HOMESAFE_ADMIN_TOKEN; None: a random one for this run


class Reporter:
    """Prints the demo's story with a clock relative to its start."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def say(self, what: str) -> None:
        print(f"[{time.monotonic() - self.t0:7.2f}s] {what}", flush=True)

    def on_alert(self, alert: Alert) -> None:
        latency_ms = (alert.raised_at - alert.ts) * 1000
        self.say(f"ALERT {alert.type} at home {alert.home} (device {alert.device}), "
                 f"raised {latency_ms:.0f} ms after the press reached the hub")


def _home_ids(count: int) -> list[str]:
    return [f"h{i:04d}" for i in range(1, count + 1)]


def _edge_config(home: SimulatedHome, broker: BrokerSettings, data_dir: Path) -> EdgeConfig:
    devices = tuple(DeviceConfig(name=d.name, type=d.type, room=d.room, role=d.role) for d in home.devices)
    return EdgeConfig(home=home.home, local=broker, uplink=broker, spool_path=str(data_dir / f"{home.home}.spool"),
                      z2m_base_topic=home.base_topic, devices=devices)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _register(base_url: str, token: str, homes: list[str]) -> None:
    """Register the homes and one on-duty responder per community, through the server's API."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=_auth(token)) as http:
        for index, community in enumerate(COMMUNITIES, start=1):
            response = await http.post("/api/responders", json={
                "name": f"Responder {index}", "phone": f"+86138000000{index:02d}", "community": community})
            response.raise_for_status()
        for index, home in enumerate(homes):
            response = await http.post("/api/homes", json={"id": home, "community": COMMUNITIES[index % 3]})
            response.raise_for_status()


async def _press_buttons(homes: list[SimulatedHome], client: aiomqtt.Client, options: DemoOptions,
                         reporter: Reporter, rng: random.Random) -> None:
    await asyncio.sleep(2.0)
    order: list[SimulatedHome] = []
    while True:
        if not order:  # every home in turn, so each press is a fresh alert rather than a repeat
            order = rng.sample(homes, len(homes))
        home = order.pop()
        action = rng.choice(PRESS_ACTIONS)
        reporter.say(f"press  home {home.home} presses the call button ({action})")
        await home.press_button(client, action)
        await asyncio.sleep(options.press_every_s)


async def _summary(base_url: str, reporter: Reporter, gateway: Gateway, agents: list[EdgeAgent],
                   presses: int, *, token: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=_auth(token)) as http:
        alerts = (await http.get("/api/alerts", params={"limit": 1000})).raise_for_status().json()
        notifications = (await http.get("/api/notifications", params={"limit": 1000})).raise_for_status().json()
    opened = {a["id"]: datetime.fromisoformat(a["opened_at"]) for a in alerts}
    first_sent: dict[str, datetime] = {}  # later ladder steps are escalations, not latency
    for n in notifications:
        if n.get("sent_at") and n["alert_id"] in opened:
            sent = datetime.fromisoformat(n["sent_at"])
            first_sent[n["alert_id"]] = min(sent, first_sent.get(n["alert_id"], sent))
    latencies = [(sent - opened[alert_id]).total_seconds() * 1000 for alert_id, sent in first_sent.items()]
    stats = gateway.worker.stats()
    print("\n== HomeSafe demo summary ==")
    print(f"ran {time.monotonic() - reporter.t0:.1f} s with {len(agents)} homes")
    print(f"button presses: {presses}; alerts at the server: {len(alerts)}; notifications: {len(notifications)} "
          f"({sum(n['status'] == 'sent' for n in notifications)} sent)")
    if latencies:
        print(f"hub -> SMS handed to the outbox: median {statistics.median(latencies):.0f} ms, "
              f"max {max(latencies):.0f} ms")
    print(f"events through the gateway: {stats['accepted']} accepted, {stats['duplicates']} duplicates, "
          f"rejected {stats['rejected'] or 'none'}")
    print(f"edge agents: {sum(a.events_published for a in agents)} events published, "
          f"{sum(a.spool.depth() for a in agents)} still spooled")


async def run_demo(options: DemoOptions) -> int:
    """Run the demo until `duration_s` passes or the task is cancelled (Ctrl-C)."""
    logging.getLogger("gateway").setLevel(logging.ERROR)
    reporter = Reporter()
    rng = random.Random(options.seed)
    scratch = None if options.data_dir else tempfile.TemporaryDirectory(prefix="homesafe-demo-")
    data_dir = Path(options.data_dir or scratch.name)  # type: ignore[union-attr]
    data_dir.mkdir(parents=True, exist_ok=True)
    broker_settings = BrokerSettings(port=options.broker_port)
    base_url = f"http://127.0.0.1:{options.port}"
    home_ids = _home_ids(options.homes)
    admin_token = options.admin_token or secrets.token_urlsafe(32)
    # A token from the environment is the user's secret: the hint names the variable instead of echoing it.
    shown_token = "$HOMESAFE_ADMIN_TOKEN" if options.admin_token else admin_token

    broker = await start_embedded_broker(port=options.broker_port)
    reporter.say(f"embedded MQTT broker on {broker_settings.url}")
    server = ServerThread(ServerSettings(database_url=f"sqlite:///{data_dir / 'homesafe.db'}", port=options.port,
                                         time_scale=options.time_scale, admin_token=admin_token,
                                         # The demo's ack links live as long as the demo does.
                                         link_secret=secrets.token_urlsafe(32)))
    await asyncio.to_thread(server.start)
    reporter.say(f"server on {base_url}, admin token {shown_token}; try /api/alerts and /api/notifications:")
    reporter.say(f'  curl -H "Authorization: Bearer {shown_token}" {base_url}/api/alerts')
    reporter.say(f"  dashboard: {base_url}/dashboard/ (sign in with the admin token)")
    await _register(base_url, admin_token, home_ids)
    gateway = Gateway(GatewayConfig(broker=broker_settings, server_url=base_url, worker_id="demo-gw",
                                    outbox_path=str(data_dir / "gateway-outbox.db")), on_alert=reporter.on_alert)
    gateway.start()
    await asyncio.to_thread(gateway.wait_connected)
    homes = [SimulatedHome(home, base_topic=f"zigbee2mqtt/{home}", rng=random.Random(rng.random()))
             for home in home_ids]
    agents = [EdgeAgent(_edge_config(home, broker_settings, data_dir)) for home in homes]
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(agent.run()) for agent in agents]
    try:
        await asyncio.wait_for(asyncio.gather(*(a.uplink_connected.wait() for a in agents),
                                              *(a.local_connected.wait() for a in agents)), 15)
        reporter.say(f"gateway and {len(agents)} edge agents connected; residents go about their day")
        async with aiomqtt.Client(**aiomqtt_options(broker_settings), identifier="demo-devices") as devices:
            # One client stands in for every home's devices, so its burst of publishes is expected.
            devices.pending_calls_threshold = 20 * len(homes)
            tasks += [asyncio.create_task(home.everyday_life(devices)) for home in homes]
            tasks.append(asyncio.create_task(_press_buttons(homes, devices, options, reporter, rng)))
            try:
                await asyncio.wait(tasks, timeout=options.duration_s, return_when=asyncio.FIRST_EXCEPTION)
            except asyncio.CancelledError:  # Ctrl-C: stop the story, still tell it
                reporter.say("interrupted")
            for task in tasks[len(agents):]:
                task.cancel()
            await asyncio.sleep(1.0)  # let the last press reach the outbox before summing up
        await _summary(base_url, reporter, gateway, agents, sum(h.presses for h in homes), token=admin_token)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(gateway.stop)
        await asyncio.to_thread(server.stop)
        await broker.shutdown()
        if scratch is not None:
            scratch.cleanup()
    return 0
