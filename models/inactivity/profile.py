"""InactivityProfile: how long one home's silences normally last, by time of day and where they began.

An estimator in scikit-learn's manner (STYLE #3). `partial_fit(events)` reads a home's ambient-sensor events
`(ts, sensor, kind, value)` in time order and learns online, starting from a population prior:

- Silences. Every activity (a PIR seeing movement, a door, a flush, getting into or out of a bed or seat,
  a radar's presence changing...) ends one silence and begins the next. A silence is described by its
  *context*: the sensor where activity was last seen, with a `+` when that activity was somebody settling
  on a mat or into a radar's view (`Seat+` is sitting), the occupied bed while somebody lies in it (`Bed+`:
  turning over is sleep, not activity), a `~` on the kind during the night's rest (before getting up), and
  the local hour it began. Each context has P(silence > u), u = `base_silence_s` (a Beta belief shrunk
  sensor -> kind -> population), and a belief about x = ln(silence / u) of its longer silences: per kind
  of context and two-hour bin a normal-inverse-gamma belief whose prior is the population's, plus a
  per-sensor shift in four-hour bins shrunk towards zero (a random effect). A context's alarm threshold
  T satisfies P(S > T | context) = silence_p, the per-silence probability that spends the INACTIVITY share
  of the `false_alarm_rate` budget over this home's silences per day (posterior predictive, Student t).
- Absences. The first front-door event of a passage while at home starts an absence (no motion inside
  follows a departure); any inside activity or the next passage ends it. An absence is implausible when
  longer than both a floor (3 days) and 1.5 times the home's longest recent absence.
- Routine. The hour the resident gets up, how long the night's rest lasts, and how long night-time trips
  out of bed last, each a normal-inverse-gamma belief with a prior.

Statistics forget with a half-life of `half_life_days` (applied at each local midnight), so the profile
follows a home whose habits change. Time comes only from the events (no clock), and the local time of day
is `(ts + utc_offset_s) % 86400`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from models.base import check_is_fitted, check_state_header
from models.inactivity.prior import N_BINS, check_prior, load_prior
from models.inactivity.stats import MIN_DOF, STAT_DECIMALS, Belief, add_obs, decay, pack, rounded, t_ppf, unpack

STATE_KIND = "homesafe.models.inactivity.InactivityProfile"
FORMAT_VERSION = 1
KINDS = ("motion", "door", "front_door", "bed", "seat", "toilet", "appliance", "light", "presence", "heartbeat")
HOLDING = frozenset({"bed", "seat", "presence"})  # "on" means somebody is on the mat / in the radar's view
AWAY = "away"
REST = "~"  # suffix of the kinds of silences during the night's rest (before getting up)
DAY_S = 86400.0
MOTION_CLEAR_S = 150.0  # a PIR "clear" later than this after its last report ends a reported interval
APPLIANCE_HUMAN_S = 600.0  # an appliance switched off within 10 min was handled; later, it ended by itself
PASSAGE_GAP_S = 120.0  # front-door events closer than this are one passage (open, close, bounce)
SENSOR_BINS = 6  # four-hour bins of the per-sensor shift
KIND_STATS = 4  # per kind and two-hour bin: silences, long silences, sum and sum of squares of x
SENSOR_STATS = 3  # per sensor and four-hour bin: silences, long silences, sum of x residuals
MAX_SENSORS = 48  # beyond this many, the least used sensor's statistics are dropped (state stays small)
KERNEL = 0.25  # weight of each neighbouring two-hour bin when a kind's bin is read
SENSOR_KERNEL = 0.5  # weight of each neighbouring four-hour bin when a sensor's shift is read
_FITTED = ("stats_", "state_", "prior_")
_PARAM_NAMES = ("prior", "false_alarm_rate", "utc_offset_s", "half_life_days")

Event = tuple[float, str, str, Any]


def local_seconds(ts: float, utc_offset_s: float = 0.0) -> float:
    """Seconds since local midnight of epoch `ts` in a home `utc_offset_s` seconds east of UTC.

    With the development data (local wall-clock time read as UTC) the offset is 0.
    """
    return (ts + utc_offset_s) % DAY_S


def local_hour(ts: float, utc_offset_s: float = 0.0) -> float:
    """Local hour of day (0 <= h < 24, fractional) of epoch `ts`."""
    return local_seconds(ts, utc_offset_s) / 3600.0


def _value(kind: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    raise ValueError(f"expected value 0/1 (off/on, closed/open, empty/occupied) for a {kind} event, got {value!r}")


class _Stream:
    """Where the profile is in its home's event stream (what the next event continues)."""

    __slots__ = ("away", "away_since", "bed_since", "beds", "cand", "cand_last", "cand_mday", "ctx_kind",
                 "ctx_sensor", "day", "exit_limit", "exit_ts", "first_ts", "last_act", "limit", "night_start",
                 "now", "passage_last", "up_mday", "values", "w0_home", "w0_mday")

    def __init__(self) -> None:
        self.now: float | None = None  # latest event time seen
        self.first_ts: float | None = None
        self.day: int | None = None  # local day of the last forgetting step
        self.last_act: float | None = None  # the current silence began here
        self.ctx_sensor = ""
        self.ctx_kind = ""
        self.limit = 0.0  # the current silence's threshold, fixed when it began
        self.away = False
        self.away_since: float | None = None
        self.passage_last: float | None = None
        self.values: dict[str, list[float]] = {}  # sensor -> [value, changed at, last report]
        self.beds: list[str] = []  # bed sensors now occupied
        self.bed_since: float | None = None
        self.night_start: float | None = None  # the night's rest began here (reset on getting up)
        self.up_mday = -(10**9)  # latest morning with a confirmed getting-up
        self.cand: float | None = None  # a getting-up candidate of morning `cand_mday`
        self.cand_last: float | None = None
        self.cand_mday = -(10**9)
        self.w0_mday = -(10**9)  # the morning whose opening `w0_home` describes
        self.w0_home = False
        self.exit_ts: float | None = None  # a night-time bed exit waiting for the return
        self.exit_limit = 0.0  # ... and how long it may wait, fixed at the exit

    def to_dict(self) -> dict[str, Any]:
        return {name: copy.deepcopy(getattr(self, name)) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Stream:
        stream = cls()
        unknown = set(data) - set(cls.__slots__)
        if unknown:
            raise ValueError(f"unknown stream fields in the profile state: {sorted(unknown)}")
        for name, value in data.items():
            setattr(stream, name, copy.deepcopy(value))
        return stream


class InactivityProfile:
    """One home's learned silences and routine, and the thresholds an alarm is measured against.

    Args:
        prior: the population prior (a dict, see `models.inactivity.prior`); None uses the shipped
            artifact `models/artifacts/inactivity.json`, loaded at fit time.
        false_alarm_rate: the false-alarm budget, in alarms per home per 30 days, over all alarm types
            (shared as the prior's `shares` say). Thresholds are set so that the home's own silences, as
            learned, would exceed them this often.
        utc_offset_s: the home's offset from UTC in seconds (local time = ts + offset); 0 for data whose
            ts are local wall-clock times read as UTC.
        half_life_days: how fast old statistics fade, in days.
    """

    # A hook for evaluation and training code: called with (start, end, (sensor_key, kind_key), away) for
    # every silence that ends. Not part of the state.
    _recorder: Callable[[float, float, tuple[str, str], bool], None] | None = None

    def __init__(self, *, prior: dict[str, Any] | None = None, false_alarm_rate: float = 0.5,
                 utc_offset_s: float = 0.0, half_life_days: float = 45.0) -> None:
        self.prior = prior
        self.false_alarm_rate = false_alarm_rate
        self.utc_offset_s = utc_offset_s
        self.half_life_days = half_life_days

    # -- parameters -------------------------------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's `get_params`."""
        return {name: getattr(self, name) for name in _PARAM_NAMES}

    def set_params(self, **params: Any) -> InactivityProfile:
        """Set constructor parameters, as scikit-learn's `set_params`; returns self."""
        for name, value in params.items():
            if name not in _PARAM_NAMES:
                raise ValueError(f"unknown parameter {name!r} for InactivityProfile; expected one of {_PARAM_NAMES}")
            setattr(self, name, value)
        self.__dict__.pop("_cache", None)
        return self

    def _check_params(self) -> None:
        if not 0 < self.false_alarm_rate <= 30:
            raise ValueError(f"false_alarm_rate must be in (0, 30] alarms per home-month, got "
                             f"{self.false_alarm_rate!r}")
        if not -14 * 3600 <= self.utc_offset_s <= 14 * 3600:
            raise ValueError(f"utc_offset_s must be within ±14 h (in seconds), got {self.utc_offset_s!r}")
        if not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, got {self.half_life_days!r}")

    # -- fitting ----------------------------------------------------------------------------------------------

    def fit(self, events: Iterable[Any]) -> InactivityProfile:
        """Forget everything learned, then learn from `events` (in time order); returns self."""
        for name in (*_FITTED, "n_days_seen_", "n_events_seen_"):
            self.__dict__.pop(name, None)
        return self.partial_fit(events)

    def partial_fit(self, events: Iterable[Any]) -> InactivityProfile:
        """Continue learning from more events of the same home, in time order; returns self.

        `events` are `(ts, sensor, kind, value)` tuples or a structured array with those fields (e.g. what
        the development data's `load()` returns). `kind` is one of KINDS; `heartbeat` only moves the clock.
        An empty `events` initialises the profile from its prior alone (a cold start).
        """
        if not hasattr(self, "stats_"):
            self._start()
        for ts, sensor, kind, value in _iter_events(events):
            self._observe(float(ts), str(sensor), str(kind), value)
        return self

    def _start(self) -> None:
        self._check_params()
        prior = load_prior() if self.prior is None else check_prior(copy.deepcopy(self.prior))
        self.prior_ = prior
        self.stats_ = {"kinds": {}, "sensors": {}, "rate": [0.0, 0.0, 0.0], "away": [0.0],
                       "routine": {key: [0.0, 0.0, 0.0] for key in prior["routine"]}}
        self.state_ = _Stream()
        self.n_days_seen_ = 0
        self.n_events_seen_ = 0
        self._reset_cache()
        # What depends on the prior alone (prior beliefs, home_threshold's constants): shared by every home on
        # the shipped prior, so a gateway's new homes start with it computed.
        self._fixed: dict[Any, Any] = _shared_fixed(prior) if self.prior is None else {}

    def _reset_cache(self) -> None:
        self._cache: dict[Any, Any] = {}

    # -- the event stream -------------------------------------------------------------------------------------

    def _observe(self, ts: float, sensor: str, kind: str, value: Any) -> bool:
        """Learn from one event; returns whether it was activity (it ended a silence)."""
        if not math.isfinite(ts):
            raise ValueError(f"expected a finite epoch time in seconds, got {ts!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(KINDS)}")
        v = 0
        if kind != "heartbeat":
            if not sensor:
                raise ValueError(f"a {kind} event needs a sensor id")
            v = _value(kind, value)
        return self._step(ts, sensor, kind, v)

    def _step(self, ts: float, sensor: str, kind: str, v: int) -> bool:
        """`_observe` after validation: the monitor validates once and calls this directly (hot path)."""
        st = self.state_
        self.n_events_seen_ += 1
        if st.first_ts is None:
            st.first_ts = ts
        day = st.day
        if day is None or int((ts + self.utc_offset_s) // DAY_S) > day:
            self._new_day(ts)  # only at a local midnight: skip the call on the other events of the day
        if st.now is None or ts > st.now:
            st.now = ts
        if kind == "heartbeat":
            return False
        rec = st.values.get(sensor)
        prev = None if rec is None else int(rec[0])
        changed = prev != v
        if kind == "motion":
            act = v == 1 or (changed and prev == 1 and rec is not None and ts - rec[2] > MOTION_CLEAR_S)
        elif kind == "toilet":
            act = v == 1 and changed
        elif kind == "appliance":
            act = changed and (v == 1 or (prev == 1 and rec is not None and ts - rec[1] <= APPLIANCE_HUMAN_S))
        else:
            act = changed and (prev is not None or v == 1)
        if changed:
            st.values[sensor] = [v, ts, ts]
            if len(st.values) > MAX_SENSORS:
                oldest = min(st.values, key=lambda s: st.values[s][2])
                del st.values[oldest]
        else:
            rec[2] = ts  # type: ignore[index]
        if kind == "bed" and changed:
            if v == 1 and sensor not in st.beds:
                st.beds.append(sensor)
                st.bed_since = ts
            elif v == 0 and sensor in st.beds:
                st.beds.remove(sensor)
        if not act or (st.last_act is not None and ts <= st.last_act):
            return False
        self._activity(ts, sensor, kind, v)
        return True

    def _activity(self, ts: float, sensor: str, kind: str, v: int) -> None:
        st = self.state_
        rules = self.prior_["rules"]
        was_away = st.away
        prev_act = st.last_act
        if prev_act is not None:
            silence = ts - prev_act
            if was_away:
                self._learn_away(silence)
            else:
                self._learn_silence(silence, prev_act, st.ctx_sensor, st.ctx_kind)
                start_h = ((prev_act + self.utc_offset_s) % DAY_S) / 3600.0  # local_hour, inlined
                if (st.night_start is None and silence >= rules["rest_min_s"]
                        and (start_h >= 18 or start_h < 6)):
                    st.night_start = prev_act
            if self._recorder is not None:
                self._recorder(prev_act, ts, (st.ctx_sensor, st.ctx_kind), was_away)
        departure = False
        if kind == "front_door":
            if st.passage_last is None or ts - st.passage_last > PASSAGE_GAP_S:
                if st.away:
                    st.away = False
                else:
                    st.away, st.away_since, departure = True, ts, True
            st.passage_last = ts
        elif st.away:
            st.away = False  # back without a door event (or somebody is in): at home
        self._routine(ts, kind, v, was_away, departure)
        st.last_act = ts
        if st.away:
            st.ctx_sensor, st.ctx_kind = sensor, AWAY
        elif st.beds:
            # In bed, whatever else moves (a PIR seeing someone turn over) is sleep, not activity elsewhere.
            st.ctx_sensor, st.ctx_kind = st.beds[0] + "+", "bed+"
        else:
            plus = "+" if kind in HOLDING and v == 1 else ""
            # Between the night's rest starting and getting up, silences are the night's (a trip to the
            # toilet at 6 is followed by more sleep; one at 9 after getting up is not).
            st.ctx_sensor = sensor + plus
            st.ctx_kind = kind + plus + (REST if st.night_start is not None else "")
        # The threshold is fixed when the silence begins: what is learned later (a new day's forgetting)
        # never moves a deadline into the past.
        st.limit = self.away_threshold() if st.away else self.home_threshold(
            st.ctx_sensor, st.ctx_kind, int(((ts + self.utc_offset_s) % DAY_S) / 3600.0))

    def _routine(self, ts: float, kind: str, v: int, was_away: bool, departure: bool) -> None:
        """Getting up, the night's rest and night-time bed exits (after the activity at `ts`)."""
        st = self.state_
        rules = self.prior_["rules"]
        local = ts + self.utc_offset_s
        hour = (local % DAY_S) / 3600.0  # local_hour and mday, inlined
        mday = int((local - rules["morning_start_h"] * 3600.0) // DAY_S)
        if mday != st.w0_mday:
            st.w0_mday, st.w0_home = mday, not was_away
        in_bed = bool(st.beds)
        if kind == "bed" and v == 1:
            if st.exit_ts is not None:
                self._learn_routine("night_out_ln_min", math.log(max(ts - st.exit_ts, 30.0) / 60.0))
                st.exit_ts = None
            if st.night_start is None and (hour >= 18 or hour < 6):
                st.night_start = ts
            st.cand = None
        elif kind == "bed" and v == 0 and not in_bed:
            since = st.bed_since if st.bed_since is not None else ts
            if st.night_start is not None and ts - since >= rules["min_in_bed_s"] and self._is_night(ts):
                st.exit_ts, st.exit_limit = ts, self.return_threshold()
        if st.up_mday >= mday or (ts - self.morning_start(mday)) > rules["morning_span_h"] * 3600:
            return
        if departure:
            self._confirm_up(mday, st.cand if st.cand is not None and st.cand_mday == mday else ts)
            return
        if in_bed or st.away:
            return
        if st.cand is None or st.cand_mday != mday or ts - (st.cand_last or ts) > rules["candidate_expiry_s"]:
            st.cand, st.cand_mday = ts, mday
        st.cand_last = ts
        if ts - st.cand >= rules["confirm_span_s"]:
            self._confirm_up(mday, st.cand)

    def _confirm_up(self, mday: int, up_ts: float) -> None:
        st = self.state_
        st.up_mday = mday
        if st.w0_home and st.w0_mday == mday and st.first_ts is not None and st.first_ts < self.morning_start(mday):
            self._learn_routine("up_hour", local_hour(up_ts, self.utc_offset_s))
            if st.night_start is not None and 3 * 3600 <= up_ts - st.night_start <= 16 * 3600:
                self._learn_routine("rest_h", (up_ts - st.night_start) / 3600.0)
        st.night_start = None
        st.cand = st.cand_last = None
        st.exit_ts = None

    def _is_night(self, ts: float) -> bool:
        """Whether a bed exit at `ts` is a night-time one (before the home's early getting-up time)."""
        shifted = (local_hour(ts, self.utc_offset_s) - 18.0) % 24.0
        early = (self.up_hour_low() - 18.0) % 24.0
        return shifted < early - self.prior_["rules"]["night_margin_h"]

    # -- learning ---------------------------------------------------------------------------------------------

    def _learn_silence(self, silence: float, start: float, sensor_key: str, kind_key: str) -> None:
        """Count a silence at home in its context; one longer than u also teaches the tail."""
        # Every activity lands here: `rounded` is inlined (round(x, STAT_DECIMALS) + 0.0) to save the calls.
        stats, rules = self.stats_, self.prior_["rules"]
        u = self.prior_["base_silence_s"]
        hour = int(((start + self.utc_offset_s) % DAY_S) / 3600.0)
        kb, sb = KIND_STATS * (hour // 2), SENSOR_STATS * (hour // 4)
        long = silence > u
        capped = min(silence, rules["learn_cap_s"])
        x = math.log(capped / u) if long else 0.0
        residual = x - self._kind_belief(kind_key, hour // 2).mean if long else 0.0
        kinds = stats["kinds"]
        cells = kinds.get(kind_key)
        if cells is None:
            cells = kinds[kind_key] = [0.0] * (KIND_STATS * N_BINS)
        cells[kb] = round(cells[kb] + 1.0, STAT_DECIMALS) + 0.0
        sensors = stats["sensors"]
        shift = sensors.get(sensor_key)
        if shift is None:
            if len(sensors) >= MAX_SENSORS:
                del sensors[min(sensors, key=lambda k: sum(sensors[k][0::SENSOR_STATS]))]
            shift = sensors[sensor_key] = [0.0] * (SENSOR_STATS * SENSOR_BINS)
        shift[sb] = round(shift[sb] + 1.0, STAT_DECIMALS) + 0.0
        rate = stats["rate"]
        rate[0] = round(rate[0] + 1.0, STAT_DECIMALS) + 0.0
        rate[2] = round(rate[2] + capped / DAY_S, STAT_DECIMALS) + 0.0
        if long:
            seg = cells[kb + 1:kb + 4]
            add_obs(seg, x)
            cells[kb + 1:kb + 4] = seg
            shift[sb + 1] = rounded(shift[sb + 1] + 1.0)
            shift[sb + 2] = rounded(shift[sb + 2] + residual)
            rate[1] = rounded(rate[1] + 1.0)
            self._reset_cache()  # beliefs and shifts read only long silences: cached until the next one

    def _learn_away(self, silence: float) -> None:
        """Remember the longest recent absence (it fades with the other statistics)."""
        away = self.stats_["away"]
        longest = min(silence, self.prior_["rules"]["away_cap_s"]) / 3600.0
        if longest > away[0]:
            away[0] = rounded(longest)
            self._reset_cache()

    def _learn_routine(self, key: str, x: float) -> None:
        add_obs(self.stats_["routine"][key], x)
        self._reset_cache()

    def _new_day(self, ts: float) -> None:
        """Forget a little at each local midnight (and count the days seen)."""
        st = self.state_
        day = int((ts + self.utc_offset_s) // DAY_S)
        if st.day is None:
            st.day = day
            return
        if day <= st.day:
            return
        self.n_days_seen_ += 1
        factor = 0.5 ** ((day - st.day) / self.half_life_days)
        st.day = day
        for cells in self.stats_["kinds"].values():
            decay(cells, factor)
        for cells in self.stats_["sensors"].values():
            decay(cells, factor)
        for cells in self.stats_["routine"].values():
            decay(cells, factor)
        decay(self.stats_["rate"], factor)
        decay(self.stats_["away"], factor)
        self._reset_cache()

    # -- beliefs and thresholds -------------------------------------------------------------------------------

    def _share_p(self, alarm: str, trials_per_day: float) -> float:
        share = float(self.prior_["shares"][alarm])
        return min(max(self.false_alarm_rate * share / (30.0 * max(trials_per_day, 1e-3)), 1e-9), 0.2)

    def silence_p(self) -> float:
        """The per-silence false-alarm probability INACTIVITY thresholds are set at (any silence at home).

        The INACTIVITY share of the budget, spread over this home's silences per day (learned, from the
        prior's guess): each context's threshold T then satisfies P(S > T | context) = silence_p.
        """
        n_all, _, days = self.stats_["rate"]
        pseudo = float(self.prior_["silence_pseudo_days"])
        rate = (n_all + float(self.prior_["silences_per_day"]) * pseudo) / (days + pseudo)
        return self._share_p("INACTIVITY", rate)

    def _row(self, kind_key: str) -> dict[str, Any]:
        table = self.prior_["silence"]
        row = table.get(kind_key)
        if row is None:
            row = table.get(REST) if kind_key.endswith(REST) else None
        return row or table["*"]

    def _kind_cells(self, kind_key: str, kbin: int) -> tuple[float, float, float, float]:
        """(silences, long silences, sum x, sum x^2) of a kind's two-hour bin, with its neighbours."""
        cells = self.stats_["kinds"].get(kind_key)
        if cells is None:
            return 0.0, 0.0, 0.0, 0.0
        out = [0.0, 0.0, 0.0, 0.0]
        for off, w in ((-1, KERNEL), (0, 1.0), (1, KERNEL)):
            b = KIND_STATS * ((kbin + off) % N_BINS)
            for i in range(KIND_STATS):
                out[i] += w * cells[b + i]
        return out[0], out[1], out[2], out[3]

    def _kind_belief(self, kind_key: str, kbin: int) -> Belief:
        """The home's belief about x = ln(silence / u) of long silences after a kind, in a two-hour bin."""
        key = ("k", kind_key, kbin)
        belief = self._cache.get(key)
        if belief is None:
            prior = self._fixed.get(key)
            if prior is None:
                row, weights = self._row(kind_key), self.prior_["weights"]
                prior = self._fixed[key] = Belief(float(row["mean"][kbin]), float(row["sd"][kbin]),
                                                  float(weights["kind_mean"]), float(weights["kind_dof"]))
            if kind_key in self.stats_["kinds"]:
                _, n, s1, s2 = self._kind_cells(kind_key, kbin)
                belief = prior.update(n, s1, s2)
            else:
                belief = prior  # no cells: _kind_cells is all zeros, and update() of nothing is the prior itself
            self._cache[key] = belief
        return belief

    def _long_prob(self, sensor_key: str, kind_key: str, hour: int) -> float:
        """P(silence > u) after this context at this hour: Beta shrinkage sensor -> kind -> population."""
        weights = self.prior_["weights"]
        kbin = hour // 2
        n_all, n_long, _, _ = self._kind_cells(kind_key, kbin)
        m_kind = float(weights["long_kind"])
        p_kind = (m_kind * float(self._row(kind_key)["long"][kbin]) + n_long) / (m_kind + n_all)
        cells = self.stats_["sensors"].get(sensor_key)
        if cells is None:
            return p_kind
        n_all = n_long = 0.0
        for off, w in ((-1, SENSOR_KERNEL), (0, 1.0), (1, SENSOR_KERNEL)):
            b = SENSOR_STATS * ((hour // 4 + off) % SENSOR_BINS)
            n_all += w * cells[b]
            n_long += w * cells[b + 1]
        m_sensor = float(weights["long_sensor"])
        return (m_sensor * p_kind + n_long) / (m_sensor + n_all)

    def _sensor_shift(self, sensor_key: str, hour: int, kind_var: float) -> tuple[float, float]:
        """(shift, its variance) of a sensor's ln-silences from its kind's, shrunk towards 0."""
        key = ("s", sensor_key, hour // 4, kind_var)
        found = self._cache.get(key)
        if found is not None:
            return found
        tau = float(self.prior_["weights"]["sensor_sd"])
        cells = self.stats_["sensors"].get(sensor_key)
        if cells is None:
            return 0.0, tau * tau
        n = r = 0.0
        for off, w in ((-1, SENSOR_KERNEL), (0, 1.0), (1, SENSOR_KERNEL)):
            b = SENSOR_STATS * ((hour // 4 + off) % SENSOR_BINS)
            n += w * cells[b + 1]
            r += w * cells[b + 2]
        precision = 1.0 / (tau * tau) + n / kind_var
        found = self._cache[key] = ((r / kind_var) / precision, 1.0 / precision)
        return found

    def _tail(self, sensor_key: str, kind_key: str, hour: int) -> tuple[Belief, float]:
        """The predictive belief about x of a long silence in this context, and the extra variance."""
        belief = self._kind_belief(kind_key, hour // 2)
        shift, shift_var = self._sensor_shift(sensor_key, hour, belief.sd * belief.sd)
        return Belief(belief.mean + shift, belief.sd, belief.kappa, belief.dof), shift_var

    def _threshold_x(self, sensor_key: str, kind_key: str, hour: int, p: float) -> float:
        """x = ln(T / u) with P(S > T | context) = p, i.e. P(S > T | S > u) = p / P(S > u)."""
        tail, extra = self._tail(sensor_key, kind_key, hour)
        conditional = min(p / max(self._long_prob(sensor_key, kind_key, hour), 1e-12), 0.5)
        return tail.quantile(1.0 - conditional, extra)

    def home_threshold(self, sensor_key: str, kind_key: str, hour: int) -> float:
        """Seconds of silence at home after context (sensor_key, kind_key) begun at local `hour` (0-23).

        Every activity at home asks this, so it is `_threshold_x` fused by hand, with the same arithmetic in
        the same order (identical floats): the tail is cached like the beliefs it is made of, and
        `_long_prob` (which moves with every silence) is recomputed with its kernel loops unrolled.
        """
        cache = self._cache
        key = ("t", sensor_key, kind_key, hour)
        tail = cache.get(key)
        if tail is None:
            belief = self._kind_belief(kind_key, hour // 2)
            kind_var = belief.sd * belief.sd
            shift, shift_var = self._sensor_shift(sensor_key, hour, kind_var)
            tail = (belief.mean + shift, max(belief.dof, MIN_DOF),
                    math.sqrt(kind_var * (1.0 + 1.0 / belief.kappa) + shift_var))
            if sensor_key in self.stats_["sensors"]:  # _sensor_shift caches only then: so do we
                cache[key] = tail
        consts = self._fixed.get(_CONSTS)
        if consts is None:
            consts = self._fixed[_CONSTS] = self._threshold_constants()
        m_kind, m_sensor, pseudo, prior_silences, share, base, lowest, highest = consts
        # _long_prob, inlined; m_kind * the prior's P(long) per bin is the prior's alone: computed once.
        long_prior = self._fixed.get(kind_key)
        if long_prior is None:
            row = self._row(kind_key)["long"]
            long_prior = self._fixed[kind_key] = [m_kind * float(row[b]) for b in range(N_BINS)]
        kbin = hour // 2
        cells = self.stats_["kinds"].get(kind_key)
        if cells is None:
            n_all = n_long = 0.0
        else:
            lo, mid, hi = KIND_STATS * ((kbin - 1) % N_BINS), KIND_STATS * kbin, KIND_STATS * ((kbin + 1) % N_BINS)
            n_all = 0.0 + KERNEL * cells[lo] + cells[mid] + KERNEL * cells[hi]
            n_long = 0.0 + KERNEL * cells[lo + 1] + cells[mid + 1] + KERNEL * cells[hi + 1]
        long_prob = (long_prior[kbin] + n_long) / (m_kind + n_all)
        cells = self.stats_["sensors"].get(sensor_key)
        if cells is not None:
            sbin = hour // 4
            lo, mid, hi = (SENSOR_STATS * ((sbin - 1) % SENSOR_BINS), SENSOR_STATS * sbin,
                           SENSOR_STATS * ((sbin + 1) % SENSOR_BINS))
            n_all = 0.0 + SENSOR_KERNEL * cells[lo] + cells[mid] + SENSOR_KERNEL * cells[hi]
            n_long = 0.0 + SENSOR_KERNEL * cells[lo + 1] + cells[mid + 1] + SENSOR_KERNEL * cells[hi + 1]
            long_prob = (m_sensor * long_prob + n_long) / (m_sensor + n_all)
        # silence_p and _share_p, inlined.
        n_all, _, days = self.stats_["rate"]
        rate = (n_all + prior_silences) / (days + pseudo)
        p = min(max(self.false_alarm_rate * share / (30.0 * max(rate, 1e-3)), 1e-9), 0.2)
        conditional = min(p / max(long_prob, 1e-12), 0.5)
        x = tail[0] + t_ppf(1.0 - conditional, tail[1]) * tail[2]
        return min(max(base * math.exp(min(x, 50.0)), lowest), highest)

    def _threshold_constants(self) -> tuple[Any, ...]:
        """The prior's numbers `home_threshold` reads, as it reads them (float() where it converts, else as is)."""
        prior = self.prior_
        weights, rules = prior["weights"], prior["rules"]
        pseudo = float(prior["silence_pseudo_days"])
        return (float(weights["long_kind"]), float(weights["long_sensor"]), pseudo,
                float(prior["silences_per_day"]) * pseudo, float(prior["shares"]["INACTIVITY"]),
                prior["base_silence_s"], rules["min_threshold_s"], rules["max_threshold_s"])

    def away_threshold(self) -> float:
        """Seconds of absence (after a departure through the front door) that are implausible here.

        The longer of the prior's floor (3 days) and `away_factor` times this home's longest recent absence.
        """
        rules = self.prior_["rules"]
        longest = self.stats_["away"][0] * 3600.0 * rules["away_factor"]
        return min(max(longest, rules["away_floor_s"]), rules["away_cap_s"])

    def _routine_belief(self, key: str) -> Belief:
        ck = ("r", key)
        belief = self._cache.get(ck)
        if belief is None:
            spec = self.prior_["routine"][key]
            prior = Belief(float(spec["mean"]), float(spec["sd"]), float(spec["kappa"]), float(spec["dof"]))
            belief = self._cache[ck] = prior.update(*self.stats_["routine"][key])
        return belief

    def up_hour_high(self) -> float:
        """The latest plausible local hour of getting up here (NOT_UP's clock deadline)."""
        key = ("up_hi",)
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = self._routine_belief("up_hour").quantile(1.0 - self._share_p("NOT_UP", 1.0))
        return value

    def up_hour_low(self) -> float:
        """An early local hour of getting up here (5% quantile): bed exits before it are night-time ones."""
        key = ("up_lo",)
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = self._routine_belief("up_hour").quantile(0.05)
        return value

    def rest_hours_high(self) -> float:
        """The longest plausible night's rest here, in hours (NOT_UP after a late night)."""
        key = ("rest_hi",)
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = self._routine_belief("rest_h").quantile(1.0 - self._share_p("NOT_UP", 1.0))
        return value

    def return_threshold(self) -> float:
        """Seconds out of bed at night after which a missing return is alarmed (BED_EXIT_NO_RETURN)."""
        key = ("ret",)
        value = self._cache.get(key)
        if value is None:
            rules = self.prior_["rules"]
            p = self._share_p("BED_EXIT_NO_RETURN", float(self.prior_["night_exits_per_day"]))
            minutes = math.exp(min(self._routine_belief("night_out_ln_min").quantile(1.0 - p), 20.0))
            value = self._cache[key] = min(max(minutes * 60.0, rules["min_return_s"]), rules["max_return_s"])
        return value

    def mday(self, ts: float) -> int:
        """The morning `ts` belongs to: local days that begin at the morning window's start (04:00)."""
        start = self.prior_["rules"]["morning_start_h"] * 3600.0
        return int((ts + self.utc_offset_s - start) // DAY_S)

    def morning_start(self, mday: int) -> float:
        """Epoch time at which morning `mday`'s window opens."""
        return mday * DAY_S + self.prior_["rules"]["morning_start_h"] * 3600.0 - self.utc_offset_s

    # -- public scoring ---------------------------------------------------------------------------------------

    def threshold(self, sensor: str, kind: str, hour: float, *, holding: bool = False) -> float:
        """The learned alarm threshold (seconds) of a silence at home after `sensor` of `kind` at local `hour`.

        `holding` is True when that activity was somebody settling (a bed, seat or radar turning on).
        """
        check_is_fitted(self, _FITTED)
        if kind not in KINDS or kind == "heartbeat":
            raise ValueError(f"expected an activity kind among {', '.join(KINDS[:-1])}, got {kind!r}")
        plus = "+" if holding and kind in HOLDING else ""
        return self.home_threshold(sensor + plus, kind + plus, int(hour) % 24)

    def score(self, silence_s: Any, sensor: str, kind: str, hour: float, *, holding: bool = False) -> np.ndarray:
        """log10 of the predictive probability that a silence in this context lasts at least `silence_s`.

        Raw and unthresholded: 0 for silences no longer than u, more negative the more improbable.
        """
        check_is_fitted(self, _FITTED)
        plus = "+" if holding and kind in HOLDING else ""
        h = int(hour) % 24
        tail, extra = self._tail(sensor + plus, kind + plus, h)
        log_long = math.log10(max(self._long_prob(sensor + plus, kind + plus, h), 1e-300))
        u = self.prior_["base_silence_s"]
        out = [0.0 if s <= u else log_long + math.log10(tail.survival(math.log(s / u), extra))
               for s in np.atleast_1d(np.asarray(silence_s, dtype=np.float64))]
        return np.asarray(out)

    def decision(self, silence_s: Any, sensor: str, kind: str, hour: float, *, holding: bool = False) -> np.ndarray:
        """`score` minus log10 of the per-silence false-alarm probability: an alarm where it is below 0.

        Agrees with `threshold` up to its floor and cap (and the conditional probability's cap at 0.5):
        decision < 0 iff `silence_s` is longer than the unclamped threshold.
        """
        return self.score(silence_s, sensor, kind, hour, holding=holding) - math.log10(self.silence_p())

    # -- state ------------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything learned, as a JSON-ready dict stamped with kind and format version.

        The prior is referred to by its version, not copied (it is most of the size, and the same for every
        home): `from_dict` takes it back, or loads the shipped one, and checks the version.
        """
        check_is_fitted(self, _FITTED)
        params = self.get_params()
        params["prior"] = None
        return {
            "kind": STATE_KIND,
            "format_version": FORMAT_VERSION,
            "params": params,
            "prior_version": self.prior_.get("version"),
            "stats": {"kinds": {k: pack(v) for k, v in self.stats_["kinds"].items()},
                      "sensors": {k: pack(v) for k, v in self.stats_["sensors"].items()},
                      "rate": pack(self.stats_["rate"]), "away": pack(self.stats_["away"]),
                      "routine": {k: pack(v) for k, v in self.stats_["routine"].items()}},
            "stream": self.state_.to_dict(),
            "days": self.n_days_seen_,
            "events": self.n_events_seen_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, prior: dict[str, Any] | None = None) -> InactivityProfile:
        """Rebuild from `to_dict` output, with its prior (None: the shipped one).

        ValueError on a wrong kind or format version, or a prior of another version than the state's.
        """
        check_state_header(data, kind=STATE_KIND, version=FORMAT_VERSION)
        params = dict(data.get("params", {}))
        unknown = set(params) - set(_PARAM_NAMES)
        if unknown:
            raise ValueError(f"unknown InactivityProfile parameters in state: {sorted(unknown)}")
        params["prior"] = prior
        profile = cls(**params)
        profile._start()
        if profile.prior_.get("version") != data.get("prior_version"):
            where = "the given prior is" if prior is not None else "this installation ships"
            raise ValueError(f"state was learned with prior {data.get('prior_version')!r}, {where} "
                             f"{profile.prior_.get('version')!r}; pass that prior (prior=...) or start the home "
                             "afresh")
        stats = data["stats"]
        profile.stats_ = {"kinds": {k: unpack(v, KIND_STATS * N_BINS) for k, v in stats["kinds"].items()},
                          "sensors": {k: unpack(v, SENSOR_STATS * SENSOR_BINS) for k, v in stats["sensors"].items()},
                          "rate": unpack(stats["rate"], 3), "away": unpack(stats["away"], 1),
                          "routine": {k: unpack(v, 3) for k, v in stats["routine"].items()}}
        profile.state_ = _Stream.from_dict(data["stream"])
        profile.n_days_seen_ = int(data.get("days", 0))
        profile.n_events_seen_ = int(data.get("events", 0))
        return profile

    def to_json(self) -> str:
        """Compact JSON text of `to_dict` (no pickle)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str, *, prior: dict[str, Any] | None = None) -> InactivityProfile:
        """Rebuild from `to_json` text (with its prior; None: the shipped one)."""
        return cls.from_dict(json.loads(text), prior=prior)


_SHARED: dict[int, tuple[dict[str, Any], dict[Any, Any]]] = {}
_CONSTS = ("consts",)  # the key of `_threshold_constants` in a profile's `_fixed`


def _shared_fixed(prior: dict[str, Any]) -> dict[Any, Any]:
    """The prior-only cache of every profile on this (shipped, read-only, parsed once) prior."""
    found = _SHARED.get(id(prior))
    if found is None or found[0] is not prior:
        found = _SHARED[id(prior)] = (prior, {})
    return found[1]


def _iter_events(events: Iterable[Any]) -> Iterable[Event]:
    names = getattr(getattr(events, "dtype", None), "names", None)
    if names:
        missing = {"ts", "sensor", "kind", "value"} - set(names)
        if missing:
            raise ValueError(f"event array lacks fields {sorted(missing)}; expected ts, sensor, kind, value")
        arr: Any = events
        return zip(arr["ts"].tolist(), arr["sensor"].tolist(), arr["kind"].tolist(), arr["value"].tolist(),
                   strict=True)
    return events  # type: ignore[return-value]


__all__ = ["HOLDING", "KINDS", "InactivityProfile", "local_hour", "local_seconds"]
