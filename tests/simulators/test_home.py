"""A simulated week, generated without MQTT: activity an inactivity detector can learn from, and no
impossible states."""

from __future__ import annotations

import itertools
import json
import random
import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from edge.config import parse_config
from simulators.devices import DEFAULT_DEVICES
from simulators.home import SimulatedHome
from simulators.residents import OUT
from simulators.schedule import SimMessage

TZ = timezone(timedelta(hours=8))
START = datetime(2025, 1, 13, 0, 0, tzinfo=TZ)  # a Monday
WEEK = START + timedelta(days=7)
SEEDS = (1, 2, 3)


def _week(seed: int) -> tuple[SimulatedHome, list[SimMessage]]:
    home = SimulatedHome("h0001", rng=random.Random(seed), tz=TZ)
    return home, home.timeline(START, WEEK)


@pytest.fixture(scope="module", params=SEEDS)
def week(request: pytest.FixtureRequest) -> tuple[SimulatedHome, list[SimMessage]]:
    return _week(request.param)


def _local(t: float) -> datetime:
    return datetime.fromtimestamp(t, TZ)


def _motions(home: SimulatedHome, messages: list[SimMessage]) -> list[tuple[float, str]]:
    """(time, room) of every PIR `occupancy: true`."""
    rooms = {d.name: d.room for d in home.devices if d.type == "motion"}
    return [(m.t, rooms[m.device]) for m in messages
            if m.device in rooms and json.loads(m.payload)["occupancy"]]


def _field_changes(messages: list[SimMessage], device: str, field: str) -> list[tuple[float, object]]:
    out: list[tuple[float, object]] = []
    for m in messages:
        if m.device == device:
            value = json.loads(m.payload)[field]
            if not out or out[-1][1] != value:
                out.append((m.t, value))
    return out


def test_messages_are_in_time_order_and_valid_json(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against a scheduler that publishes the future first, or payloads an edge cannot decode."""
    _, messages = week
    times = [m.t for m in messages]
    assert times == sorted(times)
    assert all(isinstance(json.loads(m.payload), dict) for m in messages)
    assert len(messages) > 3000  # a week of a lived-in home


def test_nights_are_quiet_except_bathroom_trips(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against a resident cooking at 3 a.m.: night motion is only getting up for the bathroom (or
    turning over in the bedroom), and every night has long motionless stretches."""
    home, messages = week
    longest_still = []
    for day in range(1, 7):
        lo = (START + timedelta(days=day)).timestamp()  # 00:00
        hi = lo + 5 * 3600  # 05:00
        night = [(t, room) for t, room in _motions(home, messages) if lo <= t < hi]
        assert {room for _, room in night} <= {"bedroom", "bathroom", "hallway"}, night
        assert len(night) <= 25, night  # a few bathroom trips, not a day's activity
        edges = [lo, *(t for t, _ in night), hi]
        longest_still.append(max(b - a for a, b in itertools.pairwise(edges)))
    assert min(longest_still) > 45 * 60, longest_still
    assert statistics.median(longest_still) > 2 * 3600, longest_still
    # Bathroom trips out of bed at night happen, and the bathroom PIR sees each of them.
    history = home.residents[0].history
    trips = [b for a, b in itertools.pairwise(history)
             if a.activity == "getting_up" and b.room == "bathroom"]
    assert len(trips) >= 3, len(trips)
    motions = _motions(home, messages)
    for trip in trips:
        assert any(trip.start <= t <= trip.end + 30 and room == "bathroom" for t, room in motions), trip


def test_motion_gaps_depend_on_room_and_hour(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against uniform random motion, which would teach an inactivity detector nothing."""
    home, messages = week
    motions = _motions(home, messages)

    def median_gap(room: str) -> float:
        times = [t for t, r in motions if r == room and 8 <= _local(t).hour < 20]
        gaps = [b - a for a, b in itertools.pairwise(times) if b - a < 1800]
        return statistics.median(gaps)

    assert median_gap("kitchen") < median_gap("living_room")
    day = sum(1 for t, _ in motions if 8 <= _local(t).hour < 20) / (7 * 12)
    night = sum(1 for t, _ in motions if 0 <= _local(t).hour < 5) / (7 * 5)
    assert day > 5 * night, (day, night)


def test_outings_are_bracketed_by_the_front_door_with_no_motion_inside(
        week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against a home that moves while empty, or an outing with no door event: both would make an
    inactivity detector raise false alarms or miss real ones."""
    home, messages = week
    outings = [s for s in home.residents[0].history if s.room == OUT]
    assert len(outings) >= 2
    door = _field_changes(messages, "front_door", "contact")  # contact false = open
    motions = _motions(home, messages)
    for stay in outings:
        opened_leaving = [t for t, closed in door if not closed and stay.start <= t <= stay.start + 60]
        opened_back = [t for t, closed in door if not closed and stay.end <= t <= stay.end + 60]
        assert opened_leaving and opened_back, stay
        inside = [(t, r) for t, r in motions if stay.start + 20 < t < stay.end]
        assert inside == [], (stay, inside)
        assert not any(m.device == "wearable" and stay.start + 1 < m.t < stay.end for m in messages)


def test_no_impossible_states(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against a resident in bed and in the kitchen at once (the bed mat and the PIRs disagreeing)."""
    home, messages = week
    history = home.residents[0].history
    for a, b in itertools.pairwise(history):
        assert a.end == pytest.approx(b.start)
        assert not a.in_bed or a.room == "bedroom"
    in_bed = _field_changes(messages, "bed_mat", "occupancy")
    rooms = {d.name: d.room for d in home.devices if d.type == "motion"}
    for (t_on, on), (t_off, _) in itertools.pairwise(in_bed):
        if on:
            elsewhere = [m for m in messages if t_on < m.t < t_off and m.device in rooms
                         and rooms[m.device] != "bedroom" and json.loads(m.payload)["occupancy"]]
            assert elsewhere == [], elsewhere[:3]


def test_bed_mat_vitals_are_plausible(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against vitals a detector would flag on a healthy sleeper."""
    _, messages = week
    vitals = [json.loads(m.payload) for m in messages if m.device == "bed_mat"]
    in_bed = [v for v in vitals if v["occupancy"]]
    assert len(in_bed) > 7 * 6 * 60  # a report a minute for 6+ hours a night
    assert all(45 <= v["heart_rate"] <= 80 and 9 <= v["breathing_rate"] <= 20 for v in in_bed)
    assert all("heart_rate" not in v for v in vitals if not v["occupancy"])


def test_the_same_seed_gives_the_same_week() -> None:
    """Guards against hidden global randomness: a bench must be able to replay a week exactly."""
    _, a = _week(7)
    _, b = _week(7)
    _, c = _week(8)
    assert [(m.t, m.topic, m.payload) for m in a] == [(m.t, m.topic, m.payload) for m in b]
    assert [m.payload for m in a] != [m.payload for m in c]


def test_every_device_reports_in_a_week(week: tuple[SimulatedHome, list[SimMessage]]) -> None:
    """Guards against a device the simulator lists but never hears from (a false 'device silent' alarm)."""
    home, messages = week
    seen = Counter(m.device for m in messages)
    assert {d.name for d in home.devices} <= set(seen), set(d.name for d in home.devices) - set(seen)


def test_edge_devices_make_a_valid_edge_configuration() -> None:
    """Guards against a device list the edge agent would refuse (unknown type, missing name)."""
    home = SimulatedHome("h0042", base_topic="zigbee2mqtt/h0042")
    devices = home.edge_devices()
    assert all(set(d) == {"name", "type", "room", "role", "model"} for d in devices)
    assert {d["type"] for d in devices} == {"button", "motion", "contact", "smoke", "gas", "water", "radar",
                                            "wearable", "bed_mat"}
    config = parse_config({"home": "h0042", "local_broker": "mqtt://127.0.0.1:1883",
                           "uplink": "mqtt://127.0.0.1:1883", "z2m_base_topic": home.base_topic,
                           "devices": devices})
    assert [d.name for d in config.devices] == [d.name for d in DEFAULT_DEVICES]
    bridge = json.loads(home.bridge_devices())
    assert {e["friendly_name"] for e in bridge} >= {d.name for d in DEFAULT_DEVICES}


def test_relocate_halts_the_routine() -> None:
    """Guards against a scenario step (a fall) that the routine silently overrides minutes later."""
    from simulators.residents import FOREVER, Stay
    from simulators.schedule import Scheduler

    home = SimulatedHome("h0001", rng=random.Random(3), tz=TZ)
    out: list[SimMessage] = []
    noon = datetime(2025, 1, 15, 12, 0, tzinfo=TZ).timestamp()
    scheduler = Scheduler(noon)
    home.attach(scheduler, out.append)
    scheduler.run_until(noon + 600)
    home.relocate(noon + 600, [Stay(noon + 600, FOREVER, "living_room", "still")])
    scheduler.run_until(noon + 600 + 6 * 3600)
    later = _motions(home, [m for m in out if m.t > noon + 700])
    assert later == []
    assert home.residents[0].current is not None and home.residents[0].current.activity == "still"
