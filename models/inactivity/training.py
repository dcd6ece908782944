"""Building the population prior from many homes' silences (simulated ones: see `homesafe train inactivity`).

Pure: it takes silences `(start, end, (sensor_key, kind_key), away)` as the profile's recorder reports them
and returns a prior dict. The estimates are pooled over homes (so they include how homes differ), then made
cautious in documented ways, because a prior drawn from simulated homes must not be trusted more than a
real home's first days deserve:

- the mean of x = ln(silence / u) is raised by `CAUTION_LN` (silences 25% longer than simulated),
- its sd (the pooled within-home sd: how much one home's silences vary) is widened by `CAUTION_SD` and
  kept at least `MIN_SD`,
- P(silence > u) is kept at least `MIN_LONG` by day and `MIN_LONG_NIGHT` at night (a real home has more
  reasons to go quiet than a simulated one),
- cells with fewer than `MIN_CELL` long silences borrow from the kind's other hours, then from the
  physiological default; at night the physiological mean is a floor; `PHYSIOLOGY_KINDS` keep it.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from models.inactivity.prior import N_BINS, default_prior
from models.inactivity.profile import local_hour

CAUTION_LN = math.log(1.25)
CAUTION_SD = 1.2
MIN_SD = 0.35
MIN_LONG = 0.02
MIN_LONG_NIGHT = 0.1
MIN_CELL = 30
BIN_SHRINK = 20.0  # pseudo-silences pulling a bin's P(silence > u) to its kind's all-day rate
# Kinds whose simulated session lengths are not realistic enough to set the prior's mean and sd: the
# simulator's seat mat is derived from leisure stays of 15-50 min (real television sessions run for
# hours), and its bedroom PIR splits the night in bed into pieces. Their P(silence > u) still comes from
# simulation.
PHYSIOLOGY_KINDS = frozenset({"seat+", "bed+"})
Silence = tuple[float, float, tuple[str, str], bool]


class SilenceTable:
    """Pooled silences by kind of context and two-hour bin: counts, long counts, x values."""

    def __init__(self, base_silence_s: float) -> None:
        self.u = base_silence_s
        self.n_all: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(N_BINS))
        self.xs: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(N_BINS)])
        # Within-home squared deviations of x (and their degrees of freedom): one home's own spread,
        # without the differences between homes (those are the prior mean's uncertainty).
        self.within_ss: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(N_BINS))
        self.within_dof: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(N_BINS))
        self.homes = 0
        self.home_days = 0.0
        self.silences = 0

    def add_home(self, silences: Iterable[Silence], *, utc_offset_s: float = 0.0) -> None:
        """Add one home's silences (absences are left out: they are learned apart)."""
        self.homes += 1
        mine: dict[tuple[str, int], list[float]] = defaultdict(list)
        for start, end, (_, kind_key), away in silences:
            if away:
                continue
            b = int(local_hour(start, utc_offset_s)) // 2
            self.n_all[kind_key][b] += 1
            self.silences += 1
            self.home_days += (end - start) / 86400.0
            if end - start > self.u:
                x = math.log(min(end - start, 86400.0) / self.u)
                self.xs[kind_key][b].append(x)
                mine[kind_key, b].append(x)
        for (kind_key, b), values in mine.items():
            if len(values) >= 2:
                self.within_ss[kind_key][b] += float(np.var(values)) * len(values)
                self.within_dof[kind_key][b] += len(values) - 1

    def summary(self) -> dict[str, Any]:
        """Per kind: silences and long silences by bin (for the model card)."""
        return {k: {"silences": [int(v) for v in self.n_all[k]], "long": [len(c) for c in self.xs[k]]}
                for k in sorted(self.n_all)}


def _smooth_cells(cells: list[list[float]], b: int) -> list[float]:
    """The bin's x values, widened to neighbouring bins until there are MIN_CELL of them."""
    values = list(cells[b])
    for reach in range(1, N_BINS // 2 + 1):
        if len(values) >= MIN_CELL:
            break
        values += cells[(b - reach) % N_BINS] + cells[(b + reach) % N_BINS]
    return values


def build_prior(table: SilenceTable, *, base: dict[str, Any] | None = None, version: str,
                sources: str) -> dict[str, Any]:
    """A prior whose silence table comes from `table` (made cautious), the rest from `base`.

    Per kind and two-hour bin: P(silence > u) from the pooled counts (shrunk to the kind's all-day rate
    where a bin has few silences, floored); the mean and sd of x from the pooled long silences (widened
    to neighbouring bins where a bin has few). Kinds in `PHYSIOLOGY_KINDS` keep the physiological mean and
    sd, and at night (where the physiology expects sleep) a simulated mean never lowers the physiological
    one: simulated nights are not evidence that real nights are short.
    """
    from models.inactivity.prior import _night_weight

    prior = copy.deepcopy(base if base is not None else default_prior())
    if abs(prior["base_silence_s"] - table.u) > 1e-9:
        raise ValueError(f"table was built with u = {table.u} s, the base prior uses {prior['base_silence_s']} s")
    silence = prior["silence"]
    for kind_key in sorted(table.n_all):
        n_all = table.n_all[kind_key]
        cells = table.xs[kind_key]
        n_long = np.asarray([len(c) for c in cells], dtype=np.float64)
        if n_all.sum() < 10 * MIN_CELL:
            continue  # too rare in simulation: the physiological row stays
        physiology = silence.get(kind_key, silence["*"])
        row: dict[str, list[float]] = {"mean": [], "sd": [], "long": []}
        overall = (n_long.sum() + 1.0) / (n_all.sum() + 2.0)
        enough_tail = n_long.sum() >= MIN_CELL and kind_key not in PHYSIOLOGY_KINDS
        for b in range(N_BINS):
            near = [(b - 1) % N_BINS, (b + 1) % N_BINS]
            n_b = n_all[b] + 0.5 * n_all[near].sum()
            long_b = n_long[b] + 0.5 * n_long[near].sum()
            night = _night_weight(2 * b + 1.0)
            floor = MIN_LONG + night * (MIN_LONG_NIGHT - MIN_LONG)
            p_long = (long_b + BIN_SHRINK * overall) / (n_b + BIN_SHRINK)
            row["long"].append(round(float(min(max(p_long, floor), 0.95)), 4))
            if enough_tail:
                values = _smooth_cells(cells, b)
                mean = float(np.mean(values)) + CAUTION_LN
                if night > 0.3:
                    mean = max(mean, float(physiology["mean"][b]))
                ss = table.within_ss[kind_key][b] + 0.5 * table.within_ss[kind_key][near].sum()
                dof = table.within_dof[kind_key][b] + 0.5 * table.within_dof[kind_key][near].sum()
                sd = math.sqrt(ss / dof) if dof >= MIN_CELL else float(np.std(values))
                row["mean"].append(round(mean, 3))
                row["sd"].append(round(max(sd * CAUTION_SD, MIN_SD), 3))
            else:
                row["mean"].append(float(physiology["mean"][b]))
                row["sd"].append(float(physiology["sd"][b]))
        silence[kind_key] = row
    pooled = [x for k in table.xs for c in table.xs[k] for x in c]
    if len(pooled) >= MIN_CELL:
        star = silence["*"]
        # The fallback for kinds never simulated keeps its physiological hour shape and is at least as
        # cautious as everything simulated together.
        star["sd"] = [round(max(v, float(np.std(pooled)) * CAUTION_SD), 3) for v in star["sd"]]
    if table.home_days > 0:
        prior["silences_per_day"] = round(table.silences / table.home_days, 1)
    prior["version"] = version
    prior["sources"] = sources
    return prior


__all__ = ["SilenceTable", "build_prior"]
