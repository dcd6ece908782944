"""The shape every per-home detector has, so `HomeState` can drive them without knowing them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gateway.protocol import Alert, Event, EventKind


class Detector(Protocol):
    """Event-time driven: `on_event` for each accepted event, `on_tick` when the home's deadline passes.

    `kinds` names the event kinds it reads; the home state only calls it for those, so the common
    event (motion, vitals) costs nothing in detectors that ignore it.
    """

    kinds: frozenset[EventKind]

    def on_event(self, event: Event, raised_at: float) -> Sequence[Alert]:
        """Alerts caused by this event (usually none)."""
        ...

    def on_tick(self, now: float, raised_at: float) -> Sequence[Alert]:
        """Alerts caused by time passing without events (silence)."""
        ...

    def next_deadline(self) -> float | None:
        """Event time at which `on_tick` may raise something, or None."""
        ...
