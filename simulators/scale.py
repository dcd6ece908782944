"""Scale mode: thousands of homes from one process, at a target message rate, for load tests.

The message mix is real: a pool of messages is taken from a simulated day of a few homes (bed-mat
vitals, PIR occupancy, door, radar, wearable summaries and bursts, check-ins, in the proportions a
routine produces them) and replayed under each home's own base topic. One paho client publishes from a
single-threaded scheduler loop (no network thread, no task per home): every tick it publishes what is due
to keep up with `homes * rate_per_home`, and lets paho read and write in between. A progress line comes
every few seconds; at the end the last message goes at QoS 1 and its PUBACK closes the measurement, so
the achieved rate counts messages the broker has taken, not just written to a socket buffer.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho

from gateway.protocol import BrokerSettings, paho_client
from simulators import z2m
from simulators.devices import DEFAULT_DEVICES, SimDevice
from simulators.home import SimulatedHome

_LOGGER = logging.getLogger(__name__)

DEFAULT_RATE_PER_HOME = 0.26  # msg/s: a city of 100k homes averages ~26k msg/s (DESIGN.md)
POOL_HOMES = 8  # homes whose simulated day makes the message pool
BATCH = 2000  # most messages published between two looks at the socket and the clock
MAX_OUTSTANDING = 10_000  # published but not yet written (QoS 0) or acknowledged (QoS 1): back-pressure
TICK_S = 0.002


@dataclass(frozen=True, slots=True)
class ScaleOptions:
    """What to load the broker with."""

    broker: BrokerSettings
    homes: int = 1000
    rate_per_home: float = DEFAULT_RATE_PER_HOME
    duration_s: float | None = None
    base_topic: str | None = None  # default zigbee2mqtt/{home} (zigbee2mqtt for a single home)
    qos: int = 0
    seed: int = 1
    progress_every_s: float = 5.0
    press_every_s: float | None = None
    devices: tuple[SimDevice, ...] = DEFAULT_DEVICES


@dataclass(slots=True)
class ScaleReport:
    """What a scale run achieved."""

    homes: int
    target_rate: float
    sent: int = 0
    errors: int = 0
    presses: int = 0
    elapsed_s: float = 0.0
    progress: list[tuple[float, int, float]] = field(default_factory=list)  # (elapsed, sent, window rate)

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (f"scale: {self.homes} homes, {self.sent:,} messages in {self.elapsed_s:.1f} s: "
                f"{self.achieved_rate:,.0f} msg/s achieved, target {self.target_rate:,.0f} msg/s "
                f"({self.achieved_rate / self.target_rate:.0%}); {self.errors} publish errors, "
                f"{self.presses} button presses")


def message_pool(devices: tuple[SimDevice, ...], seed: int) -> list[tuple[str, bytes]]:
    """(device friendly name, payload) pairs from one simulated day of `POOL_HOMES` homes."""
    start = datetime(2025, 1, 15, tzinfo=UTC)
    pool: list[tuple[str, bytes]] = []
    for k in range(POOL_HOMES):
        home = SimulatedHome(f"pool{k}", devices=devices, rng=random.Random(seed * 1000 + k))
        pool += [(m.device, m.payload) for m in home.timeline(start, start + timedelta(days=1)) if m.device]
    if not pool:
        raise ValueError("the devices produced no messages in a simulated day; add motion sensors or a bed mat")
    random.Random(seed).shuffle(pool)
    return pool


def _base_topic(options: ScaleOptions) -> str:
    base = options.base_topic or ("zigbee2mqtt/{home}" if options.homes > 1 else "zigbee2mqtt")
    if options.homes > 1 and "{home}" not in base:
        raise ValueError("several homes need distinct topics: put {home} in --base-topic, e.g. zigbee2mqtt/{home}")
    return base.rstrip("/")


def run_scale(options: ScaleOptions, *, echo: Callable[[str], None] | None = None,
              clock: Callable[[], float] = time.monotonic) -> ScaleReport:
    """Publish `homes * rate_per_home` messages a second until `duration_s` passes (or Ctrl-C)."""
    if options.homes < 1:
        raise ValueError(f"--homes must be at least 1, got {options.homes}")
    if not options.rate_per_home > 0:
        raise ValueError(f"--rate-per-home must be positive (messages per second per home), got "
                         f"{options.rate_per_home}")
    say = echo or (lambda line: _LOGGER.info("%s", line))
    run = _ScaleRun(options, say, clock)
    t0 = clock()
    try:
        while options.duration_s is None or clock() - t0 < options.duration_s:
            run.step(t0)
        if options.duration_s is not None:
            # The last tick's share, so a run of D seconds that kept up sends D * target; a run that fell
            # behind stays behind (and says so).
            shortfall = int(options.duration_s * run.target) - run.report.sent
            if shortfall <= max(BATCH, run.target * 0.1):
                run.publish(shortfall)
    except KeyboardInterrupt:
        say("interrupted; finishing")
    finally:
        run.report.elapsed_s = run.finish() - t0
    say(run.report.summary())
    return run.report


class _ScaleRun:
    """The scheduler loop's state: topics, the message pool, the client, counters."""

    def __init__(self, options: ScaleOptions, say: Callable[[str], None], clock: Callable[[], float]) -> None:
        self.options, self.say, self.clock = options, say, clock
        base = _base_topic(options)
        self.prefixes = [base.format(home=f"h{i:04d}") + "/" for i in range(1, options.homes + 1)]
        pool = message_pool(options.devices, options.seed)
        self.names = [name for name, _ in pool]
        self.payloads = [payload for _, payload in pool]
        self.button = next((d.name for d in options.devices if d.type == "button"), None)
        self.target = options.homes * options.rate_per_home
        self.report = ScaleReport(options.homes, self.target)
        self.client = _connect(options.broker, options.qos)
        self.acked = 0
        if options.qos:  # paho builds objects per on_publish call, so QoS 0 does without it
            self.client.on_publish = self._on_publish
        self.rng = random.Random(options.seed)
        self.cursor = 0
        self.started = clock()
        self.next_progress = self.started + options.progress_every_s
        self.last_sent, self.last_t = 0, self.started
        self.next_press = self.started + options.press_every_s if options.press_every_s else None
        say(f"scale: {options.homes} homes x {options.rate_per_home:g} msg/s = {self.target:,.0f} msg/s target on "
            f"{options.broker.url}, QoS {options.qos}, base topic {base}; message pool {len(pool)} from a "
            f"simulated day")

    def _on_publish(self, *_args: object) -> None:
        self.acked += 1

    def _room(self) -> int:
        """How many more messages the broker can take now: back-pressure, so that a client queueing without
        bound does not measure its own memory instead of the broker."""
        if self.options.qos:
            return MAX_OUTSTANDING - (self.report.sent - self.acked)
        return 0 if self.client.want_write() else BATCH

    def step(self, t0: float) -> None:
        now = self.clock()
        due = min(int((now - t0) * self.target) - self.report.sent, BATCH, self._room())
        if due > 0:
            self.publish(due)
            self.client.loop(timeout=0.0)  # read PUBACKs and PINGRESPs, write what is left
        else:
            self.client.loop(timeout=TICK_S)
        if self.next_press is not None and now >= self.next_press:
            self.press(now)
        if now >= self.next_progress:
            self.progress(now, now - t0)

    def publish(self, count: int) -> None:
        """`count` messages from the pool, each to a random home."""
        publish, prefixes, names, payloads, qos = (self.client.publish, self.prefixes, self.names, self.payloads,
                                                    self.options.qos)
        cursor, size = self.cursor, len(names)
        for i in [self.rng.randrange(self.options.homes) for _ in range(count)]:
            cursor = cursor + 1 if cursor + 1 < size else 0
            if publish(prefixes[i] + names[cursor], payloads[cursor], qos).rc != paho.MQTT_ERR_SUCCESS:
                self.report.errors += 1
        self.cursor = cursor
        self.report.sent += max(count, 0)

    def press(self, now: float) -> None:
        if self.button is None:
            self.next_press = None
            return
        home = self.rng.randrange(self.options.homes)
        self.client.publish(self.prefixes[home] + self.button, z2m.button_press("single"), 1)
        self.report.presses += 1
        self.say(f"press: home h{home + 1:04d} ({self.prefixes[home]}{self.button})")
        self.next_press = now + (self.options.press_every_s or 0)

    def progress(self, now: float, elapsed: float) -> None:
        window = (self.report.sent - self.last_sent) / (now - self.last_t)
        self.report.progress.append((elapsed, self.report.sent, window))
        self.say(f"[{elapsed:7.1f} s] {self.report.sent:,} messages sent; {window:,.0f} msg/s in the last "
                 f"{now - self.last_t:.1f} s, {self.report.sent / elapsed:,.0f} overall; "
                 f"target {self.target:,.0f} msg/s")
        self.next_progress, self.last_sent, self.last_t = now + self.options.progress_every_s, self.report.sent, now

    def finish(self, timeout_s: float = 30.0) -> float:
        """Write out what is queued, then one last message at QoS 1: its PUBACK means the broker has taken all
        before it (one connection's packets are handled in order). Returns the time of that PUBACK."""
        info = self.client.publish(self.prefixes[0] + self.names[self.cursor], self.payloads[self.cursor], 1)
        self.report.sent += 1
        deadline = time.monotonic() + timeout_s
        while not info.is_published() and time.monotonic() < deadline:
            self.client.loop(timeout=0.01)
        done = self.clock()
        if not info.is_published():
            _LOGGER.warning("the broker did not acknowledge the last message within %s s", timeout_s)
        self.client.disconnect()
        self.client.loop(timeout=0.1)
        return done


def _connect(broker: BrokerSettings, qos: int, timeout_s: float = 10.0) -> paho.Client:
    client = paho_client(broker, f"homesafe-scale-{uuid.uuid4().hex[:8]}", max_inflight=1000 if qos else 20,
                         max_queued=0)
    connected: list[paho.ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: connected.append(reason)
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except OSError as exc:
        raise RuntimeError(f"cannot reach the broker at {broker.url}: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    while not connected:
        client.loop(timeout=0.05)
        if time.monotonic() > deadline:
            raise RuntimeError(f"no CONNACK from {broker.url} within {timeout_s} s")
    if connected[0].is_failure:
        raise RuntimeError(f"broker {broker.url} refused the connection: {connected[0]}")
    return client
