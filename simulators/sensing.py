"""What a home's sensors can notice of a resident's stays: stimuli at simulated instants.

Pure functions of stays and randomness. A PIR only notices movement, so a resident watching
television triggers it rarely and one cooking often; asleep, almost never. Moving between rooms shows
as motion in the new room a few seconds later, leaving the bed as the mat emptying first, going out
as the front door opening and closing and then nothing inside. `SimulatedHome` turns stimuli into device
payloads (including the PIR's own blind time and timeout).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, tzinfo

from simulators.residents import OUT, Stay

# Mean minutes between PIR-visible movements, by activity (before the hour-of-day factor).
MEAN_GAP_MIN = {
    "leisure": 6.0, "visit": 1.2, "meal": 1.5, "kitchen": 1.0, "bathroom": 0.8, "bedroom": 2.0,
    "dressing": 0.7, "hallway": 0.4, "leaving": 0.4, "arriving": 0.4, "answer_door": 0.4, "see_off": 0.4,
    "getting_up": 0.4, "going_to_bed": 0.4, "wandering": 1.5, "sleep": 120.0, "nap": 40.0, "in_bed": 60.0,
}
STILL = frozenset({"outing", "fallen", "still", "collapsed"})  # nothing for a PIR to see
DOOR_STAYS = frozenset({"answer_door", "see_off"})


def hour_factor(hour: int) -> float:
    """Gaps stretch after lunch and in the evening, and shrink in the busy morning."""
    if 6 <= hour < 9:
        return 0.8
    if 12 <= hour < 15:
        return 1.3
    if 18 <= hour < 22:
        return 1.2
    if hour >= 22 or hour < 6:
        return 1.5
    return 1.0


@dataclass(frozen=True, slots=True)
class Stimulus:
    """Something a sensor could notice at `t`: `kind` in motion / bed / door / presence, with a value."""

    t: float
    kind: str
    room: str | None = None
    value: bool = True


def transition(prev: Stay | None, stay: Stay, rng: random.Random) -> list[Stimulus]:
    """What the sensors notice as the resident goes from `prev` to `stay` (at `stay.start`)."""
    t = stay.start
    out: list[Stimulus] = []
    if prev is None:  # the simulation starts here: establish the state, nobody just walked in
        if stay.out:
            return []
        return [Stimulus(t, "presence", stay.room, True), *([Stimulus(t, "bed", "bedroom", True)] * stay.in_bed)]
    if prev.in_bed and not stay.in_bed:
        out += [Stimulus(t + rng.uniform(2, 6), "bed", "bedroom", False),
                Stimulus(t + rng.uniform(6, 10), "motion", "bedroom")]
    if prev.room != stay.room and not prev.out:
        out.append(Stimulus(t + rng.uniform(10, 30), "presence", prev.room, False))
    if prev.room == stay.room:
        if stay.in_bed and not prev.in_bed:
            out.append(Stimulus(t + rng.uniform(20, 60), "bed", "bedroom", True))
        return out
    if stay.out:
        opened = t + rng.uniform(1, 3)
        return [*out, Stimulus(opened, "door", "hallway", True), Stimulus(opened + rng.uniform(5, 12), "door",
                                                                          "hallway", False)]
    if prev.out:  # coming home: the door first, then the hallway sees them
        opened = t + rng.uniform(0, 2)
        out += [Stimulus(opened, "door", "hallway", True), Stimulus(opened + rng.uniform(5, 10), "door",
                                                                    "hallway", False)]
        entry = opened + rng.uniform(8, 15)
    else:
        entry = t + rng.uniform(11, 20) if prev.in_bed else t + rng.uniform(3, 10)
    out += [Stimulus(entry, "motion", stay.room), Stimulus(entry + rng.uniform(0, 2), "presence", stay.room, True)]
    if stay.in_bed:
        out.append(Stimulus(entry + rng.uniform(20, 60), "bed", "bedroom", True))
    if stay.activity in DOOR_STAYS:  # a visitor at the door, let in or seen off
        opened = t + rng.uniform(10, 25)
        out += [Stimulus(opened, "door", "hallway", True), Stimulus(opened + rng.uniform(15, 40), "door",
                                                                    "hallway", False)]
    return out


def movements(stay: Stay, lo: float, hi: float, rng: random.Random, tz: tzinfo) -> list[float]:
    """Instants in [lo, hi) at which a PIR in the stay's room would see the resident move."""
    if stay.out or stay.activity in STILL:
        return []
    gap_min = MEAN_GAP_MIN.get(stay.activity, 3.0)
    times: list[float] = []
    t = lo
    while True:
        hour = datetime.fromtimestamp(t, tz).hour
        t += rng.expovariate(1.0 / (gap_min * hour_factor(hour) * 60))
        if t >= min(hi, stay.end) or not math.isfinite(t):
            return times
        times.append(t)


def room_of(stay: Stay | None) -> str | None:
    """The room a stay is in, or None when out of the home (or not started)."""
    return None if stay is None or stay.room == OUT else stay.room
