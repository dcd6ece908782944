"""The shape every per-home detector has, and the one way detectors make alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from gateway.protocol import SEVERITY_OF, Alert, AlertType, Event, EventKind


class Detector(Protocol):
    """Event-time driven: `on_event` for each accepted event, `on_tick` when the home's deadline passes.

    `kinds` names the event kinds it reads; the home state only calls it for those, so the common
    event (motion, vitals) costs nothing in detectors that ignore it. `snapshot`/`restore` carry its
    state across a gateway restart as plain JSON-able data.
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

    def snapshot(self) -> dict[str, Any]:
        """State worth keeping across a restart."""
        ...

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what `snapshot` gave."""
        ...


def alert_for_event(alert_type: AlertType, event: Event, raised_at: float, evidence: dict[str, Any],
                    *, model_version: str | None = None) -> Alert:
    """An alert caused by one event; its id derives from the event's, so a replay raises the same alert."""
    return Alert(
        id=f"{alert_type.value.lower()}-{event.id}",
        home=event.home,
        type=alert_type,
        severity=SEVERITY_OF[alert_type],
        ts=event.ts,
        raised_at=raised_at,
        device=event.device,
        event_id=event.id,
        evidence=evidence,
        model_version=model_version,
    )


def event_evidence(event: Event) -> dict[str, Any]:
    """What an alert shows of the event that caused it."""
    evidence: dict[str, Any] = {"kind": event.kind.value, "value": event.value, "seq": event.seq, **event.data}
    if event.room:
        evidence["room"] = event.room
    return evidence
