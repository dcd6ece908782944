"""Ingest capacity of one gateway worker against a bare paho subscriber, on the same queued stream.

Why: the streaming core is judged by how much of the MQTT client's own capacity the gateway keeps once
it does its real job (route, validate, de-duplicate, per-home state, detectors, durable outbox). Rates
alone depend on the machine and the broker; their ratio, measured in the same run on the same broker
and the same bytes, does not (much). DESIGN.md: "Performance is proven by benchmarks under `bench/`
that print ratios against a baseline measured in the same run".

How, so that it measures the consumer and not the publisher:

1. A private Mosquitto (simulators.mosquitto: free port, TCP_NODELAY, no queue or inflight limits).
2. Two persistent QoS 1 sessions subscribe to `hs/v1/+/+/+` and go offline: a bare counter and the
   gateway's own client id (`GatewayConfig.client_id`).
3. A fast paho publisher sends the pre-generated stream once at QoS 1 and waits for every PUBACK; the
   broker now holds the identical backlog for both sessions.
4. Each consumer in turn connects and is timed from connect until it has taken all N messages: the bare
   counter by its count (which must be exactly N, or the broker dropped some), the real
   `gateway.service.Gateway` by its worker's counters (accepted + duplicates + rejected == N).
   Alerts go through the SQLite outbox and the HTTP forwarder to a stub server in another process.

Both consumers use `gateway.protocol.paho_client` (TCP_NODELAY), paho's network loop in a background
thread, the same broker and the same completion poll from the main thread (every 10 ms), so timing
error is the same for both. Both run paho's `loop_forever()` on a thread of their own, the fastest
way plain paho receives (the gateway as it runs in production, `gateway.service`). Each drain
reports the CPU share of the consumer and of the broker: a
consumer near 100% of a core means the consumer, not the broker, set the pace. The machine may have
only 2 cores and the broker shares them with the consumer; the ratio is about that setting.

Run from the repository root: `python bench/ingest.py` or `python -m bench.ingest`. The last line is
`ratio 0.xx`; plain numbers go to `bench/results/ingest.json`.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/ingest.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import paho.mqtt.client as paho

from gateway.config import GatewayConfig
from gateway.forwarder import INGEST_PATH
from gateway.protocol import (
    BrokerSettings,
    Event,
    EventKind,
    Stream,
    decode_alerts,
    encode,
    paho_client,
    uplink_topic,
)
from gateway.service import Gateway
from gateway.worker import GatewayWorker
from simulators.mosquitto import MosquittoProcess

RESULTS_PATH = Path(__file__).resolve().parent / "results" / "ingest.json"
SUBSCRIPTION = "hs/v1/+/+/+"  # what Gateway subscribes when it owns every shard
POLL_S = 0.010  # completion poll of both consumers: the timing resolution
PROGRESS_S = 1.0
STALL_TIMEOUT_S = 30.0
REDELIVERY_SHARE = 0.005
PUBLISH_WINDOW = 10_000  # unacknowledged QoS 1 messages; below the 65,535 packet ids of MQTT

# Share of unique events by kind: a city's mix (motion dominates; alarms are rare).
KIND_SHARES: dict[EventKind, float] = {
    EventKind.MOTION: 0.45,
    EventKind.DOOR: 0.08,
    EventKind.PRESENCE: 0.15,
    EventKind.BED: 0.05,
    EventKind.VITALS: 0.15,
    EventKind.DEVICE_HEALTH: 0.10,
    EventKind.AVAILABILITY: 0.015,
    EventKind.SOS: 0.0005,
    EventKind.SMOKE: 0.0025,
    EventKind.WATER: 0.002,
}
TELEMETRY_KINDS = frozenset({EventKind.VITALS, EventKind.DEVICE_HEALTH})
ROOMS = ("living", "bedroom", "kitchen", "hallway", "bathroom")

def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- stream


@dataclass(slots=True)
class Device:
    name: str
    room: str
    role: str | None = None
    seq: int = 0
    value: bool = False
    battery: float = 100.0


@dataclass(slots=True)
class Home:
    """The device kit of one home; which kinds it can report."""

    home: str
    devices: dict[EventKind, list[Device]] = field(default_factory=dict)

    def all_devices(self) -> list[Device]:
        return [d for group in self.devices.values() for d in group]


@dataclass(frozen=True, slots=True)
class BenchStream:
    """The pre-generated messages, in publish order, and what the gateway should make of them."""

    messages: list[tuple[str, bytes]]
    unique_events: int
    redeliveries: int
    sos_presses: int
    sos_redelivered: int
    expected_alerts: int
    kinds: dict[str, int]
    homes: int
    payload_bytes: int


def _make_home(index: int, rng: random.Random) -> Home:
    home = Home(f"h{index:05d}")
    pir_rooms = rng.sample(ROOMS, rng.randint(2, 4))
    home.devices[EventKind.MOTION] = [Device(f"{room}_motion", room) for room in pir_rooms]
    home.devices[EventKind.DOOR] = [Device("front_door", "hallway", "front_door")]
    home.devices[EventKind.SOS] = [Device("sos_button", "bedroom", "pendant")]
    home.devices[EventKind.SMOKE] = [Device("kitchen_smoke", "kitchen")]
    home.devices[EventKind.WATER] = [Device("bathroom_leak", "bathroom")]
    if rng.random() < 0.4:  # an mmWave presence radar
        home.devices[EventKind.PRESENCE] = [Device("presence_radar", rng.choice(("bedroom", "living")))]
    if rng.random() < 0.3:  # a home-care bed with a bed mat: presence in bed and vitals
        mat = Device("bed_mat", "bedroom", "home_care_bed")
        home.devices[EventKind.BED] = [mat]
        home.devices[EventKind.VITALS] = [mat]
    return home


def _kind_counts(unique: int) -> dict[EventKind, int]:
    counts = {kind: round(unique * share) for kind, share in KIND_SHARES.items()}
    counts[EventKind.SOS] = max(1, counts[EventKind.SOS])
    counts[EventKind.MOTION] += unique - sum(counts.values())
    return counts


def _event_fields(kind: EventKind, device: Device, rng: random.Random) -> tuple[bool | None, dict[str, Any]]:
    if kind in (EventKind.MOTION, EventKind.DOOR, EventKind.PRESENCE, EventKind.BED):
        device.value = not device.value
        return device.value, {}
    if kind is EventKind.VITALS:
        return None, {"heart_rate": round(rng.gauss(70, 9)), "breathing_rate": round(rng.gauss(15, 2.5)),
                      "movement": rng.randint(0, 3)}
    if kind is EventKind.DEVICE_HEALTH:
        # Batteries drain over months: start anywhere above a replacement, lose a percent now and then.
        if device.battery == 100.0:
            device.battery = rng.uniform(20, 100)
        device.battery -= rng.random() < 0.05
        battery = round(device.battery)
        return None, {"battery": battery, "battery_low": battery < 15, "linkquality": rng.randint(20, 255)}
    if kind is EventKind.AVAILABILITY:
        return rng.random() > 0.02, {}
    if kind is EventKind.SOS:
        return True, {"action": rng.choice(("single", "single", "double", "hold")), "battery": rng.randint(30, 100),
                      "linkquality": rng.randint(40, 200)}
    # Smoke and water detectors report their state routinely; these are the all-clear reports.
    return False, {"battery": rng.randint(30, 100)}


def generate_stream(total: int, n_homes: int, seed: int) -> BenchStream:
    """`total` messages on the wire, ~0.5% of them QoS 1 redeliveries of an event shortly before."""
    rng = random.Random(seed)
    homes = [_make_home(i, rng) for i in range(1, n_homes + 1)]
    eligible: dict[EventKind, list[Home]] = {kind: [] for kind in KIND_SHARES}
    for home in homes:
        for kind in home.devices:
            eligible[kind].append(home)
        eligible[EventKind.DEVICE_HEALTH].append(home)
        eligible[EventKind.AVAILABILITY].append(home)
    topics = {h.home: (uplink_topic(h.home, Stream.EVENTS), uplink_topic(h.home, Stream.TELEMETRY)) for h in homes}

    redeliveries = round(total * REDELIVERY_SHARE) if total >= 200 else 0
    unique = total - redeliveries
    counts = _kind_counts(unique)
    kinds = [kind for kind, n in counts.items() for _ in range(n)]
    rng.shuffle(kinds)
    sos_homes = eligible[EventKind.SOS][:]
    rng.shuffle(sos_homes)  # SOS presses in distinct homes while there are enough of them

    span_s = 1800.0  # the stream covers the last half hour of event time
    start = time.time() - span_s
    events: list[tuple[str, bytes, EventKind]] = []
    for i, kind in enumerate(kinds):
        if kind is EventKind.SOS:
            home = sos_homes.pop() if sos_homes else rng.choice(eligible[kind])
        else:
            home = rng.choice(eligible[kind])
        group = home.all_devices() if kind in (EventKind.DEVICE_HEALTH, EventKind.AVAILABILITY) else home.devices[kind]
        device = rng.choice(group)
        device.seq += 1
        ts = start + span_s * i / unique + rng.uniform(0.0, 0.5)
        value, data = _event_fields(kind, device, rng)
        event = Event(id=uuid.UUID(int=rng.getrandbits(128), version=4).hex, home=home.home,
                      device=device.name, kind=kind, ts=ts, seq=device.seq, value=value,
                      room=device.room, role=device.role, data=data)
        stream = 1 if kind in TELEMETRY_KINDS else 0
        events.append((topics[home.home][stream], encode(event), kind))

    # Redeliveries: the same message again, 1-20 messages after the original, as a broker resend would.
    sos_positions = [i for i, (_, _, kind) in enumerate(events) if kind is EventKind.SOS]
    chosen = set(rng.sample(range(unique), redeliveries)) if redeliveries else set()
    # Make sure a redelivered press is de-duplicated, not alerted twice.
    if sos_positions and redeliveries and sos_positions[0] not in chosen:
        chosen.discard(next(iter(chosen)))
        chosen.add(sos_positions[0])
    pending: dict[int, list[tuple[str, bytes]]] = {}
    messages: list[tuple[str, bytes]] = []
    for i, (topic, payload, _) in enumerate(events):
        messages.append((topic, payload))
        messages.extend(pending.pop(i, ()))
        if i in chosen:
            pending.setdefault(min(i + rng.randint(1, 20), unique - 1), []).append((topic, payload))
    for late in pending.values():
        messages.extend(late)
    assert len(messages) == total, (len(messages), total)
    # What the live gateway must raise: the same stream through the same worker, offline, in order.
    replay = GatewayWorker(sink=lambda alerts: None)
    for topic, payload in messages:
        replay.handle(topic, payload)
    expected_alerts = replay.alerts_raised
    return BenchStream(
        messages=messages,
        unique_events=unique,
        redeliveries=redeliveries,
        sos_presses=counts[EventKind.SOS],
        sos_redelivered=sum(1 for i in chosen if events[i][2] is EventKind.SOS),
        expected_alerts=expected_alerts,
        kinds={kind.value: n for kind, n in counts.items()},
        homes=n_homes,
        payload_bytes=sum(len(p) for _, p in messages),
    )


# ------------------------------------------------------------------------------------- alert server


def serve_alerts(conn: Connection) -> None:
    """A stand-in for the server's `POST /api/ingest/alerts`, in its own process so it costs no GIL time."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: set[str] = set()
    stats = {"posts": 0, "alerts": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path != INGEST_PATH:
                self._reply(404, {"detail": f"no route {self.path}"})
                return
            alerts = decode_alerts(body)
            with lock:
                new = [a.id for a in alerts if a.id not in seen]
                seen.update(new)
                stats["posts"] += 1
                stats["alerts"] += len(alerts)
            self._reply(200, {"accepted": len(new), "duplicates": len(alerts) - len(new)})

        def do_GET(self) -> None:
            with lock:
                self._reply(200, {**stats, "unique": len(seen)})

        def do_DELETE(self) -> None:  # a new run: forget what earlier runs delivered
            with lock:
                seen.clear()
                stats.update(posts=0, alerts=0)
                self._reply(200, {})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    conn.send(server.server_address[1])
    server.serve_forever()


# ------------------------------------------------------------------------------------------ MQTT


def _connected_client(broker: BrokerSettings, client_id: str, *, clean_session: bool,
                      max_inflight: int = 100) -> paho.Client:
    client = paho_client(broker, client_id, clean_session=clean_session, max_inflight=max_inflight)
    connected = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: None if reason.is_failure else connected.set()
    client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()
    if not connected.wait(10):
        client.loop_stop()
        raise RuntimeError(f"{client_id} could not connect to {broker.url}")
    return client


def create_session(broker: BrokerSettings, client_id: str) -> None:
    """A persistent session subscribed at QoS 1, left offline so the broker queues for it."""
    discard_session(broker, client_id)
    client = _connected_client(broker, client_id, clean_session=False)
    granted: list[int] = []
    subscribed = threading.Event()

    def on_subscribe(_c: paho.Client, _u: Any, _mid: int, codes: list[Any], _p: Any) -> None:
        granted.extend(code.value for code in codes)
        subscribed.set()

    client.on_subscribe = on_subscribe
    client.subscribe(SUBSCRIPTION, qos=1)
    if not subscribed.wait(10) or granted != [1]:
        raise RuntimeError(f"{client_id}: subscribing {SUBSCRIPTION} at QoS 1 failed (granted {granted})")
    client.disconnect()
    client.loop_stop()


def discard_session(broker: BrokerSettings, client_id: str) -> None:
    """Drop a session and whatever the broker still holds for it (MQTT 3.1.1 clean session)."""
    client = _connected_client(broker, client_id, clean_session=True)
    client.disconnect()
    client.loop_stop()


def publish_all(broker: BrokerSettings, messages: list[tuple[str, bytes]], tag: str) -> float:
    """Publish every message once at QoS 1 and wait for all PUBACKs; returns the seconds it took.

    The window of unacknowledged messages is ours: paho's own limit (`max_inflight > 0`) rescans every
    outstanding message on each PUBACK, quadratic in the window (2k msg/s at 20k in flight), so paho's
    is off (0) and a semaphore keeps at most PUBLISH_WINDOW in flight, below the 65,535 packet ids.
    """
    total = len(messages)
    acked = 0
    window = threading.BoundedSemaphore(PUBLISH_WINDOW)
    all_acked = threading.Event()

    def on_publish(_c: paho.Client, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        nonlocal acked
        acked += 1  # only paho's network thread runs this
        window.release()
        if acked == total:
            all_acked.set()

    client = _connected_client(broker, f"bench-pub-{tag}", clean_session=True, max_inflight=0)
    client.on_publish = on_publish
    started = time.perf_counter()
    next_report = started + PROGRESS_S
    for i, (topic, payload) in enumerate(messages, 1):
        if not window.acquire(timeout=STALL_TIMEOUT_S):
            raise RuntimeError(f"publisher stalled: {acked:,} of {i - 1:,} sent messages acknowledged")
        info = client.publish(topic, payload, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"publish {i} of {total} failed: {paho.error_string(info.rc)}")
        if i % 1000 == 0 and time.perf_counter() >= next_report:
            next_report += PROGRESS_S
            _err(f"  publish: {i:,}/{total:,} sent ({100 * i / total:.0f}%), {acked:,} acknowledged")
    if not all_acked.wait(STALL_TIMEOUT_S):
        raise RuntimeError(f"publisher stalled: {acked:,} of {total:,} acknowledged")
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


@dataclass(frozen=True, slots=True)
class Drain:
    """One consumer taking the whole backlog: how long, and how busy each side was meanwhile."""

    seconds: float
    consumer_cpu: float  # CPU seconds of this process per second of drain (1.0 = one core busy)
    broker_cpu: float  # the same for Mosquitto (NaN where /proc is not available)


def time_drain(name: str, total: int, start: Callable[[], None], progress: Callable[[], int],
               pid: int | None) -> Drain:
    """Time from `start()` (the connect) until `progress()` reaches `total`; progress on stderr."""
    gc.collect()
    with CpuMeter(pid) as cpu:
        started = time.perf_counter()
        start()
        next_report = started + PROGRESS_S
        last_done, last_change = 0, started
        while True:
            done = progress()
            now = time.perf_counter()
            if done >= total:
                break
            if done != last_done:
                last_done, last_change = done, now
            elif now - last_change > STALL_TIMEOUT_S:
                raise RuntimeError(f"{name} stalled at {done:,} of {total:,} messages for {STALL_TIMEOUT_S:.0f} s: "
                                   "the broker did not queue the whole stream, or the consumer hangs")
            if now >= next_report:
                next_report += PROGRESS_S
                _err(f"  {name}: {done:,}/{total:,} ({100 * done / total:.0f}%) after {now - started:.1f} s")
            time.sleep(POLL_S)
    drain = Drain(now - started, cpu.consumer, cpu.broker)
    _err(f"  {name}: drained {total:,} in {drain.seconds:.2f} s ({total / drain.seconds:,.0f} msg/s); "
         f"CPU: consumer {drain.consumer_cpu:.0%}, broker {drain.broker_cpu:.0%} of a core")
    return drain


class BareCounter:
    """The baseline: a paho subscriber whose callback only counts.

    Its network loop is `loop_forever()` in a thread of ours, paho's fastest way to receive: with
    `loop_start()` paho queues each PUBACK and wakes its own loop through a socket pair instead of
    writing it at once, which costs ~25% of a bare subscriber's rate on this machine. The baseline is
    the best plain paho can do, so any cost of how the gateway runs paho shows in the ratio.
    """

    def __init__(self, broker: BrokerSettings, client_id: str) -> None:
        self.broker = broker
        self.count = 0
        self.client = paho_client(broker, client_id, clean_session=False)
        self.client.on_message = self._on_message
        self._thread = threading.Thread(target=self.client.loop_forever, name="bare-paho", daemon=True)

    def _on_message(self, _client: paho.Client, _userdata: Any, _message: paho.MQTTMessage) -> None:
        self.count += 1

    def start(self) -> None:
        self.client.connect(self.broker.host, self.broker.port, keepalive=60)
        self._thread.start()

    def stop(self) -> None:
        self.client.disconnect()
        self._thread.join(10)


class CpuMeter:
    """CPU seconds of this process and of the broker over a drain: shows which side was the bottleneck."""

    def __init__(self, broker_pid: int | None) -> None:
        self._broker_pid = broker_pid
        self._start = (0.0, 0.0, 0.0)
        self.consumer = self.broker = float("nan")

    def _broker_cpu(self) -> float:
        if self._broker_pid is None:
            return float("nan")
        try:
            fields = Path(f"/proc/{self._broker_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def __enter__(self) -> CpuMeter:
        self._start = (time.perf_counter(), time.process_time(), self._broker_cpu())
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._start[0]
        self.consumer = (time.process_time() - self._start[1]) / wall
        self.broker = (self._broker_cpu() - self._start[2]) / wall


def broker_pid(mosquitto: MosquittoProcess) -> int | None:
    """The pid of the Mosquitto running `mosquitto.config_path` (Linux /proc), or None."""
    wanted = str(mosquitto.config_path).encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if wanted in (entry / "cmdline").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    return None


# ------------------------------------------------------------------------------------------- runs


@dataclass(slots=True)
class RunResult:
    run: int
    order: list[str]
    total: int
    publish_s: float
    bare: Drain
    gateway: Drain
    gateway_stats: dict[str, Any]
    alerts_delivered: int

    @property
    def bare_rate(self) -> float:
        return self.total / self.bare.seconds

    @property
    def gateway_rate(self) -> float:
        return self.total / self.gateway.seconds

    @property
    def ratio(self) -> float:
        return self.gateway_rate / self.bare_rate


def _server_stats(url: str, *, reset: bool = False) -> dict[str, int]:
    if reset:
        httpx.delete(f"{url}/stats", timeout=5).raise_for_status()
    return httpx.get(f"{url}/stats", timeout=5).json()


def run_bare(broker: BrokerSettings, client_id: str, total: int, pid: int | None) -> Drain:
    counter = BareCounter(broker, client_id)
    drain = time_drain("bare paho", total, counter.start, lambda: counter.count, pid)
    time.sleep(0.5)  # anything beyond N would show up now
    counter.stop()
    if counter.count != total:
        raise RuntimeError(f"bare counter took {counter.count:,} messages, expected exactly {total:,}: the broker "
                           "did not queue (or deliver) the whole stream for the session")
    return drain


def run_gateway(config: GatewayConfig, stream: BenchStream, server_url: str,
                pid: int | None) -> tuple[Drain, dict[str, Any], int]:
    """The real Gateway drains its session; then its counters, alerts and outbox are checked."""
    total = len(stream.messages)
    _server_stats(server_url, reset=True)
    gateway = Gateway(config)
    worker = gateway.worker

    def handled() -> int:
        return worker.accepted + worker.duplicates + sum(list(worker.rejected.values()))

    try:
        drain = time_drain("gateway worker", total, gateway.start, handled, pid)
        deadline = time.monotonic() + 30
        while len(gateway.outbox) and time.monotonic() < deadline:  # let the forwarder finish (untimed)
            time.sleep(0.05)
        time.sleep(0.5)  # anything beyond N would show up now
        stats = worker.stats()
        left_in_outbox = len(gateway.outbox)
    finally:
        gateway.stop()
    delivered = _server_stats(server_url)["unique"]
    problems = []
    if handled() != total:
        problems.append(f"handled {handled():,} messages, expected {total:,}")
    if stats["rejected"]:
        problems.append(f"rejected {stats['rejected']}")
    if stats["accepted"] != stream.unique_events:
        problems.append(f"accepted {stats['accepted']:,}, expected {stream.unique_events:,}")
    if stats["duplicates"] != stream.redeliveries:
        problems.append(f"duplicates {stats['duplicates']:,}, expected {stream.redeliveries:,} redeliveries")
    if stats["alerts"] != stream.expected_alerts:
        problems.append(f"alerts {stats['alerts']}, expected {stream.expected_alerts} "
                        f"(an offline replay of the same stream; {stream.sos_presses} SOS presses)")
    if left_in_outbox or delivered != stats["alerts"]:
        problems.append(f"server got {delivered} alerts of {stats['alerts']}; {left_in_outbox} left in the outbox")
    if problems:
        raise RuntimeError("gateway run is wrong: " + "; ".join(problems))
    return drain, stats, delivered


def run_pair(run: int, *, broker: BrokerSettings, pid: int | None, stream: BenchStream, workdir: Path,
             server_url: str) -> RunResult:
    """Queue the stream for both consumers, then let each drain it; alternate who goes first."""
    tag = uuid.uuid4().hex[:8]
    bare_id = f"bench-bare-{tag}"
    config = GatewayConfig(broker=broker, server_url=server_url, worker_id=f"bench-{tag}",
                           outbox_path=str(workdir / f"outbox-{tag}.db"))
    total = len(stream.messages)
    for client_id in (bare_id, config.client_id):
        create_session(broker, client_id)
    _err(f"run {run}: publishing {total:,} messages at QoS 1 to two offline sessions")
    publish_s = publish_all(broker, stream.messages, tag)
    _err(f"run {run}: published and acknowledged in {publish_s:.1f} s ({total / publish_s:,.0f} msg/s)")
    order = ["bare", "gateway"] if run % 2 else ["gateway", "bare"]
    bare = gateway = Drain(float("nan"), float("nan"), float("nan"))
    stats: dict[str, Any] = {}
    delivered = 0
    for who in order:
        _err(f"run {run}: draining the backlog with the {who} consumer")
        if who == "bare":
            bare = run_bare(broker, bare_id, total, pid)
        else:
            gateway, stats, delivered = run_gateway(config, stream, server_url, pid)
    for client_id in (bare_id, config.client_id):
        discard_session(broker, client_id)
    result = RunResult(run, order, total, publish_s, bare, gateway, stats, delivered)
    print(f"run {run} ({' then '.join(order)}): bare {result.bare_rate:,.0f} msg/s in {bare.seconds:.2f} s, "
          f"gateway {result.gateway_rate:,.0f} msg/s in {gateway.seconds:.2f} s, ratio {result.ratio:.3f}; "
          f"CPU consumer/broker: bare {bare.consumer_cpu:.0%}/{bare.broker_cpu:.0%}, "
          f"gateway {gateway.consumer_cpu:.0%}/{gateway.broker_cpu:.0%}", flush=True)
    return result


def _mosquitto_version() -> str:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    try:
        out = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=5, check=False).stdout
    except OSError:
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


def _finite(value: Any) -> Any:
    """NaN (a figure we could not measure) as JSON null, not as the non-standard `NaN`."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_results(args: argparse.Namespace, stream: BenchStream, runs: list[RunResult], wall_s: float) -> Path:
    best_bare = max(r.bare_rate for r in runs)
    best_gateway = max(r.gateway_rate for r in runs)
    record = {
        "bench": "ingest",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "args": vars(args),
        "stream": {"messages": len(stream.messages), "unique_events": stream.unique_events,
                   "redeliveries": stream.redeliveries, "sos_presses": stream.sos_presses,
                   "sos_redelivered": stream.sos_redelivered,
                   "expected_alerts": stream.expected_alerts, "homes": stream.homes, "kinds": stream.kinds,
                   "payload_bytes": stream.payload_bytes},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "paho": importlib.metadata.version("paho-mqtt"),
                    "mosquitto": _mosquitto_version()},
        "runs": [{"run": r.run, "order": r.order, "publish_s": r.publish_s, "publish_rate": r.total / r.publish_s,
                  "bare_s": r.bare.seconds, "bare_rate": r.bare_rate, "bare_consumer_cpu": r.bare.consumer_cpu,
                  "bare_broker_cpu": r.bare.broker_cpu, "gateway_s": r.gateway.seconds,
                  "gateway_rate": r.gateway_rate, "gateway_consumer_cpu": r.gateway.consumer_cpu,
                  "gateway_broker_cpu": r.gateway.broker_cpu, "ratio": r.ratio,
                  "gateway_stats": r.gateway_stats, "alerts_delivered": r.alerts_delivered} for r in runs],
        "best": {"bare_rate": best_bare, "gateway_rate": best_gateway, "ratio": best_gateway / best_bare},
        "median": {"bare_rate": statistics.median(r.bare_rate for r in runs),
                   "gateway_rate": statistics.median(r.gateway_rate for r in runs),
                   "ratio": statistics.median(r.ratio for r in runs)},
        "wall_s": wall_s,
    }
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(_finite(record), indent=2) + "\n")
    return RESULTS_PATH


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000, help="messages in the stream, redeliveries included")
    parser.add_argument("--homes", type=int, default=2000, help="homes the events come from")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the pair; the best rate of each is reported")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated stream")
    args = parser.parse_args(argv)
    if args.events < 1 or args.homes < 1 or args.repeat < 1:
        parser.error("--events, --homes and --repeat must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    wall_started = time.perf_counter()

    # Start the alert server first, before this process has threads or a large heap.
    parent_conn, child_conn = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve_alerts, args=(child_conn,), daemon=True)
    server.start()
    try:
        if not parent_conn.poll(30):
            raise RuntimeError("the stub alert server did not start")
        server_url = f"http://127.0.0.1:{parent_conn.recv()}"

        generated = time.perf_counter()
        stream = generate_stream(args.events, args.homes, args.seed)
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in stream.kinds.items())
        _err(f"generated {len(stream.messages):,} messages ({stream.payload_bytes / len(stream.messages):.0f} B "
             f"payloads, {args.homes:,} homes) in {time.perf_counter() - generated:.1f} s: {kinds}; "
             f"{stream.redeliveries:,} redeliveries ({stream.sos_redelivered} of an SOS press)")

        runs: list[RunResult] = []
        with MosquittoProcess() as mosquitto, tempfile.TemporaryDirectory(prefix="homesafe-bench-") as tmp:
            broker = BrokerSettings(port=mosquitto.port)
            pid = broker_pid(mosquitto)
            _err(f"private mosquitto on {broker.url} (pid {pid}), {os.cpu_count()} CPUs shared with this process")
            for run in range(1, args.repeat + 1):
                runs.append(run_pair(run, broker=broker, pid=pid, stream=stream, workdir=Path(tmp),
                                     server_url=server_url))
                gc.collect()
    finally:
        server.terminate()
        server.join(5)

    wall_s = time.perf_counter() - wall_started
    path = write_results(args, stream, runs, wall_s)
    last = runs[-1].gateway_stats
    best_bare = max(r.bare_rate for r in runs)
    best_gateway = max(r.gateway_rate for r in runs)
    print(f"stream: {len(stream.messages):,} messages, {stream.unique_events:,} events from {stream.homes:,} homes, "
          f"{stream.redeliveries:,} redeliveries")
    print(f"gateway checks: accepted {last['accepted']:,}, duplicates {last['duplicates']:,} "
          f"(redeliveries {stream.redeliveries:,}), alerts {last['alerts']} (SOS presses {stream.sos_presses}), "
          f"delivered {runs[-1].alerts_delivered}, rejected {sum(last['rejected'].values())}")
    print(f"wall time {wall_s:.1f} s; plain numbers in {path}")
    if len(runs) > 1:
        print(f"median of {len(runs)} runs: bare {statistics.median(r.bare_rate for r in runs):,.0f} msg/s, "
              f"gateway {statistics.median(r.gateway_rate for r in runs):,.0f} msg/s, "
              f"ratio {statistics.median(r.ratio for r in runs):.3f}")
    label = f" (best of {len(runs)})" if len(runs) > 1 else ""
    print(f"bare paho: {best_bare:,.0f} msg/s{label}")
    print(f"gateway worker: {best_gateway:,.0f} msg/s{label}")
    print(f"ratio {best_gateway / best_bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
