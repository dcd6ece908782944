"""The population prior of the inactivity profile: what a home is assumed to look like before it is known.

A prior is a plain JSON-able dict (see `default_prior` for every field and where its numbers come from):

- `silence[kind_key]`: for silences longer than `base_silence_s` (u) that begin after an activity of that
  kind, the mean and sd of x = ln(silence / u) in 12 two-hour bins of the local start time, and how many
  pseudo-observations (`weights`) they count for in a home. A kind_key is a kind, with `+` when somebody
  settled and `~` during the night's rest; the row `~` serves rest kinds without their own, `*` the rest;
- `routine`: beliefs (mean, sd, kappa, dof) about the hour of getting up, the length of the night's rest and
  the minutes out of bed at night;
- `rules`: fixed, documented limits (earliest/latest thresholds, the morning window, ...).

The shipped prior (`models/artifacts/inactivity.json`) is built by `homesafe train inactivity` from
simulated homes and the physiology documented here; it is never fitted to the real development homes.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from models.base import check_state_header

PRIOR_KIND = "homesafe.models.inactivity.InactivityPrior"
PRIOR_FORMAT_VERSION = 1
DEFAULT_ARTIFACT = "inactivity.json"
N_BINS = 12  # two-hour bins of the local time of day
KIND_KEYS = ("motion", "presence", "presence+", "door", "front_door", "bed", "bed+", "seat", "seat+", "toilet",
             "appliance", "light", "~", "*")
ROUTINE_KEYS = ("up_hour", "rest_h", "night_out_ln_min")

# Rules: fixed limits with their reasons (documented in the model card).
DEFAULT_RULES: dict[str, float] = {
    "min_threshold_s": 1800.0,  # never alarm on a silence shorter than 30 min (responders' floor)
    "max_threshold_s": 16 * 3600.0,  # nobody at home is silent 16 h without a reason to check
    "learn_cap_s": 24 * 3600.0,  # one silence never teaches more than a day
    # An empty home is not an emergency: a weekend away (2 days) is ordinary, 3 days away with nobody told
    # is worth a call; a home with longer absences gets `away_factor` times its longest recent one.
    "away_floor_s": 72 * 3600.0,
    "away_factor": 1.5,
    "away_cap_s": 14 * 86400.0,
    "morning_start_h": 4.0,  # the day's "getting up" is looked for from 04:00 local
    "morning_span_h": 12.0,  # ... until 16:00 at the latest
    "confirm_span_s": 900.0,  # up = activity out of bed spanning 15 min (night trips take 5-12 min)
    "candidate_expiry_s": 3600.0,  # an hour without activity ends a getting-up candidate
    "rest_min_s": 2 * 3600.0,  # a silence of 2 h starting in the evening/night starts the night's rest
    "min_in_bed_s": 1200.0,  # a bed exit counts as a night exit after 20 min in bed
    "night_margin_h": 0.5,  # night exits end this long before the home's early getting-up time
    "min_return_s": 900.0,  # BED_EXIT_NO_RETURN never sooner than 15 min after the exit
    "max_return_s": 7200.0,  # ... and at the latest 2 h after it
    "min_not_up_h": 1.0,  # NOT_UP no sooner than 1 h after the morning window opens
}


def _bins(fn: Any) -> list[float]:
    return [round(float(fn(2 * b + 1.0)), 3) for b in range(N_BINS)]


def _night_weight(hour: float) -> float:
    """1 in the small hours, 0 in the day, smooth in between (silences that start then run into sleep)."""
    # Older adults' habitual bedtime is 21-23 h and waking 5-8 h (Ohayon et al., Sleep 2004, meta-analysis
    # of sleep parameters; Roenneberg et al., Curr Biol 2007: chronotype shifts earlier after 50).
    h = hour % 24
    if 0 <= h < 5:
        return 1.0
    if 5 <= h < 8:
        return (8 - h) / 3
    if 20 <= h < 24:
        return (h - 20) / 4
    return 0.0


def default_prior() -> dict[str, Any]:
    """The physiological prior, before any simulation: hand-set from the literature cited inline.

    It is deliberately cautious (long silences) so a new home raises nothing silly on its first days. The
    shipped artifact replaces the `silence` table with one estimated from simulated homes (and keeps the
    cautious corrections); this function is the fallback and the reference in tests.
    """
    ln = math.log
    u = 900.0

    def day_night(day_min: float, night_h: float, day_sd: float, night_sd: float, *, day_long: float = 0.08,
                  night_long: float = 0.3) -> dict[str, Any]:
        day_x, night_x = ln(day_min * 60 / u), ln(night_h * 3600 / u)
        return {"mean": _bins(lambda h: day_x + _night_weight(h) * (night_x - day_x)),
                "sd": _bins(lambda h: day_sd + _night_weight(h) * (night_sd - day_sd)),
                "long": _bins(lambda h: day_long + _night_weight(h) * (night_long - day_long))}

    # Day: after an activity, an older adult at home next triggers some sensor within minutes to an hour;
    # sedentary bouts average 30-60 min and rarely pass 2-3 h awake (Chastin & Granat, Gait Posture 2010;
    # Harvey et al., Int J Environ Res Public Health 2013: older adults are sedentary 65-80% of waking time
    # in bouts mostly < 1 h). Night: time in bed 8-9 h, up to 10-11 h for long sleepers (Ohayon 2004).
    silence = {
        "motion": day_night(25, 7.5, 0.6, 0.6),
        "presence": day_night(25, 7.5, 0.6, 0.6),
        # Someone in a radar's view, not moving.
        "presence+": day_night(20, 7.5, 0.6, 0.8, day_long=0.1, night_long=0.3),
        "door": day_night(40, 7.5, 0.8, 0.6),  # cupboards/room doors: sparse homes, longer gaps
        "front_door": day_night(30, 7.5, 0.8, 0.7),  # just home
        "bed": day_night(25, 6.0, 0.6, 0.8),  # just out of bed
        # In bed: a nap by day, the night's sleep at night.
        "bed+": day_night(60, 8.0, 0.6, 0.3, day_long=0.7, night_long=0.9),
        "seat": day_night(30, 7.0, 0.7, 0.7),
        # Seated: television viewing sessions of older adults average 1.5-3 h (Sugiyama et al., Int J Behav
        # Nutr Phys Act 2008: 3-4 h TV a day) and evenings can run 4-6 h.
        "seat+": day_night(150, 7.5, 0.6, 0.6, day_long=0.6, night_long=0.7),
        "toilet": day_night(30, 7.0, 0.8, 0.7),
        "appliance": day_night(35, 7.0, 0.8, 0.7),
        "light": day_night(40, 7.5, 0.8, 0.6),
        "*": day_night(40, 7.5, 0.9, 0.8),
        # During the night's rest (after it began, before getting up), whatever the sensor: the rest of
        # the night follows, shorter towards the morning; a late morning still in the rest is a lie-in.
        "~": {"mean": _bins(lambda h: ln((7.0 if h >= 20 or h < 2 else 4.5 if h < 6 else 2.5) * 3600 / u)),
              "sd": _bins(lambda h: 0.8), "long": _bins(lambda h: 0.3)},
    }
    return {
        "kind": PRIOR_KIND,
        "format_version": PRIOR_FORMAT_VERSION,
        "version": "inactivity-prior-physiology-1",
        "base_silence_s": u,
        "silence": silence,
        # Pseudo-observations per kind and two-hour bin behind the mean (few: homes differ in level) and
        # behind the spread (more: how much one home's silences vary is more alike across homes), and the
        # spread of a sensor's own level around its kind's (ln units: 0.5 = a sensor's silences may be
        # 1.6x longer or shorter than its kind's).
        # `long`: P(silence > u) after a kind, and the pseudo-silences behind it for a kind and for a
        # sensor (shrunk towards its kind's).
        "weights": {"kind_mean": 1.0, "kind_dof": 8.0, "sensor_sd": 0.5, "long_kind": 10.0,
                    "long_sensor": 20.0},
        # Silences (of any length) per home-day, with the weight of that guess in days: sets the
        # per-silence false-alarm probability until the home's own rate is known.
        "silences_per_day": 150.0,
        "silence_pseudo_days": 2.0,
        "routine": {
            # Getting up: 06:00-08:00 for most older adults (Ohayon 2004; Monk et al., J Am Geriatr Soc 2006),
            # sd 1 h across people.
            "up_hour": {"mean": 7.25, "sd": 1.0, "kappa": 1.0, "dof": 4.0},
            # From the night's rest starting to getting up: 8.5 h, sd 1.2 h (time in bed, Ohayon 2004).
            "rest_h": {"mean": 8.5, "sd": 1.2, "kappa": 1.0, "dof": 4.0},
            # Out of bed at night (nocturia, 1-2 a night in most over 65; Bosch & Weiss, J Urol 2010): a
            # median of 8 min, ln sd 0.6.
            "night_out_ln_min": {"mean": math.log(8.0), "sd": 0.6, "kappa": 1.0, "dof": 4.0},
        },
        # Shares of the false-alarm budget by alarm type (they sum to 1).
        "shares": {"INACTIVITY": 0.65, "NOT_UP": 0.2, "BED_EXIT_NO_RETURN": 0.15},
        "night_exits_per_day": 1.5,
        "rules": dict(DEFAULT_RULES),
        "sources": "physiology only (default_prior); see the citations in models/inactivity/prior.py",
    }


def check_prior(prior: Any) -> dict[str, Any]:
    """Validate a prior dict (kind, version, tables of the right shape); returns it, or raises ValueError."""
    check_state_header(prior, kind=PRIOR_KIND, version=PRIOR_FORMAT_VERSION)
    silence = prior.get("silence")
    if not isinstance(silence, dict) or "*" not in silence:
        raise ValueError("prior has no silence table with a '*' fallback row; rebuild it with "
                         "`homesafe train inactivity` or use models.inactivity.default_prior()")
    for key, row in silence.items():
        for field in ("mean", "sd", "long"):
            values = row.get(field) if isinstance(row, dict) else None
            if not isinstance(values, list) or len(values) != N_BINS:
                raise ValueError(f"prior silence[{key!r}].{field}: expected {N_BINS} two-hour bins, got {values!r}")
        if min(row["sd"]) <= 0 or not all(0 < v < 1 for v in row["long"]):
            raise ValueError(f"prior silence[{key!r}]: sd must be positive and long within (0, 1)")
    for key in ROUTINE_KEYS:
        belief = prior.get("routine", {}).get(key)
        if not isinstance(belief, dict) or not {"mean", "sd", "kappa", "dof"} <= set(belief):
            raise ValueError(f"prior routine[{key!r}]: expected {{mean, sd, kappa, dof}}, got {belief!r}")
    missing = set(DEFAULT_RULES) - set(prior.get("rules", {}))
    if missing:
        raise ValueError(f"prior rules lack {sorted(missing)}")
    if not prior.get("base_silence_s", 0) > 0:
        raise ValueError("prior base_silence_s must be positive")
    return prior


def load_prior(path: str | Path | None = None) -> dict[str, Any]:
    """The prior in an artifact file; without `path`, the one shipped in `models/artifacts/inactivity.json`.

    The shipped prior is parsed once per process and shared by every home's profile, which only reads
    it: a gateway creating thousands of homes must not parse and copy 23 KB of JSON for each.
    """
    if path is None:
        return _shipped_prior()
    return _parse_prior(Path(path).read_text(encoding="utf-8"))


@functools.cache
def _shipped_prior() -> dict[str, Any]:
    return _parse_prior(resources.files("models").joinpath("artifacts", DEFAULT_ARTIFACT).read_text(encoding="utf-8"))


def _parse_prior(text: str) -> dict[str, Any]:
    data = json.loads(text)
    prior = data.get("prior", data) if isinstance(data, dict) else data
    return check_prior(prior)


def artifact_card(path: str | Path | None = None) -> dict[str, Any]:
    """The model card of an artifact (the shipped one by default); {} when it has none."""
    if path is None:
        text = resources.files("models").joinpath("artifacts", DEFAULT_ARTIFACT).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    return dict(data.get("card", {})) if isinstance(data, dict) else {}
