"""Small synthetic wearable recordings for the model tests (no dataset needed): falls and everyday activity.

Signals are specific force in g in a body frame (z up), then turned by a random device mounting. A fall is
a sagging |a| (near free fall), a short impact peak, and stillness lying (gravity now along a horizontal body
axis); activities are standing, walking, hopping (2-3 g peaks, no change of posture) and sitting down.
"""

from __future__ import annotations

import numpy as np

FS = 50.0
UP = np.array([0.0, 0.0, 1.0])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _still(n: int, g: np.ndarray, rng: np.random.Generator, noise: float = 0.01) -> np.ndarray:
    return g[None, :] + rng.normal(0, noise, (n, 3))


def _walk(n: int, rng: np.random.Generator, *, step_hz: float = 1.8, amp: float = 0.25) -> np.ndarray:
    t = np.arange(n) / FS
    phase = rng.uniform(0, 2 * np.pi)
    vert = 1 + amp * np.sin(2 * np.pi * step_hz * t + phase)
    side = 0.08 * np.sin(np.pi * step_hz * t + phase)
    fwd = 0.1 * np.sin(2 * np.pi * step_hz * t + phase + 1)
    return np.column_stack([fwd, side, vert]) + rng.normal(0, 0.02, (n, 3))


def _hop(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / FS
    out = _still(n, UP, rng, 0.03)
    period = rng.uniform(0.6, 0.9)
    for t0 in np.arange(0.5, t[-1] - 0.5, period):
        flight = (t > t0) & (t < t0 + 0.25)
        out[flight] *= 0.15
        land = np.exp(-0.5 * ((t - t0 - 0.28) / 0.03) ** 2) * rng.uniform(1.5, 2.5)
        out[:, 2] += land
    return out


def fall(rng: np.random.Generator, *, pre_s: float = 4.0, post_s: float = 6.0, walking: bool | None = None,
         mount: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """A fall as ((N, 3) g at 50 Hz in random device axes, index of the impact peak)."""
    n_pre, n_desc, n_post = int(pre_s * FS) - 25, 25, int(post_s * FS)
    walking = bool(rng.random() < 0.5) if walking is None else walking
    pre = _walk(n_pre, rng) if walking else _still(n_pre, UP, rng)
    side = rng.choice([-1.0, 1.0])
    lying = np.array([rng.choice([0.0, 1.0]) * side, 0.0, 0.0])
    if not lying.any():
        lying = np.array([0.0, side, 0.0])
    u = np.linspace(0, 1, n_desc)[:, None]
    direction = (1 - u) * UP + u * lying
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    sag = 1 - rng.uniform(0.6, 0.9) * np.sin(np.pi * np.minimum(u * 1.2, 1.0)) ** 2
    descent = direction * sag
    t = np.arange(n_post) / FS
    width = rng.uniform(0.04, 0.08)
    spike = rng.uniform(2.5, 6.0) * np.exp(-0.5 * (t / width) ** 2)
    ring = 0.3 * np.exp(-t / 0.15) * np.sin(2 * np.pi * 6 * t)
    post = lying[None, :] * (1 + spike + ring)[:, None] + rng.normal(0, 0.01, (n_post, 3))
    body = np.concatenate([pre, descent, post])
    mount = random_rotation(rng) if mount is None else mount
    return body @ mount.T, n_pre + n_desc


def activity(kind: str, seconds: float, rng: np.random.Generator, *, mount: np.ndarray | None = None) -> np.ndarray:
    """An activity ("stand", "walk", "hop", "sit") as (N, 3) g at 50 Hz in random device axes."""
    n = int(seconds * FS)
    if kind == "stand":
        body = _still(n, UP, rng)
    elif kind == "walk":
        body = _walk(n, rng)
    elif kind == "hop":
        body = _hop(n, rng)
    elif kind == "sit":
        half = n // 2
        body = _walk(n, rng)
        t = (np.arange(n) - half) / FS
        body[half:] = _still(n - half, UP, rng)
        body[:, 2] += rng.uniform(0.6, 1.0) * np.exp(-0.5 * (t / 0.06) ** 2)
    else:
        raise ValueError(f"unknown activity {kind!r}")
    mount = random_rotation(rng) if mount is None else mount
    return body @ mount.T


def dataset(seed: int, n_subjects: int = 6, per_subject: int = 6) -> tuple[list[np.ndarray], list[bool], list[str]]:
    """Recordings, labels and subject ids: per subject, falls and activities in equal numbers."""
    rng = np.random.default_rng(seed)
    recs, labels, groups = [], [], []
    kinds = ("walk", "hop", "sit", "hop", "stand", "walk")
    for s in range(n_subjects):
        for k in range(per_subject):
            recs.append(fall(rng)[0])
            labels.append(True)
            groups.append(f"S{s}")
            recs.append(activity(kinds[k % len(kinds)], 12.0, rng))
            labels.append(False)
            groups.append(f"S{s}")
    return recs, labels, groups
