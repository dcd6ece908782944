"""A simulated home: its devices and residents, and what the devices publish as the residents live.

`SimulatedHome` puts its residents' stays (`simulators.residents`) on a `Scheduler`, turns what the
sensors notice (`simulators.sensing`) into Zigbee2MQTT payloads (`simulators.devices`) and hands each
message to a sink. With a `SimClock` and an MQTT client (`everyday_life`, or `simulators.runner`) that is
a live home; without them (`timeline`) it is a week of messages computed in a moment.

Scenario steps drive the same home through its primitives: `relocate` (the resident goes somewhere and
stays there, or picks the routine up again), `motion`, `bed`, `door`, `radar_fall`, `set_vitals`,
`set_online`, `publish`.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

import numpy as np

from simulators import wearable, z2m
from simulators.clock import SimClock
from simulators.devices import DEFAULT_DEVICES, DeviceState, SimDevice, render
from simulators.residents import FOREVER, IN_BED, Routine, RoutinePlanner, Stay
from simulators.schedule import Publisher, Scheduler, SimMessage, Sink, drive
from simulators.sensing import Stimulus, movements, transition

_LOGGER = logging.getLogger(__name__)

DEFAULT_BASE_TOPIC = "zigbee2mqtt"
PIR_RETRIGGER_S = 60.0  # an occupied PIR reports again at most once a minute while it keeps seeing movement
PIR_CLEAR_S = 90.0  # ... and reports occupancy false 90 s after the last movement (Zigbee2MQTT's default)
CHUNK_S = 3600.0  # movements are drawn an hour at a time, so long stays cost nothing until they happen
_STICKY = ("occupancy", "door_open", "alarm", "leak", "presence", "in_bed")  # repeated by check-ins
# Everyday movements that can trip a wearable's impact trigger, by the activity being started.
_BURST_KINDS = {"meal": "sitting_down", "leisure": "sitting_down", "visit": "sitting_down", "sleep": "lying_down",
                "nap": "lying_down", "hallway": "walking", "arriving": "stairs_up", "leaving": "stairs_down",
                "kitchen": "picking_up", "bedroom": "picking_up", "dressing": "picking_up", "bathroom": "sitting_down",
                "getting_up": "standing_up"}
_STEPS_PER_MIN = {"outing": 45.0, "leisure": 3.0}


@dataclass(frozen=True, slots=True)
class HomeOptions:
    """How often devices report, and the Zigbee2MQTT settings that shape payloads."""

    bed_report_s: float = 60.0  # the bed mat's vitals while someone is in bed
    bed_idle_report_s: float = 1800.0  # its "empty" report otherwise
    wearable_report_s: float = 1800.0  # the wearable's summary (battery, steps)
    checkin_s: float = 7200.0  # other devices' periodic health report
    wearable_fs: float = 50.0  # accelerometer rate of bursts
    wearable_bursts_per_day: float = 2.0  # everyday movements that trip the wearable's trigger
    last_seen: str | None = None  # Zigbee2MQTT advanced.last_seen: None, "ISO_8601" or "epoch"


@dataclass(slots=True)
class ResidentSim:
    """One resident as simulated: the stays still to come, the current one, and those lived so far."""

    index: int
    queue: Iterator[Stay]
    hr_base: float
    br_base: float
    current: Stay | None = None
    epoch: int = 0  # bumped when the plan changes, so callbacks of the old plan do nothing
    history: list[Stay] = field(default_factory=list)

    def where(self) -> str | None:
        return None if self.current is None else self.current.room


@dataclass(slots=True)
class _Vitals:
    until: float
    heart_rate: Any
    breathing_rate: Any
    movement: Any


@dataclass(slots=True)
class _Pir:
    occupied: bool = False
    last_report: float = -math.inf
    last_movement: float = -math.inf


class SimulatedHome:
    """One home's devices under Zigbee2MQTT `base_topic`, lived in by residents with routines.

    Args:
        home: the home id.
        base_topic: Zigbee2MQTT's base topic; device `d` publishes on `{base_topic}/{d}`.
        devices: what is installed (default: the safety service package and a home-care bed's mat).
        rng: all randomness; the same seed gives the same week.
        routines: one per resident (default one resident with the default routine). The first resident
            uses the bed mat and wears the wearable.
        tz: the home's time zone: routines are in local hours.
    """

    def __init__(self, home: str, base_topic: str = DEFAULT_BASE_TOPIC, devices: Sequence[SimDevice] = DEFAULT_DEVICES,
                 rng: random.Random | None = None, *, routines: Sequence[Routine] | None = None, tz: tzinfo = UTC,
                 options: HomeOptions | None = None) -> None:
        self.home = home
        self.base_topic = base_topic.rstrip("/")
        self.devices = tuple(devices)
        self.rng = rng if rng is not None else random.Random()
        self.routines = tuple(routines) if routines is not None else (Routine(),)
        self.tz = tz
        self.options = options or HomeOptions()
        self.presses = 0
        self.state = {d.name: DeviceState(battery=self.rng.randint(60, 100), linkquality=self.rng.randint(40, 200))
                      for d in self.devices}
        self.residents: list[ResidentSim] = []
        self.scheduler: Scheduler | None = None
        self.sink: Sink | None = None
        self._np_rng = np.random.default_rng(self.rng.getrandbits(64))
        self._pir: dict[str, _Pir] = {}
        self._present: dict[str, set[int]] = {}
        self._in_bed = False
        self._bed_last = -math.inf
        self._door_open = False
        self._vitals: _Vitals | None = None
        self._steps_day: Any = None

    # -- identity ------------------------------------------------------------------------------------------

    def topic(self, device: str) -> str:
        return f"{self.base_topic}/{device}"

    def device(self, name: str) -> SimDevice:
        for device in self.devices:
            if device.name == name:
                return device
        raise LookupError(f"home {self.home} has no device {name!r}; it has {', '.join(d.name for d in self.devices)}")

    def devices_of(self, device_type: str, room: str | None = None) -> list[SimDevice]:
        return [d for d in self.devices if d.type == device_type and (room is None or d.room == room)]

    def device_of_type(self, device_type: str, room: str | None = None) -> SimDevice:
        found = self.devices_of(device_type, room)
        if not found:
            where = f" in the {room}" if room else ""
            raise LookupError(f"home {self.home} has no {device_type} device{where}")
        return found[0]

    def edge_devices(self) -> list[dict[str, Any]]:
        """The devices as an edge agent's configuration lists them: `{name, type, room, role, model}`."""
        return [d.as_dict() for d in self.devices]

    def bridge_devices(self) -> bytes:
        """The retained `{base_topic}/bridge/devices` payload Zigbee2MQTT publishes for these devices."""
        return z2m.bridge_devices([(d.name, str(d.model), d.type) for d in self.devices])

    # -- running -------------------------------------------------------------------------------------------

    def attach(self, scheduler: Scheduler, sink: Sink, *, routine: bool = True, announce: bool = False) -> None:
        """Start living at `scheduler.now`: residents follow their routines (or sit still if `routine` is
        False), devices report on their periods; messages go to `sink`."""
        self.scheduler, self.sink = scheduler, sink
        start = scheduler.now
        if announce:
            self.announce(start)
        self.residents = []
        for index, habits in enumerate(self.routines):
            planner = RoutinePlanner(habits, self.tz, random.Random(self.rng.getrandbits(64)))
            queue = planner.stays(start) if routine else iter([Stay(start, FOREVER, "living_room", "still")])
            resident = ResidentSim(index, queue, hr_base=self.rng.uniform(56, 70), br_base=self.rng.uniform(12, 16))
            self.residents.append(resident)
            self._advance(start, resident, resident.epoch)
        if self.devices_of("bed_mat"):
            scheduler.at(start + self.rng.uniform(0, self.options.bed_report_s), self._bed_tick)
        if self.devices_of("wearable"):
            scheduler.at(start + self.rng.uniform(0, self.options.wearable_report_s), self._wearable_tick)
        for device in self.devices:
            if device.type not in ("wearable", "bed_mat"):
                scheduler.at(start + self.rng.uniform(0, self.options.checkin_s), self._checkin, device)

    def timeline(self, start: datetime, end: datetime, *, routine: bool = True) -> list[SimMessage]:
        """Everything the devices publish from `start` to `end`, computed without MQTT or waiting."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware datetimes")
        messages: list[SimMessage] = []
        scheduler = Scheduler(start.timestamp())
        self.attach(scheduler, messages.append, routine=routine)
        scheduler.run_until(end.timestamp())
        return messages

    def now(self) -> float:
        return self.scheduler.now if self.scheduler is not None else time.time()

    # -- what devices publish --------------------------------------------------------------------------------

    def emit(self, message: SimMessage) -> None:
        if self.sink is None:
            raise RuntimeError(f"home {self.home} is not attached to a scheduler; call attach() first")
        self.sink(message)

    def publish(self, t: float, device: SimDevice, reading: dict[str, Any], *, qos: int = 0) -> bool:
        """`device` reports `reading` at `t` (nothing if it is offline). Returns whether it published."""
        state = self.state[device.name]
        if not state.online:
            return False
        state.extra.update({k: v for k, v in reading.items() if k in _STICKY})
        payload = render(device, state, reading, t=t, last_seen_format=self.options.last_seen)
        self.emit(SimMessage(t, self.topic(device.name), payload, qos, False, self.home, device.name))
        return True

    def publish_raw(self, t: float, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False,
                    device: str | None = None) -> None:
        """Any payload on `{base_topic}/{topic}` (malformed ones included)."""
        self.emit(SimMessage(t, self.topic(topic), payload, qos, retain, self.home, device))

    def announce(self, t: float) -> None:
        """What Zigbee2MQTT publishes (retained) when it starts: bridge/devices and every device online."""
        self.publish_raw(t, "bridge/devices", self.bridge_devices(), retain=True)
        for device in self.devices:
            self.publish_raw(t, f"{device.name}/availability", z2m.availability(True), retain=True,
                             device=device.name)

    def set_online(self, t: float, device: SimDevice, online: bool) -> None:
        """Zigbee2MQTT marks `device` online/offline (retained); an offline device publishes nothing."""
        self.state[device.name].online = online
        self.publish_raw(t, f"{device.name}/availability", z2m.availability(online), retain=True, device=device.name)

    # -- what sensors notice ---------------------------------------------------------------------------------

    def motion(self, t: float, room: str) -> None:
        """Someone moves in `room`: its PIRs report occupancy (with their blind time and timeout)."""
        for device in self.devices_of("motion", room):
            pir = self._pir.setdefault(device.name, _Pir())
            pir.last_movement = t
            due = not pir.occupied or t - pir.last_report >= PIR_RETRIGGER_S
            if due and self.publish(t, device, {"occupancy": True}):
                pir.occupied, pir.last_report = True, t
            self._at(t + PIR_CLEAR_S, self._pir_clear, device)

    def _pir_clear(self, t: float, device: SimDevice) -> None:
        pir = self._pir[device.name]
        if pir.occupied and t - pir.last_movement >= PIR_CLEAR_S - 1e-6 and self.publish(t, device,
                                                                                          {"occupancy": False}):
            pir.occupied = False

    def bed(self, t: float, in_bed: bool) -> None:
        """The bed mat's presence changes (reported at once, with vitals when someone is in bed)."""
        if in_bed == self._in_bed:
            return
        self._in_bed = in_bed
        self._bed_report(t)

    def door(self, t: float, door_open: bool) -> None:
        """The front door opens or closes."""
        if door_open == self._door_open:
            return
        self._door_open = door_open
        for device in self.devices_of("contact"):
            if device.role == "front_door" or device.room == "hallway":
                self.publish(t, device, {"door_open": door_open})

    def presence(self, t: float, room: str, who: int, present: bool) -> None:
        """A resident enters or leaves the view of the room's radar."""
        people = self._present.setdefault(room, set())
        before = bool(people)
        (people.add if present else people.discard)(who)
        if bool(people) != before:
            for device in self.devices_of("radar", room):
                self.publish(t, device, {"presence": bool(people), "fall": False})

    def radar_fall(self, t: float, room: str) -> None:
        """The room's radar reports a fall."""
        for device in self.devices_of("radar", room):
            self.publish(t, device, {"presence": True, "fall": True})

    def wearable_burst(self, t: float, t0: float, samples: np.ndarray, fs: float) -> None:
        """The wearable sends the acceleration window starting at device-time `t0`."""
        for device in self.devices_of("wearable"):
            self.publish(t, device, {"burst": (t0, fs, samples)})

    def set_vitals(self, t: float, until: float, *, heart_rate: Any = None, breathing_rate: Any = None,
                   movement: Any = None) -> None:
        """Until `until`, the bed mat reports these vitals (a number, or [low, high] drawn per report)."""
        self._vitals = _Vitals(until, heart_rate, breathing_rate, movement)
        if self._in_bed:
            self._bed_report(t)

    # -- residents -------------------------------------------------------------------------------------------

    def relocate(self, t: float, stays: Sequence[Stay], *, resident: int = 0, then: str = "halt") -> None:
        """From `t` the resident follows `stays` instead of the routine; afterwards stays where the last one
        is, forever (`then="halt"`), or picks the routine up again (`then="resume"`)."""
        if then not in ("halt", "resume"):
            raise ValueError(f"then must be 'halt' or 'resume', got {then!r}")
        res = self.residents[resident]
        if not stays or abs(stays[0].start - t) > 1e-6:
            raise ValueError("relocate needs stays starting at t")
        for a, b in itertools.pairwise(stays):
            if abs(a.end - b.start) > 1e-6:
                raise ValueError(f"stays must follow each other: {a} then {b}")
        prev = res.current
        if prev is not None:
            prev = replace(prev, end=t)
            res.history[-1] = prev
        res.epoch += 1
        if then == "halt":
            plan: list[Stay] = [*stays[:-1], replace(stays[-1], end=FOREVER)]
            rest: Iterator[Stay] = iter(())
        else:
            plan, after = list(stays), stays[-1].end
            original = itertools.chain([res.current] if res.current else [], res.queue)
            rest = (replace(s, start=max(s.start, after)) for s in original if s.end > after)
        res.queue = itertools.chain(plan[1:], rest)
        self._enter(res, prev, plan[0])

    def _at(self, t: float, fn: Any, *args: Any) -> None:
        assert self.scheduler is not None
        self.scheduler.at(t, fn, *args)

    def _advance(self, t: float, res: ResidentSim, epoch: int) -> None:
        if epoch != res.epoch:
            return
        stay = next(res.queue, None)
        if stay is not None:
            self._enter(res, res.current, stay)

    def _enter(self, res: ResidentSim, prev: Stay | None, stay: Stay) -> None:
        res.current = stay
        res.history.append(stay)
        epoch = res.epoch
        for stimulus in transition(prev, stay, self.rng):
            self._at(stimulus.t, self._stimulus, stimulus, res, epoch)
        self._at(stay.start + 20.0, self._movements, stay, res, epoch)
        if (prev is not None and res.index == 0 and not stay.out and self.devices_of("wearable")
                and self.rng.random() < self.options.wearable_bursts_per_day / 30):
            kind = _BURST_KINDS.get(stay.activity, self.rng.choice(["picking_up", "stumble", "sitting_down"]))
            t0 = stay.start + self.rng.uniform(5, 30)
            samples = wearable.activity(kind, 6.0, self.options.wearable_fs, self._np_rng)
            self._at(t0 + 6.5, self._burst, t0, samples, res, epoch)
        if math.isfinite(stay.end):
            self._at(stay.end, self._advance, res, epoch)

    def _stimulus(self, t: float, stimulus: Stimulus, res: ResidentSim, epoch: int) -> None:
        if epoch != res.epoch:
            return
        if stimulus.kind == "motion" and stimulus.room:
            self.motion(t, stimulus.room)
        elif stimulus.kind == "bed" and res.index == 0:
            self.bed(t, stimulus.value)
        elif stimulus.kind == "door":
            self.door(t, stimulus.value)
        elif stimulus.kind == "presence" and stimulus.room:
            self.presence(t, stimulus.room, res.index, stimulus.value)

    def _movements(self, t: float, stay: Stay, res: ResidentSim, epoch: int) -> None:
        if epoch != res.epoch:
            return
        hi = min(stay.end, t + CHUNK_S)
        for when in movements(stay, t, hi, self.rng, self.tz):
            self._at(when, self._stimulus, Stimulus(when, "motion", stay.room), res, epoch)
        if hi < stay.end:
            self._at(hi, self._movements, stay, res, epoch)

    def _burst(self, t: float, t0: float, samples: np.ndarray, res: ResidentSim, epoch: int) -> None:
        if epoch == res.epoch:
            self.wearable_burst(t, t0, samples, self.options.wearable_fs)

    # -- periodic reports ------------------------------------------------------------------------------------

    def _bed_vitals(self, t: float) -> dict[str, Any]:
        res = self.residents[0]
        o = self._vitals if self._vitals is not None and t < self._vitals.until else None
        cycle = math.sin(2 * math.pi * t / 5400)  # ~90-minute sleep cycles
        normal = {"heart_rate": round(res.hr_base + 3 * cycle + self.rng.gauss(0, 1.5)),
                  "breathing_rate": round(res.br_base + 0.8 * cycle + self.rng.gauss(0, 0.6)),
                  "movement": self.rng.randint(5, 30) if self.rng.random() < 0.05 else self.rng.randint(0, 3)}
        if o is None:
            return normal
        for key, given in (("heart_rate", o.heart_rate), ("breathing_rate", o.breathing_rate),
                           ("movement", o.movement)):
            if isinstance(given, list | tuple):
                normal[key] = round(self.rng.uniform(given[0], given[1]))
            elif given is not None:
                normal[key] = given
        return normal

    def _bed_report(self, t: float) -> None:
        reading: dict[str, Any] = {"in_bed": self._in_bed}
        if self._in_bed:
            reading.update(self._bed_vitals(t))
        for device in self.devices_of("bed_mat"):
            self.publish(t, device, reading)
        self._bed_last = t

    def _bed_tick(self, t: float) -> None:
        if self._in_bed or t - self._bed_last >= self.options.bed_idle_report_s:
            self._bed_report(t)
        self._at(t + self.options.bed_report_s, self._bed_tick)

    def _wearable_tick(self, t: float) -> None:
        stay = self.residents[0].current if self.residents else None
        day = datetime.fromtimestamp(t, self.tz).date()
        for device in self.devices_of("wearable"):
            state = self.state[device.name]
            if day != self._steps_day:
                state.steps, self._steps_day = 0, day
            if stay is not None and stay.activity not in IN_BED:
                rate = _STEPS_PER_MIN.get(stay.activity, 8.0)
                state.steps += int(self.rng.gauss(1, 0.2) * rate * self.options.wearable_report_s / 60)
            if stay is not None and not stay.out:  # out of the hub's radio range while out
                self.publish(t, device, {"summary": True})
        self._at(t + self.options.wearable_report_s, self._wearable_tick)

    def _checkin(self, t: float, device: SimDevice) -> None:
        pir = self._pir.get(device.name)
        if pir is not None and pir.occupied:  # later: a check-in saying "occupied" would read as movement
            self._at(t + PIR_CLEAR_S + 30, self._checkin, device)
            return
        reading = dict(self.state[device.name].extra)
        if device.type == "radar":
            reading.setdefault("presence", False)
        self.publish(t, device, reading)
        self._at(t + self.options.checkin_s * self.rng.uniform(0.8, 1.2), self._checkin, device)

    # -- live helpers (asyncio MQTT client) ----------------------------------------------------------------

    async def press_button(self, client: Publisher, action: str = "single") -> None:
        """The elder presses the call button, now."""
        button = self.device_of_type("button")
        payload = render(button, self.state[button.name], {"action": action}, t=time.time())
        await client.publish(self.topic(button.name), payload, qos=1)
        self.presses += 1

    async def move(self, client: Publisher, room: str | None = None) -> None:
        """The resident is seen by a motion sensor (in `room`, or a random one), now."""
        sensors = [d for d in self.devices_of("motion") if room is None or d.room == room]
        sensor = self.rng.choice(sensors)
        await client.publish(self.topic(sensor.name), z2m.motion(True), qos=0)

    async def open_front_door(self, client: Publisher) -> None:
        """The front door opens and closes, now."""
        door = next(d for d in self.devices if d.role == "front_door")
        await client.publish(self.topic(door.name), z2m.contact(True), qos=0)
        await client.publish(self.topic(door.name), z2m.contact(False), qos=0)

    async def everyday_life(self, client: Publisher, *, clock: SimClock | None = None,
                            announce: bool = False) -> None:
        """Live the residents' routines on `clock` (default: real time from now), publishing until cancelled."""
        clock = clock or SimClock(datetime.now(self.tz), speed=1.0)
        scheduler, outbox = Scheduler(clock.time()), []
        self.attach(scheduler, outbox.append, announce=announce)
        await drive(scheduler, clock, client, outbox)
