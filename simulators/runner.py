"""Runs a scenario: its homes live on a `SimClock`, its steps happen on time, messages go to a broker.

    scenario = load_scenario("bathroom_fall_night")
    report = await run_scenario(scenario, BrokerSettings.from_url("mqtt://127.0.0.1:1883"))

`ScenarioRunner(...).messages()` runs the same scenario without a broker or waiting, for tests and
dry runs.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import shlex
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiomqtt
import numpy as np

from gateway.protocol import BrokerSettings, aiomqtt_options
from simulators.clock import SimClock
from simulators.faults import FaultInjector
from simulators.home import SimulatedHome
from simulators.scenario import Scenario
from simulators.schedule import Publisher, Scheduler, SimMessage
from simulators.steps import GLOBAL_ACTIONS, schedule_step

_LOGGER = logging.getLogger(__name__)

UplinkHook = Callable[[str, bool, float | None], Awaitable[None] | None]
"""Called as `hook(home, down, duration_s)` when a scenario drops (down=True) or restores a home's uplink."""


@dataclass(slots=True)
class RunReport:
    """What a scenario run published."""

    scenario: str
    homes: int
    messages: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    presses: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    uplink: list[tuple[float, str, bool]] = field(default_factory=list)
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0

    def summary(self) -> str:
        types = ", ".join(f"{k} {v}" for k, v in self.by_type.most_common())
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        return (f"scenario {self.scenario}: {self.homes} home(s), {self.messages} messages ({types}); "
                f"{self.presses} button presses; faults injected: {faults}; "
                f"{self.sim_seconds:.0f} simulated s in {self.wall_seconds:.1f} s")


def _default_base_topic(homes: int) -> str:
    return "zigbee2mqtt/{home}" if homes > 1 else "zigbee2mqtt"


class ScenarioRunner:
    """A scenario's homes on one scheduler, with its steps, faults and clock.

    Args:
        scenario: the validated scenario.
        speed: overrides the scenario's speed (simulated seconds per real second; inf = no waiting).
        base_topic: overrides the scenario's Zigbee2MQTT base topic; `{home}` is replaced by the home id.
        homes: overrides the scenario's home count (h0001..hN).
        clock: an injected clock (tests); by default a `SimClock` from the scenario's start at its speed.
        on_uplink: called when an `uplink_drop` step starts and ends (see `simulators.steps`).
        echo: where the run's story goes, one line per step (default: the log at INFO).
    """

    def __init__(self, scenario: Scenario, *, speed: float | None = None, base_topic: str | None = None,
                 homes: int | None = None, seed: int | None = None, clock: SimClock | None = None,
                 on_uplink: UplinkHook | None = None, echo: Callable[[str], None] | None = None) -> None:
        self.scenario = scenario
        self._own_clock = clock is None
        self.clock = clock or SimClock(scenario.start, speed=speed if speed is not None else scenario.speed)
        home_ids = scenario.homes if homes is None else tuple(f"h{i:04d}" for i in range(1, homes + 1))
        base = base_topic or scenario.base_topic or _default_base_topic(len(home_ids))
        if len(home_ids) > 1 and "{home}" not in base:
            raise ValueError("several homes need distinct topics: put {home} in --base-topic, e.g. zigbee2mqtt/{home}")
        self.rng = random.Random(scenario.seed if seed is None else seed)
        self.np_rng = np.random.default_rng(self.rng.getrandbits(64))
        self.injector = FaultInjector(random.Random(self.rng.getrandbits(64)), scenario.faults)
        self.t0 = self.clock.start.timestamp()
        self.scheduler = Scheduler(self.t0)
        self.end = None if scenario.end_s is None else self.t0 + scenario.end_s
        self.on_uplink = on_uplink
        self._echo = echo or (lambda line: _LOGGER.info("%s", line))
        self._outbox: list[SimMessage] = []
        self._pending: list[Awaitable[Any]] = []
        self.report = RunReport(scenario.name, len(home_ids))
        self.homes = [SimulatedHome(h, base.format(home=h), scenario.devices, random.Random(self.rng.getrandbits(64)),
                                    routines=scenario.routines, tz=scenario.tz, options=scenario.options)
                      for h in home_ids]
        self._by_id = {home.home: home for home in self.homes}
        for step in scenario.steps:
            if step.home is not None and step.home not in self._by_id:
                raise ValueError(f"{scenario.source}: {step.where}.home: {step.home!r} is not among the homes of "
                                 f"this run ({', '.join(home_ids[:5])}{' ...' if len(home_ids) > 5 else ''})")
        self.story: list[tuple[float, str]] = []
        for home in self.homes:
            home.attach(self.scheduler, self._sink, routine=scenario.routine, announce=scenario.announce)
            if scenario.clock_skew_s:
                for state in home.state.values():
                    state.clock_skew_s = scenario.clock_skew_s
                if home.options.last_seen is None:
                    home.options = replace(home.options, last_seen="ISO_8601")
        for step in scenario.steps:
            if step.action in GLOBAL_ACTIONS:
                schedule_step(self, step, None)
            else:
                for home in self.homes:
                    if step.home in (None, home.home):
                        schedule_step(self, step, home)

    # -- what steps call ------------------------------------------------------------------------------------

    def say(self, t: float, home: str | None, text: str) -> None:
        """One line of the run's story, stamped with the simulated local time."""
        when = datetime.fromtimestamp(t, self.scenario.tz).strftime("%a %H:%M:%S")
        line = f"[{when}] {home + ': ' if home else ''}{text}"
        self.story.append((t, line))
        self._echo(line)

    def uplink(self, t: float, home: str, down: bool, duration_s: float | None) -> None:
        """An `uplink_drop` step: tell the hook (or the operator) to cut or restore the home's uplink."""
        self.report.uplink.append((t, home, down))
        if self.on_uplink is None:
            if down:
                self.say(t, home, f"UPLINK DROP requested for {duration_s:.0f} s: the simulator only publishes to "
                                  f"the home's local broker and cannot cut the edge agent's uplink; cut it yourself "
                                  f"(stop the central broker, block its port) or pass --uplink-hook CMD")
            else:
                self.say(t, home, "UPLINK RESTORE requested (restore the uplink you cut)")
            return
        self.say(t, home, f"uplink {'down' if down else 'up'}: calling the uplink hook")
        try:
            result = self.on_uplink(home, down, duration_s)
        except Exception:
            _LOGGER.exception("uplink hook failed for home %s", home)
            return
        if inspect.isawaitable(result):
            self._pending.append(result)

    # -- running --------------------------------------------------------------------------------------------

    def _sink(self, message: SimMessage) -> None:
        self._outbox.extend(self.injector(message))

    def _count(self, batch: list[SimMessage]) -> None:
        for message in batch:
            home = self._by_id.get(message.home)
            kind = "other"
            if message.topic.endswith("/availability"):
                kind = "availability"
            elif message.topic.endswith("/bridge/devices"):
                kind = "bridge"
            elif home is not None and message.device is not None:
                kind = home.device(message.device).type
            self.report.by_type[kind] += 1
        self.report.messages += len(batch)

    def messages(self) -> list[SimMessage]:
        """Run the whole scenario at once, without a broker, and return every message in order."""
        if self.end is None:
            raise ValueError(f"scenario {self.scenario.name} has no end (no duration and no steps); give a duration")
        self.scheduler.run_until(self.end)
        out, self._outbox = [*self._outbox, *self.injector.flush()], []
        self._finish(out, self.end - self.t0, 0.0)
        return out

    def _finish(self, batch: list[SimMessage], sim_s: float, wall_s: float) -> None:
        self._count(batch)
        self.report.presses = sum(h.presses for h in self.homes)
        self.report.faults = self.injector.counts.copy()
        self.report.sim_seconds, self.report.wall_seconds = sim_s, wall_s

    async def run(self, publisher: Publisher, *, until: float | None = None) -> RunReport:
        """Publish the scenario on its clock until its end (or `until` simulated seconds, or cancellation)."""
        wall0 = time.monotonic()
        if self._own_clock:
            self.clock.restart()
        end = self.end if until is None else self.t0 + until
        try:
            while True:
                t = self.scheduler.next_time()
                if t is None or (end is not None and t > end):
                    break
                await self.clock.sleep_until(t)
                self.scheduler.run_until(t)
                batch, self._outbox = self._outbox, []
                await self._publish(publisher, batch)
                self._count(batch)
                await self._await_hooks()
            held = self.injector.flush()
            await self._publish(publisher, held)
            self._count(held)
            if end is not None and math.isfinite(self.clock.speed):
                await self.clock.sleep_until(end)
        finally:
            await self._await_hooks()
            sim_end = self.clock.time() if end is None or not self.clock.virtual else end
            self._finish([], sim_end - self.t0, time.monotonic() - wall0)
        return self.report

    @staticmethod
    async def _publish(publisher: Publisher, batch: list[SimMessage]) -> None:
        for message in batch:
            await publisher.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)

    async def _await_hooks(self) -> None:
        pending, self._pending = self._pending, []
        for result in pending:
            try:
                await result
            except Exception:
                _LOGGER.exception("uplink hook failed")


def command_hook(command: str) -> UplinkHook:
    """An uplink hook that runs `command down HOME SECONDS` / `command up HOME 0` and waits for it."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("--uplink-hook needs a command, e.g. ./cut-uplink.sh")

    async def hook(home: str, down: bool, duration_s: float | None) -> None:
        process = await asyncio.create_subprocess_exec(*argv, "down" if down else "up", home,
                                                       f"{duration_s or 0:.0f}")
        code = await process.wait()
        if code != 0:
            _LOGGER.warning("uplink hook %r exited with %s for home %s", command, code, home)

    return hook


async def run_scenario(scenario: Scenario, broker: BrokerSettings, *, until: float | None = None,
                       **options: Any) -> RunReport:
    """Run `scenario` against `broker` (one MQTT connection for all its homes); see `ScenarioRunner`."""
    runner = ScenarioRunner(scenario, **options)
    client_id = f"homesafe-sim-{uuid.uuid4().hex[:8]}"
    async with aiomqtt.Client(**aiomqtt_options(broker), identifier=client_id) as client:
        return await runner.run(client, until=until)
