"""InactivityMonitor: one home's streaming inactivity detector, driven by event time only.

The gateway owns one per home and feeds it the home's ambient events; a timer calls `on_tick` at
`next_deadline()`, because silence itself must raise the alarm:

    monitor = InactivityMonitor()                      # cold start from the shipped prior
    for ts, sensor, kind, value in events:
        alarms = monitor.on_event(ts, sensor, kind, value)
    alarms += monitor.on_tick(now)                     # ts of the timer (or of a heartbeat / replay row)
    blob = monitor.snapshot()                          # JSON-able, versioned, a few KB
    monitor = InactivityMonitor.restore(blob)

It learns as it goes (the profile's `partial_fit`, one event at a time) and raises three alarms:

- INACTIVITY: the current silence is improbable for this home after this context at this hour, and the
  resident is believed at home (after a departure through the front door the silence is an absence,
  alarmed only when implausibly long for this home, and never sooner than the prior's `away_floor_s`);
- NOT_UP: no sign of getting up (activity out of bed) by the home's usual time plus its spread, or by the
  home's longest plausible night's rest after a late night;
- BED_EXIT_NO_RETURN: a night-time bed exit without a return to bed within the home's learned time.

An alarm's `ts` is its deadline: the event time at which the silence became long enough, which the
replay or timer has reached (nothing is known earlier, and nothing later is needed). Each episode alarms
once: a silence raises at most one INACTIVITY or NOT_UP, a morning one NOT_UP, a bed exit one
BED_EXIT_NO_RETURN; the next activity (or return to bed) re-arms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from models.base import check_state_header
from models.inactivity.profile import AWAY, DAY_S, KINDS, InactivityProfile, local_hour

STATE_KIND = "homesafe.models.inactivity.InactivityMonitor"
FORMAT_VERSION = 1
INACTIVITY = "INACTIVITY"
NOT_UP = "NOT_UP"
BED_EXIT_NO_RETURN = "BED_EXIT_NO_RETURN"
ALARM_TYPES = (INACTIVITY, NOT_UP, BED_EXIT_NO_RETURN)
_NONE: list[InactivityAlarm] = []
_NUMBER = (bool, int, float)  # isinstance(value, bool | int | float), without building the union per event


@dataclass(frozen=True, slots=True)
class InactivityAlarm:
    """An alarm: raised at event time `ts`, about the episode that began at `since`.

    `since` is the last activity (INACTIVITY, NOT_UP) or the bed exit (BED_EXIT_NO_RETURN). `evidence`
    says why: the last sensor and its kind, the silence, the learned threshold, the local hour.
    """

    ts: float
    type: str
    since: float
    evidence: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""

    def as_line(self) -> dict[str, Any]:
        """The CLI's JSON line: {"ts", "type", "since"}."""
        return {"ts": round(self.ts, 3), "type": self.type, "since": round(self.since, 3)}


class InactivityMonitor:
    """Streaming INACTIVITY / NOT_UP / BED_EXIT_NO_RETURN detection for one home.

    Args:
        profile: the home's `InactivityProfile` (fitted or not); None makes a new one from
            `profile_params` (e.g. `prior=`, `false_alarm_rate=`, `utc_offset_s=`), which starts from the
            prior alone.
    """

    def __init__(self, profile: InactivityProfile | None = None, **profile_params: Any) -> None:
        if profile is not None and profile_params:
            raise ValueError(f"give a profile or profile parameters, not both (got {sorted(profile_params)})")
        self.profile = profile if profile is not None else InactivityProfile(**profile_params)
        if not hasattr(self.profile, "stats_"):
            self.profile.partial_fit(())
        self._clock: float | None = None  # every deadline up to here has been dealt with
        self._fired_silence: float | None = None  # the silence (its start) that has raised its alarm
        self._fired_mday = -(10**9)  # the latest morning that raised NOT_UP
        self._fired_exit: float | None = None  # the bed exit that raised BED_EXIT_NO_RETURN

    @property
    def model_version(self) -> str:
        """The version of the prior this monitor started from."""
        return str(self.profile.prior_.get("version", ""))

    # -- the stream -------------------------------------------------------------------------------------------

    def on_event(self, ts: float, sensor: str, kind: str, value: Any) -> list[InactivityAlarm]:
        """One event of the home (in time order); returns the alarms that fell due before it.

        A `heartbeat` event only moves the clock (like `on_tick`). Raises ValueError for an unknown kind, a
        value other than 0/1 or a non-finite time, before changing anything.
        """
        ts = float(ts)
        if not math.isfinite(ts):
            raise ValueError(f"expected a finite epoch time in seconds, got {ts!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(KINDS)}")
        if kind == "heartbeat":
            return self.on_tick(ts)
        if not sensor:
            raise ValueError(f"a {kind} event needs a sensor id")
        if not (isinstance(value, _NUMBER) and value in (0, 1)):
            raise ValueError(f"expected value 0/1 (off/on, closed/open, empty/occupied) for a {kind} event, "
                             f"got {value!r}")
        clock = self._clock
        alarms = self._due(ts, inclusive=False) if clock is not None and ts > clock else _NONE
        self.profile._step(ts, sensor, kind, int(value))  # validated above: skip `_observe`'s second check
        if clock is None or ts > clock:  # (_due does not move the clock)
            self._clock = ts
        return alarms

    def on_tick(self, now: float) -> list[InactivityAlarm]:
        """The clock reached `now` (a timer, a heartbeat, a replay row) with no event: the alarms now due."""
        now = float(now)
        if self._clock is None:
            self._clock = now
            return []
        if now < self._clock:
            return []
        alarms = self._due(now, inclusive=True)
        self._clock = now
        return alarms

    def next_deadline(self) -> float | None:
        """Event time at which an alarm will fall due if nothing happens before; None if none is armed."""
        found = self._next()
        return None if found is None else found[0]

    # -- deadlines --------------------------------------------------------------------------------------------

    def _due(self, now: float, *, inclusive: bool) -> list[InactivityAlarm]:
        alarms: list[InactivityAlarm] = []
        while True:
            found = self._next(now)
            if found is None:
                return alarms
            deadline, kind, detail = found
            if deadline > now or (deadline == now and not inclusive):
                return alarms
            alarms.append(self._fire(deadline, kind, detail))

    def _next(self, horizon: float | None = None) -> tuple[float, str, Any] | None:
        """The earliest armed (deadline, type, detail); with `horizon`, a NOT_UP surely later than it is left out.

        `_due` only needs what falls due by `horizon`: the exact NOT_UP deadline (most of the per-event work)
        is computed only when that morning's earliest possible one is not past it.
        """
        st = self.profile.state_
        best: tuple[float, str, Any] | None = None
        last_act = st.last_act
        if last_act is not None and self._fired_silence != last_act:
            best = (last_act + st.limit, INACTIVITY, None)
        if st.exit_ts is not None and not st.beds and self._fired_exit != st.exit_ts:
            deadline = st.exit_ts + st.exit_limit
            if best is None or deadline < best[0]:
                best = (deadline, BED_EXIT_NO_RETURN, None)
        found = self._not_up(self.profile, st, horizon)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], NOT_UP, found)
        return best

    def _not_up(self, prof: InactivityProfile, st: Any,
                horizon: float | None = None) -> tuple[float, int, float, float, float | None] | None:
        """(deadline, mday, up_hour_high, rest_hours_high, rest_since) of the next NOT_UP that can fall due.

        Asked at every event, so `mday`, `morning_start` and `local_hour` are inlined (same arithmetic) and
        the details stay a tuple: `_fire` makes the evidence dict, once per alarm.
        """
        last_act = st.last_act
        clock = self._clock
        if st.away or last_act is None or clock is None or self._fired_silence == last_act:
            return None
        rules = prof.prior_["rules"]
        offset = prof.utc_offset_s
        morning_s = rules["morning_start_h"] * 3600.0
        first = int((clock + offset - morning_s) // DAY_S)
        for mday in (first, first + 1):
            if mday <= self._fired_mday or st.up_mday >= mday:
                continue
            opens = mday * DAY_S + morning_s - offset
            if horizon is not None and horizon < min(opens + rules["min_not_up_h"] * 3600.0,
                                                     opens + rules["morning_span_h"] * 3600.0):
                # This morning's deadline is at least that (clamped below), and a later morning's later still;
                # it can only become `clock` when past it, and clock <= horizon: nothing here is due.
                return None
            if st.first_ts is None or st.first_ts >= opens:
                continue  # the night was not watched
            home = True if last_act < opens else (st.w0_mday == mday and st.w0_home)
            if not home:
                continue
            if st.cand is not None and st.cand_mday == mday and not st.beds:
                continue  # a sign of getting up
            up_hi = prof.up_hour_high()
            deadline = opens + (up_hi - rules["morning_start_h"]) * 3600.0
            rest = st.night_start
            if rest is None:
                hour = ((last_act + offset) % DAY_S) / 3600.0
                rest = last_act if (hour >= 18 or hour < 6) else None
            rest_hi = prof.rest_hours_high()
            if rest is not None:
                deadline = max(deadline, rest + rest_hi * 3600.0)
            latest = opens + rules["morning_span_h"] * 3600.0
            deadline = min(max(deadline, opens + rules["min_not_up_h"] * 3600.0), latest)
            if deadline <= clock:
                if clock >= latest:
                    continue
                deadline = clock  # became due by what the last event changed: now, not earlier
            return deadline, mday, up_hi, rest_hi, rest
        return None

    def _fire(self, deadline: float, kind: str, detail: Any) -> InactivityAlarm:
        prof, st = self.profile, self.profile.state_
        offset = prof.utc_offset_s
        if kind == BED_EXIT_NO_RETURN:
            self._fired_exit = st.exit_ts
            evidence = {"out_of_bed_s": round(deadline - st.exit_ts, 1), "threshold_s": round(st.exit_limit, 1),
                        "hour": round(local_hour(st.exit_ts, offset), 2), "last_sensor": _sensor(st.ctx_sensor),
                        "last_kind": _kind(st.ctx_kind)}
            return InactivityAlarm(deadline, kind, st.exit_ts, evidence, self.model_version)
        self._fired_silence = st.last_act
        evidence = {"last_sensor": _sensor(st.ctx_sensor), "last_kind": _kind(st.ctx_kind),
                    "settled": st.ctx_kind.endswith("+"), "away": st.ctx_kind == AWAY,
                    "silence_s": round(deadline - st.last_act, 1),
                    "hour": round(local_hour(st.last_act, offset), 2), "in_bed": bool(st.beds)}
        if kind == NOT_UP:
            _, self._fired_mday, up_hi, rest_hi, rest = detail
            evidence["up_hour_high"] = round(up_hi, 3)
            evidence["rest_hours_high"] = round(rest_hi, 3)
            evidence["rest_since"] = rest
            evidence["deadline_hour"] = round(local_hour(deadline, offset), 2)
        else:
            evidence["threshold_s"] = round(st.limit, 1)
        return InactivityAlarm(deadline, kind, st.last_act, evidence, self.model_version)

    # -- state ------------------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The monitor's whole state as a JSON-able dict with a version stamp (a few KB per home)."""
        return {"kind": STATE_KIND, "format_version": FORMAT_VERSION, "profile": self.profile.to_dict(),
                "clock": self._clock, "fired": [self._fired_silence, self._fired_mday, self._fired_exit]}

    @classmethod
    def restore(cls, state: dict[str, Any], *, prior: dict[str, Any] | None = None) -> InactivityMonitor:
        """A monitor that continues exactly where `snapshot()` left off.

        `prior` is the one the monitor was made with, when it was not the shipped one (a snapshot refers to
        its prior by version). ValueError on a wrong kind, format version or prior version.
        """
        check_state_header(state, kind=STATE_KIND, version=FORMAT_VERSION)
        monitor = cls(InactivityProfile.from_dict(state["profile"], prior=prior))
        monitor._clock = state["clock"]
        monitor._fired_silence, monitor._fired_mday, monitor._fired_exit = state["fired"]
        return monitor


def _sensor(key: str) -> str:
    return key[:-1] if key.endswith("+") else key


def _kind(key: str) -> str:
    return "front_door" if key == AWAY else _sensor(key)


__all__ = ["ALARM_TYPES", "BED_EXIT_NO_RETURN", "INACTIVITY", "NOT_UP", "InactivityAlarm", "InactivityMonitor"]
