"""Wearable acceleration: physically plausible 3-axis signals in g for everyday activities and falls.

An accelerometer measures specific force, f = a - g: at rest it reads +1 g pointing up, in free fall 0 g.
Every signal here is built that way, in three frames:

    world   z up, x the direction the wearer faces; the linear acceleration `acc` (g) lives here
    body    the trunk; its orientation `rot` (body -> world, one 3x3 per sample) tilts as the wearer
            bends, sits, lies down or falls
    device  the sensor's own axes: a random rotation `mount` of the body frame, because pendants, wrist
            bands and belt clips put the axes anywhere

so the device reads `mount.T @ rot.T @ (acc + z)`. Signals are built at `OVERSAMPLE` times the output
rate, then averaged per output sample (the sensor's own low-pass), given a per-axis offset and white
noise, quantised, and clipped at the sensor's range (saturation). At rest |a| is therefore 1 g in any
orientation, up to noise; the gravity direction in device axes tells the posture.

Falls follow the phases the fall literature describes: a pre-fall activity, an initiation where the trunk
starts to rotate and |a| sags, a descent where the body is close to free fall (|a| dips toward 0 g), an
impact whose peak (2-8 g by kind) and width follow from the speed gained in the descent (impulse =
momentum), a rebound and damped ringing, then stillness lying in a new orientation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

G = 9.80665
OVERSAMPLE = 8
DEFAULT_FS = 50.0
DEFAULT_RANGE_G = 8.0
DEFAULT_NOISE_G = 0.01
DEFAULT_BITS = 12
_UP = np.array([0.0, 0.0, 1.0])

ACTIVITIES = ("standing", "walking", "sitting", "lying", "sitting_down", "standing_up", "lying_down",
              "stairs_up", "stairs_down", "picking_up", "stumble")
FALLS = ("forward", "backward", "lateral", "from_sitting", "from_bed")


# -- rotations ---------------------------------------------------------------------------------------------

def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix drawn uniformly from SO(3) (Shoemake's unit quaternion)."""
    u1, u2, u3 = rng.random(3)
    q = (math.sqrt(1 - u1) * math.sin(2 * math.pi * u2), math.sqrt(1 - u1) * math.cos(2 * math.pi * u2),
         math.sqrt(u1) * math.sin(2 * math.pi * u3), math.sqrt(u1) * math.cos(2 * math.pi * u3))
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def _rotvec(v: np.ndarray) -> np.ndarray:
    """Rotation matrices (N, 3, 3) of rotation vectors (N, 3) (axis * angle), by Rodrigues' formula."""
    v = np.atleast_2d(v)
    theta = np.linalg.norm(v, axis=1)
    safe = np.where(theta > 1e-12, theta, 1.0)
    k = v / safe[:, None]
    kx, ky, kz = k[:, 0], k[:, 1], k[:, 2]
    zero = np.zeros_like(kx)
    cross = np.stack([np.stack([zero, -kz, ky], 1), np.stack([kz, zero, -kx], 1), np.stack([-ky, kx, zero], 1)], 1)
    s, c = np.sin(theta)[:, None, None], (1 - np.cos(theta))[:, None, None]
    return np.eye(3)[None] + s * cross + c * (cross @ cross)


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    return _rotvec((np.asarray(axis, float) * angle)[None])[0]


# Postures: body -> world rotations. Upright is the identity; the body's x faces forward, z up.
UPRIGHT = np.eye(3)
SEATED = _axis_rotation(np.array([0.0, 1.0, 0.0]), -0.15)  # leaning back ~9 degrees against the chair
SUPINE = _axis_rotation(np.array([0.0, 1.0, 0.0]), -math.pi / 2)  # on the back: the chest faces up


# -- a track: orientation and linear acceleration at the internal rate -------------------------------------

class _Track:
    """Orientation (body -> world) and world linear acceleration (g), appended segment by segment."""

    def __init__(self, fs: float, start: np.ndarray) -> None:
        self.fs = fs
        self.rots: list[np.ndarray] = []
        self.accs: list[np.ndarray] = []
        self.end = start.copy()

    def __len__(self) -> int:
        return sum(len(a) for a in self.accs)

    def add(self, rot: np.ndarray, acc: np.ndarray) -> None:
        self.rots.append(rot)
        self.accs.append(acc)
        self.end = rot[-1].copy()

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.rots), np.concatenate(self.accs)


def _n(seconds: float, fs: float) -> int:
    return max(1, round(seconds * fs))


def _minjerk(u: np.ndarray) -> np.ndarray:
    """The minimum-jerk profile 0 -> 1 on u in [0, 1]: how people move smoothly between postures."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _minjerk_acc(u: np.ndarray, duration: float) -> np.ndarray:
    """Second time derivative of `_minjerk` for a move lasting `duration` seconds (per unit distance)."""
    u = np.clip(u, 0.0, 1.0)
    return (60 * u - 180 * u**2 + 120 * u**3) / duration**2


def _half_sine(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    inside = (t >= t0) & (t <= t0 + width)
    return np.where(inside, np.sin(np.pi * np.clip((t - t0) / width, 0, 1)), 0.0)


def _smooth_noise(n: int, fs: float, sigma: float, rng: np.random.Generator, cutoff_hz: float = 3.0) -> np.ndarray:
    """Low-passed Gaussian noise (n, 3) with standard deviation ~sigma: tremor and small body motion."""
    width = max(1, int(fs / cutoff_hz))
    white = rng.normal(0.0, 1.0, (n + width - 1, 3))
    kernel = np.ones(width) / width
    smooth = np.stack([np.convolve(white[:, i], kernel, mode="valid") for i in range(3)], 1)
    return smooth * sigma * math.sqrt(width)


def _sway(n: int, fs: float, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Slow postural sway as small rotation vectors (n, 3) about the body's x and y axes."""
    t = np.arange(n) / fs
    out = np.zeros((n, 3))
    for axis in (0, 1):
        for _ in range(2):
            f, phase = rng.uniform(0.08, 0.5), rng.uniform(0, 2 * math.pi)
            out[:, axis] += amplitude * rng.uniform(0.3, 0.7) * np.sin(2 * math.pi * f * t + phase)
    return out


def _still(track: _Track, seconds: float, rng: np.random.Generator, *, sway: float, tremor: float,
           breathing: float = 0.0) -> None:
    n = _n(seconds, track.fs)
    rot = track.end[None] @ _rotvec(_sway(n, track.fs, sway, rng))
    acc = _smooth_noise(n, track.fs, tremor, rng)
    if breathing:
        t = np.arange(n) / track.fs
        acc[:, 2] += breathing * np.sin(2 * math.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 6.3))
    track.add(rot, acc)


def _posture_still(track: _Track, seconds: float, rng: np.random.Generator) -> None:
    """Stillness suited to the current posture: standing sways most, lying least (but breathes)."""
    up_in_body = track.end.T @ _UP
    if up_in_body[2] > 0.9:  # upright
        _still(track, seconds, rng, sway=0.02, tremor=0.004)
    elif up_in_body[2] > 0.5:  # seated
        _still(track, seconds, rng, sway=0.01, tremor=0.003)
    else:  # lying
        _still(track, seconds, rng, sway=0.003, tremor=0.002, breathing=0.004)


def _gait(track: _Track, seconds: float, rng: np.random.Generator, *, step_hz: tuple[float, float],
          vertical: tuple[float, float], heel: tuple[float, float], lean: float = 0.06) -> float:
    """Walking (or stairs): vertical bounce at the step frequency, fore-aft surge, side-to-side sway at half
    the step frequency (one stride), and a heel-strike transient each step. Returns the step frequency."""
    n = _n(seconds, track.fs)
    t = np.arange(n) / track.fs
    f = rng.uniform(*step_hz)
    # Step timing wanders a little from step to step, as it does in people.
    phase = 2 * math.pi * f * t + np.cumsum(rng.normal(0, 0.02, n)) * math.sqrt(1 / track.fs)
    phase += rng.uniform(0, 2 * math.pi)
    a_v, a_ap, a_ml = rng.uniform(*vertical), rng.uniform(0.08, 0.2), rng.uniform(0.05, 0.12)
    acc = np.zeros((n, 3))
    acc[:, 2] = a_v * (np.sin(phase) + 0.3 * np.sin(2 * phase + rng.uniform(0, 6.3)))
    acc[:, 0] = a_ap * np.sin(phase + rng.uniform(0.5, 1.5))
    acc[:, 1] = a_ml * np.sin(phase / 2)
    # Heel strikes: a short upward transient where the vertical bounce turns (phase = -pi/2 + 2k pi).
    strikes = np.flatnonzero(np.diff(np.floor((phase + math.pi / 2) / (2 * math.pi))) > 0)
    width = 0.03
    for s in strikes:
        amplitude = rng.uniform(*heel)
        acc[:, 2] += amplitude * np.exp(-0.5 * ((t - t[s]) / width) ** 2)
    acc += _smooth_noise(n, track.fs, 0.02, rng, cutoff_hz=8.0)
    tilt = np.zeros((n, 3))
    tilt[:, 1] = lean + 0.02 * np.sin(phase)
    tilt[:, 0] = 0.03 * np.sin(phase / 2)
    track.add(track.end[None] @ _rotvec(tilt), acc)
    return f


def _transition(track: _Track, seconds: float, rng: np.random.Generator, *, axis: np.ndarray, angle: float,
                flex: float = 0.0, drop_m: float = 0.0, contact_g: float = 0.0) -> None:
    """A smooth change of posture: rotate `angle` about the body `axis` (plus a forward `flex` that comes
    and goes), move the trunk down by `drop_m` (up if negative), and land with a `contact_g` pulse."""
    n = _n(seconds, track.fs)
    t = np.arange(n) / track.fs
    u = t / seconds
    theta = angle * _minjerk(u)
    rotvecs = np.asarray(axis, float)[None] * theta[:, None]
    rotvecs[:, 1] += flex * np.sin(np.pi * u)
    acc = np.zeros((n, 3))
    acc[:, 2] = -drop_m * _minjerk_acc(u, seconds) / G
    if contact_g:
        width = rng.uniform(0.08, 0.14)
        acc[:, 2] += contact_g * _half_sine(t, seconds - width * 1.2, width)
    acc += _smooth_noise(n, track.fs, 0.01, rng, cutoff_hz=6.0)
    track.add(track.end[None] @ _rotvec(rotvecs), acc)


def _stumble(track: _Track, rng: np.random.Generator) -> None:
    """A trip or a bump that is caught: a horizontal jolt, a brief sag (not free fall), a hard recovery step,
    and a trunk excursion that comes back upright within a second."""
    seconds = 1.2
    n = _n(seconds, track.fs)
    t = np.arange(n) / track.fs
    heading = rng.uniform(0, 2 * math.pi)
    direction = np.array([math.cos(heading), math.sin(heading), 0.0])
    acc = np.zeros((n, 3))
    jolt_w = rng.uniform(0.08, 0.15)
    acc += rng.uniform(0.8, 2.0) * _half_sine(t, 0.1, jolt_w)[:, None] * direction[None]
    sag_t = 0.1 + jolt_w
    acc[:, 2] -= rng.uniform(0.15, 0.4) * _half_sine(t, sag_t, rng.uniform(0.15, 0.25))
    acc[:, 2] += rng.uniform(0.7, 1.5) * _half_sine(t, sag_t + 0.3, rng.uniform(0.06, 0.1))
    acc += _smooth_noise(n, track.fs, 0.03, rng, cutoff_hz=8.0)
    excursion = rng.uniform(0.15, 0.35) * np.sin(np.pi * np.clip((t - 0.1) / 0.9, 0, 1))
    rotvecs = np.stack([-direction[1] * excursion, direction[0] * excursion, np.zeros(n)], 1)
    track.add(track.end[None] @ _rotvec(rotvecs), acc)


# -- measurement: what the sensor reports --------------------------------------------------------------------

def _measure(track: _Track, rng: np.random.Generator, *, mount: np.ndarray | None, range_g: float,
             noise_g: float, bits: int) -> np.ndarray:
    rot, acc = track.arrays()
    specific = acc + _UP[None]  # f = a - g, in world axes (g), with gravity pointing down
    body = np.einsum("nji,nj->ni", rot, specific)  # rot.T @ f per sample
    device = body @ (random_rotation(rng) if mount is None else np.asarray(mount, float))
    n_out = len(device) // OVERSAMPLE
    # The sensor's own low-pass: each output sample averages the OVERSAMPLE internal ones.
    out = device[: n_out * OVERSAMPLE].reshape(n_out, OVERSAMPLE, 3).mean(axis=1)
    out += rng.normal(0.0, 0.01, 3)[None]  # zero-g offset of each axis
    out += rng.normal(0.0, noise_g, out.shape)
    lsb = range_g / 2 ** (bits - 1)
    return np.clip(np.round(out / lsb) * lsb, -range_g, range_g)


def _check_rate(fs: float, seconds: float, what: str) -> None:
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive sample rate in Hz, got {fs!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{what} must be a positive number of seconds, got {seconds!r}")


# -- everyday activities -------------------------------------------------------------------------------------

def _build_activity(kind: str, seconds: float, track: _Track, rng: np.random.Generator) -> None:
    y_axis = np.array([0.0, 1.0, 0.0])

    def with_transition(duration: float, build: Callable[[float], None]) -> None:
        if seconds < duration + 1.0:
            raise ValueError(f"{kind} needs at least {duration + 1.0:.1f} s, got {seconds}")
        before = rng.uniform(0.25, 0.45) * (seconds - duration)
        _posture_still(track, before, rng)
        build(duration)
        _posture_still(track, seconds - before - duration, rng)

    if kind == "standing":
        _posture_still(track, seconds, rng)
    elif kind == "sitting":
        track.end = SEATED.copy()
        _posture_still(track, seconds, rng)
    elif kind == "lying":
        track.end = SUPINE @ _axis_rotation(np.array([0.0, 0.0, 1.0]), rng.choice([0.0, 1.3, -1.3]))
        _posture_still(track, seconds, rng)
    elif kind == "walking":
        _gait(track, seconds, rng, step_hz=(1.8, 2.0), vertical=(0.22, 0.35), heel=(0.1, 0.35))
    elif kind == "stairs_up":
        _gait(track, seconds, rng, step_hz=(1.5, 1.8), vertical=(0.3, 0.45), heel=(0.25, 0.55), lean=0.12)
    elif kind == "stairs_down":
        _gait(track, seconds, rng, step_hz=(1.7, 2.0), vertical=(0.35, 0.5), heel=(0.45, 0.85), lean=0.02)
    elif kind == "sitting_down":
        with_transition(rng.uniform(1.3, 2.0), lambda d: _transition(
            track, d, rng, axis=y_axis, angle=-0.15, flex=rng.uniform(0.4, 0.6), drop_m=rng.uniform(0.35, 0.5),
            contact_g=rng.uniform(0.3, 0.9)))
    elif kind == "standing_up":
        track.end = SEATED.copy()
        with_transition(rng.uniform(1.2, 1.9), lambda d: _transition(
            track, d, rng, axis=y_axis, angle=0.15, flex=rng.uniform(0.45, 0.7), drop_m=-rng.uniform(0.35, 0.5)))
    elif kind == "lying_down":  # from sitting on the edge of the bed onto the back
        track.end = SEATED.copy()
        with_transition(rng.uniform(2.0, 3.5), lambda d: _transition(
            track, d, rng, axis=y_axis, angle=-(math.pi / 2 - 0.15), drop_m=rng.uniform(0.2, 0.35),
            contact_g=rng.uniform(0.1, 0.3)))
    elif kind == "picking_up":
        bend, hold = rng.uniform(1.0, 1.4), rng.uniform(0.5, 1.5)
        down, up = rng.uniform(1.0, 1.5), rng.uniform(1.1, 1.6)
        drop = rng.uniform(0.15, 0.35)

        def pick(_duration: float) -> None:
            _transition(track, down, rng, axis=y_axis, angle=bend, drop_m=drop)
            _still(track, hold, rng, sway=0.03, tremor=0.02)
            _transition(track, up, rng, axis=y_axis, angle=-bend, drop_m=-drop)

        with_transition(down + hold + up, pick)
    elif kind == "stumble":
        if seconds < 3.0:
            raise ValueError(f"stumble needs at least 3.0 s (walking before and after), got {seconds}")
        before = rng.uniform(0.3, 0.5) * (seconds - 1.2)
        gait = {"step_hz": (1.8, 2.0), "vertical": (0.22, 0.35), "heel": (0.1, 0.35)}
        _gait(track, before, rng, **gait)  # type: ignore[arg-type]
        _stumble(track, rng)
        _gait(track, seconds - before - 1.2, rng, **gait)  # type: ignore[arg-type]
    else:
        raise ValueError(f"unknown activity {kind!r}; expected one of {', '.join(ACTIVITIES)}")


def activity(kind: str, seconds: float, fs: float = DEFAULT_FS, rng: np.random.Generator | None = None, *,
             mount: np.ndarray | None = None, range_g: float = DEFAULT_RANGE_G, noise_g: float = DEFAULT_NOISE_G,
             bits: int = DEFAULT_BITS) -> np.ndarray:
    """`seconds` of an everyday activity as an (N, 3) array in g at `fs` Hz, in random device axes.

    Args:
        kind: one of `ACTIVITIES`. Transitions (sitting_down, standing_up, lying_down, picking_up) happen
            once, with stillness before and after; stumble is walking with one caught trip.
        rng: the randomness (everything is deterministic given its seed); a fresh one when omitted.
        mount: the device's axes in the body frame (3x3 rotation); random when omitted.
        range_g: the sensor's full scale: readings saturate at +-range_g on each axis.
    """
    _check_rate(fs, seconds, "seconds")
    rng = rng if rng is not None else np.random.default_rng()
    track = _Track(fs * OVERSAMPLE, UPRIGHT)
    _build_activity(kind, seconds, track, rng)
    n_out = round(seconds * fs)
    missing = n_out * OVERSAMPLE - len(track)  # segments round to whole samples; top up with stillness
    if missing > 0:
        _posture_still(track, missing / track.fs, rng)
    return _measure(track, rng, mount=mount, range_g=range_g, noise_g=noise_g, bits=bits)[:n_out]


# -- falls ------------------------------------------------------------------------------------------------

# kind -> (free-fall |a| range, impact peak range in g, descent seconds range)
_FALL_PARAMS: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "forward": ((0.05, 0.45), (3.5, 8.5), (0.3, 0.5)),
    "backward": ((0.05, 0.45), (3.0, 7.5), (0.3, 0.5)),
    "lateral": ((0.05, 0.45), (3.0, 7.5), (0.3, 0.5)),
    "from_sitting": ((0.2, 0.55), (2.5, 4.5), (0.2, 0.35)),
    "from_bed": ((0.05, 0.4), (2.5, 5.5), (0.25, 0.35)),
}


def _fall_direction(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """The body axis the trunk rotates about, by how much (rad), and the heading it travels (rad)."""
    y_axis, x_axis, z_axis = np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    side = float(rng.choice([-1.0, 1.0]))
    if kind == "forward":
        return y_axis, rng.uniform(1.35, 1.65), 0.0
    if kind == "backward":
        return y_axis, -rng.uniform(1.35, 1.65), math.pi
    if kind == "lateral":  # R_x(+a) tips the top of the body toward -y
        return x_axis, side * rng.uniform(1.35, 1.65), -side * math.pi / 2
    if kind == "from_sitting":
        if rng.random() < 0.6:
            return y_axis, rng.uniform(1.2, 1.6), 0.0
        return x_axis, side * rng.uniform(1.2, 1.6), -side * math.pi / 2
    return z_axis, side * rng.uniform(1.3, 1.9), side * math.pi / 2  # from_bed: rolling off the mattress


def _fall_segment(track: _Track, kind: str, rng: np.random.Generator) -> float:
    """The fall itself, from the current posture; returns the impact's offset (s) from the segment start."""
    dip_range, peak_range, descent_range = _FALL_PARAMS[kind]
    axis, angle, heading = _fall_direction(kind, rng)
    dip, peak = rng.uniform(*dip_range), rng.uniform(*peak_range)
    initiation, descent = rng.uniform(0.2, 0.4), rng.uniform(*descent_range)
    fs = track.fs
    n_fall = _n(initiation + descent, fs)
    t = np.arange(n_fall) / fs
    sag = rng.uniform(0.7, 0.85)  # |a| while the knees give way or the body tips, before free fall
    g_eff = np.where(t < initiation, 1 - (1 - sag) * _minjerk(t / initiation),
                     sag + (dip - sag) * _minjerk((t - initiation) / 0.1))
    direction = np.array([math.cos(heading), math.sin(heading), 0.0])
    acc = np.zeros((n_fall, 3))
    acc[:, 2] = g_eff - 1.0
    acc += 0.15 * _minjerk(t / (initiation + descent))[:, None] * direction[None]
    acc += _smooth_noise(n_fall, fs, 0.02, rng, cutoff_hz=8.0)
    # Rotation accelerates like a toppling body: the angle grows with the square of time.
    theta = angle * (t / (initiation + descent)) ** 2
    track.add(track.end[None] @ _rotvec(axis[None] * theta[:, None]), acc)
    speed = float(np.sum(1.0 - g_eff) / fs) * G  # m/s gained downward, which the impact has to stop
    width = _impact(track, rng, speed=speed, dip=dip, peak=peak, direction=direction, axis=axis, angle=angle)
    return (initiation + descent) + width / 2


def _impact(track: _Track, rng: np.random.Generator, *, speed: float, dip: float, peak: float,
            direction: np.ndarray, axis: np.ndarray, angle: float) -> float:
    """Contact with the floor; returns the main pulse's width (s).

    Impulse = momentum: the main pulse stops ~85% of the downward speed and the rebound the rest, so a
    harder pulse is a shorter one. The push is mostly upward, partly against the direction of travel.
    """
    fs = track.fs
    amplitude = max(peak - dip, 0.5)
    width = float(np.clip(0.85 * speed * math.pi / (2 * amplitude * G), 0.03, 0.25))
    rebound_amp = rng.uniform(0.25, 0.45) * amplitude
    rebound_w = float(np.clip(0.15 * speed * math.pi / (2 * rebound_amp * G), 0.02, 0.15))
    n_impact = _n(width + rebound_w * 2 + 0.6, fs)
    ti = np.arange(n_impact) / fs
    push = _UP - direction * rng.uniform(0.2, 0.6)
    push /= np.linalg.norm(push)
    acc = np.zeros((n_impact, 3))
    acc[:, 2] = (dip - 1.0) * (1.0 - _minjerk(ti / width))  # still falling at contact, at rest after the pulse
    acc += amplitude * _half_sine(ti, 0.0, width)[:, None] * push[None]
    acc[:, 2] += rebound_amp * _half_sine(ti, width * 1.1, rebound_w)
    ring_dir = rng.normal(size=3)
    ring_dir /= np.linalg.norm(ring_dir)
    after = np.clip(ti - width, 0, None)
    ring = rng.uniform(0.1, 0.3) * np.exp(-after / 0.1) * np.sin(2 * math.pi * rng.uniform(8, 15) * after)
    acc += (ring * (ti > width))[:, None] * ring_dir[None]
    # The body settles into its final orientation during the rebound.
    settle = angle * rng.uniform(0.0, 0.08) * _minjerk(ti / 0.4)
    track.add(track.end[None] @ _rotvec(axis[None] * settle[:, None]), acc)
    return width


def fall(kind: str, fs: float = DEFAULT_FS, rng: np.random.Generator | None = None, pre_s: float = 4.0,
         post_s: float = 6.0, *, mount: np.ndarray | None = None, range_g: float = DEFAULT_RANGE_G,
         noise_g: float = DEFAULT_NOISE_G, bits: int = DEFAULT_BITS) -> tuple[np.ndarray, int]:
    """A fall as (samples (N, 3) in g at `fs` Hz, index of the impact peak), in random device axes.

    Args:
        kind: one of `FALLS`: forward / backward / lateral from standing or walking, from_sitting (off a
            chair), from_bed (rolling off the mattress).
        pre_s: seconds before the impact, the fall's own ~0.5-0.9 s included; the rest is the activity
            before it (standing or walking, sitting, lying in bed).
        post_s: seconds after the impact: rebound, then lying still with small noise.
    """
    _check_rate(fs, pre_s, "pre_s")
    _check_rate(fs, post_s, "post_s")
    if kind not in FALLS:
        raise ValueError(f"unknown fall {kind!r}; expected one of {', '.join(FALLS)}")
    if pre_s < 1.5:
        raise ValueError(f"pre_s must leave room for the fall itself (up to ~1 s) and the posture before it: "
                         f"at least 1.5 s, got {pre_s}")
    rng = rng if rng is not None else np.random.default_rng()
    fsi = fs * OVERSAMPLE
    start = {"from_sitting": SEATED, "from_bed": SUPINE}.get(kind, UPRIGHT)
    if kind == "from_bed" and rng.random() < 0.5:
        start = SUPINE @ _axis_rotation(np.array([0.0, 0.0, 1.0]), rng.choice([-1.0, 1.0]) * 1.4)  # on a side
    # Build the fall first, to know how long it takes; then prepend the activity before it.
    fall_track = _Track(fsi, start)
    impact_offset = _fall_segment(fall_track, kind, rng)
    track = _Track(fsi, start)
    lead = pre_s - impact_offset
    if kind in ("forward", "backward", "lateral") and rng.random() < 0.5 and lead > 0.5:
        _gait(track, lead, rng, step_hz=(1.7, 2.0), vertical=(0.2, 0.35), heel=(0.2, 0.5), lean=0.0)
        track.end = start.copy()
    else:
        _posture_still(track, max(lead, 1.0 / fsi), rng)
    n_pre = len(track)
    track.add(*fall_track.arrays())
    n_impact = n_pre + round(impact_offset * fsi)
    total = round((pre_s + post_s) * fsi)
    # Lying after the fall: a moment of small movement, then stillness that only breathing disturbs.
    _still(track, min(rng.uniform(0.3, 1.0), post_s / 3), rng, sway=0.01, tremor=0.03)
    remaining = total - len(track)
    if remaining > 0:
        _still(track, remaining / fsi, rng, sway=0.003, tremor=0.002, breathing=0.004)
    samples = _measure(track, rng, mount=mount, range_g=range_g, noise_g=noise_g, bits=bits)
    samples = samples[: round((pre_s + post_s) * fs)]
    guess = n_impact // OVERSAMPLE
    lo, hi = max(0, guess - int(0.2 * fs)), min(len(samples), guess + int(0.2 * fs) + 1)
    impact = lo + int(np.argmax(np.linalg.norm(samples[lo:hi], axis=1)))
    return samples, impact


# -- files ------------------------------------------------------------------------------------------------

def magnitude(samples: np.ndarray) -> np.ndarray:
    """|a| per sample of an (N, 3) array, in g."""
    return np.linalg.norm(np.asarray(samples, float), axis=1)


def write_csv(path: str | Path, samples: np.ndarray, fs: float, *, t0: float = 0.0) -> Path:
    """Write samples as the `t,ax,ay,az` CSV the fall detector reads (t in seconds, a in g)."""
    samples = np.asarray(samples, float)
    if samples.ndim != 2 or samples.shape[1] != 3:
        raise ValueError(f"expected samples of shape (N, 3) in g, got {samples.shape}")
    _check_rate(fs, 1.0, "seconds")
    path = Path(path)
    t = t0 + np.arange(len(samples)) / fs
    with path.open("w") as out:
        out.write("t,ax,ay,az\n")
        for ti, (x, y, z) in zip(t, samples, strict=True):
            out.write(f"{ti:.4f},{x:.4f},{y:.4f},{z:.4f}\n")
    return path


def read_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a `t,ax,ay,az` CSV back as (t, samples (N, 3))."""
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, 0], data[:, 1:4]
