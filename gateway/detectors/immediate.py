"""Alarms that need no model: a call-button press, smoke, gas, water, a device-reported fall.

They go out on the first event. Repeats within `repeat_window_s` (a held button fires several
actions; a smoke detector reports every few seconds while it sounds) join the alert already raised
instead of opening another: the server merges later ones into the open alert.
"""

from __future__ import annotations

from gateway.protocol import SEVERITY_OF, Alert, AlertType, Event, EventKind

DEFAULT_REPEAT_WINDOW_S = 60.0

_ALERT_FOR_KIND: dict[EventKind, AlertType] = {
    EventKind.SOS: AlertType.SOS,
    EventKind.SMOKE: AlertType.SMOKE,
    EventKind.GAS: AlertType.GAS,
    EventKind.WATER: AlertType.WATER,
    EventKind.FALL: AlertType.FALL,
}
IMMEDIATE_KINDS = frozenset(_ALERT_FOR_KIND)


class ImmediateAlarms:
    """Raises SOS, SMOKE, GAS, WATER and FALL alerts from events that assert them."""

    __slots__ = ("_last_raised", "repeat_window_s")
    kinds = IMMEDIATE_KINDS

    def __init__(self, repeat_window_s: float = DEFAULT_REPEAT_WINDOW_S) -> None:
        self.repeat_window_s = repeat_window_s
        self._last_raised: dict[AlertType, float] = {}

    def on_event(self, event: Event, raised_at: float) -> list[Alert]:
        alert_type = _ALERT_FOR_KIND.get(event.kind)
        # An SOS is asserted by the press itself; the others by value True (False is "cleared").
        if alert_type is None or (event.kind is not EventKind.SOS and event.value is not True):
            return []
        last = self._last_raised.get(alert_type)
        if last is not None and 0 <= event.ts - last < self.repeat_window_s:
            return []
        self._last_raised[alert_type] = event.ts
        evidence = {"kind": event.kind.value, "value": event.value, "seq": event.seq, **event.data}
        if event.room:
            evidence["room"] = event.room
        return [
            Alert(
                id=f"{alert_type.value.lower()}-{event.id}",
                home=event.home,
                type=alert_type,
                severity=SEVERITY_OF[alert_type],
                ts=event.ts,
                raised_at=raised_at,
                device=event.device,
                event_id=event.id,
                evidence=evidence,
            )
        ]

    def on_tick(self, now: float, raised_at: float) -> list[Alert]:
        return []

    def next_deadline(self) -> float | None:
        return None

    def snapshot(self) -> dict[str, float]:
        return {t.value: ts for t, ts in self._last_raised.items()}

    def restore(self, state: dict[str, float]) -> None:
        self._last_raised = {AlertType(t): ts for t, ts in state.items()}
