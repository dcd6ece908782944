"""Immediate alarms: one alert per episode, however often Zigbee2MQTT repeats the cached state."""

from gateway.detectors import ImmediateAlarms
from gateway.protocol import AlertType, Event, EventKind

T0 = 1_800_000_000.0


def _event(kind: EventKind, ts: float, value: bool | None = True, device: str = "d", n: int = 0) -> Event:
    return Event(id=f"{kind}-{device}-{ts}-{n}", home="h1", device=device, kind=kind, ts=ts, seq=n, value=value)


def test_repeated_smoke_true_is_one_alert_until_cleared() -> None:
    alarms = ImmediateAlarms(rearm_s=60)
    raised = [a for i in range(10) for a in alarms.on_event(_event(EventKind.SMOKE, T0 + 5 * i, n=i), T0)]
    assert [a.type for a in raised] == [AlertType.SMOKE]
    assert alarms.on_event(_event(EventKind.SMOKE, T0 + 60, value=False, n=11), T0) == []
    again = alarms.on_event(_event(EventKind.SMOKE, T0 + 70, n=12), T0)
    assert [a.type for a in again] == [AlertType.SMOKE], "a new episode after the detector cleared"


def test_each_device_has_its_own_episode() -> None:
    alarms = ImmediateAlarms()
    first = alarms.on_event(_event(EventKind.WATER, T0, device="bath"), T0)
    second = alarms.on_event(_event(EventKind.WATER, T0 + 1, device="kitchen"), T0)
    assert len(first) == len(second) == 1


def test_presses_within_the_window_join_and_a_late_press_does_not_reopen() -> None:
    alarms = ImmediateAlarms(rearm_s=60)
    assert len(alarms.on_event(_event(EventKind.SOS, T0 + 10, n=1), T0)) == 1
    assert alarms.on_event(_event(EventKind.SOS, T0 + 30, n=2), T0) == []
    assert alarms.on_event(_event(EventKind.SOS, T0 + 5, n=0), T0) == [], "a late press of the same episode"
    assert len(alarms.on_event(_event(EventKind.SOS, T0 + 200, n=3), T0)) == 1


def test_alert_id_comes_from_the_event_so_a_replay_is_the_same_alert() -> None:
    event = _event(EventKind.FALL, T0)
    a = ImmediateAlarms().on_event(event, T0)[0]
    b = ImmediateAlarms().on_event(event, T0 + 99)[0]
    assert a.id == b.id == f"fall-{event.id}"
