"""What each scenario step does to a simulated home, scheduled on the scenario's simulated clock.

Steps that move a resident (fall, stop_moving, bed_exit, vitals) start `lead` seconds early so the
resident is where the step needs them at its time: out of bed and into the bathroom before a fall
there, in bed before abnormal vitals. Steps that break things (offline, flap, battery, malformed,
faults) act on devices and on the fault injector.

`uplink_drop` is the one fault the simulator cannot make: it publishes to the home's local broker and
never sees the edge agent's uplink. The step says so in the run's log and calls the runner's uplink
hook (`homesafe simulate --uplink-hook CMD` runs `CMD down HOME SECONDS` and later `CMD up HOME 0`),
which is where a bench cuts the uplink for real (stop the central broker, firewall its port, ...).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import msgspec
import numpy as np

from simulators import wearable
from simulators.devices import SimDevice, render
from simulators.faults import FaultInjector, FaultSettings, corrupt
from simulators.home import SimulatedHome
from simulators.residents import FOREVER, OUT, Stay
from simulators.scenario import Step
from simulators.schedule import Scheduler

ACTIVITY_IN = {"bathroom": "bathroom", "kitchen": "kitchen", "living_room": "leisure", "bedroom": "bedroom",
               "hallway": "hallway"}
GLOBAL_ACTIONS = frozenset({"faults", "log"})  # done once per scenario, not once per home
WEARABLE_PRE_S, WEARABLE_POST_S = 4.0, 6.0  # the wearable's burst window around an impact


class StepContext(Protocol):
    """What steps need from the scenario runner."""

    scheduler: Scheduler
    injector: FaultInjector
    rng: random.Random
    np_rng: np.random.Generator
    t0: float
    homes: list[SimulatedHome]

    def say(self, t: float, home: str | None, text: str) -> None: ...

    def uplink(self, t: float, home: str, down: bool, duration_s: float | None) -> None: ...


Handler = Callable[[StepContext, SimulatedHome, float, dict[str, Any]], None]


def schedule_step(ctx: StepContext, step: Step, home: SimulatedHome | None) -> None:
    """Put `step` on the scheduler for `home` (or once for the scenario, for global steps)."""
    t = ctx.t0 + step.at
    if step.action in GLOBAL_ACTIONS:
        _GLOBAL[step.action](ctx, step, t)
        return
    assert home is not None
    _HANDLERS[step.action](ctx, home, t, step.params)


def _lead(ctx: StepContext, t: float, params: dict[str, Any]) -> float:
    return max(ctx.t0, t - float(params.get("lead") or 0.0))


def _activity_there(home: SimulatedHome, resident: int, room: str) -> str:
    current = home.residents[resident].current
    if current is not None and current.room == room and not current.in_bed and current.activity != "still":
        return current.activity
    return ACTIVITY_IN.get(room, "moving")


# -- the resident ---------------------------------------------------------------------------------------------

def _press(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    device = home.device(p["device"]) if p["device"] else home.device_of_type("button")
    for i in range(p["count"]):
        ctx.scheduler.at(t + i * p["interval"], _do_press, ctx, home, device, p["action"])


def _do_press(t: float, ctx: StepContext, home: SimulatedHome, device: SimDevice, action: str) -> None:
    reading = {"sos": True} if device.type == "wearable" else {"action": action}
    if home.publish(t, device, reading, qos=1):
        home.presses += 1
    ctx.say(t, home.home, f"{device.name}: {action} press")


def _fall(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    ctx.scheduler.at(_lead(ctx, t, p), _fall_prepare, ctx, home, t, p)
    ctx.scheduler.at(t, _fall_impact, ctx, home, p)


def _fall_prepare(tp: float, ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    r, room = p["resident"], p["room"]
    current = home.residents[r].current
    if p["kind"] == "from_bed":  # in bed until the fall
        before = Stay(tp, t, "bedroom", current.activity if current is not None and current.in_bed else "in_bed")
    else:
        before = Stay(tp, t, room, _activity_there(home, r, room))
    home.relocate(tp, [before, Stay(t, FOREVER, room, "fallen")], resident=r, then="halt")


def _fall_impact(t: float, ctx: StepContext, home: SimulatedHome, p: dict[str, Any]) -> None:
    room, kind = p["room"], p["kind"]
    ctx.say(t, home.home, f"resident {p['resident']} falls ({kind}) in the {room}"
                          f"{'' if p['then'] == 'get_up' else ' and stays on the floor'}")
    home.motion(t, room)  # the fall itself is movement a PIR sees; lying there afterwards is not
    if p["radar"]:
        ctx.scheduler.at(t + ctx.rng.uniform(1, 4), lambda tr: home.radar_fall(tr, room))
    fs = home.options.wearable_fs
    if p["wearable"] in ("burst", "both") and home.devices_of("wearable"):
        samples, impact = wearable.fall(kind, fs, ctx.np_rng, pre_s=WEARABLE_PRE_S, post_s=WEARABLE_POST_S)
        t0 = t - impact / fs
        ctx.scheduler.at(t0 + len(samples) / fs + 0.5, lambda tb: home.wearable_burst(tb, t0, samples, fs))
    if p["wearable"] in ("event", "both"):
        for device in home.devices_of("wearable"):
            ctx.scheduler.at(t + ctx.rng.uniform(2, 5), lambda te, d=device: home.publish(te, d, {"fall": True},
                                                                                          qos=1))
    if p["then"] == "get_up":
        up = t + ctx.rng.uniform(60, 180)
        ctx.scheduler.at(up, lambda tu: home.relocate(tu, [Stay(tu, tu + 120, room, ACTIVITY_IN.get(room, "moving"))],
                                                      resident=p["resident"], then="resume"))


def _stop_moving(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    def prepare(tp: float) -> None:
        before = Stay(tp, t, p["room"], _activity_there(home, p["resident"], p["room"]))
        home.relocate(tp, [before, Stay(t, FOREVER, p["room"], "still")], resident=p["resident"], then="halt")

    ctx.scheduler.at(_lead(ctx, t, p), prepare)
    ctx.scheduler.at(t, lambda ts: ctx.say(ts, home.home, f"resident {p['resident']} stops moving in the "
                                                          f"{p['room']}"))


def _bed_exit(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    def prepare(tp: float) -> None:
        current = home.residents[p["resident"]].current
        in_bed = current.activity if current is not None and current.in_bed else "in_bed"
        stays = [Stay(tp, t, "bedroom", in_bed), Stay(t, t + 30, "bedroom", "getting_up")]
        cursor, to = t + 30, p["to"]
        if to == OUT:
            stays.append(Stay(cursor, cursor + 60, "hallway", "leaving"))
            cursor += 60
        if not p["return"]:
            stays.append(Stay(cursor, FOREVER, to, "wandering"))
            home.relocate(tp, stays, resident=p["resident"], then="halt")
            return
        back = max(t + p["after"], cursor + 60)
        stays.append(Stay(cursor, back, to, "wandering"))
        if to == OUT:
            stays.append(Stay(back, back + 60, "hallway", "arriving"))
            back += 60
        stays += [Stay(back, back + 30, "bedroom", "going_to_bed"), Stay(back + 30, back + 31, "bedroom", in_bed)]
        home.relocate(tp, stays, resident=p["resident"], then="resume")

    story = f"resident {p['resident']} gets out of bed to {'go out' if p['to'] == OUT else 'the ' + p['to']}"
    story += ", back after a while" if p["return"] else " and does not come back"
    ctx.scheduler.at(_lead(ctx, t, p), prepare)
    ctx.scheduler.at(t, lambda ts: ctx.say(ts, home.home, story))


def _vitals(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    until = t + p["for"]

    def prepare(tp: float) -> None:
        current = home.residents[0].current
        activity = current.activity if current is not None and current.in_bed else "in_bed"
        if p["then"] == "resume":
            home.relocate(tp, [Stay(tp, until, "bedroom", activity)], then="resume")
        else:
            home.relocate(tp, [Stay(tp, FOREVER, "bedroom", activity)], then="halt")

    def start(ts: float) -> None:
        home.set_vitals(ts, until, heart_rate=p["heart_rate"], breathing_rate=p["breathing_rate"],
                        movement=p["movement"])
        given = ", ".join(f"{k} {p[k]}" for k in ("heart_rate", "breathing_rate", "movement") if p[k] is not None)
        ctx.say(ts, home.home, f"bed mat reports abnormal vitals ({given}) for {p['for']:.0f} s")

    ctx.scheduler.at(_lead(ctx, t, p), prepare)
    ctx.scheduler.at(t, start)


def _visitor(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    def arrive(ta: float) -> None:
        end = ta + 90 + p["stay"]
        home.relocate(ta, [Stay(ta, ta + 90, "hallway", "answer_door"), Stay(ta + 90, end, "living_room", "visit"),
                           Stay(end, end + 90, "hallway", "see_off")], resident=p["resident"], then="resume")
        ctx.say(ta, home.home, f"a visitor arrives for {p['stay']:.0f} s")

    ctx.scheduler.at(t, arrive)


def _go_out(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    def leave(tl: float) -> None:
        back = tl + 90 + p["for"]
        home.relocate(tl, [Stay(tl, tl + 90, "hallway", "leaving"), Stay(tl + 90, back, OUT, "outing"),
                           Stay(back, back + 90, "hallway", "arriving")], resident=p["resident"], then="resume")
        ctx.say(tl, home.home, f"resident {p['resident']} goes out for {p['for']:.0f} s")

    ctx.scheduler.at(t, leave)


# -- hazards --------------------------------------------------------------------------------------------------

def _hazard(device_type: str, field: str) -> Handler:
    def handler(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
        devices = [d for d in home.devices_of(device_type, p["room"]) if p["device"] in (None, d.name)]
        device = devices[0]

        def alarm(ta: float, on: bool) -> None:
            home.publish(ta, device, {field: on}, qos=1)
            ctx.say(ta, home.home, f"{device.name}: {device_type} {'ALARM' if on else 'clear'}")

        ctx.scheduler.at(t, alarm, True)
        if p["clear_after"] is not None:
            ctx.scheduler.at(t + p["clear_after"], alarm, False)

    return handler


# -- devices ---------------------------------------------------------------------------------------------------

def _report(t: float, home: SimulatedHome, device: SimDevice) -> None:
    """The device's current state, as its periodic check-in sends it."""
    reading = dict(home.state[device.name].extra)
    if device.type == "wearable":
        reading = {"summary": True}
    elif device.type == "bed_mat":
        reading.setdefault("in_bed", False)
    home.publish(t, device, reading)


def _offline(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    device = home.device(p["device"])

    def down(td: float) -> None:
        home.set_online(td, device, False)
        ctx.say(td, home.home, f"{device.name} goes offline" + (f" for {p['for']:.0f} s" if p["for"] else ""))

    def up(tu: float) -> None:
        home.set_online(tu, device, True)
        _report(tu, home, device)
        ctx.say(tu, home.home, f"{device.name} is back online")

    ctx.scheduler.at(t, down)
    if p["for"] is not None:
        ctx.scheduler.at(t + p["for"], up)


def _flap(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    device = home.device(p["device"])
    ctx.scheduler.at(t, lambda ts: ctx.say(ts, home.home, f"{device.name} flaps offline/online {p['count']} times"))
    for i in range(p["count"]):
        ctx.scheduler.at(t + i * p["interval"], lambda tf, online=i % 2 == 1: home.set_online(tf, device, online))


def _battery(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    device = home.device(p["device"])
    state = home.state[device.name]
    steps = 1 if not p["over"] else max(1, math.floor(p["over"] / p["every"]))

    first: list[int] = []  # the level the drain starts from, read when it starts

    def drain(tb: float, k: int) -> None:
        if not first:
            first.append(p["from"] if p["from"] is not None else state.battery)
        state.battery = round(first[0] + (p["level"] - first[0]) * k / steps)
        _report(tb, home, device)
        if k == steps:
            ctx.say(tb, home.home, f"{device.name}: battery at {state.battery}%")

    for k in range(1, steps + 1):
        ctx.scheduler.at(t + (k if p["over"] else 0) * (p["over"] / steps), drain, k)


def _malformed(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    device = home.device(p["device"])

    def send(tm: float) -> None:
        state = home.state[device.name]
        normal = render(device, state, {"summary": True} if device.type == "wearable" else dict(state.extra), t=tm)
        home.publish_raw(tm, device.name, corrupt(normal, p["kind"]), device=device.name)

    ctx.scheduler.at(t, lambda ts: ctx.say(ts, home.home, f"{device.name}: {p['count']} malformed ({p['kind']})"))
    for i in range(p["count"]):
        ctx.scheduler.at(t + i, send)


def _uplink_drop(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    ctx.scheduler.at(t, lambda td: ctx.uplink(td, home.home, True, p["for"]))
    ctx.scheduler.at(t + p["for"], lambda tu: ctx.uplink(tu, home.home, False, None))


def _publish(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    payload = msgspec.json.encode(p["payload"]) if isinstance(p["payload"], dict) else p["payload"].encode()
    topic = p["device"] or p["topic"]
    ctx.scheduler.at(t, lambda tp: home.publish_raw(tp, topic, payload, qos=p["qos"], retain=p["retain"],
                                                    device=p["device"]))


def _announce(ctx: StepContext, home: SimulatedHome, t: float, p: dict[str, Any]) -> None:
    ctx.scheduler.at(t, home.announce)


# -- scenario-wide ---------------------------------------------------------------------------------------------

def _faults(ctx: StepContext, step: Step, t: float) -> None:
    p = step.params
    devices = frozenset(p["devices"]) if p["devices"] else None
    settings = FaultSettings(duplicate=p["duplicate"], out_of_order=p["out_of_order"], malformed=p["malformed"],
                             devices=devices, homes=frozenset({step.home}) if step.home else None)
    homes = [h for h in ctx.homes if step.home in (None, h.home)]
    saved: list[FaultSettings] = []

    def start(ts: float) -> None:
        saved.append(ctx.injector.settings)
        ctx.injector.settings = settings
        for home in homes:
            for device in home.devices:
                if devices is None or device.name in devices:
                    home.state[device.name].clock_skew_s = p["clock_skew"]
            if p["clock_skew"] and home.options.last_seen is None:
                home.options = replace(home.options, last_seen="ISO_8601")
        what = ", ".join(f"{k} {p[k]}" for k in ("duplicate", "out_of_order", "malformed", "clock_skew") if p[k])
        ctx.say(ts, step.home, f"faults on: {what or 'none'}" + (f" for {p['for']:.0f} s" if p["for"] else ""))

    def stop(ts: float) -> None:
        ctx.injector.settings = saved.pop() if saved else FaultSettings()
        for home in homes:
            for device in home.devices:
                if devices is None or device.name in devices:
                    home.state[device.name].clock_skew_s = 0.0
        ctx.say(ts, step.home, "faults off")

    ctx.scheduler.at(t, start)
    if p["for"] is not None:
        ctx.scheduler.at(t + p["for"], stop)


def _log(ctx: StepContext, step: Step, t: float) -> None:
    ctx.scheduler.at(t, lambda ts: ctx.say(ts, step.home, step.params["message"]))


_HANDLERS: dict[str, Handler] = {
    "press": _press, "fall": _fall, "stop_moving": _stop_moving, "bed_exit": _bed_exit, "vitals": _vitals,
    "visitor": _visitor, "go_out": _go_out, "smoke": _hazard("smoke", "alarm"), "gas": _hazard("gas", "alarm"),
    "water_leak": _hazard("water", "leak"), "offline": _offline, "flap": _flap, "battery": _battery,
    "malformed": _malformed, "uplink_drop": _uplink_drop, "publish": _publish, "announce": _announce,
}
_GLOBAL: dict[str, Callable[[StepContext, Step, float], None]] = {"faults": _faults, "log": _log}
