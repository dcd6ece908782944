"""The small statistics the inactivity profile is built from: quantiles and conjugate normal cells.

Everything here is plain Python floats (no numpy on the per-event path: a gateway calls it for every
activity event of every home). Quantiles come from closed-form approximations that are checked against
scipy in the tests; cells are (n, sum, sum of squares) of a variable, decayed and rounded in place so a
state written to JSON and read back continues exactly the same.
"""

from __future__ import annotations

import math
from typing import NamedTuple

STAT_DECIMALS = 3  # stored sufficient statistics are rounded to this many decimals after every change
STAT_SCALE = 10**STAT_DECIMALS
MIN_DOF = 2.0  # Hill's approximation is off by up to 2% below 2 degrees of freedom


def norm_ppf(p: float) -> float:
    """Quantile of the standard normal distribution (Acklam's rational approximation, |error| < 1.2e-9)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    lo = 0.02425
    if p < lo:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - lo:
        return -norm_ppf(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


# Hill's constants depend on the degrees of freedom alone, which stay the same between a home's long silences
# (and are the prior's in every new home): computed once per dof, a quarter of each quantile's work.
_HILL: dict[float, tuple[float, float, float, float, float]] = {}
_HILL_SIZE = 4096


def t_ppf(p: float, dof: float) -> float:
    """Quantile of Student's t with `dof` (>= 2, not necessarily whole) degrees of freedom.

    Hill's algorithm (CACM 396, 1970) for the two-sided quantile, the method R's `qt` uses for non-integer
    degrees of freedom; relative error below 1e-4 over the range used here (tested against scipy).
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if dof < MIN_DOF:
        raise ValueError(f"dof must be >= {MIN_DOF}, got {dof!r}")
    if p == 0.5:
        return 0.0
    upper = p > 0.5
    two_sided = 2.0 * (1.0 - p if upper else p)
    n = dof
    if abs(n - 2.0) < 1e-12:
        q = math.sqrt(2.0 / (two_sided * (2.0 - two_sided)) - 2.0)
    elif abs(n - 1.0) < 1e-12:
        q = 1.0 / math.tan(two_sided * math.pi / 2.0)
    else:
        consts = _HILL.get(n)
        if consts is None:
            if len(_HILL) >= _HILL_SIZE:
                _HILL.clear()
            a = 1.0 / (n - 0.5)
            b = 48.0 / (a * a)
            c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
            d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * n
            consts = _HILL[n] = (a, b, c, d, 2.0 / n)
        a, b, c, d, power = consts
        y = (d * two_sided) ** power
        if y > 0.05 + a:
            x = norm_ppf(0.5 * two_sided)
            y = x * x
            if n < 5:
                c += 0.3 * (n - 4.5) * (x + 0.6)
            c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c
            y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
            y = math.expm1(a * y * y)
        else:
            y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) + 0.5 / (n + 4.0)) * y
                 - 1.0) * (n + 1.0) / (n + 2.0) + 1.0 / y
        q = math.sqrt(n * y)
    return q if upper else -q


class Belief(NamedTuple):
    """A normal-inverse-gamma belief about a normal variable: mean, scale, and how much it rests on."""

    mean: float
    sd: float
    kappa: float  # pseudo-observations behind the mean
    dof: float  # pseudo-observations behind the variance

    def update(self, n: float, s1: float, s2: float) -> Belief:
        """The posterior after n (weighted) observations with sum s1 and sum of squares s2."""
        if n <= 1e-9:
            return self
        xbar = s1 / n
        ss = max(s2 - n * xbar * xbar, 0.0)
        kappa = self.kappa + n
        mean = (self.kappa * self.mean + s1) / kappa
        dof = self.dof + n
        var = (self.dof * self.sd * self.sd + ss + self.kappa * n / kappa * (xbar - self.mean) ** 2) / dof
        return Belief(mean, math.sqrt(max(var, 1e-12)), kappa, dof)

    def capped(self, weight: float) -> Belief:
        """The same belief resting on at most `weight` pseudo-observations (a prior for a child cell)."""
        return Belief(self.mean, self.sd, min(self.kappa, weight), min(self.dof, weight))

    def quantile(self, p: float, extra_var: float = 0.0) -> float:
        """Quantile of the posterior predictive (a Student t), with `extra_var` added to its variance."""
        scale = math.sqrt(self.sd * self.sd * (1.0 + 1.0 / self.kappa) + extra_var)
        return self.mean + t_ppf(p, max(self.dof, MIN_DOF)) * scale

    def survival(self, x: float, extra_var: float = 0.0) -> float:
        """P(X > x) under the posterior predictive, by bisection on `quantile` (for reports, not hot paths)."""
        lo, hi = 1e-12, 1.0 - 1e-12
        for _ in range(80):
            mid = math.sqrt(lo * hi)  # bisect in log space: tail probabilities span many decades
            if self.quantile(1.0 - mid, extra_var) > x:
                lo = mid  # the quantile at 1 - mid is beyond x, so P(X > x) is larger than mid
            else:
                hi = mid
        return math.sqrt(lo * hi)


def rounded(x: float) -> float:
    """A statistic as stored: rounded so JSON round trips are exact and small."""
    return round(x, STAT_DECIMALS) + 0.0


def pack(cells: list[float]) -> list[int] | dict[str, int]:
    """Statistics as integers in units of 10^-STAT_DECIMALS (exact, since they are stored rounded).

    Mostly-zero lists are sent as {index: value}, the rest as a list.
    """
    ints = [round(v * STAT_SCALE) for v in cells]
    nonzero = {str(i): v for i, v in enumerate(ints) if v}
    return nonzero if 3 * len(nonzero) < len(ints) else ints


def unpack(packed: list[int] | dict[str, int], length: int) -> list[float]:
    """The inverse of `pack`."""
    if isinstance(packed, dict):
        cells = [0.0] * length
        for i, v in packed.items():
            cells[int(i)] = int(v) / STAT_SCALE
        return cells
    if len(packed) != length:
        raise ValueError(f"expected {length} statistics, got {len(packed)}")
    return [int(v) / STAT_SCALE for v in packed]


def add_obs(cell: list[float], x: float, weight: float = 1.0) -> None:
    """Add one observation `x` to a [n, sum, sum of squares] cell, in place."""
    cell[0] = rounded(cell[0] + weight)
    cell[1] = rounded(cell[1] + weight * x)
    cell[2] = rounded(cell[2] + weight * x * x)


def decay(cells: list[float], factor: float) -> None:
    """Multiply every statistic in a flat list by `factor`, in place (forgetting)."""
    for i, v in enumerate(cells):
        if v:
            cells[i] = rounded(v * factor)
