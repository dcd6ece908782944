"""Residents' daily routines: where a resident is, doing what, from one minute to the next.

A routine is a handful of habits in local clock hours (wake, meals, bed time, night-time bathroom
trips, outings, naps, visitors); each day varies around them. `RoutinePlanner` turns them into a
contiguous sequence of `Stay`s (room, activity, start, end). What the devices then see of a stay
(motion, bed presence, the front door) is `simulators.sensing`'s job; this module is pure and has no clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

OUT = "out"
ROOMS = ("bedroom", "bathroom", "kitchen", "living_room", "hallway")
IN_BED = frozenset({"sleep", "nap", "in_bed"})
FOREVER = math.inf

# Fillers between the day's fixed points: room -> (activity, minutes range); weights by part of the day.
_FILLERS = {"living_room": ("leisure", (15.0, 50.0)), "kitchen": ("kitchen", (3.0, 12.0)),
            "bedroom": ("bedroom", (3.0, 15.0)), "bathroom": ("bathroom", (3.0, 8.0)),
            "hallway": ("hallway", (0.5, 2.0))}
_FILLER_WEIGHTS = (  # (until local hour, {room: weight})
    (12.0, {"living_room": 0.5, "kitchen": 0.2, "bedroom": 0.15, "bathroom": 0.1, "hallway": 0.05}),
    (18.0, {"living_room": 0.65, "kitchen": 0.1, "bedroom": 0.1, "bathroom": 0.1, "hallway": 0.05}),
    (24.0, {"living_room": 0.7, "kitchen": 0.08, "bedroom": 0.1, "bathroom": 0.12}),
)


@dataclass(frozen=True, slots=True)
class Stay:
    """The resident is in `room` doing `activity` from `start` to `end` (epoch seconds; end may be inf)."""

    start: float
    end: float
    room: str
    activity: str

    @property
    def in_bed(self) -> bool:
        return self.activity in IN_BED

    @property
    def out(self) -> bool:
        return self.room == OUT


@dataclass(frozen=True, slots=True)
class Routine:
    """A resident's habits. Hours are local clock hours; every day draws its own times around them."""

    wake: float = 6.5
    bedtime: float = 21.5
    jitter_min: float = 20.0
    meals: tuple[float, ...] = (7.5, 12.0, 18.0)
    meal_min: tuple[float, float] = (25.0, 45.0)
    night_bathroom_trips: float = 1.3  # mean per night (Poisson), at most 3
    outing_probability: float = 0.6  # per day
    outing_min: tuple[float, float] = (40.0, 150.0)
    nap_probability: float = 0.5
    nap_min: tuple[float, float] = (30.0, 75.0)
    visitor_probability: float = 0.2  # per day
    visit_min: tuple[float, float] = (20.0, 60.0)

    @classmethod
    def from_mapping(cls, raw: Any, where: str = "routine") -> Routine:
        """Build from a YAML mapping (unknown keys and wrong types raise `ValueError` naming the field)."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping of routine settings, got {raw!r}")
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, given in raw.items():
            if key not in known:
                raise ValueError(f"{where}.{key}: unknown routine setting; expected one of {', '.join(known)}")
            default = getattr(cls(), key)
            if isinstance(default, tuple):
                if not isinstance(given, list | tuple) or not all(isinstance(v, int | float) for v in given):
                    raise ValueError(f"{where}.{key}: expected a list of numbers, got {given!r}")
                numbers = tuple(float(v) for v in given)
                if key != "meals" and (len(numbers) != 2 or numbers[0] > numbers[1]):
                    raise ValueError(f"{where}.{key}: expected [low, high] with low <= high, got {list(given)}")
                values[key] = numbers
            elif isinstance(given, bool) or not isinstance(given, int | float):
                raise ValueError(f"{where}.{key}: expected a number, got {given!r}")
            else:
                values[key] = float(given)
        routine = replace(cls(), **values)
        if not 0 <= routine.wake < routine.bedtime <= 24:
            raise ValueError(f"{where}: expected 0 <= wake < bedtime <= 24, got wake {routine.wake}, "
                             f"bedtime {routine.bedtime}")
        return routine


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class RoutinePlanner:
    """Turns a `Routine` into stays, day after day, in the home's time zone."""

    def __init__(self, routine: Routine, tz: tzinfo, rng: random.Random) -> None:
        self.routine = routine
        self.tz = tz
        self.rng = rng

    def stays(self, start: float) -> Iterator[Stay]:
        """Contiguous stays from `start` on, forever (the first one is clipped to begin at `start`)."""
        day = datetime.fromtimestamp(start, self.tz).date() - timedelta(days=1)
        bed = self._at(day - timedelta(days=1), self.routine.bedtime + self._jitter_h())
        while True:
            stays, bed = self.plan_day(day, bed)
            for stay in stays:
                if stay.end > start:
                    yield replace(stay, start=max(stay.start, start))
            day += timedelta(days=1)

    def _at(self, day: Any, hour: float) -> float:
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return (midnight + timedelta(hours=hour)).timestamp()

    def _jitter_h(self) -> float:
        return self.rng.uniform(-1, 1) * self.routine.jitter_min / 60

    def _minutes(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds) * 60

    def plan_day(self, day: Any, bed_prev: float) -> tuple[list[Stay], float]:
        """The stays from last night's bed time to tonight's: the night, then the day. Returns (stays, bed)."""
        r, rng = self.routine, self.rng
        wake = max(self._at(day, r.wake + self._jitter_h()), bed_prev + 4 * 3600)
        bed = self._at(day, r.bedtime + self._jitter_h())
        stays = self._night(bed_prev, wake)
        blocks: list[Stay] = []
        t = wake
        for room, activity, minutes in (("bedroom", "dressing", (2.0, 6.0)), ("bathroom", "bathroom", (10.0, 20.0))):
            blocks.append(Stay(t, t + self._minutes(minutes), room, activity))
            t = blocks[-1].end
        meals: list[Stay] = []
        for hour in r.meals:
            start = max(self._at(day, hour) + rng.uniform(-20, 20) * 60, t + 5 * 60)
            meals.append(Stay(start, start + self._minutes(r.meal_min), "kitchen", "meal"))
            t = meals[-1].end
        blocks += meals
        evening = Stay(bed - self._minutes((10.0, 20.0)), bed, "bathroom", "bathroom")
        if len(meals) >= 2 and rng.random() < r.nap_probability:
            start = meals[1].end + self._minutes((10.0, 40.0))
            nap = Stay(start, start + self._minutes(r.nap_min), "bedroom", "nap")
            if len(meals) < 3 or nap.end < meals[2].start - 30 * 60:
                blocks.append(nap)
        blocks.sort(key=lambda s: s.start)
        if rng.random() < r.outing_probability:
            self._insert_outing(blocks, evening.start)
        if rng.random() < r.visitor_probability:
            self._insert_visit(blocks, day, evening.start)
        # Whatever runs into the evening is cut short: the day ends in the bathroom, then bed, at `bed`.
        blocks = [replace(b, end=min(b.end, evening.start)) for b in blocks if b.start < evening.start - 60]
        blocks.append(evening)
        stays += self._fill(blocks)
        return stays, bed

    def _night(self, bed: float, wake: float) -> list[Stay]:
        """Asleep in bed, up only for bathroom trips (each ~5-12 minutes, at least 40 minutes apart)."""
        trips: list[float] = []
        for _ in range(min(_poisson(self.rng, self.routine.night_bathroom_trips), 3)):
            t = self.rng.uniform(bed + 45 * 60, wake - 30 * 60)
            if all(abs(t - other) > 40 * 60 for other in trips):
                trips.append(t)
        stays, cursor = [], bed
        for t in sorted(trips):
            stays.append(Stay(cursor, t, "bedroom", "sleep"))
            up = t + self.rng.uniform(20, 60)
            back = up + self._minutes((4.0, 10.0))
            stays += [Stay(t, up, "bedroom", "getting_up"), Stay(up, back, "bathroom", "bathroom"),
                      Stay(back, back + self.rng.uniform(20, 60), "bedroom", "going_to_bed")]
            cursor = stays[-1].end
        stays.append(Stay(cursor, wake, "bedroom", "sleep"))
        return stays

    def _free_windows(self, blocks: list[Stay], lo: float, hi: float) -> list[tuple[float, float]]:
        windows, cursor = [], lo
        for block in sorted(blocks, key=lambda s: s.start):
            if block.start > cursor:
                windows.append((cursor, min(block.start, hi)))
            cursor = max(cursor, block.end)
        if hi > cursor:
            windows.append((cursor, hi))
        return [(a, b) for a, b in windows if b > a]

    def _insert_outing(self, blocks: list[Stay], until: float) -> None:
        """Out through the front door: a minute or two in the hallway either side, out in between."""
        lo = blocks[0].end + 15 * 60
        margin = 15 * 60 + 6 * 60
        shortest = self.routine.outing_min[0] * 60
        windows = [(a, b) for a, b in self._free_windows(blocks, lo, until - 30 * 60) if b - a >= shortest + margin]
        if not windows:
            return
        a, b = self.rng.choice(windows)
        duration = min(self._minutes(self.routine.outing_min), b - a - margin)
        leave = self.rng.uniform(a + 7.5 * 60, b - 7.5 * 60 - duration)
        hall = self.rng.uniform(60, 180)
        blocks += [Stay(leave - hall, leave, "hallway", "leaving"), Stay(leave, leave + duration, OUT, "outing"),
                   Stay(leave + duration, leave + duration + self.rng.uniform(60, 180), "hallway", "arriving")]
        blocks.sort(key=lambda s: s.start)

    def _insert_visit(self, blocks: list[Stay], day: Any, until: float) -> None:
        """A visitor (community worker, volunteer, family): the door twice, company in the living room."""
        lo, hi = self._at(day, 9.5), min(self._at(day, 17.5), until)
        shortest = self.routine.visit_min[0] * 60 + 10 * 60
        windows = [(a, b) for a, b in self._free_windows(blocks, lo, hi) if b - a >= shortest]
        if not windows:
            return
        a, b = self.rng.choice(windows)
        duration = min(self._minutes(self.routine.visit_min), b - a - 10 * 60)
        arrive = self.rng.uniform(a + 2 * 60, b - 8 * 60 - duration)
        blocks += [Stay(arrive, arrive + 90, "hallway", "answer_door"),
                   Stay(arrive + 90, arrive + 90 + duration, "living_room", "visit"),
                   Stay(arrive + 90 + duration, arrive + 180 + duration, "hallway", "see_off")]
        blocks.sort(key=lambda s: s.start)

    def _fill(self, blocks: list[Stay]) -> list[Stay]:
        """The fixed blocks in order, with everyday moving about (mostly the living room) in the gaps."""
        out: list[Stay] = []
        cursor = blocks[0].start
        for block in blocks:
            start = max(block.start, cursor)
            if start >= block.end:
                continue  # swallowed by an earlier block running late
            while cursor < start:
                room = self._filler_room(cursor, out[-1].room if out else None)
                activity, minutes = _FILLERS[room]
                end = min(cursor + self._minutes(minutes), start)
                if start - end < 60:  # no one-minute crumbs before a fixed block
                    end = start
                out.append(Stay(cursor, end, room, activity))
                cursor = end
            out.append(replace(block, start=start))
            cursor = block.end
        return _merge(out)

    def _filler_room(self, t: float, previous: str | None) -> str:
        hour = datetime.fromtimestamp(t, self.tz).hour
        weights = next(w for until, w in _FILLER_WEIGHTS if hour < until)
        rooms = [room for room in weights if room != previous]
        return self.rng.choices(rooms, [weights[room] for room in rooms])[0]


def _merge(stays: list[Stay]) -> list[Stay]:
    merged: list[Stay] = []
    for stay in stays:
        if merged and merged[-1].room == stay.room and merged[-1].activity == stay.activity:
            merged[-1] = replace(merged[-1], end=stay.end)
        else:
            merged.append(stay)
    return merged
